/**
 * docs/interfaces.md's config table is true of the validator: every literal default is what a
 * config without the key gets, every `A..B` range in the notes is where the key's bounds are, and
 * every enum lists exactly the values accepted. Each row is classified here: a probe (where the
 * key goes in a minimal config and how to read it back) or, when its default is prose, a reason
 * in `PROSE_DEFAULTS`; a new row that is neither fails.
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { documentedKeys } from "../../scripts/gen_packaging.ts";
import {
  type ActionConfig,
  type BantimeIncrement,
  type Config,
  ConfigError,
  type FleetConfig,
  type GlobalConfig,
  type JailConfig,
  parseConfig,
  type UserFilterConfig,
} from "./mod.ts";
import { formatDuration, parseDuration } from "./_duration.ts";

const DOCS = await Deno.readTextFile(new URL("../../docs/interfaces.md", import.meta.url));

/** Where a documented key goes in a minimal valid config, and how to read its value back. */
interface Probe {
  /** The key's path as its error messages start with it, e.g. `global.line_max_bytes`. */
  readonly path: string;
  /** A minimal valid config with `line` (`key = value`, or "" to leave the key out) in place. */
  readonly text: (line: string) => string;
  /** The key's effective value in the documentation's terms (durations in ms, binds as text). */
  readonly value: (c: Config) => unknown;
}

// ---- minimal configs ----

const JAIL_BASES: Readonly<Record<string, string>> = {
  file: 'filter = "sshd"\nlogpath = "/var/log/auth.log"\n',
  journald: 'filter = "sshd"\njournal_match = ["_SYSTEMD_UNIT=ssh.service"]\n',
  bans: "",
};

/** `[jails.sshd]` with what its source needs (`line` may set the source), then `more`. */
function jail(line: string, more = ""): string {
  const source = /^source = "(.*)"$/.exec(line)?.[1] ?? "file";
  return `[jails.sshd]\n${JAIL_BASES[source] ?? JAIL_BASES["file"]}${line}\n${more}`;
}

function inGlobal(key: string, value: (g: GlobalConfig) => unknown): Probe[] {
  return [{
    path: `global.${key}`,
    text: (l) => `[global]\n${l}\n`,
    value: (c) => value(c.global),
  }];
}

function inJail(key: string, value: (j: JailConfig) => unknown): Probe[] {
  return [{ path: `jails.sshd.${key}`, text: (l) => jail(l), value: (c) => value(c.jails[0]!) }];
}

/** A key of `[defaults]` and of a jail: probed in both, read from the jail. */
function shared(key: string, value: (j: JailConfig) => unknown): Probe[] {
  return [
    {
      path: `defaults.${key}`,
      text: (l) => `[defaults]\n${l}\n${jail("")}`,
      value: (c) => value(c.jails[0]!),
    },
    ...inJail(key, value),
  ];
}

/** A `bantime_increment` key, in `[defaults]` and in a jail. */
function increment(key: string, value: (b: BantimeIncrement) => unknown): Probe[] {
  const read = (c: Config) => value(c.jails[0]!.bantimeIncrement);
  return [
    {
      path: `defaults.bantime_increment.${key}`,
      text: (l) => `[defaults.bantime_increment]\n${l}\n${jail("")}`,
      value: read,
    },
    {
      path: `jails.sshd.bantime_increment.${key}`,
      text: (l) => jail("", `[jails.sshd.bantime_increment]\n${l}\n`),
      value: read,
    },
  ];
}

function inFilter(key: string, value: (f: UserFilterConfig) => unknown): Probe[] {
  return [{
    path: `filters.mine.${key}`,
    text: (l) => `[filters.mine]\npatterns = ["auth failure from <HOST>"]\n${l}\n`,
    value: (c) => value(c.filters[0]!),
  }];
}

function inFleet(key: string, value: (f: FleetConfig) => unknown): Probe[] {
  return [{
    path: `fleet.${key}`,
    text: (l) => `[fleet]\nurl = "nats://127.0.0.1"\n${l}\n`,
    value: (c) => value(c.fleet!),
  }];
}

const ACTION_BASES: Readonly<Record<string, string>> = {
  exec: 'on_ban = ["/bin/true"]\n',
  smtp: 'from = "root@localhost"\nto = "root@localhost"\n',
};

