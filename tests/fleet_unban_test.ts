/**
 * `fail2zig fleet unban` against a nats-server that requires a token (`authorization { token }`,
 * what `nats-server --auth TOKEN` sets): with `token` in `[fleet]` it connects as the daemon's
 * link does, reads the origin's bans and publishes their unbans; without it the server refuses it.
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { fail2zig, makeConfig } from "./_daemon.ts";
import { haveNats, startNats } from "./_nats.ts";
import { decodeRecord, encodeRecord, type FleetRecord, subjectOf } from "../src/fleet/mod.ts";

const TOKEN = "s3cret-fleet-token";

Deno.test({
  name: "fleet unban connects with [fleet] token, as the daemon does, and publishes the unbans",
  ignore: !haveNats,
  async fn() {
    const server = await startNats({ config: `authorization { token: "${TOKEN}" }` });
    const nc = await connect({ servers: server.url, token: TOKEN });
    const dirs: string[] = [];
    try {
      await (await jetstreamManager(nc)).streams.add({
        name: "FAIL2ZIG_BANS",
        subjects: ["fail2zig.ban.>"],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_msgs_per_subject: 1,
        max_age: 7 * 86_400 * 1e9,
      });
      const now = Date.now();
      const ban = (ip: string, origin: string): FleetRecord => ({
        op: "ban",
        ip,
        prefix: 32,
        jail: "sshd",
        origin,
        at: now,
        exp: now + 3_600_000,
        reason: "test",
      });
      const js = jetstream(nc);
      for (const r of [ban("203.0.113.7", "web7"), ban("203.0.113.8", "web8")]) {
        await js.publish(subjectOf(r), encodeRecord(r));
      }
      // What `fleet unban` publishes, as every daemon's reader would get it.
      const sub = nc.subscribe("fail2zig.ban.>", { max: 1 });
      const unban = async (extra: string) => {
        const { dir, config } = await makeConfig(() =>
          `[fleet]\nurl = "${server.url}"\nname = "admin"\n${extra}`
        );
        dirs.push(dir);
        return fail2zig(["fleet", "unban", "--origin", "web7", "--config", config]);
      };
      // The server does require the token: without it the command is refused.
      const without = await unban("");
      equal(without.code, 1, without.stdout);
      ok(/authorization/i.test(without.stderr), without.stderr);
      const run = await unban(`token = "${TOKEN}"\n`);
      equal(run.code, 0, run.stderr);
      equal(run.stdout.trim(), "web7: 1 subjects read, 1 bans lifted fleet-wide");
      // Bounded, not a sleep: the unban was acknowledged before the command exited.
      const bound = setTimeout(() => sub.unsubscribe(), 10_000);
      let got: FleetRecord | null = null;
      for await (const m of sub) {
        const d = decodeRecord(m.subject, m.data, Date.now());
        ok(d.ok, `decoded ${m.subject}`);
        got = d.record;
      }
      clearTimeout(bound);
      deepEqual(
        got && [got.op, got.ip, got.origin, got.exp],
        ["unban", "203.0.113.7", "web7", null],
      );
    } finally {
      await nc.close();
      await server.stop();
      for (const d of dirs) await Deno.remove(d, { recursive: true });
    }
  },
});
