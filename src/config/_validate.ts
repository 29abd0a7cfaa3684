/**
 * Schema validation: parsed TOML (plus the layout that locates it) → compiled `Config`, or every
 * problem with its position. Stages: top level → [global] → [filters.*] (jails refer to them) →
 * [defaults] → [jails.*] merged over defaults → cross-key rules.
 * @module
 */
import type {
  ActionConfig,
  BantimeIncrement,
  Config,
  EvictionPolicy,
  FirewallChoice,
  FleetConfig,
  GlobalConfig,
  JailConfig,
  LogLevel,
  PortScope,
  SeccompMode,
  SourceKind,
  UserFilterConfig,
} from "./types.ts";
import type { ConfigIssue } from "./errors.ts";
import { formatPath, type Layout, type Segment } from "./_locate.ts";
import { formatDuration, MAX_DURATION_MS, parseDuration } from "./_duration.ts";
import { closest } from "./_suggest.ts";
import { makeScope, MAX_PORT_ITEMS, parsePortItem, portItems } from "./_scope.ts";
import {
  builtinFilterNames,
  canonicalCidr,
  canonicalIp,
  checkUserFilter,
  cidrError,
  filterModes,
} from "./_deps.ts";

// ---- limits (each rejects the config when exceeded) ----

/**
 * Peak resident memory of the daemon's runtime without its address table (main isolate and
 * parser Worker, V8 flags of `DAEMON_V8_FLAGS`, the executable's start-up pages released),
 * measured through the live daemon (tests/daemon_flood_test.ts, a 2 MiB table). With 16 MiB of
 * old space per isolate (since 62573c1) the whole process reached 77.5–82.1 MiB VmHWM under a
 * 2,000,000-address flood and a ban flood (2026-12-06, five runs; 70.0–73.5 MiB with 12 MiB of
 * old space, which the `list` of a full table outgrew), so the runtime alone peaks at about 80.6
 * MiB; the figure keeps a margin above that (it was 78 until the flood test showed 80 MiB
 * ceilings exceeded). The address table gets what the ceiling leaves above it
 * (docs/interfaces.md, "Memory ceiling").
 */
export const RUNTIME_PEAK_MB = 86;
/**
 * What `[fleet]` adds to the runtime's peak, MiB: the NATS client and Deno's Node compatibility
 * layer, and a full outbox. `bench:fleet` measured 2–5 MiB more resident memory idle (4–7 MiB more
 * VmHWM) than the same daemon without it; a full outbox of 10,000 records holds 9.2 MiB (IPv4) to
 * 14.1 MiB (IPv6 of eight groups, names at their caps) of heap and buffers (docs/fleet.md), so up
 * to about 19 MiB in all; the figure keeps 3 MiB above that (it was 18, about 1 MiB short there).
 */
export const FLEET_RUNTIME_MB = 22;

/** The runtime's peak before the address table for `config`: {@link RUNTIME_PEAK_MB}, plus the fleet's. */
export function runtimePeakMb(config: Pick<Config, "fleet">): number {
  return RUNTIME_PEAK_MB + (config.fleet === null ? 0 : FLEET_RUNTIME_MB);
}

/** Smallest `memory_ceiling_mb`: the runtime's peak plus a 2 MiB table (≈ 15,000 addresses). */
export const MIN_MEMORY_CEILING_MB: number = RUNTIME_PEAK_MB + 2;
/** Largest `memory_ceiling_mb`. */
export const MAX_MEMORY_CEILING_MB = 65536;
/** Most jails in one config. */
export const MAX_JAILS = 256;
/** Most `[filters.NAME]` tables in one config. */
export const MAX_FILTERS = 256;
/** Most entries in one `logpath` or `journal_match`. */
export const MAX_SOURCES = 64;
/** Most entries in one `ignoreip`. */
export const MAX_IGNOREIP = 4096;
/** Most patterns in one `patterns` or `ignore_patterns`. */
export const MAX_PATTERNS = 256;
/** Longest path (bytes). */
export const MAX_PATH_BYTES = 4096;
/** Longest `socket_path` (bytes): `sun_path` holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;
/** Jail and filter names: a letter or digit, then letters, digits, `-`, `_`; 24 at most. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$/;

// ---- defaults ----

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const W = 7 * D;

/** `[global]` defaults. */
export const GLOBAL_DEFAULTS: GlobalConfig = {
  socketPath: "/run/fail2zig/fail2zig.sock",
  stateFile: "/var/lib/fail2zig/state.bin",
  auditLog: "/var/lib/fail2zig/audit.log",
  auditMaxMb: 0,
  journalDirectory: "",
  metricsBind: { hostname: "127.0.0.1", port: 9191 },
  logLevel: "info",
  firewall: "auto",
  onNoBackend: "fail-closed",
  seccomp: "enforce",
  memoryCeilingMb: 128,
  eviction: "evict-oldest",
  lineMaxBytes: 4096,
  saveIntervalMs: 100,
};

/** `bantime_increment` defaults. */
export const INCREMENT_DEFAULTS: BantimeIncrement = {
  enabled: false,
  formula: "exponential",
  factor: 2,
  maxMs: W,
  jitterMs: 0,
  overall: false,
};

/** `[defaults]` defaults (what a jail gets when neither it nor `[defaults]` sets a key). */
export const JAIL_DEFAULTS = {
  bantimeMs: 10 * M as number | null,
  findtimeMs: 10 * M,
  maxretry: 5,
  ignoreip: ["127.0.0.0/8", "::1"] as readonly string[],
  ipv6Prefix: 128,
  ignoreself: true,
} as const;

/** A jail named `recidive` with `source = "bans"` gets these unless the jail itself sets them. */
export const RECIDIVE_DEFAULTS = { maxretry: 5, findtimeMs: D, bantimeMs: W } as const;

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
const FIREWALLS: readonly FirewallChoice[] = ["auto", "nftables", "iptables", "ipset", "log-only"];
const ON_NO_BACKEND = ["fail-closed", "log-only"] as const;
const SECCOMP_MODES: readonly SeccompMode[] = ["enforce", "log", "off"];
const EVICTIONS: readonly EvictionPolicy[] = ["evict-oldest", "deny-new", "log-and-drop"];
const SOURCES: readonly SourceKind[] = ["file", "journald", "bans"];
const READ_FROM = ["end", "start"] as const;
const MISSING_LOGPATH = ["error", "warn"] as const;
const FORMULAS = ["linear", "exponential"] as const;
const PROTOCOLS = ["tcp", "udp", "all"] as const;
const PREFIXES = ["syslog", "none"] as const;

