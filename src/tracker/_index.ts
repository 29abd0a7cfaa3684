/**
 * The tracker's hash index: (jail, 4-word key) → entry number, by open addressing with linear
 * probing and backward-shift deletion, under a keyed hash (the seed is random in the daemon, so
 * attackers cannot aim collisions). The keys and jails are the table's own arrays, read here.
 * @module
 */

/** Highest load of the index; it has at least `capacity / MAX_LOAD` slots. */
const MAX_LOAD = 0.75;

/** Index slots for `capacity` entries: a power of two, at least 16, load ≤ 0.75. */
export function slotsFor(capacity: number): number {
  let s = 16;
  while (s * MAX_LOAD < capacity) s *= 2;
  return s;
}

/** The largest entry count `slots` index slots hold (load ≤ 0.75). */
export function capacityOfSlots(slots: number): number {
  return Math.floor(slots * MAX_LOAD);
}

/** An index of entries whose key is `keys[4e..4e+3]` and jail `jail[e]`. */
export class KeyIndex {
  readonly #slots: Int32Array;
  readonly #mask: number;
  readonly #seed: number;
  readonly #keys: Uint32Array;
  readonly #jail: Uint16Array;

  /** An empty index of `slotsFor(jail.length)` slots over the table's `keys` and `jail`. */
  constructor(keys: Uint32Array, jail: Uint16Array, seed: number) {
    const slots = slotsFor(jail.length);
    this.#slots = new Int32Array(slots);
    this.#mask = slots - 1;
    this.#seed = seed;
    this.#keys = keys;
    this.#jail = jail;
  }

  /** The slot a key hashes to (murmur3-style mixing of the jail and the four words). */
  home(j: number, w: Uint32Array, off: number): number {
    let h = this.#seed ^ Math.imul(j + 1, 0x9e3779b1);
    for (let q = 0; q < 4; q++) {
      let k = Math.imul(w[off + q]!, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      h ^= Math.imul(k, 0x1b873593);
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h & this.#mask;
  }

  /** The entry of jail `j` whose key is `w[off..off+3]`, or -1. */
  find(j: number, w: Uint32Array, off: number): number {
    const slots = this.#slots;
    const keys = this.#keys;
    const w0 = w[off]!, w1 = w[off + 1]!, w2 = w[off + 2]!, w3 = w[off + 3]!;
    for (let h = this.home(j, w, off);; h = (h + 1) & this.#mask) {
      const s = slots[h]!;
      if (s === 0) return -1;
      const e = s - 1;
      const k = e * 4;
      if (
        keys[k + 3] === w3 && keys[k + 2] === w2 && keys[k + 1] === w1 && keys[k] === w0 &&
        this.#jail[e] === j
      ) return e;
    }
  }

  /** Indexes entry `e` under its current key and jail (it must not be indexed already). */
  insert(e: number): void {
    const slots = this.#slots;
    let h = this.home(this.#jail[e]!, this.#keys, e * 4);
    while (slots[h] !== 0) h = (h + 1) & this.#mask;
    slots[h] = e + 1;
  }

  /** Removes entry `e` (indexed, under an unchanged key and jail). */
  remove(e: number): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let i = this.home(this.#jail[e]!, this.#keys, e * 4);
    while (slots[i] !== e + 1) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const s = slots[j]!;
      if (s === 0) break;
      const k = this.home(this.#jail[s - 1]!, this.#keys, (s - 1) * 4);
      // Move slot j back to i unless its home k lies cyclically in (i, j].
      if (i <= j ? i < k && k <= j : i < k || k <= j) continue;
      slots[i] = s;
      i = j;
    }
    slots[i] = 0;
  }

  /**
   * Empties the index. Writes only the slots in use: a slot never written stays an untouched page
   * (not resident), which a fill would make resident on every reload.
   */
  clear(): void {
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) if (slots[i] !== 0) slots[i] = 0;
  }
}
