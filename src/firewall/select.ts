/**
 * Backend selection (`[global] firewall`, `on_no_backend`). Order of stages: build the candidate
 * list (auto: nftables → iptables → ipset; an explicit choice: only itself) → `init()` each until
 * one works (a failed candidate is closed, best effort, so it leaves nothing half-installed) →
 * if none worked: throw a `FirewallError` naming every failure (`fail-closed`), or hand back the
 * log-only backend marked degraded (`on_no_backend = "log-only"`).
 *
 * `on_no_backend` applies to an explicit choice too: `firewall = "iptables"` never falls back to
 * another kernel backend, but with `on_no_backend = "log-only"` a failing iptables runs degraded.
 * @module
 */
import type { FirewallChoice, PortScope } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { type FirewallBackend, FirewallError } from "./backend.ts";
import { IpsetBackend } from "./ipset.ts";
import { IptablesBackend } from "./iptables.ts";
import { LogOnlyBackend, type SyncWriter } from "./log_only.ts";
import { NftablesBackend } from "./nftables.ts";

/** Kernel backends in the order `auto` tries them. */
export const AUTO_ORDER = ["nftables", "iptables", "ipset"] as const;
/** A kernel backend's name. */
export type KernelBackendName = (typeof AUTO_ORDER)[number];

/** Options of `selectBackend`. */
export interface SelectOptions {
  /** `[global] firewall`. */
  choice: FirewallChoice;
  /** `[global] on_no_backend`. */
  onNoBackend: "fail-closed" | "log-only";
  /** nftables: make banned_ipv6 an interval set (a jail has `ipv6_prefix` < 128). @default false */
  ipv6Interval?: boolean;
  /** Jails' port scopes, installed from the start so the read-back sees their sets. @default [] */
  scopes?: readonly PortScope[];
  /** Receives one warning per failed candidate and an error when running degraded. */
  logger?: Logger;
  /** Replaces how a candidate is built (tests inject failing probes here). */
  factories?: Partial<Record<KernelBackendName, () => FirewallBackend>>;
  /** Where the log-only backend writes its records. @default Deno.stdout */
  logOnlyOut?: SyncWriter;
}

/** What was selected. */
export interface Selection {
  /** The backend chosen. */
  readonly backend: FirewallBackend;
  /**
   * True when nothing enforces bans: log-only, configured (`firewall = "log-only"`) or fallen
   * back to because no kernel backend worked (only the fallback logs `fw_degraded`).
   */
  readonly degraded: boolean;
  /** `name: message` of every candidate that failed, in order. */
  readonly failures: string[];
}

function build(name: KernelBackendName, opts: SelectOptions): FirewallBackend {
  const custom = opts.factories?.[name];
  if (custom) return custom();
  if (name === "nftables") {
    const warn = opts.logger
      ? (m: string, f: Record<string, unknown>) => opts.logger!.warn(m, f)
      : undefined;
    return new NftablesBackend({
      ipv6Interval: opts.ipv6Interval ?? false,
      scopes: opts.scopes ?? [],
      ...(warn ? { onWarning: warn } : {}),
    });
  }
  return name === "iptables"
    ? new IptablesBackend()
    : new IpsetBackend({ scopes: opts.scopes ?? [] });
}

/** Picks and initialises the firewall backend; see the module doc for the rules. */
export async function selectBackend(opts: SelectOptions): Promise<Selection> {
  if (opts.choice === "log-only") {
    return { backend: new LogOnlyBackend(opts.logOnlyOut), degraded: true, failures: [] };
  }
  const candidates: readonly KernelBackendName[] = opts.choice === "auto"
    ? AUTO_ORDER
    : [opts.choice];
  const failures: string[] = [];
  let lastErrno: number | undefined;
  for (const name of candidates) {
    let backend: FirewallBackend | null = null;
    try {
      backend = build(name, opts);
      await backend.init();
      return { backend, degraded: false, failures };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      failures.push(msg.startsWith(`${name}: `) ? msg : `${name}: ${msg}`);
      if (e instanceof FirewallError && e.errno !== undefined) lastErrno = e.errno;
      opts.logger?.warn("firewall backend unavailable", {
        event: "fw_probe_failed",
        backend: name,
        error: msg,
      });
    }
    try {
      // A half-installed candidate must not leave rules behind.
      await backend?.close();
    } catch {
      // Nothing was installed, or the tool is missing: nothing to clean.
    }
  }
  if (opts.onNoBackend === "log-only") {
    opts.logger?.error(
      "no firewall backend works; running log-only (degraded): bans are NOT enforced",
      {
        event: "fw_degraded",
        failures,
      },
    );
    return { backend: new LogOnlyBackend(opts.logOnlyOut), degraded: true, failures };
  }
  throw new FirewallError(
    opts.choice === "auto" ? "auto" : opts.choice,
    "select",
    `expected a working firewall backend, found none: ${failures.join("; ")}`,
    lastErrno,
  );
}