const TOP_KEYS = ["global", "defaults", "jails", "filters", "fleet", "actions"];
const ACTION_KEYS = ["type", "on_ban", "on_unban", "timeout", "queue", "server", "from", "to"];
const ACTION_TYPES = ["exec", "smtp"] as const;
/** Most `[actions.NAME]` tables. */
export const MAX_ACTIONS = 64;
/** Most arguments of an `on_ban`/`on_unban` argv. */
export const MAX_ACTION_ARGS = 64;
/** Largest `queue` of an action. */
export const MAX_ACTION_QUEUE = 100_000;
/** The placeholders of an exec action's arguments (each a whole argument). */
export const ACTION_PLACEHOLDERS = ["{ip}", "{prefix}", "{jail}", "{duration_s}", "{origin}"];
const FLEET_KEYS = [
  "url",
  "name",
  "user",
  "password",
  "token",
  "creds",
  "tls_ca",
  "tls_cert",
  "tls_key",
  "share",
  "accept",
  "stream",
  "max_rate",
  "ipv6_prefix",
];
/** The jail that holds the bans received from the fleet; no `[jails.NAME]` may take the name. */
export const FLEET_JAIL = "fleet";
/** The `share` keyword for bans made with `client ban`; no jail may take the name. */
export const FLEET_MANUAL = "manual";
/** Fleet host names (`[fleet] name`, subject token): 1 to 64 letters, digits, `-`, `_`. */
export const FLEET_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Most `[fleet] url` entries. */
export const MAX_FLEET_URLS = 16;
/** Largest `[fleet] max_rate` (bans per second per origin). */
export const MAX_FLEET_RATE = 100_000;
const GLOBAL_KEYS = [
  "socket_path",
  "state_file",
  "audit_log",
  "audit_max_mb",
  "journal_directory",
  "metrics_bind",
  "log_level",
  "firewall",
  "on_no_backend",
  "seccomp",
  "memory_ceiling_mb",
  "eviction",
  "line_max_bytes",
  "save_interval",
];
const SHARED_KEYS = [
  "missing_logpath",
  "bantime",
  "findtime",
  "maxretry",
  "ignoreip",
  "ignoreself",
  "ipv6_prefix",
  "bantime_increment",
];
const JAIL_KEYS = [
  "enabled",
  "filter",
  "mode",
  "source",
  "logpath",
  "read_from",
  "journal_match",
  "port",
  "protocol",
  "actions",
  ...SHARED_KEYS,
];
const INCREMENT_KEYS = ["enabled", "formula", "factor", "max", "jitter", "overall"];
const FILTER_KEYS = ["patterns", "ignore_patterns", "prefix"];

/**
 * Every key the validator accepts, by the table it goes in (`defaults` keys also go in a jail;
 * `jail` lists a jail's own keys and the shared ones). fail2zig.toml(5) is checked against it.
 */
export const CONFIG_KEYS: Readonly<Record<string, readonly string[]>> = {
  global: GLOBAL_KEYS,
  defaults: SHARED_KEYS,
  jail: JAIL_KEYS,
  bantime_increment: INCREMENT_KEYS,
  "filters.NAME": FILTER_KEYS,
  fleet: FLEET_KEYS,
  "actions.NAME": ACTION_KEYS,
};

/** Where a key belongs, for "unknown key" hints. */
function homeOf(key: string): string | undefined {
  if (GLOBAL_KEYS.includes(key)) return "[global]";
  if (SHARED_KEYS.includes(key)) return "[defaults] or [jails.NAME]";
  if (JAIL_KEYS.includes(key)) return "[jails.NAME]";
  if (INCREMENT_KEYS.includes(key)) return "a bantime_increment table";
  if (FILTER_KEYS.includes(key)) return "[filters.NAME]";
  if (FLEET_KEYS.includes(key)) return "[fleet]";
  return undefined;
}

// ---- the checker: issues with positions ----

type Table = Record<string, unknown>;

class Checker {
  readonly issues: ConfigIssue[] = [];
  readonly #path: string;
  readonly #layout: Layout;

  constructor(path: string, layout: Layout) {
    this.#path = path;
    this.#layout = layout;
  }

  /** Reports `message` at the key (or value) `segs`, prefixed with the key path. */
  error(segs: readonly Segment[], where: "key" | "value", message: string): void {
    const name = formatPath(segs);
    this.issues.push({
      path: this.#path,
      ...this.#position(segs, where),
      message: name === "" ? message : `${name}: ${message}`,
    });
  }

  /** Reports at an offset inside a string value (`index` = decoded UTF-16 unit). */
  errorInString(segs: readonly Segment[], index: number, message: string): void {
    const loc = this.#layout.get(segs);
    const map = loc?.stringMap;
    if (map === undefined || map.length === 0) return this.error(segs, "value", message);
    const offset = map[Math.max(0, Math.min(index, map.length - 1))]!;
    this.issues.push({
      path: this.#path,
      ...this.#layout.position(offset),
      message: `${formatPath(segs)}: ${message}`,
    });
  }

  #position(segs: readonly Segment[], where: "key" | "value"): { line: number; column: number } {
    for (let n = segs.length; n > 0; n--) {
      const loc = this.#layout.get(segs.slice(0, n));
      if (loc === undefined) continue;
      const offset = where === "value" && n === segs.length && loc.valueOffset >= 0
        ? loc.valueOffset
        : loc.keyOffset;
      return this.#layout.position(offset);
    }
    return { line: 1, column: 1 };
  }

  /** Text offset of a path's key (for sorting by file order). */
  offsetOf(segs: readonly Segment[]): number {
    return this.#layout.get(segs)?.keyOffset ?? Infinity;
  }

  /** `integer 5`, `float 5.0`, `string "5"`, `array`, `table`… */
  describe(segs: readonly Segment[], value: unknown): string {
    const loc = this.#layout.get(segs);
    if (typeof value === "string") return `string ${quote(value)}`;
    if (typeof value === "boolean") return `boolean ${value}`;
    if (typeof value === "number" || typeof value === "bigint") {
      const kind = loc?.kind === "float" || !Number.isInteger(value) ? "float" : "integer";
      return `${kind} ${loc?.raw || String(value)}`;
    }
    if (Array.isArray(value)) return "an array";
    if (value instanceof Date) return `date-time ${loc?.raw ?? String(value)}`;
    return "a table";
  }

  isFloat(segs: readonly Segment[]): boolean {
    return this.#layout.get(segs)?.kind === "float";
  }
}

function quote(s: string): string {
  const json = JSON.stringify(s);
  return json.length <= 60 ? json : `${json.slice(0, 56)}…"`;
}

