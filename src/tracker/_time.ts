/**
 * Time rebasing: the tracker stores times as u32 ms offsets from an epoch (4 bytes per failure
 * instead of 8). The epoch stays between `MAX_FINDTIME_MS` and `REBASE_AFTER_MS` behind now;
 * when now leaves that range (every ~24 days, or when the clock steps back) the epoch moves and
 * the owner shifts its stored offsets by what `rebase` returns.
 * @module
 */

/** Longest `findtime` the config allows (1 week); offsets older than this are never read. */
export const MAX_FINDTIME_MS = 7 * 86_400_000;
/** The epoch moves forward once now is this far past it. */
export const REBASE_AFTER_MS = 2 ** 31;
const U32_MAX = 0xffffffff;

/** `v` clamped to the u32 range. */
function clampU32(v: number): number {
  return v < 0 ? 0 : v > U32_MAX ? U32_MAX : v;
}

/** Offset `v` stored under the old epoch, re-expressed after the epoch moved by `shift` ms. */
export function shiftedOffset(v: number, shift: number): number {
  return clampU32(v - shift);
}

/** The epoch of stored u32 offsets. */
export class TimeBase {
  #epoch: number;

  /** An epoch just over `MAX_FINDTIME_MS` before `now`. */
  constructor(now: number) {
    this.#epoch = now - MAX_FINDTIME_MS - 1;
  }

  /** Time `t` (ms since the Unix epoch) as a stored offset: whole ms, clamped to u32. */
  rel(t: number): number {
    return clampU32(Math.floor(t - this.#epoch));
  }

  /** Stored offset `v` as ms since the Unix epoch. */
  abs(v: number): number {
    return v + this.#epoch;
  }

  /**
   * Moves the epoch when `now` is out of range: returns the ms the epoch moved (shift every
   * stored offset with `shiftedOffset`), 0 when it stayed.
   */
  rebase(now: number): number {
    const d = now - this.#epoch;
    if (d >= MAX_FINDTIME_MS && d <= REBASE_AFTER_MS) return 0;
    const next = now - MAX_FINDTIME_MS - 1;
    const shift = next - this.#epoch;
    this.#epoch = next;
    return shift;
  }
}
