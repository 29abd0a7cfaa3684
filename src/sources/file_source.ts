/**
 * File source: tails the files matched by a set of `logpath` patterns, driven by inotify
 * (`Deno.watchFs` on each containing directory), surviving rotation, truncation and restarts.
 *
 * Stages, in order:
 * 1. start: compile patterns → watch directories → open matching files at their start offset
 *    (saved position, else `readFrom`) → queue them.
 * 2. events: an inotify event marks its path dirty (structural for create/rename/remove) and
 *    wakes the pump; an overflow ("rescan") or the slow safety timer queues a full re-check.
 * 3. pump (one at a time, in order): re-check → rotated-away files → dirty paths. A structural
 *    check compares the path's inode with the open file's: a different or missing inode means
 *    rotation — the old file is read to its end, kept open for a grace period for late writes,
 *    and the new file is read from its start.
 * 4. drain: fstat → truncation/replacement check (size below the read offset, or a changed head
 *    fingerprint) → read chunks → cut lines (cap, carry, UTF-8) → one batch per chunk, each
 *    awaited by the sink (back-pressure: nothing more is read until it settles).
 *
 * Runs inside the parser Worker with read permission on {@link fileSourceReadPaths} only.
 * @module
 */
import { basename, dirname, join, outermost, PathPattern, readRoots } from "./_glob.ts";
import { type CutOutput, LineCutter } from "./_line_cutter.ts";
import type { DropInfo, LineBatch, LineSink, LogSource, SourceStats } from "./log_source.ts";
import {
  FILE_GROUP_PATTERN,
  type FileMark,
  type FilePosition,
  fingerprint,
  FINGERPRINT_BYTES,
  MAX_ROTATED,
  type SourcePosition,
} from "./position.ts";

/** Default longest line kept (`line_max_bytes`); longer lines are dropped and counted. */
export const DEFAULT_LINE_MAX_BYTES = 4096;
/** Slow safety re-check interval: catches events lost to an inotify overflow or a missing dir. */
export const RECHECK_MS = 2000;
/** A rotated-away file is still read until it has not grown for this long, then closed. */
export const ROTATE_GRACE_MS = 5000;
/** Bytes read per `read()`; one batch holds the complete lines of one chunk. */
export const CHUNK_BYTES = 256 * 1024;
/** Chunks read from one file before the pump turns to the next dirty file (fairness). */
export const TURN_CHUNKS = 16;
/** Files open at once (active and rotated-away); further matches are skipped with a warning. */
export const MAX_OPEN_FILES = 512;
/** Directories watched at once; further ones are skipped with a warning. */
export const MAX_WATCHED_DIRS = 256;

/** Options of {@link FileSource}. */
export interface FileSourceOptions {
  /** Absolute paths or globs (`*`, `?`, `[…]` in any component). */
  readonly patterns: readonly string[];
  /**
   * Names this source's positions when a daemon runs several file sources over overlapping
   * paths (e.g. one per `read_from`): saved positions of other groups are ignored, and
   * `positionKey()` keeps them apart. Absent: the default group.
   */
  readonly group?: string;
  /** Where a file without a saved position is first read when it exists at start.
   * Files that appear later are always read from their start. @default "end" */
  readonly readFrom?: "end" | "start";
  /** Longest line kept, in bytes without the newline. @default 4096 */
  readonly lineMaxBytes?: number;
  /** Positions from the state file; those of other sources are ignored. @default [] */
  readonly saved?: readonly SourcePosition[];
  /** Called for each dropped (over-long) line. */
  readonly onDrop?: (drop: DropInfo) => void;
  /** Called with a human-readable message for recoverable trouble (unreadable file, too many
   * files). The message names the path, never line content. */
  readonly onWarning?: (message: string) => void;
  /** Safety re-check interval in ms. @default 2000 */
  readonly recheckMs?: number;
  /** How long a rotated-away file is read after its last growth, in ms. @default 5000 */
  readonly rotateGraceMs?: number;
  /** Read chunk size in bytes. @default 262144 */
  readonly chunkBytes?: number;
}

