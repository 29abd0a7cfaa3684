import assert from "node:assert/strict";
import { BANNED, EntryLists, FREE, HISTORY, LISTS } from "./_lists.ts";

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
  lists.linkTail(lists.takeFree(), 0);
  lists.linkTail(lists.takeFree(), BANNED);
  lists.clear();
  for (let l = 0; l < LISTS; l++) assert.deepEqual(walk(lists, l), []);
  assert.equal(lists.takeFree(), 2);
});
