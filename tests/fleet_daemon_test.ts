/**
 * Two real daemons (log-only, on loopback) and a real nats-server: a client ban on A reaches B
 * under the jail `fleet` with A as its origin, an unban follows, B's ignoreip wins, and records
 * that are malformed, oversize or forged are dropped and counted. The kernel-set version of this
 * runs in network namespaces (fleet_netns_test.ts).
 * @module
 */
import { equal, ok } from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { join } from "node:path";
import {
  client,
  fail2zig,
  makeConfig,
  privateGlobal,
  sshdJail,
  startDaemon,
  waitForSaved,
} from "./_daemon.ts";
import { freePort, haveNats, startNats } from "./_nats.ts";
import { encodeRecord, subjectOf } from "../src/fleet/mod.ts";

const metricsPort = freePort();

// deno-lint-ignore no-explicit-any
type Json = any;

/** b ignores 198.51.100.0/24, a does not; b serves metrics on `metricsPort`. */
function fleetToml(url: string, name: string) {
  const ignore = name === "b" ? '"127.0.0.0/8", "198.51.100.0/24"' : '"127.0.0.0/8"';
  const global = (dir: string) =>
    name === "b"
      ? privateGlobal(dir, 'seccomp = "enforce"').replace(
        'metrics_bind = ""',
        `metrics_bind = "127.0.0.1:${metricsPort}"`,
      )
      : privateGlobal(dir, 'seccomp = "enforce"');
  return (dir: string) =>
    `${global(dir)}[defaults]\nignoreip = [${ignore}]\n${
      sshdJail(dir)
    }[fleet]\nurl = "${url}"\nname = "${name}"\n`;
}

Deno.test({
  name:
    "fleet: a ban on one daemon is applied by the other under the jail fleet; bad records are counted",
  ignore: !haveNats,
  async fn() {
    const server = await startNats();
    const daemons: Awaited<ReturnType<typeof startDaemon>>[] = [];
    try {
      for (const name of ["a", "b"]) {
        const { dir, config } = await makeConfig(fleetToml(server.url, name));
        await Deno.writeTextFile(join(dir, "auth.log"), "");
        const d = await startDaemon(dir, config);
        daemons.push(d);
        await d.waitFor((r) => r["msg"] === "fleet link connected");
        // The fleet runs under the enforced syscall allow-list (docs/seccomp.md).
        await d.waitFor((r) => r["msg"] === "seccomp filter installed" && r["mode"] === "enforce");
      }
      const [a, b] = daemons as [typeof daemons[0], typeof daemons[0]];
      const sock = (d: typeof a) => join(d.dir, "fail2zig.sock");
      // (The one-second bound is fleet_netns_test's, measured from a's own ban record.)
      equal((await client(sock(a), "ban", "203.0.113.7", "--jail", "sshd")).code, 0);
      await b.waitFor((r) => r["event"] === "ban" && r["ip"] === "203.0.113.7");
      const list = (await client(sock(b), "list")).json as Json;
      const row = list.bans.find((x: Json) => x.ip === "203.0.113.7");
      equal(row.jail, "fleet");
      equal(row.origin, "a");
      // in b's state file under the jail fleet (and so kept across a restart of b)
      await waitForSaved(
        join(b.dir, "state.bin"),
        "b's fleet ban",
        (st) => st.bans.some((x) => x.ip === "203.0.113.7" && x.jail === "fleet"),
      );
      // b's ignoreip wins: a's ban of 198.51.100.9 is not applied on b. b applies in order, so
      // once it has a's next ban it has passed over this one.
      equal((await client(sock(a), "ban", "198.51.100.9", "--jail", "sshd")).code, 0);
      equal((await client(sock(a), "ban", "203.0.113.8", "--jail", "sshd")).code, 0);
      await b.waitFor((r) => r["event"] === "ban" && r["ip"] === "203.0.113.8");
      const banned = (await client(sock(b), "banned", "198.51.100.9")).json as Json;
      equal(banned.banned[0].jails.length, 0);
      // The operator lifts every ban of a fleet-wide (fail2zig fleet unban --origin a): b drops
      // 203.0.113.8; a itself keeps its own jail's ban (it is a's, not the fleet's).
      const revoke = await fail2zig(["fleet", "unban", "--origin", "a", "--config", b.config]);
      equal(revoke.code, 0, revoke.stderr);
      equal(revoke.stdout.trim(), "a: 3 subjects read, 3 bans lifted fleet-wide");
      await b.waitFor((r) => r["event"] === "unban" && r["ip"] === "203.0.113.8");
      await b.waitFor((r) => r["event"] === "unban" && r["ip"] === "203.0.113.7");
      // The unban of a ban b no longer holds changes nothing there.
      equal((await client(sock(a), "unban", "203.0.113.7")).code, 0);
      // Records published straight to the stream: malformed, oversize, forged (a's subject, b's name).
      const nc = await connect({ servers: server.url });
      const js = jetstream(nc);
      const forged = {
        op: "ban" as const,
        ip: "203.0.113.66",
        prefix: 32,
        jail: "sshd",
        origin: "c",
        at: Date.now(),
        exp: Date.now() + 60_000,
        reason: "forged",
      };
      await js.publish("fail2zig.ban.c.sshd.203_0_113_65", new TextEncoder().encode("{"));
      await js.publish("fail2zig.ban.c.sshd.203_0_113_64", new Uint8Array(600).fill(32));
      await js.publish(subjectOf({ ...forged, origin: "d" }), encodeRecord(forged));
      await nc.close();
      // Each reason is logged at its first drop (then once a minute with the count).
      for (const reason of ["malformed", "oversize", "forged"]) {
        await b.waitFor((r) => r["msg"] === "fleet record dropped" && r["reason"] === reason);
      }
      const s = (await client(sock(b), "status")).json as Json;
      equal(s.fleet.dropped, 3);
      equal(s.fleet.state, "connected");
      equal(s.fleet.name, "b");
      // The fail2zig_fleet_* series.
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      for (
        const line of [
          "fail2zig_fleet_connected 1",
          'fail2zig_fleet_dropped_total{reason="forged"} 1',
          'fail2zig_fleet_dropped_total{reason="oversize"} 1',
          'fail2zig_fleet_dropped_total{reason="malformed"} 1',
          'fail2zig_fleet_received_total{outcome="banned"} 2',
          "fail2zig_fleet_outbox 0",
        ]
      ) ok(metrics.split("\n").includes(line), `${line} in\n${metrics}`);
      const after = (await client(sock(b), "list")).json as Json;
      ok(!after.bans.some((x: Json) => x.ip === "203.0.113.66"));
    } finally {
      for (const d of daemons) await d.stop();
      await server.stop();
    }
  },
});
