/**
 * Cuts a byte stream into lines with a hard cap per line. Pure code, no `Deno.*`.
 *
 * Stages, in order, for each pushed chunk: finish the carried partial line (or the line being
 * discarded), cut every complete line in the chunk, keep the unterminated tail as the new carry.
 * A line longer than the cap is dropped and reported, never buffered past the cap, so the memory a
 * file costs is at most `cap` bytes between reads. Bytes are decoded as UTF-8 with replacement; a
 * block of complete lines is decoded at once, which gives exactly the per-line result because the
 * WHATWG decoder never folds `\n` (0x0A) into an invalid sequence. When the chunk's complete lines
 * decode to one character per byte (no multi-byte sequence) and none is over the cap, the text is
 * split at once and each line's byte offset is its character offset; otherwise the bytes are cut
 * line by line.
 * @module
 */

const NL = 10;
const CR = 13;

/** Where the lines of one push go. The cutter appends; the caller empties between pushes. */
export interface CutOutput {
  lines: string[];
  /** Stream offset of the first byte of each line in `lines`. */
  offsets: number[];
  /** Stream offset of the first byte of each dropped (over-long) line. */
  drops: number[];
}

/** Line cutter for one stream (one file or one pipe). */
export class LineCutter {
  readonly #cap: number;
  readonly #decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  /** Partial line carried from previous pushes (≤ cap bytes), or null. */
  #carry: Uint8Array | null = null;
  /** Offset of the first carried byte, or of the line being discarded. */
  #lineStart = 0;
  /** True while skipping the rest of an over-long (or already partially consumed) line. */
  #discarding = false;
  /** Stream offset of the next byte to be pushed. */
  #next = 0;
  /** Stream offset just past the last newline consumed: the committed read position. */
  #committed = 0;

  /** @param cap longest line kept, in bytes, newline excluded. */
  constructor(cap: number) {
    if (!Number.isInteger(cap) || cap < 1) {
      throw new RangeError(`expected a line cap ≥ 1 byte, found ${cap}`);
    }
    this.#cap = cap;
  }

  /**
   * Restarts at stream offset `offset`. With `midLine`, the bytes up to the next newline belong
   * to a line whose start was not seen: they are skipped silently (never delivered as a fragment).
   */
  reset(offset: number, midLine = false): void {
    this.#carry = null;
    this.#discarding = midLine;
    this.#lineStart = offset;
    this.#next = offset;
    this.#committed = offset;
  }

  /** Offset of the next byte expected by {@link push} (the read position). */
  get next(): number {
    return this.#next;
  }

  /** Offset just past the last newline consumed: where a restart resumes. */
  get committed(): number {
    return this.#committed;
  }

  /** Bytes currently carried as an unterminated line. */
  get carried(): number {
    return this.#carry?.length ?? 0;
  }

  /**
   * Cuts `chunk` (the bytes at offset {@link next}) into `out`. Returns true when the committed
   * offset moved (a newline was consumed), even if every line was dropped.
   */
  push(chunk: Uint8Array, out: CutOutput): boolean {
    const base = this.#next;
    this.#next += chunk.length;
    const before = this.#committed;
    let pos = 0;
    if (this.#discarding || this.#carry !== null) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        this.#extendPartial(chunk, out);
        return false;
      }
      this.#finishPartial(chunk.subarray(0, nl), out);
      pos = nl + 1;
      this.#committed = base + pos;
    }
    const cap = this.#cap;
    let segStart = pos;
    let lineStart = pos;
    const last = chunk.lastIndexOf(NL);
    if (last >= pos && this.#cutDecoded(chunk, pos, last + 1, base, out)) {
      segStart = lineStart = last + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(NL, lineStart);
      if (nl < 0) break;
      if (nl - lineStart > cap) {
        this.#decodeBlock(chunk.subarray(segStart, lineStart), out);
        out.drops.push(base + lineStart);
        segStart = nl + 1;
      } else {
        out.offsets.push(base + lineStart);
      }
      lineStart = nl + 1;
    }
    this.#decodeBlock(chunk.subarray(segStart, lineStart), out);
    if (lineStart > pos) this.#committed = base + lineStart;
    if (lineStart < chunk.length) {
      this.#lineStart = base + lineStart;
      const tail = chunk.subarray(lineStart);
      if (tail.length > cap) {
        out.drops.push(this.#lineStart);
        this.#discarding = true;
      } else {
        this.#carry = tail.slice();
      }
    }
    return this.#committed !== before;
  }

