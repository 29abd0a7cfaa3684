import { deepEqual, equal, match } from "node:assert/strict";

import { fail2zig } from "../tests/_daemon.ts";
import { memoryMaxBytes } from "../src/config/mod.ts";

/** `fail2zig config check ARGS`. */
const configCheck = (...args: string[]) => fail2zig(["config", "check", ...args]);

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "fail2zig-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("config check prints OK (N jails) and exits 0 for a valid config", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/ok.toml`;
    await Deno.writeTextFile(
      path,
      `[jails.sshd]\nfilter = "sshd"\nlogpath = "${dir}/auth.log"\n` +
        '[jails.off]\nenabled = false\nsource = "bans"\n',
    );
    await Deno.writeTextFile(`${dir}/auth.log`, "");
    deepEqual(await configCheck("--config", path), {
      code: 0,
      stdout: "OK (2 jails)\n",
      stderr: "",
    });
    await Deno.writeTextFile(`${dir}/empty.toml`, "");
    equal((await configCheck("--config", `${dir}/empty.toml`)).stdout, "OK (0 jails)\n");
  });
});

Deno.test("config check accepts the commented example config (its logpaths and the example action's program may only warn)", async () => {
  const r = await configCheck("--config", "fixtures/config/example.toml");
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "OK (4 jails, fleet)\n");
  for (const line of r.stderr.split("\n").filter((l) => l !== "")) {
    match(
      line,
      /^fixtures\/config\/example\.toml:\d+:\d+: warning: (jails\.sshd\.logpath\[[01]\]|actions\.report\.on_(un)?ban\[0\]): /,
    );
  }
});

Deno.test("config check refuses a literal logpath that does not exist and warns for an empty glob", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/c.toml`;
    await Deno.writeTextFile(
      path,
      `[jails.sshd]\nfilter = "sshd"\nlogpath = "${dir}/auth.log"\n` +
        `[jails.web]\nfilter = "nginx-http-auth"\nlogpath = "${dir}/nginx/*.log"\n`,
    );
    const missing = await configCheck("--config", path);
    equal(missing.code, 1);
    equal(missing.stdout, "");
    match(
      missing.stderr,
      new RegExp(`${path}:3:11: jails\\.sshd\\.logpath: ${dir}/auth\\.log does not exist`),
    );
    match(
      missing.stderr,
      new RegExp(
        `${path}:6:11: warning: jails\\.web\\.logpath: ${dir}/nginx/\\*\\.log matches no file yet`,
      ),
    );
    await Deno.writeTextFile(`${dir}/auth.log`, "");
    const warned = await configCheck("--config", path);
    equal(warned.code, 0, warned.stderr);
    equal(warned.stdout, "OK (2 jails)\n");
    equal(warned.stderr.split("\n").filter((l) => l !== "").length, 1, warned.stderr);
    await Deno.mkdir(`${dir}/nginx`);
    await Deno.writeTextFile(`${dir}/nginx/error.log`, "");
    deepEqual(await configCheck("--config", path), {
      code: 0,
      stdout: "OK (2 jails)\n",
      stderr: "",
    });
  });
});

Deno.test("config check prints every error as PATH:LINE:COL: message and exits 1", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/bad.toml`;
    await Deno.writeTextFile(
      path,
      '[global]\nlog_level = "loud"\n[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nbantme = "1h"\n',
    );
    deepEqual(await configCheck("--config", path), {
      code: 1,
      stdout: "",
      stderr: `${path}:2:13: global.log_level: expected one of "debug", "info", "warn", "error", ` +
        `found string "loud"\n${path}:6:1: jails.sshd.bantme: unknown key; did you mean bantime?\n`,
    });
  });
});

Deno.test("config check exits 1 with a clear message for a missing file", async () => {
  const r = await configCheck("--config", "/nonexistent/fail2zig.toml");
  deepEqual(r, {
    code: 1,
    stdout: "",
    stderr: "/nonexistent/fail2zig.toml: cannot read the config file: no such file\n",
  });
});