/** A key of an `[actions.NAME]` of type `type` (unless `line` sets the type). */
function inAction(key: string, type: string, value: (a: ActionConfig) => unknown): Probe[] {
  return [{
    path: `actions.a.${key}`,
    text: (l) => {
      const own = /^type = "(.*)"$/.exec(l)?.[1];
      const head = own === undefined ? `type = "${type}"\n${l}` : l;
      return `[actions.a]\n${head}\n${ACTION_BASES[own ?? type] ?? ACTION_BASES[type]}`;
    },
    value: (c) => value(c.actions[0]!),
  }];
}

/** `host:port` as the docs write it (`[v6]:port`), `""` for none. */
function bindText(b: { readonly hostname: string; readonly port: number } | null): string {
  if (b === null) return "";
  return `${b.hostname.includes(":") ? `[${b.hostname}]` : b.hostname}:${b.port}`;
}

// ---- the classification of every row (`SECTION KEY`, as the table's first two columns) ----

/** Rows checked: a literal default, an `A..B` range in the notes, or an enum. */
const PROBES: Readonly<Record<string, readonly Probe[]>> = {
  "global socket_path": inGlobal("socket_path", (g) => g.socketPath),
  "global state_file": inGlobal("state_file", (g) => g.stateFile),
  "global audit_log": inGlobal("audit_log", (g) => g.auditLog),
  "global audit_max_mb": inGlobal("audit_max_mb", (g) => g.auditMaxMb),
  "global journal_directory": inGlobal("journal_directory", (g) => g.journalDirectory),
  "global metrics_bind": inGlobal("metrics_bind", (g) => bindText(g.metricsBind)),
  "global log_level": inGlobal("log_level", (g) => g.logLevel),
  "global firewall": inGlobal("firewall", (g) => g.firewall),
  "global on_no_backend": inGlobal("on_no_backend", (g) => g.onNoBackend),
  "global seccomp": inGlobal("seccomp", (g) => g.seccomp),
  "global memory_ceiling_mb": inGlobal("memory_ceiling_mb", (g) => g.memoryCeilingMb),
  "global eviction": inGlobal("eviction", (g) => g.eviction),
  "global line_max_bytes": inGlobal("line_max_bytes", (g) => g.lineMaxBytes),
  "global save_interval": inGlobal("save_interval", (g) => g.saveIntervalMs),
  "defaults, jail bantime": shared("bantime", (j) => j.bantimeMs),
  "defaults, jail findtime": shared("findtime", (j) => j.findtimeMs),
  "defaults, jail maxretry": shared("maxretry", (j) => j.maxretry),
  "defaults, jail ignoreip": shared("ignoreip", (j) => j.ignoreip),
  "defaults, jail ipv6_prefix": shared("ipv6_prefix", (j) => j.ipv6Prefix),
  "defaults, jail ignoreself": shared("ignoreself", (j) => j.ignoreself),
  "defaults, jail missing_logpath": shared("missing_logpath", (j) => j.missingLogpath),
  "bantime_increment enabled": increment("enabled", (b) => b.enabled),
  "bantime_increment formula": increment("formula", (b) => b.formula),
  "bantime_increment factor": increment("factor", (b) => b.factor),
  "bantime_increment max": increment("max", (b) => b.maxMs),
  "bantime_increment jitter": increment("jitter", (b) => b.jitterMs),
  "bantime_increment overall": increment("overall", (b) => b.overall),
  "jail enabled": inJail("enabled", (j) => j.enabled),
  "jail mode": inJail("mode", (j) => j.mode),
  "jail source": inJail("source", (j) => j.source),
  "jail read_from": inJail("read_from", (j) => j.readFrom),
  "jail port": inJail("port", (j) => {
    const ports = j.scope?.ports ?? [];
    return ports.length === 1 && ports[0]![0] === ports[0]![1] ? ports[0]![0] : ports;
  }),
  "jail protocol": inJail("protocol", (j) => {
    const protocols = j.scope?.protocols ?? ["tcp", "udp"];
    return protocols.length === 2 ? "all" : protocols[0];
  }),
  "jail actions": inJail("actions", (j) => j.actions),
  "filters.NAME ignore_patterns": inFilter("ignore_patterns", (f) => f.ignorePatterns),
  "filters.NAME prefix": inFilter("prefix", (f) => f.prefix),
  "fleet accept": inFleet("accept", (f) => f.accept),
  "fleet stream": inFleet("stream", (f) => f.stream),
  "fleet max_rate": inFleet("max_rate", (f) => f.maxRate),
  "fleet ipv6_prefix": inFleet("ipv6_prefix", (f) => f.ipv6Prefix),
  "actions.NAME type": inAction("type", "exec", (a) => a.type),
  "actions.NAME on_unban": inAction("on_unban", "exec", (a) => a.type === "exec" && a.onUnban),
  "actions.NAME timeout": inAction("timeout", "exec", (a) => a.timeoutMs),
  "actions.NAME queue": inAction("queue", "exec", (a) => a.queue),
  "actions.NAME server": inAction("server", "smtp", (a) => a.type === "smtp" && bindText(a.server)),
};

