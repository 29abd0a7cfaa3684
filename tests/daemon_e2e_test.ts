/**
 * End-to-end: the real daemon (log-only backend) tails a file, and a generated attack log is
 * appended to it. Bans must match the generator's ground truth exactly.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import {
  appendSlowly,
  generateLog,
  makeConfig,
  privateGlobal,
  sshdJail,
  startDaemon,
} from "./_daemon.ts";
import { DAEMON_V8_FLAGS } from "../src/daemon/mod.ts";
import { wrapper } from "../scripts/gen_packaging.ts";
import { waitUntil } from "./_wait.ts";

for (const service of ["sshd", "nginx", "postfix", "dovecot"] as const) {
  Deno.test(`daemon bans every mustBan and no neverBan address of a generated ${service} log appended to a watched file`, async () => {
    const filter = service === "nginx" ? "nginx-http-auth" : service;
    // gen-logs counts postfix's SASL failures, which fail2ban 1.1 (and the built-in filter) count
    // in the auth and aggressive modes, not in normal mode
    const mode = service === "postfix" ? 'mode = "aggressive"\n' : "";
    const { dir, config } = await makeConfig((d) =>
      `${privateGlobal(d)}
[jails.${service}]
filter = "${filter}"
${mode}logpath = "${join(d, "watched.log")}"
maxretry = 5
findtime = "10m"
bantime = "10m"
`
    );
    await Deno.writeTextFile(
      join(dir, "watched.log"),
      "old line before start from 203.0.113.9 port 1\n",
    );
    const daemon = await startDaemon(dir, config);
    try {
      const { path, truth } = await generateLog({ service, lines: 3000, seed: 11, dir });
      ok(truth.mustBan.length > 0 && truth.neverBan.length > 0);
      await appendSlowly(join(dir, "watched.log"), await Deno.readTextFile(path));
      const banned = () =>
        new Set(daemon.out.filter((r) => r["event"] === "ban").map((r) => r["ip"] as string));
      await waitUntil(() => truth.mustBan.every((ip) => banned().has(ip)), "every mustBan ban", {
        timeoutMs: 20_000,
      }).catch(() => {}); // the comparison below names what is missing
      await new Promise((r) => setTimeout(r, 300)); // quiet: no neverBan address banned late
      deepEqual(
        truth.mustBan.filter((ip) => !banned().has(ip)),
        [],
        "every mustBan address is banned",
      );
      deepEqual(
        truth.neverBan.filter((ip) => banned().has(ip)),
        [],
        "no neverBan address is banned",
      );
      equal(banned().size, truth.mustBan.length, "nothing else is banned");
    } finally {
      equal(await daemon.stop(), 0, "SIGTERM stops the daemon cleanly");
      await Deno.remove(dir, { recursive: true });
    }
  });
}

/** Runs the daemon on `config` to its exit (for configs it must refuse). */
function runDaemonOnce(config: string): Promise<Deno.CommandOutput> {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-P=daemon", "mod.ts", "daemon", "--config", config],
    cwd: join(import.meta.dirname!, ".."),
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test("daemon refuses an invalid config with its position and starts nothing", async () => {
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d)}\n${sshdJail(d, "bantme = 5")}`
  );
  try {
    const r = await runDaemonOnce(config);
    equal(r.code, 1);
    const err = new TextDecoder().decode(r.stderr);
    ok(err.includes(`${config}:`), err);
    ok(/bantme/.test(err), err);
    let socketExists = true;
    try {
      await Deno.stat(join(dir, "fail2zig.sock"));
    } catch {
      socketExists = false;
    }
    equal(socketExists, false, "no socket was created");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('daemon refuses to start on a literal logpath that does not exist, and only warns with missing_logpath = "warn"', async () => {
  const { dir, config } = await makeConfig((d) => `${privateGlobal(d)}\n${sshdJail(d)}`);
  try {
    const r = await runDaemonOnce(config);
    equal(r.code, 1);
    const err = new TextDecoder().decode(r.stderr);
    ok(err.includes(`${config}:`) && err.includes(`${join(dir, "auth.log")} does not exist`), err);
    await Deno.writeTextFile(
      config,
      `${privateGlobal(dir)}\n${sshdJail(dir, 'missing_logpath = "warn"\nmaxretry = 2')}` +
        `[jails.web]\nfilter = "nginx-http-auth"\nlogpath = "${join(dir, "web", "*.log")}"\n`,
    );
    const daemon = await startDaemon(dir, config);
    try {
      const warned = daemon.err.filter((x) => x["msg"] === "config warning").map((x) => x["issue"]);
      equal(warned.length, 2, JSON.stringify(daemon.err));
      ok(String(warned[0]).includes("auth.log does not exist; the jail reads it once it appears"));
      ok(String(warned[1]).includes("matches no file yet"));
      // The jail does read the file once it appears.
      const line = (i: number) =>
        `${
          new Date().toISOString()
        } h sshd[${i}]: Failed password for root from 203.0.113.77 port ${i} ssh2\n`;
      await Deno.writeTextFile(join(dir, "auth.log"), line(1) + line(2));
      await daemon.waitFor((x) => x["event"] === "ban" && x["ip"] === "203.0.113.77");
    } finally {
      await daemon.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("daemon stops cleanly on SIGINT", async () => {
  const { dir, config } = await makeConfig((d) => `${privateGlobal(d)}\n${sshdJail(d)}`);
  await Deno.writeTextFile(join(dir, "auth.log"), "");
  const daemon = await startDaemon(dir, config);
  try {
    equal(await daemon.stop("SIGINT"), 0);
    ok(daemon.err.some((r) => r["msg"] === "stopped"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every way of starting the daemon passes the same V8 heap limits", async () => {
  const tasks =
    JSON.parse(await Deno.readTextFile(join(import.meta.dirname!, "..", "deno.json"))).tasks;
  for (const name of ["fail2zig", "compile"]) {
    ok(
      String(tasks[name]).includes(`--v8-flags=${DAEMON_V8_FLAGS}`),
      `task ${name}: ${tasks[name]}`,
    );
  }
  // The wrapper scripts/install.sh installs when there is no compiled executable.
  ok(wrapper().includes(` --v8-flags=${DAEMON_V8_FLAGS} -P=daemon `), wrapper());
});

Deno.test("the permissions deno task compile embeds let exec actions run their programs", async () => {
  // A compiled executable cannot narrow itself: what it embeds is all it has. Exec actions name
  // any program of the config, so the embedded grant must run any (with --allow-ffi granted it
  // confines nothing more anyway; the action runner runs only the argv the config names).
  const task = String(
    JSON.parse(await Deno.readTextFile(join(import.meta.dirname!, "..", "deno.json"))).tasks
      .compile,
  );
  const words = task.split(/\s+/);
  const flags = words.slice(words.indexOf("-P=daemon"), words.indexOf("--output"));
  ok(flags.length > 0, task);
  const probe =
    'console.log(Deno.permissions.querySync({ name: "run", command: "/usr/bin/logger" })' +
    ".state)";
  const dir = await Deno.makeTempDir({ prefix: "fail2zig-perm-", dir: join(import.meta.dirname!) });
  try {
    await Deno.writeTextFile(join(dir, "probe.ts"), probe);
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-q", ...flags, join(dir, "probe.ts")],
      cwd: join(import.meta.dirname!, ".."),
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(new TextDecoder().decode(r.stdout).trim(), "granted", new TextDecoder().decode(r.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every built-in filter in every mode fits together in the parser Worker's heap", async () => {
  // The V8 flags apply to the Worker's isolate too: dovecot's filter alone once took 20 MiB of
  // its 12 MiB old space, and a daemon with a dovecot jail died of "out of memory" at start.
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      `--v8-flags=${DAEMON_V8_FLAGS}`,
      "--allow-read",
      join(import.meta.dirname!, "_compile_all.ts"),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(r.stderr);
  equal(r.code, 0, err.slice(0, 400));
  ok(Number(new TextDecoder().decode(r.stdout)) >= 20, "every filter and mode compiled");
});

Deno.test("deno task compile type-checks and bundles without the daemon's heap limits", async () => {
  // The daemon's small V8 heap must not apply to `deno compile`'s own type check (it ran out of
  // memory); the task checks first, then compiles with --no-check. No denort here: the run must
  // get as far as looking for it.
  const dir = await Deno.makeTempDir({ prefix: "fail2zig-compile-" });
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "compile"],
      cwd: join(import.meta.dirname!, ".."),
      env: { DENORT_BIN: join(dir, "no-denort") },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(r.stderr);
    ok(!err.includes("out of memory"), err);
    ok(err.includes(`Could not find denort at '${join(dir, "no-denort")}'`), err);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
