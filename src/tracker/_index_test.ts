import assert from "node:assert/strict";
import { capacityOfSlots, KeyIndex, slotsFor } from "./_index.ts";

Deno.test("slotsFor() is a power of two of at least 16 with load at most 0.75", () => {
  for (const cap of [1, 12, 13, 100, 15_671, 1 << 20]) {
    const s = slotsFor(cap);
    assert.ok(s >= 16 && (s & (s - 1)) === 0, `${cap} → ${s}`);
    assert.ok(capacityOfSlots(s) >= cap, `${cap} fits`);
    assert.ok(s === 16 || capacityOfSlots(s / 2) < cap, `${cap}: ${s} is the least`);
  }
});

/** A table of `cap` entries whose keys collide a lot (few distinct homes under `mask`). */
function table(cap: number) {
  const keys = new Uint32Array(cap * 4);
  const jail = new Uint16Array(cap);
  return { keys, jail, index: new KeyIndex(keys, jail, 99) };
}

Deno.test("KeyIndex finds every key of its jail after random deletions (backward shift)", () => {
  const cap = 1500;
  const { keys, jail, index } = table(cap);
  for (let e = 0; e < cap; e++) {
    keys.set([0, 0, 0xffff, 0xc0000200 + (e >> 1)], e * 4);
    jail[e] = e & 1; // the same address in two jails: two keys
    index.insert(e);
  }
  const removed = new Set<number>();
  for (let e = 0; e < cap; e += 1 + (e % 5)) {
    index.remove(e);
    removed.add(e);
  }
  for (let e = 0; e < cap; e++) {
    assert.equal(index.find(jail[e]!, keys, e * 4), removed.has(e) ? -1 : e, `entry ${e}`);
  }
  const other = Uint32Array.from([0, 0, 0xffff, 0xc0000200]);
  assert.equal(index.find(2, other, 0), -1, "unknown jail");
  index.clear();
  assert.equal(index.find(1, keys, 4), -1);
  index.insert(1);
  assert.equal(index.find(1, keys, 4), 1);
});

Deno.test("KeyIndex.home() depends on the seed", () => {
  const keys = Uint32Array.from([0x20010db8, 0, 0, 1]);
  const jail = new Uint16Array(1);
  const homes = new Set<number>();
  for (let seed = 0; seed < 8; seed++) {
    homes.add(new KeyIndex(new Uint32Array(4), new Uint16Array(1000), seed).home(0, keys, 0));
  }
  assert.ok(homes.size > 1, "a fixed seed would let an attacker aim collisions");
  assert.equal(new KeyIndex(keys, jail, 1).home(0, keys, 0) < 16, true);
});
