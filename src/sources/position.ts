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

/** Where a file source stopped in one file. All numbers are non-negative safe integers. */
export interface FilePosition {
  readonly kind: "file";
  /** The configured path (or glob match) the file was read under. */
  readonly path: string;
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
  /**
   * True for a file that was rotated away (renamed or deleted) and is still being drained: at
   * restart it is looked up by `dev`/`ino` (and `fp`) next to `path` and finished.
   */
  readonly retired?: boolean;
}

/** Where a journal source stopped: the cursor of the last record delivered. */
export interface JournalPosition {
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
    const pos: FilePosition = {
      kind: "file",
      path,
      dev: count(v, "dev"),
      ino: count(v, "ino"),
      size: count(v, "size"),
      offset: count(v, "offset"),
      fpLen: count(v, "fpLen"),
      fp: text(v, "fp"),
      ...(v.retired === true ? { retired: true } : {}),
    };
    if (pos.fpLen > FINGERPRINT_BYTES) {
      throw new TypeError(`expected fpLen ≤ ${FINGERPRINT_BYTES}, found ${pos.fpLen}`);
    }
    if (!/^[0-9a-f]{14}$/.test(pos.fp)) {
      throw new TypeError(`expected fp of 14 hex digits, found '${pos.fp}'`);
    }
    if (v.retired !== undefined && typeof v.retired !== "boolean") {
      throw new TypeError(`expected retired to be a boolean, found ${describe(v.retired)}`);
    }
    return pos;
  }
  if (v.kind === "journal") {
    return { kind: "journal", key: text(v, "key"), cursor: text(v, "cursor") };
  }
  throw new TypeError(`expected kind "file" or "journal", found ${describe(v.kind)}`);
}

/** The identity a position is filed under: file path or journal key. */
export function positionKey(position: SourcePosition): string {
  return position.kind === "file" ? position.path : position.key;
}

function canonical(p: SourcePosition): SourcePosition {
  if (p.kind === "journal") return { kind: "journal", key: p.key, cursor: p.cursor };
  return {
    kind: "file",
    path: p.path,
    dev: p.dev,
    ino: p.ino,
    size: p.size,
    offset: p.offset,
    fpLen: p.fpLen,
    fp: p.fp,
    ...(p.retired ? { retired: true } : {}),
  };
}

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
