/**
 * What a fuzz target is: a generator of inputs (fresh ones, and mutations of the corpus), a
 * property that throws when the decoder misbehaves, the source files whose coverage it reports
 * and a time bound per input. Shared by tests/fuzz/fuzz_test.ts (bounded, seeded, in the test
 * command) and scripts/fuzz.ts (`deno task fuzz TARGET`, timed, corpus and coverage).
 * @module
 */
import fc from "fast-check";

/** One fuzz target. */
export interface Target<T = unknown> {
  /** As given to `deno task fuzz`. */
  readonly name: string;
  /** Repository paths of the decoder's source files (coverage is reported for these). */
  readonly modules: readonly string[];
  /** Runs of the seeded property in the test command (the whole set stays under ~15 s). */
  readonly runs: number;
  /** Longest one input may take (ms); a slower input fails the property as a time-out. */
  readonly timeoutMs: number;
  /** Inputs: fresh ones, and edits of `corpus` entries when there are any. */
  arbitrary(corpus: readonly T[]): fc.Arbitrary<T>;
  /** The property: returns when the decoder behaved, throws (an `Error`) when it did not. */
  check(input: T): void | Promise<void>;
  /** Builds what every input needs (compiled filters, a listener), outside the time bound. */
  setup?(): Promise<void> | void;
  /** Releases what `setup` or `check` made (a listener, temp files). */
  close?(): Promise<void> | void;
}

/** Fresh inputs, or (half the time) edits of a corpus entry. */
export function withCorpus<T>(
  corpus: readonly T[],
  fresh: fc.Arbitrary<T>,
  mutate: (base: fc.Arbitrary<T>) => fc.Arbitrary<T>,
): fc.Arbitrary<T> {
  if (corpus.length === 0) return fresh;
  return fc.oneof(fresh, mutate(fc.constantFrom(...corpus)));
}

/** Throws a property failure unless `cond`. */
export function expect(cond: boolean, why: () => string): asserts cond {
  if (!cond) throw new Error(why());
}

/**
 * Runs the property on one input; an input over the target's time bound fails as a time-out when
 * it overruns three runs in a row (one slow run on a loaded machine, a GC pause or descheduling, is
 * not a pathological input: a false time-out of 1061 ms was seen on a line that takes 0.5 ms).
 */
export async function runOne(t: Target<unknown>, input: unknown): Promise<void> {
  let best = Infinity;
  for (let run = 0; run < 3 && best > t.timeoutMs; run++) {
    const start = performance.now();
    await t.check(input);
    best = Math.min(best, performance.now() - start);
  }
  if (best > t.timeoutMs) {
    throw new Error(
      `time-out: ${best.toFixed(0)} ms (fastest of 3 runs) over the ${t.timeoutMs} ms bound`,
    );
  }
}
