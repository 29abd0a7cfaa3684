import { deepEqual, equal, rejects } from "node:assert/strict";
import { type Config, parseConfig } from "../config/mod.ts";
import type { FleetAttachment } from "./engine.ts";
import { testEngine } from "./testdata/engine_fixture.ts";

const CONFIG = parseConfig(
  `[defaults]
ignoreip = ["127.0.0.0/8", "198.51.100.0/24"]
[jails.ssh]
filter = "sshd"
logpath = "/var/log/auth.log"
[jails.recidive]
source = "bans"
maxretry = 1
[fleet]
url = "nats://127.0.0.1"
`,
  "engine_fleet_test.toml",
);

async function engine(reloaded: () => Config = () => CONFIG, config = CONFIG) {
  const { e, backend, audit, clock } = await testEngine(config, {
    reloadTo: reloaded,
    extra: { selfAddresses: () => ["192.0.2.10"] },
  });
  const seen: string[] = [];
  const fleet: FleetAttachment = {
    onChange: (event, bans, origin) => seen.push(`${event} ${bans.map((b) => b.jail)} ${origin}`),
    originOf: (ip) => ip === "203.0.113.7" ? "web2" : undefined,
    status: () => ({
      name: "web1",
      state: "connected",
      server: "s:4222",
      outbox: 0,
      outbox_dropped: 0,
      published: 0,
      received: 0,
      applied: 0,
      dropped: 0,
    }),
  };
  e.attachFleet(fleet);
  return { e, backend, audit, clock, seen };
}

Deno.test("Engine.fleetBans applies under the jail fleet, audited with its origin, feeding no recidive", async () => {
  const { e, backend, audit, clock, seen } = await engine();
  const exp = clock.now() + 3_600_000;
  equal(
    (await e.fleetBans([{ ip: "203.0.113.7", expiresAt: exp, origin: "web2", reason: "r" }]))[0],
    "banned",
  );
  deepEqual((await backend.list()).map((b) => [b.ip, b.jail]), [["203.0.113.7", "fleet"]]);
  deepEqual(audit.map((a) => [a.event, a.jail, a.origin, a.reason]), [
    ["ban", "fleet", "fleet:web2", "r"],
  ]);
  deepEqual(seen, ["ban fleet fleet:web2"]);
  // The same ban again (a replay) changes nothing; recidive (maxretry 1) counted nothing.
  equal(
    (await e.fleetBans([{ ip: "203.0.113.7", expiresAt: exp, origin: "web2", reason: "r" }]))[0],
    "current",
  );
  equal(audit.length, 1);
  const list = await e.list();
  deepEqual(list.bans.map((b) => [b.ip, b.jail, b.origin, b.remaining_s]), [
    ["203.0.113.7", "fleet", "web2", 3600],
  ]);
  equal((await e.status()).fleet?.state, "connected");
  equal(await e.fleetUnban("203.0.113.7", "web2"), true);
  equal(await e.fleetUnban("203.0.113.7", "web2"), false);
  deepEqual((await backend.list()).length, 0);
  deepEqual(audit.map((a) => [a.event, a.jail, a.origin]).at(-1), ["unban", "fleet", "fleet:web2"]);
});

Deno.test("Engine.fleetBans: ignoreip, the host's own addresses and loopback always win", async () => {
  const { e, backend } = await engine();
  const exp = Date.parse("2026-11-25T13:00:00Z");
  for (const ip of ["198.51.100.5", "192.0.2.10", "127.0.0.1"]) {
    equal(
      (await e.fleetBans([{ ip, expiresAt: exp, origin: "web2", reason: "r" }]))[0],
      "ignored",
      ip,
    );
  }
  equal((await backend.list()).length, 0);
});

Deno.test("Engine.fleetBans: a permanent fleet ban stays permanent", async () => {
  const { e, backend } = await engine();
  equal(
    (await e.fleetBans([{ ip: "203.0.113.8", expiresAt: null, origin: "web3", reason: "r" }]))[0],
    "banned",
  );
  deepEqual((await backend.list()).map((b) => b.timeoutMs), [null]);
});

Deno.test("Engine.reload refuses a [fleet] added, removed or changed, and nothing changes", async () => {
  const base = `[jails.ssh]\nfilter = "sshd"\nlogpath = "/var/log/auth.log"\nbantime = "2h"\n`;
  const variants: [string, string][] = [
    ["removed", base],
    ["changed", `${base}[fleet]\nurl = "nats://127.0.0.1"\nmax_rate = 5\n`],
    ["changed", `${base}[fleet]\nurl = "nats://127.0.0.2"\n`],
  ];
  for (const [what, toml] of variants) {
    const { e } = await engine(() => parseConfig(toml, "reloaded.toml"));
    await e.ban("192.0.2.99", "ssh");
    await rejects(e.reload(), (err: Error & { code?: string }) => {
      equal(err.code, "invalid_config");
      equal(
        err.message.startsWith(`[fleet] ${what}: changes to [fleet] apply at the next start`),
        true,
        err.message,
      );
      return true;
    });
    // The reloaded config has no recidive jail: its ban would have been lifted.
    deepEqual((await e.list()).bans.map((b) => b.jail), ["ssh", "recidive"]);
  }
  const without = parseConfig(base, "without.toml");
  const { e: plain } = await engine(() => CONFIG, without);
  await rejects(plain.reload(), /^ControlError: \[fleet\] added: /);
  // The same [fleet] with another bantime (another stream max_age) reloads.
  const same = parseConfig(`${base}[fleet]\nurl = "nats://127.0.0.1"\n`, "same.toml");
  const { e } = await engine(() => same);
  equal((await e.reload()).reloaded, true);
});
