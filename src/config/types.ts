/**
 * The compiled, frozen configuration every stage reads. Produced once by `loadConfig()`;
 * durations are milliseconds, addresses and patterns are already compiled.
 * @module
 */
import type { UserFilterConfig } from "../filters/mod.ts";
import type { LogLevel } from "../log/mod.ts";
import type { SeccompMode } from "../seccomp/mod.ts";

/** The daemon's syscall allow-list (`[global] seccomp`, docs/seccomp.md; owned by src/seccomp). */
export type { SeccompMode };

/** Firewall backend choice (`[global] firewall`). */
export type FirewallChoice = "auto" | "nftables" | "iptables" | "ipset" | "log-only";
/** What happens when the tracker table is full (`[global] eviction`). */
export type EvictionPolicy = "evict-oldest" | "deny-new" | "log-and-drop";
/** Log levels (`[global] log_level`), owned by the logger that ranks them. */
export type { LogLevel };
/** Where a jail's lines come from. */
export type SourceKind = "file" | "journald" | "bans" | "fleet";

/** A transport protocol a jail's bans can be limited to. */
export type Protocol = "tcp" | "udp";

/**
 * A jail's `port` and `protocol` compiled: its bans drop only this traffic. Jails without either
 * key have no scope (`null`): their bans drop everything from the address.
 */
export interface PortScope {
  /**
   * Canonical text, equal for equal scopes: `tcp.22_2222_1000-2000`, `tcp_udp.53`, `udp.all`
   * (firewall set names and rule comments carry it).
   */
  readonly id: string;
  /** One or both of tcp and udp. */
  readonly protocols: readonly Protocol[];
  /** Inclusive destination port ranges, sorted and merged; empty means every port. */
  readonly ports: readonly (readonly [number, number])[];
}

/** `[global]` after validation. */
export interface GlobalConfig {
  /** `socket_path`: the control socket. */
  readonly socketPath: string;
  /** `state_file`: where bans and positions are saved. */
  readonly stateFile: string;
  /** Empty string: audit log disabled. */
  readonly auditLog: string;
  /** Rotate the audit log once it reaches this many MiB (segments `PATH.1`…`PATH.9`); 0: never. */
  readonly auditMaxMb: number;
  /** Journal directory read by `source = "journald"` jails; empty string: the system journal. */
  readonly journalDirectory: string;
  /** Empty string: metrics disabled. Otherwise host and port, IPv6 without brackets. */
  readonly metricsBind: { readonly hostname: string; readonly port: number } | null;
  /** `log_level`: the lowest level logged. */
  readonly logLevel: LogLevel;
  /** `firewall`: the backend, or `auto` to pick the first that works. */
  readonly firewall: FirewallChoice;
  /** `on_no_backend`: refuse to start, or run log-only, when no backend works. */
  readonly onNoBackend: "fail-closed" | "log-only";
  /** `seccomp`: unlisted syscalls refused (`EPERM`), logged by the kernel, or no filter. */
  readonly seccomp: SeccompMode;
  /** `memory_ceiling_mb`: the memory the daemon sizes its tables to. */
  readonly memoryCeilingMb: number;
  /** `eviction`: what the tracker does when its table is full. */
  readonly eviction: EvictionPolicy;
  /** `line_max_bytes`: longer lines are dropped. */
  readonly lineMaxBytes: number;
  /** `save_interval`: longest time between a change and its save, ms. */
  readonly saveIntervalMs: number;
}

/** `bantime_increment` after validation. */
export interface BantimeIncrement {
  /** `enabled`: later bans of an address last longer. */
  readonly enabled: boolean;
  /** `formula`: how the ban time grows with the ban count. */
  readonly formula: "linear" | "exponential";
  /** `factor`: the growth factor of the formula. */
  readonly factor: number;
  /** `max`: the longest ban time it reaches, ms. */
  readonly maxMs: number;
  /** `jitter`: a random 0..jitter ms added to each ban. */
  readonly jitterMs: number;
  /** `overall`: count the address's bans in every jail, not only this one. */
  readonly overall: boolean;
}

/** One `[jails.NAME]` after merging `[defaults]` and validation. */
export interface JailConfig {
  /** The `NAME` of `[jails.NAME]`. */
  readonly name: string;
  /** `enabled`: a disabled jail is kept but reads nothing. */
  readonly enabled: boolean;
  /** Built-in or `[filters.NAME]` filter; `""` when `source = "bans"` (no filter). */
  readonly filter: string;
  /** A mode of `filter`; `""` when `source = "bans"`. */
  readonly mode: string;
  /** `source`: where the jail's lines come from. */
  readonly source: SourceKind;
  /** Absolute paths or globs; empty unless `source = "file"`. */
  readonly logpath: readonly string[];
  /** `read_from`: start at the end of a file (new lines only) or at its start. */
  readonly readFrom: "end" | "start";
  /** `FIELD=value` strings; empty unless `source = "journald"`. */
  readonly journalMatch: readonly string[];
  /** `null` means permanent. */
  readonly bantimeMs: number | null;
  /** `findtime`: the window in which `maxretry` failures ban, ms. */
  readonly findtimeMs: number;
  /** `maxretry`: failures within `findtime` that ban. */
  readonly maxretry: number;
  /** CIDR texts as written (canonicalised); compile with `src/net`. */
  readonly ignoreip: readonly string[];
  /** `ipv6_prefix`: IPv6 addresses are counted and banned by this prefix. */
  readonly ipv6Prefix: number;
  /**
   * The host's own addresses (its interfaces', read at start and reload) are never counted or
   * banned, as if in `ignoreip` (fail2ban's `ignoreself`).
   */
  readonly ignoreself: boolean;
  /**
   * A literal `logpath` that does not exist when the config is loaded (daemon start, reload,
   * `config check`): `"error"` refuses the config, `"warn"` only warns. `"error"` for other sources.
   */
  readonly missingLogpath: "error" | "warn";
  /** `[jails.NAME.bantime_increment]` (or the defaults'). */
  readonly bantimeIncrement: BantimeIncrement;
  /** `port` and `protocol`: the traffic its bans drop; null: all traffic of the address. */
  readonly scope: PortScope | null;
  /** `actions`: names of `[actions.NAME]` run on its bans and unbans, beside the firewall. */
  readonly actions: readonly string[];
}