/**
 * The paths the file source must be allowed to read for `patterns` (the parser Worker's `read`
 * permission): each pattern's deepest directory before its first wildcard — read access to the
 * directory is needed to see files being created, renamed and deleted — and, because a
 * permission on a symlink does not cover what it points to, where those directories, the
 * directories the pattern matches and the files matching now really are (`realPath`). A link that cannot be resolved (dangling, a loop) adds
 * nothing: the source skips that file with a warning. Links appearing later to places outside
 * these paths are skipped the same way until the next reload or restart. Needs read permission
 * on every path (the daemon's main thread).
 */
export function fileSourceReadPaths(patterns: readonly string[]): string[] {
  const roots = readRoots(patterns);
  const out = [...roots];
  const add = (path: string) => {
    try {
      const real = Deno.realPathSync(path);
      if (real !== path) out.push(real);
    } catch { /* dangling or unreadable: that file is skipped with a warning */ }
  };
  for (const root of roots) add(root);
  const compiled = patterns.map((p) => new PathPattern(p));
  const dirs = new Set(compiled.flatMap((p) => p.directories((d) => listNames(d, "dir"))));
  for (const dir of [...dirs].slice(0, MAX_WATCHED_DIRS)) add(dir);
  for (const file of matchingFiles(compiled).slice(0, MAX_OPEN_FILES)) add(file);
  return outermost(out);
}

/** What is on disk for one `logpath` now (see {@link logpathState}). */
export interface LogpathState {
  /** True when the pattern has no wildcard: it names one file. */
  readonly literal: boolean;
  /** The regular files (or symlinks to them) it matches now, sorted. */
  readonly files: readonly string[];
  /**
   * True when the pattern is literal and names a symlink that cannot be resolved (dangling, a
   * loop): the file is skipped with a warning, as a file that cannot be opened is.
   */
  readonly brokenLink: boolean;
}

/**
 * The files a `logpath` pattern matches right now, as the file source would open them at start
 * (`config check` and the daemon's start and reload report what matches nothing). Needs read
 * permission on the directories above the first wildcard.
 * @throws SyntaxError for a pattern the file source refuses
 */
export function logpathState(pattern: string): LogpathState {
  const pat = new PathPattern(pattern);
  const files = matchingFiles([pat]).sort();
  let brokenLink = false;
  if (pat.literal && files.length === 0) {
    try {
      brokenLink = Deno.lstatSync(pattern).isSymlink;
    } catch { /* missing */ }
  }
  return { literal: pat.literal, files, brokenLink };
}

/** Every existing file path the patterns match now. */
function matchingFiles(patterns: readonly PathPattern[]): string[] {
  const out = new Set<string>();
  for (const pat of patterns) {
    for (const dir of pat.directories((d) => listNames(d, "dir"))) {
      for (const name of listNames(dir, "file") ?? []) {
        if (pat.matchesName(name)) out.add(join(dir, name));
      }
    }
  }
  return [...out];
}

interface Tailer {
  /** The configured path this file was opened under (batch `source`). */
  readonly path: string;
  readonly file: Deno.FsFile;
  readonly dev: number;
  readonly ino: number;
  readonly cutter: LineCutter;
  readonly matches: readonly number[];
  fpLen: number;
  fp: string;
  size: number;
  retired: boolean;
  lastGrowth: number;
  /** Position after the last batch the sink acknowledged (or the starting position). */
  acked: FilePosition;
}

/** Tails files matched by patterns; see the module documentation. */
export class FileSource implements LogSource {
  readonly #patterns: readonly PathPattern[];
  readonly #group: string | undefined;
  readonly #readFrom: "end" | "start";
  readonly #cap: number;
  readonly #recheckMs: number;
  readonly #graceMs: number;
  readonly #onDrop: ((drop: DropInfo) => void) | undefined;
  readonly #onWarning: (message: string) => void;
  readonly #buf: Uint8Array;
  readonly #head = new Uint8Array(FINGERPRINT_BYTES);
  readonly #tailers = new Map<string, Tailer>();
  #retired: Tailer[] = [];
  /** Saved positions not applied yet (file missing or not yet seen), by path. */
  readonly #pending = new Map<string, FilePosition>();
  /** Saved positions of rotated-away files, applied at start. */
  readonly #pendingRetired: FilePosition[] = [];
  /** The one inotify watcher over every watched directory, its directories and signature. */
  #watcher: Deno.FsWatcher | null = null;
  #watched = new Map<string, number>();
  #watchSignature = "";
  #warnedDirs = false;
  /** Paths to look at; true = structural check (stat the path), false = just read. */
  readonly #dirty = new Map<string, boolean>();
  #retiredDirty = false;
  #recheckDue = false;
  #wake: (() => void) | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sink: LineSink | null = null;
  #started = false;
  #stopped = false;
  #pump: Promise<void> = Promise.resolve();
  #warnedFull = false;
  /** Paths that failed to open, warned about once until they open. */
  readonly #unopenable = new Set<string>();
  readonly #stats: SourceStats = { lines: 0, dropped: 0, rotations: 0, truncations: 0 };
  readonly #done: PromiseWithResolvers<void> = Promise.withResolvers<void>();

