import { deepEqual, equal, match } from "node:assert/strict";

import { fail2zig, ROOT } from "../tests/_daemon.ts";

/** `fail2zig import-fail2ban ARGS`. */
const importCli = (...args: string[]) => fail2zig(["import-fail2ban", ...args]);

Deno.test("import-fail2ban prints the translated config, warnings on stderr, and exits 0", async () => {
  const r = await importCli("fixtures/fail2ban/debian");
  equal(r.code, 0);
  equal(r.stdout, await Deno.readTextFile(`${ROOT}fixtures/fail2ban/debian.expected.toml`));
  match(
    r.stderr,
    /^fail2zig import-fail2ban: warning: \[DEFAULT\] ignoreip: skipped "trusted\.example\.com"/m,
  );
  match(r.stderr, /^fail2zig import-fail2ban: 5 jails imported, 2 commented out$/m);
});

Deno.test("import-fail2ban output passes config check", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fail2zig-import-" });
  try {
    const r = await importCli("fixtures/fail2ban/debian");
    await Deno.writeTextFile(`${dir}/config.toml`, r.stdout);
    const check = await fail2zig(["config", "check", "--config", `${dir}/config.toml`]);
    // Not root-owned when the tests run unprivileged: the permission check is not what is tested.
    // Log files this machine lacks only warn: the importer writes missing_logpath = "warn".
    const errors = check.stderr.split("\n").filter((l) =>
      /:\d+:\d+: /.test(l) && !/: warning: /.test(l)
    );
    deepEqual(errors, [], check.stderr);
    if (Deno.uid() === 0) deepEqual([check.code, check.stdout], [0, "OK (5 jails)\n"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("import-fail2ban exits 1 when the directory has no jail.conf or is not a directory", async () => {
  const file = await importCli("mod.ts");
  deepEqual([file.code, file.stdout], [1, ""]);
  match(file.stderr, /mod\.ts: expected a fail2ban directory with jail\.conf, found none/);
  const r = await importCli("fixtures/fail2ban/no-jail-conf");
  deepEqual(r, {
    code: 1,
    stdout: "",
    stderr:
      "fail2zig import-fail2ban: fixtures/fail2ban/no-jail-conf: expected a fail2ban directory with jail.conf, found none\n",
  });
});

Deno.test("import-fail2ban exits 2 for an unknown flag or a second directory", async () => {
  const flag = await importCli("--frobnicate");
  equal(flag.code, 2);
  match(flag.stderr, /unknown option '--frobnicate'.*see 'fail2zig import-fail2ban --help'/is);
  const two = await importCli("a", "b");
  equal(two.code, 2);
  match(two.stderr, /expected at most one directory, found 2 arguments/);
  const help = await importCli("--help");
  equal(help.code, 0);
  match(help.stdout, /^usage: fail2zig import-fail2ban \[DIR\]/);
});

Deno.test("import-fail2ban keeps only read permission", async () => {
  // Runs the command in-process under the daemon permission set, then asks Deno what is left.
  const probe = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "-P=daemon",
      `import { main } from "./cli/import_fail2ban.ts";
       await main(["fixtures/fail2ban/no-jail-conf"]);
       const s = await Promise.all(["read", "write", "net", "env", "run", "ffi", "sys"].map(async (name) =>
         name + "=" + (await Deno.permissions.query({ name })).state));
       console.log(s.join(" "));`,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(
    new TextDecoder().decode(probe.stdout).trim(),
    "read=granted write=prompt net=prompt env=prompt run=prompt ffi=prompt sys=prompt",
  );
});
