/**
 * The hash-chained audit log: one JSON record per line,
 *   {"seq":N,"ts":…,"event":…,…,"prev":"<hash of record N-1>","hash":"<sha256 of this record>"}
 * where `hash` is the SHA-256 (hex) of the line's text up to `,"hash"` followed by `}`: the
 * record exactly as written without its own hash. Record 0 has `prev` = `GENESIS_HASH` (64
 * zeros). Editing a record breaks its own hash (or, if recomputed, the next record's `prev`);
 * deleting, inserting or reordering records breaks `prev` or `seq`. Removing records from the end
 * leaves a valid shorter chain: compare the last `seq`/`hash` with the copies the journal got.
 * @module
 */
import { sha256Hex } from "../hash/mod.ts";

/** `prev` of the first record. */
export const GENESIS_HASH: string = "0".repeat(64);
/** Default audit log path (docs/interfaces.md). */
export const DEFAULT_AUDIT_LOG = "/var/lib/fail2zig/audit.log";
/** Mode of a new audit log. */
export const AUDIT_LOG_MODE = 0o600;
/** Longest line `verifyAuditLog` accepts; longer is reported broken (and no writer makes one). */
export const MAX_AUDIT_LINE = 64 * 1024;
/** Longest text field in a record (reason, origin); longer is cut. */
export const MAX_AUDIT_FIELD = 1024;

/**
 * The event of a segment's first record when the chain goes on from an earlier file (the daemon
 * rotated at `audit_max_mb`, logrotate truncated the file, or a restart found it emptied): its
 * `prev` names the last hash of the segment before, so the segment verifies on its own.
 */
export const SEGMENT_EVENT = "audit_segment";
/**
 * The event of a record that declares lost records: the chain goes on (its `seq`/`prev` continue
 * the head the writer knew: from its own memory, or from the state file at a restart) but the
 * records before it are not in this file — it was deleted or replaced while the daemon ran, or
 * found missing, emptied or behind the state file's head at start. `verifyAuditLog` accepts one
 * anywhere (at a seq not below the head) and reports it; `audit verify` then exits 1.
 */
export const GAP_EVENT = "audit_gap";
/**
 * Rotated segments the daemon keeps beside the log (`PATH.1` newest … `PATH.9`); at a rotation
 * the oldest is deleted, so the disk holds at most (1 + 9) × `audit_max_mb`.
 */
export const AUDIT_SEGMENTS_KEPT = 9;

const HASH_RE = /^[0-9a-f]{64}$/;
const HASH_SUFFIX_LEN = ',"hash":"'.length + 64 + '"}'.length;

/** What one audit record says. */
export interface AuditEvent {
  /** "ban", "unban", … */
  event: string;
  /** The address concerned, when the event has one. */
  ip?: string;
  /** The jail concerned, when the event has one. */
  jail?: string;
  /** Ban length in seconds; null for permanent. */
  durationS?: number | null;
  /** Why: "maxretry 5 within 600s", "client request (uid 0)", "expired", … */
  reason?: string;
  /** The triggering line: "path:offset" or a journal cursor. */
  origin?: string;
}

/** A record as stored (without `prev`/`hash`). */
export interface AuditBody {
  /** Position in the chain, from 0. */
  seq: number;
  /** When it was written, ISO 8601 UTC. */
  ts: string;
  /** As `AuditEvent.event`. */
  event: string;
  /** As `AuditEvent.ip`. */
  ip?: string;
  /** As `AuditEvent.jail` (clipped to `MAX_AUDIT_FIELD`). */
  jail?: string;
  /** As `AuditEvent.durationS`. */
  duration_s?: number | null;
  /** As `AuditEvent.reason` (clipped to `MAX_AUDIT_FIELD`). */
  reason?: string;
  /** As `AuditEvent.origin` (clipped to `MAX_AUDIT_FIELD`). */
  origin?: string;
}