function isTable(v: unknown): v is Table {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

// ---- readers: each reports and returns undefined on a bad value ----

function readTable(c: Checker, segs: readonly Segment[], v: unknown): Table | undefined {
  if (isTable(v)) return v;
  c.error(segs, "value", `expected a table, found ${c.describe(segs, v)}`);
  return undefined;
}

/** Reports every key of `table` not in `known`, with a suggestion. */
function checkKeys(c: Checker, segs: readonly Segment[], table: Table, known: readonly string[]) {
  for (const key of Object.keys(table)) {
    if (known.includes(key)) continue;
    const at = [...segs, key];
    const guess = closest(key, known);
    const home = homeOf(key);
    const kind = isTable(table[key]) && segs.length === 0 ? "table" : "key";
    let hint = "";
    if (guess !== undefined) hint = `; did you mean ${guess}?`;
    else if (home !== undefined) hint = ` (${key} belongs in ${home})`;
    else hint = `; expected one of ${known.join(", ")}`;
    c.error(at, "key", `unknown ${kind}${hint}`);
  }
}

function readBool(c: Checker, segs: readonly Segment[], v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  c.error(segs, "value", `expected true or false, found ${c.describe(segs, v)}`);
  return undefined;
}

function readInt(
  c: Checker,
  segs: readonly Segment[],
  v: unknown,
  range: { min: number; max: number; below?: string },
): number | undefined {
  if (typeof v !== "number" || !Number.isInteger(v) || c.isFloat(segs)) {
    c.error(segs, "value", `expected an integer, found ${c.describe(segs, v)}`);
    return undefined;
  }
  if (v < range.min && range.below !== undefined) {
    c.error(segs, "value", range.below.replace("{}", String(v)));
    return undefined;
  }
  if (v < range.min || v > range.max) {
    c.error(segs, "value", `must be between ${range.min} and ${range.max}, found ${v}`);
    return undefined;
  }
  return v;
}

function readEnum<T extends string>(
  c: Checker,
  segs: readonly Segment[],
  v: unknown,
  options: readonly T[],
): T | undefined {
  if (typeof v === "string" && (options as readonly string[]).includes(v)) return v as T;
  const list = options.map((o) => `"${o}"`).join(", ");
  const guess = typeof v === "string" ? closest(v, options) : undefined;
  const hint = guess === undefined ? "" : `; did you mean "${guess}"?`;
  c.error(segs, "value", `expected one of ${list}, found ${c.describe(segs, v)}${hint}`);
  return undefined;
}

function readString(c: Checker, segs: readonly Segment[], v: unknown): string | undefined {
  if (typeof v === "string") return v;
  c.error(segs, "value", `expected a string, found ${c.describe(segs, v)}`);
  return undefined;
}

/** An absolute path: `""` only when `allowEmpty`. */
function readPath(
  c: Checker,
  segs: readonly Segment[],
  v: unknown,
  opts: { allowEmpty?: boolean; maxBytes?: number } = {},
): string | undefined {
  const s = readString(c, segs, v);
  if (s === undefined) return undefined;
  if (s === "" && opts.allowEmpty) return s;
  return checkPathText(c, segs, s, opts.maxBytes ?? MAX_PATH_BYTES);
}

function checkPathText(
  c: Checker,
  segs: readonly Segment[],
  s: string,
  maxBytes: number,
): string | undefined {
  if (!s.startsWith("/")) {
    c.error(segs, "value", `expected an absolute path (starting with /), found ${quote(s)}`);
    return undefined;
  }
  if (s.includes("\0")) {
    c.error(segs, "value", "a path must not contain a NUL character");
    return undefined;
  }
  const bytes = new TextEncoder().encode(s).length;
  if (bytes > maxBytes) {
    c.error(segs, "value", `path is ${bytes} bytes long; at most ${maxBytes} are allowed`);
    return undefined;
  }
  return s;
}

/** A duration: integer seconds or a duration string; bounds in milliseconds. */
function readDuration(
  c: Checker,
  segs: readonly Segment[],
  v: unknown,
  opts: { min: number; max: number; subSecond?: boolean; permanent?: boolean },
): number | null | undefined {
  let ms: number | null;
  if (typeof v === "number" && Number.isInteger(v) && !c.isFloat(segs)) {
    if (v < 0) {
      c.error(segs, "value", `a duration must not be negative, found ${v}`);
      return undefined;
    }
    ms = v * S;
  } else if (typeof v === "string") {
    const r = parseDuration(v, {
      subSecond: opts.subSecond ?? false,
      permanent: opts.permanent ?? false,
    });
    if (!r.ok) {
      c.error(segs, "value", `bad duration ${quote(v)}: ${r.reason}`);
      return undefined;
    }
    ms = r.ms;
  } else {
    const example = opts.subSecond ? '"100ms"' : '"1h30m"';
    c.error(
      segs,
      "value",
      `expected a duration (whole seconds or a string such as ${example}), found ${
        c.describe(segs, v)
      }`,
    );
    return undefined;
  }
  if (ms !== null && ms > MAX_DURATION_MS) {
    c.error(segs, "value", `must be at most ${formatDuration(MAX_DURATION_MS)}, found ${v}`);
    return undefined;
  }
  if (ms !== null && (ms < opts.min || ms > opts.max)) {
    const range = opts.max === Infinity
      ? `must be at least ${formatDuration(opts.min)}`
      : `must be between ${formatDuration(opts.min)} and ${formatDuration(opts.max)}`;
    c.error(segs, "value", `${range}, found ${formatDuration(ms)}`);
    return undefined;
  }
  return ms;
}

/** An array of strings (or, with `single`, one string); items checked by `item`. */
function readStrings(
  c: Checker,
  segs: readonly Segment[],
  v: unknown,
  opts: {
    max: number;
    single?: boolean;
    allowEmpty?: boolean;
    item?: (at: readonly Segment[], s: string) => string | undefined;
  },
): string[] | undefined {
  if (typeof v === "string" && opts.single) {
    const out = opts.item ? opts.item(segs, v) : v;
    return out === undefined ? undefined : [out];
  }
  if (!Array.isArray(v)) {
    const expected = opts.single ? "a string or an array of strings" : "an array of strings";
    c.error(segs, "value", `expected ${expected}, found ${c.describe(segs, v)}`);
    return undefined;
  }
  if (v.length === 0 && !opts.allowEmpty) {
    c.error(segs, "value", "must not be empty");
    return undefined;
  }
  if (v.length > opts.max) {
    c.error(segs, "value", `has ${v.length} entries; at most ${opts.max} are allowed`);
    return undefined;
  }
  const out: string[] = [];
  let ok = true;
  v.forEach((item: unknown, index) => {
    const at = [...segs, index];
    if (typeof item !== "string") {
      c.error(at, "value", `expected a string, found ${c.describe(at, item)}`);
      ok = false;
      return;
    }
    const checked = opts.item ? opts.item(at, item) : item;
    if (checked === undefined) ok = false;
    else out.push(checked);
  });
  return ok ? out : undefined;
}

// ---- sections ----

function readGlobal(c: Checker, v: unknown): GlobalConfig {
  const segs = ["global"];
  const t = v === undefined ? {} : readTable(c, segs, v);
  if (t === undefined) return GLOBAL_DEFAULTS;
  checkKeys(c, segs, t, GLOBAL_KEYS);
  const at = (k: string) => [...segs, k];
  const g: { -readonly [K in keyof GlobalConfig]: GlobalConfig[K] } = { ...GLOBAL_DEFAULTS };
  const set = <K extends keyof GlobalConfig>(k: K, value: GlobalConfig[K] | undefined) => {
    if (value !== undefined) g[k] = value;
  };
  if ("socket_path" in t) {
    set(
      "socketPath",
      readPath(c, at("socket_path"), t["socket_path"], { maxBytes: MAX_SOCKET_PATH_BYTES }),
    );
  }
  if ("state_file" in t) set("stateFile", readPath(c, at("state_file"), t["state_file"]));
  if ("audit_log" in t) {
    set("auditLog", readPath(c, at("audit_log"), t["audit_log"], { allowEmpty: true }));
  }
  if ("journal_directory" in t) {
    set(
      "journalDirectory",
      readPath(c, at("journal_directory"), t["journal_directory"], { allowEmpty: true }),
    );
  }
  if ("metrics_bind" in t) set("metricsBind", readBind(c, at("metrics_bind"), t["metrics_bind"]));
  if ("log_level" in t) set("logLevel", readEnum(c, at("log_level"), t["log_level"], LOG_LEVELS));
  if ("firewall" in t) set("firewall", readEnum(c, at("firewall"), t["firewall"], FIREWALLS));
  if ("on_no_backend" in t) {
    set("onNoBackend", readEnum(c, at("on_no_backend"), t["on_no_backend"], ON_NO_BACKEND));
  }
  if ("seccomp" in t) set("seccomp", readEnum(c, at("seccomp"), t["seccomp"], SECCOMP_MODES));
  if ("memory_ceiling_mb" in t) {
    set(
      "memoryCeilingMb",
      readInt(c, at("memory_ceiling_mb"), t["memory_ceiling_mb"], {
        min: MIN_MEMORY_CEILING_MB,
        max: MAX_MEMORY_CEILING_MB,
        below:
          `must be at least ${MIN_MEMORY_CEILING_MB} (the runtime with its parser Worker peaks at about ${RUNTIME_PEAK_MB} MiB before the address table), found {}`,
      }),
    );
  }
  if ("eviction" in t) set("eviction", readEnum(c, at("eviction"), t["eviction"], EVICTIONS));
  if ("audit_max_mb" in t) {
    set("auditMaxMb", readInt(c, at("audit_max_mb"), t["audit_max_mb"], { min: 0, max: 65536 }));
  }
  if ("line_max_bytes" in t) {
    set(
      "lineMaxBytes",
      readInt(c, at("line_max_bytes"), t["line_max_bytes"], { min: 256, max: 65536 }),
    );
  }
  if ("save_interval" in t) {
    const ms = readDuration(c, at("save_interval"), t["save_interval"], {
      min: 10,
      max: H,
      subSecond: true,
    });
    if (typeof ms === "number") g.saveIntervalMs = ms;
  }
  return g;
}

function readBind(
  c: Checker,
  segs: readonly Segment[],
  v: unknown,
): GlobalConfig["metricsBind"] | undefined {
  const s = readString(c, segs, v);
  if (s === undefined) return undefined;
  if (s === "") return null;
  const expected =
    'expected "host:port" such as "127.0.0.1:9191" or "[::1]:9191", or "" to disable';
  const m = /^\[([^\]]*)\]:([0-9]+)$/.exec(s) ?? /^([^:[\]]*):([0-9]+)$/.exec(s);
  if (m === null) {
    const hint = s.split(":").length > 2 && !s.startsWith("[")
      ? " (an IPv6 address needs brackets: [::1]:9191)"
      : "";
    c.error(segs, "value", `${expected}, found ${quote(s)}${hint}`);
    return undefined;
  }
  const [, host, portText] = m as unknown as [string, string, string];
  const bracketed = s.startsWith("[");
  const ip = canonicalIp(host);
  if (ip === null || host.includes(":") !== bracketed) {
    const dns = /[g-zG-Z]/.test(host) ? " (DNS names are not allowed)" : "";
    const what = bracketed ? "an IPv6 address" : "an IPv4 address";
    c.error(segs, "value", `expected ${what}, found ${quote(host)}${dns}`);
    return undefined;
  }
  const port = Number(portText);
  if (portText.length > 5 || port < 1 || port > 65535) {
    c.error(segs, "value", `port must be between 1 and 65535, found ${portText}`);
    return undefined;
  }
  return { hostname: ip, port };
}