/** Rows whose default is prose, not a value: why each is not compared. */
const PROSE_DEFAULTS: Readonly<Record<string, string>> = {
  "defaults, jail bantime_increment": "off: a table; its keys' defaults are its own rows",
  "jail filter": "required",
  "jail logpath": "required for file jails",
  "jail journal_match": "required for journald jails",
  "jail port": "all ports: no port means no scope",
  "jail protocol": "depends on whether port is set",
  "filters.NAME patterns": "required",
  "fleet url": "required",
  "fleet name": "the host name, known only at run time",
  "fleet user": "none: not set",
  "fleet password": "none: not set",
  "fleet token": "none: not set",
  "fleet creds": "none: not set",
  "fleet tls_ca": "none: the system's CAs",
  "fleet tls_cert": "none: not set",
  "fleet tls_key": "none: not set",
  "fleet share": "all jails and manual: a list the config's jails decide",
  "actions.NAME type": "required",
  "actions.NAME on_ban": "one of on_ban, on_unban is required (exec)",
  "actions.NAME from": "required (smtp)",
  "actions.NAME to": "required (smtp)",
};

// ---- reading the table ----

/** One row of the config table. */
interface Row {
  readonly id: string;
  readonly key: string;
  readonly type: string;
  readonly dflt: string;
  readonly notes: string;
}

/** A literal default cell (`128`, `true`, `` `"10m"` ``, `` `info` ``, `` `[]` (exec) ``). */
function literalOf(cell: string): { value: unknown; toml: string } | undefined {
  const m = /^(?:`([^`]*)`|(-?\d+(?:\.\d+)?|true|false))(?: \((?:exec|smtp)\))?$/.exec(cell);
  if (m === null) return undefined;
  const code = m[2] ?? m[1]!;
  if (m[2] !== undefined || /^["[]/.test(code)) return { value: JSON.parse(code), toml: code };
  return { value: code, toml: JSON.stringify(code) };
}

/** The first `A..B` of the notes (integers, or durations when either has a unit). */
function rangeOf(notes: string): { lo: string; hi: string; duration: boolean } | null {
  const m = /(?<![\w.])(\d+(?:ms|[smhdw])?)\.\.(\d+(?:ms|[smhdw])?)(?![\w.])/.exec(notes);
  if (m === null) return null;
  const [lo, hi] = [m[1]!, m[2]!];
  return { lo, hi, duration: /\D/.test(lo + hi) };
}

/** An enum's values: a leading `` `a` \| `b` `` list, else the `` `a`: … `` definitions. */
function enumOf(notes: string): string[] {
  const alt = /^`[^`]+`(?: \([^)]*\))?(?: \\\| `[^`]+`(?: \([^)]*\))?)+/.exec(notes);
  const re = alt === null ? /(?:^|; )`([^`]+)`:/g : /`([^`]+)`/g;
  return [...(alt?.[0] ?? notes).matchAll(re)].map((m) => m[1]!);
}

/** A documented duration in ms (a number is seconds; `"permanent"`: null). */
function durationMs(text: unknown): number | null {
  if (typeof text === "number") return text * 1000;
  const r = parseDuration(String(text), { subSecond: true, permanent: true });
  if (!r.ok) throw new Error(`the table's duration ${JSON.stringify(text)}: ${r.reason}`);
  return r.ms;
}

