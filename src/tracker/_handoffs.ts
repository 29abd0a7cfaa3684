/**
 * The bans a full table handed off to the kernel (docs/state.md, "Bans never depend on table
 * room"), kept in fixed arrays so that what only the kernel held is still known: a repair of a
 * flushed ruleset re-adds them, and an unban lifts them. One slot per `ENTRIES_PER_HANDOFF` table
 * entries, written in turn: a new hand-off takes the slot written longest ago, whose ban (if it
 * has not expired) is then only the kernel's, as every hand-off was before this list.
 * @module
 */

/** Table entries per slot of the hand-off list. */
export const ENTRIES_PER_HANDOFF = 8;
/** Bytes per slot: key 16, banned at 8, expires at 8, jail 2, ban count 2, prefix 1. */
export const HANDOFF_BYTES_PER_SLOT = 16 + 8 + 8 + 2 + 2 + 1;

/** Slots for a table of `capacity` entries. */
export function handOffSlotsFor(capacity: number): number {
  return Math.max(1, Math.ceil(capacity / ENTRIES_PER_HANDOFF));
}

/** Fixed-size list of handed-off bans; a slot whose `expiresAt` is 0 is free. */
export class HandOffs {
  readonly keys: Uint32Array;
  readonly jail: Uint16Array;
  readonly prefix: Uint8Array;
  readonly banCount: Uint16Array;
  readonly bannedAt: Float64Array;
  /** Absolute ms; Infinity for a permanent ban; 0 for a free slot. */
  readonly expiresAt: Float64Array;
  #next = 0;
  /** No ban was ever kept (nothing to look for). */
  empty = true;

  constructor(readonly slots: number) {
    this.keys = new Uint32Array(slots * 4);
    this.jail = new Uint16Array(slots);
    this.prefix = new Uint8Array(slots);
    this.banCount = new Uint16Array(slots);
    this.bannedAt = new Float64Array(slots);
    this.expiresAt = new Float64Array(slots);
  }

  /**
   * Keeps the ban of the key `keys[off, off + 4)` in the slot written longest ago (O(1), no
   * allocation: a flood hands off a ban per new address).
   */
  add(
    keys: Uint32Array,
    off: number,
    jail: number,
    prefix: number,
    banCount: number,
    bannedAt: number,
    expiresAt: number,
  ): void {
    const s = this.#next;
    this.#next = (s + 1) % this.slots;
    this.empty = false;
    for (let i = 0; i < 4; i++) this.keys[s * 4 + i] = keys[off + i]!;
    this.jail[s] = jail;
    this.prefix[s] = prefix;
    this.banCount[s] = banCount;
    this.bannedAt[s] = bannedAt;
    this.expiresAt[s] = expiresAt;
  }

  /** True when the slot `add` writes next holds no ban in force at `now`. */
  nextFree(now: number): boolean {
    return !this.held(this.#next, now);
  }

  /** True when slot `s` holds a ban still in force at `now`. */
  held(s: number, now: number): boolean {
    return this.expiresAt[s]! > now;
  }

  free(s: number): void {
    this.expiresAt[s] = 0;
  }
}