Deno.test("config check exits 2 on an unknown flag or an extra argument", async () => {
  const flag = await configCheck("--bogus");
  equal(flag.code, 2);
  match(flag.stderr, /^fail2zig config check: .*--bogus/);
  const extra = await configCheck("--config", "/x.toml", "extra");
  equal(extra.code, 2);
  match(extra.stderr, /unexpected argument 'extra'/);
  const help = await configCheck("--help");
  equal(help.code, 0);
  match(help.stdout, /^usage: fail2zig config check \[--config PATH\]/);
});

Deno.test({
  name: "config check as root refuses a config owned by another user, with read permission only",
  ignore: Deno.uid() !== 0, // chown needs root; the check itself only applies to root
  fn: async () => {
    await withDir(async (dir) => {
      const path = `${dir}/owned.toml`;
      await Deno.writeTextFile(path, "");
      await Deno.chown(path, 65534, 0);
      deepEqual(await configCheck("--config", path), {
        code: 1,
        stdout: "",
        stderr: `${path}: refusing a config owned by uid 65534 while running as root: that user ` +
          `could disable jails or unban addresses; fix: chown root:root ${path}\n`,
      });
    });
  },
});

Deno.test("config check warns when the installed unit's MemoryMax is not memory_ceiling_mb + 32 MiB", async () => {
  await withDir(async (dir) => {
    const units = `${dir}/units`;
    const config = `${dir}/c.toml`;
    const setCeiling = (mb: number) =>
      Deno.writeTextFile(config, `[global]\nmemory_ceiling_mb = ${mb}\n`);
    const check = () => configCheck("--config", config, "--unit-dir", units);
    await setCeiling(256);
    deepEqual(
      await check(),
      { code: 0, stdout: "OK (0 jails)\n", stderr: "" },
      "nothing installed",
    );

    await Deno.mkdir(`${units}/fail2zig.service.d`, { recursive: true });
    await Deno.copyFile("packaging/fail2zig.service", `${units}/fail2zig.service`); // 160M
    const low = await check();
    equal(low.code, 0, "a warning only");
    equal(low.stdout, "OK (0 jails)\n");
    match(
      low.stderr,
      /^\S+\/units\/fail2zig\.service:\d+: warning: MemoryMax=160M disagrees with memory_ceiling_mb = 256 \(\+ 32 MiB = 288M\) and is below it: the kernel kills/,
    );

    // the drop-in scripts/install.sh writes overrides the unit; a later drop-in wins over it
    const dropin = `${units}/fail2zig.service.d/memory.conf`;
    await Deno.writeTextFile(
      dropin,
      "# Written by scripts/install.sh\n[Service]\nMemoryMax=288M\n",
    );
    equal((await check()).stderr, "", "288M = 256 + 32");
    await Deno.writeTextFile(
      `${units}/fail2zig.service.d/zz-local.conf`,
      "[Service]\nMemoryMax=1G\n",
    );
    match((await check()).stderr, /zz-local\.conf:2: warning: MemoryMax=1G .* is above it/);
    await Deno.remove(`${units}/fail2zig.service.d/zz-local.conf`);

    await setCeiling(512);
    match((await check()).stderr, /memory\.conf:3: warning: MemoryMax=288M disagrees .* = 544M\)/);
    // without --unit-dir: /etc/systemd/system, where install.sh writes (a warning never fails)
    const dflt = await configCheck("--config", config);
    equal(dflt.code, 0);
  });
});

Deno.test("MemoryMax values compare in systemd's 1024-based units", () => {
  deepEqual(
    ["160M", "1G", "1.5K", "1048576", "infinity", "50%", "lots"].map(memoryMaxBytes),
    [160 * 2 ** 20, 2 ** 30, 1536, 2 ** 20, Infinity, null, null],
  );
});
