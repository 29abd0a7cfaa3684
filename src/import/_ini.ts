/**
 * fail2ban's INI dialect, as Python's `ConfigParser` and fail2ban's `SafeConfigParserWithIncludes`
 * read it. Stages: one file's text → `IniFile` (`parseIni`) → the ordered list of files a name
 * pulls in (`[INCLUDES] before`/`after`, `.local` siblings) → one merged `IniTree` (later files
 * win key by key; overridden jail keys stay reachable as `%(known/KEY)s`) → `IniTree.get()` with
 * `%(name)s` interpolation (the section, then `[DEFAULT]`; `%(__name__)s` is the section name;
 * `%(default/KEY)s`, `%(known/KEY)s`, `%(SECTION/KEY)s` as fail2ban defines them).
 *
 * Syntax (Python's): `key = value` or `key: value`, key names lower-cased; a line indented deeper
 * than its key continues the value (joined with "\n"); whole-line comments start with `#` or `;`
 * (even inside a continued value); `;` after white space starts an inline comment; `%%` is `%`.
 * @module
 */

import type { FileReader } from "./fs.ts";

/** Most files one tree may read (includes included). */
export const MAX_INI_FILES = 256;
/** Deepest `[INCLUDES]` nesting followed. */
export const MAX_INCLUDE_DEPTH = 16;
/** Deepest `%(name)s` nesting (Python's `MAX_INTERPOLATION_DEPTH`). */
export const MAX_INTERPOLATION_DEPTH = 10;
/** Largest file read (bytes); fail2ban's own files are under 40 KiB. */
export const MAX_INI_BYTES = 1 << 20;

/** The section holding values every other section falls back to. */
export const DEFAULT_SECTION = "DEFAULT";
/** The section that names included files. */
export const INCLUDES_SECTION = "INCLUDES";

/** One parsed file: sections in file order, each with keys in order. */
export interface IniFile {
  /** Path the file was read from. */
  readonly path: string;
  /** `[DEFAULT]` keys. */
  readonly defaults: Map<string, string>;
  /** Every other section (including `[INCLUDES]`), in order of first appearance. */
  readonly sections: Map<string, Map<string, string>>;
  /** Lines that are neither a section, a key, a comment nor a continuation. */
  readonly problems: string[];
}

/** Parses one INI file the way Python's `ConfigParser` does (lenient: problems are collected). */
export function parseIni(text: string, path: string): IniFile {
  const defaults = new Map<string, string>();
  const sections = new Map<string, Map<string, string>>();
  const problems: string[] = [];
  // Values as line lists while reading; joined at the end.
  let current: Map<string, string[]> | null = null;
  const pending = new Map<Map<string, string>, Map<string, string[]>>();
  let key: string | null = null;
  let indent = Number.MAX_SAFE_INTEGER;
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const commentAt = commentStart(line);
    const value = line.slice(0, commentAt ?? line.length).trim();
    if (value === "") {
      // An empty line may belong to a continued value; a comment line never ends one.
      if (commentAt === null && current !== null && key !== null) current.get(key)?.push("");
      continue;
    }
    const lineIndent = line.search(/\S/);
    if (current !== null && key !== null && lineIndent > indent) {
      current.get(key)!.push(value);
      continue;
    }
    indent = lineIndent;
    const header = /^\[(.+)\]/.exec(value);
    if (header !== null) {
      const name = header[1]!;
      let target: Map<string, string>;
      if (name === DEFAULT_SECTION) target = defaults;
      else {
        target = sections.get(name) ?? new Map();
        sections.set(name, target);
      }
      let lists = pending.get(target);
      if (lists === undefined) pending.set(target, lists = new Map());
      current = lists;
      key = null;
      continue;
    }
    const option = /^(.*?)\s*[=:]\s*(.*)$/.exec(value);
    if (current === null) {
      problems.push(
        `${path}:${i + 1}: expected a [section] header before ${JSON.stringify(value)}`,
      );
    } else if (option === null || option[1] === "") {
      problems.push(`${path}:${i + 1}: expected "key = value", found ${JSON.stringify(value)}`);
      key = null;
    } else {
      key = option[1]!.toLowerCase();
      current.set(key, [option[2]!]);
    }
  }
  for (const [target, lists] of pending) {
    for (const [k, v] of lists) target.set(k, v.join("\n").trimEnd());
  }
  return { path, defaults, sections, problems };
}

/** Index where a comment starts on `line` (whole-line `#`/`;`, or `;` after space), or null. */
function commentStart(line: string): number | null {
  const trimmed = line.trimStart();
  if (trimmed.startsWith("#") || trimmed.startsWith(";")) return 0;
  for (let at = line.indexOf(";"); at >= 0; at = line.indexOf(";", at + 1)) {
    if (at === 0 || /\s/.test(line[at - 1]!)) return at;
  }
  return null;
}

