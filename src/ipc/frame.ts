/**
 * IPC frame codec: a u32 little-endian length, then that many bytes of UTF-8 JSON. Pure: no
 * Deno API. Requests are capped at `MAX_REQUEST_BYTES`, replies at `MAX_REPLY_BYTES`.
 * @module
 */

/** Largest request body the daemon reads; a longer announced length is answered `too_large`. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Largest reply body either side produces or accepts. */
export const MAX_REPLY_BYTES = 16 * 1024 * 1024;
/** Size of the length prefix. */
export const FRAME_HEADER_BYTES = 4;

/** Thrown by `encodeFrame` when a value serialises past the cap. */
export class FrameTooLargeError extends Error {
  /** Always `"FrameTooLargeError"`. */
  override name = "FrameTooLargeError";
  /** The serialised size in bytes. */
  readonly size: number;
  /** A frame of `size` bytes refused by a cap of `max`. */
  constructor(size: number, max: number) {
    super(`expected a frame of at most ${max} bytes, found ${size} bytes`);
    this.size = size;
  }
}

const encoder = new TextEncoder();

/** A growing byte buffer outside the V8 heap (its backing store is external memory). */
class Bytes {
  buf = new Uint8Array(1024);
  length = FRAME_HEADER_BYTES;
  /** Appends `text` as UTF-8. */
  write(text: string): void {
    for (;;) {
      const r = encoder.encodeInto(text, this.buf.subarray(this.length));
      if (r.read === text.length) {
        this.length += r.written;
        return;
      }
      // Too small: grow (a UTF-16 unit is at most 3 UTF-8 bytes) and write the whole text again.
      const next = new Uint8Array(Math.max(2 * this.buf.length, this.length + 3 * text.length));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
  }
}

/**
 * Serialises `value` as JSON into one frame. Throws `FrameTooLargeError` past `maxBytes`.
 * Arrays directly under a top-level object are serialised element by element, so that a reply
 * of many bans never exists as one JSON string on the daemon's capped heap (10,000 bans are
 * 1.6 MB of it); the bytes are those of `JSON.stringify(value)`.
 */
export function encodeFrame(value: unknown, maxBytes: number = MAX_REPLY_BYTES): Uint8Array {
  const out = new Bytes();
  if (!isPlainRecord(value)) out.write(JSON.stringify(value) ?? "null");
  else {
    out.write("{");
    let first = true;
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
      out.write(`${first ? "" : ","}${JSON.stringify(key)}:`);
      first = false;
      if (!Array.isArray(v)) {
        out.write(JSON.stringify(v));
        continue;
      }
      out.write("[");
      for (let i = 0; i < v.length; i++) out.write(`${i === 0 ? "" : ","}${toJson(v[i])}`);
      out.write("]");
    }
    out.write("}");
  }
  const size = out.length - FRAME_HEADER_BYTES;
  if (size > maxBytes) throw new FrameTooLargeError(size, maxBytes);
  new DataView(out.buf.buffer).setUint32(0, size, true);
  return out.buf.subarray(0, out.length);
}

/** An array element as `JSON.stringify` writes it inside an array. */
function toJson(v: unknown): string {
  return JSON.stringify(v) ?? "null";
}

/** A plain object (no `toJSON`), serialised by `encodeFrame` key by key. */
function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) &&
    typeof (v as { toJSON?: unknown }).toJSON !== "function";
}

/** What `FrameDecoder.next()` yields. */
export type DecodedFrame =
  /** A complete frame; `text` is null when the body was not valid UTF-8. */
  | { kind: "frame"; text: string | null }
  /** The announced length exceeds the cap; the stream cannot be resynchronised. */
  | { kind: "too_large"; length: number };

/**
 * Incremental decoder. Feed received bytes with `push()`, take complete frames with `next()`.
 * Holds at most one partial frame plus the last chunk pushed.
 */
export class FrameDecoder {
  #max: number;
  #buf = new Uint8Array(0);
  #len = 0;
  #utf8 = new TextDecoder("utf-8", { fatal: true });

  /**
   * A decoder refusing bodies over `maxBytes`.
   * @param maxBytes largest accepted body (@default MAX_REQUEST_BYTES)
   */
  constructor(maxBytes: number = MAX_REQUEST_BYTES) {
    this.#max = maxBytes;
  }

  /** Bytes received but not yet returned as frames. */
  get buffered(): number {
    return this.#len;
  }

  /** Appends received bytes (copied). */
  push(chunk: Uint8Array): void {
    if (this.#len + chunk.length > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.#len + chunk.length, this.#buf.length * 2, 256));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.length;
  }

  /** The next complete frame, or null when more bytes are needed. */
  next(): DecodedFrame | null {
    if (this.#len < FRAME_HEADER_BYTES) return null;
    const length = new DataView(this.#buf.buffer, this.#buf.byteOffset).getUint32(0, true);
    if (length > this.#max) return { kind: "too_large", length };
    const end = FRAME_HEADER_BYTES + length;
    if (this.#len < end) return null;
    let text: string | null;
    try {
      text = this.#utf8.decode(this.#buf.subarray(FRAME_HEADER_BYTES, end));
    } catch {
      text = null;
    }
    this.#buf.copyWithin(0, end, this.#len);
    this.#len -= end;
    if (this.#buf.length > 4 * (this.#max + FRAME_HEADER_BYTES) && this.#len < this.#max) {
      this.#buf = this.#buf.slice(0, Math.max(this.#len, 256)); // give a burst's memory back
    }
    return { kind: "frame", text };
  }
}
