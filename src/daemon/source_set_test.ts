import { deepEqual } from "node:assert/strict";
import type { SourcePosition } from "../sources/mod.ts";
import { SourceSet } from "./source_set.ts";

const file = (group: string, path: string, offset: number): SourcePosition => ({
  kind: "file",
  group,
  path,
  dev: 1,
  ino: 2,
  size: offset,
  offset,
  fpLen: 0,
  fp: "00000000000000",
});
const journal = (key: string, cursor: string): SourcePosition => ({ kind: "journal", key, cursor });

Deno.test("SourceSet: a batch replaces its source's whole list; other sources keep theirs", () => {
  const set = new SourceSet();
  set.seed([file("end", "/a", 10), file("end", "/b", 20), journal("j1", "c1")]);
  set.advance([file("end", "/a", 30)]);
  deepEqual(set.positions(), [file("end", "/a", 30), journal("j1", "c1")]);
  set.advance([]);
  deepEqual(
    set.positions(),
    [file("end", "/a", 30), journal("j1", "c1")],
    "an empty list moves none",
  );
});

Deno.test("SourceSet: seeding a stopped source replaces only the sources it names", () => {
  const set = new SourceSet();
  set.seed([file("start", "/x", 1), journal("j1", "c1")]);
  set.seed([journal("j1", "c9"), journal("j2", "d1")]);
  deepEqual(set.positions(), [file("start", "/x", 1), journal("j1", "c9"), journal("j2", "d1")]);
});
