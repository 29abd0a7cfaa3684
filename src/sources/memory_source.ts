/**
 * The in-memory fake of the log-source seam: a {@link MemoryLog} plays the file or journal (an
 * append-only list of lines), a {@link MemorySource} reads it like the real sources do — batches,
 * one in flight, positions that resume exactly. Passes the same contract tests as `FileSource`
 * and `JournalSource`; meant for daemon tests that need lines without files or journald.
 * @module
 */
import type { LineSink, LogSource, SourceStats } from "./log_source.ts";
import type { JournalPosition, SourcePosition } from "./position.ts";

/** Most lines per batch a {@link MemorySource} delivers. */
export const MEMORY_BATCH_LINES = 1024;

/** An append-only list of lines (with optional times) that memory sources read. */
export class MemoryLog {
  readonly #lines: string[] = [];
  readonly #times: (number | null)[] = [];
  readonly #listeners = new Set<() => void>();

  /** Appends lines; `times` (ms since epoch) pairs with `lines` when given. */
  append(lines: readonly string[], times?: readonly (number | null)[]): void {
    for (let i = 0; i < lines.length; i++) {
      this.#lines.push(lines[i]!);
      this.#times.push(times?.[i] ?? null);
    }
    for (const l of this.#listeners) l();
  }

  /** Number of lines appended so far. */
  get length(): number {
    return this.#lines.length;
  }

  /** @internal Lines `from` .. `to - 1` with their times. */
  slice(from: number, to: number): [string[], (number | null)[]] {
    return [this.#lines.slice(from, to), this.#times.slice(from, to)];
  }

  /** @internal Registers a wake-up; returns its removal. */
  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** Options of {@link MemorySource}. */
export interface MemorySourceOptions {
  /** The in-memory log the source reads (appended to by the test or caller). */
  readonly log: MemoryLog;
  /** Name in the key `memory:NAME` (batch source and position key). @default "memory" */
  readonly name?: string;
  /** Saved positions; the one with this source's key is resumed. @default [] */
  readonly saved?: readonly SourcePosition[];
  /** Without a saved position: `"end"` skips lines already in the log. @default "end" */
  readonly readFrom?: "end" | "start";
  /** Most lines per batch. @default 1024 */
  readonly batchLines?: number;
  /**
   * Standing in for a file source: the indices into its patterns every batch carries as
   * `LineBatch.matches` (the same array each time). @default none
   */
  readonly matches?: readonly number[];
}

/** Reads a {@link MemoryLog}; positions are journal-kind with the line count as cursor. */
export class MemorySource implements LogSource {
  /** `memory:NAME`. */
  readonly key: string;
  readonly #log: MemoryLog;
  readonly #batch: number;
  readonly #matches: { matches?: readonly number[] };
  #cursor: number;
  #readFrom: "end" | "start";
  #hasSaved: boolean;
  #stopped = false;
  #started = false;
  #wake: (() => void) | null = null;
  #unlisten: (() => void) | null = null;
  #pump: Promise<void> = Promise.resolve();
  readonly #stats: SourceStats = { lines: 0, dropped: 0, rotations: 0, truncations: 0 };
  readonly #done: PromiseWithResolvers<void> = Promise.withResolvers<void>();

  /** Picks the saved cursor; reads nothing yet. */
  constructor(options: MemorySourceOptions) {
    this.#log = options.log;
    this.key = `memory:${options.name ?? "memory"}`;
    this.#batch = options.batchLines ?? MEMORY_BATCH_LINES;
    this.#matches = options.matches === undefined ? {} : { matches: options.matches };
    this.#readFrom = options.readFrom ?? "end";
    const saved = options.saved?.find((p) => p.kind === "journal" && p.key === this.key);
    const n = saved?.kind === "journal" ? Number(saved.cursor) : NaN;
    this.#hasSaved = Number.isSafeInteger(n) && n >= 0;
    this.#cursor = this.#hasSaved ? n : 0;
    this.#done.promise.catch(() => {});
  }

  /** Resolves when the source has stopped; rejects with the error that stopped it. */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /** Opens the inputs and starts delivering to `sink` (see `LogSource.start`). */
  start(sink: LineSink): Promise<void> {
    if (this.#started) {
      throw new Error("expected a MemorySource to be started once, found a second start()");
    }
    this.#started = true;
    if (this.#stopped) return Promise.resolve(); // stopped before it started
    if (!this.#hasSaved && this.#readFrom === "end") this.#cursor = this.#log.length;
    this.#unlisten = this.#log.listen(() => this.#wake?.());
    this.#pump = this.#run(sink);
    return Promise.resolve();
  }

  /** Stops reading and releases every handle once the batch in flight settled; idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unlisten?.();
    this.#wake?.();
    await this.#pump;
    this.#done.resolve();
  }

  /** Positions after the last settled batch, plus saved positions of inputs not open now. */
  positions(): SourcePosition[] {
    return [this.#position(this.#cursor)];
  }

  /** Counters of this source. */
  stats(): SourceStats {
    return { ...this.#stats };
  }

  async #run(sink: LineSink): Promise<void> {
    try {
      while (!this.#stopped) {
        if (this.#cursor >= this.#log.length) {
          await new Promise<void>((resolve) => this.#wake = resolve);
          this.#wake = null;
          continue;
        }
        const to = Math.min(this.#log.length, this.#cursor + this.#batch);
        const [lines, times] = this.#log.slice(this.#cursor, to);
        const position = this.#position(to);
        await sink({
          source: this.key,
          lines,
          times,
          ...this.#matches,
          position,
          positions: [position],
        });
        this.#stats.lines += lines.length;
        this.#cursor = to;
      }
    } catch (e) {
      this.#stopped = true;
      this.#unlisten?.();
      this.#done.reject(e);
    }
  }

  #position(cursor: number): JournalPosition {
    return { kind: "journal", key: this.key, cursor: String(cursor) };
  }
}
