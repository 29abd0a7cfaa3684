/**
 * The seam between where lines come from (files, the journal, a test) and the parser.
 * @module
 */
import type { SourcePosition } from "./position.ts";

/**
 * Lines read together, with the position just after them. Delivering a batch and persisting its
 * `position` together with the counts its lines produced is what makes a restart exact: a batch
 * whose position was persisted is never delivered again; one whose position was not is.
 */
export interface LineBatch {
  /** The configured path the lines came from (also for a rotated-away file), or the journal key. */
  readonly source: string;
  /** Decoded lines, without their newline (and without one trailing `\r`). May be empty when only
   * the position moved (e.g. every line in the read was over the cap). */
  readonly lines: readonly string[];
  /** File sources: byte offset of each line's first byte (for the audit pointer `path:offset`). */
  readonly offsets?: readonly number[];
  /** Journal sources: each record's own time (`__REALTIME_TIMESTAMP`, ms since epoch). */
  readonly times?: readonly (number | null)[];
  /** File sources: indices into the source's `patterns` that match `source` (fan-out to jails). */
  readonly matches?: readonly number[];
  /** The read position of this input after this batch. */
  readonly position: SourcePosition;
  /**
   * Every position of the source after this batch — one record per path (rotated-away files
   * nested in their path's record) or the journal cursor: the list to persist, whole, atomically
   * with the counts this batch produced, replacing the previous list of the same
   * `positionSource()`.
   */
  readonly positions: readonly SourcePosition[];
}

/**
 * Receives batches. Returning a promise applies back-pressure: the source reads nothing more from
 * any of its inputs until it settles. A rejection stops the source (see {@link LogSource.done}).
 */
export type LineSink = (batch: LineBatch) => Promise<void> | void;

/** Why a source dropped input instead of delivering it. */
export type DropReason = "line_too_long" | "record_too_large";

/** One dropped line or record, reported to `onDrop`. */
export interface DropInfo {
  /** The source that dropped it (its batch key). */
  readonly source: string;
  /** Why it was dropped. */
  readonly reason: DropReason;
  /** File byte offset of the dropped line, when known. */
  readonly offset?: number;
}

/** Counters a source keeps (monotonic since construction). */
export interface SourceStats {
  /** Lines delivered to the sink. */
  lines: number;
  /** Lines or records dropped (over the cap). */
  dropped: number;
  /** Files found rotated away (renamed or deleted) and finished. */
  rotations: number;
  /** Files found truncated or replaced in place and re-read from the start. */
  truncations: number;
}

/**
 * A running source of log lines. Lifecycle: construct → `start(sink)` → batches flow →
 * `stop()`. One sink per source; batches are delivered one at a time, in order per input.
 */
export interface LogSource {
  /**
   * Opens the inputs and starts delivering. Resolves once the source is watching: anything
   * appended after this resolves is delivered. Catch-up reading (saved positions, `read_from =
   * "start"`) happens after it resolves, through the sink.
   */
  start(sink: LineSink): Promise<void>;
  /** Stops reading, waits for the batch in flight to settle, releases every handle. Idempotent. */
  stop(): Promise<void>;
  /**
   * Positions after the last batch whose sink call settled (plus saved positions of inputs not
   * open right now, so that they survive the next save).
   */
  positions(): SourcePosition[];
  /** Counters. */
  stats(): SourceStats;
  /** Resolves when the source has stopped; rejects with the error that stopped it (a sink
   * rejection or a fatal input error). */
  readonly done: Promise<void>;
}
