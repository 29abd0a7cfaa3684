/**
 * The in-process pipeline test (src/daemon/pipeline_test.ts) needs no permission: `deno test` of
 * it alone, with no permission flag and prompts off, passes. Its state is kept in a
 * `MemoryStateStore` and its `process_*` figures are given, so the daemon's whole path from a log
 * line to the audit record runs without the file system, FFI or the network.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./_daemon.ts";
import { DENO } from "./_netns.ts";

Deno.test("the in-process pipeline test passes under deno test with no permission at all", async () => {
  const r = await new Deno.Command(DENO, {
    args: ["test", "-q", "--no-prompt", join(ROOT, "src/daemon/pipeline_test.ts")],
    cwd: ROOT,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 0, out);
  assert.match(out, /ok \| [1-9]\d* passed \| 0 failed/);
  assert.doesNotMatch(out, /NotCapable|Requires \w+ access/);
});
