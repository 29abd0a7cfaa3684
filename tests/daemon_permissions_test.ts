/**
 * Least permission, proven on the real daemon started as users start it (`deno run -P=daemon
 * mod.ts daemon`, the path of `deno task fail2zig`, the installed wrapper and the unit): the
 * process narrows itself (same PID, its command line now carries the computed `--allow-…`
 * flags), still bans, saves state, writes audit records, serves metrics and the control socket,
 * and code running in that same process (a module preloaded with `--preload`, probed while the
 * daemon runs) is refused everything else. A reload that needs
 * more is refused with a restart hint. docs/permissions.md.
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import {
  client,
  makeConfig,
  privateGlobal,
  request,
  ROOT,
  sshdJail,
  startDaemon,
} from "./_daemon.ts";

/** The argv of a running process, from `/proc/PID/cmdline` (through `cat`: Deno gates /proc). */
async function cmdline(pid: number): Promise<string[]> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/cmdline`] }).output();
  return new TextDecoder().decode(out.stdout).replace(/\0$/, "").split("\0");
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("the daemon runs narrowed: it works, and code in its process is refused everything else", async () => {
  const port = freePort();
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d).replace('metrics_bind = ""', `metrics_bind = "127.0.0.1:${port}"`)}\n${
      sshdJail(d, 'maxretry = 2\nfindtime = "10m"\nbantime = "10m"')
    }`
  );
  const log = join(dir, "auth.log");
  await Deno.writeTextFile(log, "");
  const other = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // a connect would succeed
  const otherPort = (other.addr as Deno.NetAddr).port;
  const server = (async () => {
    for await (const c of other) c.close();
  })();
  const outside = await Deno.makeTempDir({ prefix: "fail2zig-outside-" });
  await Deno.writeTextFile(join(outside, "x"), "secret");
  // What the probe preloaded into the daemon's process tries, on SIGUSR2, while the daemon runs.
  const plan = {
    read: ["/etc/shadow", "/etc/hostname", join(outside, "x"), log, config],
    write: ["/etc/x", join(outside, "x"), join(dir, "probe.txt")],
    connect: [`127.0.0.1:${otherPort}`, `127.0.0.1:${port}`],
    listen: [`0.0.0.0:${otherPort + 1}`],
    run: ["/bin/sh", "/usr/sbin/nft"],
    env: ["HOME", "NOTIFY_SOCKET"],
  };
  await Deno.writeTextFile(join(dir, "probe.json"), JSON.stringify(plan));
  const daemon = await startDaemon(dir, config, {
    runFlags: ["--preload", join(ROOT, "tests", "_permission_probe.ts")],
  });
  try {
    const narrowed = await daemon.waitFor((r) => r["msg"] === "permissions narrowed");
    // The process spawned is the process narrowed (execve: same PID), under the logged flags.
    const argv = await cmdline(daemon.process.pid);
    ok(!argv.some((a) => a.startsWith("-P")), `no permission set left: ${argv.join(" ")}`);
    const flags = argv.filter((a) => a.startsWith("--allow-"));
    equal(flags.join(" "), narrowed["flags"]);
    deepEqual(flags.map((f) => f.split("=")[0]), [
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      "--allow-sys",
      "--allow-ffi",
    ]);
    equal(argv.at(-4), join(ROOT, "mod.ts"));
    deepEqual(argv.slice(-3), ["daemon", "--config", config]);

    // It does its work under them: ban, control socket, metrics.
    const line = (n: number) =>
      `${
        new Date().toISOString()
      } web1 sshd[${n}]: Failed password for root from 203.0.113.7 port 22 ssh2\n`;
    await Deno.writeTextFile(log, line(1) + line(2), { append: true });
    await daemon.waitFor((r) => r["event"] === "ban" && r["ip"] === "203.0.113.7");
    const status = await request(join(dir, "fail2zig.sock"), { v: 1, cmd: "status" });
    ok(status, "the control socket answers");
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    ok(/fail2zig_up 1/.test(metrics), metrics.slice(0, 200));

    // Code running in the daemon's own process: refused outside the grant, allowed in it.
    daemon.process.kill("SIGUSR2");
    const probed = await daemon.waitFor((r) => r["msg"] === "permission probe");
    equal(probed["pid"], daemon.process.pid);
    deepEqual(probed["results"], {
      "read /etc/shadow": "NotCapable",
      "read /etc/hostname": "NotCapable",
      [`read ${join(outside, "x")}`]: "NotCapable",
      [`read ${log}`]: "ok",
      [`read ${config}`]: "ok",
      "write /etc/x": "NotCapable",
      [`write ${join(outside, "x")}`]: "NotCapable",
      [`write ${join(dir, "probe.txt")}`]: "ok",
      [`connect 127.0.0.1:${otherPort}`]: "NotCapable",
      [`connect 127.0.0.1:${port}`]: "ok", // its own metrics listener
      [`listen 0.0.0.0:${otherPort + 1}`]: "NotCapable",
      "run /bin/sh": "NotCapable",
      "run /usr/sbin/nft": "NotCapable",
      "env HOME": "NotCapable",
      "env NOTIFY_SOCKET": "ok",
    });
    equal(await Deno.readTextFile(join(outside, "x")), "secret");
    await Deno.stat("/etc/x").then(() => ok(false, "/etc/x exists"), () => {});

    // Nothing else broke: it still bans, and stops cleanly having saved its state and audit log.
    const late = `${new Date().toISOString()} web1 sshd[3]: Failed password for root from ` +
      `203.0.113.8 port 22 ssh2\n`;
    await Deno.writeTextFile(log, late + late, { append: true });
    await daemon.waitFor((r) => r["event"] === "ban" && r["ip"] === "203.0.113.8");
    equal(await daemon.stop(), 0);
    ok((await Deno.stat(join(dir, "state.bin"))).size > 0, "state saved");
    ok(/203\.0\.113\.8/.test(await Deno.readTextFile(join(dir, "audit.log"))), "audit written");
  } finally {
    await daemon.stop();
    other.close();
    await server.catch(() => {});
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("a reload needing a log path outside the grant is refused with a restart hint; the running jails stay", async () => {
  const { dir, config } = await makeConfig((d) => `${privateGlobal(d)}\n${sshdJail(d)}`);
  await Deno.writeTextFile(join(dir, "auth.log"), "");
  const outside = await Deno.makeTempDir({ prefix: "fail2zig-outside-" });
  await Deno.writeTextFile(join(outside, "web.log"), "");
  const daemon = await startDaemon(dir, config);
  try {
    const sock = join(dir, "fail2zig.sock");
    await Deno.writeTextFile(
      config,
      `${privateGlobal(dir)}\n${sshdJail(dir)}\n[jails.web]\nfilter = "sshd"\nlogpath = "${
        join(outside, "web.log")
      }"\n`,
    );
    const bad = await client(sock, "reload");
    equal(bad.code, 1, bad.err);
    const why = (bad.json as { error: { code: string; message: string } }).error;
    equal(why.code, "invalid_config");
    ok(why.message.includes(`read ${outside}`), why.message);
    ok(/restart the daemon/.test(why.message), why.message);
    const jails = (await client(sock, "jails")).json as { jails: { name: string }[] };
    deepEqual(jails.jails.map((j) => j.name), ["sshd"]);
    // A reload within the grant still works (a second jail on a log in the granted directory).
    await Deno.writeTextFile(join(dir, "web.log"), "");
    await Deno.writeTextFile(
      config,
      `${privateGlobal(dir)}\n${sshdJail(dir)}\n[jails.web]\nfilter = "sshd"\nlogpath = "${
        join(dir, "web.log")
      }"\n`,
    );
    deepEqual((await client(sock, "reload")).json, { reloaded: true, jails: ["sshd", "web"] });
  } finally {
    equal(await daemon.stop(), 0);
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});
