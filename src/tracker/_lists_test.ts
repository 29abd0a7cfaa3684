import assert from "node:assert/strict";
import { BANNED, EntryLists, FREE, HISTORY, LISTS, ONE_FAILURE } from "./_lists.ts";
import { xorshift } from "../../tests/_rng.ts";

/** The entries of list `l`, head to tail, checked against the prev links and the size. */
function walk(lists: EntryLists, l: number): number[] {
  const out: number[] = [];
  let prev = -1;
  for (let e = lists.head[l]!; e >= 0; e = lists.next[e]!) {
    assert.equal(lists.prev[e], prev, `prev of ${e}`);
    assert.equal(lists.list[e], l, `list of ${e}`);
    out.push(e);
    prev = e;
  }
  assert.equal(lists.tail[l], prev);
  assert.equal(lists.size[l], out.length);
  return out;
}

Deno.test("EntryLists hands out free entries in ascending order, then -1", () => {
  const lists = new EntryLists(3);
  assert.deepEqual([0, 1, 2].map((e) => lists.list[e]), [FREE, FREE, FREE]);
  assert.deepEqual([lists.takeFree(), lists.takeFree(), lists.takeFree()], [0, 1, 2]);
  assert.equal(lists.takeFree(), -1);
  lists.pushFree(1);
  assert.equal(lists.takeFree(), 1);
  assert.equal(lists.takeFree(), -1);
});

Deno.test("EntryLists.linkTail() appends, unlink() removes from head, middle and tail", () => {
  const lists = new EntryLists(8);
  for (let e = 0; e < 5; e++) lists.linkTail(lists.takeFree(), HISTORY);
  assert.deepEqual(walk(lists, HISTORY), [0, 1, 2, 3, 4]);
  lists.unlink(2);
  assert.equal(lists.list[2], FREE);
  assert.deepEqual(walk(lists, HISTORY), [0, 1, 3, 4]);
  lists.unlink(0);
  lists.unlink(4);
  assert.deepEqual(walk(lists, HISTORY), [1, 3]);
  lists.unlink(4); // in no list: nothing happens
  assert.deepEqual(walk(lists, HISTORY), [1, 3]);
  lists.linkTail(0, BANNED);
  lists.unlink(1);
  lists.linkTail(1, HISTORY); // moved to the tail: most recently seen
  assert.deepEqual(walk(lists, HISTORY), [3, 1]);
  assert.deepEqual(walk(lists, BANNED), [0]);
  lists.unlink(3);
  lists.unlink(1);
  assert.deepEqual(walk(lists, HISTORY), []);
});

Deno.test("EntryLists.clear() empties every list and keeps the free list", () => {
  const lists = new EntryLists(4);
  lists.linkTail(lists.takeFree(), ONE_FAILURE);
  lists.linkTail(lists.takeFree(), BANNED);
  lists.clear();
  for (let l = ONE_FAILURE; l < LISTS; l++) assert.deepEqual(walk(lists, l), []);
  assert.equal(lists.takeFree(), 2);
});

Deno.test("EntryLists writes nothing at start: every entry's fields are 0 until it is handed out", () => {
  const lists = new EntryLists(64);
  assert.equal(FREE, 0);
  const zero = (a: Int32Array | Uint8Array, from: number) => a.subarray(from).every((v) => v === 0);
  assert.ok(zero(lists.list, 0) && zero(lists.next, 0) && zero(lists.prev, 0));
  for (let e = 0; e < 5; e++) lists.linkTail(lists.takeFree(), HISTORY);
  lists.unlink(2);
  lists.pushFree(2);
  assert.equal(lists.takeFree(), 2);
  assert.equal(lists.takeFree(), 5);
  // Entries beyond the ones handed out are untouched.
  assert.ok(zero(lists.list, 6) && zero(lists.next, 6) && zero(lists.prev, 6));
});

Deno.test("EntryLists.takeFree() gives what a free list threaded through every entry at start gives", () => {
  const random = xorshift(99);
  for (const capacity of [1, 2, 7, 64]) {
    const lists = new EntryLists(capacity);
    // The model: a stack of every entry, 0 on top, freed entries pushed on top.
    const model: number[] = [];
    for (let e = capacity - 1; e >= 0; e--) model.push(e);
    const taken: number[] = [];
    for (let step = 0; step < 2000; step++) {
      if (taken.length > 0 && (model.length === 0 || random() < 0.45)) {
        const e = taken.splice(Math.floor(random() * taken.length), 1)[0]!;
        lists.pushFree(e);
        model.push(e);
      } else {
        const e = lists.takeFree();
        assert.equal(e, model.pop() ?? -1, `step ${step}, capacity ${capacity}`);
        if (e >= 0) taken.push(e);
      }
      if (model.length === 0) assert.equal(lists.takeFree(), -1, "a full table stays full");
    }
  }
});
