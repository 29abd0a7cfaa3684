/**
 * A fail2ban filter without a fail2zig built-in → a `[filters.NAME]` from its `filter.d` file:
 * each `failregex`/`ignoreregex` line translated (`_regex.ts`) and compiled with the real pattern
 * compiler; each one that cannot be is quoted with the reason, as written, for the administrator.
 * @module
 */

import type { FilterSpec } from "./_filters.ts";
import { type IniTree, InterpolationError, readFiles } from "./_ini.ts";
import type { Note } from "./_settings.ts";
import { translateRegex } from "./_regex.ts";
import type { FileReader } from "./fs.ts";
import { checkPattern, PatternError } from "../filters/mod.ts";

/** fail2zig filter names (docs/interfaces.md). */
const FILTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$/;

/** The `[filters.NAME]` made, when at least one failregex translated. */
export interface UserFilter {
  readonly name: string;
  readonly patterns: string[];
  readonly ignorePatterns: string[];
  readonly prefix: "syslog" | "none";
}

/** A TOML string of `text`: a literal string when it can be one (pasted as is, nothing doubled). */
export function tomlString(text: string): string {
  // deno-lint-ignore no-control-regex
  return /['\u0000-\u001f\u007f]/.test(text) ? JSON.stringify(text) : `'${text}'`;
}

/** The regex lines of `key` in `[Definition]`. */
function regexLines(tree: IniTree, key: string): string[] {
  return (tree.raw("Definition", key) ?? "").split("\n").map((l) => l.trim())
    .filter((l) => l !== "");
}

/**
 * Reads `filter.d/NAME.conf` (with its includes and `.local`) and translates its regexes. Returns
 * the filter (undefined when no failregex translated) and one note per regex.
 */
export async function userFilterFor(
  spec: FilterSpec,
  ctx: { root: string; reader: FileReader },
): Promise<{ filter?: UserFilter; notes: Note[] }> {
  const name = spec.name;
  if (!/^[\w.-]+$/.test(name)) return { notes: [] };
  const tree = await readFiles([`${ctx.root}/filter.d/${name}.conf`], ctx.reader);
  if (tree.files.length === 0) {
    return {
      notes: [{ level: "warn", text: `filter.d/${name}.conf not found: no regexes to quote` }],
    };
  }
  const lookup = (key: string): string | undefined => {
    if (spec.options.has(key)) return spec.options.get(key);
    for (const sec of ["Definition", "Init"]) {
      try {
        const v = tree.get(sec, key, spec.options);
        if (v !== undefined) return v;
      } catch (e) {
        if (!(e instanceof InterpolationError)) throw e;
      }
    }
    return undefined;
  };
  const notes: Note[] = [];
  const out = { fail: [] as string[], ignore: [] as string[], syslog: false };
  const untranslated: string[] = [];
  for (const key of ["failregex", "ignoreregex"] as const) {
    regexLines(tree, key).forEach((line, i) => {
      const where = `${key}[${i}] of filter.d/${name}.conf`;
      const t = translateRegex(line, lookup);
      let reason = t.ok ? undefined : t.reason;
      if (t.ok) {
        try {
          checkPattern(t.pattern, key === "failregex");
        } catch (e) {
          if (!(e instanceof PatternError)) throw e;
          reason = `its translation ${tomlString(t.pattern)} is refused: ${e.message}`;
        }
      }
      if (t.ok && reason === undefined) {
        (key === "failregex" ? out.fail : out.ignore).push(t.pattern);
        if (key === "failregex" && t.syslog) out.syslog = true;
        const extra = t.notes.length > 0 ? ` (${t.notes.join("; ")})` : "";
        notes.push({ level: "info", text: `${where} translated: ${tomlString(line)}${extra}` });
      } else {
        untranslated.push(where);
        notes.push({
          level: "info",
          text: `untranslated ${where}: ${tomlString(line)} — ${reason}`,
        });
      }
    });
  }
  if (out.fail.length === 0) return { notes };
  if (!FILTER_NAME.test(name)) {
    notes.push({
      level: "warn",
      text: `filter ${name}: not a fail2zig filter name (1-24 letters, digits, - or _)`,
    });
    return { notes };
  }
  const daemon = out.syslog ? lookup("_daemon")?.trim() : undefined;
  if (daemon) {
    notes.push({
      level: "info",
      text: `fail2ban also required the program ${
        JSON.stringify(daemon)
      } (_daemon); a fail2zig user filter matches the message of any program`,
    });
  }
  for (const where of untranslated) {
    notes.push({
      level: "warn",
      text: `[filters.${name}] lacks ${where} (untranslated, quoted above): add it by hand`,
    });
  }
  return {
    filter: {
      name,
      patterns: out.fail,
      ignorePatterns: out.ignore,
      prefix: out.syslog ? "syslog" : "none",
    },
    notes,
  };
}
