/**
 * Messages between the daemon's main thread and its parser Worker. Plain records only: the
 * Worker sends `{ jail, ip, time }` failures (struct of arrays) and never anything it was not
 * asked for; the main thread sends configuration and acknowledgements.
 * @module
 */
import type { UserFilterConfig } from "../config/mod.ts";
import type { SourcePosition } from "../sources/mod.ts";

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
  /** Lines seen per jail index in this batch (`[jailIndex, count]` pairs). */
  readonly lines: [number, number][];
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