/** Keys shared by `[defaults]` and jails, as set in one table. */
interface SharedSet {
  bantimeMs?: number | null;
  findtimeMs?: number;
  maxretry?: number;
  ignoreip?: readonly string[];
  ignoreself?: boolean;
  ipv6Prefix?: number;
  missingLogpath?: "error" | "warn";
  increment: { -readonly [K in keyof BantimeIncrement]?: BantimeIncrement[K] };
}

function readShared(c: Checker, segs: readonly Segment[], t: Table): SharedSet {
  const out: SharedSet = { increment: {} };
  const at = (k: string) => [...segs, k];
  if ("bantime" in t) {
    const ms = readDuration(c, at("bantime"), t["bantime"], {
      min: S,
      max: Infinity,
      permanent: true,
    });
    if (ms !== undefined) out.bantimeMs = ms;
  }
  if ("findtime" in t) {
    const ms = readDuration(c, at("findtime"), t["findtime"], { min: S, max: W });
    if (typeof ms === "number") out.findtimeMs = ms;
  }
  if ("maxretry" in t) {
    const n = readInt(c, at("maxretry"), t["maxretry"], { min: 1, max: 1000 });
    if (n !== undefined) out.maxretry = n;
  }
  if ("ignoreip" in t) {
    const list = readStrings(c, at("ignoreip"), t["ignoreip"], {
      max: MAX_IGNOREIP,
      allowEmpty: true,
      item: (where, s) => {
        const cidr = canonicalCidr(s);
        if (cidr !== null) return cidr;
        const dns = /[g-zG-Z]/.test(s) ? " (DNS names are not allowed)" : "";
        c.error(where, "value", `${cidrError(s) ?? "expected an IP address or CIDR"}${dns}`);
        return undefined;
      },
    });
    if (list !== undefined) out.ignoreip = list;
  }
  if ("ignoreself" in t) {
    const b = readBool(c, at("ignoreself"), t["ignoreself"]);
    if (b !== undefined) out.ignoreself = b;
  }
  if ("ipv6_prefix" in t) {
    const n = readInt(c, at("ipv6_prefix"), t["ipv6_prefix"], { min: 16, max: 128 });
    if (n !== undefined) out.ipv6Prefix = n;
  }
  if ("missing_logpath" in t) {
    const v = readEnum(c, at("missing_logpath"), t["missing_logpath"], MISSING_LOGPATH);
    if (v !== undefined) out.missingLogpath = v;
  }
  if ("bantime_increment" in t) {
    const isegs = at("bantime_increment");
    const it = readTable(c, isegs, t["bantime_increment"]);
    if (it !== undefined) out.increment = readIncrement(c, isegs, it);
  }
  return out;
}

function readIncrement(c: Checker, segs: readonly Segment[], t: Table): SharedSet["increment"] {
  checkKeys(c, segs, t, INCREMENT_KEYS);
  const at = (k: string) => [...segs, k];
  const inc: SharedSet["increment"] = {};
  if ("enabled" in t) {
    const b = readBool(c, at("enabled"), t["enabled"]);
    if (b !== undefined) inc.enabled = b;
  }
  if ("formula" in t) {
    const f = readEnum(c, at("formula"), t["formula"], FORMULAS);
    if (f !== undefined) inc.formula = f;
  }
  if ("factor" in t) {
    const v = t["factor"];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      c.error(at("factor"), "value", `expected a number, found ${c.describe(at("factor"), v)}`);
    } else if (v <= 0 || v > 1000) {
      c.error(at("factor"), "value", `must be greater than 0 and at most 1000, found ${v}`);
    } else inc.factor = v;
  }
  if ("max" in t) {
    const ms = readDuration(c, at("max"), t["max"], { min: S, max: Infinity });
    if (typeof ms === "number") inc.maxMs = ms;
  }
  if ("jitter" in t) {
    const ms = readDuration(c, at("jitter"), t["jitter"], { min: 0, max: Infinity });
    if (typeof ms === "number") inc.jitterMs = ms;
  }
  if ("overall" in t) {
    const b = readBool(c, at("overall"), t["overall"]);
    if (b !== undefined) inc.overall = b;
  }
  return inc;
}