function sha256(text: string): string {
  return sha256Hex(text);
}

function clip(v: string | undefined): string | undefined {
  return v === undefined || v.length <= MAX_AUDIT_FIELD ? v : v.slice(0, MAX_AUDIT_FIELD) + "…";
}

/** Formats record `seq` after `prev`; returns the line (without newline) and its hash. */
export function formatAuditRecord(
  event: AuditEvent,
  chain: { seq: number; prev: string; ts: Date },
): { line: string; hash: string } {
  const body: Record<string, unknown> = {
    seq: chain.seq,
    ts: chain.ts.toISOString(),
    event: event.event,
  };
  if (event.ip !== undefined) body.ip = event.ip;
  if (event.jail !== undefined) body.jail = clip(event.jail);
  if (event.durationS !== undefined) body.duration_s = event.durationS;
  if (event.reason !== undefined) body.reason = clip(event.reason);
  if (event.origin !== undefined) body.origin = clip(event.origin);
  body.prev = chain.prev;
  const text = JSON.stringify(body);
  const hash = sha256(text);
  return { line: `${text.slice(0, -1)},"hash":"${hash}"}`, hash };
}

/** The position of a chain: the next `seq` and the hash the next record must carry as `prev`. */
export interface ChainHead {
  /** The `seq` of the next record. */
  seq: number;
  /** The hash the next record carries as `prev` (`GENESIS_HASH` for the first). */
  prev: string;
}

/** Result of checking one line against the chain head; the new head when it links. */
function checkLine(
  line: string,
  head: ChainHead,
  first = false,
): { ok: true; head: ChainHead; gap: string | null } | { ok: false; reason: string } {
  if (line.length > MAX_AUDIT_LINE) {
    return { ok: false, reason: `record longer than ${MAX_AUDIT_LINE} bytes` };
  }
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    return { ok: false, reason: "not a JSON record" };
  }
  if (typeof rec !== "object" || rec === null || Array.isArray(rec)) {
    return { ok: false, reason: "not a JSON object" };
  }
  const r = rec as Record<string, unknown>;
  const hash = r.hash;
  if (typeof hash !== "string" || !HASH_RE.test(hash) || !line.endsWith(`,"hash":"${hash}"}`)) {
    return { ok: false, reason: 'expected a final "hash" field of 64 hex digits, found none' };
  }
  const body = line.slice(0, -HASH_SUFFIX_LEN) + "}";
  const actual = sha256(body);
  if (actual !== hash) {
    return { ok: false, reason: `record altered: its hash is ${actual}, it claims ${hash}` };
  }
  const starts = (first && r.event === SEGMENT_EVENT) || r.event === GAP_EVENT;
  if (starts && typeof r.prev === "string" && HASH_RE.test(r.prev)) {
    if (!Number.isSafeInteger(r.seq) || (r.seq as number) < (first ? 0 : head.seq)) {
      return {
        ok: false,
        reason: `expected a seq from ${first ? 0 : head.seq}, found ${String(r.seq)}`,
      };
    }
    head = { seq: r.seq as number, prev: r.prev }; // a segment starts where the one before ended
  }
  if (r.prev !== head.prev) {
    return {
      ok: false,
      reason: head.seq === 0
        ? `expected the first record to start the chain (prev = genesis) or a segment ` +
          `(event ${SEGMENT_EVENT}), found prev ${String(r.prev)} (records removed from the start?)`
        : `expected prev ${head.prev} (the hash of the record before), found ${String(r.prev)} ` +
          "(a record was removed, inserted, reordered or rewritten)",
    };
  }
  if (r.seq !== head.seq) {
    return { ok: false, reason: `expected seq ${head.seq}, found ${String(r.seq)}` };
  }
  const gap = r.event === GAP_EVENT ? (typeof r.reason === "string" ? r.reason : "") : null;
  return { ok: true, head: { seq: head.seq + 1, prev: hash }, gap };
}

