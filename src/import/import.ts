/**
 * `importFail2ban(dir)`: a fail2ban configuration tree → fail2zig TOML text that `config check`
 * accepts. Stages, in order: read the jail files in fail2ban's precedence (`_ini.ts`) → translate
 * `[DEFAULT]` into `[defaults]` (`_settings.ts`) → for each enabled jail: filter and mode
 * (`_filters.ts`), source (`file` with `logpath`, `journald` with `journal_match`, or `bans`), and
 * the ban settings that differ from `[defaults]` → validate each jail with the real config loader
 * (a jail it rejects is commented out with the reason) → render, validate the whole text once more.
 * @module
 */

import { ConfigError, parseConfig } from "../config/mod.ts";
import {
  DEFAULT_SECTION,
  INCLUDES_SECTION,
  type IniTree,
  readFiles,
  readTree,
  tryGet,
} from "./_ini.ts";
import {
  type FilterSpec,
  IMPORTABLE_FILTERS,
  journalMatchFor,
  mapFilter,
  parseFilterSpec,
} from "./_filters.ts";
import {
  type Note,
  parseBool,
  type Setting,
  SETTING_NAMES,
  type SettingName,
  translateSettings,
} from "./_settings.ts";
import type { FileReader } from "./fs.ts";
import { tomlString, type UserFilter, userFilterFor } from "./_user_filter.ts";
import { translateActions } from "./_actions.ts";
import { translateGlobal } from "./_global.ts";

/** fail2zig jail names (docs/interfaces.md). */
const JAIL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$/;
/** Most `logpath` entries fail2zig accepts in one jail. */
const MAX_LOGPATHS = 64;
/** fail2ban backends that read files (fail2zig uses inotify for all of them). */
const FILE_BACKENDS = new Set(["auto", "pyinotify", "inotify", "gamin", "polling"]);
/** fail2zig's default `bantime_increment.max`, in seconds. */
const DEFAULT_INCREMENT_MAX_S = 7 * 86_400;

/** Thrown when `dir` holds no `jail.conf`. */
export class NoJailConfError extends Error {
  /** Always `"NoJailConfError"`. */
  override name = "NoJailConfError";
}

/** What `importFail2ban` produced. */
export interface ImportResult {
  /** The fail2zig configuration (passes `parseConfig`). */
  readonly toml: string;
  /** Warnings, one line each, `[jail] text` (also written as comments into `toml`). */
  readonly warnings: readonly string[];
  /** Files read, in order, as paths. */
  readonly files: readonly string[];
  /** Jails written as `[jails.NAME]`. */
  readonly imported: readonly string[];
  /** Enabled jails written commented out, with the reason. */
  readonly skipped: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
}

/** Options of `importFail2ban`. */
export interface ImportOptions {
  /** Where files come from. */
  readonly reader: FileReader;
  /**
   * Checks config text; returns the problems (one per entry, each starting with the key path) or
   * `[]` when valid. Tests replace it to reach the fallback paths.
   * @default the real config loader (`parseConfig`)
   */
  readonly check?: (toml: string) => string[];
  /**
   * Whether a log file exists on the host the config is for. When given, a jail with `backend =
   * auto` whose every logpath is a literal path that does not exist reads the journal instead
   * (as Debian's `sshd_backend = systemd` does), when its service has a journal match. Absent:
   * logpaths are kept as they are (the tree may describe another host).
   */
  readonly logExists?: (path: string) => Promise<boolean>;
}

interface Block {
  name: string;
  /** The `[defaults]` table rather than a jail. */
  isDefaults?: boolean;
  /** The `[global]` table rather than a jail. */
  isGlobal?: boolean;
  pairs: Array<[string, string]>;
  increment: Array<[string, string]>;
  notes: Note[];
  skipped?: string;
  /** The `[filters.NAME]` translated from the jail's fail2ban filter file. */
  filter?: UserFilter;
}

