/**
 * The tracker's eviction lists: every used entry sits in exactly one doubly linked list, kept in
 * least-recently-seen order, and unused entries form a free list. The lists are numbered lowest
 * evicted first: `ONE_FAILURE`, `RETURNING` = one failure of a returning address (ghost hit),
 * `failuresList(2)`..`failuresList(FAILURE_SLOTS)` = that many failures (`FAILURE_SLOTS` or more),
 * then `HISTORY` (ban history only), `BANNED`; `FREE` (0) marks an entry in no list.
 *
 * Every "empty" value of the per-entry arrays is 0, and nothing is written to them at start:
 * the table's pages stay the kernel's untouched zero pages (not resident) until an entry is used.
 * The free list is threaded lazily: entries never handed out are the ones from a high-water mark
 * up, taken in ascending order once the freed ones are used up.
 * @module
 */

/**
 * Failure times kept per entry. A jail with `maxretry` ≤ this counts exactly; above it the slots
 * become `FAILURE_BUCKETS` time buckets and counting is conservative (a ban may come later, never
 * earlier than `maxretry` failures within `findtime`). Lists 2..`FAILURE_SLOTS` rank by failures.
 */
export const FAILURE_SLOTS = 8;
/** The list number of an entry in no list (free, or being moved): 0, an untouched page's value. */
export const FREE = 0;
/** The list of entries holding one failure (the first evicted). */
export const ONE_FAILURE = 1;
/** The list of entries holding one failure of an address seen before its eviction. */
export const RETURNING = 2;
/** The list of entries holding `c` failures, 2 ≤ `c` ≤ `FAILURE_SLOTS`. */
export function failuresList(c: number): number {
  return c + 1;
}
/** The list of entries holding ban history and no failure. */
export const HISTORY = FAILURE_SLOTS + 2;
/** The list of entries banned now. */
export const BANNED = FAILURE_SLOTS + 3;
/** One past the highest list number: lists are `ONE_FAILURE`..`LISTS - 1`. */
export const LISTS = FAILURE_SLOTS + 4;

/**
 * Intrusive lists over entry numbers `0..capacity-1`, allocated once: `list[e]` is the list of
 * entry `e`, `prev`/`next` its neighbours (-1 at the ends); `next` also chains the freed entries.
 * `head`, `tail` and `size` are indexed by list number (index `FREE` unused).
 */
export class EntryLists {
  /** By entry: its list number, `FREE` when in none. */
  readonly list: Uint8Array;
  /** By entry: the previous entry of its list, -1 at the head. */
  readonly prev: Int32Array;
  /** By entry: the next entry of its list (or of the free list), -1 at the tail. */
  readonly next: Int32Array;
  /** By list: its first (least recently seen) entry, -1 when empty. */
  readonly head: Int32Array = new Int32Array(LISTS).fill(-1);
  /** By list: its last (most recently seen) entry, -1 when empty. */
  readonly tail: Int32Array = new Int32Array(LISTS).fill(-1);
  /** By list: entries in it. */
  readonly size: Int32Array = new Int32Array(LISTS);
  /** The last freed entry (the free list's head), -1 when none is waiting. */
  #freeHead = -1;
  /** Entries `#fresh..capacity-1` were never handed out: the free list's implicit tail. */
  #fresh = 0;

  /** `capacity` entries, all free (taken in ascending order); writes none of its arrays. */
  constructor(capacity: number) {
    this.list = new Uint8Array(capacity);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
  }

  /** Appends entry `e` (in no list) to list `l` as its most recently seen entry. */
  linkTail(e: number, l: number): void {
    this.list[e] = l;
    const t = this.tail[l]!;
    this.prev[e] = t;
    this.next[e] = -1;
    if (t >= 0) this.next[t] = e;
    else this.head[l] = e;
    this.tail[l] = e;
    this.size[l]!++;
  }

  /** Takes entry `e` out of its list (nothing when it is in none); it is then `FREE`. */
  unlink(e: number): void {
    const l = this.list[e]!;
    if (l === FREE) return;
    const p = this.prev[e]!;
    const n = this.next[e]!;
    if (p >= 0) this.next[p] = n;
    else this.head[l] = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail[l] = p;
    this.size[l]!--;
    this.list[e] = FREE;
  }

  /** Puts entry `e` (in no list) on the free list. */
  pushFree(e: number): void {
    this.list[e] = FREE;
    this.next[e] = this.#freeHead;
    this.#freeHead = e;
  }

  /**
   * Takes an entry off the free list, or -1 when it is empty: the last one freed, else the lowest
   * never handed out (the order a list threaded through every entry at start would give).
   */
  takeFree(): number {
    const e = this.#freeHead;
    if (e >= 0) {
      this.#freeHead = this.next[e]!;
      return e;
    }
    return this.#fresh < this.list.length ? this.#fresh++ : -1;
  }

  /** Empties every list (not the free list); the entries' own fields are left as they are. */
  clear(): void {
    this.head.fill(-1);
    this.tail.fill(-1);
    this.size.fill(0);
  }
}
