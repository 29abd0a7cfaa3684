/**
 * fail2ban's time syntax (`bantime`, `findtime`, `bantime.maxtime`, `bantime.rndtime`).
 *
 * fail2ban rewrites the text into a Python expression and `eval`s it (`MyTime.str2seconds`):
 * `10m` → `10*60`, `1d 12h` → `1*86400+12*3600`, `1year-6mo`, `-1`. This is the safe subset
 * that real configs use: an optional sign, then groups of a number (decimals allowed) with an
 * optional unit, joined by `+`, `-` or white space (which means `+`). Anything else (`*`,
 * parentheses, names) is rejected rather than evaluated.
 * @module
 */

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** fail2ban's month and year: a quarter of four years (one leap), per month or per year. */
const YEAR = ((365 * 3 + 366) * DAY) / 4;
const MONTH = YEAR / 12;

/** Unit words as fail2ban's regular expressions accept them (case-insensitive). */
const UNIT_SECONDS: ReadonlyMap<string, number> = new Map([
  ...["s", "ss", "se", "sec", "second", "seconds"].map((u) => [u, 1] as const),
  ...["m", "mm", "mi", "min", "minute", "minutes"].map((u) => [u, MINUTE] as const),
  ...["h", "hh", "ho", "hou", "hour", "hours"].map((u) => [u, HOUR] as const),
  ...["d", "dd", "da", "day", "days"].map((u) => [u, DAY] as const),
  ...["w", "ww", "we", "wee", "week", "weeks"].map((u) => [u, WEEK] as const),
  ...["mo", "mon", "month", "months"].map((u) => [u, MONTH] as const),
  ...["y", "yy", "ye", "yea", "year", "years"].map((u) => [u, YEAR] as const),
]);

/** Longest time text looked at; longer is rejected (fail2ban values are a few characters). */
export const MAX_TIME_TEXT = 256;

/** Seconds (possibly fractional or negative), or why the text is not a fail2ban time. */
export type TimeResult = { ok: true; seconds: number } | { ok: false; reason: string };

/**
 * Parses fail2ban time text into seconds: `"600"` → 600, `"10m"` → 600, `"1h 30m"` → 5400,
 * `"1d12h"` → 129600, `"-1"` → -1 (a negative `bantime` means permanent to fail2ban).
 */
export function parseFail2banTime(text: string): TimeResult {
  const s = text.trim();
  if (s === "") return { ok: false, reason: "empty; expected a time such as 600, 10m or 1h" };
  if (s.length > MAX_TIME_TEXT) {
    return { ok: false, reason: `longer than ${MAX_TIME_TEXT} characters` };
  }
  const group = /\s*([+-]?)\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)/y;
  let pos = 0;
  let total = 0;
  let first = true;
  while (pos < s.length) {
    group.lastIndex = pos;
    const m = group.exec(s);
    if (m === null) {
      return {
        ok: false,
        reason: `unexpected '${s.slice(pos).trim().slice(0, 12)}' in ${
          JSON.stringify(s)
        }; expected numbers with units (s m h d w mo y) joined by + or -`,
      };
    }
    const [, sign, number, unitText] = m as unknown as [string, string, string, string];
    // Without an operator, only white space may separate groups ("1h 30m", not "1h30m5" glued).
    const unit = unitText.toLowerCase();
    const factor = unit === "" ? 1 : UNIT_SECONDS.get(unit);
    if (factor === undefined) {
      return { ok: false, reason: `unknown time unit '${unitText}' in ${JSON.stringify(s)}` };
    }
    if (!first && sign === "" && !/\s|[a-zA-Z]/.test(s[pos - 1] ?? "") && !/^\s/.test(m[0])) {
      return { ok: false, reason: `expected an operator or space before '${number}'` };
    }
    const value = Number(number) * factor;
    total += sign === "-" ? -value : value;
    first = false;
    pos = group.lastIndex;
  }
  return { ok: true, seconds: total };
}
