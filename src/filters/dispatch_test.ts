/**
 * The dispatch of a filter (which variants a line is tried against, in what order, and when the
 * search stops) against the exhaustive reading it stands for: every failure variant of every
 * pattern tried on the message, in order; the first to match names the pattern, two readings with
 * different addresses (two patterns, or two placements of one) make the line ambiguous. For every
 * built-in filter and mode, its address-reading patterns are compiled as a user filter (no
 * sessions, ignore patterns or log prefix, so that its result is the reading alone) and matched
 * against the exhaustive loop over the same variants on the fixture lines, mutated fuzz lines and
 * witness lines of random variants whose free parts hold injected leads, anchors, addresses and
 * whole witness lines of other variants (the structure of another reading, planted).
 * Seeded; a failure prints the filter, the message and both results.
 */
import { deepEqual, ok } from "node:assert/strict";
import { builtinFilterNames, compileUserFilter, filterModes, getFilter, LineKind } from "./mod.ts";
import {
  AMBIGUOUS,
  compilePattern,
  MATCHED,
  MatchState,
  matchVariant,
  type Variant,
} from "./_pattern.ts";
import { newShape, parseShape } from "./_shape.ts";
import { fixtureLines, fuzzLines } from "./_fuzz_lines.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
/** Generated messages per filter mode (half mutated corpus lines, half injected witnesses). */
const PER_MODE = 800;

type Reading = { ip: string; pattern: number } | "ambiguous" | null;

/** Every variant tried in order, none skipped, no early stop. */
function exhaustive(vs: readonly Variant[], owner: readonly number[], msg: string): Reading {
  const m = new MatchState();
  m.newLine();
  let e = msg.length;
  while (e > 0 && " \t\r".includes(msg[e - 1]!)) e--;
  let ip: string | null = null, pattern = -1;
  for (let i = 0; i < vs.length; i++) {
    const r = matchVariant(m, vs[i]!, msg, 0, e);
    if (r === AMBIGUOUS) return "ambiguous";
    if (r !== MATCHED) continue;
    if (pattern < 0) pattern = owner[i]!;
    if (m.found === null) continue;
    if (ip === null) ip = m.found;
    else if (m.found !== ip) return "ambiguous";
  }
  return pattern < 0 ? null : { ip: ip!, pattern };
}

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ADDRS = ["192.0.2.7", "6.6.6.6", "2001:db8::7", "::ffff:6.6.6.6", "10.0.0.1", "1.2.3.4:80"];
const JUNK = [" from ", " port 22", " ssh2", ": ", ", client: ", "rhost=", "[", "]", "(", ")", " "];

/**
 * A message variant `v` could match, its tokens filled with plausible text, each `<*>` gap with a
 * mix of other variants' leading literals, anchors, addresses and junk (the attacker's text).
 */
function injected(
  v: Variant,
  all: readonly Variant[],
  leads: readonly string[],
  rnd: () => number,
  depth = 0,
): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const gap = () => {
    let s = "";
    for (let n = Math.floor(rnd() * 4); n > 0; n--) {
      const k = rnd();
      s += k < 0.25 && depth === 0
        ? injected(pick(all), all, leads, rnd, 1) // another reading's structure, planted
        : k < 0.45
        ? pick(leads)
        : k < 0.65
        ? pick(ADDRS)
        : k < 0.9
        ? pick(JUNK)
        : "x";
    }
    return s || "x";
  };
  return v.segs.map((seg) =>
    seg.map((op) =>
      op.lit
        ? op.s
        : op.set
        ? pick(op.set)
        : op.host
        ? pick(ADDRS).replace(":80", "")
        : op.name === "NUM" || op.name === "HEX"
        ? String(Math.floor(rnd() * 70000))
        : "x"
    ).join("")
  ).join(gap());
}

Deno.test("every filter's dispatch reads each line as trying every variant in order would", () => {
  const corpus = fixtureLines();
  const sh = newShape();
  const messages = corpus.map((l) => parseShape(l, sh, undefined) ? l.slice(sh.msgStart) : l);
  const fuzz = fuzzLines(corpus, 0x0d15);
  const rnd = rng(0x5eed14);
  let read = 0, ambiguous = 0, cases = 0;
  for (const name of builtinFilterNames()) {
    for (const mode of filterModes(name)!) {
      const f = getFilter(name, mode);
      const patterns = f.patterns.filter((p) => /<(HOST|ADDR)>/.test(p)); // not the orphans
      const u = compileUserFilter({ name, patterns, ignorePatterns: [], prefix: "none" });
      const vs: Variant[] = [], owner: number[] = [];
      patterns.forEach((p, k) => {
        for (const v of compilePattern(p)) {
          vs.push(v);
          owner.push(k);
        }
      });
      const leads = [...new Set(vs.map((v) => v.segs[0]![0]).filter((op) => op?.lit))]
        .map((op) => (op as { s: string }).s);
      const own: string[] = [];
      for (let i = 0; i < PER_MODE; i++) {
        if (i % 2 === 0) {
          const l = fuzz().line;
          own.push(parseShape(l, sh, undefined) ? l.slice(sh.msgStart) : l);
        } else own.push(injected(vs[Math.floor(rnd() * vs.length)]!, vs, leads, rnd));
      }
      for (const msg of [...messages, ...own]) {
        const want = exhaustive(vs, owner, msg);
        const m = u.matchDetailed(msg, NOW);
        const got: Reading = m !== null
          ? { ip: m.ip, pattern: m.pattern }
          : u.lastKind === LineKind.AMBIGUOUS
          ? "ambiguous"
          : null;
        cases++;
        if (want === "ambiguous") ambiguous++;
        else if (want !== null) read++;
        deepEqual(got, want, `${name}/${mode}: ${JSON.stringify(msg)}`);
      }
    }
  }
  // the generator must reach both kinds of verdict, in numbers
  ok(read > cases / 5, `${read} of ${cases} messages read an address`);
  ok(ambiguous > 500, `${ambiguous} of ${cases} messages ambiguous`);
});