// ---- the checks, each returning its disagreements ----

type Outcome = { config: Config; errors?: undefined } | { errors: readonly string[] };

function outcome(text: string): Outcome {
  try {
    return { config: parseConfig(text, "c.toml") };
  } catch (e) {
    if (e instanceof ConfigError) return { errors: e.errors.map((x) => x.message) };
    throw e;
  }
}

/** `key = toml` is accepted and reads back as `want`. */
function accepts(p: Probe, key: string, toml: string, want: unknown): string[] {
  const r = outcome(p.text(`${key} = ${toml}`));
  if (r.errors !== undefined) return [`${p.path} = ${toml} is refused: ${r.errors.join("; ")}`];
  const got = p.value(r.config);
  if (isDeepStrictEqual(got, want)) return [];
  return [`${p.path} = ${toml} gives ${JSON.stringify(got)}, not ${JSON.stringify(want)}`];
}

/** `key = toml` is refused, by errors naming the key only; returns them too. */
function refuses(p: Probe, key: string, toml: string): { problems: string[]; errors: string[] } {
  const r = outcome(p.text(`${key} = ${toml}`));
  if (r.errors === undefined) return { problems: [`${p.path} = ${toml} is accepted`], errors: [] };
  const strays = r.errors.filter((m) => !m.startsWith(`${p.path}:`));
  const problems = strays.map((m) => `${p.path} = ${toml} is refused by another key: ${m}`);
  return { problems, errors: [...r.errors] };
}

function checkDefault(row: Row, p: Probe, d: { value: unknown; toml: string }): string[] {
  const r = outcome(p.text(""));
  if (r.errors !== undefined) return [`${row.id}: its minimal config is refused: ${r.errors}`];
  const want = row.type === "duration" ? durationMs(d.value) : d.value;
  const got = p.value(r.config);
  if (!isDeepStrictEqual(got, want)) {
    return [`${p.path}: documented default ${row.dflt}, but left out it is ${JSON.stringify(got)}`];
  }
  return accepts(p, row.key, d.toml, want);
}

function checkRange(row: Row, p: Probe, range: NonNullable<ReturnType<typeof rangeOf>>): string[] {
  const { lo, hi } = range;
  if (!range.duration) {
    const [a, b] = [Number(lo), Number(hi)];
    return [
      ...accepts(p, row.key, lo, a),
      ...accepts(p, row.key, hi, b),
      ...refuses(p, row.key, String(a - 1)).problems,
      ...refuses(p, row.key, String(b + 1)).problems,
    ];
  }
  const [a, b] = [durationMs(lo)!, durationMs(hi)!];
  const step = /ms$/.test(lo) || /ms$/.test(hi) ? 1 : 1000;
  return [
    ...accepts(p, row.key, `"${lo}"`, a),
    ...accepts(p, row.key, `"${hi}"`, b),
    ...(a < step ? [] : refuses(p, row.key, `"${formatDuration(a - step)}"`).problems),
    ...refuses(p, row.key, `"${formatDuration(b + step)}"`).problems,
  ];
}

/** Each value is accepted; a made-up one is refused by a message listing the code's values. */
function checkEnum(row: Row, p: Probe, values: readonly string[]): string[] {
  if (values.length < 2) return [`${row.id}: an enum whose notes list no values`];
  const out = values.flatMap((v) => accepts(p, row.key, JSON.stringify(v), v));
  const { problems, errors } = refuses(p, row.key, '"made-up"');
  out.push(...problems);
  const listed = /expected one of ("[^"]*"(?:, "[^"]*")*)/.exec(errors.join("\n"))?.[1];
  const code = listed === undefined ? [] : JSON.parse(`[${listed}]`) as string[];
  if (!isDeepStrictEqual([...code].sort(), [...values].sort())) {
    out.push(`${p.path}: documented ${JSON.stringify(values)}, the validator takes ${listed}`);
  }
  return out;
}