function readFilters(c: Checker, v: unknown): UserFilterConfig[] {
  if (v === undefined) return [];
  const t = readTable(c, ["filters"], v);
  if (t === undefined) return [];
  const names = inFileOrder(c, ["filters"], t);
  if (names.length > MAX_FILTERS) {
    c.error(
      ["filters"],
      "key",
      `${names.length} filters defined; at most ${MAX_FILTERS} are allowed`,
    );
  }
  const builtins = builtinFilterNames();
  const out: UserFilterConfig[] = [];
  for (const name of names) {
    const segs = ["filters", name];
    const ft = readTable(c, segs, t[name]);
    if (ft === undefined) continue;
    let ok = checkName(c, segs, name, "filter");
    if (builtins.includes(name)) {
      c.error(segs, "key", `a user filter must not shadow the built-in filter ${name}; rename it`);
      ok = false;
    }
    const before = c.issues.length;
    checkKeys(c, segs, ft, FILTER_KEYS);
    const at = (k: string) => [...segs, k];
    let patterns: string[] | undefined;
    if ("patterns" in ft) {
      patterns = readStrings(c, at("patterns"), ft["patterns"], { max: MAX_PATTERNS });
    } else c.error(segs, "key", "missing required key patterns");
    const ignorePatterns = "ignore_patterns" in ft
      ? readStrings(c, at("ignore_patterns"), ft["ignore_patterns"], {
        max: MAX_PATTERNS,
        allowEmpty: true,
      })
      : [];
    const prefix = "prefix" in ft ? readEnum(c, at("prefix"), ft["prefix"], PREFIXES) : "syslog";
    if (patterns === undefined || ignorePatterns === undefined || prefix === undefined) continue;
    const filter: UserFilterConfig = { name, patterns, ignorePatterns, prefix };
    if (ok && c.issues.length === before) {
      for (const p of checkUserFilter(filter)) {
        c.errorInString([...segs, p.list, p.index], p.column - 1, p.message);
      }
    }
    out.push(filter);
  }
  return out;
}

function checkName(c: Checker, segs: readonly Segment[], name: string, what: string): boolean {
  if (NAME_PATTERN.test(name)) return true;
  c.error(
    segs,
    "key",
    `bad ${what} name: expected 1 to 24 letters, digits, "-" or "_" starting with a letter or digit, found ${
      quote(name)
    }`,
  );
  return false;
}

/** Keys of `t` sorted by where they are written (JS puts integer-like keys first). */
function inFileOrder(c: Checker, segs: readonly Segment[], t: Table): string[] {
  return Object.keys(t).sort((a, b) => c.offsetOf([...segs, a]) - c.offsetOf([...segs, b]));
}

interface DefaultsResult {
  set: SharedSet;
}

function readDefaults(c: Checker, v: unknown): DefaultsResult {
  if (v === undefined) return { set: { increment: {} } };
  const t = readTable(c, ["defaults"], v);
  if (t === undefined) return { set: { increment: {} } };
  checkKeys(c, ["defaults"], t, SHARED_KEYS);
  const set = readShared(c, ["defaults"], t);
  const inc = { ...INCREMENT_DEFAULTS, ...set.increment };
  const bantime = set.bantimeMs === undefined ? JAIL_DEFAULTS.bantimeMs : set.bantimeMs;
  if (inc.enabled && bantime !== null && inc.maxMs < bantime) {
    const where = "max" in set.increment
      ? ["defaults", "bantime_increment", "max"]
      : ["defaults", "bantime"];
    c.error(
      where,
      "value",
      `bantime_increment.max (${formatDuration(inc.maxMs)}) is shorter than bantime (${
        formatDuration(bantime)
      })`,
    );
  }
  return { set };
}

function readJails(
  c: Checker,
  v: unknown,
  defaults: SharedSet,
  userFilters: readonly UserFilterConfig[],
): JailConfig[] {
  if (v === undefined) return [];
  const t = readTable(c, ["jails"], v);
  if (t === undefined) return [];
  const names = inFileOrder(c, ["jails"], t);
  if (names.length > MAX_JAILS) {
    c.error(["jails"], "key", `${names.length} jails defined; at most ${MAX_JAILS} are allowed`);
  }
  const out: JailConfig[] = [];
  for (const name of names) {
    if (name === FLEET_JAIL || name === FLEET_MANUAL) {
      const what = name === FLEET_JAIL
        ? "the jail of the bans received from [fleet]"
        : "the [fleet] share keyword for client bans";
      c.error(["jails", name], "key", `the jail name ${name} is reserved (${what}); rename it`);
      continue;
    }
    const jail = readJail(c, name, t[name], defaults, userFilters);
    if (jail !== undefined) out.push(jail);
  }
  return out;
}

/** One `source = "journald"` match: `FIELD=value` with an upper-case field name. */
function journalMatchItem(c: Checker, where: readonly Segment[], s: string): string | undefined {
  if (/^[A-Z_][A-Z0-9_]*=/.test(s)) return s;
  c.error(
    where,
    "value",
    `expected FIELD=value with an upper-case field name such as "_SYSTEMD_UNIT=ssh.service", found ${
      quote(s)
    }`,
  );
  return undefined;
}

/**
 * A file or journald jail's `filter` (required, a built-in or `[filters.NAME]`) and `mode` (one
 * of the filter's); empty strings when they are missing or wrong (the issue is recorded).
 */
function readFilterMode(
  c: Checker,
  segs: readonly Segment[],
  t: Table,
  userFilters: readonly UserFilterConfig[],
): { filter: string; mode: string } {
  const at = (k: string) => [...segs, k];
  const f = "filter" in t ? readString(c, at("filter"), t["filter"]) : undefined;
  if (!("filter" in t)) c.error(segs, "key", "missing required key filter");
  const m = "mode" in t ? readString(c, at("mode"), t["mode"]) : "normal";
  if (f !== undefined) {
    const modes = filterModes(f, userFilters);
    if (modes === null) {
      const known = [...builtinFilterNames(), ...userFilters.map((u) => u.name)];
      const guess = closest(f, known);
      const hint = guess === undefined
        ? ` (built-in: ${builtinFilterNames().join(", ")}; or define [filters.${f}])`
        : `; did you mean "${guess}"?`;
      c.error(at("filter"), "value", `unknown filter ${quote(f)}${hint}`);
    } else if (m !== undefined && !modes.includes(m)) {
      const list = modes.map((x) => `"${x}"`).join(", ");
      c.error(
        "mode" in t ? at("mode") : segs,
        "mode" in t ? "value" : "key",
        `filter ${f} has no mode ${quote(m)}; expected one of ${list}`,
      );
    }
    return { filter: f, mode: m ?? "normal" };
  }
  return { filter: "", mode: "" };
}

