/**
 * fail2ban filters → fail2zig built-in filters and modes, and systemd journal matches.
 * Stages: `parseFilterSpec` (`sshd[mode=aggressive]`) → `mapFilter` (name and mode) →
 * `journalMatchFor` (the filter file's `journalmatch`, made expressible, plus known unit names).
 * @module
 */

import type { Note } from "./_settings.ts";
import { builtinFilterNames, filterModes } from "../filters/mod.ts";

/** A fail2ban `filter` value split into its name and `[key=value, …]` options. */
export interface FilterSpec {
  readonly name: string;
  readonly options: Map<string, string>;
}

/**
 * Parses fail2ban's `name[opt=value, opt2="quoted, value", opt3='x']` (fail2ban's
 * `extractOptions`). Returns null when the text is not of that shape.
 */
export function parseFilterSpec(text: string): FilterSpec | null {
  const m = /^([^[\s]+)\s*(?:\[(.*)\])?\s*$/s.exec(text.trim());
  if (m === null) return null;
  const options = new Map<string, string>();
  const body = m[2] ?? "";
  const opt = /\s*([\w.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^,]*))\s*(?:,|$)/y;
  let pos = 0;
  while (pos < body.length) {
    opt.lastIndex = pos;
    const o = opt.exec(body);
    if (o === null || o[0] === "") {
      return body.slice(pos).trim() === "" ? { name: m[1]!, options } : null;
    }
    options.set(o[1]!.toLowerCase(), (o[2] ?? o[3] ?? o[4] ?? "").trim());
    pos = opt.lastIndex;
  }
  return { name: m[1]!, options };
}

/** What a fail2ban filter becomes in fail2zig. */
export type FilterMapping =
  | {
    readonly kind: "filter";
    readonly filter: string;
    readonly mode: string;
    readonly notes: Note[];
  }
  | { readonly kind: "bans"; readonly notes: Note[] }
  | { readonly kind: "none"; readonly reason: string };

/**
 * fail2ban mode → fail2zig mode, per built-in: the built-ins carry fail2ban 1.1's mode names and
 * contents (docs/filters.md), so each mode maps to itself.
 */
const MODES: Readonly<Record<string, Readonly<Record<string, readonly [string, "exact"]>>>> = Object
  .fromEntries(
    builtinFilterNames().filter((n) => n !== "recidive").map((n) => [
      n,
      Object.fromEntries(filterModes(n)!.map((m) => [m, [m, "exact"] as const])),
    ]),
  );

/** fail2ban filter names that are another built-in with a fixed mode. */
const ALIASES: Readonly<Record<string, readonly [string, string]>> = {
  // fail2ban before 0.10 shipped postfix-sasl.conf; now it is postfix[mode=auth].
  "postfix-sasl": ["postfix", "auth"],
};

/** Filter options that do not change what matches (or are handled elsewhere). */
const HARMLESS_OPTIONS = new Set(["mode", "journalmatch", "logtype", "maxlines", "datepattern"]);

/** fail2ban filter names that map onto a fail2zig built-in (or onto `source = "bans"`). */
export const IMPORTABLE_FILTERS: readonly string[] = [
  ...Object.keys(MODES),
  ...Object.keys(ALIASES),
  "recidive",
];

/** Maps a fail2ban filter (name and options) to a fail2zig built-in, `bans` or nothing. */
export function mapFilter(spec: FilterSpec): FilterMapping {
  if (spec.name === "recidive") {
    return {
      kind: "bans",
      notes: [{
        level: "info",
        text:
          "recidive counts fail2zig's own bans in every jail (fail2ban's recidive reads fail2ban.log)",
      }],
    };
  }
  const alias = ALIASES[spec.name];
  const name = alias?.[0] ?? spec.name;
  const modes = Object.hasOwn(MODES, name) ? MODES[name] : undefined;
  if (modes === undefined) {
    return {
      kind: "none",
      reason: `fail2ban filter ${
        JSON.stringify(spec.name)
      } has no fail2zig built-in; define [filters.${spec.name}] with its patterns (docs/filters.md) and uncomment`,
    };
  }
  const notes: Note[] = [];
  const asked = alias?.[1] ?? spec.options.get("mode") ?? "normal";
  if (alias !== undefined && spec.options.has("mode")) {
    notes.push({
      level: "warn",
      text: `filter ${spec.name}: option mode=${spec.options.get("mode")} ignored`,
    });
  }
  // fail2ban's own default mode of a filter file is the one written there; "more" for postfix.
  const mode = Object.hasOwn(modes, asked) ? modes[asked] : undefined;
  if (mode === undefined) {
    return {
      kind: "none",
      reason: `fail2ban mode ${
        JSON.stringify(asked)
      } of filter ${spec.name} has no fail2zig equivalent (${Object.keys(modes).join(", ")} map)`,
    };
  }
  for (const k of spec.options.keys()) {
    if (!HARMLESS_OPTIONS.has(k)) {
      notes.push({
        level: "warn",
        text: `filter option ${k}=${
          spec.options.get(k)
        } not imported (fail2zig's built-in ${name} has no options)`,
      });
    }
  }
  return { kind: "filter", filter: name, mode: mode[0], notes };
}

