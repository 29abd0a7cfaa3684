import { deepEqual, equal } from "node:assert/strict";
import { parseConfig } from "../config/mod.ts";
import type { BanDecision } from "../tracker/mod.ts";
import {
  decodeRecord,
  encodeRecord,
  FleetBridge,
  type FleetEngine,
  type FleetRecord,
  subjectOf,
} from "./mod.ts";

const NOW = 1_733_340_000_000;
const JAILS =
  '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\n[jails.web]\nfilter = "nginx-http-auth"\nlogpath = "/y"\n';

function decision(ip: string, jail: string, extra: Partial<BanDecision> = {}): BanDecision {
  return {
    ip,
    prefix: 32,
    jail,
    jailIndex: 0,
    durationMs: 600_000,
    banCount: 1,
    bannedAt: NOW,
    expiresAt: NOW + 600_000,
    cause: "failures",
    ...extra,
  };
}

/** An engine that records what the bridge asks of it. */
function fakeEngine(active: BanDecision[] = []) {
  const calls: string[] = [];
  const runs: number[] = [];
  const banned = new Set<string>();
  const engine: FleetEngine = {
    fleetBans: (rs) => (runs.push(rs.length),
      Promise.resolve(rs.map((r) => {
        calls.push(`ban ${r.ip} ${r.origin} ${r.expiresAt}`);
        if (r.ip === "192.0.2.1") return "ignored" as const; // as ignoreip would
        if (banned.has(r.ip)) return "current" as const;
        banned.add(r.ip);
        return "banned" as const;
      }))),
    fleetUnban: (ip, origin) => {
      calls.push(`unban ${ip} ${origin}`);
      return Promise.resolve(banned.delete(ip));
    },
    activeBans: () => active,
  };
  return { engine, calls, runs };
}

function bridge(extra = "", active: BanDecision[] = [], now = () => NOW) {
  const config = parseConfig(`${JAILS}[fleet]\nurl = "nats://h"\n${extra}`, "c.toml").fleet!;
  const out: { subject: string; data: Uint8Array }[] = [];
  const { engine, calls, runs } = fakeEngine(active);
  const b = new FleetBridge({
    config,
    name: "web1",
    engine,
    outbox: { publish: (subject, data) => out.push({ subject, data }) },
    now,
  });
  const records = () =>
    out.map((m) => {
      const d = decodeRecord(m.subject, m.data, NOW);
      if (!d.ok) throw new Error(d.detail);
      return d.record;
    });
  return { b, out, calls, runs, records };
}

function msg(r: Partial<FleetRecord>): [string, Uint8Array] {
  const full: FleetRecord = {
    op: "ban",
    ip: "203.0.113.9",
    prefix: 32,
    jail: "sshd",
    origin: "web2",
    at: NOW,
    exp: NOW + 60_000,
    reason: "5 failures",
    ...r,
  };
  return [subjectOf(full), encodeRecord(full)];
}

Deno.test("FleetBridge publishes local bans and client unbans of shared jails, not expiries nor the fleet jail's", () => {
  const { b, records } = bridge();
  b.onLocal("ban", [decision("203.0.113.1", "sshd")], "auth.log:10");
  b.onLocal("ban", [decision("203.0.113.2", "fleet")], "fleet:web2");
  b.onLocal("unban", [decision("203.0.113.1", "sshd")], "client");
  b.onLocal("unban", [decision("203.0.113.3", "sshd")], "expiry");
  deepEqual(records().map((r) => [r.op, r.ip, r.jail, r.origin]), [
    ["ban", "203.0.113.1", "sshd", "web1"],
    ["unban", "203.0.113.1", "sshd", "web1"],
  ]);
  equal(records()[0]!.exp, NOW + 600_000);
});

Deno.test("FleetBridge share: only the jails listed, and manual for client bans", () => {
  const { b, records } = bridge('share = ["web", "manual"]\n');
  b.onLocal("ban", [decision("203.0.113.1", "sshd")], "x");
  b.onLocal("ban", [decision("203.0.113.2", "web")], "x");
  b.onLocal("ban", [decision("203.0.113.3", "sshd", { cause: "manual" })], "client");
  deepEqual(records().map((r) => [r.ip, r.reason]), [
    ["203.0.113.2", "failures"],
    ["203.0.113.3", "client ban"],
  ]);
  const none = bridge("share = []\n");
  none.b.onLocal("ban", [decision("203.0.113.1", "sshd", { cause: "manual" })], "client");
  equal(none.out.length, 0);
});

