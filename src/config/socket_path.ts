/**
 * `socketPathOf(text)`: the `[global] socket_path` of config text that may not validate, so that
 * a broken config never keeps the administrator's client from reaching the daemon. Pure.
 * @module
 */
import { parse } from "smol-toml";
import { MAX_SOCKET_PATH_BYTES } from "./_validate.ts";

/** A `socket_path = "…"` (or `'…'`) line, for text that is not even valid TOML. */
const SOCKET_LINE = /^[ \t]*socket_path[ \t]*=[ \t]*(?:"([^"\\\n]*)"|'([^'\n]*)')[ \t]*(?:#.*)?$/;
/** A table header line: `[name]` or `[a.b]`. */
const TABLE_LINE = /^[ \t]*\[\s*([^\]]*?)\s*\][ \t]*(?:#.*)?$/;

/**
 * The socket path the config names, read leniently: from the parsed TOML when it parses (whatever
 * else is wrong in it), else from a plain `socket_path = "…"` line in its `[global]` table. A
 * value that is not an absolute path of at most 107 bytes counts as absent.
 * @returns the path, or `null` when the text names none
 */
export function socketPathOf(text: string): string | null {
  let value: unknown;
  try {
    const doc = parse(text) as Record<string, unknown>;
    const global = doc["global"];
    value = typeof global === "object" && global !== null && !Array.isArray(global)
      ? (global as Record<string, unknown>)["socket_path"]
      : undefined;
  } catch {
    value = scanLines(text);
  }
  return usable(value) ? value : null;
}

function scanLines(text: string): string | undefined {
  let table = "";
  let found: string | undefined;
  for (const line of text.split("\n")) {
    const header = TABLE_LINE.exec(line);
    if (header) {
      table = header[1]!;
      continue;
    }
    if (table !== "global") continue;
    const m = SOCKET_LINE.exec(line.replace(/\r$/, ""));
    if (m) found = m[1] ?? m[2];
  }
  return found;
}

function usable(value: unknown): value is string {
  return typeof value === "string" && value.startsWith("/") && !value.includes("\0") &&
    new TextEncoder().encode(value).length <= MAX_SOCKET_PATH_BYTES;
}
