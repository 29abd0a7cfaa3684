/**
 * The fuzz targets of docs/fuzzing.md, bounded and seeded for the test command: each target
 * replays its corpus (fixtures/fuzz/TARGET/) and then checks its property on `runs` generated
 * inputs from a fixed seed (`FUZZ_SEED` overrides it, `FUZZ_RUNS_SCALE` multiplies the runs).
 * Every saved crash or time-out is a test of its own, failing until the bug is fixed.
 * @module
 */
import fc from "fast-check";
import { TARGETS } from "./_targets.ts";
import { type Entry, readEntries } from "./_corpus.ts";
import { runOne, type Target } from "./_target.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 0x5eed);
const SCALE = Number(Deno.env.get("FUZZ_RUNS_SCALE") ?? 1);

for (const t of TARGETS as readonly Target<unknown>[]) {
  const entries = readEntries(t.name);
  const corpus = entries.filter((e) => e.kind === "corpus");
  Deno.test(`fuzz ${t.name}: ${corpus.length} corpus inputs, then ${t.runs * SCALE} seeded runs`, async () => {
    try {
      await t.setup?.();
      for (const e of corpus) await runOne(t, e.input);
      await fc.assert(
        fc.asyncProperty(t.arbitrary(corpus.map((e) => e.input)), (input) => runOne(t, input)),
        { seed: SEED, numRuns: Math.max(1, Math.round(t.runs * SCALE)) },
      );
    } finally {
      await t.close?.();
    }
  });
  for (const e of entries.filter((x: Entry) => x.kind !== "corpus")) {
    Deno.test(`fuzz reproducer ${t.name}/${e.file}`, async () => {
      try {
        await t.setup?.();
        await runOne(t, e.input);
      } finally {
        await t.close?.();
      }
    });
  }
}
