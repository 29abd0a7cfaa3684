/**
 * Read positions: where a source stopped, in a form the state file stores opaquely and hands back
 * at the next start. Pure code, no `Deno.*`.
 *
 * A file position names the file by path and by identity (device + inode) and carries a
 * fingerprint of its first bytes, so a restart can tell "the same file, grown" from "rotated,
 * truncated or replaced" (see `docs/sources.md`). A journal position is a journalctl cursor.
 * @module
 */

/** Bytes of a file's head that the fingerprint covers. */
export const FINGERPRINT_BYTES = 64;
/** Longest encoded position accepted by {@link decodePosition} (paths and cursors are bounded). */
export const POSITION_MAX_BYTES = 8192;

/** Files rotated away from one path and still being finished, at most this many per record. */
export const MAX_ROTATED = 16;

/** Identity and offset of one file (the file at a path, or one rotated away from it). */
export interface FileMark {
  /** `st_dev` of the file when the position was taken. */
  readonly dev: number;
  /** `st_ino` of the file when the position was taken. */
  readonly ino: number;
  /** File size seen when the position was taken. */
  readonly size: number;
  /** Byte offset just past the last complete line delivered (a line boundary). */
  readonly offset: number;
  /** How many head bytes {@link fp} covers (`min(size, FINGERPRINT_BYTES)` when taken). */
  readonly fpLen: number;
  /** {@link fingerprint} of the first `fpLen` bytes, 14 hex digits. */
  readonly fp: string;
}

/**
 * Where a file source stopped for one configured path (or glob match): exactly one record per
 * path and source group. All numbers are non-negative safe integers.
 */
export interface FilePosition extends FileMark {
  /** Always `"file"`. */
  readonly kind: "file";
  /** The path the lines were read under. */
  readonly path: string;
  /** The file source's group (`FileSourceOptions.group`); absent for the default group. */
  readonly group?: string;
  /**
   * Files rotated away from `path` (renamed or deleted) that were still being read, oldest first.
   * At restart each is looked up next to `path` by `dev`/`ino` (and `fp`) and finished from its
   * offset before the file now at `path` is read.
   */
  readonly rotated?: readonly FileMark[];
}

/** Where a journal source stopped: the cursor of the last record delivered. */
export interface JournalPosition {
  /** Always `"journal"`. */
  readonly kind: "journal";
  /** Identifies the journal source (its matches and directory); see `JournalSource.key`. */
  readonly key: string;
  /** journalctl cursor (`s=…;i=…;…`) of the last delivered record. */
  readonly cursor: string;
}

/** Any source's read position. */
export type SourcePosition = FilePosition | JournalPosition;

/**
 * 53-bit non-cryptographic hash (cyrb53) of `bytes`, as 14 lower-case hex digits. Used only to
 * recognise a file's head again; an attacker who can write the head of a log can also write any
 * line, so collision resistance buys nothing here.
 */
