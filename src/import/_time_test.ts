import { deepEqual, equal, match } from "node:assert/strict";
import { parseFail2banTime } from "./_time.ts";

function seconds(text: string): number {
  const r = parseFail2banTime(text);
  if (!r.ok) throw new Error(`${text}: ${r.reason}`);
  return r.seconds;
}

function reason(text: string): string {
  const r = parseFail2banTime(text);
  if (r.ok) throw new Error(`${text} parsed as ${r.seconds}`);
  return r.reason;
}

Deno.test("parseFail2banTime() reads plain seconds and every unit of fail2ban", () => {
  deepEqual(
    ["600", "10m", "1h", "1d", "1w", "30s", "2mo", "1y", "1.5h"].map(seconds),
    [600, 600, 3600, 86400, 604800, 30, 2 * 2_629_800, 31_557_600, 5400],
  );
});

Deno.test("parseFail2banTime() accepts the long and doubled unit spellings, in any case", () => {
  deepEqual(
    [
      "5 minutes",
      "5min",
      "5mm",
      "2 hours",
      "2hh",
      "3 days",
      "3dd",
      "1 week",
      "1WW",
      "10sec",
      "10 S",
    ]
      .map(seconds),
    [300, 300, 300, 7200, 7200, 259200, 259200, 604800, 604800, 10, 10],
  );
});

Deno.test("parseFail2banTime() adds groups joined by spaces, glued after a unit, or by +", () => {
  equal(seconds("1h 30m"), 5400);
  equal(seconds("1d12h"), 129600);
  equal(seconds("0d 1h 30m"), 5400);
  equal(seconds("1hour+30min"), 5400);
  equal(seconds("1h30"), 3630);
});

Deno.test("parseFail2banTime() subtracts with - and reads -1 as negative (permanent bantime)", () => {
  equal(seconds("-1"), -1);
  equal(seconds("1year-6mo"), 31_557_600 / 2);
  equal(seconds("1d - 1h"), 82800);
});

Deno.test("parseFail2banTime() refuses what it would have to evaluate as Python", () => {
  match(reason(""), /empty/);
  match(reason("1h*2"), /unexpected '\*2'/);
  match(reason("__import__('os')"), /unexpected/);
  match(reason("(1h)"), /unexpected/);
  match(reason("10 fortnights"), /unknown time unit 'fortnights'/);
  match(reason("1.5.3"), /operator or space/);
  match(reason("x".repeat(300)), /longer than 256/);
});
