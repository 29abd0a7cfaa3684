/**
 * End-to-end, in network namespaces: a real OpenSSH server and the real daemon (`mod.ts daemon`
 * under `-P=daemon`) in a server namespace, an attacker failing password logins with `sshpass`,
 * a bystander. For nftables, iptables and ipset, IPv4 and IPv6: the attacker is dropped after
 * `maxretry` failures while the bystander still connects, `client unban` restores access, and a
 * short ban expires on time. Also: the daemon without CAP_NET_ADMIN (`capsh`) fails closed, or
 * runs degraded when `on_no_backend = "log-only"`. Root only (CI runs as root).
 *
 * sshd logs with `-E FILE`: OpenSSH 9.2 then writes bare messages (no syslog prefix, CRLF line
 * ends), e.g. `Failed password for invalid user nosuchuser from 192.0.2.2 port 40000 ssh2`; the
 * built-in `sshd` filter accepts them as they are. One failed `sshpass` login writes two lines
 * the filter counts in normal mode (`Invalid user …`, `Failed password …`; bare messages carry no
 * pid, so no session joins them into one attempt; `Connection closed by invalid user … [preauth]`
 * counts only in the ddos and aggressive modes, as in fail2ban 1.1), so with `maxretry = 3` the
 * first attempt leaves the attacker connected and the second bans it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  makeConfig,
  nsClient,
  privateGlobal,
  ROOT,
  type RunningDaemon,
  startDaemon,
  TEST_SECCOMP,
} from "./_daemon.ts";
import { canConnect, createLan, DENO, isRoot, type Lan, Netns, run, uniqueName } from "./_netns.ts";
import { waitUntil } from "./_wait.ts";

const SSH_PORT = 22;
const MAXRETRY = 3;
/** Failure lines sshd writes per failed password login of an unknown user (see module doc). */
const LINES_PER_ATTEMPT = 2;
const BANTIME_S = 20;
const SHORT_BAN_S = 3;
/** A clean stop that takes longer is a failure (and the daemon is killed). */
const STOP_LIMIT_MS = 15_000;
const CAPSH_NO_NET_ADMIN = ["capsh", "--drop=cap_net_admin", "--", "-c", 'exec "$0" "$@"'];

const opts = { ignore: !isRoot, sanitizeResources: false, sanitizeOps: false } as const;

/** Stops the daemon with SIGTERM; SIGKILLs it when it has not exited after `limitMs`. */
async function stopWithin(d: RunningDaemon, limitMs: number): Promise<number | "hung"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<"hung">((r) => timer = setTimeout(() => r("hung"), limitMs));
  const code = await Promise.race([d.stop(), hung]);
  clearTimeout(timer);
  if (code === "hung") {
    await d.stop("SIGKILL");
    console.error(
      `daemon did not stop within ${limitMs} ms; last records: ${
        JSON.stringify(d.err.slice(-5))
      } raw: ${d.raw.slice(-5).join(" | ")}`,
    );
  }
  return code;
}

