/**
 * A tokenizer-level scan of TOML text that maps key paths (`jails.sshd.bantime`, array items
 * `jails.sshd.ignoreip[1]`) back to where they are written, and finds duplicate keys and tables
 * with the position of the second occurrence. smol-toml parses and validates the syntax; this scan
 * only locates, so it is tolerant: on text it does not understand it skips to the next line.
 *
 * Stages: scan lines (headers, key/value pairs) → scan values (strings with an offset map,
 * arrays, inline tables, scalars) → record each path once, at its first occurrence.
 * @module
 */

/** What a located value is, as written (TOML distinguishes `5` from `5.0`). */
export type ValueKind =
  | "string"
  | "integer"
  | "float"
  | "boolean"
  | "datetime"
  | "array"
  | "table";

/** Where a key path is written. Offsets index the text (UTF-16 units). */
export interface Located {
  /** Start of the key segment naming this path (array items: the item itself). */
  readonly keyOffset: number;
  /** Start of the value; `-1` for tables made by headers or dotted keys. */
  readonly valueOffset: number;
  readonly kind: ValueKind;
  /** Raw text of a scalar value (for messages such as `found float 5.0`). */
  readonly raw: string;
  /**
   * For strings: `map[i]` is the text offset where decoded UTF-16 unit `i` is written;
   * `map[length]` is the closing delimiter.
   */
  readonly stringMap?: ArrayLike<number>;
}

/** A key or table defined twice: where the second occurrence is, and why it is wrong. */
export interface Duplicate {
  readonly offset: number;
  readonly message: string;
  /**
   * For a duplicate `key = value` statement: its text span `[start, end)`, which can be blanked
   * out to check the rest of the file. Absent for duplicate tables.
   */
  span?: readonly [number, number];
}

/** Path segment: a key, or an array index. */
export type Segment = string | number;

/** Result of the scan. */
export interface Layout {
  /** Where `segments` is first written, if it is. */
  get(segments: readonly Segment[]): Located | undefined;
  /** 1-based line and column (in characters) of a text offset. */
  position(offset: number): { line: number; column: number };
  /** Every duplicate key or table, in file order. */
  readonly duplicates: readonly Duplicate[];
}

/** Formats a key path for messages: `jails.sshd.ignoreip[1]`, quoting non-bare keys. */
export function formatPath(segments: readonly Segment[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else {
      const key = /^[A-Za-z0-9_-]+$/.test(s) ? s : JSON.stringify(s);
      out += out === "" ? key : `.${key}`;
    }
  }
  return out;
}

type State = "header" | "implicit" | "dotted" | "inline" | "value" | "aot";

interface Defined {
  state: State;
  offset: number;
  /** Array of tables: number of elements so far. */
  count: number;
}

interface ScannedString {
  value: string;
  map: number[];
}

interface KeyParts {
  segs: string[];
  offsets: number[];
}

const BARE = /[A-Za-z0-9_-]/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Scans `text` and returns where each key path is written. Never throws. */
export function locate(text: string): Layout {
  const scan = new Locator(text);
  scan.statements();
  return {
    get: (segments) => scan.located.get(JSON.stringify(segments)),
    position: (offset) => scan.position(offset),
    duplicates: scan.duplicates,
  };
}

/** The scanner behind `locate`: a cursor over the text and what it has found so far. */
class Locator {
  readonly text: string;
  readonly located = new Map<string, Located>();
  readonly defined = new Map<string, Defined>();
  readonly duplicates: Duplicate[] = [];
  readonly lineStarts = [0];
  i = 0;
  conflicts = 0;

