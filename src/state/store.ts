/**
 * `StateStore`: the state file on disk. Saves are atomic (temp file, fsync, rename, directory
 * fsync, mode 0600) and group-committed: a change marks the state dirty and the file is written
 * at most `saveIntervalMs` later, once for every change made in between.
 *
 * Saves are synchronous on purpose: the snapshot must not change while it streams to disk, and
 * the encoder writes 64 KiB chunks straight to the file, so memory stays bounded whatever the
 * table size. The event loop pauses for the write and fsync (≈ 1 ms for a few thousand bans).
 * @module
 */
import { dirname } from "node:path";
import { encodeStateTo, MAX_STATE_BYTES, openState } from "./format.ts";
import type { StateInput } from "./types.ts";

/** Options of `new StateStore()`. */
export interface StateStoreOptions {
  /** Longest delay between a change and its save (`save_interval`). */
  readonly saveIntervalMs: number;
  /** Produces the state to write; called synchronously at save time. */
  readonly collect: () => StateInput;
  /** Called when a save fails (the store retries after `saveIntervalMs`). @default rethrow-less no-op */
  readonly onError?: (err: unknown) => void;
  /** Called after each successful save with its size and duration. */
  readonly onSaved?: (info: { bytes: number; ms: number }) => void;
}

/** What `load()` found. */
export type LoadResult =
  | { readonly status: "missing" }
  | { readonly status: "loaded"; readonly state: StateInput; readonly bytes: number }
  | { readonly status: "discarded"; readonly reason: string; readonly movedTo: string | null };

/** The state file: verified load, atomic group-committed saves. */
export class StateStore {
  readonly #path: string;
  readonly #tmp: string;
  readonly #dir: string;
  readonly #opts: StateStoreOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #dirty = false;
  #closed = false;

  /** @param path the `state_file` (its directory must exist) */
  constructor(path: string, options: StateStoreOptions) {
    if (!(options.saveIntervalMs >= 0)) {
      throw new RangeError(`expected a save interval ≥ 0 ms, found ${options.saveIntervalMs}`);
    }
    this.#path = path;
    this.#tmp = `${path}.tmp`;
    this.#dir = dirname(path);
    this.#opts = options;
  }

  /** Path of the state file. */
  get path(): string {
    return this.#path;
  }

  /** True while a change waits for its save. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /**
   * Reads and verifies the file. A file that fails any check is moved aside to `PATH.corrupt`
   * (for inspection) and reported with the reason; the caller logs a warning and starts empty.
   * The returned records are lazy views over the file's bytes.
   */
  load(): LoadResult {
    let bytes: Uint8Array;
    try {
      const st = Deno.statSync(this.#path);
      if (!st.isFile) return this.#discard(`${this.#path} is not a regular file`, false);
      if (st.size > MAX_STATE_BYTES) {
        return this.#discard(`${st.size} bytes is larger than ${MAX_STATE_BYTES}`, true);
      }
      bytes = Deno.readFileSync(this.#path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { status: "missing" };
      throw err;
    }
    const opened = openState(bytes);
    if (!opened.ok) return this.#discard(opened.reason, true);
    return { status: "loaded", state: opened.state, bytes: bytes.length };
  }

  #discard(reason: string, move: boolean): LoadResult {
    let movedTo: string | null = null;
    if (move) {
      try {
        Deno.renameSync(this.#path, `${this.#path}.corrupt`);
        movedTo = `${this.#path}.corrupt`;
      } catch {
        movedTo = null;
      }
    }
    return { status: "discarded", reason, movedTo };
  }

  /** Notes a change: the state is written within `saveIntervalMs` (one write per burst). */
  scheduleSave(): void {
    if (this.#closed) return;
    this.#dirty = true;
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#dirty) return;
      try {
        this.saveNow();
      } catch (err) {
        this.#opts.onError?.(err);
        this.scheduleSave();
      }
    }, this.#opts.saveIntervalMs);
  }

  /** Writes now if a change is pending (shutdown). Throws when the write fails. */
  flush(): void {
    if (this.#dirty) this.saveNow();
    this.#cancel();
  }

  /** Stops the timer after a final `flush()`; later `scheduleSave()` calls are ignored. */
  close(): void {
    this.flush();
    this.#closed = true;
  }

  #cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Writes the state atomically: `PATH.tmp` (created exclusively, mode 0600), fsync, rename over
   * `PATH`, fsync of the directory. On failure the previous file is untouched.
   */
  saveNow(): void {
    const started = performance.now();
    this.#dirty = true; // stays set unless this save completes
    try {
      Deno.removeSync(this.#tmp);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    let bytes = 0;
    const file = Deno.openSync(this.#tmp, { write: true, createNew: true, mode: 0o600 });
    try {
      bytes = encodeStateTo(this.#opts.collect(), (chunk) => {
        let off = 0;
        while (off < chunk.length) off += file.writeSync(chunk.subarray(off));
      });
      file.syncSync();
    } catch (err) {
      file.close();
      try {
        Deno.removeSync(this.#tmp);
      } catch { /* best effort */ }
      throw err;
    }
    file.close();
    Deno.chmodSync(this.#tmp, 0o600);
    Deno.renameSync(this.#tmp, this.#path);
    const dir = Deno.openSync(this.#dir, { read: true });
    try {
      dir.syncSync();
    } finally {
      dir.close();
    }
    this.#dirty = false;
    this.#opts.onSaved?.({ bytes, ms: performance.now() - started });
  }
}
