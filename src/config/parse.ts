/** `parseConfig(text, path)`: TOML text → validated, deep-frozen `Config`. @module */
import { parse, TomlError } from "smol-toml";
import type { Config } from "./types.ts";
import { ConfigError, type ConfigIssue } from "./errors.ts";
import { type Layout, locate } from "./_locate.ts";
import { validate } from "./_validate.ts";
import { checkBounds } from "./_bounds.ts";

/**
 * Parses and validates config text without touching the file system. `path` only labels the
 * errors. Throws `ConfigError` holding every problem found (one for a TOML syntax error or a
 * size bound of `_bounds.ts` exceeded — checked first, before any value is built; all duplicate
 * keys and tables; all schema problems otherwise).
 */
export function parseConfig(text: string, path: string): Config {
  const tooBig = checkBounds(text, path);
  if (tooBig !== null) throw new ConfigError([tooBig]);
  const layout = locate(text);
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    const detail = (e.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "");
    if (layout.duplicates.length > 0 && /redefine|already defined/.test(detail)) {
      const issues = layout.duplicates.map((d): ConfigIssue => ({
        path,
        ...layout.position(d.offset),
        message: d.message,
      }));
      throw new ConfigError([...issues, ...checkWithoutDuplicates(text, path, layout)]);
    }
    throw new ConfigError([{
      path,
      line: e.line,
      column: codePointColumn(text, e.line, e.column),
      message: `invalid TOML: ${detail}`,
    }]);
  }
  const { config, issues } = validate(doc, path, layout);
  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze(config);
}

/**
 * When every duplicate is a `key = value` statement, blanks them out (the first occurrence wins,
 * line and column numbers are kept) and returns the schema problems of the rest, so that one
 * duplicate does not hide the other mistakes. Returns nothing for duplicate tables.
 */
function checkWithoutDuplicates(text: string, path: string, layout: Layout): ConfigIssue[] {
  if (!layout.duplicates.every((d) => d.span !== undefined)) return [];
  let patched = text;
  for (const d of layout.duplicates) {
    const [start, end] = d.span!;
    patched = patched.slice(0, start) + patched.slice(start, end).replace(/[^\n]/g, " ") +
      patched.slice(end);
  }
  try {
    return validate(parse(patched) as Record<string, unknown>, path, layout).issues;
  } catch (e) {
    if (e instanceof TomlError) return [];
    throw e;
  }
}

/** smol-toml counts columns in UTF-16 units; messages count characters. */
function codePointColumn(text: string, line: number, column: number): number {
  const lineText = text.split("\n")[line - 1];
  if (lineText === undefined) return column;
  return [...lineText.slice(0, column - 1)].length + 1;
}

/** Freezes `value` and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
