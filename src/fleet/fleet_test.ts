import { deepEqual, equal, ok } from "node:assert/strict";
import { parseConfig } from "../config/mod.ts";
import type { Fields, LogLevel } from "../log/mod.ts";
import { Logger } from "../log/mod.ts";
import { MetricsRegistry } from "../metrics/mod.ts";
import type { BanDecision } from "../tracker/mod.ts";
import {
  type AttachableEngine,
  DROP_LOG_INTERVAL_MS,
  fleetName,
  OUTBOX_MAX,
  startFleet,
  subjectOf,
} from "./mod.ts";
import { freePort, haveNats, startNats } from "../../tests/_nats.ts";
import { connect } from "@nats-io/transport-node";

type Hooks = Parameters<AttachableEngine["attachFleet"]>[0];

function decision(i: number, now: number): BanDecision {
  return {
    ip: `198.18.${i >> 8}.${i & 255}`,
    prefix: 32,
    jail: "sshd",
    jailIndex: 0,
    durationMs: 600_000,
    banCount: 1,
    bannedAt: now,
    expiresAt: now + 600_000,
    cause: "failures",
  };
}

/** The `[fleet]` of a one-jail config whose bantime is `bantime`, on `url`, in a fresh stream. */
function fleetConfig(url: string, bantime: string) {
  return parseConfig(
    `[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nbantime = "${bantime}"\n[fleet]\nurl = "${url}"\nname = "web1"\nstream = "T${freePort()}"\n`,
    "c.toml",
  ).fleet!;
}

/** An engine that holds the bans `active` and applies every fleet ban it is given. */
function engineWith(active: BanDecision[]): AttachableEngine {
  return {
    fleetBans: (rs) => Promise.resolve(rs.map(() => "banned" as const)),
    fleetUnban: () => Promise.resolve(false),
    activeBans: () => active,
    attachFleet: () => {},
  };
}

/** A logger whose records can be awaited. */
function recordingLogger() {
  const records: { level: LogLevel; msg: string; fields: Fields }[] = [];
  const waiters: (() => void)[] = [];
  const logger = new Logger("info", [{
    write: (level, msg, fields) => {
      records.push({ level, msg, fields });
      waiters.splice(0).forEach((w) => w());
    },
  }]);
  const until = (pred: () => boolean, ms = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for a record")), ms);
      const check = () => pred() ? (clearTimeout(timer), resolve()) : waiters.push(check);
      check();
    });
  return { logger, records, until };
}

Deno.test("a full outbox and a link that cannot connect show in the status, the metrics and the journal", async () => {
  // Nothing listens on this port: the link stays down and every ban waits in the outbox.
  const config = parseConfig(
    `[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\n[fleet]\nurl = "nats://127.0.0.1:${freePort()}"\nname = "web1"\n`,
    "c.toml",
  ).fleet!;
  const { logger, records, until } = recordingLogger();
  let hooks: Hooks = null;
  const engine: AttachableEngine = {
    fleetBans: (rs) => Promise.resolve(rs.map(() => "banned" as const)),
    fleetUnban: () => Promise.resolve(false),
    activeBans: () => [],
    attachFleet: (h) => {
      hooks = h;
    },
  };
  let now = 1_733_340_000_000;
  const registry = new MetricsRegistry();
  const fleet = startFleet({ config, engine, logger, registry, now: () => now });
  const journal = (msg: string) => records.filter((r) => r.msg === msg);
  try {
    ok(hooks !== null, "attached to the engine");
    const h = hooks as NonNullable<Hooks>;
    const ban = (from: number, n: number) =>
      h.onChange("ban", Array.from({ length: n }, (_, i) => decision(from + i, now)), "failures");
    ban(0, OUTBOX_MAX);
    deepEqual(journal("fleet outbox full: oldest record dropped"), []);
    ban(OUTBOX_MAX, 5);
    // the first drop is logged at once, the next four within the minute are only counted
    deepEqual(journal("fleet outbox full: oldest record dropped").map((r) => r.fields["count"]), [
      1,
    ]);
    now += DROP_LOG_INTERVAL_MS;
    ban(OUTBOX_MAX + 5, 1);
    const full = journal("fleet outbox full: oldest record dropped");
    deepEqual(full.map((r) => [r.level, r.fields["count"], r.fields["outbox"]]), [
      ["warn", 1, OUTBOX_MAX],
      ["warn", 5, OUTBOX_MAX],
    ]);
    // the link is reported down (journal, status, metrics) once its first attempt fails
    await until(() => journal("fleet link down").length > 0);
    const status = fleet.status();
    deepEqual(
      [status.name, status.state, status.outbox, status.outbox_dropped, status.published],
      ["web1", "disconnected", OUTBOX_MAX, 6, 0],
    );
    const metrics = registry.render().split("\n");
    for (
      const line of [
        "fail2zig_fleet_connected 0",
        `fail2zig_fleet_outbox ${OUTBOX_MAX}`,
        "fail2zig_fleet_outbox_dropped_total 6",
        "fail2zig_fleet_published_total 0",
      ]
    ) ok(metrics.includes(line), `${line} in\n${metrics.join("\n")}`);
  } finally {
    await fleet.close();
  }
  equal(hooks, null, "detached on close");
});

