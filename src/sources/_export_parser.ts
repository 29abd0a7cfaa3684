/**
 * Streaming parser of the journal export format (`journalctl -o export`): records separated by an
 * empty line; a field is `NAME=value\n` (text) or `NAME\n` + u64 little-endian length + bytes +
 * `\n` (binary). Pure code, no `Deno.*`. Memory is bounded: only the named fields are kept, each
 * value at most `maxValueBytes` (longer ones are skipped without buffering and reported), each
 * field at most {@link MAX_FIELD_REPEATS} times.
 * @module
 */

/** Longest field name accepted; journald's own limit is 64. Longer is a protocol error. */
export const MAX_NAME_BYTES = 256;
/** Values kept per field and record (journald allows repeats); further ones are ignored. */
export const MAX_FIELD_REPEATS = 16;

/** One parsed record: the kept fields and which kept fields were over the value cap. */
export interface ExportRecord {
  readonly fields: Map<string, Uint8Array[]>;
  readonly oversize: string[];
}

const enum State {
  Name,
  Text,
  BinLen,
  BinValue,
  BinEnd,
}

const NL = 10;
const EQ = 61;
const ascii = new TextDecoder("latin1");

/** Incremental export-format parser. */
export class ExportParser {
  readonly #keep: ReadonlySet<string>;
  readonly #max: number;
  #state = State.Name;
  readonly #name = new Uint8Array(MAX_NAME_BYTES);
  #nameLen = 0;
  #field = "";
  #keepValue = false;
  #parts: Uint8Array[] = [];
  #valueLen = 0;
  readonly #len = new Uint8Array(8);
  #lenGot = 0;
  #remaining = 0;
  #record: ExportRecord = newRecord();
  #recordHasFields = false;

  /**
   * @param keep names of the fields to keep (all others are skipped).
   * @param maxValueBytes longest value kept; longer values are dropped and named in `oversize`.
   */
  constructor(keep: Iterable<string>, maxValueBytes: number) {
    this.#keep = new Set(keep);
    this.#max = maxValueBytes;
  }

  /** Parses `chunk`, appending every record it completes to `out`. Throws `SyntaxError` on
   * input that is not export format. */
  push(chunk: Uint8Array, out: ExportRecord[]): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.#state) {
        case State.Name: {
          const b = chunk[i]!;
          i++;
          if (b === NL) {
            if (this.#nameLen === 0) this.#endRecord(out);
            else {
              this.#beginValue();
              this.#state = State.BinLen;
              this.#lenGot = 0;
            }
          } else if (b === EQ) {
            if (this.#nameLen === 0) {
              throw new SyntaxError("expected a field name before '=', found none");
            }
            this.#beginValue();
            this.#state = State.Text;
          } else {
            if (this.#nameLen >= MAX_NAME_BYTES) {
              throw new SyntaxError(`expected a field name of at most ${MAX_NAME_BYTES} bytes`);
            }
            this.#name[this.#nameLen++] = b;
          }
          break;
        }
        case State.Text: {
          const nl = chunk.indexOf(NL, i);
          const end = nl < 0 ? n : nl;
          this.#addValue(chunk.subarray(i, end));
          i = end;
          if (nl >= 0) {
            i++;
            this.#endValue();
          }
          break;
        }
        case State.BinLen: {
          while (i < n && this.#lenGot < 8) this.#len[this.#lenGot++] = chunk[i++]!;
          if (this.#lenGot === 8) {
            const v = new DataView(this.#len.buffer);
            const len = v.getUint32(0, true) + v.getUint32(4, true) * 4294967296;
            if (!Number.isSafeInteger(len)) throw new SyntaxError("expected a sane binary length");
            this.#remaining = len;
            this.#state = State.BinValue;
          }
          break;
        }
        case State.BinValue: {
          const take = Math.min(this.#remaining, n - i);
          this.#addValue(chunk.subarray(i, i + take));
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) this.#state = State.BinEnd;
          break;
        }
        case State.BinEnd: {
          if (chunk[i] !== NL) {
            throw new SyntaxError(`expected '\\n' after a binary field, found byte ${chunk[i]}`);
          }
          i++;
          this.#endValue();
          break;
        }
      }
    }
  }

  #beginValue(): void {
    this.#field = ascii.decode(this.#name.subarray(0, this.#nameLen));
    this.#nameLen = 0;
    this.#keepValue = this.#keep.has(this.#field);
    this.#parts = [];
    this.#valueLen = 0;
  }

  #addValue(bytes: Uint8Array): void {
    if (!this.#keepValue || bytes.length === 0) return;
    this.#valueLen += bytes.length;
    if (this.#valueLen > this.#max) {
      this.#keepValue = false;
      this.#parts = [];
      this.#record.oversize.push(this.#field);
      return;
    }
    this.#parts.push(bytes.slice());
  }

  #endValue(): void {
    this.#state = State.Name;
    this.#recordHasFields = true;
    if (!this.#keepValue) return;
    const parts = this.#parts;
    this.#parts = [];
    let value: Uint8Array;
    if (parts.length === 1) value = parts[0]!;
    else {
      value = new Uint8Array(this.#valueLen);
      let at = 0;
      for (const p of parts) {
        value.set(p, at);
        at += p.length;
      }
    }
    const list = this.#record.fields.get(this.#field);
    if (list === undefined) this.#record.fields.set(this.#field, [value]);
    else if (list.length < MAX_FIELD_REPEATS) list.push(value);
  }

  #endRecord(out: ExportRecord[]): void {
    if (this.#recordHasFields) out.push(this.#record);
    this.#record = newRecord();
    this.#recordHasFields = false;
  }
}

function newRecord(): ExportRecord {
  return { fields: new Map(), oversize: [] };
}