/** What is wrong with one row: unclassified, or a default, range or enum the code disagrees with. */
function checkRow(row: Row): string[] {
  const literal = literalOf(row.dflt);
  const range = rangeOf(row.notes);
  const values = row.type === "enum" ? enumOf(row.notes) : null;
  const out: string[] = [];
  if (literal === undefined && !(row.id in PROSE_DEFAULTS)) {
    out.push(`${row.id}: default ${row.dflt} is no literal and not listed in PROSE_DEFAULTS`);
  }
  if (literal !== undefined && row.id in PROSE_DEFAULTS) {
    out.push(`${row.id}: default ${row.dflt} is a literal; remove it from PROSE_DEFAULTS`);
  }
  const probes = PROBES[row.id];
  if (probes === undefined) {
    if (literal !== undefined || range !== null || values !== null) {
      out.push(`${row.id}: no probe in PROBES for its default, range or values`);
    }
    return out;
  }
  for (const p of probes) {
    if (literal !== undefined) out.push(...checkDefault(row, p, literal));
    if (range !== null) out.push(...checkRange(row, p, range));
    if (values !== null) out.push(...checkEnum(row, p, values));
  }
  return out;
}

/** Every way the config table of `docs` is not true of the validator, one line each. */
function disagreements(docs: string): string[] {
  const rows = documentedKeys(docs).map(({ section, cells }): Row => {
    const [, key, type, dflt, notes] = cells;
    const bare = key!.replace(/`/g, "");
    return { id: `${section} ${bare}`, key: bare, type: type!, dflt: dflt!, notes: notes ?? "" };
  });
  const ids = new Set(rows.map((r) => r.id));
  const stale = [PROBES, PROSE_DEFAULTS].flatMap(Object.keys)
    .filter((id) => !ids.has(id)).map((id) => `${id}: classified here but not in the table`);
  return [...stale, ...rows.flatMap(checkRow)];
}

// ---- tests ----

Deno.test("docs/interfaces.md's config defaults, ranges and enums are those of the validator", () => {
  deepEqual(disagreements(DOCS), []);
});

Deno.test("every config row has a literal or a listed prose default; 40 defaults, 12 ranges, 12 enums at least", () => {
  const rows = documentedKeys(DOCS).map((r) => r.cells);
  const literal = rows.filter((c) => literalOf(c[3]!) !== undefined).length;
  const ranged = rows.filter((c) => rangeOf(c[4]!) !== null).length;
  const enums = rows.filter((c) => c[2] === "enum").length;
  equal(literal + Object.keys(PROSE_DEFAULTS).length, rows.length);
  ok(literal >= 40 && ranged >= 12 && enums >= 12, `${literal} ${ranged} ${enums}`);
});

/** The docs with the first config table row of `key` changed by `edit`. */
function editRow(key: string, edit: (row: string) => string): string {
  const at = DOCS.indexOf("\n## Config (TOML)\n");
  const row = DOCS.slice(at).split("\n").find((l) => l.includes(`| \`${key}\``))!;
  return DOCS.slice(0, at) + DOCS.slice(at).replace(row, edit(row));
}

Deno.test("the config table check fails on a wrong default, range or enum value", () => {
  const has = (docs: string, text: string) => {
    const found = disagreements(docs);
    ok(found.some((m) => m.includes(text)), `no ${JSON.stringify(text)} in ${found.join("\n")}`);
  };
  has(editRow("line_max_bytes", (r) => r.replace("| 4096 ", "| 4097 ")), "left out it is 4096");
  has(editRow("save_interval", (r) => r.replace('"100ms"`', '"1s"` ')), "left out it is 100");
  has(editRow("save_interval", (r) => r.replace("10ms..1h", "10ms..2h")), '= "2h" is refused');
  has(editRow("maxretry", (r) => r.replace("1..1000", "2..1000")), "maxretry = 1 is accepted");
  has(editRow("eviction", (r) => r.replace("`deny-new`", "`deny-all`")), '"deny-all" is refused');
  has(editRow("eviction", (r) => r.replace(" \\| `log-and-drop`", "")), "the validator takes");
});

Deno.test("the config table check fails on a row nobody classified", () => {
  const row = { key: "x", type: "string", notes: "" };
  deepEqual(checkRow({ ...row, id: "global x", dflt: "the weather" }), [
    "global x: default the weather is no literal and not listed in PROSE_DEFAULTS",
  ]);
  deepEqual(checkRow({ ...row, id: "global x", dflt: "`x`" }), [
    "global x: no probe in PROBES for its default, range or values",
  ]);
});