  /** Compiles the patterns (throws `SyntaxError` for an unusable one); opens nothing yet. */
  constructor(options: FileSourceOptions) {
    this.#patterns = options.patterns.map((p) => new PathPattern(p));
    if (options.group !== undefined && !FILE_GROUP_PATTERN.test(options.group)) {
      throw new SyntaxError(`expected a group of 1-64 [A-Za-z0-9_-], found '${options.group}'`);
    }
    this.#group = options.group;
    this.#readFrom = options.readFrom ?? "end";
    this.#cap = options.lineMaxBytes ?? DEFAULT_LINE_MAX_BYTES;
    this.#recheckMs = options.recheckMs ?? RECHECK_MS;
    this.#graceMs = options.rotateGraceMs ?? ROTATE_GRACE_MS;
    this.#onDrop = options.onDrop;
    this.#onWarning = options.onWarning ?? (() => {});
    this.#buf = new Uint8Array(options.chunkBytes ?? CHUNK_BYTES);
    for (const pos of options.saved ?? []) {
      if (pos.kind !== "file" || pos.group !== this.#group) continue;
      if (this.#matchIndices(pos.path).length === 0) continue;
      const { rotated, ...own } = pos;
      this.#pending.set(pos.path, own);
      for (const r of rotated ?? []) {
        this.#pendingRetired.push({ ...r, kind: "file", path: pos.path });
      }
    }
    this.#done.promise.catch(() => {});
  }

  /** Resolves when the source has stopped; rejects with the error that stopped it. */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /** Opens the inputs and starts delivering to `sink` (see `LogSource.start`). */
  start(sink: LineSink): Promise<void> {
    if (this.#started) {
      throw new Error("expected a FileSource to be started once, found a second start()");
    }
    this.#started = true;
    if (this.#stopped) return Promise.resolve(); // stopped before it started
    this.#sink = sink;
    this.#refreshWatches();
    // Files rotated away while we were down come first: their rest precedes the new files.
    for (const pos of this.#pendingRetired.splice(0)) this.#recoverRotated(pos, -1);
    for (const path of this.#listMatches()) this.#open(path, true);
    for (const [path, pos] of [...this.#pending]) {
      if (this.#tailers.has(path)) continue;
      // Missing now. Rotated away while we were down: finish it. A literal logpath keeps its
      // record until the file returns (then read from its start); a glob match that is gone is
      // forgotten, so that dated file names do not pile up records in the state file.
      if (
        this.#recoverRotated(pos, -1) || !this.#patterns.some((p) => p.literal && p.matches(path))
      ) {
        this.#pending.delete(path);
      }
    }
    this.#retiredDirty = this.#retired.length > 0;
    for (const path of this.#tailers.keys()) this.#dirty.set(path, false);
    this.#timer = setInterval(() => {
      this.#recheckDue = true;
      this.#poke();
    }, this.#recheckMs);
    this.#pump = this.#runPump();
    return Promise.resolve();
  }

  /** Stops reading and releases every handle once the batch in flight settled; idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) {
      await this.#pump;
      return;
    }
    this.#stopped = true;
    this.#shutdown();
    await this.#pump;
    this.#closeAll();
    this.#done.resolve();
  }

  /** Positions after the last settled batch, plus saved positions of inputs not open now. */
  positions(): SourcePosition[] {
    return this.#snapshot(null, null);
  }

  /**
   * One record per path: the file at the path (or, when there is none, the newest file rotated
   * away from it) with the files rotated away from it nested; `t`'s position replaced by `pos`
   * (the batch being delivered).
   */
  #snapshot(t: Tailer | null, pos: FilePosition | null): FilePosition[] {
    const byPath = new Map<string, { main: FilePosition | null; rotated: FilePosition[] }>();
    const entry = (path: string) => {
      let e = byPath.get(path);
      if (e === undefined) byPath.set(path, e = { main: null, rotated: [] });
      return e;
    };
    for (const p of this.#pendingRetired) entry(p.path).rotated.push(p);
    for (const r of this.#retired) entry(r.path).rotated.push(r === t ? pos! : r.acked);
    for (const a of this.#tailers.values()) entry(a.path).main = a === t ? pos! : a.acked;
    for (const [path, p] of this.#pending) {
      const e = entry(path);
      if (e.main === null) e.main = p;
    }
    const out: FilePosition[] = [];
    for (const { main, rotated } of byPath.values()) {
      const head = main ?? rotated.pop()!;
      const kept = rotated.slice(-MAX_ROTATED).map(toMark);
      out.push(kept.length > 0 ? { ...head, rotated: kept } : head);
    }
    return out;
  }

  /** Counters of this source. */
  stats(): SourceStats {
    return { ...this.#stats };
  }

  /** Paths currently open (active, then rotated-away), for diagnostics and `status`. */
  files(): { path: string; offset: number; retired: boolean }[] {
    return [...this.#tailers.values(), ...this.#retired].map((t) => ({
      path: t.path,
      offset: t.acked.offset,
      retired: t.retired,
    }));
  }

  // ---- pump ---------------------------------------------------------------------------------

  async #runPump(): Promise<void> {
    try {
      while (!this.#stopped) {
        if (this.#recheckDue) {
          this.#recheckDue = false;
          await this.#recheck();
        } else if (this.#retiredDirty) {
          this.#retiredDirty = false;
          for (const t of [...this.#retired]) await this.#guard(t, () => this.#drain(t, Infinity));
        } else if (this.#dirty.size > 0) {
          const [path, structural] = this.#dirty.entries().next().value!;
          this.#dirty.delete(path);
          const t = this.#tailers.get(path);
          await this.#guard(
            path,
            () => structural || !t ? this.#sync(path) : this.#drain(t, TURN_CHUNKS),
          );
        } else {
          await new Promise<void>((resolve) => this.#wake = resolve);
          this.#wake = null;
        }
      }
    } catch (e) {
      // A sink rejection (or a bug): stop everything and report it through `done`.
      this.#stopped = true;
      this.#shutdown();
      this.#closeAll();
      this.#done.reject(e);
    }
  }

  #poke(): void {
    this.#wake?.();
  }

  /**
   * Runs work on one path (or one rotated-away file); an I/O error closes that file — its
   * acknowledged position kept, so reopening resumes — instead of stopping the source.
   */
  async #guard(target: string | Tailer, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      if (e instanceof SinkError) throw e.cause;
      const path = typeof target === "string" ? target : target.path;
      this.#onWarning(`file source: ${path}: ${e instanceof Error ? e.message : String(e)}`);
      const t = typeof target === "string" ? this.#tailers.get(path) : target;
      if (t === undefined) return;
      if (t.retired) this.#retired = this.#retired.filter((r) => r !== t);
      else {
        this.#tailers.delete(path);
        this.#pending.set(path, t.acked);
      }
      try {
        t.file.close();
      } catch { /* already closed */ }
    }
  }

  // ---- events and watches --------------------------------------------------------------------

  #onEvent(ev: Deno.FsEvent): void {
    if (ev.flag === "rescan") {
      this.#recheckDue = true;
      this.#poke();
      return;
    }
    if (ev.kind === "access") return;
    const structural = ev.kind !== "modify";
    for (const p of ev.paths) {
      if (this.#tailers.has(p)) {
        if (structural || !this.#dirty.has(p)) this.#dirty.set(p, structural);
      } else {
        if (this.#retired.length > 0) this.#retiredDirty = true;
        if (this.#watched.has(p) && ev.kind === "remove") this.#recheckDue = true;
        else if (this.#matchIndices(p).length > 0) this.#dirty.set(p, true);
      }
    }
    this.#poke();
  }

  /** Watches every existing directory the patterns match; forgets vanished or replaced ones. */
  #refreshWatches(): void {
    const wanted = new Map<string, number>();
    for (const pat of this.#patterns) {
      for (const dir of pat.directories((d) => listNames(d, "dir"))) {
        if (wanted.has(dir)) continue;
        const st = statOrNull(dir);
        if (st === null || !st.isDirectory) continue;
        if (wanted.size >= MAX_WATCHED_DIRS) {
          if (!this.#warnedDirs) {
            this.#onWarning(
              `file source: more than ${MAX_WATCHED_DIRS} directories; ${dir} not watched`,
            );
            this.#warnedDirs = true;
          }
          continue;
        }
        wanted.set(dir, st.ino ?? 0);
      }
    }
    const signature = [...wanted].map(([dir, ino]) => `${ino} ${dir}`).sort().join("\n");
    if (this.#watcher !== null && signature === this.#watchSignature) return;
    // One inotify instance for all directories (the per-user instance limit is small): a changed
    // set means a new watcher; what happened during the swap is caught by re-checking everything.
    const old = this.#watcher;
    this.#watcher = null;
    old?.close();
    this.#watched = wanted;
    this.#watchSignature = signature;
    if (wanted.size === 0) return;
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs([...wanted.keys()], { recursive: false });
    } catch (e) {
      this.#onWarning(`file source: cannot watch ${[...wanted.keys()].join(", ")}: ${e}`);
      this.#watchSignature = "";
      return;
    }
    this.#watcher = watcher;
    this.#consume(watcher);
    if (old !== null) {
      for (const path of this.#listMatches()) this.#dirty.set(path, true);
      for (const path of this.#tailers.keys()) this.#dirty.set(path, true);
      this.#retiredDirty = this.#retired.length > 0;
    }
  }

  async #consume(watcher: Deno.FsWatcher): Promise<void> {
    try {
      for await (const ev of watcher) this.#onEvent(ev);
    } catch (e) {
      if (!this.#stopped) this.#onWarning(`file source: watching failed: ${e}`);
    } finally {
      if (this.#watcher === watcher) {
        this.#watcher = null;
        this.#recheckDue = true;
        this.#poke();
      }
    }
  }

  /** The slow safety net: new directories and matches, identity of open files, grace expiry. */
  async #recheck(): Promise<void> {
    this.#refreshWatches();
    for (const path of this.#listMatches()) this.#dirty.set(path, true);
    for (const path of this.#tailers.keys()) this.#dirty.set(path, true);
    const now = Date.now();
    for (const t of [...this.#retired]) {
      await this.#guard(t, () => this.#drain(t, Infinity));
      if (this.#retired.includes(t) && now - t.lastGrowth >= this.#graceMs) {
        await this.#closeRetired(t);
      }
    }
  }

  // ---- opening, rotation ---------------------------------------------------------------------

  /** Structural check of one path: rotation, deletion, creation, then read. */
  async #sync(path: string): Promise<void> {
    const t = this.#tailers.get(path);
    const st = statOrNull(path);
    if (t) {
      if (st !== null && st.dev === t.dev && st.ino === t.ino) {
        await this.#drain(t, TURN_CHUNKS);
        return;
      }
      // Rotated (renamed) or deleted: finish the old file, keep it for late writes, go on.
      await this.#drain(t, Infinity);
      this.#tailers.delete(path);
      t.retired = true;
      t.lastGrowth = Date.now();
      this.#retired.push(t);
      this.#stats.rotations++;
    }
    if (st !== null && st.isFile && this.#open(path, false)) {
      const nt = this.#tailers.get(path);
      if (nt) await this.#drain(nt, TURN_CHUNKS);
    }
  }

  /**
   * Opens `path` at its starting offset: the saved position when it still applies; else, for a
   * file present at start, `readFrom`; else 0. Returns true when a tailer was added.
   */
  #open(path: string, initial: boolean): boolean {
    if (this.#tailers.has(path)) return false;
    const matches = this.#matchIndices(path);
    if (matches.length === 0) return false;
    if (this.#tailers.size + this.#retired.length >= MAX_OPEN_FILES) {
      if (!this.#warnedFull) {
        this.#onWarning(`file source: more than ${MAX_OPEN_FILES} open files; ${path} skipped`);
        this.#warnedFull = true;
      }
      return false;
    }
    const opened = this.#openFile(path);
    if (opened === null) return false;
    const { file, st } = opened;
    const saved = this.#pending.get(path);
    this.#pending.delete(path);
    let offset = 0;
    let midLine = false;
    if (saved !== undefined) {
      if (this.#sameFile(file, st, saved)) {
        offset = saved.offset;
        midLine = offset > 0 && this.#byteAt(file, offset - 1) !== 10;
      } else {
        // Rotated, truncated or replaced while we were down: finish the old one if it is still
        // around (renamed, or the copy of a copytruncate), then read this one from the start.
        this.#recoverRotated(saved, st.ino ?? -1);
        this.#stats.truncations += st.ino === saved.ino && st.dev === saved.dev ? 1 : 0;
      }
    } else if (initial && this.#readFrom === "end") {
      ({ offset, midLine } = this.#endOffset(file, st.size));
    }
    const t = this.#makeTailer(path, file, st, offset, midLine, matches, false);
    this.#tailers.set(path, t);
    return true;
  }

  #makeTailer(
    path: string,
    file: Deno.FsFile,
    st: Deno.FileInfo,
    offset: number,
    midLine: boolean,
    matches: readonly number[],
    retired: boolean,
  ): Tailer {
    const cutter = new LineCutter(this.#cap);
    cutter.reset(offset, midLine);
    const head = this.#readHead(file, st.size);
    file.seekSync(offset, Deno.SeekMode.Start);
    const t: Tailer = {
      path,
      file,
      dev: st.dev ?? 0,
      ino: st.ino ?? 0,
      cutter,
      matches,
      fpLen: head.length,
      fp: fingerprint(head),
      size: st.size,
      retired,
      lastGrowth: Date.now(),
      acked: undefined as unknown as FilePosition,
    };
    t.acked = this.#position(t);
    return t;
  }

  /**
   * Finds, next to `saved.path`, the file a saved position was taken in after it was rotated away:
   * same device and inode (renamed), or — for copytruncate — a sibling named after it whose head
   * has the saved fingerprint. Opens it as a rotated-away file at the saved offset.
   */
  #recoverRotated(saved: FilePosition, currentIno: number): boolean {
    const dir = dirname(saved.path);
    const base = basename(saved.path);
    let copy: string | null = null;
    for (const name of listNames(dir, "file") ?? []) {
      const candidate = join(dir, name);
      const st = statOrNull(candidate);
      if (st === null || !st.isFile || st.size < saved.offset) continue;
      if (st.dev === saved.dev && st.ino === saved.ino) {
        if (candidate !== saved.path && this.#openRotated(candidate, saved)) return true;
        continue;
      }
      if (copy === null && st.ino !== currentIno && name.startsWith(base) && name !== base) {
        if (this.#headMatchesPath(candidate, saved)) copy = candidate;
      }
    }
    return copy !== null && this.#openRotated(copy, saved);
  }

  #openRotated(candidate: string, saved: FilePosition): boolean {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(candidate, { read: true });
    } catch {
      return false;
    }
    const st = file.statSync();
    const identical = st.dev === saved.dev && st.ino === saved.ino;
    if (!st.isFile || st.size < saved.offset || !this.#headMatches(file, saved, identical)) {
      file.close();
      return false;
    }
    const midLine = saved.offset > 0 && this.#byteAt(file, saved.offset - 1) !== 10;
    const matches = this.#matchIndices(saved.path);
    const t = this.#makeTailer(saved.path, file, st, saved.offset, midLine, matches, true);
    this.#retired.push(t);
    this.#stats.rotations++;
    return true;
  }

  async #closeRetired(t: Tailer): Promise<void> {
    const out = newOutput();
    if (t.cutter.flush(out)) await this.#emit(t, out);
    this.#retired = this.#retired.filter((r) => r !== t);
    t.file.close();
  }

  // ---- reading -------------------------------------------------------------------------------

  /** Reads `t` from its offset, at most `maxChunks` chunks, one awaited batch per chunk. */
  async #drain(t: Tailer, maxChunks: number): Promise<void> {
    const buf = this.#buf;
    let chunks = 0;
    while (!this.#stopped) {
      if (chunks >= maxChunks) {
        if (!t.retired) this.#dirty.set(t.path, this.#dirty.get(t.path) ?? false);
        return;
      }
      // Checked again before every read: the sink's await is where time passes, and a file
      // replaced meanwhile must not be read on from the old offset.
      const size = t.file.statSync().size;
      this.#checkInPlace(t, size);
      t.size = size;
      if (size <= t.cutter.next) return;
      const n = t.file.readSync(buf);
      if (n === null || n === 0) return;
      chunks++;
      if (t.cutter.next + n > t.size) t.size = t.cutter.next + n;
      t.lastGrowth = Date.now();
      const out = newOutput();
      const moved = t.cutter.push(buf.subarray(0, n), out);
      if (out.drops.length > 0) this.#reportDrops(t.path, out.drops);
      if (out.lines.length > 0 || moved) await this.#emit(t, out);
    }
  }

  /**
   * Detects a file truncated (copytruncate) or rewritten in place: smaller than the read offset,
   * or a head that no longer has the recorded fingerprint. Such a file is read again from 0.
   */
  #checkInPlace(t: Tailer, size: number): void {
    let reset = size < t.cutter.next || size < t.fpLen;
    if (!reset && (t.fpLen < FINGERPRINT_BYTES ? size > t.fpLen : true)) {
      const head = this.#readHead(t.file, size);
      const prefix = head.subarray(0, t.fpLen);
      if (fingerprint(prefix) !== t.fp) reset = true;
      else if (head.length > t.fpLen) {
        t.fpLen = head.length;
        t.fp = fingerprint(head);
      }
    }
    if (!reset) {
      t.file.seekSync(t.cutter.next, Deno.SeekMode.Start);
      return;
    }
    this.#stats.truncations++;
    t.cutter.reset(0);
    const head = this.#readHead(t.file, size);
    t.fpLen = head.length;
    t.fp = fingerprint(head);
    t.file.seekSync(0, Deno.SeekMode.Start);
  }

  async #emit(t: Tailer, out: CutOutput): Promise<void> {
    const position = this.#position(t);
    const batch: LineBatch = {
      source: t.path,
      lines: out.lines,
      offsets: out.offsets,
      matches: t.matches,
      position,
      positions: this.#snapshot(t, position),
    };
    try {
      await this.#sink!(batch);
    } catch (e) {
      throw new SinkError(e);
    }
    this.#stats.lines += out.lines.length;
    t.acked = position;
  }

  #position(t: Tailer): FilePosition {
    return {
      kind: "file",
      path: t.path,
      dev: t.dev,
      ino: t.ino,
      size: Math.max(t.size, t.cutter.next),
      offset: t.cutter.committed,
      fpLen: t.fpLen,
      fp: t.fp,
      ...(this.#group !== undefined ? { group: this.#group } : {}),
    };
  }

  #reportDrops(source: string, drops: readonly number[]): void {
    this.#stats.dropped += drops.length;
    if (this.#onDrop) {
      for (const offset of drops) this.#onDrop({ source, reason: "line_too_long", offset });
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Reads the first `min(size, FINGERPRINT_BYTES)` bytes; leaves the file offset undefined. */
  #readHead(file: Deno.FsFile, size: number): Uint8Array {
    const want = Math.min(size, FINGERPRINT_BYTES);
    return this.#pread(file, 0, want);
  }

  #pread(file: Deno.FsFile, offset: number, length: number): Uint8Array {
    const out = this.#head.length >= length
      ? this.#head.subarray(0, length)
      : new Uint8Array(length);
    file.seekSync(offset, Deno.SeekMode.Start);
    let got = 0;
    while (got < length) {
      const n = file.readSync(out.subarray(got));
      if (n === null || n === 0) break;
      got += n;
    }
    return out.subarray(0, got);
  }

  #byteAt(file: Deno.FsFile, offset: number): number {
    return this.#pread(file, offset, 1)[0] ?? -1;
  }

  /** Same inode, not shorter than the saved offset, same head: the saved offset still applies. */
  #sameFile(file: Deno.FsFile, st: Deno.FileInfo, saved: FilePosition): boolean {
    return st.dev === saved.dev && st.ino === saved.ino && st.size >= saved.offset &&
      this.#headMatches(file, saved, true);
  }

  /**
   * Opens a regular file, or null. A file that cannot be opened or examined (no permission — a
   * symlink to a place the Worker may not read —, an I/O error) is skipped with one warning until
   * it opens again: one file is disabled, never the source.
   */
  #openFile(path: string): { file: Deno.FsFile; st: Deno.FileInfo } | null {
    let file: Deno.FsFile | null = null;
    try {
      file = Deno.openSync(path, { read: true });
      const st = file.statSync();
      if (!st.isFile) {
        file.close();
        return null;
      }
      this.#unopenable.delete(path);
      return { file, st };
    } catch (e) {
      try {
        file?.close();
      } catch { /* already closed */ }
      if (!(e instanceof Deno.errors.NotFound) && !this.#unopenable.has(path)) {
        this.#unopenable.add(path);
        this.#onWarning(
          `file source: cannot open ${path}, skipped: ${e instanceof Error ? e.message : e}`,
        );
      }
      return null;
    }
  }

  #headMatches(file: Deno.FsFile, saved: FilePosition, identical: boolean): boolean {
    // Without a fingerprint (the file was empty), only an identical inode is trusted.
    if (saved.fpLen === 0) return identical;
    const head = this.#pread(file, 0, saved.fpLen);
    return head.length === saved.fpLen && fingerprint(head) === saved.fp;
  }

