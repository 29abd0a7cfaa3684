/**
 * `MemoryStateStore`: the state store of in-process tests, with no file and no permission. It
 * keeps the encoded bytes (the state file's format, checked on load as the file is) in a
 * `MemoryStateFile` that outlives the store, so a test can stop a daemon and start another on it.
 * @module
 */
import { encodeState, openState } from "./format.ts";
import type { LoadResult, StateKeeper, StateStoreOptions } from "./store.ts";

/** Where a `MemoryStateStore` keeps the state: the bytes of the last save, null before one. */
export interface MemoryStateFile {
  /** The encoded state of the last save. */
  bytes: Uint8Array | null;
}

/** A state store in memory; saves encode the state as `StateStore` writes it. */
export class MemoryStateStore implements StateKeeper {
  readonly #file: MemoryStateFile;
  readonly #opts: StateStoreOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #dirty = false;
  #closed = false;

  /** A store of `file`, saving at most `options.saveIntervalMs` after a change. */
  constructor(file: MemoryStateFile, options: StateStoreOptions) {
    this.#file = file;
    this.#opts = options;
  }

  /** Never true: a save in memory does not fail. */
  get failing(): boolean {
    return false;
  }

  /** The last save's state; bytes that fail the format's checks are discarded. */
  load(): LoadResult {
    const bytes = this.#file.bytes;
    if (bytes === null) return { status: "missing" };
    const opened = openState(bytes);
    if (!opened.ok) return { status: "discarded", reason: opened.reason, movedTo: null };
    return { status: "loaded", state: opened.state, bytes: bytes.length };
  }

  /** Notes a change: saved within `saveIntervalMs` (one save per burst). */
  scheduleSave(): void {
    if (this.#closed) return;
    this.#dirty = true;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#save();
    }, this.#opts.saveIntervalMs);
  }

  /** Saves a pending change now. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#save();
    return Promise.resolve();
  }

  /** `flush()`, then later `scheduleSave()` calls are ignored. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  #save(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    const started = performance.now();
    const bytes = this.#file.bytes = encodeState(this.#opts.collect());
    this.#opts.onSaved?.({ bytes: bytes.length, ms: performance.now() - started });
  }
}
