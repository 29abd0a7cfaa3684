/**
 * Fuzz: 1,000,000 random and mutated lines per run, each through every built-in filter in every
 * mode. Checks per line: no exception; a reported address is one written in the line (an address
 * token of the line, canonicalised); on lines built with a planted decoy in an attacker-controlled
 * field the decoy is never reported; and the scan steps stay within the filter's linear bound
 * `stepFactor × (length + 1)` (counted, not timed). Deterministic (seeded).
 */
import { ok } from "node:assert/strict";
import { canonicalIp } from "../net/mod.ts";
import { builtinFilterNames, type Filter, filterModes, getFilter, takeSteps } from "./mod.ts";
import { fixtureLines, fuzzLines } from "./_fuzz_lines.ts";

const LINES = Number(Deno.env.get("FUZZ_LINES") ?? 1_000_000);
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

/**
 * Canonical forms of the address-like runs of the line, cut at `:`/`.` boundaries (so that
 * `1.2.3.4:80` and `[::ffff:1.2.3.4]` yield their address).
 */
function addressesIn(line: string): Set<string> {
  const out = new Set<string>();
  for (const m of line.matchAll(/[0-9A-Fa-f:.]{2,}/g)) {
    const run = m[0];
    const starts = [0], ends = [run.length];
    for (let k = 0; k < run.length; k++) {
      const c = run[k];
      if (c === ":" || c === ".") {
        starts.push(k + 1);
        ends.push(k);
      }
    }
    for (const a of starts) {
      for (const b of ends) {
        if (b - a < 2) continue;
        const c = canonicalIp(run.slice(a, b));
        if (c !== null) out.add(c);
      }
    }
  }
  return out;
}

Deno.test("every filter survives 1,000,000 random and mutated lines: no throw, no foreign or decoy address, linear steps", () => {
  const filters: Filter[] = [];
  for (const name of builtinFilterNames()) {
    for (const mode of filterModes(name)!) filters.push(getFilter(name, mode));
  }
  const corpus = fixtureLines();
  ok(corpus.length > 0);
  const next = fuzzLines(corpus);
  let matches = 0;
  for (let i = 0; i < LINES; i++) {
    const { line, decoy } = next();
    takeSteps();
    let present: Set<string> | null = null;
    for (const f of filters) {
      const m = f.matchDetailed(line, NOW);
      const steps = takeSteps();
      if (steps > f.stepFactor * (line.length + 1)) {
        throw new Error(
          `${f.name}/${f.mode}: ${steps} steps on a ${line.length}-char line: ${line}`,
        );
      }
      if (m === null) continue;
      matches++;
      if (decoy !== null && m.ip === canonicalIp(decoy)) {
        throw new Error(`${f.name}/${f.mode} reported the decoy ${decoy}: ${line}`);
      }
      present ??= addressesIn(line);
      // a line without an address (an orphan, an echo) takes its session's from an earlier line
      if (/<(HOST|ADDR)>/.test(f.patterns[m.pattern]!) && !present.has(m.ip)) {
        throw new Error(`${f.name}/${f.mode} reported ${m.ip}, not written in: ${line}`);
      }
      if (m.time !== null && m.time > NOW) throw new Error(`time in the future: ${line}`);
    }
  }
  ok(matches > 10_000, `only ${matches} matches: the generator no longer exercises the filters`);
});