/** One `[filters.NAME]`: a user filter in the pattern language (owned by `src/filters`). */
export type { UserFilterConfig };

/** The whole compiled configuration. */
export interface Config {
  /** Path the config was read from. */
  readonly path: string;
  /** `[global]`. */
  readonly global: GlobalConfig;
  /** Enabled and disabled jails, in file order. */
  readonly jails: readonly JailConfig[];
  /** Every `[filters.NAME]`, in file order. */
  readonly filters: readonly UserFilterConfig[];
  /** `[fleet]`; `null` when the section is absent (nothing of the fleet is loaded). */
  readonly fleet: FleetConfig | null;
  /** Every `[actions.NAME]`, in file order. */
  readonly actions: readonly ActionConfig[];
}

/** What every `[actions.NAME]` has. */
export interface ActionBase {
  /** The `NAME` of `[actions.NAME]` (what a jail's `actions` lists). */
  readonly name: string;
  /** `timeout`: longest a run may take before it is killed or abandoned (a failure), ms. */
  readonly timeoutMs: number;
  /** `queue`: runs waiting at most; past it the oldest waiting run is dropped (and counted). */
  readonly queue: number;
}

/** `type = "exec"`: a program run with an argv (no shell) on ban and unban. */
export interface ExecActionConfig extends ActionBase {
  /** Always `"exec"`. */
  readonly type: "exec";
  /** `on_ban`: argv, `[0]` an absolute path; `{ip}` etc. are whole arguments. Empty: none. */
  readonly onBan: readonly string[];
  /** `on_unban`: like `onBan`, run when a ban is lifted. Empty: none. */
  readonly onUnban: readonly string[];
}

/** `type = "smtp"`: a mail for each ban, through an SMTP server. */
export interface SmtpActionConfig extends ActionBase {
  /** Always `"smtp"`. */
  readonly type: "smtp";
  /** `server`: the SMTP server, an IP address and port (no DNS). */
  readonly server: { readonly hostname: string; readonly port: number };
  /** `from`: the envelope and header sender. */
  readonly from: string;
  /** `to`: the recipients. */
  readonly to: readonly string[];
}

/** One `[actions.NAME]`. */
export type ActionConfig = ExecActionConfig | SmtpActionConfig;

/**
 * `[fleet]` after validation: bans shared with other hosts through NATS JetStream
 * (docs/fleet.md). With `accept`, the jail list ends with the reserved jail `fleet`
 * (`source = "fleet"`) that holds the bans received.
 */
export interface FleetConfig {
  /** `url`: one or more `nats://HOST:PORT` or `tls://HOST:PORT` (port default 4222). */
  readonly urls: readonly {
    readonly scheme: "nats" | "tls";
    readonly host: string;
    readonly port: number;
  }[];
  /** `name`: this host in subjects and records; `null`: the host name, other characters as `-`. */
  readonly name: string | null;
  /** `user` and `password` (both or neither); `""` when not set. */
  readonly user: string;
  /** See `user`. */
  readonly password: string;
  /** `token`; `""` when not set. */
  readonly token: string;
  /** `creds`: a NATS credentials file (JWT and NKey seed); `""` when not set. */
  readonly creds: string;
  /** `tls_ca`: CA bundle the server's certificate is checked against; `""`: the system's. */
  readonly tlsCa: string;
  /** `tls_cert`: client certificate (with `tls_key`); `""` when not set. */
  readonly tlsCert: string;
  /** `tls_key`: see `tls_cert`. */
  readonly tlsKey: string;
  /** `share`: jails whose bans are published, `"manual"` for client bans; `null`: all of them. */
  readonly share: readonly string[] | null;
  /** `accept`: apply the bans other hosts publish. */
  readonly accept: boolean;
  /** `stream`: the JetStream stream name. */
  readonly stream: string;
  /** `max_rate`: most bans applied per second from one origin host; more are dropped, counted. */
  readonly maxRate: number;
  /** `ipv6_prefix`: the network a received IPv6 ban covers (the fleet jail's `ipv6_prefix`). */
  readonly ipv6Prefix: number;
  /** The stream's `max_age`, ms: the longest finite `bantime` of the jails, at least 1 week. */
  readonly maxAgeMs: number;
}
