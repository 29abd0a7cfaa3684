/**
 * Planted targets for the tests of `deno task fuzz` (scripts/fuzz_test.ts), present only with
 * `FUZZ_SELFTEST=1`: `selftest-crash` fails on any number ending in 7, `selftest-hang` never returns from a number ending in 3, `selftest-slow` takes longer than its
 * bound on a number ending in 5.
 * @module
 */
import fc from "fast-check";
import type { Target } from "../_target.ts";

const nat = () => fc.nat(1000);

/** The planted targets. */
export const SELFTEST_TARGETS: readonly Target<number>[] = [
  {
    name: "selftest-crash",
    modules: ["src/net/ip.ts"],
    runs: 1,
    timeoutMs: 1000,
    arbitrary: nat,
    check(n) {
      if (n % 10 === 7) throw new Error(`planted failure on ${n}`);
    },
  },
  {
    name: "selftest-hang",
    modules: ["src/net/ip.ts"],
    runs: 1,
    timeoutMs: 100,
    arbitrary: nat,
    check(n) {
      if (n % 10 === 3) { for (;;) { /* a synchronous hang */ } }
    },
  },
  {
    name: "selftest-slow",
    modules: ["src/net/ip.ts"],
    runs: 1,
    timeoutMs: 20,
    arbitrary: nat,
    check(n) {
      if (n % 10 !== 5) return;
      const end = performance.now() + 40;
      while (performance.now() < end) { /* over the bound, then returns */ }
    },
  },
];
