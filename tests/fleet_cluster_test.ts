/**
 * docs/fleet.md's three-node NATS cluster, run: the server config and `users.conf` are taken from
 * the page itself (only its host names, ports and paths replaced, for three nodes on loopback),
 * with TLS from a CA made here (openssl). The operator's stream is replicated on the three nodes;
 * a daemon publishing through node 1 bans on one subscribed through node 3; with node 2 killed
 * (SIGKILL) bans still flow.
 * @module
 */
import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../src/config/mod.ts";
import { connectFleet } from "../src/fleet/connect.ts";
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { client, makeConfig, privateGlobal, type RunningDaemon, startDaemon } from "./_daemon.ts";
import {
  freePort,
  haveNats,
  haveOpenssl,
  makeCa,
  makeServerCert,
  type NatsServer,
  startNats,
} from "./_nats.ts";

const DOC = Deno.readTextFileSync(new URL("../docs/fleet.md", import.meta.url));
const STREAM = "FAIL2ZIG_BANS";
/** The first fenced block after the heading `heading` of docs/fleet.md. */
function docBlock(heading: string): string {
  const at = DOC.indexOf(`\n## ${heading}\n`);
  ok(at >= 0, `docs/fleet.md has no "## ${heading}"`);
  const open = DOC.indexOf("\n```\n", at);
  const close = DOC.indexOf("\n```\n", open + 5);
  return DOC.slice(open + 5, close + 1);
}

/** `text` with every `from` replaced by `to`; fails when the page no longer says `from`. */
function swap(text: string, from: string, to: string): string {
  ok(text.includes(from), `docs/fleet.md's block no longer has ${JSON.stringify(from)}`);
  return text.replaceAll(from, to);
}

/** The page's users.conf with passwords set, and web1's entry repeated for web3. */
function usersConf(): string {
  let text = docBlock("Per-host users: each host publishes only as itself");
  text = swap(text, '{ user: admin, password: "…" }', '{ user: admin, password: "pw-admin" }');
  const start = text.indexOf("{ user: web1,");
  const end = text.indexOf("} } }", start) + "} } }".length;
  ok(start >= 0 && end > start, "users.conf: web1's entry");
  const web1 = text.slice(start, end);
  const entry = (name: string) =>
    swap(swap(web1, "web1", name), `password: "…"`, `password: "pw-${name}"`);
  text = text.replace(web1, entry("web1"));
  return swap(text, "# web2, web3, … the same with their own name", entry("web3"));
}

/** Node `i` (1–3)'s config: the page's, its names, ports and paths made loopback's. */
function nodeConf(i: number, dir: string, ports: number[], routes: number[]): string {
  let text = docBlock("A three-node NATS cluster");
  text = swap(text, "server_name: nats1", `server_name: nats${i}`);
  text = swap(text, "listen: 0.0.0.0:4222", `listen: 127.0.0.1:${ports[i - 1]}`);
  text = swap(text, "listen: 0.0.0.0:6222", `listen: 127.0.0.1:${routes[i - 1]}`);
  for (const k of [1, 2, 3]) {
    text = swap(text, `nats://nats${k}.example.net:6222`, `nats://127.0.0.1:${routes[k - 1]}`);
  }
  text = swap(text, '"/etc/nats/server-cert.pem"', `"${join(dir, "server-cert.pem")}"`);
  text = swap(text, '"/etc/nats/server-key.pem"', `"${join(dir, "server-key.pem")}"`);
  text = swap(text, '"/etc/nats/ca.pem"', `"${join(dir, "ca.pem")}"`);
  text = swap(text, '"/var/lib/nats/jetstream"', `"${join(dir, `js${i}`)}"`);
  // `include` is relative to the config file: users.conf is written beside it.
  return swap(text, 'include "users.conf"', 'include "users.conf"');
}

/**
 * The operator's stream (docs/fleet.md's `nats stream add`), once the cluster has a leader; then
 * its leadership is moved (stepped down, at random) until node 2, the one the test kills, leads
 * it. Returns the stream's peers.
 */