/** A `GAP_EVENT` record found by `verifyAuditLog`. */
export interface AuditGap {
  /** 1-based line. */
  line: number;
  /** The gap record's seq: records before it are not in the file from there back. */
  seq: number;
  /** Its `reason`. */
  reason: string;
}

/** Outcome of `verifyAuditLog`. */
export type AuditVerifyResult =
  | {
    ok: true;
    records: number;
    /** seq of the first record (0, or where a segment starts); null when empty. */
    firstSeq: number | null;
    /** What the first record links to: `GENESIS_HASH`, or the last hash of the segment before. */
    startPrev: string;
    lastSeq: number | null;
    lastHash: string;
    /** The event of the first record (`SEGMENT_EVENT`, `GAP_EVENT`, …); null when empty. */
    firstEvent: string | null;
    /** Records that declare lost records before them (`GAP_EVENT`), in file order. */
    gaps: AuditGap[];
  }
  | { ok: false; records: number; line: number; reason: string };

/**
 * Checks the whole chain of the file at `path`, streaming. Reports the first broken link with
 * its 1-based line number. An empty file is a valid empty chain. Throws when the file cannot be
 * read.
 */
export async function verifyAuditLog(path: string): Promise<AuditVerifyResult> {
  using file = await Deno.open(path, { read: true });
  const dec = new TextDecoder("utf-8", { fatal: true });
  const buf = new Uint8Array(256 * 1024);
  let head: ChainHead = { seq: 0, prev: GENESIS_HASH };
  let start: ChainHead | null = null;
  let firstEvent: string | null = null;
  let skipped = 0; // seq numbers a gap jumped over (not records of this file)
  const gaps: AuditGap[] = [];
  let lineNo = 0;
  let pending = new Uint8Array(0);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) break;
    let data = new Uint8Array(pending.length + n);
    data.set(pending);
    data.set(buf.subarray(0, n), pending.length);
    let from = 0;
    for (let nl = data.indexOf(10, from); nl !== -1; nl = data.indexOf(10, from)) {
      lineNo++;
      let text: string;
      try {
        text = dec.decode(data.subarray(from, nl));
      } catch {
        const done = start === null ? 0 : head.seq - start.seq - skipped;
        return { ok: false, records: done, line: lineNo, reason: "not UTF-8" };
      }
      const r = checkLine(text, head, lineNo === 1);
      const done = start === null ? 0 : head.seq - start.seq - skipped;
      if (!r.ok) return { ok: false, records: done, line: lineNo, reason: r.reason };
      if (start === null) {
        const rec = JSON.parse(text);
        start = { seq: r.head.seq - 1, prev: rec.prev };
        firstEvent = typeof rec.event === "string" ? rec.event : null;
      } else if (r.gap !== null) skipped += r.head.seq - 1 - head.seq;
      if (r.gap !== null) gaps.push({ line: lineNo, seq: r.head.seq - 1, reason: r.gap });
      head = r.head;
      from = nl + 1;
    }
    pending = data.slice(from);
    data = new Uint8Array(0);
    if (pending.length > MAX_AUDIT_LINE) {
      return {
        ok: false,
        records: start === null ? 0 : head.seq - start.seq - skipped,
        line: lineNo + 1,
        reason: `record longer than ${MAX_AUDIT_LINE} bytes`,
      };
    }
  }
  const records = start === null ? 0 : head.seq - start.seq - skipped;
  if (pending.length > 0) {
    return { ok: false, records, line: lineNo + 1, reason: "incomplete last record (no newline)" };
  }
  return {
    ok: true,
    records,
    firstSeq: start === null ? null : start.seq,
    startPrev: start === null ? GENESIS_HASH : start.prev,
    lastSeq: start === null ? null : head.seq - 1,
    lastHash: head.prev,
    firstEvent,
    gaps,
  };
}