  constructor(text: string) {
    this.text = text;
    for (let k = 0; k < text.length; k++) if (text[k] === "\n") this.lineStarts.push(k + 1);
  }

  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const start = this.lineStarts[lo]!;
    return { line: lo + 1, column: [...this.text.slice(start, offset)].length + 1 };
  }
  at(offset: number): string {
    const p = this.position(offset);
    return `${p.line}:${p.column}`;
  }
  record(segs: readonly Segment[], loc: Located): void {
    const key = JSON.stringify(segs);
    if (!this.located.has(key)) this.located.set(key, loc);
  }
  skipWs(): void {
    while (this.text[this.i] === " " || this.text[this.i] === "\t") this.i++;
  }
  skipWsNl(): void {
    for (;;) {
      const c = this.text[this.i];
      if (c === " " || c === "\t" || c === "\r" || c === "\n") this.i++;
      else if (c === "#") {
        while (this.i < this.text.length && this.text[this.i] !== "\n") this.i++;
      } else return;
    }
  }
  skipLine(): void {
    while (this.i < this.text.length && this.text[this.i] !== "\n") this.i++;
    if (this.i < this.text.length) this.i++;
  }

  // ---- strings ----
  scanString(): ScannedString | null {
    const start = this.i;
    if (this.text.startsWith('"""', this.i)) return this.scanMulti('"', start);
    if (this.text.startsWith("'''", this.i)) return this.scanMulti("'", start);
    const quote = this.text[this.i];
    if (quote !== '"' && quote !== "'") return null;
    this.i++;
    const out: string[] = [];
    const map: number[] = [];
    while (this.i < this.text.length && this.text[this.i] !== quote && this.text[this.i] !== "\n") {
      if (quote === '"' && this.text[this.i] === "\\") this.escape(out, map);
      else {
        out.push(this.text[this.i]!);
        map.push(this.i);
        this.i++;
      }
    }
    if (this.text[this.i] !== quote) return null;
    map.push(this.i);
    this.i++;
    return { value: out.join(""), map };
  }
  scanMulti(quote: string, start: number): ScannedString | null {
    this.i = start + 3;
    if (this.text[this.i] === "\n") this.i++;
    else if (this.text[this.i] === "\r" && this.text[this.i + 1] === "\n") this.i += 2;
    const out: string[] = [];
    const map: number[] = [];
    const delim = quote.repeat(3);
    while (this.i < this.text.length) {
      if (this.text.startsWith(delim, this.i)) {
        let n = 3;
        while (this.text[this.i + n] === quote && n < 5) n++;
        for (let k = 0; k < n - 3; k++) {
          out.push(quote);
          map.push(this.i + k);
        }
        map.push(this.i + n - 3);
        this.i += n;
        return { value: out.join(""), map };
      }
      if (quote === '"' && this.text[this.i] === "\\") {
        let j = this.i + 1;
        while (this.text[j] === " " || this.text[j] === "\t") j++;
        if (this.text[j] === "\n" || (this.text[j] === "\r" && this.text[j + 1] === "\n")) {
          this.i = j;
          while (/[ \t\r\n]/.test(this.text[this.i] ?? "")) this.i++;
          continue;
        }
        this.escape(out, map);
        continue;
      }
      out.push(this.text[this.i]!);
      map.push(this.i);
      this.i++;
    }
    return null;
  }
  escape(out: string[], map: number[]): void {
    const start = this.i;
    const c = this.text[this.i + 1];
    const simple: Record<string, string> = {
      b: "\b",
      t: "\t",
      n: "\n",
      f: "\f",
      r: "\r",
      e: "\x1b",
      '"': '"',
      "\\": "\\",
    };
    if (c !== undefined && Object.hasOwn(simple, c)) {
      out.push(simple[c]!);
      map.push(start);
      this.i += 2;
      return;
    }
    const len = c === "u" ? 4 : c === "U" ? 8 : c === "x" ? 2 : 0;
    const hex = this.text.slice(this.i + 2, this.i + 2 + len);
    if (len > 0 && hex.length === len && /^[0-9A-Fa-f]+$/.test(hex)) {
      const cp = parseInt(hex, 16);
      const s = cp <= 0x10ffff ? String.fromCodePoint(cp) : "\ufffd";
      for (let k = 0; k < s.length; k++) {
        out.push(s[k]!);
        map.push(start);
      }
      this.i += 2 + len;
      return;
    }
    out.push("\\");
    map.push(start);
    this.i++;
  }

  // ---- keys ----
  scanKey(): KeyParts | null {
    const segs: string[] = [];
    const offsets: number[] = [];
    for (;;) {
      this.skipWs();
      const start = this.i;
      const c = this.text[this.i];
      if (c === '"' || c === "'") {
        if (this.text.startsWith(c.repeat(3), this.i)) return null;
        const s = this.scanString();
        if (s === null) return null;
        segs.push(s.value);
      } else if (c !== undefined && BARE.test(c)) {
        while (this.i < this.text.length && BARE.test(this.text[this.i]!)) this.i++;
        segs.push(this.text.slice(start, this.i));
      } else return null;
      offsets.push(start);
      this.skipWs();
      if (this.text[this.i] !== ".") return { segs, offsets };
      this.i++;
    }
  }

  // ---- definitions (duplicates) ----
  describe(d: Defined): string {
    switch (d.state) {
      case "header":
      case "implicit":
        return `a table defined at ${this.at(d.offset)}`;
      case "dotted":
        return `a table defined by dotted keys at ${this.at(d.offset)}`;
      case "aot":
        return `an array of tables defined at ${this.at(d.offset)}`;
      default:
        return `a value defined at ${this.at(d.offset)}`;
    }
  }
  /**
   * Records a duplicate; `exact`: the same key assigned twice (dropping the second loses
   * nothing). Its span is completed (or dropped) by the statement loop.
   */
  conflict(offset: number, message: string, exact = false): Segment[] {
    this.duplicates.push(exact ? { offset, message, span: [offset, offset] } : { offset, message });
    this.conflicts++;
    return [`\u0000conflict${this.conflicts}`];
  }
  /** Handles `[a.b]` or `[[a.b]]`; returns the path keys below it belong to. */
  header(parts: KeyParts, array: boolean): Segment[] {
    let path: Segment[] = [];
    for (let k = 0; k < parts.segs.length; k++) {
      const seg = parts.segs[k]!;
      const offset = parts.offsets[k]!;
      path = [...path, seg];
      const key = JSON.stringify(path);
      const d = this.defined.get(key);
      const last = k === parts.segs.length - 1;
      const name = formatPath(path);
      if (!last) {
        if (d === undefined) this.defined.set(key, { state: "implicit", offset, count: 0 });
        else if (d.state === "value" || d.state === "inline") {
          return this.conflict(offset, `${name} is ${this.describe(d)}, not a table`);
        } else if (d.state === "aot") path = [...path, d.count - 1];
        this.record(path, { keyOffset: offset, valueOffset: -1, kind: "table", raw: "" });
        continue;
      }
      if (array) {
        if (d === undefined) this.defined.set(key, { state: "aot", offset, count: 1 });
        else if (d.state === "aot") d.count++;
        else {return this.conflict(
            offset,
            `duplicate key: [[${name}]] redefines ${this.describe(d)}`,
          );}
        this.record(path, { keyOffset: offset, valueOffset: -1, kind: "array", raw: "" });
        const element = [...path, this.defined.get(key)!.count - 1];
        this.defined.set(JSON.stringify(element), { state: "header", offset, count: 0 });
        this.record(element, { keyOffset: offset, valueOffset: -1, kind: "table", raw: "" });
        return element;
      }
      if (d === undefined || d.state === "implicit") {
        this.defined.set(key, { state: "header", offset, count: 0 });
      } else if (d.state === "header") {
        return this.conflict(
          offset,
          `duplicate table [${name}] (first defined at ${this.at(d.offset)})`,
        );
      } else return this.conflict(offset, `duplicate key: [${name}] redefines ${this.describe(d)}`);
      this.record(path, { keyOffset: offset, valueOffset: -1, kind: "table", raw: "" });
    }
    return path;
  }
  /** Registers `key = …` below `base`; returns the full path, or null after a conflict. */
  define(base: readonly Segment[], parts: KeyParts): Segment[] | null {
    let path: Segment[] = [...base];
    for (let k = 0; k < parts.segs.length; k++) {
      const offset = parts.offsets[k]!;
      path = [...path, parts.segs[k]!];
      const key = JSON.stringify(path);
      const d = this.defined.get(key);
      const name = formatPath(path);
      if (k < parts.segs.length - 1) {
        if (d === undefined) this.defined.set(key, { state: "dotted", offset, count: 0 });
        else if (d.state === "header" || d.state === "implicit") {
          this.conflict(
            offset,
            `duplicate key: ${name} extends ${this.describe(d)} with a dotted key`,
          );
          return null;
        } else if (d.state !== "dotted") {
          this.conflict(offset, `duplicate key: ${name} is already ${this.describe(d)}`);
          return null;
        }
        this.record(path, { keyOffset: offset, valueOffset: -1, kind: "table", raw: "" });
      } else if (d !== undefined) {
        const what = d.state === "value" || d.state === "inline"
          ? `first defined at ${this.at(d.offset)}`
          : `already ${this.describe(d)}`;
        this.conflict(offset, `duplicate key ${name} (${what})`, true);
        return null;
      } else this.defined.set(key, { state: "value", offset, count: 0 });
    }
    return path;
  }

  // ---- values ----
  /** Scans a value at `this.i`, recording it (and its items) under `path`. */
  value(path: readonly Segment[], keyOffset: number, register: boolean): boolean {
    const start = this.i;
    const c = this.text[this.i];
    if (c === '"' || c === "'") {
      const s = this.scanString();
      if (s === null) return false;
      this.record(path, {
        keyOffset,
        valueOffset: start,
        kind: "string",
        raw: this.text.slice(start, this.i),
        stringMap: Int32Array.from(s.map),
      });
      return true;
    }
    if (c === "[") {
      this.i++;
      this.record(path, { keyOffset, valueOffset: start, kind: "array", raw: "" });
      for (let index = 0;; index++) {
        this.skipWsNl();
        if (this.text[this.i] === "]") {
          this.i++;
          return true;
        }
        const itemStart = this.i;
        if (!this.value([...path, index], itemStart, false)) return false;
        this.skipWsNl();
        if (this.text[this.i] === ",") this.i++;
        else if (this.text[this.i] === "]") {
          this.i++;
          return true;
        } else return false;
      }
    }
    if (c === "{") {
      this.i++;
      this.record(path, { keyOffset, valueOffset: start, kind: "table", raw: "" });
      if (register) {
        const d = this.defined.get(JSON.stringify(path));
        if (d !== undefined) d.state = "inline";
      }
      this.skipWs();
      if (this.text[this.i] === "}") {
        this.i++;
        return true;
      }
      for (;;) {
        const parts = this.scanKey();
        if (parts === null) return false;
        this.skipWs();
        if (this.text[this.i] !== "=") return false;
        this.i++;
        this.skipWs();
        const full = this.define(path, parts);
        const target = full ?? [`\u0000conflict${this.conflicts}`];
        if (!this.value(target, parts.offsets[parts.offsets.length - 1]!, full !== null)) {
          return false;
        }
        this.skipWs();
        if (this.text[this.i] === ",") {
          this.i++;
          this.skipWs();
          continue;
        }
        if (this.text[this.i] === "}") {
          this.i++;
          return true;
        }
        return false;
      }
    }
    while (this.i < this.text.length && !/[\s,\]}#]/.test(this.text[this.i]!)) this.i++;
    if (
      DATE.test(this.text.slice(start, this.i)) && this.text[this.i] === " " &&
      /\d/.test(this.text[this.i + 1] ?? "")
    ) {
      this.i++;
      while (this.i < this.text.length && !/[\s,\]}#]/.test(this.text[this.i]!)) this.i++;
    }
    const raw = this.text.slice(start, this.i);
    if (raw === "") return false;
    this.record(path, { keyOffset, valueOffset: start, kind: scalarKind(raw), raw });
    return true;
  }

  /** Reads every statement: table headers and `key = value` lines. */
  statements(): void {
    let table: Segment[] = [];
    while (this.i < this.text.length) {
      this.skipWsNl();
      if (this.i >= this.text.length) break;
      const lineStart = this.i;
      if (this.text[this.i] === "[") {
        const array = this.text[this.i + 1] === "[";
        this.i += array ? 2 : 1;
        const parts = this.scanKey();
        if (parts !== null && this.text.startsWith(array ? "]]" : "]", this.i)) {
          this.i += array ? 2 : 1;
          table = this.header(parts, array);
        }
      } else {
        const parts = this.scanKey();
        if (parts !== null) {
          this.skipWs();
          if (this.text[this.i] === "=") {
            this.i++;
            this.skipWs();
            const count = this.duplicates.length;
            const full = this.define(table, parts);
            const path = full ?? [`\u0000conflict${this.conflicts}`];
            const ok = this.value(path, parts.offsets[parts.offsets.length - 1]!, full !== null);
            // Blank-able only when the statement itself repeats a key and was fully understood.
            for (let k = count; k < this.duplicates.length; k++) {
              const dup = this.duplicates[k]!;
              if (
                dup.span !== undefined && full === null && ok &&
                this.duplicates.length === count + 1
              ) {
                dup.span = [parts.offsets[0]!, this.i];
              } else delete dup.span;
            }
          }
        }
      }
      // The rest of the line is a comment (or text smol-toml rejects); a statement always ends it.
      if (this.i === lineStart || this.i < this.text.length) this.skipLine();
    }
  }
}

function scalarKind(raw: string): ValueKind {
  if (raw === "true" || raw === "false") return "boolean";
  if (/^\d{4}-\d{2}-\d{2}|^\d{2}:\d{2}/.test(raw)) return "datetime";
  if (/^[+-]?(inf|nan)$/.test(raw)) return "float";
  if (/^[+-]?0[xob]/.test(raw)) return "integer";
  return /[.eE]/.test(raw) ? "float" : "integer";
}
