/**
 * A deeply nested or huge config is refused by `config check` and by a running daemon's reload
 * (which then runs on unchanged), instead of exhausting the capped V8 heap or the stack.
 */
import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { DAEMON_V8_FLAGS } from "../src/daemon/mod.ts";
import { IpcClient } from "../src/ipc/mod.ts";
import { makeConfig, privateGlobal, ROOT, sshdJail, startDaemon } from "./_daemon.ts";

const NESTED = `x = ${"[".repeat(5000)}${"]".repeat(5000)}\n`;
const HUGE = `x = [${"1,".repeat(400_000)}1]\n`;

Deno.test("config check refuses a deeply nested and a 400,000-element config with a position, under the daemon's heap limits", async () => {
  const { dir, config } = await makeConfig(() => "");
  try {
    for (const [text, why] of [[NESTED, "nested deeper than"], [HUGE, "elements in one array"]]) {
      await Deno.writeTextFile(config, text!);
      const r = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-q",
          `--v8-flags=${DAEMON_V8_FLAGS}`,
          "-P=daemon",
          "mod.ts",
          "config",
          "check",
          "--config",
          config,
        ],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(r.stderr);
      equal(r.code, 1, err);
      ok(err.includes(`${config}:1:`) && err.includes(why!), err);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a reload onto a deeply nested or huge config is refused with invalid_config and the daemon runs on", async () => {
  const { dir, config } = await makeConfig((d) => `${privateGlobal(d)}\n${sshdJail(d)}`);
  await Deno.writeTextFile(join(dir, "auth.log"), "");
  const good = await Deno.readTextFile(config);
  const daemon = await startDaemon(dir, config);
  const socket = join(dir, "fail2zig.sock");
  try {
    for (const text of [NESTED, HUGE]) {
      await Deno.writeTextFile(config, good + text);
      const c = await IpcClient.connect(socket);
      try {
        const r = await c.request({ v: 1, cmd: "reload" });
        equal(r.ok, false);
        equal((r as { code?: string }).code, "invalid_config");
        const s = await c.request({ v: 1, cmd: "status" });
        ok(s.ok, JSON.stringify(s));
      } finally {
        c.close();
      }
    }
  } finally {
    equal(await daemon.stop(), 0, "the daemon survived and stops cleanly");
    await Deno.remove(dir, { recursive: true });
  }
});