/** Options of `AuditLog.open`. */
export interface AuditLogOptions {
  /** fdatasync after each record (durable, slower). @default false */
  sync?: boolean;
  /** Clock for record times. @default () => new Date() */
  now?: () => Date;
  /**
   * Rotate once the file has reached this many bytes: `PATH` becomes `PATH.1`
   * (older segments shift up to `AUDIT_SEGMENTS_KEPT`, the oldest is deleted) and a new `PATH`
   * starts with a `SEGMENT_EVENT` record. 0: never (logrotate's copytruncate may rotate).
   * @default 0
   */
  maxBytes?: number;
  /**
   * The chain's head as last saved (the state file's AUDIT record): when the file at `path` is
   * missing, empty (without a `PATH.1` that continues it) or behind this head, the chain goes on
   * from it with a `GAP_EVENT` record instead of starting again at seq 0. @default null
   */
  saved?: ChainHead | null;
}

/** What `append` wrote. */
export interface AppendedRecord {
  /** The record's `seq`. */
  seq: number;
  /** The record's hash (the next record's `prev`). */
  hash: string;
  /** The line as written, without the newline. */
  line: string;
  /**
   * Set when the file had been deleted, moved or replaced under the log: what happened. The log
   * reopened `path` and wrote a `GAP_EVENT` (deleted, or replaced by a non-empty file) or
   * `SEGMENT_EVENT` (moved away, e.g. logrotate without copytruncate) record first.
   */
  notice?: string;
}

/**
 * An open audit log, appended by one process (the daemon). `open` finds the chain head from the
 * file's last record; an incomplete last line (a crash mid-write) is cut off and the cut itself
 * recorded as an `audit_recovered` record. Before each record `append` checks that `path` still
 * names the open file (device and inode): one deleted, moved or replaced under the log is noticed
 * at the next record, and the log reopens `path` (see `AppendedRecord.notice`).
 */
export class AuditLog {
  #file: Deno.FsFile;
  #head: ChainHead;
  #sync: boolean;
  #now: () => Date;
  #maxBytes: number;
  /** The file's size after the last write: a smaller one means it was truncated under us. */
  #size: number;
  #enc = new TextEncoder();
  /** What `open` had to declare (a `GAP_EVENT` at start), or null. */
  #openNotice: string | null = null;
  /** Path of the log file. */
  readonly path: string;

  private constructor(path: string, file: Deno.FsFile, head: ChainHead, options: AuditLogOptions) {
    this.path = path;
    this.#file = file;
    this.#head = head;
    this.#sync = options.sync ?? false;
    this.#now = options.now ?? (() => new Date());
    this.#maxBytes = options.maxBytes ?? 0;
    this.#size = file.statSync().size;
  }

