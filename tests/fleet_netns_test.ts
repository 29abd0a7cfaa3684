/**
 * Issue 16's "done when", with real parts: a nats-server (JetStream, per-host users that may
 * publish only their own subjects) in a hub network namespace, and three daemons, each in its own
 * namespace with nftables, on a bridge in the hub. A ban on A is in B's and C's kernel sets within
 * a second; C's ignoreip keeps C from applying one; an unban propagates; a host publishing as
 * another is refused by the server; the server killed (SIGKILL) and restarted mid-stream loses
 * nothing; a partitioned host replays what it missed; a daemon started late gets every active ban.
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { client, makeConfig, type RunningDaemon, startDaemon } from "./_daemon.ts";
import {
  addBridge,
  attachToBridge,
  DENO,
  isRoot,
  Netns,
  ROOT,
  runOk,
  uniqueName,
} from "./_netns.ts";
import { haveNats, startNats } from "./_nats.ts";
import { encodeRecord, subjectOf } from "../src/fleet/mod.ts";

const HUB = "198.51.100.1";
const HOSTS = ["a", "b", "c", "d"] as const;
const STREAM = "FAIL2ZIG_BANS";

/** The per-host user of docs/fleet.md: publish only under its own name, plus the stream's API. */
function hostUser(name: string): string {
  const api = [
    "$JS.API.INFO",
    `$JS.API.STREAM.INFO.${STREAM}`,
    `$JS.API.CONSUMER.CREATE.${STREAM}`,
    `$JS.API.CONSUMER.CREATE.${STREAM}.>`,
    `$JS.API.CONSUMER.INFO.${STREAM}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${STREAM}.>`,
    `$JS.API.CONSUMER.DELETE.${STREAM}.>`,
  ];
  return `{ user: "${name}", password: "pw-${name}", permissions: { publish: { allow: ${
    JSON.stringify([`fail2zig.ban.${name}.>`, ...api])
  } }, subscribe: { allow: ["_INBOX.>"] } } }`;
}

const SERVER_CONFIG = `authorization { users = [
  { user: "admin", password: "pw-admin" }
  ${HOSTS.map(hostUser).join("\n  ")}
] }`;

/** A ban record's event: `event` on stdout (log-only), `fail2zig_event` in the journal form. */
function ev(r: Record<string, unknown>): unknown {
  return r["event"] ?? r["fail2zig_event"];
}

/** Runs tests/_fleet_admin.ts inside `ns`; its JSON answer. */
async function admin(ns: Netns, args: string[]): Promise<{ ok: boolean; error?: string }> {
  const out = await ns.execOk([
    DENO,
    "run",
    "-q",
    "-A",
    `--config=${ROOT}/deno.json`,
    `${ROOT}/tests/_fleet_admin.ts`,
    ...args,
  ]);
  return JSON.parse(out.trim());
}

function b64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

async function nftHas(ns: Netns, ip: string): Promise<boolean> {
  const text = await ns.execOk(["nft", "list", "set", "inet", "fail2zig", "banned_ipv4"]);
  return text.includes(ip);
}

