import { equal, ok } from "node:assert/strict";
import { run } from "../mod.ts";
import { fail2zig } from "../tests/_daemon.ts";

const COMMANDS = [
  "daemon",
  "client",
  "config check",
  "filter test",
  "import-fail2ban",
  "audit verify",
  "fleet unban",
  "version",
];

Deno.test("run() exits 2 on an unknown command and 0 on --help", async () => {
  equal(await run(["no-such-command"]), 2);
  equal(await run(["--help"]), 0);
});

Deno.test("every command prints its usage for --help and exits 0", async () => {
  for (const cmd of COMMANDS) {
    const r = await fail2zig([...cmd.split(" "), "--help"]);
    equal(r.code, 0, `${cmd} --help: ${r.stderr}`);
    ok(r.stdout.startsWith(`usage: fail2zig ${cmd}`), `${cmd} --help printed: ${r.stdout}`);
  }
});

Deno.test("every command exits 2 on an unknown flag", async () => {
  for (const cmd of COMMANDS) {
    const r = await fail2zig([...cmd.split(" "), "--no-such-flag"]);
    equal(r.code, 2, `${cmd} --no-such-flag: ${r.stdout} ${r.stderr}`);
  }
});
