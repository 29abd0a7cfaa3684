import { deepEqual, equal, match } from "node:assert/strict";
import { checkDocLint, entryPoints } from "./check_doc_lint.ts";

/** A throwaway repository with the given files; removed after `body`. */
async function withTree(
  files: Record<string, string>,
  body: (root: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "check_doc_lint_" });
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

const CLEAN = "/** A. @module */\n/** One. */\nexport const one: number = 1;\n";

Deno.test("check_doc_lint.ts exits 1 naming file:line of an undocumented export of a mod.ts", async () => {
  await withTree({
    "mod.ts": CLEAN,
    "src/a/mod.ts": CLEAN,
    "src/b/mod.ts": '/** B. @module */\nexport { two } from "./_two.ts";\n',
    "src/b/_two.ts": "\nexport function two() {\n  return 2;\n}\n",
  }, async (root) => {
    deepEqual(entryPoints(root), ["mod.ts", "src/a/mod.ts", "src/b/mod.ts"]);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-q",
        "-R",
        "--allow-run",
        new URL("./check_doc_lint.ts", import.meta.url).pathname,
        root,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(out.code, 1);
    const text = new TextDecoder().decode(out.stderr);
    match(text, /^src\/b\/_two\.ts:2:\d+: error\[missing-jsdoc\]/m);
    match(text, /^src\/b\/_two\.ts:2:\d+: error\[missing-return-type\]/m);
    equal(/^(mod\.ts|src\/a\/)/m.test(text), false);
  });
});

Deno.test("checkDocLint() skips a pending folder and reports one that has become clean", async () => {
  await withTree({
    "mod.ts": CLEAN,
    "src/a/mod.ts": CLEAN,
    "src/b/mod.ts": "export const b = 2;\n",
  }, async (root) => {
    deepEqual(await checkDocLint(root, { "src/b/mod.ts": "later" }), []);
    deepEqual(await checkDocLint(root, { "src/a/mod.ts": "later", "src/b/mod.ts": "later" }), [
      "src/a/mod.ts: clean now; remove it from DOC_LINT_PENDING",
    ]);
  });
});
