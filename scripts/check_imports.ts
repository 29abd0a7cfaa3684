/**
 * The import rules of the product code (`src/`, `cli/`, `mod.ts`), checked from the import and
 * `export … from` specifiers of every `.ts` file:
 *
 * - a file in `src/A/` reaches another folder `src/B/` only through `src/B/mod.ts`;
 * - no import cycle between folders (`cli` and the root `mod.ts` count as folders);
 * - product code never imports `tests/`, `fixtures/`, a `testdata/` folder or a `*_test.ts` file;
 * - folders are layered ({@linkcode LAYERS}): a folder imports only folders of lower layers, so
 *   types are owned by the lowest layer that uses them (nothing in `src/filters/` imports
 *   `src/config/`, nothing in `src/log/` imports `src/config/`);
 * - product code never imports fast-check (bare, `npm:` or a URL): the fuzzing library is test
 *   code, and the attacker-facing paths carry no third-party code (docs/fuzzing.md).
 *
 *   check_imports.ts [ROOT]     ROOT defaults to the repository; exit 1 and one line per violation
 * @module
 */
import { dirname, join, relative, resolve } from "node:path";

/** One import or `export … from` of a file: its specifier and 1-based line. */
export interface ImportSite {
  readonly specifier: string;
  readonly line: number;
}

/** A file with its imports resolved to repository-relative paths (`null` for bare specifiers). */
interface FileImports {
  readonly file: string;
  readonly imports: readonly (ImportSite & { readonly target: string | null })[];
}

/**
 * Blanks comments and the contents of template literals (keeping newlines, so offsets and lines
 * stay), leaves quoted strings: what remains can be searched for import specifiers.
 */
export function stripComments(text: string): string {
  let out = "";
  let i = 0;
  const blank = (s: string) => s.replace(/[^\n]/g, " ");
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    let end: number;
    if (c === "/" && next === "/") {
      end = text.indexOf("\n", i);
      if (end < 0) end = text.length;
      out += blank(text.slice(i, end));
    } else if (c === "/" && next === "*") {
      end = text.indexOf("*/", i + 2);
      end = end < 0 ? text.length : end + 2;
      out += blank(text.slice(i, end));
    } else if (c === '"' || c === "'" || c === "`") {
      end = i + 1;
      while (end < text.length && text[end] !== c && !(c !== "`" && text[end] === "\n")) {
        end += text[end] === "\\" ? 2 : 1;
      }
      end = Math.min(end + 1, text.length);
      out += c === "`" ? c + blank(text.slice(i + 1, end - 1)) + c : text.slice(i, end);
    } else {
      end = i + 1;
      out += c;
    }
    i = end;
  }
  return out;
}