  /** Opens (creating with mode 0600) the log at `path`. */
  static open(path: string, options: AuditLogOptions = {}): AuditLog {
    const file = openLog(path);
    try {
      const { head, cut } = readHead(file);
      const empty = head.seq === 0 && head.prev === GENESIS_HASH;
      // An empty log after a rotation (logrotate, or ours before a restart) goes on from PATH.1.
      const before = empty ? previousHead(path) : null;
      const saved = options.saved ?? null;
      const log = new AuditLog(path, file, before ?? head, options);
      if (saved !== null && saved.seq > (before ?? head).seq) {
        // The state file knows a longer chain than this file (and PATH.1) hold: records are lost.
        log.#head = { ...saved };
        log.#openNotice = empty
          ? `${path} was missing or empty at start; the chain goes on from the state file's head ` +
            `(seq ${saved.seq}): the records before it are not in this file`
          : `${path} ends at seq ${head.seq}, before the state file's head (seq ${saved.seq}): ` +
            "records were removed from its end or the file was replaced";
        log.#write({ event: GAP_EVENT, reason: log.#openNotice });
      } else if (before !== null) {
        log.#segment(`continues ${basename(path)}.1 (found empty at start)`);
      }
      if (cut > 0) {
        log.append({
          event: "audit_recovered",
          reason: `cut ${cut} bytes of an incomplete last record`,
        });
      }
      return log;
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /** The next record's seq and prev. */
  get head(): ChainHead {
    return { ...this.#head };
  }

  /** Why `open` declared a gap (the file was missing, emptied or behind `saved`), or null. */
  get openNotice(): string | null {
    return this.#openNotice;
  }

  /**
   * Appends one record (one write of one line). When the file was truncated under the log
   * (logrotate's copytruncate) a `SEGMENT_EVENT` record goes first; when the file has reached
   * `maxBytes`, the log rotates first (a segment holds at most `maxBytes` plus one record).
   */
  append(event: AuditEvent): AppendedRecord {
    const notice = this.#reopenIfGone();
    if (notice !== null) return { ...this.#write(event), notice };
    const size = this.#file.statSync().size;
    if (size < this.#size && this.#head.seq > 0) {
      this.#size = size;
      this.#segment("continues the file as it was before it was truncated (rotated by copy)");
    } else if (this.#maxBytes > 0 && size >= this.#maxBytes) {
      this.#rotate();
    }
    return this.#write(event);
  }

  /**
   * When `path` no longer names the open file — deleted (no link left), moved away, or replaced —
   * reopens `path` (creating it) and writes the record that says so; returns what happened, or
   * null when the file is still in place.
   */
  #reopenIfGone(): string | null {
    const open = this.#file.statSync();
    let current: Deno.FileInfo | null = null;
    try {
      current = Deno.statSync(this.path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (current !== null && current.dev === open.dev && current.ino === open.ino) return null;
    const deleted = open.nlink === 0;
    const file = openLog(this.path);
    this.#file.close();
    this.#file = file;
    this.#size = file.statSync().size;
    const at = `seq ${this.#head.seq}`;
    if (!deleted && this.#size === 0) {
      const notice = `${this.path} was moved away while the daemon ran; the chain goes on in a ` +
        `new file from ${at}`;
      this.#segment(`continues the file moved away from ${basename(this.path)}`);
      return notice;
    }
    const notice = deleted
      ? `${this.path} was deleted or replaced while the daemon ran: the records before ${at} in ` +
        "it are lost"
      : `${this.path} was replaced by another file while the daemon ran (the old one was moved); ` +
        `the chain goes on in it from ${at}`;
    this.#write({ event: GAP_EVENT, reason: notice });
    return notice;
  }

  /** Moves `PATH` to `PATH.1` (shifting older segments) and starts `PATH` with a segment record. */
  #rotate(): void {
    this.#file.close();
    const seg = (n: number) => `${this.path}.${n}`;
    try {
      Deno.removeSync(seg(AUDIT_SEGMENTS_KEPT));
    } catch { /* none yet */ }
    for (let n = AUDIT_SEGMENTS_KEPT - 1; n >= 1; n--) {
      try {
        Deno.renameSync(seg(n), seg(n + 1));
      } catch { /* none yet */ }
    }
    Deno.renameSync(this.path, seg(1));
    this.#file = Deno.openSync(this.path, {
      read: true,
      write: true,
      createNew: true,
      mode: AUDIT_LOG_MODE,
    });
    this.#size = 0;
    this.#segment(`continues ${basename(this.path)}.1 (rotated at ${this.#maxBytes} bytes)`);
  }

  #segment(reason: string): void {
    this.#write({ event: SEGMENT_EVENT, reason });
  }

  #write(event: AuditEvent): AppendedRecord {
    const seq = this.#head.seq;
    const { line, hash } = formatAuditRecord(event, {
      seq,
      prev: this.#head.prev,
      ts: this.#now(),
    });
    const bytes = this.#enc.encode(line + "\n");
    this.#file.seekSync(0, Deno.SeekMode.End);
    let off = 0;
    while (off < bytes.length) off += this.#file.writeSync(bytes.subarray(off));
    if (this.#sync) this.#file.syncDataSync();
    this.#head = { seq: seq + 1, prev: hash };
    this.#size += bytes.length;
    return { seq, hash, line };
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}

/** Opens (creating with mode 0600) the log file for reading and appending. */
function openLog(path: string): Deno.FsFile {
  return Deno.openSync(path, { read: true, write: true, create: true, mode: AUDIT_LOG_MODE });
}

/** The head of `PATH.1` when it exists and ends with a record, else null. */
function previousHead(path: string): ChainHead | null {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(`${path}.1`, { read: true });
  } catch {
    return null;
  }
  try {
    const size = file.statSync().size;
    const tail = readTail(file, size, Math.min(size, MAX_AUDIT_LINE + 1));
    const text = new TextDecoder().decode(tail).trimEnd();
    const r = JSON.parse(text.slice(text.lastIndexOf("\n") + 1)) as Record<string, unknown>;
    if (typeof r.hash === "string" && HASH_RE.test(r.hash) && Number.isSafeInteger(r.seq)) {
      return { seq: (r.seq as number) + 1, prev: r.hash };
    }
    return null;
  } catch {
    return null;
  } finally {
    file.close();
  }
}

/** The last `span` bytes of a file of `size` bytes (fewer if it shrank meanwhile). */
function readTail(file: Deno.FsFile, size: number, span: number): Uint8Array {
  const tail = new Uint8Array(span);
  file.seekSync(size - span, Deno.SeekMode.Start);
  let got = 0;
  while (got < span) {
    const n = file.readSync(tail.subarray(got));
    if (n === null) break;
    got += n;
  }
  return tail.subarray(0, got);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Reads the chain head from the end of the file; cuts an incomplete last line. */
function readHead(file: Deno.FsFile): { head: ChainHead; cut: number } {
  const size = file.statSync().size;
  if (size === 0) return { head: { seq: 0, prev: GENESIS_HASH }, cut: 0 };
  const span = Math.min(size, 2 * MAX_AUDIT_LINE + 1);
  const tail = readTail(file, size, span);
  let end = tail.length;
  let cut = 0;
  if (tail[end - 1] !== 10) {
    const lastNl = tail.lastIndexOf(10, end - 1);
    cut = end - (lastNl + 1);
    file.truncateSync(size - cut);
    end = lastNl + 1;
    if (end === 0) {
      if (size - cut === 0) return { head: { seq: 0, prev: GENESIS_HASH }, cut };
      throw new Error(`audit log's last record is longer than ${MAX_AUDIT_LINE} bytes`);
    }
  }
  const prevNl = tail.lastIndexOf(10, end - 2);
  if (prevNl === -1 && span < size) {
    throw new Error(`audit log's last record is longer than ${MAX_AUDIT_LINE} bytes`);
  }
  const last = new TextDecoder().decode(tail.subarray(prevNl + 1, end - 1));
  try {
    const r = JSON.parse(last) as Record<string, unknown>;
    if (typeof r.hash === "string" && HASH_RE.test(r.hash) && Number.isSafeInteger(r.seq)) {
      return { head: { seq: (r.seq as number) + 1, prev: r.hash }, cut };
    }
  } catch {
    // fall through: continue the chain from the damaged line's own hash
  }
  // A damaged last record: link to its bytes so the next records still chain; verify will
  // report the damage at that line.
  return { head: { seq: 0, prev: sha256(last) }, cut };
}

/** Opens `path`, appends one record, closes. For tools and tests; the daemon keeps an `AuditLog`. */
export function appendAudit(
  path: string,
  event: AuditEvent,
  options: AuditLogOptions = {},
): AppendedRecord {
  const log = AuditLog.open(path, options);
  try {
    return log.append(event);
  } finally {
    log.close();
  }
}
