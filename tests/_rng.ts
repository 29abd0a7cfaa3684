/**
 * The tests' seeded random numbers: a failing case replays from its seed.
 * @module
 */

/** A deterministic [0, 1) sequence (xorshift32) from `seed` (0 is taken as 1). */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
