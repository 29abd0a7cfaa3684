/**
 * `deno doc --lint` on the root `mod.ts` and every `src/NAME/mod.ts`: every exported symbol has
 * JSDoc, exported functions have explicit types, and no public type refers to a private one.
 * Folders listed in {@linkcode DOC_LINT_PENDING} are skipped with their reason; one that has become
 * clean is reported, so the list only shrinks.
 *
 *   check_doc_lint.ts [ROOT]    ROOT defaults to the repository; exit 1 on any finding
 * @module
 */
import { dirname, join, resolve } from "node:path";

/** `mod.ts` files not yet clean, each with why. */
export const DOC_LINT_PENDING: Readonly<Record<string, string>> = {};

/** The entry points to lint under `root`, repository-relative, sorted. */
export function entryPoints(root: string): string[] {
  const found = ["mod.ts"];
  for (const entry of Deno.readDirSync(join(root, "src"))) {
    if (!entry.isDirectory) continue;
    try {
      if (Deno.statSync(join(root, "src", entry.name, "mod.ts")).isFile) {
        found.push(`src/${entry.name}/mod.ts`);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return found.sort();
}

/** The findings of `deno doc --lint` for one file: `path:line: error[kind]: message` lines. */
async function docLint(root: string, file: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", file],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.success) return [];
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  const lines = text.split("\n");
  const findings: string[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith("error[")) return;
    const at = /-->\s+(\S+)/.exec(lines[i + 1] ?? "")?.[1] ?? file;
    const where = at.startsWith("file://") ? new URL(at).pathname : at;
    findings.push(
      `${where.startsWith(root + "/") ? where.slice(root.length + 1) : where}: ${line}`,
    );
  });
  return findings.length > 0 ? findings : [`${file}: deno doc --lint failed: ${text.trim()}`];
}

/** Every finding under `root`, plus each pending entry that is clean now. */
export async function checkDocLint(
  root: string,
  pending: Readonly<Record<string, string>> = DOC_LINT_PENDING,
): Promise<string[]> {
  const problems: string[] = [];
  for (const file of entryPoints(root)) {
    const findings = await docLint(root, file);
    if (file in pending) {
      if (findings.length === 0) {
        problems.push(`${file}: clean now; remove it from DOC_LINT_PENDING`);
      }
      continue;
    }
    problems.push(...findings);
  }
  return problems;
}

if (import.meta.main) {
  const root = resolve(Deno.args[0] ?? join(dirname(new URL(import.meta.url).pathname), ".."));
  const problems = await checkDocLint(root);
  for (const p of problems) console.error(p);
  const linted = entryPoints(root);
  for (const [file, why] of Object.entries(DOC_LINT_PENDING)) {
    if (linted.includes(file)) console.error(`doc lint skipped for ${file}: ${why}`);
  }
  Deno.exitCode = problems.length === 0 ? 0 : 1;
}
