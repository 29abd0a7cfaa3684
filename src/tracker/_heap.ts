/**
 * The expiry heap: a binary min-heap of entry numbers ordered by a key array the owner writes
 * (`expiresAt`), with each entry's position kept so that any entry is removed in O(log n).
 * Positions are stored plus one, so that 0 (what an untouched page holds) means "not in the heap"
 * and nothing is written at start: the arrays become resident only as entries are pushed.
 * @module
 */

/** A min-heap of entries `0..capacity-1` by `key[e]`, allocated once. */
export class ExpiryHeap {
  readonly #heap: Int32Array;
  /** By entry: its index in `#heap` plus one, 0 when not in the heap. */
  readonly #pos: Int32Array;
  readonly #key: Float64Array;
  #size = 0;

  /**
   * An empty heap for `capacity` entries ordered by `key` (read, never written; an entry's key
   * must not change while it is in the heap).
   */
  constructor(capacity: number, key: Float64Array) {
    this.#heap = new Int32Array(capacity);
    this.#pos = new Int32Array(capacity);
    this.#key = key;
  }

  /** Entries in the heap. */
  get size(): number {
    return this.#size;
  }

  /** The entry with the least key, or -1 when the heap is empty. */
  peek(): number {
    return this.#size > 0 ? this.#heap[0]! : -1;
  }

  /** Adds entry `e` (not in the heap). */
  push(e: number): void {
    const i = this.#size++;
    this.#heap[i] = e;
    this.#pos[e] = i + 1;
    this.#siftUp(i);
  }

  /** Removes entry `e`; nothing when it is not in the heap. */
  remove(e: number): void {
    const i = this.#pos[e]! - 1;
    if (i < 0) return;
    this.#pos[e] = 0;
    const last = this.#heap[--this.#size]!;
    if (last === e) return;
    this.#heap[i] = last;
    this.#pos[last] = i + 1;
    this.#siftDown(i);
    this.#siftUp(this.#pos[last]! - 1);
  }

  /** Empties the heap (writes only the positions of the entries it held). */
  clear(): void {
    for (let i = 0; i < this.#size; i++) this.#pos[this.#heap[i]!] = 0;
    this.#size = 0;
  }

  #siftUp(i: number): void {
    const heap = this.#heap;
    const e = heap[i]!;
    const key = this.#key[e]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = heap[p]!;
      if (this.#key[pe]! <= key) break;
      heap[i] = pe;
      this.#pos[pe] = i + 1;
      i = p;
    }
    heap[i] = e;
    this.#pos[e] = i + 1;
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    const size = this.#size;
    const e = heap[i]!;
    const key = this.#key[e]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && this.#key[heap[r]!]! < this.#key[heap[l]!]! ? r : l;
      const ce = heap[c]!;
      if (this.#key[ce]! >= key) break;
      heap[i] = ce;
      this.#pos[ce] = i + 1;
      i = c;
    }
    heap[i] = e;
    this.#pos[e] = i + 1;
  }
}
