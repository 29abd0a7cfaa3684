import { deepEqual, equal, ok } from "node:assert/strict";
import { parseConfig } from "../config/mod.ts";
import type { Fields, LogLevel } from "../log/mod.ts";
import { Logger } from "../log/mod.ts";
import { MetricsRegistry } from "../metrics/mod.ts";
import type { BanDecision } from "../tracker/mod.ts";
import { type AttachableEngine, DROP_LOG_INTERVAL_MS, OUTBOX_MAX, startFleet } from "./mod.ts";
import { freePort } from "../../tests/_nats.ts";

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

Deno.test("a full outbox and a link that cannot connect show in the status, the metrics and the journal", async () => {
  // Nothing listens on this port: the link stays down and every ban waits in the outbox.
  const config = parseConfig(
    `[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\n[fleet]\nurl = "nats://127.0.0.1:${freePort()}"\nname = "web1"\n`,
    "c.toml",
  ).fleet!;
  const records: { level: LogLevel; msg: string; fields: Fields }[] = [];
  let waiting: (() => void) | null = null;
  const logger = new Logger("info", [{
    write: (level, msg, fields) => {
      records.push({ level, msg, fields });
      waiting?.();
    },
  }]);
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
    await new Promise<void>((resolve) => {
      waiting = () => journal("fleet link down").length > 0 && resolve();
      waiting();
    });
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