Deno.test({
  name:
    "fleet in namespaces: bans reach the others' kernel sets within 1 s; ignoreip, forgery, restart, partition, late start",
  ignore: !isRoot || !haveNats,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const hub = await Netns.create(uniqueName("fl-hub"));
    const spaces: Netns[] = [];
    const daemons = new Map<string, RunningDaemon>();
    let server: Awaited<ReturnType<typeof startNats>> | null = null;
    try {
      await addBridge(hub, [`${HUB}/24`]);
      for (const [i, name] of HOSTS.entries()) {
        const ns = await Netns.create(uniqueName(`fl-${name}`));
        spaces.push(ns);
        await attachToBridge(hub, ns, `v${name}`, [`198.51.100.${10 + i}/24`]);
      }
      const srv = server = await startNats({ ns: hub, host: HUB, config: SERVER_CONFIG });
      // The operator creates the stream (hosts may not); max_age 1w, one message per subject.
      equal((await admin(hub, ["stream", srv.url, "admin", "pw-admin", STREAM])).ok, true);
      const start = async (name: string, ns: Netns) => {
        const ignore = name === "c" ? ', "203.0.113.50"' : "";
        const { dir, config } = await makeConfig((d) =>
          `[global]
socket_path = "${join(d, "s.sock")}"
state_file = "${join(d, "state.bin")}"
audit_log = "${join(d, "audit.log")}"
metrics_bind = ""
firewall = "nftables"
[defaults]
ignoreip = ["127.0.0.0/8"${ignore}]
[jails.sshd]
filter = "sshd"
logpath = "${join(d, "auth.log")}"
bantime = "1h"
[fleet]
url = "${srv.url}"
name = "${name}"
user = "${name}"
password = "pw-${name}"
`
        );
        await Deno.writeTextFile(join(dir, "auth.log"), "");
        const d = await startDaemon(dir, config, { prefix: ns.prefix() });
        daemons.set(name, d);
        await d.waitFor((r) => r["msg"] === "fleet link connected", 15_000);
        return d;
      };
      const [nsA, nsB, nsC, nsD] = spaces as [Netns, Netns, Netns, Netns];
      const a = await start("a", nsA);
      const b = await start("b", nsB);
      const c = await start("c", nsC);
      const sock = (d: RunningDaemon) => join(d.dir, "s.sock");
      const banOn = async (d: RunningDaemon, ip: string) =>
        equal((await client(sock(d), "ban", ip, "--jail", "sshd")).code, 0);
      const applied = (d: RunningDaemon, ip: string, ms = 10_000) =>
        d.waitFor((r) => ev(r) === "ban" && r["ip"] === ip && r["jail"] === "fleet", ms);

      // 1. A ban on A is in B's and C's kernel sets within a second of A's own ban record.
      const latencies: number[] = [];
      for (let i = 1; i <= 5; i++) {
        const ip = `203.0.113.${i}`;
        const seenA = a.waitFor((r) => ev(r) === "ban" && r["ip"] === ip).then(() =>
          performance.now()
        );
        await banOn(a, ip);
        const [tA, tB, tC] = await Promise.all([
          seenA,
          applied(b, ip).then(() => performance.now()),
          applied(c, ip).then(() => performance.now()),
        ]);
        latencies.push(tB - tA, tC - tA);
        ok(await nftHas(nsB, ip), `${ip} in B's set`);
        ok(await nftHas(nsC, ip), `${ip} in C's set`);
      }
      latencies.sort((x, y) => x - y);
      console.log(`A -> B,C kernel set: ${latencies.map((x) => x.toFixed(0)).join(" ")} ms`);
      ok(latencies.at(-1)! < 1000, `slowest ${latencies.at(-1)} ms`);
      const listed = (await client(sock(b), "list")).json as { bans: Record<string, unknown>[] };
      deepEqual(
        listed.bans.filter((x) => x.ip === "203.0.113.1").map((x) => [x.jail, x.origin]),
        [["fleet", "a"]],
      );

      // 2. C's ignoreip wins; B applies it. C handles records in order: once it has A's next
      //    ban, it has passed over this one.
      await banOn(a, "203.0.113.50");
      await banOn(a, "203.0.113.51");
      await applied(b, "203.0.113.50");
      await applied(c, "203.0.113.51");
      ok(!(await nftHas(nsC, "203.0.113.50")), "C ignores 203.0.113.50");

      // 3. An unban propagates.
      equal((await client(sock(a), "unban", "203.0.113.2")).code, 0);
      await b.waitFor((r) => ev(r) === "unban" && r["ip"] === "203.0.113.2");
      await c.waitFor((r) => ev(r) === "unban" && r["ip"] === "203.0.113.2");
      ok(!(await nftHas(nsB, "203.0.113.2")));

      // 4. Publishing as another host is refused by the server: a's user on b's subject.
      const fake = {
        op: "ban" as const,
        ip: "203.0.113.99",
        prefix: 32,
        jail: "sshd",
        origin: "b",
        at: Date.now(),
        exp: Date.now() + 60_000,
        reason: "forged",
      };
      const asA = (subject: string, data: Uint8Array) =>
        admin(hub, ["publish", srv.url, "a", "pw-a", subject, b64(data)]);
      const refused = await asA(subjectOf(fake), encodeRecord(fake));
      equal(refused.ok, false, "the server refuses a's publish on b's subject");
      // On its own subject with another origin in the body: stored, but dropped as forged.
      equal((await asA(subjectOf({ ...fake, origin: "a" }), encodeRecord(fake))).ok, true);
      await b.waitFor((r) => r["msg"] === "fleet record dropped" && r["reason"] === "forged");
      // An oversize record, published by the operator (no host's daemon makes one): dropped.
      const big = new Uint8Array(513).fill(32);
      equal(
        (await admin(hub, [
          "publish",
          srv.url,
          "admin",
          "pw-admin",
          "fail2zig.ban.a.sshd.203_0_113_98",
          b64(big),
        ])).ok,
        true,
      );
      await c.waitFor((r) => r["msg"] === "fleet record dropped" && r["reason"] === "oversize");
      ok(!(await nftHas(nsB, "203.0.113.99")));

      // 5. The server killed and restarted mid-stream: what A banned meanwhile waits in its
      //    outbox and arrives; nothing stored before is lost (the late daemon below checks).
      await srv.kill();
      await a.waitFor((r) => r["msg"] === "fleet link down");
      await banOn(a, "203.0.113.60");
      await srv.start();
      await applied(b, "203.0.113.60", 40_000);
      await applied(c, "203.0.113.60", 40_000);

      // 6. A partitioned host (its port on the bridge down) replays what it missed.
      await runOk(["ip", "-n", hub.name, "link", "set", "vb", "down"]);
      await b.waitFor((r) => r["msg"] === "fleet link down", 30_000);
      await banOn(a, "203.0.113.70");
      await applied(c, "203.0.113.70");
      await runOk(["ip", "-n", hub.name, "link", "set", "vb", "up"]);
      await applied(b, "203.0.113.70", 40_000);
      ok(await nftHas(nsB, "203.0.113.70"));

      // 7. A daemon started late gets every active ban of the fleet.
      const d = await start("d", nsD);
      for (const ip of ["1", "3", "4", "5", "50", "51", "60", "70"].map((x) => `203.0.113.${x}`)) {
        await applied(d, ip);
        ok(await nftHas(nsD, ip), `${ip} in D's set`);
      }
      ok(!(await nftHas(nsD, "203.0.113.2")), "the unbanned one is not");
      const status = (await client(sock(d), "status")).json as { fleet: Record<string, unknown> };
      equal(status.fleet.state, "connected");
    } catch (e) {
      // What each daemon said last, for the failure report.
      for (const [name, d] of daemons) {
        console.error(name, JSON.stringify(d.err.slice(-6)), JSON.stringify(d.out.slice(-3)));
      }
      throw e;
    } finally {
      for (const d of daemons.values()) await d.stop().catch(() => {});
      await server?.stop();
      for (const ns of spaces) await ns.destroy();
      await hub.destroy();
    }
  },
});
