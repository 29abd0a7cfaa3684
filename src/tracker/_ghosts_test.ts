import assert from "node:assert/strict";
import { GhostFilter } from "./_ghosts.ts";

function key(i: number): Uint32Array {
  return Uint32Array.from([0, 0, 0xffff, 0x0a000000 + i]);
}

Deno.test("GhostFilter remembers added keys per jail with few false hits", () => {
  const ghosts = new GhostFilter(1 << 16, 5);
  assert.equal(ghosts.adds, 0);
  assert.equal(ghosts.has(0, key(1), 0), false);
  for (let i = 0; i < 1000; i++) ghosts.add(0, key(i), 0);
  assert.equal(ghosts.adds, 1000);
  for (let i = 0; i < 1000; i++) assert.ok(ghosts.has(0, key(i), 0), `key ${i}`);
  let falseHits = 0;
  for (let i = 1000; i < 11_000; i++) if (ghosts.has(0, key(i), 0)) falseHits++;
  for (let i = 0; i < 1000; i++) if (ghosts.has(1, key(i), 0)) falseHits++;
  assert.ok(falseHits < 110, `${falseHits} false hits in 11,000`); // ≈ 0.1% at this fill
});

Deno.test("GhostFilter forgets a key when the generation after its own ends", () => {
  const bits = 1 << 13;
  const generation = Math.floor(bits * 0.07); // adds per generation
  const ghosts = new GhostFilter(bits, 5);
  const k = new Uint32Array(8);
  k.set(key(424242), 4); // read at an offset
  let next = 1;
  const addUntil = (adds: number) => {
    while (ghosts.adds < adds) ghosts.add(3, key(next++), 0);
  };
  ghosts.add(3, k, 4);
  addUntil(generation - 1);
  assert.ok(ghosts.has(3, k, 4), "kept while its generation is the new one");
  addUntil(2 * generation - 1);
  assert.ok(ghosts.has(3, k, 4), "kept through the next generation (as the old one)");
  addUntil(2 * generation);
  // its generation was cleared; a false hit is possible but unlikely (< 1%) for this key
  assert.equal(ghosts.has(3, k, 4), false);
});
