/**
 * Messages between the daemon's main thread and its parser Worker. Plain records only: the
 * Worker sends `{ jail, ip, time }` failures (struct of arrays) and never anything it was not
 * asked for; the main thread sends configuration and acknowledgements.
 * @module
 */
import type { UserFilterConfig } from "../config/mod.ts";
import { type SourcePosition, validatePosition } from "../sources/mod.ts";

/** One jail as the Worker needs it. */
export interface WorkerJail {
  /** Index into `config.jails`. */
  readonly index: number;
  readonly filter: string;
  readonly mode: string;
  readonly logpath: readonly string[];
  readonly readFrom: "end" | "start";
}

/** main → Worker: start parsing. */
export interface StartMessage {
  readonly type: "start";
  readonly jails: readonly WorkerJail[];
  readonly userFilters: readonly UserFilterConfig[];
  readonly lineMaxBytes: number;
  readonly saved: readonly SourcePosition[];
}

/**
 * main → Worker: lines read on the main thread (journal records) for the Worker's filters. The
 * reply is a `BatchMessage` carrying the same `id`; `times` are the records' own times, which
 * take precedence over any time in the text.
 */
export interface LinesMessage {
  readonly type: "lines";
  readonly id: number;
  /** Jail indices whose filters see these lines. */
  readonly jails: readonly number[];
  readonly lines: readonly string[];
  readonly times: readonly (number | null)[];
  /** Audit pointer of the batch (the journal cursor). */
  readonly origin: string;
}

/** main → Worker: a batch was applied (back-pressure credit), or stop now. */
export type ControlMessage = { readonly type: "ack" } | { readonly type: "stop" };

/**
 * Worker → main: the failures one source batch produced, and the position after it. Compact on
 * purpose (one string and three typed arrays): posting one string per failure cost 2-4 times as
 * much (2,800 batches of 700 failures: 85-145 ms against 22-42 ms).
 */
export interface BatchMessage {
  /** The message kind. */
  readonly type: "batch";
  /** Set when the batch answers a `LinesMessage` (no back-pressure credit is owed then). */
  readonly id?: number;
  /** Failures in this batch: the first `count` entries of the arrays below are meaningful. */
  readonly count: number;
  /** Jail index per failure. */
  readonly jails: Int32Array;
  /** Canonical address per failure, in order, joined by `IP_SEPARATOR` (no address has one). */
  readonly ips: string;
  /** Failure time (ms since epoch) per failure; NaN when the line had none. */
  readonly times: Float64Array;
  /** Where the batch's lines come from: a file path, or `journal:CURSOR`. */
  readonly origin: string;
  /** Byte offset of the triggering line per failure (file sources; -1 when unknown). */
  readonly offsets: Float64Array;
  /**
   * Lines seen per jail index in this batch, and how many of them the jail's filter found
   * ambiguous (`[jailIndex, count, ambiguous]`).
   */
  readonly lines: [number, number, number][];
  /** Every position of the source after this batch (see `LineBatch.positions`). */
  readonly positions: readonly SourcePosition[];
  /** When the Worker posted the batch (ms since epoch), for the ban latency figure. */
  readonly sentAt: number;
}

/** Separates the addresses in `BatchMessage.ips` (canonical address text never contains it). */
export const IP_SEPARATOR = "\n";

/** Worker → main: the Worker is watching its files (appends from now on are seen). */
export interface ReadyMessage {
  readonly type: "ready";
  readonly readPaths: string[];
}

/** Worker → main: lines dropped over the cap, warnings, fatal errors, final positions. */
export type NoticeMessage =
  | { readonly type: "dropped"; readonly reason: string; readonly count: number }
  | { readonly type: "warning"; readonly message: string }
  | { readonly type: "fatal"; readonly message: string }
  | { readonly type: "stopped"; readonly positions: SourcePosition[] };

/** Everything the Worker sends. */
export type WorkerMessage = BatchMessage | ReadyMessage | NoticeMessage;

/** Batches in flight before the Worker waits for an acknowledgement. */
export const MAX_UNACKED_BATCHES = 4;

/** Most failures one `BatchMessage` may carry (a 64 KiB read of 1-byte lines × every jail fits). */
export const MAX_BATCH_FAILURES = 1 << 22;
/** Most positions one message may carry (one per watched file, and a file source opens fewer). */
export const MAX_MESSAGE_POSITIONS = 65_536;
/** Longest address text in a batch (canonical text is at most 39). */
export const MAX_IP_CHARS = 64;
/** Longest origin, warning, fatal or drop-reason text, and longest read path. */
export const MAX_TEXT_CHARS = 8192;

/**
 * Result of {@link parseWorkerMessage}. A rejected batch says how to settle what it was sent for:
 * `credit` true when the Worker waits for an acknowledgement (no `id`), `id` when it answered a
 * `LinesMessage`.
 */
export type ParsedWorkerMessage =
  | { readonly ok: true; readonly message: WorkerMessage }
  | {
    readonly ok: false;
    readonly reason: string;
    readonly credit: boolean;
    readonly id?: number;
  };

class Rejected extends Error {}

function need(cond: boolean, why: string): asserts cond {
  if (!cond) throw new Rejected(why);
}

function isCount(v: unknown, max: number): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;
}

