import { deepEqual, equal } from "node:assert/strict";
import { formatDuration, MAX_DURATION_MS, parseDuration } from "./_duration.ts";

Deno.test("parseDuration() adds number+unit groups, largest unit first", () => {
  deepEqual(parseDuration("1h30m"), { ok: true, ms: 5_400_000 });
  deepEqual(parseDuration("2w1d12h"), { ok: true, ms: 15 * 86_400_000 + 12 * 3_600_000 });
  deepEqual(parseDuration("0s"), { ok: true, ms: 0 });
  deepEqual(parseDuration("1s250ms", { subSecond: true }), { ok: true, ms: 1250 });
  deepEqual(parseDuration("permanent", { permanent: true }), { ok: true, ms: null });
});

Deno.test("parseDuration() says why a duration is rejected", () => {
  const reason = (t: string) => {
    const r = parseDuration(t);
    return r.ok ? "accepted" : r.reason;
  };
  equal(reason("10"), "missing unit after 10 (use s, m, h, d or w)");
  equal(reason("1m1m"), "units must go from largest to smallest, each at most once");
  equal(reason("1h 30m"), "unexpected ' '; expected digits then a unit (s, m, h, d or w)");
  equal(reason("100ms"), "sub-second units (ms) are not allowed here");
  equal(reason("5M"), "unknown unit 'M' (use s, m, h, d or w)");
  equal(reason("permanent"), '"permanent" is only allowed for bantime');
  equal(reason("99999999999999w"), "longer than the maximum of 520w");
  equal(reason(`${MAX_DURATION_MS / 1000 + 1}s`), "longer than the maximum of 520w");
});

Deno.test("formatDuration() writes the shortest form parseDuration() reads back", () => {
  for (const ms of [0, 1, 999, 1000, 90_000, 5_400_000, 691_200_000, 604_800_000 + 1]) {
    const text = formatDuration(ms);
    deepEqual(parseDuration(text, { subSecond: true }), { ok: true, ms }, text);
  }
  equal(formatDuration(5_400_000), "1h30m");
});
