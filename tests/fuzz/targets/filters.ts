/**
 * Target `filters`: one line through every built-in filter in every mode. Fails when a filter
 * throws, scans more than its linear bound (`stepFactor × (length + 1)` counted steps), reports
 * an address that is not an address token written in the line (orphan patterns excepted: they take
 * the session's address from an earlier line), or a time after now.
 * @module
 */
import fc from "fast-check";
import { canonicalIp } from "../../../src/net/mod.ts";
import {
  builtinFilterNames,
  type Filter,
  filterModes,
  getFilter,
  takeSteps,
} from "../../../src/filters/mod.ts";
import { fixtureLines } from "../../../src/filters/_fuzz_lines.ts";
import { mutatedString } from "../_input.ts";
import { expect, type Target, withCorpus } from "../_target.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

/**
 * Canonical forms of the address-like runs of the line, cut at `:`/`.` boundaries (so that
 * `1.2.3.4:80` and `[::ffff:1.2.3.4]` yield their address).
 */
export function addressesIn(line: string): Set<string> {
  const out = new Set<string>();
  for (const m of line.matchAll(/[0-9A-Fa-f:.]{2,}/g)) {
    const run = m[0];
    const starts = [0], ends = [run.length];
    for (let k = 0; k < run.length; k++) {
      if (run[k] === ":" || run[k] === ".") {
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

let filters: Filter[] | null = null;
let fixtures: string[] | null = null;

function allFilters(): Filter[] {
  if (filters === null) {
    filters = [];
    for (const name of builtinFilterNames()) {
      for (const mode of filterModes(name)!) filters.push(getFilter(name, mode));
    }
  }
  return filters;
}

const PREFIXES = [
  "Nov 24 12:26:41 web1 sshd[1234]: ",
  "2026-11-24T12:26:41.771471+00:00 host sshd-session[11934]: ",
  "Nov  4 01:02:03 mail postfix/smtpd[77]: ",
  "Nov 24 12:26:41 mail dovecot: ",
  "2026/11/24 12:26:41 [error] 1#1: *5 ",
  "[Tue Nov 24 12:26:41.123456 2026] ",
  "",
];
const WORDS = [
  "Failed password for",
  "invalid user",
  "from",
  "port 22 ssh2",
  "rhost=",
  "client:",
  "authentication failure;",
  "[preauth]",
  "user=",
  "Connection closed by",
  "SASL LOGIN authentication failed",
  "warning: unknown[",
  "]:",
  "password mismatch,",
  "Invalid user",
  "not allowed because",
  '"',
  "\\",
];

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join("."));
const ipv6 = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
  .map((w) => canonicalIp(w.map((x) => x.toString(16)).join(":"))!);
const token = fc.oneof(
  fc.constantFrom(...WORDS),
  ipv4,
  ipv6,
  ipv4.map((a) => `::ffff:${a}`),
  ipv4.map((a) => `${a}:${a.length}`),
  ipv6.map((a) => `[${a}]`),
  fc.string({ maxLength: 8 }),
);
const assembled = fc.tuple(fc.constantFrom(...PREFIXES), fc.array(token, { maxLength: 14 }))
  .map(([p, t]) => p + t.join(" "));

function fixtureLine(): fc.Arbitrary<string> {
  fixtures ??= fixtureLines();
  return fc.constantFrom(...fixtures);
}

/** The `filters` target. */
export const filtersTarget: Target<string> = {
  name: "filters",
  modules: [
    "src/filters/filter.ts",
    "src/filters/_pattern.ts",
    "src/filters/_shape.ts",
    "src/filters/_builtins.ts",
  ],
  runs: 1000,
  timeoutMs: 1000,
  arbitrary: (corpus) =>
    withCorpus(
      corpus,
      fc.oneof(mutatedString(fixtureLine()), mutatedString(assembled), fc.string()),
      (base) => mutatedString(base),
    ),
  setup() {
    allFilters();
  },
  check(line) {
    let present: Set<string> | null = null;
    takeSteps();
    for (const f of allFilters()) {
      const m = f.matchDetailed(line, NOW);
      const steps = takeSteps();
      expect(
        steps <= f.stepFactor * (line.length + 1),
        () => `${f.name}/${f.mode}: ${steps} steps on a ${line.length}-char line`,
      );
      if (m === null) continue;
      present ??= addressesIn(line);
      expect(
        f.roles[m.pattern] === "orphan" || present.has(m.ip),
        () => `${f.name}/${f.mode} reported ${m.ip}, not written in the line`,
      );
      expect(m.time === null || m.time <= NOW, () => `${f.name}/${f.mode}: a time after now`);
    }
  },
};