Deno.test("FleetBridge republishes only bans that outlive half of max_age (permanent ones too)", () => {
  const active = [
    // 2 min left: the stream (max_age 10 min, the longest bantime) holds it till it ends
    decision("203.0.113.1", "sshd", { expiresAt: NOW + 120_000 }),
    decision("203.0.113.2", "sshd", { expiresAt: null, durationMs: null }),
    decision("203.0.113.3", "sshd", { expiresAt: NOW + 6 * 86_400_000 }),
    decision("203.0.113.4", "fleet", { expiresAt: null }),
  ];
  const { b, records } = bridge("", active);
  equal(b.republish(), 2);
  deepEqual(records().map((r) => [r.ip, r.exp]), [
    ["203.0.113.2", null],
    ["203.0.113.3", NOW + 6 * 86_400_000],
  ]);
});

Deno.test("FleetBridge applies received bans in order, skips its own, unbans when the last origin lifts", async () => {
  const { b, calls } = bridge();
  b.onMessage(...msg({}));
  b.onMessage(...msg({ origin: "web3" }));
  b.onMessage(...msg({ origin: "web1" })); // its own, echoed by the stream
  b.onMessage(...msg({ op: "unban", exp: null, origin: "web2" }));
  await b.settle();
  equal(b.originOf("203.0.113.9"), "web3");
  b.onMessage(...msg({ op: "unban", exp: null, origin: "web3" }));
  b.onMessage(...msg({ ip: "192.0.2.1" }));
  b.onMessage(...msg({ ip: "203.0.113.10", exp: NOW - 1, at: NOW - 10 }));
  await b.settle();
  deepEqual(calls, [
    `ban 203.0.113.9 web2 ${NOW + 60_000}`,
    `ban 203.0.113.9 web3 ${NOW + 60_000}`,
    "unban 203.0.113.9 web3",
    `ban 192.0.2.1 web2 ${NOW + 60_000}`,
  ]);
  equal(b.stats.own, 1);
  deepEqual(b.stats.outcomes, {
    banned: 1,
    current: 2,
    ignored: 1,
    expired: 1,
    unbanned: 1,
    not_banned: 0,
  });
  equal(b.originOf("203.0.113.9"), undefined);
});

Deno.test("FleetBridge drops malformed, oversize, forged and future records and counts each", async () => {
  const { b, calls } = bridge();
  const [subject, data] = msg({});
  b.onMessage(subject, new TextEncoder().encode("{nope"));
  b.onMessage(subject, new Uint8Array(600));
  b.onMessage(subject.replace("web2", "web9"), data); // the body says web2
  b.onMessage(...msg({ at: NOW + 120_000, exp: NOW + 180_000 }));
  await b.settle();
  deepEqual(calls, []);
  deepEqual(b.stats.dropped, {
    oversize: 1,
    malformed: 1,
    version: 0,
    future: 1,
    forged: 1,
    rate: 0,
  });
});

Deno.test("FleetBridge caps each origin at max_rate bans per second; others are not slowed", async () => {
  let now = NOW;
  const { b, calls } = bridge("max_rate = 3\n", [], () => now);
  for (let i = 0; i < 5; i++) b.onMessage(...msg({ ip: `203.0.113.${i + 1}` }));
  b.onMessage(...msg({ ip: "203.0.113.50", origin: "web3" }));
  await b.settle();
  equal(calls.length, 4);
  equal(b.stats.dropped.rate, 2);
  now += 1000; // a second later the bucket is full again
  b.onMessage(...msg({ ip: "203.0.113.60" }));
  await b.settle();
  equal(calls.length, 5);
});

Deno.test("FleetBridge with accept = false applies nothing", async () => {
  const { b, calls } = bridge("accept = false\n");
  b.onMessage(...msg({}));
  await b.settle();
  deepEqual(calls, []);
});

Deno.test("FleetBridge applies a run of bans in one engine call and keeps order around unbans", async () => {
  const { b, calls, runs } = bridge();
  for (let i = 1; i <= 5; i++) b.onMessage(...msg({ ip: `203.0.113.${i}` }));
  b.onMessage(...msg({ op: "unban", exp: null, ip: "203.0.113.1" }));
  b.onMessage(...msg({ ip: "203.0.113.1" }));
  await b.settle();
  deepEqual(runs, [5, 1], "five bans in one call, then the one after the unban");
  deepEqual(calls, [
    ...[1, 2, 3, 4, 5].map((i) => `ban 203.0.113.${i} web2 ${NOW + 60_000}`),
    "unban 203.0.113.1 web2",
    `ban 203.0.113.1 web2 ${NOW + 60_000}`,
  ]);
});