/** Why a value could not be produced. */
export class InterpolationError extends Error {
  /** Always `"InterpolationError"`. */
  override name = "InterpolationError";
}

/**
 * `tree.get()` trimmed, with an interpolation problem as `error` rather than thrown (any other
 * error is thrown).
 */
export function tryGet(
  tree: IniTree,
  section: string,
  key: string,
  extra?: ReadonlyMap<string, string>,
): { value?: string; error?: string } {
  try {
    const v = tree.get(section, key, extra);
    return v === undefined ? {} : { value: v.trim() };
  } catch (e) {
    if (e instanceof InterpolationError) return { error: e.message };
    throw e;
  }
}

/** Several files merged in fail2ban's order, with interpolating look-ups. */
export class IniTree {
  readonly #defaults = new Map<string, string>();
  readonly #sections = new Map<string, Map<string, string>>();
  /** Values of jail keys before a later file overrode them (`%(known/KEY)s`). */
  readonly #known = new Map<string, Map<string, string>>();
  /** Files read, in order. */
  readonly files: string[] = [];
  /** Syntax problems of every file. */
  readonly problems: string[] = [];

  /** Merges one more file over what is there (fail2ban's `read()` of a file list). */
  merge(file: IniFile): void {
    this.files.push(file.path);
    this.problems.push(...file.problems);
    for (const [k, v] of file.defaults) this.#defaults.set(k, v);
    for (const [rawName, keys] of file.sections) {
      // Conditional sections (`[Definition?family=inet6]`) add suffixed keys to their section.
      const cond = /^(\w+)(\?.+)$/.exec(rawName);
      const name = cond === null ? rawName : cond[1]!;
      const suffix = cond === null ? "" : cond[2]!;
      const target = this.#sections.get(name);
      if (target === undefined) {
        this.#sections.set(name, new Map([...keys].map(([k, v]) => [k + suffix, v])));
        continue;
      }
      let known = this.#known.get(name);
      if (known === undefined) this.#known.set(name, known = new Map());
      for (const [k, v] of keys) {
        const old = target.get(k + suffix);
        if (old !== undefined) known.set(k + suffix, old);
        target.set(k + suffix, v);
      }
    }
  }

  /** Sets a `[DEFAULT]` value (fail2ban adds `fail2ban_confpath` this way). */
  setDefault(key: string, value: string): void {
    this.#defaults.set(key.toLowerCase(), value);
  }

  /** Section names in order of first appearance (without `[DEFAULT]`). */
  sectionNames(): string[] {
    return [...this.#sections.keys()];
  }

  /** True when `section` itself (not `[DEFAULT]`) sets `key`. */
  hasOwn(section: string, key: string): boolean {
    return this.#sections.get(section)?.has(key.toLowerCase()) ?? false;
  }

  /** The raw (uninterpolated) value: the section's own, else `[DEFAULT]`'s, else undefined. */
  raw(section: string, key: string): string | undefined {
    const k = key.toLowerCase();
    if (section === DEFAULT_SECTION) return this.#defaults.get(k);
    return this.#sections.get(section)?.get(k) ?? this.#defaults.get(k);
  }

  /**
   * The interpolated value of `key` in `section` (falling back to `[DEFAULT]`), or undefined when
   * neither sets it. `extra` values win over both (fail2ban's filter options `name[k=v]`).
   * Throws `InterpolationError` for a missing `%(name)s`, bad `%` syntax or too deep nesting.
   */
  get(section: string, key: string, extra?: ReadonlyMap<string, string>): string | undefined {
    const k = key.toLowerCase();
    const value = extra?.get(k) ?? this.raw(section, k);
    if (value === undefined) return undefined;
    return this.#interpolate(value, { section, key: k, extra, depth: 1 });
  }

  #lookup(section: string, name: string, extra?: ReadonlyMap<string, string>): string | undefined {
    const fromExtra = extra?.get(name);
    if (fromExtra !== undefined) return fromExtra;
    if (name === "__name__") return section;
    const ref = /^([\w-]+)\/([^\s>]+)$/.exec(name);
    if (ref !== null) {
      const [, sec, opt] = ref as unknown as [string, string, string];
      const lower = sec.toLowerCase();
      if (lower === "known") {
        return this.#known.get(section)?.get(opt) ?? this.#defaults.get(opt);
      }
      if (lower === "default") return this.#defaults.get(opt);
      return this.#sections.get(sec)?.get(opt) ?? this.#defaults.get(opt);
    }
    return this.raw(section, name);
  }

