/**
 * The ghost filter: which (jail, key) pairs were evicted recently. Two generations of a blocked
 * Bloom bitmap (3 bits per key, all in one 512-bit block: one or two cache lines); a generation
 * ends after `GHOST_FILL` evictions per bit, so a key is remembered for one to two generations.
 * An address that comes back after its eviction ranks one failure higher (see `#victim` in
 * tracker.ts); a false hit only ranks an entry, it never bans.
 * @module
 */

/** Bits per index slot in each of the two generations. */
export const GHOST_BITS_PER_SLOT = 64;
/** A generation ends after this many evictions per bit (≈ 19% of bits set, k = 3: ≈ 0.7% false hits). */
const GHOST_FILL = 0.07;
const GHOST_HASHES = 3;

/** Recently evicted keys, in `2 × bits` bits allocated once. */
export class GhostFilter {
  #new: Uint32Array;
  #old: Uint32Array;
  readonly #blockMask: number;
  readonly #limit: number;
  readonly #seed: number;
  #adds = 0;

  /** A filter of `bits` bits per generation (a power of two, at least 512), keyed by `seed`. */
  constructor(bits: number, seed: number) {
    this.#new = new Uint32Array(bits / 32);
    this.#old = new Uint32Array(bits / 32);
    this.#blockMask = bits / 512 - 1;
    this.#limit = Math.floor(bits * GHOST_FILL);
    this.#seed = seed;
  }

  /** Keys added since the filter was made (0: `has` is false for every key). */
  get adds(): number {
    return this.#adds;
  }

  /** Remembers the key `w[off..off+3]` of jail `j`; may start a new generation. */
  add(j: number, w: Uint32Array, off: number): void {
    const h = this.#hash(j, w, off);
    const base = (h & this.#blockMask) << 4;
    const h2 = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    const g = this.#new;
    for (let i = 0; i < GHOST_HASHES; i++) {
      const bit = (h2 >>> (9 * i)) & 511;
      g[base + (bit >>> 5)]! |= 1 << (bit & 31);
    }
    if (++this.#adds % this.#limit === 0) {
      const old = this.#old;
      this.#old = this.#new;
      this.#new = old.fill(0);
    }
  }

  /** True when the key was added in this or the previous generation (or on a false hit). */
  has(j: number, w: Uint32Array, off: number): boolean {
    const h = this.#hash(j, w, off);
    const base = (h & this.#blockMask) << 4;
    const h2 = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    let inNew = true;
    let inOld = true;
    for (let i = 0; i < GHOST_HASHES; i++) {
      const bit = (h2 >>> (9 * i)) & 511;
      const m = 1 << (bit & 31);
      const k = base + (bit >>> 5);
      if ((this.#new[k]! & m) === 0) inNew = false;
      if ((this.#old[k]! & m) === 0) inOld = false;
    }
    return inNew || inOld;
  }

  #hash(j: number, w: Uint32Array, off: number): number {
    let h = (this.#seed ^ 0x5bd1e995) + Math.imul(j + 1, 0x27d4eb2f) | 0;
    for (let q = 0; q < 4; q++) {
      h = Math.imul(h ^ w[off + q]!, 0x9e3779b1);
      h ^= h >>> 15;
    }
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    return h ^ (h >>> 13);
  }
}
