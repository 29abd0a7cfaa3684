/**
 * The README's demo command keeps working: the demo runs the real daemon on a generated attack log
 * and exits 0 only when its bans match the ground truth. It must also work as an unprivileged user
 * without a fail2zig group, so as root the test runs it again as `nobody` from a world-readable
 * copy of the program (the checkout may sit under a private home).
 */
import { equal, ok } from "node:assert/strict";
import { ROOT } from "./_daemon.ts";

const isRoot = Deno.uid() === 0;

async function runDemo(
  cmd: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

Deno.test("the demo bans every attacker and no innocent address", async () => {
  const r = await runDemo([
    Deno.execPath(),
    "run",
    "-q",
    `--config=${ROOT}/deno.json`,
    "-P=demo",
    `${ROOT}/scripts/demo.ts`,
  ]);
  equal(r.code, 0, r.out);
  ok(/mustBan (\d+)\/\1 banned; neverBan 0\/\d+ banned/.test(r.out), r.out);
});

Deno.test({
  name: "the demo works as an unprivileged user without a fail2zig group",
  ignore: !isRoot, // only root can switch to another user; as non-root the test above is that case
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "fail2zig-demo-user-" });
    try {
      const app = `${root}/app`;
      await Deno.mkdir(app);
      const tar = await runDemo([
        "sh",
        "-c",
        `tar -C '${ROOT}' --exclude=./.git --exclude=./node_modules/deno ` +
        `--exclude=./node_modules/@deno --exclude=./node_modules/.bin -cf - . | tar -C '${app}' -xf -`,
      ]);
      equal(tar.code, 0, tar.out);
      await Deno.copyFile(Deno.execPath(), `${root}/deno`);
      await Deno.mkdir(`${root}/home`);
      equal((await runDemo(["chmod", "-R", "a+rX", root])).code, 0);
      equal((await runDemo(["chown", "nobody", `${root}/home`])).code, 0);
      await Deno.chmod(root, 0o755);
      const r = await runDemo(
        [
          "/usr/bin/setpriv",
          "--reuid=nobody",
          "--regid=nogroup",
          "--clear-groups",
          `${root}/deno`,
          "run",
          "-q",
          `--config=${app}/deno.json`,
          "-P=demo",
          `${app}/scripts/demo.ts`,
        ],
        { HOME: `${root}/home`, DENO_DIR: `${root}/home/deno`, NO_COLOR: "1" },
      );
      equal(r.code, 0, r.out);
      ok(/mustBan (\d+)\/\1 banned; neverBan 0\/\d+ banned/.test(r.out), r.out);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
