/**
 * The control protocol: request validation, reply shapes, error codes, and the `Controller`
 * interface the daemon implements. Pure: no Deno API. Shapes are frozen in docs/interfaces.md.
 * @module
 */

/** Protocol version carried in every request as `v`. */
export const PROTOCOL_VERSION = 1;
/** Longest jail name or address text accepted in a request. */
export const MAX_NAME_CHARS = 256;
/** Most addresses in one `banned` or `unban` request (`ips`). */
export const MAX_REQUEST_IPS = 1000;
/** Most audit records one `history` reply carries (the newest), and the largest `limit`. */
export const MAX_HISTORY_RECORDS = 1000;
/** Longest `duration_s` accepted in a `ban` request: 100 years. */
export const MAX_DURATION_S = 100 * 366 * 86_400;

/** Error codes of `{"ok":false,"code":K}` replies. */
export type ErrorCode =
  | "bad_request"
  | "unsupported_version"
  | "unauthorized"
  | "not_found"
  | "rate_limited"
  | "too_large"
  | "invalid_config"
  | "internal";

/** Every error code, for validation by clients. */
export const ERROR_CODES: readonly ErrorCode[] = [
  "bad_request",
  "unsupported_version",
  "unauthorized",
  "not_found",
  "rate_limited",
  "too_large",
  "invalid_config",
  "internal",
];

/**
 * Thrown by a `Controller` method to refuse a request; the server answers
 * `{"ok":false,"code":code,"error":message}`. Anything else thrown becomes `internal`.
 */