/** Translates the fail2ban configuration in `dir` (e.g. `/etc/fail2ban`). */
export async function importFail2ban(dir: string, opts: ImportOptions): Promise<ImportResult> {
  const root = dir.replace(/(.)\/+$/, "$1");
  if (await opts.reader.read(`${root}/jail.conf`, 1 << 20) === null) {
    throw new NoJailConfError(`${root}: expected a fail2ban directory with jail.conf, found none`);
  }
  const server = await readTree(root, "fail2ban", opts.reader);
  const tree = await readTree(root, "jail", opts.reader);
  tree.setDefault("fail2ban_confpath", root);
  const defaults = translateSettings(tree, DEFAULT_SECTION);
  const header: Note[] = [...server.problems, ...tree.problems].map((p) => ({
    level: "warn",
    text: p,
  }));
  const global = translateGlobal(server, tree);
  const globalBlock: Block = {
    name: "global",
    isGlobal: true,
    pairs: global.pairs,
    increment: [],
    notes: global.notes,
  };
  const files = [...server.files, ...tree.files];
  const defaultsBlock = { ...settingsBlock("defaults", defaults, null), isDefaults: true };
  fixDefaults(defaultsBlock);
  // fail2ban's jail.conf names the logs of every service it knows; this host may lack some.
  defaultsBlock.pairs.unshift(["missing_logpath", '"warn"']);
  defaultsBlock.notes.push({
    level: "info",
    text: 'missing_logpath = "warn": a jail whose log file does not exist yet only warns; ' +
      'set "error" once config check reports none missing',
  });
  const check = opts.check ?? loaderProblems;
  dropRejectedDefaults(defaultsBlock, check);

  const blocks: Block[] = [];
  const taken = new Set<string>();
  /** `[actions.NAME]` tables by name; equal tables share one name. */
  const actions = new Map<string, string[]>();
  const define = (base: string, lines: string[]): string => {
    let name = base.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 20) || "action";
    for (let k = 2;; k++) {
      const had = actions.get(name);
      if (had === undefined) actions.set(name, lines);
      else if (had.join("\n") !== lines.join("\n")) {
        name = `${base.slice(0, 20)}-${k}`;
        continue;
      }
      return name;
    }
  };
  for (const section of tree.sectionNames()) {
    if (section === INCLUDES_SECTION || section.startsWith("KNOWN/") || section.includes("?")) {
      continue;
    }
    const enabled = tryGet(tree, section, "enabled");
    const on = enabled.value === undefined ? false : parseBool(enabled.value);
    if (enabled.error !== undefined || on === undefined) {
      header.push({
        level: "warn",
        text: `[${section}] left out: enabled ${
          enabled.error ?? `expected true/false, found ${JSON.stringify(enabled.value)}`
        }`,
      });
      continue;
    }
    if (!on) continue;
    const block = await translateJail(tree, section, {
      root,
      defaults,
      reader: opts.reader,
      ...(opts.logExists === undefined ? {} : { logExists: opts.logExists }),
      define,
    });
    block.name = uniqueName(section, taken, block.notes);
    blocks.push(block);
  }

  for (const b of blocks) {
    if (b.skipped !== undefined) continue;
    const problems = check(render([defaultsBlock, b], [], actions));
    if (problems.length > 0) b.skipped = `fail2zig config check rejects it: ${problems.join("; ")}`;
  }
  const tables = [
    ...(global.pairs.length + global.notes.length > 0 ? [globalBlock] : []),
    defaultsBlock,
    ...blocks,
  ];
  const toml = render(tables, headerLines(root, files, header), actions);
  // The promise of this command: what it prints passes `config check`.
  const problems = loaderProblems(toml);
  if (problems.length > 0) {
    throw new Error(`internal error: the imported config is invalid: ${problems.join("; ")}`);
  }

  const warnings: string[] = [];
  for (const n of header) if (n.level !== "info") warnings.push(n.text);
  for (const b of tables) {
    const label = b === defaultsBlock ? "[DEFAULT]" : `[${b.name}]`;
    if (b.skipped !== undefined) warnings.push(`${label} not imported: ${b.skipped}`);
    for (const n of b.notes) {
      if (n.level === "warn") warnings.push(`${label} ${n.text}`);
      if (n.level === "dropped") warnings.push(`${label} not imported: ${n.text}`);
    }
  }
  return {
    toml,
    warnings,
    files,
    imported: blocks.filter((b) => b.skipped === undefined).map((b) => b.name),
    skipped: blocks.filter((b) => b.skipped !== undefined).map((b) => ({
      name: b.name,
      reason: b.skipped!,
    })),
  };
}