function readJail(
  c: Checker,
  name: string,
  v: unknown,
  defaults: SharedSet,
  userFilters: readonly UserFilterConfig[],
): JailConfig | undefined {
  const segs = ["jails", name];
  const t = readTable(c, segs, v);
  if (t === undefined) return undefined;
  const before = c.issues.length;
  checkName(c, segs, name, "jail");
  checkKeys(c, segs, t, JAIL_KEYS);
  const at = (k: string) => [...segs, k];
  const [own, extras] = [readShared(c, segs, t), readJailExtras(c, segs, t)];

  const enabled = "enabled" in t ? readBool(c, at("enabled"), t["enabled"]) : true;
  const source = "source" in t ? readEnum(c, at("source"), t["source"], SOURCES) : "file";
  const readFrom = "read_from" in t
    ? readEnum(c, at("read_from"), t["read_from"], READ_FROM)
    : "end";

  // Source rules: each source has its own required and forbidden keys.
  let logpath: string[] | undefined = [];
  let journalMatch: string[] | undefined = [];
  const notFor = (key: string) => {
    if (key in t) {
      c.error(at(key), "key", `not used with source = "${source}"; remove it`);
    }
  };
  if (source === "file") {
    notFor("journal_match");
    if ("logpath" in t) {
      logpath = readStrings(c, at("logpath"), t["logpath"], {
        max: MAX_SOURCES,
        single: true,
        item: (where, s) => checkPathText(c, where, s, MAX_PATH_BYTES),
      });
    } else c.error(segs, "key", 'missing required key logpath (source = "file" reads log files)');
  } else if (source === "journald") {
    notFor("logpath");
    notFor("missing_logpath");
    if ("journal_match" in t) {
      journalMatch = readStrings(c, at("journal_match"), t["journal_match"], {
        max: MAX_SOURCES,
        item: (where, s) => journalMatchItem(c, where, s),
      });
    } else {
      c.error(
        segs,
        "key",
        'missing required key journal_match (source = "journald" needs FIELD=value matches)',
      );
    }
  } else if (source === "bans") {
    notFor("logpath");
    notFor("missing_logpath");
    notFor("journal_match");
    notFor("read_from");
    notFor("filter");
    notFor("mode");
  }

  // Filter and mode (not for "bans": that jail counts the daemon's own bans).
  const { filter, mode } = source === "file" || source === "journald"
    ? readFilterMode(c, segs, t, userFilters)
    : { filter: "", mode: "" };

  // Merge: built-in defaults ← [defaults] ← recidive defaults ← the jail's own keys.
  const recidive = name === "recidive" && source === "bans";
  const pick = <K extends "bantimeMs" | "findtimeMs" | "maxretry">(k: K) => {
    if (own[k] !== undefined) return own[k];
    if (recidive) return RECIDIVE_DEFAULTS[k];
    return defaults[k] !== undefined ? defaults[k] : JAIL_DEFAULTS[k];
  };
  const bantimeMs = pick("bantimeMs") as number | null;
  const increment: BantimeIncrement = {
    ...INCREMENT_DEFAULTS,
    ...defaults.increment,
    ...own.increment,
  };
  const ownInc = isTable(t["bantime_increment"]) ? t["bantime_increment"] : {};
  const jailSetsIt = "bantime" in t || "max" in ownInc || "enabled" in ownInc || recidive;
  if (increment.enabled && bantimeMs !== null && increment.maxMs < bantimeMs && jailSetsIt) {
    const where = "max" in ownInc
      ? at("bantime_increment").concat("max")
      : "bantime" in t
      ? at("bantime")
      : "enabled" in ownInc
      ? at("bantime_increment").concat("enabled")
      : segs;
    c.error(
      where,
      where === segs ? "key" : "value",
      `bantime_increment.max (${formatDuration(increment.maxMs)}) is shorter than bantime (${
        formatDuration(bantimeMs)
      })`,
    );
  }
  if (c.issues.length !== before) return undefined;
  return {
    name,
    enabled: enabled!,
    filter,
    mode,
    source: source!,
    logpath: logpath!,
    readFrom: readFrom!,
    journalMatch: journalMatch!,
    bantimeMs,
    findtimeMs: pick("findtimeMs") as number,
    maxretry: pick("maxretry") as number,
    ignoreip: own.ignoreip ?? defaults.ignoreip ?? JAIL_DEFAULTS.ignoreip,
    ipv6Prefix: own.ipv6Prefix ?? defaults.ipv6Prefix ?? JAIL_DEFAULTS.ipv6Prefix,
    ignoreself: own.ignoreself ?? defaults.ignoreself ?? JAIL_DEFAULTS.ignoreself,
    missingLogpath: own.missingLogpath ?? defaults.missingLogpath ?? "error",
    bantimeIncrement: increment,
    ...extras,
  };
}

/** `port`/`protocol` and `actions` of a jail (meaningful when no issue was reported). */
function readJailExtras(c: Checker, segs: readonly Segment[], t: Table) {
  const scope = readScope(c, segs, t) ?? null;
  const actions = "actions" in t
    ? readStrings(c, [...segs, "actions"], t["actions"], { max: 16, allowEmpty: true }) ?? []
    : [];
  return { scope, actions };
}

/**
 * `port` (an integer, a string, or an array of them: numbers, service names, `FROM:TO`, `all`)
 * and `protocol` ("tcp", the default once `port` is set; "udp"; "all") → the jail's scope.
 */
function readScope(c: Checker, segs: readonly Segment[], t: Table): PortScope | null | undefined {
  if (!("port" in t) && !("protocol" in t)) return null;
  const protocol = "protocol" in t
    ? readEnum(c, [...segs, "protocol"], t["protocol"], PROTOCOLS)
    : "port" in t
    ? "tcp"
    : "all";
  if (protocol === undefined) return undefined;
  if (!("port" in t)) return makeScope(protocol, null);
  const at = [...segs, "port"];
  const v = t["port"];
  const items: [readonly Segment[], unknown][] = Array.isArray(v)
    ? v.map((x, i) => [[...at, i], x])
    : [[at, v]];
  if (items.length === 0) {
    c.error(at, "value", 'must not be empty (write "all" for every port)');
    return undefined;
  }
  const ranges: (readonly [number, number])[] = [];
  let all = false;
  let ok = true;
  for (const [where, item] of items) {
    if (typeof item !== "string" && (typeof item !== "number" || c.isFloat(where))) {
      const what = c.describe(where, item);
      c.error(where, "value", `expected a port (integer or string such as "ssh"), found ${what}`);
      ok = false;
      continue;
    }
    const r = parsePortItem(item);
    if (!r.ok) {
      c.error(where, "value", r.reason);
      ok = false;
    } else if (r.range === null) all = true;
    else ranges.push(r.range);
  }
  if (!ok) return undefined;
  if (all && ranges.length > 0) {
    c.error(at, "value", '"all" covers every port; list it alone');
    return undefined;
  }
  const scope = makeScope(protocol, all ? null : ranges);
  if (scope !== null && portItems(scope.ports) > MAX_PORT_ITEMS) {
    c.error(
      at,
      "value",
      `lists ${portItems(scope.ports)} ports (a range counts as two); at most ${MAX_PORT_ITEMS}` +
        " are allowed (iptables' multiport limit): use ranges or a second jail",
    );
    return undefined;
  }
  return scope;
}