const IMPORT_PATTERNS = [
  // import x from "…", import type { … } from "…", export { … } from "…", export * from "…"
  /\b(?:import|export)\s+(?:type\s+)?(?:[\w$*{},\s]|\bas\b)*?\bfrom\s*(["'])([^"'\n]+)\1/g,
  // import "…" (side effect)
  /\bimport\s*(["'])([^"'\n]+)\1/g,
  // import("…"), dynamic
  /\bimport\s*\(\s*(["'])([^"'\n]+)\1\s*\)/g,
];

/** Every static, side-effect and dynamic import and `export … from` of a source text. */
export function importSites(text: string): ImportSite[] {
  const code = stripComments(text);
  const sites = new Map<number, ImportSite>();
  for (const pattern of IMPORT_PATTERNS) {
    for (const m of code.matchAll(pattern)) {
      const at = m.index! + m[0].lastIndexOf(m[1]! + m[2]!);
      const line = code.slice(0, at).split("\n").length;
      sites.set(at, { specifier: m[2]!, line });
    }
  }
  return [...sites.entries()].sort(([a], [b]) => a - b).map(([, s]) => s);
}

/** The folder a repository-relative path belongs to: `src/x`, `cli`, `tests`, … or `.` (root). */
export function folderOf(path: string): string {
  const parts = path.split("/");
  if (parts[0] === "src" && parts.length > 2) return `src/${parts[1]}`;
  return parts.length > 1 ? parts[0]! : ".";
}

function isTestPath(path: string): boolean {
  return /(^|\/)(tests|fixtures|testdata)\//.test(path) || path.endsWith("_test.ts");
}

function isProduct(path: string): boolean {
  return (path === "mod.ts" || path.startsWith("src/") || path.startsWith("cli/")) &&
    !isTestPath(path);
}

async function sourceFiles(root: string, dir: string): Promise<string[]> {
  const files: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(join(root, dir))];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return files;
    throw e;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = dir === "." ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory && dir !== "." && entry.name !== "node_modules") {
      files.push(...await sourceFiles(root, path));
    } else if (entry.isFile && entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

async function readImports(root: string, file: string): Promise<FileImports> {
  const text = await Deno.readTextFile(join(root, file));
  const imports = importSites(text).map((site) => {
    if (!site.specifier.startsWith(".")) return { ...site, target: null };
    const target = relative(root, resolve(root, dirname(file), site.specifier));
    return { ...site, target: target.split("\\").join("/") };
  });
  return { file, imports };
}

/** A specifier naming the fast-check package, however written. */
const FAST_CHECK = /(^|[:/])fast-check(@|\/|$)/;

/** The rule a bare or URL specifier of product code breaks, or `null`. */
function bareRuleBroken(specifier: string): string | null {
  return FAST_CHECK.test(specifier)
    ? `product code imports the fuzzing library ${specifier}; it belongs to tests only`
    : null;
}

/**
 * The layers of the product folders, lowest first: a folder may import only folders of lower
 * layers (an import within a layer, or up, breaks the rule). Folders not listed are not ordered;
 * check_imports_test requires every folder of this repository to be listed.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["src/hash", "src/net", "src/time", "src/ffi", "src/sources", "src/metrics"],
  ["src/filters", "src/seccomp", "src/state", "src/log"],
  ["src/config"],
  ["src/tracker", "src/import", "src/actions", "src/audit", "src/ipc", "src/firewall"],
  ["src/fleet"],
  ["src/daemon"],
  ["cli"],
  ["."],
];

/** The layer of a folder (index into {@linkcode LAYERS}), or -1 when it is not listed. */
export function layerOf(folder: string): number {
  return LAYERS.findIndex((layer) => layer.includes(folder));
}

/** The rule a single import breaks, or `null`. */
function ruleBroken(file: string, target: string): string | null {
  const from = folderOf(file);
  const to = folderOf(target);
  if (isTestPath(target)) return `product code imports test code ${target}`;
  const [lf, lt] = [layerOf(from), layerOf(to)];
  if (from !== to && lf >= 0 && lt >= 0 && lt >= lf) {
    return `${from} (layer ${lf}) imports ${to} (layer ${lt}, ${target}); ` +
      "a folder imports only lower layers: move what it needs down";
  }
  if (to.startsWith("src/") && to !== from && target !== `${to}/mod.ts`) {
    return `${target} is private to ${to}; import ${to}/mod.ts`;
  }
  return null;
}

/** Every cycle of the folder graph, each as `a -> b -> … -> a` (one per strongly connected set). */
export function folderCycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  // Tarjan's strongly connected components; each component of more than one folder is a cycle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) components.push(component);
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((c) => cyclePath(c.sort()[0]!, new Set(c), edges));
}

/** A shortest path from `start` back to itself inside one component (breadth first). */
function cyclePath(
  start: string,
  within: ReadonlySet<string>,
  edges: ReadonlyMap<string, ReadonlySet<string>>,
): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of [...(edges.get(v) ?? [])].sort()) {
      if (!within.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = parent.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** Every violation under `root`, one line each (`file:line: message`), sorted by file. */
export async function checkImports(root: string): Promise<string[]> {
  const files = [
    ...await sourceFiles(root, "."),
    ...await sourceFiles(root, "src"),
    ...await sourceFiles(root, "cli"),
  ].filter(isProduct);
  const problems: string[] = [];
  const edges = new Map<string, Set<string>>();
  const firstSite = new Map<string, string>();
  for (const { file, imports } of await Promise.all(files.map((f) => readImports(root, f)))) {
    for (const { target, line, specifier } of imports) {
      if (target === null) {
        const broken = bareRuleBroken(specifier);
        if (broken !== null) problems.push(`${file}:${line}: ${broken}`);
        continue;
      }
      const broken = ruleBroken(file, target);
      if (broken !== null) problems.push(`${file}:${line}: ${broken}`);
      const [from, to] = [folderOf(file), folderOf(target)];
      if (from === to || !isProduct(target)) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
      if (!firstSite.has(`${from} ${to}`)) firstSite.set(`${from} ${to}`, `${file}:${line}`);
    }
  }
  for (const cycle of folderCycles(edges)) {
    const sites = cycle.slice(1).map((to, i) => firstSite.get(`${cycle[i]} ${to}`)!);
    problems.push(`${sites[0]}: import cycle ${cycle.join(" -> ")} (via ${sites.join(", ")})`);
  }
  return problems;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? join(dirname(new URL(import.meta.url).pathname), "..");
  const problems = await checkImports(resolve(root));
  for (const p of problems) console.error(p);
  Deno.exitCode = problems.length === 0 ? 0 : 1;
}