/** Turns translated settings into a block; with `base`, keeps only what differs from it. */
function settingsBlock(
  name: string,
  settings: Map<SettingName, Setting>,
  base: Map<SettingName, Setting> | null,
  always: ReadonlySet<SettingName> = new Set(),
): Block {
  const block: Block = { name, pairs: [], increment: [], notes: [] };
  for (const key of SETTING_NAMES) {
    const s = settings.get(key);
    if (s === undefined) continue;
    const b = base?.get(key);
    const same = b !== undefined && JSON.stringify(b.pairs) === JSON.stringify(s.pairs) &&
      JSON.stringify(b.notes) === JSON.stringify(s.notes);
    if (same && !always.has(key)) continue;
    (key.startsWith("increment.") ? block.increment : block.pairs).push(
      ...s.pairs.map(([k, v]): [string, string] => [k, v]),
    );
    block.notes.push(...s.notes);
  }
  return block;
}

/** fail2zig rejects `bantime_increment.max` < `bantime` when enabled: lift max to bantime. */
function fixIncrementMax(block: Block, bantimeText: string | undefined, enabled: boolean): void {
  if (!enabled || bantimeText === undefined || block.increment.some(([k]) => k === "max")) return;
  const m = /^"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?"$/.exec(bantimeText);
  if (m === null) return;
  const [w, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const seconds = (((w * 7 + d) * 24 + h) * 60 + mi) * 60 + s;
  if (seconds > DEFAULT_INCREMENT_MAX_S) {
    block.increment.push(["max", bantimeText]);
    block.notes.push({
      level: "info",
      text:
        "bantime.maxtime not set: bantime_increment.max set to bantime (fail2zig's default 1w is shorter)",
    });
  }
}

function fixDefaults(block: Block): void {
  const bantime = block.pairs.find(([k]) => k === "bantime")?.[1];
  const enabled = block.increment.some(([k, v]) => k === "enabled" && v === "true");
  fixIncrementMax(block, bantime, enabled);
}

async function translateJail(
  tree: IniTree,
  section: string,
  ctx: {
    root: string;
    defaults: Map<SettingName, Setting>;
    reader: FileReader;
    define: (base: string, lines: string[]) => string;
    logExists?: (path: string) => Promise<boolean>;
  },
): Promise<Block> {
  const notes: Note[] = [];
  let unknownFilter: string | undefined;
  const skip = (reason: string, pairs: Array<[string, string]> = []): Block => ({
    name: section,
    pairs,
    increment: [],
    notes,
    // An unknown filter is the reason that matters; the rest would only follow from it.
    skipped: unknownFilter ?? reason,
  });
  const filterText = tryGet(tree, section, "filter");
  if (filterText.error !== undefined) return skip(`filter: ${filterText.error}`);
  if (filterText.value === undefined || filterText.value === "") return skip("no filter set");
  const spec = parseFilterSpec(filterText.value);
  if (spec === null) {
    return skip(
      `filter ${JSON.stringify(filterText.value)} is not of the form name[option=value, …]`,
    );
  }
  const mapping = mapFilter(spec);
  const pairs: Array<[string, string]> = [];
  let userFilter: UserFilter | undefined;
  if (mapping.kind !== "none") notes.push(...mapping.notes);
  else {
    const made = await userFilterFor(spec, ctx);
    notes.push(...made.notes);
    userFilter = made.filter;
    if (userFilter === undefined) unknownFilter = mapping.reason;
    else {
      notes.push({
        level: "info",
        text: `[filters.${userFilter.name}] translated from filter.d/${spec.name}.conf`,
      });
    }
  }
  const always = new Set<SettingName>();
  if (mapping.kind === "bans") {
    pairs.push(["source", '"bans"']);
    // fail2zig gives a jail named recidive its own defaults; keep fail2ban's effective values.
    for (const k of ["bantime", "findtime", "maxretry"] as const) always.add(k);
  } else {
    const filter = mapping.kind === "filter" ? mapping.filter : spec.name;
    pairs.push(["filter", JSON.stringify(filter)]);
    if (mapping.kind === "filter" && mapping.mode !== "normal") {
      pairs.push(["mode", JSON.stringify(mapping.mode)]);
    }
    const backendText = tryGet(tree, section, "backend");
    if (backendText.error !== undefined) return skip(`backend: ${backendText.error}`, pairs);
    const backend = (backendText.value ?? "auto").replace(/\[.*$/s, "").trim().toLowerCase() ||
      "auto";
    const backendOptions = /\[(.*)\]\s*$/s.exec(backendText.value ?? "")?.[1]?.trim();
    if (backendOptions) {
      notes.push({ level: "warn", text: `backend options [${backendOptions}] not imported` });
    }
    const journal = () => journalSource(tree, section, spec, filter, ctx);
    if (backend === "systemd") {
      const j = await journal();
      notes.push(...j.notes);
      if (j.problem !== undefined) return skip(j.problem, [...pairs, ["source", '"journald"']]);
      pairs.push(...j.pairs);
    } else if (FILE_BACKENDS.has(backend)) {
      const lp = tryGet(tree, section, "logpath");
      if (lp.error !== undefined) return skip(`logpath: ${lp.error}`, pairs);
      const files = logpaths(lp.value ?? "");
      if (files.problem !== undefined) return skip(files.problem, pairs);
      const absent = backend === "auto" && await allAbsent(files.paths, ctx.logExists);
      const j = absent ? await journal() : null;
      if (j !== null && j.problem === undefined) {
        notes.push({
          level: "warn",
          text: `logpath ${files.paths.join(", ")} does not exist on this host: reading the ` +
            "journal instead, as Debian's sshd_backend = systemd does",
        }, ...j.notes);
        pairs.push(...j.pairs);
      } else {
        pairs.push(["logpath", `[${files.paths.map((p) => JSON.stringify(p)).join(", ")}]`]);
        if (files.head) pairs.push(["read_from", '"start"']);
        notes.push(...files.notes);
      }
    } else {
      return skip(
        `backend ${JSON.stringify(backend)} is not supported (file backends or systemd)`,
        pairs,
      );
    }
  }
  const effective = translateSettings(tree, section);
  const settings = settingsBlock(section, effective, ctx.defaults, always);
  notes.push(...settings.notes);
  const acts = await translateActions(tree, section, ctx);
  notes.push(...acts.notes);
  if (acts.actions.length > 0) {
    acts.pairs.push(["actions", `[${acts.actions.map((a) => JSON.stringify(a)).join(", ")}]`]);
  }
  const block: Block = {
    name: section,
    pairs: [...pairs, ...settings.pairs, ...acts.pairs],
    increment: settings.increment,
    notes,
  };
  if (userFilter !== undefined) block.filter = userFilter;
  else if (mapping.kind === "none") block.skipped = mapping.reason;
  const bantime = effective.get("bantime")?.pairs[0]?.[1];
  const enabled = effective.get("increment.enabled")?.pairs.some(([, v]) => v === "true") ?? false;
  const maxSet = (effective.get("increment.max")?.pairs.length ?? 0) > 0;
  if (!maxSet) fixIncrementMax(block, bantime, enabled);
  return block;
}

/** The jail's `journalmatch` (own, from `[DEFAULT]`, or a filter option), else the filter file's. */
async function journalmatchText(
  tree: IniTree,
  section: string,
  spec: { name: string; options: Map<string, string> },
  ctx: { root: string; reader: FileReader },
): Promise<{ value?: { text: string; from: "jail" | "filter" }; notes: Note[] }> {
  const own = tryGet(tree, section, "journalmatch", spec.options);
  if (own.value !== undefined) return { value: { text: own.value, from: "jail" }, notes: [] };
  if (!/^[\w.-]+$/.test(spec.name)) return { notes: [] };
  const filterTree = await readFiles([`${ctx.root}/filter.d/${spec.name}.conf`], ctx.reader);
  if (filterTree.files.length === 0) return { notes: [] };
  for (const sec of ["Init", "Definition"]) {
    if (!filterTree.hasOwn(sec, "journalmatch")) continue;
    const v = tryGet(filterTree, sec, "journalmatch", spec.options);
    if (v.error !== undefined) {
      return {
        notes: [{ level: "warn", text: `journalmatch of filter.d/${spec.name}.conf: ${v.error}` }],
      };
    }
    return { value: { text: v.value ?? "", from: "filter" }, notes: [] };
  }
  return { notes: [] };
}

/** fail2ban `logpath` lines (`PATH` or `PATH head|tail`) → absolute paths and globs. */
/**
 * The journald source of a jail (`source` and `journal_match` pairs), from its journalmatch or
 * its service's known units; `problem` when there is none.
 */
async function journalSource(
  tree: IniTree,
  section: string,
  spec: FilterSpec,
  filter: string,
  ctx: { root: string; reader: FileReader },
): Promise<{ pairs: Array<[string, string]>; notes: Note[]; problem?: string }> {
  const jm = await journalmatchText(tree, section, spec, ctx);
  const match = journalMatchFor(filter, jm.value);
  if (match === null) {
    const problem = `no journalmatch for the systemd backend and no known unit of ${filter}`;
    return { pairs: [], notes: jm.notes, problem };
  }
  const list = `[${match.match.map((m) => JSON.stringify(m)).join(", ")}]`;
  return {
    pairs: [["source", '"journald"'], ["journal_match", list]],
    notes: [...jm.notes, ...match.notes],
  };
}

/** Every path is a literal one (no glob) that `exists` says is absent; false without `exists`. */
async function allAbsent(
  paths: readonly string[],
  exists: ((path: string) => Promise<boolean>) | undefined,
): Promise<boolean> {
  if (exists === undefined || paths.some((p) => /[*?[]/.test(p))) return false;
  for (const p of paths) if (await exists(p)) return false;
  return true;
}

function logpaths(
  text: string,
): { paths: string[]; head: boolean; notes: Note[]; problem?: string } {
  const notes: Note[] = [];
  const paths: string[] = [];
  const modes = new Set<string>();
  for (const line of text.split("\n").map((l) => l.trim()).filter((l) => l !== "")) {
    const m = /^(.*\S)\s+(head|tail)$/.exec(line);
    const path = m === null ? line : m[1]!;
    modes.add(m === null ? "" : m[2]!);
    if (!path.startsWith("/")) {
      return {
        paths,
        head: false,
        notes,
        problem: `logpath ${JSON.stringify(path)} is not absolute`,
      };
    }
    if (!paths.includes(path)) paths.push(path);
  }
  if (paths.length === 0) return { paths, head: false, notes, problem: "no logpath set" };
  if (paths.length > MAX_LOGPATHS) {
    return {
      paths,
      head: false,
      notes,
      problem: `${paths.length} logpath entries; fail2zig accepts ${MAX_LOGPATHS}`,
    };
  }
  const head = modes.has("head");
  if (head && modes.size > 1) {
    notes.push({
      level: "warn",
      text: "logpath mixes head and tail; fail2zig reads all of them from the start",
    });
  }
  return { paths, head, notes };
}

/**
 * The fail2zig jail name `import-fail2ban` gives a fail2ban jail (before making it unique): the
 * name itself when valid, else with other characters turned into `-`, cut to 24.
 */
export function jailNameFor(section: string): string {
  if (JAIL_NAME.test(section)) return section;
  return section.replace(/[^A-Za-z0-9_-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 24) ||
    "jail";
}

/** A valid, unused fail2zig jail name for a fail2ban section name. */
function uniqueName(section: string, taken: Set<string>, notes: Note[]): string {
  let name = jailNameFor(section);
  for (let k = 2; taken.has(name); k++) name = `${name.slice(0, 24 - String(k).length - 1)}-${k}`;
  if (name !== section) {
    notes.push({
      level: "warn",
      text:
        `fail2ban jail [${section}] renamed to ${name} (fail2zig jail names: 1-24 letters, digits, - or _)`,
    });
  }
  taken.add(name);
  return name;
}

/** Most rounds of dropping `[defaults]` keys the loader rejects before giving up on them all. */
const MAX_DEFAULTS_ROUNDS = 4;

/**
 * Removes from `[defaults]` each key the loader rejects (its message names the key path), with a
 * warning; a complaint about `bantime_increment.max` drops `max`, not `bantime`.
 */
function dropRejectedDefaults(block: Block, check: (toml: string) => string[]): void {
  for (let round = 0; round < MAX_DEFAULTS_ROUNDS; round++) {
    const problems = check(render([block], []));
    if (problems.length === 0) return;
    for (const p of problems) {
      const path = /^defaults\.([\w.]+):/.exec(p)?.[1] ?? "";
      const inc = /^bantime_increment\.(\w+)$/.exec(path)?.[1] ??
        (p.includes("bantime_increment.max") ? "max" : undefined);
      if (inc !== undefined) block.increment = block.increment.filter(([k]) => k !== inc);
      else block.pairs = block.pairs.filter(([k]) => k !== path);
      block.notes.push({ level: "warn", text: `left out: ${p}` });
    }
  }
  if (check(render([block], [])).length > 0) {
    block.notes.push({ level: "warn", text: "[DEFAULT] not imported: fail2zig rejects it" });
    block.pairs = [];
    block.increment = [];
  }
}

/** Runs the real config loader; returns its messages (without positions). */
function loaderProblems(toml: string): string[] {
  try {
    parseConfig(toml, "imported");
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.errors.map((i) => i.message);
  }
}

function headerLines(root: string, files: readonly string[], notes: readonly Note[]): string[] {
  const rel = (f: string) => f.startsWith(`${root}/`) ? f.slice(root.length + 1) : f;
  return [
    `# fail2zig configuration imported from the fail2ban configuration in ${oneLine(root)}`,
    "# by `fail2zig import-fail2ban`. Files read, in this order (later ones win):",
    ...files.map((f) => `#   ${oneLine(rel(f))}`),
    "# Only enabled jails are imported. The banaction's port and protocol become the jail's;",
    "# sendmail-*/mail-* actions an smtp action; other action.d commands an exec action where they",
    "# translate faithfully, else a `not imported` line. Not carried over: usedns, ignorecommand,",
    "# ignoreself, maxmatches, logencoding.",
    "# fail2ban filters with a fail2zig built-in: " + IMPORTABLE_FILTERS.slice(0, 4).join(", ") +
    ",",
    "#   " + IMPORTABLE_FILTERS.slice(4).join(", ") + ".",
    "# Review the notes, then check the result: fail2zig config check --config FILE",
    ...notes.map((n) => `# ${NOTE_LABEL[n.level]}: ${oneLine(n.text)}`),
  ];
}

/** `[filters.NAME]` of a translated fail2ban filter. */
function filterLines(f: UserFilter): string[] {
  const list = (xs: readonly string[]) => `[${xs.map(tomlString).join(", ")}]`;
  return [
    `[filters.${f.name}]`,
    `patterns = ${list(f.patterns)}`,
    ...(f.ignorePatterns.length > 0 ? [`ignore_patterns = ${list(f.ignorePatterns)}`] : []),
    `prefix = "${f.prefix}"`,
  ];
}

function render(
  blocks: readonly Block[],
  header: readonly string[],
  actions: ReadonlyMap<string, readonly string[]> = new Map(),
): string {
  const out: string[] = [...header];
  const filters = new Set<string>();
  for (const b of blocks) {
    if (b.filter === undefined || b.skipped !== undefined || filters.has(b.filter.name)) continue;
    filters.add(b.filter.name);
    if (out.length > 0) out.push("");
    out.push(...filterLines(b.filter));
  }
  for (const [name, lines] of actions) {
    if (out.length > 0) out.push("");
    out.push(`[actions.${name}]`, ...lines);
  }
  for (const b of blocks) {
    if (out.length > 0) out.push("");
    const table = b.isGlobal ? "[global]" : b.isDefaults ? "[defaults]" : `[jails.${b.name}]`;
    const body: string[] = [
      ...b.notes.map((n) => `# ${NOTE_LABEL[n.level]}: ${oneLine(n.text)}`),
      ...b.pairs.map(([k, v]) => `${k} = ${v}`),
    ];
    if (b.increment.length > 0) {
      body.push(`bantime_increment = { ${b.increment.map(([k, v]) => `${k} = ${v}`).join(", ")} }`);
    }
    if (b.skipped === undefined) out.push(table, ...body);
    else {
      out.push(`# ${table}`, `# not imported: ${oneLine(b.skipped)}`);
      out.push(...body.map((l) => (l.startsWith("# ") ? l : `# ${l}`)));
    }
  }
  return out.join("\n") + "\n";
}

/** How a note is introduced in the output. */
const NOTE_LABEL: Record<Note["level"], string> = {
  warn: "warning",
  info: "note",
  dropped: "not imported",
};

/** Text safe inside a one-line TOML comment. */
function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ");
}
