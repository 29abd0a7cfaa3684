/**
 * A state file someone else could have written is not loaded by the live daemon: it warns, moves
 * the file aside and starts empty (docs/state.md), then saves a new file of its own.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { makeConfig, privateGlobal, request, sshdJail, startDaemon } from "./_daemon.ts";

Deno.test("the daemon does not load a world-writable state file: warning, moved to .untrusted, empty start", async () => {
  const { dir, config } = await makeConfig((d) => `${privateGlobal(d)}\n${sshdJail(d)}`);
  await Deno.writeTextFile(join(dir, "auth.log"), "");
  const socket = join(dir, "fail2zig.sock");
  const state = join(dir, "state.bin");
  try {
    let daemon = await startDaemon(dir, config);
    await request(socket, { v: 1, cmd: "ban", ip: "192.0.2.44", jail: "sshd" });
    equal(await daemon.stop(), 0);
    equal(Deno.statSync(state).mode! & 0o777, 0o600);
    Deno.chmodSync(state, 0o666);
    daemon = await startDaemon(dir, config);
    try {
      const w = await daemon.waitFor((r) => r["msg"] === "state file discarded; starting empty");
      ok(String(w["reason"]).includes("world-writable"), JSON.stringify(w));
      equal(w["moved_to"], `${state}.untrusted`);
      deepEqual((await request(socket, { v: 1, cmd: "list" }))["bans"], []);
      await request(socket, { v: 1, cmd: "ban", ip: "192.0.2.45", jail: "sshd" });
    } finally {
      equal(await daemon.stop(), 0);
    }
    equal(Deno.statSync(state).mode! & 0o777, 0o600, "a new state file of its own");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
