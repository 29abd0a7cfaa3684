/**
 * Size bounds of a config's TOML, checked on the raw text before anything builds values: the
 * daemon's isolates have 16 MiB of old space (`OLD_SPACE_MB`), and a deeply nested or huge document (`x = ` and
 * 5,000 `[`, a 400,000-element array) made both the TOML parser and the position scan exhaust the
 * stack or the heap — killing `config check`, and the running daemon on `reload`. One linear pass
 * that knows only strings, comments and brackets; smol-toml still judges the syntax.
 * @module
 */
import type { ConfigIssue } from "./errors.ts";

/** Deepest nesting of arrays and inline tables (a table header counts as one level). */
export const MAX_CONFIG_NESTING = 32;
/** Most elements of one array or entries of one inline table. */
export const MAX_CONFIG_ARRAY_ELEMENTS = 2048;
/** Most values in a file (`key = value` pairs plus array elements). */
export const MAX_CONFIG_VALUES = 4096;
/** Longest string, in UTF-16 units as written (escapes included). */
export const MAX_CONFIG_STRING_CHARS = 16_384;
/** Most string characters in a file, in UTF-16 units as written. */
export const MAX_CONFIG_STRING_TOTAL = 131_072;

/** The first bound `text` exceeds, as an issue at the offending character; null when none. */
export function checkBounds(text: string, path: string): ConfigIssue | null {
  const open: number[] = []; // elements so far, per open bracket
  let values = 0;
  let stringChars = 0;
  let i = 0;
  const fail = (at: number, message: string): ConfigIssue => {
    const lineStart = text.lastIndexOf("\n", at - 1) + 1;
    let line = 1;
    for (let k = text.indexOf("\n"); k >= 0 && k < at; k = text.indexOf("\n", k + 1)) line++;
    return { path, line, column: [...text.slice(lineStart, at)].length + 1, message };
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === "#") {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl;
    } else if (c === '"' || c === "'") {
      const end = stringEnd(text, i);
      if (end < 0) return null; // unterminated: the parser reports it
      const n = end - i;
      if (n > MAX_CONFIG_STRING_CHARS) {
        return fail(
          i,
          `a string of ${n} characters; at most ${MAX_CONFIG_STRING_CHARS} are allowed`,
        );
      }
      stringChars += n;
      if (stringChars > MAX_CONFIG_STRING_TOTAL) {
        return fail(i, `more than ${MAX_CONFIG_STRING_TOTAL} characters of strings in the file`);
      }
      i = end;
    } else {
      if (c === "[" || c === "{") {
        if (open.push(0) > MAX_CONFIG_NESTING) {
          return fail(i, `arrays or tables nested deeper than ${MAX_CONFIG_NESTING} levels`);
        }
      } else if (c === "]" || c === "}") open.pop();
      else if (c === "," && open.length > 0) {
        if (++open[open.length - 1]! >= MAX_CONFIG_ARRAY_ELEMENTS) {
          return fail(i, `more than ${MAX_CONFIG_ARRAY_ELEMENTS} elements in one array or table`);
        }
      }
      if (c === "=" || c === ",") {
        if (++values > MAX_CONFIG_VALUES) {
          return fail(i, `more than ${MAX_CONFIG_VALUES} values in the file`);
        }
      }
      i++;
    }
  }
  return null;
}

/** Offset just past the string starting at `start`, or -1 when it does not end. */
function stringEnd(text: string, start: number): number {
  const q = text[start]!;
  const multi = text.startsWith(q.repeat(3), start);
  const delim = multi ? q.repeat(3) : q;
  let i = start + delim.length;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\\" && q === '"') i += 2;
    else if (text.startsWith(delim, i)) {
      i += delim.length;
      for (let k = 0; k < 2 && multi && text[i] === q; k++) i++; // `"""a""""` ends in a quote
      return i;
    } else if (c === "\n" && !multi) return -1;
    else i++;
  }
  return -1;
}