  /**
   * Ends the stream: a carried unterminated line is delivered as a last line (used when a rotated
   * file is closed for good). Returns true when a line was emitted.
   */
  flush(out: CutOutput): boolean {
    const carry = this.#carry;
    this.#carry = null;
    this.#discarding = false;
    if (carry === null || carry.length === 0) return false;
    out.offsets.push(this.#lineStart);
    out.lines.push(stripCr(this.#decoder.decode(carry)));
    this.#committed = this.#next;
    return true;
  }

  /** Adds bytes without a newline to the carried line or to the line being discarded. */
  #extendPartial(chunk: Uint8Array, out: CutOutput): void {
    if (this.#discarding || chunk.length === 0) return;
    const carry = this.#carry!;
    if (carry.length + chunk.length > this.#cap) {
      out.drops.push(this.#lineStart);
      this.#carry = null;
      this.#discarding = true;
      return;
    }
    const joined = new Uint8Array(carry.length + chunk.length);
    joined.set(carry);
    joined.set(chunk, carry.length);
    this.#carry = joined;
  }

  /** Ends the carried (or discarded) line with `rest`, the bytes before its newline. */
  #finishPartial(rest: Uint8Array, out: CutOutput): void {
    if (this.#discarding) {
      this.#discarding = false;
      return;
    }
    const carry = this.#carry!;
    this.#carry = null;
    if (carry.length + rest.length > this.#cap) {
      out.drops.push(this.#lineStart);
      return;
    }
    const joined = new Uint8Array(carry.length + rest.length);
    joined.set(carry);
    joined.set(rest, carry.length);
    out.offsets.push(this.#lineStart);
    out.lines.push(stripCr(this.#decoder.decode(joined)));
  }

  /**
   * Cuts the complete lines `chunk[from, to)` (`to` just past a newline) by decoding them at once
   * and splitting the text: when every byte decoded to one character (no multi-byte sequence),
   * a line's byte offset is its character offset, so no per-line byte search is needed. Returns
   * false, having added nothing, when that does not hold or a line is over the cap (the caller
   * then cuts the bytes line by line).
   */
  #cutDecoded(chunk: Uint8Array, from: number, to: number, base: number, out: CutOutput): boolean {
    const text = this.#decoder.decode(chunk.subarray(from, to));
    if (text.length !== to - from) return false;
    const parts = text.split("\n");
    const n = parts.length - 1; // the text ends with "\n": the last part is empty
    const cap = this.#cap;
    for (let i = 0; i < n; i++) if (parts[i]!.length > cap) return false;
    const lines = out.lines, offsets = out.offsets;
    let at = base + from;
    for (let i = 0; i < n; i++) {
      const line = parts[i]!;
      offsets.push(at);
      at += line.length + 1;
      lines.push(stripCr(line));
    }
    return true;
  }

  /** Decodes a block of complete lines (each ending in `\n`) into `out.lines`. */
  #decodeBlock(block: Uint8Array, out: CutOutput): void {
    if (block.length === 0) return;
    const parts = this.#decoder.decode(block).split("\n");
    const n = parts.length - 1; // the block ends with "\n": the last part is empty
    const lines = out.lines;
    for (let i = 0; i < n; i++) lines.push(stripCr(parts[i]!));
  }
}

function stripCr(line: string): string {
  return line.length > 0 && line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
}
