/** Durations in the config: integer seconds, or number+unit groups such as `"1h30m"`. @module */

/** Longest duration accepted anywhere (520 weeks, about 10 years): keeps arithmetic sane. */
export const MAX_DURATION_MS = 520 * 7 * 86_400_000;

const UNITS = [
  ["w", 7 * 86_400_000],
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
  ["ms", 1],
] as const;

/** What a key accepts besides whole units of a second or more. */
export interface DurationOptions {
  /** `"100ms"` allowed. @default false */
  subSecond?: boolean;
  /** `"permanent"` allowed (result `null`). @default false */
  permanent?: boolean;
}

/** A parsed duration in milliseconds (`null` = permanent), or why the text is not one. */
export type DurationResult = { ok: true; ms: number | null } | { ok: false; reason: string };

/**
 * Parses a duration string: groups of digits followed by a unit (`ms s m h d w`), largest unit
 * first, each unit at most once.
 */
export function parseDuration(text: string, opts: DurationOptions = {}): DurationResult {
  const units = opts.subSecond ? "ms, s, m, h, d or w" : "s, m, h, d or w";
  if (text === "permanent") {
    return opts.permanent
      ? { ok: true, ms: null }
      : { ok: false, reason: '"permanent" is only allowed for bantime' };
  }
  if (text === "") return { ok: false, reason: 'empty; expected number+unit groups like "1h30m"' };
  const group = /(\d+)([a-zA-Z]*)/y;
  let pos = 0;
  let total = 0;
  let lastRank = -1;
  while (pos < text.length) {
    group.lastIndex = pos;
    const m = group.exec(text);
    if (m === null) {
      return {
        ok: false,
        reason: `unexpected '${
          String.fromCodePoint(text.codePointAt(pos)!)
        }'; expected digits then a unit (${units})`,
      };
    }
    const [, digits, unit] = m as unknown as [string, string, string];
    if (unit === "" && text[group.lastIndex] === ".") {
      return { ok: false, reason: 'fractions are not allowed; use smaller units such as "1m30s"' };
    }
    if (unit === "") return { ok: false, reason: `missing unit after ${digits} (use ${units})` };
    const rank = UNITS.findIndex(([u]) => u === unit);
    if (rank < 0) return { ok: false, reason: `unknown unit '${unit}' (use ${units})` };
    if (unit === "ms" && !opts.subSecond) {
      return { ok: false, reason: "sub-second units (ms) are not allowed here" };
    }
    if (rank <= lastRank) {
      return { ok: false, reason: "units must go from largest to smallest, each at most once" };
    }
    lastRank = rank;
    total += Number(digits) * UNITS[rank]![1];
    if (digits.length > 12 || total > MAX_DURATION_MS) {
      return { ok: false, reason: `longer than the maximum of ${formatDuration(MAX_DURATION_MS)}` };
    }
    pos = group.lastIndex;
  }
  return { ok: true, ms: total };
}

/** Formats milliseconds as the shortest duration string (`5400000` → `"1h30m"`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
