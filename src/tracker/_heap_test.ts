import assert from "node:assert/strict";
import { ExpiryHeap } from "./_heap.ts";
import { xorshift } from "../../tests/_rng.ts";

Deno.test("ExpiryHeap pops entries in key order through random pushes and removals", () => {
  const n = 2000;
  const key = new Float64Array(n);
  const heap = new ExpiryHeap(n, key);
  const random = xorshift(12345);
  const inHeap = new Set<number>();
  for (let e = 0; e < n; e++) {
    key[e] = Math.floor(random() * 500); // many equal keys
    heap.push(e);
    inHeap.add(e);
  }
  for (let e = 0; e < n; e += 3) {
    heap.remove(e);
    inHeap.delete(e);
  }
  heap.remove(0); // removed already: nothing happens
  assert.equal(heap.size, inHeap.size);
  let last = -Infinity;
  while (heap.size > 0) {
    const e = heap.peek();
    assert.ok(inHeap.delete(e), `entry ${e} popped once, and only if still in`);
    assert.ok(key[e]! >= last, `key ${key[e]} after ${last}`);
    last = key[e]!;
    heap.remove(e);
  }
  assert.equal(inHeap.size, 0);
  assert.equal(heap.peek(), -1);
});

Deno.test("ExpiryHeap.clear() empties it; entries can be pushed again", () => {
  const key = Float64Array.from([3, 1, 2]);
  const heap = new ExpiryHeap(3, key);
  for (const e of [0, 1, 2]) heap.push(e);
  assert.equal(heap.peek(), 1);
  heap.clear();
  assert.equal(heap.size, 0);
  heap.remove(1); // not in the heap after clear: nothing happens
  heap.push(2);
  heap.push(0);
  assert.equal(heap.peek(), 2);
  assert.equal(heap.size, 2);
});

Deno.test("ExpiryHeap.clear() forgets every entry it held, the full heap's and the removed ones'", () => {
  const n = 64;
  const key = new Float64Array(n).map((_, e) => (e * 37) % n);
  const heap = new ExpiryHeap(n, key);
  for (let e = 0; e < n; e++) heap.push(e); // full
  for (let e = 0; e < n; e += 5) heap.remove(e);
  heap.clear();
  for (let e = 0; e < n; e++) heap.remove(e); // none is in the heap: nothing happens
  assert.equal(heap.size, 0);
  for (let e = n - 1; e >= 0; e--) heap.push(e);
  const order: number[] = [];
  while (heap.size > 0) {
    order.push(heap.peek());
    heap.remove(heap.peek());
  }
  assert.deepEqual(order.map((e) => key[e]), [...key].sort((a, b) => a - b));
});