async function addStream(url: string, ca: string): Promise<string[]> {
  // The operator's client checks the server's certificate as the daemons' link does.
  const fleet = parseConfig(`[fleet]\nurl = "${url}"\ntls_ca = "${ca}"\n`, "c.toml").fleet!;
  const admin = { user: "admin", password: "pw-admin", token: "", creds: "" };
  const nc = await connectFleet(fleet, admin, {});
  const retry = async <T>(what: () => Promise<T>): Promise<T> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        return await what();
      } catch (e) {
        // JetStream's meta leader is elected a moment after the routes are up; a stream's, a
        // moment after a step-down.
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  try {
    const jsm = await retry(() => jetstreamManager(nc, { timeout: 2_000 }));
    const info = await retry(() =>
      jsm.streams.add({
        name: STREAM,
        subjects: ["fail2zig.ban.>"],
        storage: StorageType.File,
        num_replicas: 3,
        retention: RetentionPolicy.Limits,
        max_msgs_per_subject: 1,
        max_age: 7 * 86_400 * 1e9,
        discard: DiscardPolicy.Old,
      })
    );
    const leader = () =>
      retry(async () => {
        const l = (await jsm.streams.info(STREAM)).cluster?.leader;
        if (l === undefined || l === "") throw new Error("no stream leader yet");
        return l;
      });
    for (let n = 0; (await leader()) !== "nats2"; n++) {
      ok(n < 20, "the stream's leadership never moved to nats2");
      const was = await leader();
      await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${STREAM}`, undefined, { timeout: 5_000 });
      await retry(async () => {
        if ((await leader()) === was) throw new Error("not moved yet");
      });
    }
    return [info.cluster?.leader ?? "", ...(info.cluster?.replicas ?? []).map((r) => r.name)];
  } finally {
    await nc.close();
  }
}

Deno.test({
  name:
    "fleet: docs/fleet.md's three-node cluster (TLS, per-host users, replicas 3) carries bans, one node killed",
  ignore: !haveNats || !haveOpenssl,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fail2zig-cluster-" });
    const nodes: NatsServer[] = [];
    const daemons: RunningDaemon[] = [];
    try {
      await makeCa(dir);
      await makeServerCert(dir, "server", "IP:127.0.0.1"); // the address the daemons dial
      await Deno.writeTextFile(join(dir, "users.conf"), usersConf());
      const ports = [freePort(), freePort(), freePort()];
      const routes = [freePort(), freePort(), freePort()];
      for (const i of [1, 2, 3]) {
        const file = join(dir, `nats${i}.conf`);
        await Deno.writeTextFile(file, nodeConf(i, dir, ports, routes));
        nodes.push(await startNats({ file, port: ports[i - 1]! }));
      }
      const url = (i: number) => `tls://127.0.0.1:${ports[i - 1]}`;
      const ca = join(dir, "ca.pem");
      const peers = await addStream(url(1), ca);
      equal(peers.sort().join(","), "nats1,nats2,nats3"); // replicated on the three nodes
      const start = async (name: string, node: number) => {
        const { dir: d, config } = await makeConfig((cd) =>
          `${privateGlobal(cd)}[jails.sshd]\nfilter = "sshd"\nlogpath = "${
            join(cd, "auth.log")
          }"\n[fleet]\nurl = "${
            url(node)
          }"\nname = "${name}"\nuser = "${name}"\npassword = "pw-${name}"\ntls_ca = "${ca}"\n`
        );
        await Deno.writeTextFile(join(d, "auth.log"), "");
        const dm = await startDaemon(d, config, { readyTimeoutMs: 30_000 });
        daemons.push(dm);
        await dm.waitFor((r) => r["msg"] === "fleet link connected", 15_000);
        return { dm, sock: join(d, "fail2zig.sock") };
      };
      const a = await start("web1", 1);
      const c = await start("web3", 3);
      // The audit record of c's ban (stderr; the log-only firewall's own line has no origin).
      // The stream's new leader is elected within nats-server's election timeouts (seconds), then
      // the meta leader and the consumer's; on a loaded 2-core machine that took more than 25 s
      // once (CI 2026-12-07), hence a deadline well above it (an event is awaited, not a time).
      const fleetBan = (ip: string) =>
        c.dm.waitFor(
          (r) => r["fail2zig_event"] === "ban" && r["ip"] === ip && r["jail"] === "fleet",
          60_000,
        );
      equal((await client(a.sock, "ban", "203.0.113.21", "--jail", "sshd")).code, 0);
      await fleetBan("203.0.113.21");
      // Node 2, the stream's leader: the two others keep a quorum and elect one of them.
      await nodes[1]!.kill();
      equal((await client(a.sock, "ban", "203.0.113.22", "--jail", "sshd")).code, 0);
      const rec = await fleetBan("203.0.113.22").catch((e) => {
        const fleetLog = (d: RunningDaemon) =>
          JSON.stringify(d.err.filter((r) => String(r["msg"]).includes("fleet")).slice(-6));
        throw new Error(`${e.message}\nweb1: ${fleetLog(a.dm)}\nweb3: ${fleetLog(c.dm)}`);
      });
      equal(rec["origin"], "fleet:web1", JSON.stringify(rec));
    } finally {
      for (const d of daemons) await d.stop().catch(() => {});
      for (const n of nodes) await n.stop().catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
