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

/** Serialises `value` as JSON into one frame. Throws `FrameTooLargeError` past `maxBytes`. */
export function encodeFrame(value: unknown, maxBytes: number = MAX_REPLY_BYTES): Uint8Array {
  const body = encoder.encode(JSON.stringify(value));
  if (body.length > maxBytes) throw new FrameTooLargeError(body.length, maxBytes);
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  new DataView(frame.buffer).setUint32(0, body.length, true);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
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
