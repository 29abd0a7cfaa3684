import assert from "node:assert/strict";
import { allowList } from "./mod.ts";

const read = (path: string) => Deno.readTextFile(new URL(`../../${path}`, import.meta.url));

Deno.test("docs/seccomp.md gives a reason for exactly the calls of the allow list", async () => {
  const doc = await read("docs/seccomp.md");
  const table = doc.slice(doc.indexOf("\n## The list\n"), doc.indexOf("\n## Residual risks\n"));
  const names = [...table.matchAll(/^\| `([a-z0-9_]+)` +\| (.*) \|$/gm)];
  assert.ok(names.every((m) => m[2]!.trim().length > 0));
  assert.deepEqual(names.map((m) => m[1]).sort(), [...allowList(true)]);
});

Deno.test("the unit's SystemCallFilter= lists the allow list with execve, refusing with EPERM", async () => {
  const unit = await read("packaging/fail2zig.service");
  const names = [...unit.matchAll(/^SystemCallFilter=(.*)$/gm)].flatMap((m) => m[1]!.split(/\s+/));
  assert.deepEqual(names, [...allowList(true)]);
  assert.match(unit, /^SystemCallErrorNumber=EPERM$/m);
  assert.match(unit, /^SystemCallArchitectures=native$/m);
});
