/**
 * The control plane against a live daemon (log-only backend): every client command, reload of a
 * changed / extended / broken config with active bans, state across restarts, and metrics.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { client, makeConfig, privateGlobal, startDaemon, waitForSavedBan } from "./_daemon.ts";
import { waitUntil } from "./_wait.ts";
import { bindDatagramListener } from "../src/ffi/unix.ts";
import { parseExposition } from "./metrics_parser.ts";

function jail(name: string, dir: string, extra = ""): string {
  return `[jails.${name}]
filter = "sshd"
logpath = "${join(dir, `${name}.log`)}"
maxretry = 3
findtime = "10m"
bantime = "1h"
${extra}
`;
}

function failLine(ip: string, i: number): string {
  return `${new Date().toISOString()} web1 sshd[${
    1000 + i
  }]: Failed password for root from ${ip} port ${40000 + i} ssh2\n`;
}

Deno.test("client commands, reload and restart work against a live daemon", async () => {
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d, 'save_interval = "50ms"')}\n${jail("sshd", d)}`
  );
  const sock = join(dir, "fail2zig.sock");
  await Deno.writeTextFile(join(dir, "sshd.log"), "");
  let daemon = await startDaemon(dir, config);
  try {
    deepEqual((await client(sock, "ping")).json, { pong: true });
    equal((await client(sock, "version")).json?.["version"], "0.1.0");

    // three failures from one address → banned; two from another → counted, not banned
    const log = await Deno.open(join(dir, "sshd.log"), { append: true });
    for (let i = 0; i < 3; i++) {
      await log.write(new TextEncoder().encode(failLine("198.51.100.7", i)));
    }
    for (let i = 0; i < 2; i++) {
      await log.write(new TextEncoder().encode(failLine("198.51.100.8", i)));
    }
    log.close();
    await daemon.waitFor((r) => r["event"] === "ban" && r["ip"] === "198.51.100.7");
    await waitUntil(
      async () => (await client(sock, "status", "sshd")).json?.["failures_total"] === 5,
      "5 failures counted",
    );
    const js = (await client(sock, "status", "sshd")).json!;
    equal(js["lines_total"], 5);
    equal(js["currently_failed"], 1);
    equal(js["bans_total"], 1);
    equal(js["active_bans"], 1);

    const st = (await client(sock, "status")).json!;
    equal(st["backend"], "log-only");
    equal(st["degraded"], true, "log-only enforces nothing");
    equal(st["active_bans"], 1);
    deepEqual(st["jails"], ["sshd"]);

    const list = (await client(sock, "list")).json as { bans: Record<string, unknown>[] };
    equal(list.bans.length, 1);
    equal(list.bans[0]!["ip"], "198.51.100.7");
    equal(list.bans[0]!["prefix"], 32);
    ok((list.bans[0]!["remaining_s"] as number) > 3500);

    // manual ban, errors with their exit codes
    deepEqual(
      (await client(sock, "ban", "203.0.113.50", "--jail", "sshd", "--duration", "2h")).json,
      {
        ip: "203.0.113.50",
        jail: "sshd",
        duration_s: 7200,
      },
    );
    equal((await client(sock, "ban", "203.0.113.51", "--jail", "nope")).code, 1, "unknown jail");
    equal((await client(sock, "ban", "not-an-ip", "--jail", "sshd")).code, 1, "bad address");
    equal((await client(sock, "unban", "192.0.2.99")).code, 1, "not banned");
    equal((await client(sock, "bogus")).code, 2, "usage");
    equal((await client(join(dir, "missing.sock"), "ping")).code, 3, "no socket");

    // reload: maxretry 3 → 2, a new jail, bans kept
    await Deno.writeTextFile(join(dir, "web.log"), "");
    await Deno.writeTextFile(
      config,
      `${privateGlobal(dir, 'save_interval = "50ms"')}\n${
        jail("sshd", dir).replace("maxretry = 3", "maxretry = 2")
      }\n${jail("web", dir)}`,
    );
    deepEqual((await client(sock, "reload")).json, { reloaded: true, jails: ["sshd", "web"] });
    const jails = (await client(sock, "jails")).json as { jails: Record<string, unknown>[] };
    deepEqual(jails.jails.map((j) => [j["name"], j["maxretry"]]), [["sshd", 2], ["web", 3]]);
    equal(
      ((await client(sock, "list")).json as { bans: unknown[] }).bans.length,
      2,
      "bans survive reload",
    );
    // that the new maxretry applies to new lines is src/daemon/pipeline_test.ts's case

    // a broken config is refused; nothing changes
    await Deno.writeTextFile(config, `${privateGlobal(dir)}\n${jail("sshd", dir, "maxretry = 0")}`);
    const bad = await client(sock, "reload");
    equal(bad.code, 1);
    const why = (bad.json as { error: { code: string; message: string } }).error;
    equal(why.code, "invalid_config");
    ok(/maxretry/.test(why.message), why.message);
    equal(((await client(sock, "jails")).json as { jails: unknown[] }).jails.length, 2);

    // removing a jail by reload lifts its bans
    await Deno.writeTextFile(
      config,
      `${privateGlobal(dir, 'save_interval = "50ms"')}\n${jail("web", dir)}`,
    );
    equal((await client(sock, "reload")).code, 0);
    equal(
      ((await client(sock, "list")).json as { bans: unknown[] }).bans.length,
      0,
      "the sshd jail's bans were lifted",
    );

    // bans and the manual ban survive a restart through the state file
    deepEqual(
      (await client(sock, "ban", "203.0.113.60", "--jail", "web")).json?.["ip"],
      "203.0.113.60",
    );
    equal(await daemon.stop(), 0);
    daemon = await startDaemon(dir, config);
    const after = (await client(sock, "list")).json as { bans: Record<string, unknown>[] };
    deepEqual(after.bans.map((b) => b["ip"]), ["203.0.113.60"]);
    ok(
      daemon.out.some((r) => r["event"] === "ban" && r["ip"] === "203.0.113.60"),
      "re-added to the backend at start",
    );

    // kill -9: a ban older than save_interval is not lost
    equal((await client(sock, "ban", "203.0.113.61", "--jail", "web")).code, 0);
    await waitForSavedBan(join(dir, "state.bin"), "203.0.113.61");
    await daemon.stop("SIGKILL");
    daemon = await startDaemon(dir, config);
    const afterKill = (await client(sock, "list")).json as { bans: Record<string, unknown>[] };
    deepEqual(afterKill.bans.map((b) => b["ip"]).sort(), ["203.0.113.60", "203.0.113.61"]);

    // unban and unban --all
    deepEqual((await client(sock, "unban", "203.0.113.60")).json, {
      unbanned: [{ ip: "203.0.113.60", jail: "web" }],
    });
    deepEqual((await client(sock, "unban", "--all")).json, {
      unbanned: [{ ip: "203.0.113.61", jail: "web" }],
    });
    equal(((await client(sock, "list")).json as { bans: unknown[] }).bans.length, 0);
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ignore and jail stop/start commands reach a live daemon, and ignore entries survive a restart", async () => {
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d, 'save_interval = "50ms"')}\n${jail("sshd", d)}`
  );
  const sock = join(dir, "fail2zig.sock");
  const logPath = join(dir, "sshd.log");
  await Deno.writeTextFile(logPath, "");
  const fail = async (ip: string, n = 3) => {
    for (let i = 0; i < n; i++) {
      await Deno.writeTextFile(logPath, failLine(ip, i), { append: true });
    }
  };
  const banOf = (ip: string) => (r: Record<string, unknown>) =>
    r["event"] === "ban" && r["ip"] === ip;
  let daemon = await startDaemon(dir, config);
  try {
    await fail("198.51.100.7");
    await daemon.waitFor(banOf("198.51.100.7"));
    const added = await client(sock, "ignore", "add", "198.51.100.0/24");
    deepEqual(added.json, {
      ignore: { cidr: "198.51.100.0/24", jail: null },
      unbanned: [{ ip: "198.51.100.7", jail: "sshd" }],
    });
    await daemon.waitFor((r) => r["event"] === "unban" && r["ip"] === "198.51.100.7");
    // What an ignored network and a stopped jail count is src/daemon/pipeline_test.ts's case;
    // here the control commands over the socket, and the entry across a restart.
    const stopped = await client(sock, "jail", "stop", "sshd");
    deepEqual(stopped.json, { jail: "sshd", stopped: true, unbanned: [] });
    equal((await client(sock, "status", "sshd")).json?.["stopped"], true);
    equal((await client(sock, "jail", "start", "sshd")).code, 0);

    // The ignore entry is in the state file: a restarted daemon still ignores the network.
    equal(await daemon.stop(), 0);
    daemon = await startDaemon(dir, config);
    deepEqual((await client(sock, "ignore", "list")).json, {
      ignore: [{ cidr: "198.51.100.0/24", jail: null, source: "runtime" }],
    });
    await fail("198.51.100.9");
    await fail("203.0.113.12");
    await daemon.waitFor(banOf("203.0.113.12"));
    ok(!daemon.out.some(banOf("198.51.100.9")), "the restarted daemon forgot the ignore entry");
    equal((await client(sock, "ignore", "del", "198.51.100.0/24")).code, 0);
    await fail("198.51.100.9");
    await daemon.waitFor(banOf("198.51.100.9"));
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a live daemon serves Prometheus metrics that count its lines and bans", async () => {
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d).replace('metrics_bind = ""', 'metrics_bind = "127.0.0.1:0"')}\n${
      jail("sshd", d)
    }`
  );
  await Deno.writeTextFile(join(dir, "sshd.log"), "");
  // port 0 is not accepted by config: pick a free port first
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  await Deno.writeTextFile(
    config,
    (await Deno.readTextFile(config)).replace("127.0.0.1:0", `127.0.0.1:${port}`),
  );
  const daemon = await startDaemon(dir, config);
  try {
    const log = await Deno.open(join(dir, "sshd.log"), { append: true });
    for (let i = 0; i < 3; i++) {
      await log.write(new TextEncoder().encode(failLine("198.51.100.20", i)));
    }
    log.close();
    await daemon.waitFor((r) => r["event"] === "ban");
    let text = "";
    await waitUntil(async () => {
      text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /fail2zig_bans_total\{jail="sshd"\} 1\b/.test(text);
    }, "the ban in the metrics");
    ok(/fail2zig_lines_parsed_total\{jail="sshd"\} 3\b/.test(text), text);
    ok(/fail2zig_lines_matched_total\{jail="sshd"\} 3\b/.test(text), text);
    ok(/fail2zig_ban_latency_seconds_count 1\b/.test(text), text);
    // Samples, not text: "fail2zig_up 1" also appears in its HELP line.
    const fams = parseExposition(text);
    const value = (name: string) => fams.get(name)?.samples[0]?.value;
    equal(value("fail2zig_up"), 1);
    equal(value("fail2zig_degraded"), 1, "log-only: nothing enforces the bans");
    deepEqual(fams.get("fail2zig_build_info")?.samples[0]?.labels, {
      version: "0.1.0",
      deno: Deno.version.deno,
      v8: Deno.version.v8,
    });
    ok(value("process_resident_memory_bytes")! > 20 * 1024 * 1024, text);
    ok(value("process_cpu_seconds_total")! > 0, text);
    ok(value("process_open_fds")! > 3, text);
    const started = value("process_start_time_seconds")!;
    ok(started <= Date.now() / 1000 && started > Date.now() / 1000 - 120, text);

    // A reload that removes the jail removes its series.
    await Deno.writeTextFile(join(dir, "web.log"), "");
    await Deno.writeTextFile(
      config,
      (await Deno.readTextFile(config)).replace("[jails.sshd]", "[jails.web]").replace(
        "sshd.log",
        "web.log",
      ),
    );
    equal((await client(join(dir, "fail2zig.sock"), "reload")).code, 0);
    const after = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    ok(!after.includes('jail="sshd"'), after);
    ok(after.includes('fail2zig_lines_parsed_total{jail="web"} 0'), after);
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGHUP reloads a valid config and keeps the running one when the new one is broken", async () => {
  const { dir, config } = await makeConfig((d) => `${privateGlobal(d)}\n${jail("sshd", d)}`);
  const sock = join(dir, "fail2zig.sock");
  await Deno.writeTextFile(join(dir, "sshd.log"), "");
  const daemon = await startDaemon(dir, config);
  try {
    await Deno.writeTextFile(
      config,
      `${privateGlobal(dir)}\n${jail("sshd", dir).replace("maxretry = 3", "maxretry = 7")}`,
    );
    daemon.process.kill("SIGHUP");
    await daemon.waitFor((r) => r["msg"] === "configuration reloaded");
    const jails = (await client(sock, "jails")).json as { jails: Record<string, unknown>[] };
    equal(jails.jails[0]!["maxretry"], 7);

    await Deno.writeTextFile(config, `${privateGlobal(dir)}\n${jail("sshd", dir, "bantme = 1")}`);
    daemon.process.kill("SIGHUP");
    await daemon.waitFor((r) =>
      typeof r["msg"] === "string" && String(r["msg"]).startsWith("reload refused")
    );
    equal(
      ((await client(sock, "jails")).json as { jails: Record<string, unknown>[] })
        .jails[0]!["maxretry"],
      7,
    );
  } finally {
    equal(await daemon.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the daemon tells systemd READY, RELOADING and STOPPING through NOTIFY_SOCKET", async () => {
  const { dir, config } = await makeConfig((d) => `${privateGlobal(d)}\n${jail("sshd", d)}`);
  await Deno.writeTextFile(join(dir, "sshd.log"), "");
  const listener = bindDatagramListener(join(dir, "notify"));
  const daemon = await startDaemon(dir, config, { env: { NOTIFY_SOCKET: join(dir, "notify") } });
  const states: string[] = [];
  const next = async () => {
    const d = await listener.receive(10_000);
    if (d === null) throw new Error(`no notification; got so far: ${states.join(" | ")}`);
    states.push(new TextDecoder().decode(d));
    return states.at(-1)!;
  };
  try {
    ok((await next()).includes("READY=1"));
    daemon.process.kill("SIGHUP");
    ok((await next()).includes("RELOADING=1"));
    ok((await next()).includes("READY=1"));
    daemon.process.kill("SIGTERM");
    ok((await next()).includes("STOPPING=1"));
  } finally {
    equal(await daemon.stop(), 0);
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
