/**
 * The firewall seam. Every backend (nftables, iptables, ipset, log-only, and the in-memory fake)
 * implements `FirewallBackend` and passes the same contract tests.
 * @module
 */
import type { PortScope } from "../config/mod.ts";

/** One address or IPv6 prefix to block. */
export interface BanEntry {
  /** Canonical address text (the network address when `prefix` is shorter than the family). */
  readonly ip: string;
  /** 32 for IPv4, 128 for a single IPv6 address, less for an IPv6 prefix. */
  readonly prefix: number;
  /** Remaining time in ms; `null` for permanent. */
  readonly timeoutMs: number | null;
  /** Jail that asked for it (for records; jails of the same scope share the kernel sets). */
  readonly jail: string;
  /**
   * The jail's `port`/`protocol`: the ban drops only this traffic (sets and rules per scope, see
   * docs/interfaces.md, "Firewall layout"); absent: all traffic of the address.
   */
  readonly scope?: PortScope;
}

/** Raised by backends; `errno` is set when the kernel or a tool reported one. */
export class FirewallError extends Error {
  /** Always `"FirewallError"`. */
  override name = "FirewallError";
  /** An error of `backend` during `operation`, with the errno when the kernel or a tool gave one. */
  constructor(
    readonly backend: string,
    readonly operation: string,
    message: string,
    readonly errno?: number,
  ) {
    super(`${backend}: ${operation}: ${message}${errno === undefined ? "" : ` (errno ${errno})`}`);
  }
}

/**
 * What `check()` found: whether the scaffold `init()` installs (table, chains, sets, rules; see
 * docs/interfaces.md, "Firewall layout") is in the kernel as installed.
 */
export interface FirewallHealth {
  /** True when everything `init()` installs is present and unchanged. */
  readonly ok: boolean;
  /** What is missing or altered (empty when `ok`). */
  readonly problem: string;
  /**
   * Ban entries present, when the backend counts them in the same read (iptables, ipset, memory;
   * nftables when someone else changed the ruleset since it last looked); absent when unknown
   * (nftables after only its own commits, log-only).
   */
  readonly entries?: number;
  /**
   * The set groups ({@link entryGroup}: family and port scope) holding at least one live entry,
   * read with `entries`; absent when `entries` is. The guard finds one set flushed while the
   * others still hold bans by it.
   */
  readonly groups?: ReadonlySet<string>;
}

/**
 * The group of sets (or of ban rules) an entry lives in: its family and its port scope, e.g.
 * `4 ` (banned_ipv4) or `6 tcp.22` (the IPv6 set of that scope).
 */
export function entryGroup(
  e: { readonly ip: string; readonly scope?: { readonly id: string } | null },
): string {
  return `${e.ip.includes(":") ? 6 : 4} ${e.scope?.id ?? ""}`;
}

/** The kernel entry a ban takes: its {@link entryGroup} and address/prefix. */
export function entryKey(
  e: {
    readonly ip: string;
    readonly prefix: number;
    readonly scope?: { readonly id: string } | null;
  },
): string {
  return `${entryGroup(e)}|${e.ip}/${e.prefix}`;
}

/** A place where bans take effect. */
export interface FirewallBackend {
  /** `nftables`, `iptables`, `ipset` or `log-only`. */
  readonly name: string;
  /**
   * Installs the scaffold (table, sets, chains); throws `FirewallError` if it cannot. Safe to
   * call again at any time: it re-installs whatever is missing (after an operator's flush)
   * without duplicating rules and keeps the entries still present.
   */
  init(): Promise<void>;
  /**
   * Verifies the scaffold with one read of the kernel (not one per ban); rejects only when the
   * read itself fails (then the caller treats the firewall as not ok).
   */
  check(): Promise<FirewallHealth>;
  /** Blocks every entry; throws `FirewallError` when the kernel refused any of them. */
  ban(entries: readonly BanEntry[]): Promise<void>;
  /** Lifts the blocks; entries that are not present are ignored. */
  unban(entries: readonly BanEntry[]): Promise<void>;
  /**
   * Removes the sets and rules of every port scope not in `scopes`, with their entries (a reload
   * left no jail of that scope); the unscoped sets and the kept scopes' stay as they are.
   */
  retainScopes(scopes: readonly PortScope[]): Promise<void>;
  /** Entries currently present (for reconciliation and `client list`). */
  list(): Promise<BanEntry[]>;
  /** Removes the scaffold (clean stop; see docs/architecture.md). */
  close(): Promise<void>;
}