  #headMatchesPath(path: string, saved: FilePosition): boolean {
    try {
      const file = Deno.openSync(path, { read: true });
      try {
        return this.#headMatches(file, saved, false);
      } finally {
        file.close();
      }
    } catch {
      return false;
    }
  }

  /** Start offset for `read_from = "end"`: after the last complete line. */
  #endOffset(file: Deno.FsFile, size: number): { offset: number; midLine: boolean } {
    if (size === 0) return { offset: 0, midLine: false };
    const window = Math.min(size, this.#cap + 1);
    const tail = this.#pread(file, size - window, window).slice();
    const nl = tail.lastIndexOf(10);
    if (nl >= 0) return { offset: size - window + nl + 1, midLine: false };
    // No newline in reach: the whole file is one unfinished line (deliver it once finished), or
    // the end is inside an over-long line (skip to its end).
    return window === size ? { offset: 0, midLine: false } : { offset: size, midLine: true };
  }

  #matchIndices(path: string): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#patterns.length; i++) {
      if (this.#patterns[i]!.matches(path)) out.push(i);
    }
    return out;
  }

  /** Every existing file path the patterns match now. */
  #listMatches(): string[] {
    return matchingFiles(this.#patterns);
  }

  #shutdown(): void {
    clearInterval(this.#timer);
    const watcher = this.#watcher;
    this.#watcher = null;
    watcher?.close();
    this.#poke();
  }

  #closeAll(): void {
    for (const t of [...this.#tailers.values(), ...this.#retired]) {
      try {
        t.file.close();
      } catch { /* already closed */ }
    }
    // Keep the tailers' acknowledged positions readable through positions() after stop.
    for (const t of this.#tailers.values()) this.#pending.set(t.path, t.acked);
    for (const t of this.#retired) this.#pendingRetired.push(t.acked);
    this.#tailers.clear();
    this.#retired = [];
  }
}

/** Wraps a sink rejection so that per-file error handling lets it through. */
class SinkError extends Error {
  constructor(cause: unknown) {
    super("sink rejected a batch", { cause });
  }
}

function toMark(p: FileMark): FileMark {
  return { dev: p.dev, ino: p.ino, size: p.size, offset: p.offset, fpLen: p.fpLen, fp: p.fp };
}

function newOutput(): CutOutput {
  return { lines: [], offsets: [], drops: [] };
}

function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}

/** Names of the entries of `dir` of the given type (symlinks resolved), or null if unlistable. */
function listNames(dir: string, type: "file" | "dir"): string[] | null {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return null;
  }
  const out: string[] = [];
  for (const e of entries) {
    if (e.isSymlink) {
      const st = statOrNull(join(dir, e.name));
      if (st !== null && (type === "file" ? st.isFile : st.isDirectory)) out.push(e.name);
    } else if (type === "file" ? e.isFile : e.isDirectory) out.push(e.name);
  }
  return out;
}
