/**
 * The time seam. Core code asks a `Clock` for the time instead of calling `Date.now()`, so tests
 * drive time by hand with `ManualClock`.
 * @module
 */

/** A source of wall-clock time in milliseconds since the Unix epoch. */
export interface Clock {
  /** Current time, ms since 1970-01-01T00:00:00Z. */
  now(): number;
}

/** The real clock: `Date.now()`. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
}

/** A clock that moves only when told to; for tests. */
export class ManualClock implements Clock {
  #now: number;
  /**
   * A clock standing at `startMs` until moved.
   * @param startMs initial time in ms since the epoch @default 1_767_225_600_000 (2026-01-01)
   */
  constructor(startMs = 1_767_225_600_000) {
    this.#now = startMs;
  }
  now(): number {
    return this.#now;
  }
  /** Sets the time (may go backwards, as a real clock can). */
  set(ms: number): void {
    this.#now = ms;
  }
  /** Moves the time forward by `ms`. */
  advance(ms: number): void {
    this.#now += ms;
  }
}
