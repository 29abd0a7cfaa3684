/**
 * `StateStore`: the state file on disk. Saves are atomic (temp file, fsync, rename, directory
 * fsync, mode 0600) and group-committed: a change marks the state dirty and the file is written
 * at most `saveIntervalMs` later, once for every change made in between.
 *
 * The snapshot is taken, encoded and written to the temp file synchronously, at one instant, so
 * it cannot change under the save; the encoder's one 64 KiB buffer goes straight to the page cache,
 * so a save holds no copy of the state whatever the table size (buffering the encoding for an
 * asynchronous write pushed a daemon whose table was full of bans 7 MiB past its memory ceiling:
 * the copies lived until the next garbage collection). The slow steps — fsync, rename and the
 * directory fsync — run asynchronously on Deno's thread pool, off the event loop. One save at a
 * time: a save that comes due while another is being written starts as soon as that one ends.
 * @module
 */
import { encodeStateTo, MAX_STATE_BYTES, openState } from "./format.ts";
import type { StateInput } from "./types.ts";

/**
 * The directory that holds a POSIX path, like `node:path`'s `dirname` (importing any `node:` module
 * starts Deno's Node layer, about 6 MiB of resident memory the daemon cannot spare).
 */
export function parentDir(path: string): string {
  if (/^\/+$/.test(path)) return "/";
  const trimmed = path.replace(/\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  if (slash < 0) return ".";
  return trimmed.slice(0, slash).replace(/\/+$/, "") || "/";
}

/** Suffix of a state file moved aside because it failed verification. */
export const CORRUPT = ".corrupt";
/** Suffix of a state file moved aside because someone else could have written it. */
export const UNTRUSTED = ".untrusted";

/**
 * Why a state file with this status could have been written by someone other than this process
 * (it saves mode 0600 as itself): world-writable, writable by a group other than root and its own,
 * or owned by another user. Null when it is trusted (or the process's ids cannot be read).
 */
export function untrustedBecause(
  st: { mode: number | null; uid: number | null; gid: number | null },
): string | null {
  const mode = st.mode ?? 0;
  const octal = `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
  if (mode & 0o002) return `is world-writable (mode ${octal})`;
  let uid: number | null = null;
  let gid: number | null = null;
  try {
    uid = Deno.uid();
    gid = Deno.gid();
  } catch { /* no sys permission: only the mode is checked */ }
  if (mode & 0o020 && st.gid !== 0 && gid !== null && st.gid !== gid) {
    return `is writable by group ${st.gid} (mode ${octal})`;
  }
  if (uid !== null && st.uid !== uid) {
    return `is owned by uid ${st.uid}, not by this process (${uid})`;
  }
  return null;
}

function readAllSync(file: Deno.FsFile, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  while (at < size) {
    const n = file.readSync(out.subarray(at));
    if (n === null) break;
    at += n;
  }
  return at === size ? out : out.slice(0, at);
}

/**
 * Least interval between two `onError` reports while background saves keep failing (a full disk
 * fails every retry, one per `save_interval`: 10 log lines a second at 100 ms).
 */
export const SAVE_ERROR_REPORT_INTERVAL_MS = 60_000;

/** Passed to `onError` with the failure that is reported. */
export interface SaveFailure {
  /** Failed saves since the previous report, this one included (1 for the first). */
  readonly failures: number;
  /** Failed saves in a row, since the last successful one. */
  readonly consecutive: number;
}

/** Options of `new StateStore()`. */
export interface StateStoreOptions {
  /** Longest delay between a change and its save (`save_interval`). */
  readonly saveIntervalMs: number;
  /** Produces the state to write; called synchronously at save time. */
  readonly collect: () => StateInput;
  /**
   * Called when a background save fails (the store retries after `saveIntervalMs`): for the first
   * failure, then at most once per `SAVE_ERROR_REPORT_INTERVAL_MS` while they go on, with the
   * count of those in between. @default no-op
   */
  readonly onError?: (err: unknown, failure: SaveFailure) => void;
  /**
   * Called when saves start failing (`true`, at the first failure) and when one succeeds again
   * (`false`, with the failures in a row): the daemon reports degraded in between.
   */
  readonly onFailing?: (failing: boolean, consecutive: number) => void;
  /** Clock of the report interval, ms. @default performance.now */
  readonly now?: () => number;
  /** Called after each successful save with its size and duration. */
  readonly onSaved?: (info: { bytes: number; ms: number }) => void;
}

/** What `load()` found. */
export type LoadResult =
  | { readonly status: "missing" }
  | { readonly status: "loaded"; readonly state: StateInput; readonly bytes: number }
  | { readonly status: "discarded"; readonly reason: string; readonly movedTo: string | null };

/**
 * What the daemon needs of its state store: `StateStore` keeps it in the state file,
 * `MemoryStateStore` in memory (tests that run with no permission).
 */
export interface StateKeeper {
  /** True from a failed save until one succeeds. */
  readonly failing: boolean;
  /** Reads and verifies the saved state. */
  load(): LoadResult;
  /** Notes a change: the state is saved within `saveIntervalMs`. */
  scheduleSave(): void;
  /** Saves a pending change now; resolves when the latest state is kept. */
  flush(): Promise<void>;
  /** `flush()`, then later `scheduleSave()` calls are ignored. */
  close(): Promise<void>;
}

/** The state file: verified load, atomic group-committed saves. */
export class StateStore implements StateKeeper {
  readonly #path: string;
  readonly #tmp: string;
  readonly #dir: string;
  readonly #opts: StateStoreOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #dirty = false;
  #closed = false;
  /** Resolves (never rejects) when the save being written ends; undefined when none is. */
  #inflight: Promise<void> | undefined;
  /** The timer fired while a save was being written: start the next one when it ends. */
  #due = false;
  /** Failed saves since the last successful one. */
  #consecutive = 0;
  /** Failed background saves not reported yet, and when the last report was made. */
  #unreported = 0;
  #lastReport = -Infinity;

  /**
   * A store of the state file `path`, saving at most `options.saveIntervalMs` after a change.
   * @param path the `state_file` (its directory must exist)
   */
  constructor(path: string, options: StateStoreOptions) {
    if (!(options.saveIntervalMs >= 0)) {
      throw new RangeError(`expected a save interval ≥ 0 ms, found ${options.saveIntervalMs}`);
    }
    this.#path = path;
    this.#tmp = `${path}.tmp`;
    this.#dir = parentDir(path);
    this.#opts = options;
  }

  /** Path of the state file. */
  get path(): string {
    return this.#path;
  }

  /** True from a failed save until one succeeds. */
  get failing(): boolean {
    return this.#consecutive > 0;
  }

  /** True while a change waits for its save or a save is being written. */
  get dirty(): boolean {
    return this.#dirty || this.#inflight !== undefined;
  }

  /**
   * Reads and verifies the file. A file that fails any check is moved aside to `PATH.corrupt`
   * (for inspection) and reported with the reason; the caller logs a warning and starts empty.
   * The returned records are lazy views over the file's bytes.
   */
  load(): LoadResult {
    let bytes: Uint8Array;
    try {
      const link = Deno.lstatSync(this.#path);
      if (link.isSymlink) {
        return this.#discard(`${this.#path} is a symlink (the daemon never writes one)`, UNTRUSTED);
      }
      if (!link.isFile) return this.#discard(`${this.#path} is not a regular file`, null);
      const untrusted = untrustedBecause(link);
      if (untrusted !== null) return this.#discard(`${this.#path} ${untrusted}`, UNTRUSTED);
      if (link.size > MAX_STATE_BYTES) {
        return this.#discard(`${link.size} bytes is larger than ${MAX_STATE_BYTES}`, CORRUPT);
      }
      const file = Deno.openSync(this.#path, { read: true });
      try {
        // The bytes read are those of the file checked: not swapped in between.
        const st = file.statSync();
        if (st.dev !== link.dev || st.ino !== link.ino) {
          return this.#discard(`${this.#path} was replaced while being opened`, null);
        }
        bytes = readAllSync(file, st.size);
      } finally {
        file.close();
      }
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { status: "missing" };
      throw err;
    }
    const opened = openState(bytes);
    if (!opened.ok) return this.#discard(opened.reason, CORRUPT);
    return { status: "loaded", state: opened.state, bytes: bytes.length };
  }

  /** Reports a refused file, moved aside to `PATH` + `suffix` unless `suffix` is null. */
  #discard(reason: string, suffix: string | null): LoadResult {
    let movedTo: string | null = null;
    if (suffix !== null) {
      try {
        Deno.renameSync(this.#path, this.#path + suffix);
        movedTo = this.#path + suffix;
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
      if (this.#inflight !== undefined) this.#due = true;
      else this.#saveInBackground();
    }, this.#opts.saveIntervalMs);
  }

  /**
   * Writes a pending change now (shutdown): waits for a save being written, then saves while
   * changes are pending. Resolves when the latest state is on disk; rejects when its write fails.
   */
  async flush(): Promise<void> {
    this.#cancel();
    for (;;) {
      if (this.#inflight !== undefined) await this.#inflight;
      else if (this.#dirty) await this.#run();
      else break;
    }
    this.#cancel();
  }

  /** `flush()`, then later `scheduleSave()` calls are ignored. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  #cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A timer-driven save: a failure is reported and retried after `saveIntervalMs`. */
  #saveInBackground(): void {
    this.#run().catch((err) => {
      this.#report(err);
      this.scheduleSave();
    });
  }

  /** Reports a failed background save: the first one, then at most one per report interval. */
  #report(err: unknown): void {
    this.#unreported++;
    const now = (this.#opts.now ?? (() => performance.now()))();
    if (now - this.#lastReport < SAVE_ERROR_REPORT_INTERVAL_MS) return;
    this.#lastReport = now;
    const failures = this.#unreported;
    this.#unreported = 0;
    this.#opts.onError?.(err, { failures, consecutive: this.#consecutive });
  }

  /** Runs one save, marked in flight so that no other starts before it ends. */
  async #run(): Promise<void> {
    let release = (): void => {};
    this.#inflight = new Promise<void>((resolve) => (release = resolve));
    let ok = false;
    try {
      await this.#save();
      ok = true;
    } catch (err) {
      if (++this.#consecutive === 1) this.#opts.onFailing?.(true, 1);
      throw err;
    } finally {
      this.#inflight = undefined;
      release();
      if (ok && this.#consecutive > 0) {
        const n = this.#consecutive;
        this.#consecutive = 0;
        this.#unreported = 0;
        this.#lastReport = -Infinity; // the next failure is news again
        this.#opts.onFailing?.(false, n);
      }
      const due = this.#due;
      this.#due = false;
      // A failed save is retried by its caller's path (timer or flush), not at once.
      if (due && ok && this.#dirty && !this.#closed) this.#saveInBackground();
    }
  }

  /**
   * One save: snapshot, encode and write `PATH.tmp` synchronously (nothing can change in between),
   * then fsync, rename and the directory fsync asynchronously.
   */
  async #save(): Promise<void> {
    const started = performance.now();
    this.#dirty = false; // a change from here on is in the next save
    let bytes = 0;
    try {
      const file = this.#createTmpSync();
      try {
        bytes = encodeStateTo(this.#opts.collect(), (chunk) => writeAllSync(file, chunk));
      } catch (err) {
        this.#abandonSync(file);
        throw err;
      }
      await this.#commit(file);
    } catch (err) {
      this.#dirty = true;
      throw err;
    }
    this.#opts.onSaved?.({ bytes, ms: performance.now() - started });
  }

  /** fsync, close, chmod 0600, rename over `PATH`, fsync of the directory — asynchronously. */
  async #commit(file: Deno.FsFile): Promise<void> {
    try {
      await file.sync();
    } catch (err) {
      this.#abandonSync(file);
      throw err;
    }
    file.close();
    await Deno.chmod(this.#tmp, 0o600);
    await Deno.rename(this.#tmp, this.#path);
    const dir = await Deno.open(this.#dir, { read: true });
    try {
      await dir.sync();
    } finally {
      dir.close();
    }
  }

  /** Removes a stale `PATH.tmp` and creates it exclusively (a planted symlink is not followed). */
  #createTmpSync(): Deno.FsFile {
    try {
      Deno.removeSync(this.#tmp);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return Deno.openSync(this.#tmp, { write: true, createNew: true, mode: 0o600 });
  }

  #abandonSync(file: Deno.FsFile): void {
    file.close();
    try {
      Deno.removeSync(this.#tmp);
    } catch { /* best effort */ }
  }
}

function writeAllSync(file: Deno.FsFile, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) off += file.writeSync(chunk.subarray(off));
}
