import { equal as assertEquals } from "node:assert/strict";
import { run } from "../mod.ts";

Deno.test("run() exits 2 on an unknown command and 0 on --help", async () => {
  assertEquals(await run(["no-such-command"]), 2);
  assertEquals(await run(["--help"]), 0);
});