Deno.test({
  name:
    "at each connect the fleet re-publishes the bans that outlive half of max_age, permanent ones too",
  ignore: !haveNats,
  async fn() {
    const server = await startNats();
    const config = fleetConfig(server.url, "2h");
    const now = Date.now();
    const active = [
      { ...decision(1, now), expiresAt: null }, // permanent
      { ...decision(2, now), expiresAt: now + 90 * 60_000 }, // 1.5 h of a 2 h max_age: outlives half
      { ...decision(3, now), expiresAt: now + 10 * 60_000 }, // ends long before the stream forgets it
    ];
    const { logger, records, until } = recordingLogger();
    const engine = engineWith(active);
    const fleet = startFleet({ config, engine, logger });
    try {
      await until(() => records.some((r) => r.msg === "fleet: long bans re-published"));
      deepEqual(records.find((r) => r.msg === "fleet: long bans re-published")!.fields, {
        count: 2,
      });
      // both reach the stream (acknowledged)
      for (let i = 0; fleet.status().published < 2; i++) {
        ok(i < 200, `published ${fleet.status().published}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      equal(fleet.status().outbox, 0);
    } finally {
      await fleet.close();
      await server.stop();
    }
  },
});

Deno.test({
  name: "every half max_age the fleet re-publishes its long bans again, without a new connect",
  ignore: !haveNats,
  async fn() {
    const server = await startNats();
    // bantime 2s: max_age 2 s, the timer fires every second.
    const config = fleetConfig(server.url, "2s");
    equal(config.maxAgeMs, 2_000);
    const now = Date.now();
    const permanent = { ...decision(1, now), expiresAt: null };
    const active = [
      permanent,
      { ...decision(2, now), expiresAt: now + 500 }, // within half of max_age: never re-published
    ];
    const { logger, records } = recordingLogger();
    const engine = engineWith(active);
    // Every record the link publishes, as the server passes it on.
    const nc = await connect({ servers: server.url });
    const sub = nc.subscribe("fail2zig.ban.>", { max: 4 });
    const fleet = startFleet({ config, engine, logger });
    try {
      const bound = setTimeout(() => sub.unsubscribe(), 15_000);
      const got: { subject: string; at: number }[] = [];
      for await (const m of sub) got.push({ subject: m.subject, at: performance.now() });
      clearTimeout(bound);
      // Four publications of the permanent ban (the other one never), over a single connect:
      // the one made at connect and three by the timer. The last two are ticks of the timer
      // whenever the connect took under 2 s (a tick before it waits in the outbox till then).
      equal(got.length, 4, `received ${JSON.stringify(got)}`);
      const subject = subjectOf({ ip: permanent.ip, prefix: 32, jail: "sshd", origin: "web1" });
      deepEqual(got.map((p) => p.subject), [subject, subject, subject, subject]);
      equal(fleet.link.stats.connects, 1);
      equal(records.filter((r) => r.msg === "fleet: long bans re-published").length, 1);
      const gap = got[3]!.at - got[2]!.at;
      ok(gap >= 500, `timer publications ${gap} ms apart`);
    } finally {
      await fleet.close();
      await nc.close();
      await server.stop();
    }
  },
});

Deno.test("fleetName: [fleet] name, else the host name with other characters as -, at most 64", () => {
  const fleet = (name: string) =>
    parseConfig(`[fleet]\nurl = "nats://h"\n${name}`, "c.toml").fleet!;
  equal(fleetName(fleet('name = "web1"\n'), () => "ignored.example"), "web1");
  equal(fleetName(fleet(""), () => "web1.example.net"), "web1-example-net");
  equal(fleetName(fleet(""), () => "x".repeat(70)), "x".repeat(64));
  equal(fleetName(fleet(""), () => ""), "host");
});
