/**
 * The expiry heap: a binary min-heap of entry numbers ordered by a key array the owner writes
 * (`expiresAt`), with each entry's position kept so that any entry is removed in O(log n).
 * @module
 */

/** A min-heap of entries `0..capacity-1` by `key[e]`, allocated once. */
export class ExpiryHeap {
  readonly #heap: Int32Array;
  readonly #pos: Int32Array;
  readonly #key: Float64Array;
  #size = 0;

  /**
   * An empty heap for `capacity` entries ordered by `key` (read, never written; an entry's key
   * must not change while it is in the heap).
   */
  constructor(capacity: number, key: Float64Array) {
    this.#heap = new Int32Array(capacity);
    this.#pos = new Int32Array(capacity).fill(-1);
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
    this.#pos[e] = i;
    this.#siftUp(i);
  }

  /** Removes entry `e`; nothing when it is not in the heap. */
  remove(e: number): void {
    const i = this.#pos[e]!;
    if (i < 0) return;
    this.#pos[e] = -1;
    const last = this.#heap[--this.#size]!;
    if (last === e) return;
    this.#heap[i] = last;
    this.#pos[last] = i;
    this.#siftDown(i);
    this.#siftUp(this.#pos[last]!);
  }

  /** Empties the heap. */
  clear(): void {
    this.#size = 0;
    this.#pos.fill(-1);
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
      this.#pos[pe] = i;
      i = p;
    }
    heap[i] = e;
    this.#pos[e] = i;
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
      this.#pos[ce] = i;
      i = c;
    }
    heap[i] = e;
    this.#pos[e] = i;
  }
}
