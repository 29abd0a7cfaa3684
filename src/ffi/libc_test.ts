import assert from "node:assert/strict";
import { cpuSeconds, openFdCount, shareMallocArenas } from "./mod.ts";

Deno.test("shareMallocArenas() is accepted by glibc's mallopt", () => {
  assert.equal(shareMallocArenas(), true);
});

Deno.test("openFdCount() counts this process's descriptors: one more while a file is open", () => {
  const before = openFdCount();
  assert.ok(before !== null && before >= 3, `found ${before}`);
  const f = Deno.openSync(Deno.execPath());
  try {
    assert.equal(openFdCount(), before + 1);
  } finally {
    f.close();
  }
  assert.equal(openFdCount(), before);
});

Deno.test("cpuSeconds() grows while this process computes, and never faster than the clock", () => {
  const before = cpuSeconds();
  const start = performance.now();
  let x = 0;
  // Compute until 50 ms of CPU are counted (a loaded machine may give less CPU than wall time).
  while (cpuSeconds() - before < 0.05 && performance.now() - start < 10_000) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + i);
  }
  const spent = cpuSeconds() - before;
  const wall = (performance.now() - start) / 1000;
  assert.ok(x > 0);
  assert.ok(spent >= 0.05, `only ${spent} s of CPU counted in ${wall} s`);
  assert.ok(spent <= wall * 2 + 0.02, `${spent} s of CPU in ${wall} s`); // main thread + helpers
});