/**
 * systemd units of each built-in's service, OR-ed with the units of the filter's `journalmatch`.
 * Covers Debian's names (`ssh.service`, `postfix@-.service`, `apache2.service`) as well as the
 * upstream ones that fail2ban's filters name.
 */
export const KNOWN_UNITS: Readonly<Record<string, readonly string[]>> = {
  "sshd": ["ssh.service", "sshd.service"],
  "nginx-http-auth": ["nginx.service"],
  "nginx-limit-req": ["nginx.service"],
  "nginx-botsearch": ["nginx.service"],
  "postfix": ["postfix@-.service", "postfix.service"],
  "dovecot": ["dovecot.service"],
  "proftpd": ["proftpd.service"],
  "vsftpd": ["vsftpd.service"],
  "apache-auth": ["apache2.service", "httpd.service"],
};

/**
 * fail2zig `journal_match` entries for a journald jail.
 *
 * fail2ban's `journalmatch` uses journalctl's syntax: terms separated by spaces are AND-ed, `+`
 * separates alternatives (OR). fail2zig's list ORs terms of the same field and ANDs different
 * fields, which expresses one alternative, or several alternatives that each test the same single
 * field. For other shapes (`_SYSTEMD_UNIT=sshd.service + _COMM=sshd`) the `_SYSTEMD_UNIT`
 * alternatives are kept and the rest dropped with a note (the filter still checks the program
 * name of every line). When the result is only units and the match came from the filter file (not
 * the jail), the built-in's `KNOWN_UNITS` are added. Without any `journalmatch`, `KNOWN_UNITS`
 * alone are used. Returns null when nothing can be derived.
 */
export function journalMatchFor(
  filter: string,
  journalmatch: { text: string; from: "jail" | "filter" } | undefined,
): { match: string[]; notes: Note[] } | null {
  const notes: Note[] = [];
  const known = (KNOWN_UNITS[filter] ?? []).map((u) => `_SYSTEMD_UNIT=${u}`);
  const text = journalmatch?.text.trim() ?? "";
  if (text === "") {
    if (known.length === 0) return null;
    notes.push({
      level: "info",
      text: `journal_match: the units of fail2zig's ${filter} service (no journalmatch found)`,
    });
    return { match: known, notes };
  }
  const groups: string[][] = [[]];
  for (const t of text.split(/\s+/).filter((w) => w !== "")) {
    if (t === "+") groups.push([]);
    else groups.at(-1)!.push(t);
  }
  for (let k = groups.length - 1; k >= 0; k--) if (groups[k]!.length === 0) groups.splice(k, 1);
  const bad = groups.flat().find((t) => !/^[A-Z_][A-Z0-9_]*=[^<>]*$/.test(t));
  if (bad !== undefined) {
    notes.push({
      level: "warn",
      text: `journalmatch term ${
        JSON.stringify(bad)
      } is not FIELD=value; using the known units of ${filter}`,
    });
    return known.length === 0 ? null : { match: known, notes };
  }
  const field = (t: string) => t.slice(0, t.indexOf("="));
  let match: string[];
  if (groups.length === 1) match = groups[0]!;
  else if (groups.every((g) => g.length === 1 && field(g[0]!) === field(groups[0]![0]!))) {
    match = groups.map((g) => g[0]!);
  } else {
    const units = groups.filter((g) => g.length === 1 && field(g[0]!) === "_SYSTEMD_UNIT");
    const kept = units.length > 0 ? units : [groups[0]!];
    const dropped = groups.filter((g) => !kept.includes(g)).map((g) => g.join(" "));
    match = kept.flat();
    notes.push({
      level: "info",
      text: `journalmatch ${JSON.stringify(text)}: fail2zig cannot OR different fields; dropped ${
        dropped.join(" + ")
      }`,
    });
  }
  if (journalmatch?.from === "filter" && match.every((t) => field(t) === "_SYSTEMD_UNIT")) {
    for (const k of known) if (!match.includes(k)) match.push(k);
  }
  return { match, notes };
}
