/**
 * The future-time clamp: the one rule for the time a failure is counted at, used where a time
 * leaves a parser (`Filter.match`) and where it is counted (`Tracker.record`, whose clock is the
 * authority: the parser Worker's times cross an untrusted boundary).
 * @module
 */

/**
 * The time a failure is counted at: the line's own time `timeMs` when it is finite and not after
 * `nowMs`, else `nowMs` (a line from the future, a clock ahead of ours, or no time: `null`/NaN).
 */
export function clampToNow(timeMs: number | null, nowMs: number): number {
  return timeMs === null || !Number.isFinite(timeMs) || timeMs > nowMs ? nowMs : timeMs;
}
