/**
 * The control protocol: request validation, reply shapes, error codes, and the `Controller`
 * interface the daemon implements. Pure: no Deno API. Shapes are frozen in docs/interfaces.md.
 * @module
 */

/** Protocol version carried in every request as `v`. */
export const PROTOCOL_VERSION = 1;
/** Longest jail name or address text accepted in a request. */
export const MAX_NAME_CHARS = 256;
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
  override name = "ControlError";
  /** The reply's error code. */
  readonly code: ErrorCode;
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
  | { v: 1; cmd: "list"; jail?: string }
  /** `duration_s` absent: the jail's bantime; `null`: permanent; else whole seconds ≥ 1. */
  | { v: 1; cmd: "ban"; ip: string; jail: string; duration_s?: number | null }
  | { v: 1; cmd: "unban"; ip: string; jail?: string }
  | { v: 1; cmd: "unban_all" }
  | { v: 1; cmd: "reload" }
  | { v: 1; cmd: "version" }
  | { v: 1; cmd: "ping" };

/** Command names. */
export type Command = Request["cmd"];

/** `status` reply. */
export interface StatusReply {
  version: string;
  uptime_s: number;
  backend: string;
  degraded: boolean;
  memory_bytes: number;
  tracked: number;
  active_bans: number;
  jails: string[];
}

/** `status_jail` reply. */
export interface JailStatusReply {
  jail: string;
  filter: string;
  sources: string[];
  lines_total: number;
  failures_total: number;
  currently_failed: number;
  bans_total: number;
  active_bans: number;
}

/** One row of the `jails` reply. */
export interface JailInfo {
  name: string;
  enabled: boolean;
  filter: string;
  maxretry: number;
  findtime_s: number;
  /** null when permanent */
  bantime_s: number | null;
  active_bans: number;
}

/** `jails` reply. */
export interface JailsReply {
  jails: JailInfo[];
}

/** One active ban in the `list` reply. */
export interface BanInfo {
  ip: string;
  jail: string;
  /** ISO-8601 UTC */
  banned_at: string;
  /** ISO-8601 UTC; null for a permanent ban */
  expires_at: string | null;
  /** null for a permanent ban */
  remaining_s: number | null;
  ban_count: number;
  prefix: number;
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
  ip: string;
  jail: string;
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
}

/** `reload` reply. */
export interface ReloadReply {
  reloaded: true;
  jails: string[];
}

/** `version` reply. */
export interface VersionReply {
  version: string;
}

/** `ping` reply. */
export interface PingReply {
  pong: true;
}

/**
 * What the daemon implements for the control socket. Each method returns the reply object of
 * docs/interfaces.md (without `ok`) or throws `ControlError` (`not_found` for an unknown jail or
 * ban, `bad_request` for a bad address, `invalid_config` for a reload that failed validation, in
 * which case nothing changed). `version` and `ping` are answered by the server itself.
 */
export interface Controller {
  status(): Promise<StatusReply>;
  statusJail(jail: string): Promise<JailStatusReply>;
  jails(): Promise<JailsReply>;
  list(jail?: string): Promise<ListReply>;
  /** `durationS` undefined: the jail's bantime; null: permanent. */
  ban(ip: string, jail: string, durationS?: number | null): Promise<BanReply>;
  unban(ip: string, jail?: string): Promise<UnbanReply>;
  unbanAll(): Promise<UnbanReply>;
  reload(): Promise<ReloadReply>;
}

/** An error reply body. */
export interface ErrorReply {
  ok: false;
  code: ErrorCode;
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
  list: { required: [], optional: ["jail"] },
  ban: { required: ["ip", "jail"], optional: ["duration_s"] },
  unban: { required: ["ip"], optional: ["jail"] },
  unban_all: { required: [], optional: [] },
  reload: { required: [], optional: [] },
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
  for (const key of ["jail", "ip"]) {
    if (!(key in obj)) continue;
    const v = obj[key];
    if (typeof v !== "string" || v.length === 0 || v.length > MAX_NAME_CHARS) {
      return errorReply(
        "bad_request",
        `expected "${key}" to be a string of 1..${MAX_NAME_CHARS} characters, found ${describe(v)}`,
      );
    }
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
  return { ok: true, request: obj as unknown as Request };
}