/** A real sshd in `ns`, listening on the server's IPv4 and IPv6 addresses, logging to a file. */
async function startSshd(lan: Lan, dir: string): Promise<{ log: string; stop(): Promise<void> }> {
  await Deno.mkdir("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation dir
  const hostKey = join(dir, "ssh_host_ed25519_key");
  const keygen = await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  assert.equal(keygen.code, 0, `ssh-keygen: ${keygen.stderr}`);
  const config = join(dir, "sshd_config");
  const log = join(dir, "sshd.log");
  await Deno.writeTextFile(
    config,
    `ListenAddress ${lan.addr.server4}
ListenAddress [${lan.addr.server6}]
Port ${SSH_PORT}
HostKey ${hostKey}
PidFile ${join(dir, "sshd.pid")}
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication no
UsePAM no
PermitRootLogin no
LoginGraceTime 20
MaxStartups 100
`,
  );
  const child = lan.server.spawn(["/usr/sbin/sshd", "-D", "-e", "-f", config, "-E", log], {
    stdin: "null",
    stdout: "null",
    stderr: "null",
  });
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
  };
  try {
    await waitUntil(
      async () =>
        (await canConnect(lan.bystander, lan.addr.server4, SSH_PORT)) &&
        (await canConnect(lan.bystander, lan.addr.server6, SSH_PORT)),
      "sshd to accept connections on IPv4 and IPv6",
      { timeoutMs: 10_000, stepMs: 100 },
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { log, stop };
}

/** One failed password login from `ns` (bounded: a ban in mid-login must not hang the test). */
async function failedLogin(ns: Netns, server: string): Promise<number> {
  const r = await ns.exec([
    "timeout",
    "10",
    "sshpass",
    "-p",
    "wrong",
    "ssh",
    "-F",
    "/dev/null",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "PreferredAuthentications=password",
    "-o",
    "PubkeyAuthentication=no",
    "-o",
    "ConnectTimeout=3",
    `nosuchuser@${server}`,
    "true",
  ]);
  return r.code;
}

type Backend = "nftables" | "iptables" | "ipset";

/** What the kernel shows for the daemon's bans, in the backend's own listing tool. */
async function kernelListing(ns: Netns, backend: Backend, family: 4 | 6): Promise<string> {
  switch (backend) {
    case "nftables":
      return (await ns.exec(["nft", "list", "table", "inet", "fail2zig"])).stdout;
    case "iptables":
      return (await ns.exec([family === 4 ? "iptables" : "ip6tables", "-S"])).stdout;
    case "ipset":
      return (await ns.exec(["ipset", "list", family === 4 ? "fail2zig-v4" : "fail2zig-v6"]))
        .stdout;
  }
}

function showsBan(listing: string, backend: Backend, ip: string, family: 4 | 6): boolean {
  const esc = ip.replace(/[.:]/g, (c) => `\\${c}`);
  const re = backend === "iptables"
    ? new RegExp(`-s ${esc}/${family === 4 ? 32 : 128} .*-j DROP`)
    : new RegExp(`(^|[\\s{,])${esc}([\\s,}/]|$)`, "m");
  return re.test(listing);
}

function e2eTest(backend: Backend): void {
  Deno.test({
    ...opts,
    name:
      `${backend}: after maxretry failed sshd logins the attacker is dropped, a bystander is not, client unban and expiry restore access (IPv4 and IPv6)`,
    fn: async (t) => {
      const { dir, config } = await makeConfig((d) =>
        `${
          privateGlobal(d, 'on_no_backend = "fail-closed"').replace(
            'firewall = "log-only"',
            `firewall = "${backend}"`,
          )
        }
[jails.sshd]
filter = "sshd"
logpath = "${join(d, "sshd.log")}"
read_from = "end"
maxretry = ${MAXRETRY}
findtime = "10m"
bantime = "${BANTIME_S}s"
`
      );
      let lanRef: Lan | null = null;
      let sshd: Awaited<ReturnType<typeof startSshd>> | null = null;
      let daemon: RunningDaemon | null = null;
      try {
        const lan = lanRef = await createLan(`e2e${backend.slice(0, 3)}`);
        sshd = await startSshd(lan, dir);
        const sock = join(dir, "fail2zig.sock");
        daemon = await startDaemon(dir, config, { prefix: lan.server.prefix() });
        const d = daemon;
        try {
          const st = await nsClient(lan.server, sock, "status");
          assert.equal(st.code, 0, st.err);
          assert.equal(st.json?.["backend"], backend, "the daemon reports the chosen backend");
          assert.equal(st.json?.["degraded"], false);
          if (TEST_SECCOMP === "" || TEST_SECCOMP === "enforce") {
            // Under the default seccomp = enforce, execve stays allowed only for the backends
            // that run programs: nftables talks netlink, so the daemon may not exec at all.
            const f = await d.waitFor((r) => r["msg"] === "seccomp filter installed");
            assert.equal(f["mode"], "enforce");
            assert.equal(f["exec"], backend !== "nftables");
            const check = f["check"] as Record<string, string>;
            assert.equal(check["execve"], backend === "nftables" ? "EPERM" : "ENOENT");
          }

          for (const family of [4, 6] as const) {
            await t.step(`IPv${family}`, async () => {
              const server = family === 4 ? lan.addr.server4 : lan.addr.server6;
              const attacker = family === 4 ? lan.addr.attacker4 : lan.addr.attacker6;
              const failures = async () =>
                (await nsClient(lan.server, sock, "status", "sshd")).json?.["failures_total"] as
                  | number
                  | undefined;
              const base = (await failures()) ?? -1;
              assert.ok(base >= 0, "status sshd reports failures_total");
              const banned = (r: Record<string, unknown>) =>
                r["fail2zig_event"] === "ban" && r["ip"] === attacker;
              const unbanned = (r: Record<string, unknown>) =>
                r["fail2zig_event"] === "unban" && r["ip"] === attacker;
              const banCount = () => d.err.filter(banned).length;
              const unbanCount = () => d.err.filter(unbanned).length;

              assert.ok(await canConnect(lan.attacker, server, SSH_PORT), "attacker reaches sshd");

              // Attempt 1: fewer than maxretry failures — counted, not banned.
              assert.equal(await failedLogin(lan.attacker, server), 5, "sshpass: wrong password");
              await waitUntil(
                async () => (await failures()) === base + LINES_PER_ATTEMPT,
                `${LINES_PER_ATTEMPT} failures counted from sshd's log`,
                { timeoutMs: 10_000, stepMs: 100 },
              );
              assert.equal(banCount(), 0, "not banned below maxretry");
              assert.ok(
                await canConnect(lan.attacker, server, SSH_PORT),
                "attacker still connects below maxretry",
              );

              // Attempt 2 reaches maxretry: banned.
              await failedLogin(lan.attacker, server);
              const ban = await d.waitFor(banned, 10_000);
              assert.equal(ban["jail"], "sshd");
              assert.equal(ban["duration"], String(BANTIME_S));
              assert.ok(
                !(await canConnect(lan.attacker, server, SSH_PORT, 1500)),
                "the attacker's next TCP connection to sshd times out",
              );
              assert.ok(
                await canConnect(lan.bystander, server, SSH_PORT),
                "the bystander still connects",
              );
              assert.ok(
                showsBan(
                  await kernelListing(lan.server, backend, family),
                  backend,
                  attacker,
                  family,
                ),
                `${backend} listing shows ${attacker}`,
              );
              const list = (await nsClient(lan.server, sock, "list")).json as {
                bans: Record<string, unknown>[];
              };
              assert.deepEqual(list.bans.map((b) => [b["ip"], b["jail"]]), [[attacker, "sshd"]]);

              // client unban restores access at once.
              const un = await nsClient(lan.server, sock, "unban", attacker);
              assert.equal(un.code, 0, un.err);
              assert.deepEqual(un.json, { unbanned: [{ ip: attacker, jail: "sshd" }] });
              assert.ok(
                await canConnect(lan.attacker, server, SSH_PORT),
                "attacker reaches sshd after unban",
              );
              assert.ok(
                !showsBan(
                  await kernelListing(lan.server, backend, family),
                  backend,
                  attacker,
                  family,
                ),
                `${backend} listing no longer shows ${attacker}`,
              );

              // A short ban drops at once and expires on time.
              const unbansBefore = unbanCount();
              const t0 = performance.now();
              const b = await nsClient(
                lan.server,
                sock,
                "ban",
                attacker,
                "--jail",
                "sshd",
                "--duration",
                `${SHORT_BAN_S}s`,
              );
              assert.equal(b.code, 0, b.err);
              assert.equal(b.json?.["duration_s"], SHORT_BAN_S);
              assert.ok(
                !(await canConnect(lan.attacker, server, SSH_PORT, 500)),
                "dropped right after the short ban",
              );
              await waitUntil(
                () => canConnect(lan.attacker, server, SSH_PORT, 300),
                "access back after the short ban",
                { timeoutMs: SHORT_BAN_S * 1000 + 5000, stepMs: 100 },
              );
              const back = performance.now() - t0;
              assert.ok(
                back >= SHORT_BAN_S * 1000 - 500,
                `not before the ban's end (${Math.round(back)} ms)`,
              );
              await waitUntil(
                () => unbanCount() > unbansBefore,
                "the daemon to record the expiry as an unban",
                { timeoutMs: 5000, stepMs: 100 },
              );
              const expired = (await nsClient(lan.server, sock, "list")).json as {
                bans: unknown[];
              };
              assert.deepEqual(expired.bans, [], "nothing left banned");
              assert.ok(
                !d.err.some((r) => /firewall refused/.test(String(r["msg"]))),
                `no firewall error: ${JSON.stringify(d.err.filter((r) => r["level"] === "error"))}`,
              );
            });
          }
        } finally {
          const code = await stopWithin(d, STOP_LIMIT_MS);
          daemon = null;
          assert.equal(code, 0, "SIGTERM stops the daemon cleanly, in time");
        }
        // A clean stop removes the scaffold.
        assert.doesNotMatch((await lan.server.exec(["nft", "list", "ruleset"])).stdout, /fail2zig/);
        assert.doesNotMatch((await lan.server.exec(["ipset", "list", "-n"])).stdout, /fail2zig/);
      } finally {
        await daemon?.stop("SIGKILL").catch(() => {});
        await sshd?.stop().catch(() => {});
        await lanRef?.destroy();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  });
}

e2eTest("nftables");
e2eTest("iptables");
e2eTest("ipset");

function noCapConfig(onNoBackend: "fail-closed" | "log-only"): (d: string) => string {
  return (d) =>
    `${
      privateGlobal(d, `on_no_backend = "${onNoBackend}"`).replace(
        'firewall = "log-only"',
        'firewall = "auto"',
      )
    }
[jails.sshd]
filter = "sshd"
logpath = "${join(d, "sshd.log")}"
`;
}

Deno.test({
  ...opts,
  name:
    "without CAP_NET_ADMIN and on_no_backend = fail-closed the real daemon exits 1 naming each backend's failure",
  fn: async () => {
    const ns = await Netns.create(uniqueName("nocap-d"));
    const { dir, config } = await makeConfig(noCapConfig("fail-closed"));
    try {
      await Deno.writeTextFile(join(dir, "sshd.log"), "");
      const r = await ns.exec([
        ...CAPSH_NO_NET_ADMIN,
        "timeout",
        "60",
        DENO,
        "run",
        "-q",
        `--config=${join(ROOT, "deno.json")}`,
        "-P=daemon",
        join(ROOT, "mod.ts"),
        "daemon",
        "--config",
        config,
      ]);
      assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
      const records = r.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) =>
        JSON.parse(l) as Record<string, unknown>
      );
      const fatal = records.find((x) => /refusing to run/.test(String(x["msg"])));
      assert.ok(fatal, `a fail-closed diagnostic: ${r.stderr}`);
      const why = String(fatal["error"]);
      const probes = records.filter((x) => x["event"] === "fw_probe_failed");
      assert.deepEqual(probes.map((x) => x["backend"]), ["nftables", "iptables", "ipset"]);
      for (const p of probes) {
        const name = String(p["backend"]);
        assert.match(String(p["error"]), /Operation not permitted|Permission denied/, name);
        assert.ok(why.includes(String(p["error"])), `the exit diagnostic names ${name}'s failure`);
      }
      assert.ok(!records.some((x) => x["msg"] === "ready"), "never reported ready");
      assert.equal(r.stdout, "", "no ban records");
      await assert.rejects(Deno.stat(join(dir, "fail2zig.sock")), "no control socket");
      assert.doesNotMatch(await ns.execOk(["nft", "list", "ruleset"]), /fail2zig/);
      assert.doesNotMatch(await ns.execOk(["iptables", "-S"]), /fail2zig/);
    } finally {
      await ns.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...opts,
  name:
    "without CAP_NET_ADMIN and on_no_backend = log-only the real daemon runs and reports itself degraded",
  fn: async () => {
    const ns = await Netns.create(uniqueName("nocap-lo"));
    const { dir, config } = await makeConfig(noCapConfig("log-only"));
    let daemon: RunningDaemon | null = null;
    try {
      await Deno.writeTextFile(join(dir, "sshd.log"), "");
      daemon = await startDaemon(dir, config, { prefix: [...ns.prefix(), ...CAPSH_NO_NET_ADMIN] });
      const sock = join(dir, "fail2zig.sock");
      const st = await nsClient(ns, sock, "status");
      assert.equal(st.code, 0, st.err);
      assert.equal(st.json?.["degraded"], true);
      assert.equal(st.json?.["backend"], "log-only");
      const warn = daemon.err.find((r) => r["event"] === "fw_degraded");
      assert.ok(warn, "an error record says bans are not enforced");
      assert.deepEqual(
        (warn["failures"] as string[]).map((f) => f.split(":")[0]),
        ["nftables", "iptables", "ipset"],
      );
      const code = await stopWithin(daemon, STOP_LIMIT_MS);
      daemon = null;
      assert.equal(code, 0, "SIGTERM stops the daemon cleanly, in time");
    } finally {
      await daemon?.stop("SIGKILL").catch(() => {});
      await ns.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
