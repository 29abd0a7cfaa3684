/**
 * The firewall seam. Every backend (nftables, iptables, ipset, log-only, and the in-memory fake)
 * implements `FirewallBackend` and passes the same contract tests.
 * @module
 */

/** One address or IPv6 prefix to block. */
export interface BanEntry {
  /** Canonical address text (the network address when `prefix` is shorter than the family). */
  readonly ip: string;
  /** 32 for IPv4, 128 for a single IPv6 address, less for an IPv6 prefix. */
  readonly prefix: number;
  /** Remaining time in ms; `null` for permanent. */
  readonly timeoutMs: number | null;
  /** Jail that asked for it (for records; the kernel sets are shared). */
  readonly jail: string;
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

/** A place where bans take effect. */
export interface FirewallBackend {
  /** `nftables`, `iptables`, `ipset` or `log-only`. */
  readonly name: string;
  /** Installs the scaffold (table, sets, chains); throws `FirewallError` if it cannot. */
  init(): Promise<void>;
  /** Blocks every entry; throws `FirewallError` when the kernel refused any of them. */
  ban(entries: readonly BanEntry[]): Promise<void>;
  /** Lifts the blocks; entries that are not present are ignored. */
  unban(entries: readonly BanEntry[]): Promise<void>;
  /** Entries currently present (for reconciliation and `client list`). */
  list(): Promise<BanEntry[]>;
  /** Removes the scaffold (clean stop; see docs/architecture.md). */
  close(): Promise<void>;
}
