import assert from "node:assert/strict";
import { shareMallocArenas } from "./mod.ts";

Deno.test("shareMallocArenas() is accepted by glibc's mallopt", () => {
  assert.equal(shareMallocArenas(), true);
});
