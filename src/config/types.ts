/**
 * The compiled, frozen configuration every stage reads. Produced once by `loadConfig()`;
 * durations are milliseconds, addresses and patterns are already compiled.
 * @module
 */
import type { UserFilterConfig } from "../filters/mod.ts";

/** Firewall backend choice (`[global] firewall`). */
export type FirewallChoice = "auto" | "nftables" | "iptables" | "ipset" | "log-only";
/** What happens when the tracker table is full (`[global] eviction`). */
export type EvictionPolicy = "evict-oldest" | "deny-new" | "log-and-drop";
/** Operational log verbosity (`[global] log_level`). */
export type LogLevel = "debug" | "info" | "warn" | "error";
/** Where a jail's lines come from. */
export type SourceKind = "file" | "journald" | "bans";

/** `[global]` after validation. */
export interface GlobalConfig {
  readonly socketPath: string;
  readonly stateFile: string;
  /** Empty string: audit log disabled. */
  readonly auditLog: string;
  /** Rotate the audit log once it reaches this many MiB (segments `PATH.1`…`PATH.9`); 0: never. */
  readonly auditMaxMb: number;
  /** Journal directory read by `source = "journald"` jails; empty string: the system journal. */
  readonly journalDirectory: string;
  /** Empty string: metrics disabled. Otherwise host and port, IPv6 without brackets. */
  readonly metricsBind: { readonly hostname: string; readonly port: number } | null;
  readonly logLevel: LogLevel;
  readonly firewall: FirewallChoice;
  readonly onNoBackend: "fail-closed" | "log-only";
  readonly memoryCeilingMb: number;
  readonly eviction: EvictionPolicy;
  readonly lineMaxBytes: number;
  readonly saveIntervalMs: number;
}

/** `bantime_increment` after validation. */
export interface BantimeIncrement {
  readonly enabled: boolean;
  readonly formula: "linear" | "exponential";
  readonly factor: number;
  readonly maxMs: number;
  readonly jitterMs: number;
  readonly overall: boolean;
}

/** One `[jails.NAME]` after merging `[defaults]` and validation. */
export interface JailConfig {
  readonly name: string;
  readonly enabled: boolean;
  /** Built-in or `[filters.NAME]` filter; `""` when `source = "bans"` (no filter). */
  readonly filter: string;
  /** A mode of `filter`; `""` when `source = "bans"`. */
  readonly mode: string;
  readonly source: SourceKind;
  /** Absolute paths or globs; empty unless `source = "file"`. */
  readonly logpath: readonly string[];
  readonly readFrom: "end" | "start";
  /** `FIELD=value` strings; empty unless `source = "journald"`. */
  readonly journalMatch: readonly string[];
  /** `null` means permanent. */
  readonly bantimeMs: number | null;
  readonly findtimeMs: number;
  readonly maxretry: number;
  /** CIDR texts as written (canonicalised); compile with `src/net`. */
  readonly ignoreip: readonly string[];
  readonly ipv6Prefix: number;
  /**
   * A literal `logpath` that does not exist when the config is loaded (daemon start, reload,
   * `config check`): `"error"` refuses the config, `"warn"` only warns. `"error"` for other sources.
   */
  readonly missingLogpath: "error" | "warn";
  readonly bantimeIncrement: BantimeIncrement;
}

/** One `[filters.NAME]`: a user filter in the pattern language (owned by `src/filters`). */
export type { UserFilterConfig };

/** The whole compiled configuration. */
export interface Config {
  /** Path the config was read from. */
  readonly path: string;
  readonly global: GlobalConfig;
  /** Enabled and disabled jails, in file order. */
  readonly jails: readonly JailConfig[];
  readonly filters: readonly UserFilterConfig[];
}