function isText(v: unknown, max = MAX_TEXT_CHARS): v is string {
  return typeof v === "string" && v.length <= max;
}

function checkPositions(v: unknown, key: string): SourcePosition[] {
  need(Array.isArray(v) && v.length <= MAX_MESSAGE_POSITIONS, `${key}: expected an array`);
  // Array.from, not map: map skips the holes of a sparse array (structured clone keeps them), and
  // a hole passed on reached the daemon as `undefined` (a TypeError in SourceSet.seed).
  return Array.from(v, (p, i) => {
    try {
      return validatePosition(p);
    } catch (e) {
      throw new Rejected(`${key}[${i}]: ${e instanceof Error ? e.message : e}`);
    }
  });
}

function checkBatch(m: Record<string, unknown>, jailCount: number): BatchMessage {
  const { count, jails, ips, times, offsets, lines } = m;
  need(m.id === undefined || isCount(m.id, Number.MAX_SAFE_INTEGER), "id: expected a whole number");
  need(isCount(count, MAX_BATCH_FAILURES), `count: expected 0..${MAX_BATCH_FAILURES}`);
  need(jails instanceof Int32Array && jails.length === count, "jails: expected count indices");
  need(times instanceof Float64Array && times.length === count, "times: expected count times");
  need(offsets instanceof Float64Array && offsets.length === count, "offsets: expected count");
  need(typeof ips === "string" && ips.length <= count * (MAX_IP_CHARS + 1), "ips: too long");
  let from = 0;
  for (let i = 0; i < count; i++) {
    need(jails[i]! >= 0 && jails[i]! < jailCount, `jails[${i}]: no jail ${jails[i]}`);
    const t = times[i]!;
    need(Number.isNaN(t) || Number.isFinite(t), `times[${i}]: expected a time or NaN`);
    const o = offsets[i]!;
    need(o === -1 || isCount(o, Number.MAX_SAFE_INTEGER), `offsets[${i}]: expected -1 or ≥ 0`);
    let to = ips.indexOf(IP_SEPARATOR, from);
    need((to < 0) === (i === count - 1), `ips: expected ${count} addresses`);
    if (to < 0) to = ips.length;
    need(
      to - from >= 1 && to - from <= MAX_IP_CHARS,
      `ips[${i}]: expected 1..${MAX_IP_CHARS} chars`,
    );
    from = to + 1;
  }
  need(count > 0 || ips === "", "ips: expected none for count 0");
  need(isText(m.origin), `origin: expected a string of at most ${MAX_TEXT_CHARS} chars`);
  need(Array.isArray(lines) && lines.length <= jailCount, "lines: expected one pair per jail");
  for (const [i, pair] of lines.entries()) {
    need(
      Array.isArray(pair) && pair.length === 3 && isCount(pair[0], jailCount - 1) &&
        isCount(pair[1], Number.MAX_SAFE_INTEGER) && isCount(pair[2], pair[1]),
      `lines[${i}]: expected [jail index, line count, ambiguous count]`,
    );
  }
  need(typeof m.sentAt === "number" && Number.isFinite(m.sentAt), "sentAt: expected a time");
  const positions = checkPositions(m.positions, "positions");
  return { ...(m as unknown as BatchMessage), positions };
}

function checkOther(m: Record<string, unknown>): WorkerMessage {
  switch (m.type) {
    case "ready":
      need(
        Array.isArray(m.readPaths) && m.readPaths.length <= MAX_MESSAGE_POSITIONS &&
          Array.from(m.readPaths).every((p) => isText(p)), // a hole is `undefined`: refused
        "readPaths: expected an array of paths",
      );
      return { type: "ready", readPaths: m.readPaths as string[] };
    case "dropped":
      need(isText(m.reason, 64), "reason: expected a short string");
      need(isCount(m.count, Number.MAX_SAFE_INTEGER), "count: expected a whole number");
      return { type: "dropped", reason: m.reason, count: m.count };
    case "warning":
    case "fatal":
      need(isText(m.message), `message: expected a string of at most ${MAX_TEXT_CHARS} chars`);
      return { type: m.type, message: m.message };
    case "stopped":
      return { type: "stopped", positions: checkPositions(m.positions, "positions") };
  }
  throw new Rejected(`type: unknown message type ${JSON.stringify(String(m.type).slice(0, 40))}`);
}

/**
 * Checks a message from the parser Worker before the main thread acts on it: the Worker parses
 * attacker-written bytes, so it is trusted no further than a client of the control socket (see
 * `parseRequest` in src/ipc). Counts, array lengths, jail indices (below `jailCount`), offsets,
 * times, positions and string lengths are checked; anything else is rejected with the reason.
 * Never throws.
 */
export function parseWorkerMessage(data: unknown, jailCount: number): ParsedWorkerMessage {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, reason: "expected a message object", credit: false };
  }
  const m = data as Record<string, unknown>;
  try {
    const message = m.type === "batch" ? checkBatch(m, jailCount) : checkOther(m);
    return { ok: true, message };
  } catch (e) {
    const reason = e instanceof Rejected ? e.message : `malformed message (${e})`;
    if (m.type !== "batch") return { ok: false, reason, credit: false };
    const id = m.id;
    return Number.isSafeInteger(id)
      ? { ok: false, reason, credit: false, id: id as number }
      : { ok: false, reason, credit: id === undefined };
  }
}
