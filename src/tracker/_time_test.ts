import assert from "node:assert/strict";
import { MAX_FINDTIME_MS, REBASE_AFTER_MS, shiftedOffset, TimeBase } from "./_time.ts";

const T0 = Date.UTC(2026, 0, 1);

Deno.test("TimeBase stores times as whole-ms u32 offsets and reads them back", () => {
  const time = new TimeBase(T0);
  assert.equal(time.abs(time.rel(T0)), T0);
  assert.equal(time.abs(time.rel(T0 + 0.9)), T0, "floored to whole ms");
  assert.equal(time.abs(time.rel(T0 - MAX_FINDTIME_MS)), T0 - MAX_FINDTIME_MS);
  assert.equal(time.rel(T0 - MAX_FINDTIME_MS - 10), 0, "before the epoch: clamped to 0");
  assert.equal(time.rel(T0 + 2 ** 33), 0xffffffff, "past u32: clamped");
});

Deno.test("TimeBase.rebase() moves the epoch only when now leaves its range", () => {
  const time = new TimeBase(T0);
  assert.equal(time.rebase(T0), 0);
  const stay = T0 + REBASE_AFTER_MS - MAX_FINDTIME_MS - 1;
  assert.equal(time.rebase(stay), 0, "at the last ms in range");
  const v = time.rel(stay - 1000);
  const shift = time.rebase(stay + 1);
  assert.equal(shift, REBASE_AFTER_MS - MAX_FINDTIME_MS);
  assert.equal(time.abs(shiftedOffset(v, shift)), stay - 1000, "a shifted offset keeps its time");
  assert.equal(shiftedOffset(5, shift), 0, "a time before the new epoch clamps to 0");
  // the clock steps back a month: the epoch moves back, later offsets clamp at u32
  const back = time.rebase(T0 - 30 * 86_400_000);
  assert.ok(back < 0);
  assert.equal(shiftedOffset(0xfffffff0, back), 0xffffffff);
  assert.equal(time.rebase(T0 - 30 * 86_400_000), 0);
});
