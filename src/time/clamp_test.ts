import assert from "node:assert/strict";
import { clampToNow } from "./mod.ts";

Deno.test("clampToNow() keeps a past or present time and counts a future or missing one as now", () => {
  const now = Date.UTC(2026, 11, 4, 21, 0, 0);
  assert.equal(clampToNow(now - 1, now), now - 1);
  assert.equal(clampToNow(now, now), now);
  assert.equal(clampToNow(0, now), 0);
  assert.equal(clampToNow(now + 1, now), now);
  assert.equal(clampToNow(Infinity, now), now);
  assert.equal(clampToNow(-Infinity, now), now);
  assert.equal(clampToNow(NaN, now), now);
  assert.equal(clampToNow(null, now), now);
});