export class ControlError extends Error {
  /** Always `"ControlError"`. */
  override name = "ControlError";
  /** The reply's error code. */
  readonly code: ErrorCode;
  /** A refusal with reply code `code` and `message` as the reply's `error`. */
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A validated request. */
export type Request =
  | { v: 1; cmd: "status" }
  | { v: 1; cmd: "status_jail"; jail: string }
  | { v: 1; cmd: "jails" }
  /** `ip`: only bans covering this address. */
  | { v: 1; cmd: "list"; jail?: string; ip?: string }
  | { v: 1; cmd: "banned"; ips: string[] }
  /** `duration_s` absent: the jail's bantime; `null`: permanent; else whole seconds ≥ 1. */
  | { v: 1; cmd: "ban"; ip: string; jail: string; duration_s?: number | null }
  /** Exactly one of `ip` and `ips`. */
  | { v: 1; cmd: "unban"; ip?: string; ips?: string[]; jail?: string }
  | { v: 1; cmd: "unban_all" }
  | { v: 1; cmd: "ignore_add"; cidr: string; jail?: string }
  | { v: 1; cmd: "ignore_del"; cidr: string; jail?: string }
  | { v: 1; cmd: "ignore_list"; jail?: string }
  | { v: 1; cmd: "jail_stop"; jail: string }
  | { v: 1; cmd: "jail_start"; jail: string }
  | { v: 1; cmd: "reload" }
  /** `limit`: at most this many records (the newest), 1..`MAX_HISTORY_RECORDS`. */
  | { v: 1; cmd: "history"; ip: string; limit?: number }
  | { v: 1; cmd: "version" }
  | { v: 1; cmd: "ping" };

/** Command names. */
export type Command = Request["cmd"];

/** `status` reply. */
export interface StatusReply {
  /** The daemon's version. */
  version: string;
  /** Seconds since the daemon started. */
  uptime_s: number;
  /** The firewall backend in use (`nftables`, `iptables`, `ipset`, `log-only`). */
  backend: string;
  /** True when nothing enforces bans (log-only). */
  degraded: boolean;
  /** Resident memory of the daemon in bytes. */
  memory_bytes: number;
  /** Addresses the tracker holds. */
  tracked: number;
  /** Bans in force, all jails. */
  active_bans: number;
  /** Names of the enabled jails. */
  jails: string[];
  /** The fleet link; present only with `[fleet]` (docs/fleet.md). */
  fleet?: FleetStatus;
}

/** The `status` reply's fleet link. */
export interface FleetStatus {
  /** This host's name in the fleet. */
  name: string;
  /** `connecting`, `connected`, `disconnected` or `closed`. */
  state: string;
  /** The server connected to (or last tried), `host:port`. */
  server: string;
  /** Records waiting to be published. */
  outbox: number;
  /** Records dropped from a full outbox (the oldest first). */
  outbox_dropped: number;
  /** Records published (acknowledged by the stream). */
  published: number;
  /** Messages read from the stream (replayed and new, this host's own included). */
  received: number;
  /** Received bans applied. */
  applied: number;
  /** Received records dropped: malformed, oversize, forged, future-dated, unknown version, over the origin's rate. */
  dropped: number;
}

/** `status_jail` reply. */
export interface JailStatusReply {
  /** The jail's name. */
  jail: string;
  /** Its filter. */
  filter: string;
  /** Its log paths, or journal matches. */
  sources: string[];
  /** Lines read for this jail since start. */
  lines_total: number;
  /** Lines whose address two readings of the filter disagreed on (counted for nobody). */
  ambiguous_total: number;
  /** Failures counted since start. */
  failures_total: number;
  /** Addresses with failures kept and not banned. */
  currently_failed: number;
  /** Bans since start. */
  bans_total: number;
  /** Bans of this jail in force now. */
  active_bans: number;
  /** True after `jail_stop`, until `jail_start` or a reload. */
  stopped: boolean;
  /** What its bans drop: `all`, or protocols and ports (`tcp 22,2222,1000:2000`). */
  ports: string;
}

/** One row of the `jails` reply. */
export interface JailInfo {
  /** The jail's name. */
  name: string;
  /** Whether it is enabled in the config. */
  enabled: boolean;
  /** Its filter. */
  filter: string;
  /** Failures within `findtime_s` that ban. */
  maxretry: number;
  /** The window for `maxretry`, seconds. */
  findtime_s: number;
  /** null when permanent */
  bantime_s: number | null;
  /** Bans of this jail in force now. */
  active_bans: number;
  /** True after `jail_stop`, until `jail_start` or a reload. */
  stopped: boolean;
}

/** `jails` reply. */
export interface JailsReply {
  /** Every jail of the config, in file order. */
  jails: JailInfo[];
}

/** One active ban in the `list` reply. */
export interface BanInfo {
  /** The banned address or network (canonical text). */
  ip: string;
  /** The jail that banned it. */
  jail: string;
  /** ISO-8601 UTC */
  banned_at: string;
  /** ISO-8601 UTC; null for a permanent ban */
  expires_at: string | null;
  /** null for a permanent ban */
  remaining_s: number | null;
  /** Bans of this address in this jail, this one included. */
  ban_count: number;
  /** Prefix length the ban covers. */
  prefix: number;
  /** For the jail `fleet`: the host(s) the ban came from. */
  origin?: string;
}

/** `list` reply (sorted by `banned_at`). */
export interface ListReply {
  /** The newest bans, oldest first (at most `MAX_LIST_BANS` of the engine). */
  bans: BanInfo[];
  /** Present when more bans are active than `bans` carries. */
  truncated?: true;
  /** Active bans in all (or in the jail asked for), when `truncated`. */
  total?: number;
}

/** `ban` reply. */
export interface BanReply {
  /** The banned address or network (canonical text). */
  ip: string;
  /** The jail it was banned in. */
  jail: string;
  /** Length of the ban in seconds; null for permanent. */
  duration_s: number | null;
}

/** `unban` and `unban_all` reply. */
export interface UnbanReply {
  /** What was lifted (for `unban_all`, at most `MAX_LIST_BANS` of the engine). */
  unbanned: { ip: string; jail: string }[];
  /** Present when more bans were lifted than `unbanned` lists. */
  truncated?: true;
  /** Bans lifted in all, when `truncated`. */
  total?: number;
  /** `unban` with `ips`: the addresses of the request that no jail banned. */
  not_banned?: string[];
}

/** `banned` reply: for each address asked about (canonical text), the jails that ban it. */
export interface BannedReply {
  /** One row per address asked about, with the jails banning it (empty when none). */
  banned: { ip: string; jails: string[] }[];
}

/** A runtime ignore entry; `jail` null: every jail. */
export interface IgnoreEntry {
  /** Canonical address or CIDR text. */
  cidr: string;
  /** The jail it applies to; null for every jail. */
  jail: string | null;
}

/** `ignore_add` reply: the entry (canonical) and the bans it lifted. */
export interface IgnoreAddReply extends UnbanReply {
  /** The entry added (canonical). */
  ignore: IgnoreEntry;
}

/** `ignore_del` reply. */
export interface IgnoreDelReply {
  /** The entry removed. */
  ignore: IgnoreEntry;
}

/** `ignore_list` reply: runtime entries, and with `jail` also that jail's `ignoreip`. */
export interface IgnoreListReply {
  /** The entries, each marked `runtime` (`ignore_add`) or `config` (`ignoreip`). */
  ignore: (IgnoreEntry & { source: "runtime" | "config" })[];
}

/** `jail_stop` and `jail_start` reply (`unbanned` only for `jail_stop`). */
export interface JailRunReply extends Partial<UnbanReply> {
  /** The jail. */
  jail: string;
  /** True after `jail_stop`, false after `jail_start`. */
  stopped: boolean;
}

/** One audit record of the `history` reply, as stored (without `prev`/`hash`). */
export interface HistoryRecord {
  /** Position of the record in the audit chain. */
  seq: number;
  /** ISO-8601 UTC */
  ts: string;
  /** "ban" or "unban" */
  event: string;
  /** The address, or `ADDR/LEN` for a prefix ban covering the address asked about. */
  ip?: string;
  /** The jail that banned or unbanned. */
  jail?: string;
  /** ban records: seconds, null when permanent */
  duration_s?: number | null;
  /** Why (`maxretry reached`, `client`, `expired`, …). */
  reason?: string;
  /** The triggering line (`path:offset` or a journal cursor), or who asked. */
  origin?: string;
}

/** `history` reply: the audit records of an address, oldest first. */
export interface HistoryReply {
  /** The address asked about (canonical). */
  ip: string;
  /** The newest records (at most the request's `limit`), oldest first. */
  records: HistoryRecord[];
  /** Present when the audit log holds more records of the address than `records`. */
  truncated?: true;
  /** Records of the address in all, when `truncated`. */
  total?: number;
}

/** `reload` reply. */
export interface ReloadReply {
  /** Always true: a failed reload answers `invalid_config` instead. */
  reloaded: true;
  /** Names of the enabled jails after the reload. */
  jails: string[];
}

/** `version` reply. */
export interface VersionReply {
  /** The daemon's version. */
  version: string;
}

/** `ping` reply. */
export interface PingReply {
  /** Always true. */
  pong: true;
}

/**
 * What the daemon implements for the control socket. Each method returns the reply object of
 * docs/interfaces.md (without `ok`) or throws `ControlError` (`not_found` for an unknown jail or
 * ban, `bad_request` for a bad address, `invalid_config` for a reload that failed validation, in
 * which case nothing changed). `version` and `ping` are answered by the server itself.
 */
export interface Controller {
  /** Answers `status`. */
  status(): Promise<StatusReply>;
  /** Answers `status_jail`; `not_found` for an unknown jail. */
  statusJail(jail: string): Promise<JailStatusReply>;
  /** Answers `jails`. */
  jails(): Promise<JailsReply>;
  /** `ip`: only the bans covering this address. */
  list(jail?: string, ip?: string): Promise<ListReply>;
  /** Answers `banned`. */
  banned(ips: readonly string[]): Promise<BannedReply>;
  /** `durationS` undefined: the jail's bantime; null: permanent. */
  ban(ip: string, jail: string, durationS?: number | null): Promise<BanReply>;
  /** One address (`not_found` when nothing was lifted) or several (`not_banned` lists misses). */
  unban(ip: string | readonly string[], jail?: string): Promise<UnbanReply>;
  /** Answers `unban_all`. */
  unbanAll(): Promise<UnbanReply>;
  /** Answers `ignore_add`: adds the entry and lifts the bans it covers. */
  ignoreAdd(cidr: string, jail?: string): Promise<IgnoreAddReply>;
  /** Answers `ignore_del`; `not_found` when there is no such entry. */
  ignoreDel(cidr: string, jail?: string): Promise<IgnoreDelReply>;
  /** Answers `ignore_list`. */
  ignoreList(jail?: string): Promise<IgnoreListReply>;
  /** Answers `jail_stop`: the jail stops counting and its bans are lifted. */
  jailStop(jail: string): Promise<JailRunReply>;
  /** Answers `jail_start`. */
  jailStart(jail: string): Promise<JailRunReply>;
  /** Answers `reload`; `invalid_config` (nothing changed) when the new config does not validate. */
  reload(): Promise<ReloadReply>;
  /** The audit records of `ip` (`not_found` when the audit log is disabled). */
  history(ip: string, limit?: number): Promise<HistoryReply>;
}

/** An error reply body. */
export interface ErrorReply {
  /** Always false. */
  ok: false;
  /** What went wrong, as one of the codes of docs/interfaces.md. */
  code: ErrorCode;
  /** A message for the operator. */
  error: string;
}

/** Builds an error reply. */
export function errorReply(code: ErrorCode, error: string): ErrorReply {
  return { ok: false, code, error };
}

/** Result of `parseRequest`. */
export type ParsedRequest = { ok: true; request: Request } | ErrorReply;

const FIELDS: Record<Command, { required: string[]; optional: string[] }> = {
  status: { required: [], optional: [] },
  status_jail: { required: ["jail"], optional: [] },
  jails: { required: [], optional: [] },
  list: { required: [], optional: ["jail", "ip"] },
  banned: { required: ["ips"], optional: [] },
  ban: { required: ["ip", "jail"], optional: ["duration_s"] },
  unban: { required: [], optional: ["ip", "ips", "jail"] },
  unban_all: { required: [], optional: [] },
  ignore_add: { required: ["cidr"], optional: ["jail"] },
  ignore_del: { required: ["cidr"], optional: ["jail"] },
  ignore_list: { required: [], optional: ["jail"] },
  jail_stop: { required: ["jail"], optional: [] },
  jail_start: { required: ["jail"], optional: [] },
  reload: { required: [], optional: [] },
  history: { required: ["ip"], optional: ["limit"] },
  version: { required: [], optional: [] },
  ping: { required: [], optional: [] },
};

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `"${value.length > 40 ? value.slice(0, 40) + "…" : value}"`;
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

/**
 * Validates a request body (JSON text, or null when it was not UTF-8). Unknown commands and
 * unknown or mistyped fields are `bad_request`; a `v` other than 1 is `unsupported_version`.
 */
export function parseRequest(text: string | null): ParsedRequest {
  if (text === null) return errorReply("bad_request", "expected UTF-8 JSON, found invalid UTF-8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return errorReply("bad_request", `expected a JSON object, found invalid JSON (${why})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return errorReply("bad_request", `expected a JSON object, found ${describe(value)}`);
  }
  const dup = duplicateKey(text);
  if (dup !== null) {
    return errorReply("bad_request", `expected each field once, found "${dup}" twice`);
  }
  const obj = value as Record<string, unknown>;
  if (!("v" in obj)) return errorReply("bad_request", `expected a "v" field, found none`);
  if (obj.v !== PROTOCOL_VERSION) {
    return errorReply(
      "unsupported_version",
      `expected protocol version ${PROTOCOL_VERSION}, found ${describe(obj.v)}`,
    );
  }
  const cmd = obj.cmd;
  if (typeof cmd !== "string" || !Object.hasOwn(FIELDS, cmd)) {
    return errorReply(
      "bad_request",
      `expected "cmd" to be one of ${Object.keys(FIELDS).join(", ")}, found ${describe(cmd)}`,
    );
  }
  const spec = FIELDS[cmd as Command];
  for (const key of Object.keys(obj)) {
    if (
      key !== "v" && key !== "cmd" && !spec.required.includes(key) && !spec.optional.includes(key)
    ) {
      return errorReply("bad_request", `unexpected field "${key}" for command ${cmd}`);
    }
  }
  for (const key of spec.required) {
    if (!(key in obj)) return errorReply("bad_request", `command ${cmd} needs field "${key}"`);
  }
  const badName = (key: string, v: unknown) =>
    typeof v !== "string" || v.length === 0 || v.length > MAX_NAME_CHARS
      ? errorReply(
        "bad_request",
        `expected "${key}" to be a string of 1..${MAX_NAME_CHARS} characters, found ${describe(v)}`,
      )
      : null;
  for (const key of ["jail", "ip", "cidr"]) {
    const bad = key in obj ? badName(key, obj[key]) : null;
    if (bad !== null) return bad;
  }
  if ("ips" in obj) {
    const ips = obj.ips;
    if (!Array.isArray(ips) || ips.length === 0 || ips.length > MAX_REQUEST_IPS) {
      return errorReply(
        "bad_request",
        `expected "ips" to be an array of 1..${MAX_REQUEST_IPS} addresses, found ${describe(ips)}`,
      );
    }
    for (const [i, ip] of ips.entries()) {
      const bad = badName(`ips[${i}]`, ip);
      if (bad !== null) return bad;
    }
  }
  if (cmd === "unban" && ("ip" in obj) === ("ips" in obj)) {
    return errorReply("bad_request", `command unban needs exactly one of "ip" and "ips"`);
  }
  if ("duration_s" in obj) {
    const d = obj.duration_s;
    if (
      d !== null &&
      (!Number.isSafeInteger(d) || (d as number) < 1 || (d as number) > MAX_DURATION_S)
    ) {
      return errorReply(
        "bad_request",
        `expected "duration_s" to be null (permanent) or whole seconds 1..${MAX_DURATION_S}, found ${
          describe(d)
        }`,
      );
    }
  }
  if ("limit" in obj) {
    const n = obj.limit;
    if (!Number.isSafeInteger(n) || (n as number) < 1 || (n as number) > MAX_HISTORY_RECORDS) {
      return errorReply(
        "bad_request",
        `expected "limit" to be a whole number 1..${MAX_HISTORY_RECORDS}, found ${describe(n)}`,
      );
    }
  }
  return { ok: true, request: obj as unknown as Request };
}

/**
 * The first key that an object of valid JSON `text` holds twice (after unescaping), or null.
 * `JSON.parse` keeps the last, so `{"cmd":"status","cmd":"unban_all"}` would mean something else
 * to every reader that keeps the first; such a request is refused instead.
 */
export function duplicateKey(text: string): string | null {
  const objects: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "{") objects.push(new Set());
    else if (c === "[") objects.push(null);
    else if (c === "}" || c === "]") objects.pop();
    else if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === "\\") i++;
      let j = i + 1;
      while (text[j] === " " || text[j] === "\t" || text[j] === "\n" || text[j] === "\r") j++;
      const keys = objects[objects.length - 1];
      if (text[j] !== ":" || !keys) continue;
      const key = JSON.parse(text.slice(start, i + 1)) as string;
      if (keys.has(key)) return key.length > 40 ? key.slice(0, 40) + "…" : key;
      keys.add(key);
    }
  }
  return null;
}