/**
 * Validates a parsed TOML document. Returns the compiled (not yet frozen) config and the issues;
 * the config is only meaningful when there are no issues.
 */
export function validate(
  doc: Table,
  path: string,
  layout: Layout,
): { config: Config; issues: ConfigIssue[] } {
  const c = new Checker(path, layout);
  checkKeys(c, [], doc, TOP_KEYS);
  const global = readGlobal(c, doc["global"]);
  const filters = readFilters(c, doc["filters"]);
  const { set } = readDefaults(c, doc["defaults"]);
  const jails = readJails(c, doc["jails"], set, filters);
  const fleet = doc["fleet"] === undefined ? null : readFleet(c, doc["fleet"], jails);
  const floor = runtimePeakMb({ fleet }) + 2;
  if (fleet !== null && global.memoryCeilingMb < floor) {
    c.error(
      ["global", "memory_ceiling_mb"],
      "value",
      `must be at least ${floor} with [fleet] (its client adds about ${FLEET_RUNTIME_MB} MiB to the runtime's ${RUNTIME_PEAK_MB}), found ${global.memoryCeilingMb}`,
    );
  }
  if (fleet?.accept) jails.push(fleetJail(set, fleet));
  const actions = readActions(c, doc["actions"]);
  // Against every declared name: an action with its own errors is not reported twice.
  checkJailActions(c, jails, isTable(doc["actions"]) ? Object.keys(doc["actions"]) : []);
  return { config: { path, global, jails, filters, fleet, actions }, issues: c.issues };
}

// ---- [fleet] ----

/** `[fleet]`, or null when it is not a table (reported). `jails` are those of `[jails.*]`. */
function readFleet(c: Checker, v: unknown, jails: readonly JailConfig[]): FleetConfig | null {
  const segs = ["fleet"];
  const t = readTable(c, segs, v);
  if (t === undefined) return null;
  checkKeys(c, segs, t, FLEET_KEYS);
  const at = (k: string) => [...segs, k];
  const str = (k: string) => k in t ? readString(c, at(k), t[k]) ?? "" : "";
  const path = (k: string) => k in t ? readPath(c, at(k), t[k]) ?? "" : "";
  let urls: FleetConfig["urls"] = [];
  if ("url" in t) {
    const list = readStrings(c, at("url"), t["url"], {
      max: MAX_FLEET_URLS,
      single: true,
      item: (where, s) => fleetUrl(c, where, s) === undefined ? undefined : s,
    });
    urls = (list ?? []).map((s) => fleetUrl(c, [], s)!);
  } else c.error(segs, "key", 'missing required key url (such as "nats://10.0.0.5:4222")');
  let name: string | null = null;
  if ("name" in t) {
    const n = readString(c, at("name"), t["name"]);
    if (n !== undefined && !FLEET_NAME_PATTERN.test(n)) {
      c.error(
        at("name"),
        "value",
        `expected 1 to 64 letters, digits, "-" or "_", found ${quote(n)}`,
      );
    } else if (n !== undefined) name = n;
  }
  const user = str("user");
  const password = str("password");
  if (("user" in t) !== ("password" in t)) {
    c.error(
      "user" in t ? at("user") : at("password"),
      "key",
      "user and password go together; set both",
    );
  }
  const token = str("token");
  const creds = path("creds");
  const ways = [("user" in t) || ("password" in t), "token" in t, "creds" in t].filter(Boolean);
  if (ways.length > 1) {
    c.error(segs, "key", "set one of user/password, token or creds, not several");
  }
  const tlsCert = path("tls_cert");
  const tlsKey = path("tls_key");
  if (("tls_cert" in t) !== ("tls_key" in t)) {
    c.error(
      "tls_cert" in t ? at("tls_cert") : at("tls_key"),
      "key",
      "tls_cert and tls_key go together; set both",
    );
  }
  let share: string[] | null = null;
  if ("share" in t) {
    const names = jails.map((j) => j.name);
    share = readStrings(c, at("share"), t["share"], {
      max: MAX_JAILS + 1,
      allowEmpty: true,
      item: (where, s) => {
        if (s === FLEET_MANUAL || names.includes(s)) return s;
        const guess = closest(s, [...names, FLEET_MANUAL]);
        const hint = guess === undefined ? "" : `; did you mean "${guess}"?`;
        c.error(
          where,
          "value",
          `no jail named ${quote(s)} (or "${FLEET_MANUAL}" for client bans)${hint}`,
        );
        return undefined;
      },
    }) ?? [];
  }
  const accept = "accept" in t ? readBool(c, at("accept"), t["accept"]) ?? true : true;
  let stream = "FAIL2ZIG_BANS";
  if ("stream" in t) {
    const s = readString(c, at("stream"), t["stream"]);
    if (s !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(s)) {
      c.error(
        at("stream"),
        "value",
        `expected 1 to 64 letters, digits, "-" or "_", found ${quote(s)}`,
      );
    } else if (s !== undefined) stream = s;
  }
  const maxRate = "max_rate" in t
    ? readInt(c, at("max_rate"), t["max_rate"], { min: 1, max: MAX_FLEET_RATE }) ?? 100
    : 100;
  const ipv6Prefix = "ipv6_prefix" in t
    ? readInt(c, at("ipv6_prefix"), t["ipv6_prefix"], { min: 16, max: 128 }) ?? 64
    : 64;
  return {
    urls,
    name,
    user,
    password,
    token,
    creds,
    tlsCa: path("tls_ca"),
    tlsCert,
    tlsKey,
    share,
    accept,
    stream,
    maxRate,
    ipv6Prefix,
    maxAgeMs: fleetMaxAge(jails),
  };
}

/** One `url` entry: `nats://` or `tls://`, a host (name, IPv4, or IPv6 in brackets), a port. */
function fleetUrl(
  c: Checker,
  segs: readonly Segment[],
  s: string,
): FleetConfig["urls"][number] | undefined {
  const m = /^(nats|tls):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(?::([0-9]{1,5}))?$/.exec(s);
  const port = m?.[3] === undefined ? 4222 : Number(m[3]);
  if (m === null || port < 1 || port > 65535) {
    c.error(segs, "value", `expected nats://HOST:PORT or tls://HOST:PORT, found ${quote(s)}`);
    return undefined;
  }
  const host = m[2]!.startsWith("[") ? m[2]!.slice(1, -1) : m[2]!;
  if (m[2]!.startsWith("[") && canonicalIp(host) === null) {
    c.error(segs, "value", `expected an IPv6 address in brackets, found ${quote(m[2]!)}`);
    return undefined;
  }
  return { scheme: m[1] as "nats" | "tls", host, port };
}

