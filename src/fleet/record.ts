/**
 * The fleet's ban record: what one host publishes for each ban and unban, and the strict decoder
 * every receiving host runs on it (the bytes come from the network, possibly from a compromised
 * host). Pure code, no `Deno.*`, no third-party code.
 *
 * Wire form: JSON, at most {@link MAX_RECORD_BYTES} bytes, exactly these keys:
 *
 *     {"v":1,"op":"ban","ip":"203.0.113.7","prefix":32,"jail":"sshd","origin":"web1",
 *      "at":1733340000000,"exp":1733343600000,"reason":"5 failures"}
 *
 * on subject `fail2zig.ban.<origin>.<jail>.<address token>` ({@link subjectOf}); the stream keeps
 * one message per subject, so an unban supersedes its ban.
 * @module
 */
import { canonicalIp, networkOf, parseIp } from "../net/mod.ts";

/** The record version this code writes and the only one it accepts. */
export const RECORD_VERSION = 1;
/** Largest record on the wire, bytes; a larger one is dropped (`oversize`). */
export const MAX_RECORD_BYTES = 512;
/** Longest `reason`, characters; the encoder shortens a longer one. */
export const MAX_REASON_CHARS = 128;
/** How far in the future a record's `at` may be (clock skew), ms; further is dropped (`future`). */
export const MAX_FUTURE_MS = 60_000;
/** The subject root; a host publishes under `fail2zig.ban.<its name>.>`. */
export const SUBJECT_ROOT = "fail2zig.ban";

/** Origin host names: 1 to 64 letters, digits, `-`, `_` (`[fleet] name`). */
const ORIGIN = /^[A-Za-z0-9_-]{1,64}$/;
/** Jail names as the config allows them (the reserved `fleet` is refused: it is never shared). */
const JAIL = /^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$/;
const KEYS = ["v", "op", "ip", "prefix", "jail", "origin", "at", "exp", "reason"];
/** Control characters (C0, DEL, C1): never in a reason, which ends up in logs. */
const CONTROL = /\p{Cc}/u;
const CONTROL_ALL = /\p{Cc}/gu;
/** Latest timestamp accepted (year 2286), ms: keeps arithmetic on `at`/`exp` exact. */
const MAX_TIME_MS = 1e13;

/** One ban or unban as the fleet carries it. */
export interface FleetRecord {
  /** `ban` or `unban`. */
  readonly op: "ban" | "unban";
  /** Canonical address, or the network address of `prefix`. */
  readonly ip: string;
  /** 32 for IPv4; 16..128 for IPv6. */
  readonly prefix: number;
  /** The origin's jail, or `manual` for a client ban. */
  readonly jail: string;
  /** The publishing host (`[fleet] name`). */
  readonly origin: string;
  /** When the origin banned or unbanned, ms since the epoch. */
  readonly at: number;
  /** When the ban ends, ms since the epoch; `null`: permanent (and always for an unban). */
  readonly exp: number | null;
  /** Why, as the origin's audit log says it. */
  readonly reason: string;
}

/** Why a received record was dropped (the `fail2zig_fleet_dropped_total` label). */
export type DropReason = "oversize" | "malformed" | "version" | "future" | "forged";

/** What {@link decodeRecord} found. */
export type Decoded =
  | { readonly ok: true; readonly record: FleetRecord }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

/** The subject token of an address: `.` → `_`, `:` → `-`, and `~PREFIX` for a network. */
export function addressToken(ip: string, prefix: number): string {
  const v6 = ip.includes(":");
  const text = v6 ? ip.replaceAll(":", "-") : ip.replaceAll(".", "_");
  return prefix < (v6 ? 128 : 32) ? `${text}~${prefix}` : text;
}

/** `fail2zig.ban.<origin>.<jail>.<address token>`: where `record` is published. */
export function subjectOf(record: Pick<FleetRecord, "origin" | "jail" | "ip" | "prefix">): string {
  return `${SUBJECT_ROOT}.${record.origin}.${record.jail}.${
    addressToken(record.ip, record.prefix)
  }`;
}

/**
 * The wire bytes of `record` (keys in the documented order). A reason too long for
 * {@link MAX_REASON_CHARS} or for the byte cap is shortened; throws `RangeError` when the record
 * itself is invalid (a programming error: the encoder's input comes from the engine).
 */