export function fingerprint(bytes: Uint8Array): string {
  let h1 = 0xdeadbeef ^ bytes.length;
  let h2 = 0x41c6ce57 ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    h1 = Math.imul(h1 ^ b, 2654435761);
    h2 = Math.imul(h2 ^ b, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const n = 4294967296 * (2097151 & h2) + (h1 >>> 0);
  return n.toString(16).padStart(14, "0");
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes a position as UTF-8 JSON bytes (stable key order) for opaque storage. */
export function encodePosition(position: SourcePosition): Uint8Array {
  return encoder.encode(JSON.stringify(canonical(position)));
}

/**
 * Decodes bytes made by {@link encodePosition}. Throws `TypeError` naming what was expected and
 * what was found when the bytes are not a valid position (the caller drops it and starts fresh).
 */
export function decodePosition(bytes: Uint8Array): SourcePosition {
  if (bytes.length > POSITION_MAX_BYTES) {
    throw new TypeError(
      `expected an encoded position of at most ${POSITION_MAX_BYTES} bytes, found ${bytes.length}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (e) {
    throw new TypeError(`expected a UTF-8 JSON position, found undecodable bytes (${e})`);
  }
  return validatePosition(value);
}

/** Checks that `value` (e.g. parsed JSON) is a well-formed position and returns a clean copy. */
export function validatePosition(value: unknown): SourcePosition {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`expected a position object, found ${describe(value)}`);
  }
  const v = value as Record<string, unknown>;
  if (v.kind === "file") {
    const path = text(v, "path");
    if (!path.startsWith("/")) throw new TypeError(`expected an absolute path, found '${path}'`);
    const pos: FilePosition = { kind: "file", path, ...mark(v) };
    let out: FilePosition = pos;
    if (v.group !== undefined) {
      const group = text(v, "group");
      if (!GROUP.test(group)) {
        throw new TypeError(`expected a group of [A-Za-z0-9_-], found '${group}'`);
      }
      out = { ...out, group };
    }
    if (v.rotated !== undefined) {
      if (!Array.isArray(v.rotated) || v.rotated.length > MAX_ROTATED) {
        throw new TypeError(`expected rotated to be a list of at most ${MAX_ROTATED} files`);
      }
      const rotated = v.rotated.map((r: unknown) => {
        if (typeof r !== "object" || r === null) {
          throw new TypeError(`expected a rotated file object, found ${describe(r)}`);
        }
        return mark(r as Record<string, unknown>);
      });
      if (rotated.length > 0) out = { ...out, rotated };
    }
    return out;
  }
  if (v.kind === "journal") {
    return { kind: "journal", key: text(v, "key"), cursor: text(v, "cursor") };
  }
  throw new TypeError(`expected kind "file" or "journal", found ${describe(v.kind)}`);
}

/**
 * The source a position belongs to: `file:GROUP` for a file source's records (`file:` for the
 * default group), the key for a journal source. Every `batch.positions` list is the complete set
 * of records of one such source: store positions per source and replace that source's list with
 * each batch's `positions` — records of files that are gone then leave the state file.
 */
export function positionSource(position: SourcePosition): string {
  return position.kind === "journal" ? position.key : `file:${position.group ?? ""}`;
}

/**
 * The identity a position is filed under, unique within a daemon: a file source's group and path,
 * or a journal source's key. A source's `batch.positions` holds one record per key.
 */
export function positionKey(position: SourcePosition): string {
  if (position.kind === "journal") return position.key;
  return position.group === undefined ? position.path : `${position.group}:${position.path}`;
}

function canonical(p: SourcePosition): SourcePosition {
  if (p.kind === "journal") return { kind: "journal", key: p.key, cursor: p.cursor };
  return {
    kind: "file",
    path: p.path,
    ...(p.group !== undefined ? { group: p.group } : {}),
    ...canonicalMark(p),
    ...(p.rotated?.length ? { rotated: p.rotated.map(canonicalMark) } : {}),
  };
}

function canonicalMark(m: FileMark): FileMark {
  return { dev: m.dev, ino: m.ino, size: m.size, offset: m.offset, fpLen: m.fpLen, fp: m.fp };
}

function mark(v: Record<string, unknown>): FileMark {
  const m: FileMark = {
    dev: count(v, "dev"),
    ino: count(v, "ino"),
    size: count(v, "size"),
    offset: count(v, "offset"),
    fpLen: count(v, "fpLen"),
    fp: text(v, "fp"),
  };
  if (m.fpLen > FINGERPRINT_BYTES) {
    throw new TypeError(`expected fpLen ≤ ${FINGERPRINT_BYTES}, found ${m.fpLen}`);
  }
  if (!/^[0-9a-f]{14}$/.test(m.fp)) {
    throw new TypeError(`expected fp of 14 hex digits, found '${m.fp}'`);
  }
  return m;
}

/** A file source group name: 1–64 of `A-Z a-z 0-9 _ -`. */
export const FILE_GROUP_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const GROUP = FILE_GROUP_PATTERN;

function text(v: Record<string, unknown>, key: string): string {
  const x = v[key];
  if (typeof x !== "string" || x.length === 0 || x.length > 4096) {
    throw new TypeError(`expected ${key} to be a non-empty string, found ${describe(x)}`);
  }
  return x;
}

function count(v: Record<string, unknown>, key: string): number {
  const x = v[key];
  if (typeof x !== "number" || !Number.isSafeInteger(x) || x < 0) {
    throw new TypeError(`expected ${key} to be a non-negative integer, found ${describe(x)}`);
  }
  return x;
}

function describe(x: unknown): string {
  if (x === undefined) return "nothing";
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  return typeof x === "string" ? `'${x.slice(0, 40)}'` : `${typeof x} ${String(x).slice(0, 40)}`;
}
