import { deepEqual, equal, match } from "node:assert/strict";
import { checkImports, folderCycles, importSites, layerOf } from "./check_imports.ts";

/** A throwaway repository with the given files; removed after `body`. */
async function withTree(
  files: Record<string, string>,
  body: (root: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "check_imports_" });
  try {
    for (const [path, text] of Object.entries(files)) {
      const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
      await Deno.mkdir(`${root}/${dir}`, { recursive: true });
      await Deno.writeTextFile(`${root}/${path}`, text);
    }
    await body(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function runScript(root: string): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-R", new URL("./check_imports.ts", import.meta.url).pathname, root],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("importSites() finds static, multi-line, type, export-from and dynamic imports, not comments", () => {
  const text = [
    'import { a } from "./a.ts";',
    "// import { b } from './b.ts';",
    "import type {",
    "  C,",
    '} from "../c/mod.ts";',
    'export * from "./d.ts";',
    "const e = `import x from './e.ts'`;",
    'const f = () => import("./f.ts");',
    'import "./g.ts";',
  ].join("\n");
  deepEqual(importSites(text), [
    { specifier: "./a.ts", line: 1 },
    { specifier: "../c/mod.ts", line: 5 },
    { specifier: "./d.ts", line: 6 },
    { specifier: "./f.ts", line: 8 },
    { specifier: "./g.ts", line: 9 },
  ]);
});

Deno.test("folderCycles() names each cycle between folders once, and none in a layered graph", () => {
  const edges = new Map([
    ["a", new Set(["b"])],
    ["b", new Set(["c"])],
    ["c", new Set(["a"])],
    ["d", new Set(["a"])],
  ]);
  deepEqual(folderCycles(edges), [["a", "b", "c", "a"]]);
  deepEqual(folderCycles(new Map([["a", new Set(["b"])], ["b", new Set(["c"])]])), []);
});

Deno.test("check_imports.ts exits 1 naming file:line for a private import, a cycle, test code, an import up or within a layer, and fast-check in product code", async () => {
  await withTree({
    "mod.ts": 'import { t } from "./tests/_helper.ts";\n',
    "tests/_helper.ts": "export const t = 1;\n",
    "src/a/mod.ts": 'export { x } from "./x.ts";\n',
    "src/a/x.ts": '\n\nimport { y } from "../b/_y.ts";\nexport const x = y;\n',
    "src/b/mod.ts": 'export { y } from "./_y.ts";\n',
    "src/b/_y.ts": 'import { x } from "../a/mod.ts";\nexport const y = 1;\n',
    "src/config/mod.ts": "export type C = 1;\n",
    "src/filters/mod.ts": 'import type { C } from "../config/mod.ts";\nexport type F = C;\n',
    "src/hash/mod.ts": "export const h = 1;\n",
    "src/net/mod.ts": 'import { h } from "../hash/mod.ts";\nexport const n = h;\n',
    "cli/run.ts": 'import { y } from "../src/b/mod.ts";\nimport "./run_test.ts";\n',
    "cli/run_test.ts": "",
    "src/sources/parse.ts": 'import fc from "fast-check";\nimport("npm:fast-check@4.11.0");\n',
    "src/sources/parse_test.ts": 'import fc from "fast-check";\n',
  }, async (root) => {
    const { code, stderr } = await runScript(root);
    equal(code, 1);
    const lines = stderr.trim().split("\n");
    deepEqual(lines, [
      "mod.ts:1: product code imports test code tests/_helper.ts",
      "src/a/x.ts:3: src/b/_y.ts is private to src/b; import src/b/mod.ts",
      "src/filters/mod.ts:1: src/filters (layer 1) imports src/config (layer 2, src/config/mod.ts); " +
      "a folder imports only lower layers: move what it needs down",
      "src/net/mod.ts:1: src/net (layer 0) imports src/hash (layer 0, src/hash/mod.ts); " +
      "a folder imports only lower layers: move what it needs down",
      "src/sources/parse.ts:1: product code imports the fuzzing library fast-check; " +
      "it belongs to tests only",
      "src/sources/parse.ts:2: product code imports the fuzzing library npm:fast-check@4.11.0; " +
      "it belongs to tests only",
      "cli/run.ts:2: product code imports test code cli/run_test.ts",
      "src/a/x.ts:3: import cycle src/a -> src/b -> src/a (via src/a/x.ts:3, src/b/_y.ts:1)",
    ]);
  });
});

Deno.test("check_imports.ts passes this repository and a tree that keeps the rules", async () => {
  const repo = new URL("..", import.meta.url).pathname;
  deepEqual(await checkImports(repo), []);
  const folders = [...Deno.readDirSync(`${repo}src`)].filter((e) => e.isDirectory)
    .map((e) => `src/${e.name}`);
  deepEqual(folders.filter((f) => layerOf(f) < 0), [], "every src/ folder has a layer in LAYERS");
  await withTree({
    "mod.ts": 'import { x } from "./src/a/mod.ts";\nexport { x };\n',
    "src/a/mod.ts": 'export { x } from "./_x.ts";\n',
    "src/a/_x.ts": 'import { y } from "../b/mod.ts";\nexport const x = y;\n',
    "src/b/mod.ts": "export const y = 1;\n",
  }, async (root) => {
    const { code, stderr } = await runScript(root);
    match(stderr, /^$/);
    equal(code, 0);
  });
});