export function encodeRecord(record: FleetRecord): Uint8Array {
  let reason = [...record.reason.replace(CONTROL_ALL, " ")];
  while (reason.join("").length > MAX_REASON_CHARS) reason.pop();
  const problem = recordProblem({ ...record, reason: reason.join("") });
  if (problem !== null) throw new RangeError(`invalid fleet record: ${problem}`);
  for (;;) {
    const bytes = new TextEncoder().encode(JSON.stringify({
      v: RECORD_VERSION,
      op: record.op,
      ip: record.ip,
      prefix: record.prefix,
      jail: record.jail,
      origin: record.origin,
      at: record.at,
      exp: record.exp,
      reason: reason.join(""),
    }));
    if (bytes.length <= MAX_RECORD_BYTES) return bytes;
    reason = reason.slice(0, -8);
  }
}

/**
 * Decodes and validates a received record: size first (before any parsing), then JSON, version,
 * the exact key set and every field's type and range, `at` at most {@link MAX_FUTURE_MS} ahead of
 * `now`, and the subject, which must be the record's own (`forged` otherwise: the server lets a
 * host publish only under its own name, so a record naming another origin is a forgery). Never
 * throws.
 */
export function decodeRecord(subject: string, data: Uint8Array, now: number): Decoded {
  if (data.length > MAX_RECORD_BYTES) {
    return drop("oversize", `${data.length} bytes, at most ${MAX_RECORD_BYTES}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch {
    return drop("malformed", "not UTF-8 JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return drop("malformed", "not a JSON object");
  }
  const o = value as Record<string, unknown>;
  if (o["v"] !== RECORD_VERSION) {
    return "v" in o && typeof o["v"] === "number"
      ? drop("version", `version ${o["v"]}, this host reads ${RECORD_VERSION}`)
      : drop("malformed", "no version");
  }
  const keys = Object.keys(o);
  if (keys.length !== KEYS.length || !keys.every((k) => KEYS.includes(k))) {
    return drop("malformed", `keys ${keys.join(",").slice(0, 80)}`);
  }
  const record = o as unknown as FleetRecord;
  const problem = recordProblem(record);
  if (problem !== null) return drop("malformed", problem);
  if (record.at > now + MAX_FUTURE_MS) {
    return drop("future", `dated ${record.at - now} ms ahead`);
  }
  if (subject !== subjectOf(record)) return drop("forged", `on subject ${subject.slice(0, 160)}`);
  const { op, ip, prefix, jail, origin, at, exp, reason } = record;
  return { ok: true, record: { op, ip, prefix, jail, origin, at, exp, reason } };
}

function drop(reason: DropReason, detail: string): Decoded {
  return { ok: false, reason, detail };
}

function isTime(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0 && v < MAX_TIME_MS;
}

/** What is wrong with the fields of `r`, or null. */
function recordProblem(r: FleetRecord): string | null {
  if (r.op !== "ban" && r.op !== "unban") return "op is not ban or unban";
  if (typeof r.ip !== "string" || typeof r.prefix !== "number") return "bad ip or prefix";
  const parsed = parseIp(r.ip);
  if (parsed === null || canonicalIp(r.ip) !== r.ip) {
    return "ip is not a canonical address";
  }
  const width = parsed.family === 4 ? 32 : 128;
  if (
    !Number.isInteger(r.prefix) || r.prefix < (parsed.family === 4 ? 32 : 16) || r.prefix > width
  ) {
    return "prefix out of range";
  }
  if (networkOf(r.ip, r.prefix) !== r.ip) return "ip has bits set past its prefix";
  if (typeof r.jail !== "string" || !JAIL.test(r.jail) || r.jail === "fleet") return "bad jail";
  if (typeof r.origin !== "string" || !ORIGIN.test(r.origin)) return "bad origin";
  if (!isTime(r.at)) return "bad at";
  if (r.op === "unban" && r.exp !== null) return "an unban has exp null";
  if (r.exp !== null && (!isTime(r.exp) || r.exp <= r.at)) return "bad exp";
  if (
    typeof r.reason !== "string" || r.reason.length > MAX_REASON_CHARS ||
    CONTROL.test(r.reason)
  ) return "bad reason";
  return null;
}
