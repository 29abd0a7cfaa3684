import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { run } from "../mod.ts";

const ROOT = join(import.meta.dirname!, "..");
const COMMANDS = [
  "daemon",
  "client",
  "config check",
  "filter test",
  "import-fail2ban",
  "audit verify",
  "version",
];

/** Runs `fail2zig ARGS` as its own process under the daemon permission set. */
async function fail2zig(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      `--config=${join(ROOT, "deno.json")}`,
      "-P=daemon",
      join(ROOT, "mod.ts"),
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test("run() exits 2 on an unknown command and 0 on --help", async () => {
  equal(await run(["no-such-command"]), 2);
  equal(await run(["--help"]), 0);
});

Deno.test("every command prints its usage for --help and exits 0", async () => {
  for (const cmd of COMMANDS) {
    const r = await fail2zig([...cmd.split(" "), "--help"]);
    equal(r.code, 0, `${cmd} --help: ${r.err}`);
    ok(r.out.startsWith(`usage: fail2zig ${cmd}`), `${cmd} --help printed: ${r.out}`);
  }
});

Deno.test("every command exits 2 on an unknown flag", async () => {
  for (const cmd of COMMANDS) {
    const r = await fail2zig([...cmd.split(" "), "--no-such-flag"]);
    equal(r.code, 2, `${cmd} --no-such-flag: ${r.out} ${r.err}`);
  }
});
