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
  const located = new Map<string, Located>();
  const defined = new Map<string, Defined>();
  const duplicates: Duplicate[] = [];
  const lineStarts = [0];
  for (let k = 0; k < text.length; k++) if (text[k] === "\n") lineStarts.push(k + 1);
  let i = 0;
  let conflicts = 0;

  function position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const start = lineStarts[lo]!;
    return { line: lo + 1, column: [...text.slice(start, offset)].length + 1 };
  }
  function at(offset: number): string {
    const p = position(offset);
    return `${p.line}:${p.column}`;
  }
  function record(segs: readonly Segment[], loc: Located): void {
    const key = JSON.stringify(segs);
    if (!located.has(key)) located.set(key, loc);
  }
  function skipWs(): void {
    while (text[i] === " " || text[i] === "\t") i++;
  }
  function skipWsNl(): void {
    for (;;) {
      const c = text[i];
      if (c === " " || c === "\t" || c === "\r" || c === "\n") i++;
      else if (c === "#") { while (i < text.length && text[i] !== "\n") i++; }
      else return;
    }
  }
  function skipLine(): void {
    while (i < text.length && text[i] !== "\n") i++;
    if (i < text.length) i++;
  }

  // ---- strings ----
  function scanString(): ScannedString | null {
    const start = i;
    if (text.startsWith('"""', i)) return scanMulti('"', start);
    if (text.startsWith("'''", i)) return scanMulti("'", start);
    const quote = text[i];
    if (quote !== '"' && quote !== "'") return null;
    i++;
    const out: string[] = [];
    const map: number[] = [];
    while (i < text.length && text[i] !== quote && text[i] !== "\n") {
      if (quote === '"' && text[i] === "\\") escape(out, map);
      else {
        out.push(text[i]!);
        map.push(i);
        i++;
      }
    }
    if (text[i] !== quote) return null;
    map.push(i);
    i++;
    return { value: out.join(""), map };
  }
  function scanMulti(quote: string, start: number): ScannedString | null {
    i = start + 3;
    if (text[i] === "\n") i++;
    else if (text[i] === "\r" && text[i + 1] === "\n") i += 2;
    const out: string[] = [];
    const map: number[] = [];
    const delim = quote.repeat(3);
    while (i < text.length) {
      if (text.startsWith(delim, i)) {
        let n = 3;
        while (text[i + n] === quote && n < 5) n++;
        for (let k = 0; k < n - 3; k++) {
          out.push(quote);
          map.push(i + k);
        }
        map.push(i + n - 3);
        i += n;
        return { value: out.join(""), map };
      }
      if (quote === '"' && text[i] === "\\") {
        let j = i + 1;
        while (text[j] === " " || text[j] === "\t") j++;
        if (text[j] === "\n" || (text[j] === "\r" && text[j + 1] === "\n")) {
          i = j;
          while (/[ \t\r\n]/.test(text[i] ?? "")) i++;
          continue;
        }
        escape(out, map);
        continue;
      }
      out.push(text[i]!);
      map.push(i);
      i++;
    }
    return null;
  }
  function escape(out: string[], map: number[]): void {
    const start = i;
    const c = text[i + 1];
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
      i += 2;
      return;
    }
    const len = c === "u" ? 4 : c === "U" ? 8 : c === "x" ? 2 : 0;
    const hex = text.slice(i + 2, i + 2 + len);
    if (len > 0 && hex.length === len && /^[0-9A-Fa-f]+$/.test(hex)) {
      const cp = parseInt(hex, 16);
      const s = cp <= 0x10ffff ? String.fromCodePoint(cp) : "\ufffd";
      for (let k = 0; k < s.length; k++) {
        out.push(s[k]!);
        map.push(start);
      }
      i += 2 + len;
      return;
    }
    out.push("\\");
    map.push(start);
    i++;
  }

  // ---- keys ----
  function scanKey(): KeyParts | null {
    const segs: string[] = [];
    const offsets: number[] = [];
    for (;;) {
      skipWs();
      const start = i;
      const c = text[i];
      if (c === '"' || c === "'") {
        if (text.startsWith(c.repeat(3), i)) return null;
        const s = scanString();
        if (s === null) return null;
        segs.push(s.value);
      } else if (c !== undefined && BARE.test(c)) {
        while (i < text.length && BARE.test(text[i]!)) i++;
        segs.push(text.slice(start, i));
      } else return null;
      offsets.push(start);
      skipWs();
      if (text[i] !== ".") return { segs, offsets };
      i++;
    }
  }

  // ---- definitions (duplicates) ----
  function describe(d: Defined): string {
    switch (d.state) {
      case "header":
      case "implicit":
        return `a table defined at ${at(d.offset)}`;
      case "dotted":
        return `a table defined by dotted keys at ${at(d.offset)}`;
      case "aot":
        return `an array of tables defined at ${at(d.offset)}`;
      default:
        return `a value defined at ${at(d.offset)}`;
    }
  }
  /**
   * Records a duplicate; `exact`: the same key assigned twice (dropping the second loses
   * nothing). Its span is completed (or dropped) by the statement loop.
   */
  function conflict(offset: number, message: string, exact = false): Segment[] {
    duplicates.push(exact ? { offset, message, span: [offset, offset] } : { offset, message });
    conflicts++;
    return [`\u0000conflict${conflicts}`];
  }
  /** Handles `[a.b]` or `[[a.b]]`; returns the path keys below it belong to. */
  function header(parts: KeyParts, array: boolean): Segment[] {
    let path: Segment[] = [];
    for (let k = 0; k < parts.segs.length; k++) {
      const seg = parts.segs[k]!;
      const offset = parts.offsets[k]!;
      path = [...path, seg];
      const key = JSON.stringify(path);
      const d = defined.get(key);
      const last = k === parts.segs.length - 1;
      const name = formatPath(path);
      if (!last) {
        if (d === undefined) defined.set(key, { state: "implicit", offset, count: 0 });
        else if (d.state === "value" || d.state === "inline") {
          return conflict(offset, `${name} is ${describe(d)}, not a table`);
        } else if (d.state === "aot") path = [...path, d.count - 1];
        record(path, { keyOffset: offset, valueOffset: -1, kind: "table", raw: "" });
        continue;
      }
      if (array) {
        if (d === undefined) defined.set(key, { state: "aot", offset, count: 1 });
        else if (d.state === "aot") d.count++;
        else return conflict(offset, `duplicate key: [[${name}]] redefines ${describe(d)}`);
        record(path, { keyOffset: offset, valueOffset: -1, kind: "array", raw: "" });
        const element = [...path, defined.get(key)!.count - 1];
        defined.set(JSON.stringify(element), { state: "header", offset, count: 0 });
        record(element, { keyOffset: offset, valueOffset: -1, kind: "table", raw: "" });
        return element;
      }
      if (d === undefined || d.state === "implicit") {
        defined.set(key, { state: "header", offset, count: 0 });
      } else if (d.state === "header") {
        return conflict(offset, `duplicate table [${name}] (first defined at ${at(d.offset)})`);
      } else return conflict(offset, `duplicate key: [${name}] redefines ${describe(d)}`);
      record(path, { keyOffset: offset, valueOffset: -1, kind: "table", raw: "" });
    }
    return path;
  }
  /** Registers `key = …` below `base`; returns the full path, or null after a conflict. */
  function define(base: readonly Segment[], parts: KeyParts): Segment[] | null {
    let path: Segment[] = [...base];
    for (let k = 0; k < parts.segs.length; k++) {
      const offset = parts.offsets[k]!;
      path = [...path, parts.segs[k]!];
      const key = JSON.stringify(path);
      const d = defined.get(key);
      const name = formatPath(path);
      if (k < parts.segs.length - 1) {
        if (d === undefined) defined.set(key, { state: "dotted", offset, count: 0 });
        else if (d.state === "header" || d.state === "implicit") {
          conflict(offset, `duplicate key: ${name} extends ${describe(d)} with a dotted key`);
          return null;
        } else if (d.state !== "dotted") {
          conflict(offset, `duplicate key: ${name} is already ${describe(d)}`);
          return null;
        }
        record(path, { keyOffset: offset, valueOffset: -1, kind: "table", raw: "" });
      } else if (d !== undefined) {
        const what = d.state === "value" || d.state === "inline"
          ? `first defined at ${at(d.offset)}`
          : `already ${describe(d)}`;
        conflict(offset, `duplicate key ${name} (${what})`, true);
        return null;
      } else defined.set(key, { state: "value", offset, count: 0 });
    }
    return path;
  }

  // ---- values ----
  /** Scans a value at `i`, recording it (and its items) under `path`. */
  function value(path: readonly Segment[], keyOffset: number, register: boolean): boolean {
    const start = i;
    const c = text[i];
    if (c === '"' || c === "'") {
      const s = scanString();
      if (s === null) return false;
      record(path, {
        keyOffset,
        valueOffset: start,
        kind: "string",
        raw: text.slice(start, i),
        stringMap: Int32Array.from(s.map),
      });
      return true;
    }
    if (c === "[") {
      i++;
      record(path, { keyOffset, valueOffset: start, kind: "array", raw: "" });
      for (let index = 0;; index++) {
        skipWsNl();
        if (text[i] === "]") {
          i++;
          return true;
        }
        const itemStart = i;
        if (!value([...path, index], itemStart, false)) return false;
        skipWsNl();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return true;
        } else return false;
      }
    }
    if (c === "{") {
      i++;
      record(path, { keyOffset, valueOffset: start, kind: "table", raw: "" });
      if (register) {
        const d = defined.get(JSON.stringify(path));
        if (d !== undefined) d.state = "inline";
      }
      skipWs();
      if (text[i] === "}") {
        i++;
        return true;
      }
      for (;;) {
        const parts = scanKey();
        if (parts === null) return false;
        skipWs();
        if (text[i] !== "=") return false;
        i++;
        skipWs();
        const full = define(path, parts);
        const target = full ?? [`\u0000conflict${conflicts}`];
        if (!value(target, parts.offsets[parts.offsets.length - 1]!, full !== null)) return false;
        skipWs();
        if (text[i] === ",") {
          i++;
          skipWs();
          continue;
        }
        if (text[i] === "}") {
          i++;
          return true;
        }
        return false;
      }
    }
    while (i < text.length && !/[\s,\]}#]/.test(text[i]!)) i++;
    if (DATE.test(text.slice(start, i)) && text[i] === " " && /\d/.test(text[i + 1] ?? "")) {
      i++;
      while (i < text.length && !/[\s,\]}#]/.test(text[i]!)) i++;
    }
    const raw = text.slice(start, i);
    if (raw === "") return false;
    record(path, { keyOffset, valueOffset: start, kind: scalarKind(raw), raw });
    return true;
  }

  // ---- lines ----
  let table: Segment[] = [];
  while (i < text.length) {
    skipWsNl();
    if (i >= text.length) break;
    const lineStart = i;
    if (text[i] === "[") {
      const array = text[i + 1] === "[";
      i += array ? 2 : 1;
      const parts = scanKey();
      if (parts !== null && text.startsWith(array ? "]]" : "]", i)) {
        i += array ? 2 : 1;
        table = header(parts, array);
      }
    } else {
      const parts = scanKey();
      if (parts !== null) {
        skipWs();
        if (text[i] === "=") {
          i++;
          skipWs();
          const count = duplicates.length;
          const full = define(table, parts);
          const path = full ?? [`\u0000conflict${conflicts}`];
          const ok = value(path, parts.offsets[parts.offsets.length - 1]!, full !== null);
          // Blank-able only when the statement itself repeats a key and was fully understood.
          for (let k = count; k < duplicates.length; k++) {
            const dup = duplicates[k]!;
            if (dup.span !== undefined && full === null && ok && duplicates.length === count + 1) {
              dup.span = [parts.offsets[0]!, i];
            } else delete dup.span;
          }
        }
      }
    }
    // The rest of the line is a comment (or text smol-toml rejects); a statement always ends it.
    if (i === lineStart || i < text.length) skipLine();
  }

  return {
    get: (segments) => located.get(JSON.stringify(segments)),
    position,
    duplicates,
  };
}

function scalarKind(raw: string): ValueKind {
  if (raw === "true" || raw === "false") return "boolean";
  if (/^\d{4}-\d{2}-\d{2}|^\d{2}:\d{2}/.test(raw)) return "datetime";
  if (/^[+-]?(inf|nan)$/.test(raw)) return "float";
  if (/^[+-]?0[xob]/.test(raw)) return "integer";
  return /[.eE]/.test(raw) ? "float" : "integer";
}
