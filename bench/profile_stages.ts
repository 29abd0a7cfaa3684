/**
 * Where a line's time goes in the daemon: reads the V8 CPU profiles that
 * `deno task bench:throughput --runs 1 --cpu-prof DIR` writes (one per isolate: the main one and
 * the parser Worker's `*.worker-1.cpuprofile`) and prints each stage's self time, its share of the
 * busy time and, with `--lines N`, microseconds per line.
 *
 *   deno run -R bench/profile_stages.ts DIR [--lines N]
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { type CpuProfile, fmtNumber, stageTimes } from "./_live.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { lines: { type: "string" } },
  allowPositionals: true,
});
const lines = values.lines === undefined ? null : Number(values.lines);
const rows: string[] = [
  "| isolate | stage | ms | share of busy | µs per line |",
  "|---|---|---|---|---|",
];
for (const dir of positionals) {
  for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.name.endsWith(".cpuprofile")) continue;
    const isolate = e.name.includes(".worker-") ? "Worker" : "main";
    const p = JSON.parse(Deno.readTextFileSync(join(dir, e.name))) as CpuProfile;
    const t = [...stageTimes(p)].sort((a, b) => b[1] - a[1]);
    const busy = t.filter(([s]) => s !== "idle").reduce((n, [, ms]) => n + ms, 0);
    for (const [stage, ms] of t) {
      const share = stage === "idle" ? "" : `${fmtNumber((100 * ms) / busy, 1)} %`;
      const per = lines === null || stage === "idle" ? "" : fmtNumber((ms * 1000) / lines, 3);
      rows.push(`| ${isolate} | ${stage} | ${fmtNumber(ms, 0)} | ${share} | ${per} |`);
    }
  }
}
console.log(rows.join("\n"));
