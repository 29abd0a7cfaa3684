/**
 * docs/security.md walks the threat model row by row (issue 15): every row has its paragraph with
 * a proof and what stays residual, and every test it cites exists under the name it gives; so does
 * every test docs/operations.md cites for the defects of issue 13.
 * @module
 */
import { deepEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./_daemon.ts";

/** The rows of the threat model's tables (S-03 is ours: the fleet). */
const ROWS = [
  "S-01",
  "S-02",
  "S-03",
  "T-01",
  "T-02",
  "T-03",
  "R-01",
  "I-01",
  "I-02",
  "I-03",
  "D-01",
  "D-02",
  "D-03",
  "D-04",
  "D-05",
  "E-01",
  "E-02",
  "E-03",
  "E-04",
];

const doc = Deno.readTextFileSync(join(ROOT, "docs", "security.md"));
const oneSpace = (s: string) => s.replace(/\s+/g, " ");

/** The text of row `id`: from its `**ID — ` up to the next row or heading. */
function row(id: string): string | null {
  const start = doc.indexOf(`**${id} — `);
  if (start < 0) return null;
  const rest = doc.slice(start + 2);
  const end = rest.search(/\n(\*\*[A-Z]-\d\d — |#+ )/);
  return end < 0 ? rest : rest.slice(0, end);
}

Deno.test("docs/security.md has every threat-model row with a proof and a residual", () => {
  const missing = ROWS.flatMap((id) => {
    const text = row(id);
    if (text === null) return [`${id}: no paragraph`];
    return ["Proof:", "Residual:"].filter((w) => !text.includes(w)).map((w) => `${id}: no ${w}`);
  });
  deepEqual(missing, []);
});

/**
 * The tests `page` of docs/ cites as `file` "name" that do not exist under that name (at least
 * `least` citations expected).
 */
function wrongCitations(page: string, least: number): string[] {
  const text = page === "security.md" ? doc : Deno.readTextFileSync(join(ROOT, "docs", page));
  const refs = [...text.matchAll(/`([\w./-]+_test\.ts)`((?:\s*[,:]?\s*"[^"`]+")*)/g)];
  ok(refs.length >= least, `${refs.length} test files cited by ${page}`);
  const wrong: string[] = [];
  for (const [, file, names] of refs) {
    let source: string;
    try {
      source = oneSpace(Deno.readTextFileSync(join(ROOT, file!)));
    } catch {
      wrong.push(`${file}: no such file`);
      continue;
    }
    const given = [...names!.matchAll(/"([^"]+)"/g)].map((m) => oneSpace(m[1]!));
    if (given.length === 0) wrong.push(`${file}: cited without a test name`);
    for (const name of given) {
      if (!/\bDeno\.test\(/.test(source) || !source.includes(name)) {
        wrong.push(`${file}: "${name}"`);
      }
    }
  }
  return wrong;
}

Deno.test("every test docs/security.md cites exists, with each test name it gives", () => {
  deepEqual(wrongCitations("security.md", 40), []);
});

Deno.test("every test docs/operations.md cites for issue 13's defects exists under its name", () => {
  deepEqual(wrongCitations("operations.md", 20), []);
});
