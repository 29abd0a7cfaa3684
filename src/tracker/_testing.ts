/** Test helpers: jail configs with defaults (not re-exported by mod.ts). @module */
import type { BantimeIncrement, JailConfig } from "../config/mod.ts";

/** Minutes/hours/days in ms, for readable tests. */
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** A jail with the documented defaults, overridden by `over`. */
export function jail(
  name: string,
  over: Partial<Omit<JailConfig, "bantimeIncrement">> & {
    bantimeIncrement?: Partial<BantimeIncrement>;
  } = {},
): JailConfig {
  const { bantimeIncrement, ...rest } = over;
  return {
    name,
    enabled: true,
    filter: name,
    mode: "normal",
    source: "file",
    logpath: ["/var/log/auth.log"],
    readFrom: "end",
    journalMatch: [],
    bantimeMs: 10 * MIN,
    findtimeMs: 10 * MIN,
    maxretry: 5,
    ignoreip: ["127.0.0.0/8", "::1"],
    ipv6Prefix: 128,
    ignoreself: true,
    missingLogpath: "error",
    scope: null,
    actions: [],
    ...rest,
    bantimeIncrement: {
      enabled: false,
      formula: "exponential",
      factor: 2,
      maxMs: 7 * DAY,
      jitterMs: 0,
      overall: false,
      ...bantimeIncrement,
    },
  };
}

/** The default recidive jail: bans in other jails, 5 in 1 day → 1 week. */
export function recidive(over: Partial<JailConfig> = {}): JailConfig {
  return jail("recidive", {
    source: "bans",
    logpath: [],
    maxretry: 5,
    findtimeMs: DAY,
    bantimeMs: 7 * DAY,
    ...over,
  });
}
