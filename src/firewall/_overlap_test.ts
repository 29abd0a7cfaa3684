import assert from "node:assert/strict";
import { parseIp } from "../net/mod.ts";
import { type Block, covers, longer, planIntervalBans } from "./_overlap.ts";

function blk(text: string, prefix: number, timeoutMs: number | null, jail = "j"): Block {
  return { bytes: parseIp(text)!.bytes, prefix, timeoutMs, jail };
}
function keys(bs: Block[]): string[] {
  return bs.map((b) => `${b.prefix}:${b.timeoutMs}`).sort();
}

Deno.test("covers() is true for a block inside a wider one and for equal blocks only", () => {
  assert.ok(covers(blk("2001:db8::", 64, 1), blk("2001:db8::5", 128, 1)));
  assert.ok(covers(blk("2001:db8::", 64, 1), blk("2001:db8::", 64, 1)));
  assert.ok(!covers(blk("2001:db8::5", 128, 1), blk("2001:db8::", 64, 1)));
  assert.ok(!covers(blk("2001:db8:1::", 64, 1), blk("2001:db8::5", 128, 1)));
});

Deno.test("longer() prefers permanent, then the larger timeout", () => {
  assert.equal(longer(null, 5), null);
  assert.equal(longer(5, null), null);
  assert.equal(longer(5, 7), 7);
});

Deno.test("planIntervalBans() folds an address under an existing /64 into it, extending it", () => {
  const plan = planIntervalBans([blk("2001:db8::5", 128, 90_000)], [blk("2001:db8::", 64, 30_000)]);
  assert.deepEqual(plan.remove, []);
  assert.deepEqual(keys(plan.add), ["64:90000"]);
});

Deno.test("planIntervalBans() never shortens a wider existing block", () => {
  const plan = planIntervalBans([blk("2001:db8::5", 128, 1_000)], [blk("2001:db8::", 64, null)]);
  assert.deepEqual(keys(plan.add), ["64:null"]);
});

Deno.test("planIntervalBans() replaces narrower existing blocks by a new wider one that outlasts them", () => {
  const plan = planIntervalBans([blk("2001:db8::", 48, 10_000)], [
    blk("2001:db8::5", 128, 50_000),
    blk("2001:db8:0:1::", 64, 20_000),
    blk("2001:db9::1", 128, 99_000),
  ]);
  assert.deepEqual(keys(plan.remove), ["128:50000", "64:20000"]);
  assert.deepEqual(keys(plan.add), ["48:50000"]);
});

Deno.test("planIntervalBans() re-ban of the same block replaces its timeout", () => {
  const plan = planIntervalBans([blk("2001:db8::", 64, 5_000)], [blk("2001:db8::", 64, 60_000)]);
  assert.deepEqual(plan.remove, []);
  assert.deepEqual(keys(plan.add), ["64:5000"]);
});

Deno.test("planIntervalBans() folds overlapping blocks within one call", () => {
  const plan = planIntervalBans([
    blk("2001:db8::5", 128, 70_000),
    blk("2001:db8::", 64, 10_000),
    blk("2001:db8::6", 128, 20_000),
  ], []);
  assert.deepEqual(keys(plan.add), ["64:70000"]);
});