  #interpolate(
    text: string,
    at: {
      section: string;
      key: string;
      extra: ReadonlyMap<string, string> | undefined;
      depth: number;
    },
  ): string {
    if (at.depth > MAX_INTERPOLATION_DEPTH) {
      throw new InterpolationError(
        `[${at.section}] ${at.key}: %(…)s nested deeper than ${MAX_INTERPOLATION_DEPTH} levels (a loop?)`,
      );
    }
    let out = "";
    let rest = text;
    while (rest !== "") {
      const p = rest.indexOf("%");
      if (p < 0) return out + rest;
      out += rest.slice(0, p);
      rest = rest.slice(p);
      if (rest[1] === "%") {
        out += "%";
        rest = rest.slice(2);
        continue;
      }
      const m = /^%\(([^)]+)\)s/.exec(rest);
      if (m === null) {
        throw new InterpolationError(
          `[${at.section}] ${at.key}: expected '%%' or '%(name)s', found ${
            JSON.stringify(rest.slice(0, 20))
          }`,
        );
      }
      const name = m[1]!.toLowerCase();
      rest = rest.slice(m[0].length);
      const v = this.#lookup(at.section, name, at.extra);
      if (v === undefined) {
        throw new InterpolationError(
          `[${at.section}] ${at.key}: %(${name})s is not defined in [${at.section}] or [DEFAULT]`,
        );
      }
      out += v.includes("%") ? this.#interpolate(v, { ...at, depth: at.depth + 1 }) : v;
    }
    return out;
  }
}

/**
 * The files fail2ban reads for `name` under `dir` (`jail` → `jail.conf`, `jail.d/*.conf`,
 * `jail.local`, `jail.d/*.local`), each preceded by its `[INCLUDES] before` files and followed by
 * its `after` files and its `.local` sibling; missing files are skipped, as fail2ban does.
 */
export async function readTree(
  dir: string,
  name: string,
  fs: FileReader,
): Promise<IniTree> {
  const base = `${dir.replace(/\/+$/, "")}/${name}`;
  const listed = async (ext: string) =>
    (await fs.list(`${base}.d`)).filter((f) => f.endsWith(ext) && !f.startsWith(".")).sort().map((
      f,
    ) => `${base}.d/${f}`);
  const top = [
    `${base}.conf`,
    ...await listed(".conf"),
    `${base}.local`,
    ...await listed(".local"),
  ];
  return await readFiles(top, fs);
}

/** Reads `paths` (with their includes and `.local` siblings) into one tree. */
export async function readFiles(paths: readonly string[], fs: FileReader): Promise<IniTree> {
  const parsed = new Map<string, IniFile | null>();
  async function load(path: string): Promise<IniFile | null> {
    if (!parsed.has(path)) {
      if (parsed.size >= MAX_INI_FILES) {
        throw new Error(`more than ${MAX_INI_FILES} configuration files included; stopped`);
      }
      const text = await fs.read(path, MAX_INI_BYTES);
      parsed.set(path, text === null ? null : parseIni(text, path));
    }
    return parsed.get(path)!;
  }
  async function withLocals(list: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const f of list) {
      out.push(f);
      const local = f.replace(/\.[^./]*$/, "") + ".local";
      if (local !== f && !list.includes(local) && await load(local) !== null) out.push(local);
    }
    return out;
  }
  async function expand(list: readonly string[], seen: readonly string[]): Promise<string[]> {
    if (seen.length > MAX_INCLUDE_DEPTH) {
      throw new Error(`[INCLUDES] nested deeper than ${MAX_INCLUDE_DEPTH} at ${seen.at(-1)}`);
    }
    const out: string[] = [];
    for (const f of await withLocals(list)) {
      const file = await load(f);
      if (file === null) continue;
      const inc = file.sections.get(INCLUDES_SECTION);
      const dirOf = f.includes("/") ? f.slice(0, f.lastIndexOf("/")) : ".";
      const resolve = (v: string | undefined) =>
        (v ?? "").split("\n").map((s) => s.trim()).filter((s) => s !== "").map((s) =>
          s.startsWith("/") ? s : `${dirOf}/${s}`
        );
      const before: string[] = [];
      const after: string[] = [];
      for (const [opt, into] of [["before", before], ["after", after]] as const) {
        for (const r of resolve(inc?.get(opt))) {
          if (r === f || seen.includes(r)) continue;
          into.push(...await expand([r], [...seen, f]));
        }
      }
      out.push(...before, f, ...after);
    }
    return out;
  }
  const tree = new IniTree();
  for (const f of await expand(paths, [])) tree.merge((await load(f))!);
  return tree;
}
