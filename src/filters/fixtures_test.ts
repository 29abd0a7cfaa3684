/**
 * Golden fixtures: every line of fixtures/filters/FILTER[.MODE].txt is `EXPECTED<TAB>LINE`, where
 * EXPECTED is the canonical address the filter must report or `-` for "no match". Lines starting
 * with `#` are comments. An aggressive mode only adds patterns, so normal-mode fixtures also run in
 * it: every expected address must still be reported (a "-" line may match there).
 */
import { equal, ok } from "node:assert/strict";
import { filterModes, getFilter } from "./mod.ts";

const DIR = new URL("../../fixtures/filters/", import.meta.url);
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

interface Case {
  file: string;
  n: number;
  expect: string;
  line: string;
}

function load(): Map<string, Case[]> {
  const byFile = new Map<string, Case[]>();
  for (const entry of Deno.readDirSync(DIR)) {
    if (!entry.name.endsWith(".txt")) continue;
    const text = Deno.readTextFileSync(new URL(entry.name, DIR));
    const cases: Case[] = [];
    text.split("\n").forEach((raw, i) => {
      if (raw === "" || raw.startsWith("#")) return;
      const tab = raw.indexOf("\t");
      if (tab < 0) throw new Error(`${entry.name}:${i + 1}: expected EXPECTED<TAB>LINE`);
      cases.push({
        file: entry.name,
        n: i + 1,
        expect: raw.slice(0, tab),
        line: raw.slice(tab + 1),
      });
    });
    byFile.set(entry.name, cases);
  }
  return byFile;
}

const fixtures = load();

Deno.test("fixtures hold at least 300 lines, a third of them lines that must not match", () => {
  const all = [...fixtures.values()].flat();
  const none = all.filter((c) => c.expect === "-").length;
  ok(all.length >= 300, `${all.length} fixture lines`);
  ok(none * 3 >= all.length, `${none} of ${all.length} must-not-match lines`);
});

for (const [file, cases] of fixtures) {
  const base = file.slice(0, -4);
  const dot = base.indexOf(".");
  const name = dot < 0 ? base : base.slice(0, dot);
  const mode = dot < 0 ? "normal" : base.slice(dot + 1);
  const modes = dot < 0 && filterModes(name)?.includes("aggressive")
    ? ["normal", "aggressive"]
    : [mode];
  Deno.test(`filter ${name} gives the expected address or no match for every line of ${file}`, () => {
    ok(filterModes(name), `unknown filter ${name}`);
    for (const m of modes) {
      const f = getFilter(name, m);
      for (const c of cases) {
        const got = f.match(c.line, NOW);
        // modes beyond the file's own may add matches, never change or drop the address
        if (m !== mode && c.expect === "-") continue;
        equal(got?.ip ?? "-", c.expect, `${c.file}:${c.n} (mode ${m}): ${c.line}`);
        if (got && got.time !== null) ok(got.time <= NOW, `${c.file}:${c.n}: time in the future`);
      }
    }
  });
}
