/**
 * Ban policy arithmetic: how long a ban lasts given the jail's `bantime`, its
 * `bantime_increment` settings and the number of previous bans of the address.
 * @module
 */
import type { JailConfig } from "../config/mod.ts";

/** A source of uniform random numbers in [0, 1); injected so tests are deterministic. */
export type RandomSource = () => number;

/**
 * The duration of a new ban in ms, or `null` for a permanent one.
 *
 * - `bantime = "permanent"` stays permanent whatever the increment says.
 * - Increment off: the jail's `bantime`.
 * - `linear`: `bantime · (1 + factor · n)`; `exponential`: `bantime · factor^n`, where `n` is the
 *   number of previous bans (counted by the caller: this jail, or every jail when `overall`).
 *   The result is capped at `max`; then a random `0..jitter` ms is added (after the cap, so bans
 *   that reached the cap still expire at spread-out moments).
 *
 * @param previousBans bans of this address before this one (≥ 0)
 * @param random uniform [0, 1) source used for the jitter
 */
export function banDurationMs(
  jail: Pick<JailConfig, "bantimeMs" | "bantimeIncrement">,
  previousBans: number,
  random: RandomSource,
): number | null {
  const base = jail.bantimeMs;
  if (base === null) return null;
  const inc = jail.bantimeIncrement;
  if (!inc.enabled) return base;
  const n = Math.max(0, previousBans);
  let ms = inc.formula === "linear" ? base * (1 + inc.factor * n) : base * Math.pow(inc.factor, n);
  if (!Number.isFinite(ms) || ms > inc.maxMs) ms = inc.maxMs;
  ms = Math.max(1, Math.round(ms));
  if (inc.jitterMs > 0) ms += Math.floor(random() * (inc.jitterMs + 1));
  return ms;
}