/**
 * The stream's `max_age`: the longest finite ban time a jail can give (its `bantime`, or its
 * `bantime_increment.max` when increment is on), 1 week when no jail has a finite one. Longer and
 * permanent bans are re-published before it runs out.
 */
function fleetMaxAge(jails: readonly JailConfig[]): number {
  let max = 0;
  for (const j of jails) {
    if (j.bantimeMs === null) continue;
    max = Math.max(max, j.bantimeIncrement.enabled ? j.bantimeIncrement.maxMs : j.bantimeMs);
  }
  return max === 0 ? W : max;
}

/** The reserved jail `fleet`: bans received, policy of `[defaults]` (ignoreip, ignoreself on). */
function fleetJail(defaults: SharedSet, fleet: FleetConfig): JailConfig {
  return {
    name: FLEET_JAIL,
    enabled: true,
    filter: "",
    mode: "",
    source: "fleet",
    logpath: [],
    readFrom: "end",
    journalMatch: [],
    bantimeMs: defaults.bantimeMs !== undefined ? defaults.bantimeMs : JAIL_DEFAULTS.bantimeMs,
    findtimeMs: defaults.findtimeMs ?? JAIL_DEFAULTS.findtimeMs,
    maxretry: 1,
    ignoreip: defaults.ignoreip ?? JAIL_DEFAULTS.ignoreip,
    ipv6Prefix: fleet.ipv6Prefix,
    ignoreself: true,
    missingLogpath: "error",
    bantimeIncrement: INCREMENT_DEFAULTS,
    scope: null, // a fleet ban drops all the address's traffic
    actions: [],
  };
}

// ---- [actions.NAME] ----

function readActions(c: Checker, v: unknown): ActionConfig[] {
  if (v === undefined) return [];
  const t = readTable(c, ["actions"], v);
  if (t === undefined) return [];
  const names = inFileOrder(c, ["actions"], t);
  if (names.length > MAX_ACTIONS) {
    c.error(
      ["actions"],
      "key",
      `${names.length} actions defined; at most ${MAX_ACTIONS} are allowed`,
    );
  }
  const out: ActionConfig[] = [];
  for (const name of names) {
    const segs = ["actions", name];
    const at = readTable(c, segs, t[name]);
    if (at === undefined || !checkName(c, segs, name, "action")) continue;
    const before = c.issues.length;
    checkKeys(c, segs, at, ACTION_KEYS);
    const a = readAction(c, segs, name, at);
    if (a !== undefined && c.issues.length === before) out.push(a);
  }
  return out;
}

function readAction(c: Checker, segs: readonly Segment[], name: string, t: Table) {
  const at = (k: string) => [...segs, k];
  if (!("type" in t)) {
    c.error(segs, "key", 'missing required key type ("exec" or "smtp")');
    return undefined;
  }
  const type = readEnum(c, at("type"), t["type"], ACTION_TYPES);
  const timeoutMs = "timeout" in t
    ? readDuration(c, at("timeout"), t["timeout"], { min: 100, max: 10 * M, subSecond: true })
    : 10 * S;
  const queue = "queue" in t
    ? readInt(c, at("queue"), t["queue"], { min: 1, max: MAX_ACTION_QUEUE })
    : 1000;
  const notFor = (...keys: string[]) => {
    for (const k of keys) {
      if (k in t) c.error(at(k), "key", `not used with type = "${type}"; remove it`);
    }
  };
  if (type === undefined || typeof timeoutMs !== "number" || queue === undefined) return undefined;
  const base = { name, timeoutMs, queue };
  if (type === "exec") {
    notFor("server", "from", "to");
    const onBan = "on_ban" in t ? readArgv(c, at("on_ban"), t["on_ban"]) : [];
    const onUnban = "on_unban" in t ? readArgv(c, at("on_unban"), t["on_unban"]) : [];
    if (!("on_ban" in t) && !("on_unban" in t)) {
      c.error(segs, "key", "missing required key on_ban or on_unban (an argv array)");
    } else if (onBan?.length === 0 && onUnban?.length === 0) {
      c.error(segs, "value", "on_ban and on_unban are both empty: the action would run nothing");
    }
    if (onBan === undefined || onUnban === undefined) return undefined;
    return { ...base, type, onBan, onUnban } as const;
  }
  notFor("on_ban", "on_unban");
  const server = readBind(c, at("server"), t["server"] ?? "127.0.0.1:25");
  if (server === null) c.error(at("server"), "value", "expected an SMTP server as host:port");
  const from = "from" in t ? readMailbox(c, at("from"), t["from"]) : undefined;
  if (!("from" in t)) c.error(segs, "key", "missing required key from (the sender address)");
  const to = "to" in t
    ? readStrings(c, at("to"), t["to"], {
      max: 16,
      single: true,
      item: (where, s) => readMailbox(c, where, s),
    })
    : undefined;
  if (!("to" in t)) c.error(segs, "key", "missing required key to (the recipient addresses)");
  if (server == null || from === undefined || to === undefined) return undefined;
  return { ...base, type, server, from, to } as const;
}

/** An argv: `[0]` an absolute path, every placeholder a whole argument. */
function readArgv(c: Checker, segs: readonly Segment[], v: unknown): string[] | undefined {
  const argv = readStrings(c, segs, v, {
    max: MAX_ACTION_ARGS,
    allowEmpty: true, // (no command: what leaving the key out gives)
    item: (where, s) => {
      if (s.includes("\0")) {
        c.error(where, "value", "an argument must not contain a NUL character");
        return undefined;
      }
      if (s.includes("{") && !ACTION_PLACEHOLDERS.includes(s)) {
        c.error(
          where,
          "value",
          `a placeholder must be a whole argument, one of ${ACTION_PLACEHOLDERS.join(", ")};` +
            ` found ${quote(s)} (no shell runs: join text in the program instead)`,
        );
        return undefined;
      }
      return s;
    },
  });
  if (argv === undefined || argv.length === 0) return argv;
  if (!argv[0]!.startsWith("/") || ACTION_PLACEHOLDERS.includes(argv[0]!)) {
    c.error(
      [...segs, 0],
      "value",
      `expected the program as an absolute path, found ${quote(argv[0]!)}`,
    );
    return undefined;
  }
  return argv;
}

/** A plain address `local@domain`: no display name, spaces, angle brackets or line breaks. */
function readMailbox(c: Checker, segs: readonly Segment[], v: unknown): string | undefined {
  const s = readString(c, segs, v);
  if (s === undefined) return undefined;
  if (!/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}$/.test(s)) {
    c.error(segs, "value", `expected a mail address such as "root@localhost", found ${quote(s)}`);
    return undefined;
  }
  return s;
}

/** Every name in a jail's `actions` is an `[actions.NAME]`. */
function checkJailActions(
  c: Checker,
  jails: readonly JailConfig[],
  known: readonly string[],
) {
  for (const j of jails) {
    j.actions.forEach((name, i) => {
      if (known.includes(name)) return;
      const guess = closest(name, known);
      c.error(
        ["jails", j.name, "actions", i],
        "value",
        `unknown action ${quote(name)}${guess === undefined ? "" : `; did you mean "${guess}"?`}` +
          ` (define [actions.${name}])`,
      );
    });
  }
}
