import { deepEqual, equal, ok } from "node:assert/strict";
import { parseConfig } from "../config/mod.ts";
import { ControlError } from "../ipc/mod.ts";
import { createDaemonMetrics, type DaemonMetrics } from "../metrics/mod.ts";
import {
  type BanEntry,
  type FirewallBackend,
  FirewallError,
  FirewallGuard,
  MemoryBackend,
} from "../firewall/mod.ts";
import { Logger } from "../log/mod.ts";
import { ManualClock, Tracker } from "../tracker/mod.ts";
import {
  type AuditEvent,
  Engine,
  type EngineOptions,
  LIFT_BATCH,
  MAX_LIST_BANS,
} from "./engine.ts";
import type { BatchMessage } from "./_protocol.ts";
import { hostAddresses } from "./_host.ts";
import { SourceSet } from "./source_set.ts";
import { testEngine } from "./testdata/engine_fixture.ts";

const CONFIG = parseConfig(
  `[jails.ssh]
filter = "sshd"
logpath = "/var/log/auth.log"
maxretry = 2
[jails.mail]
filter = "postfix"
logpath = "/var/log/mail.log"
maxretry = 2
`,
  "engine_test.toml",
);

function engine(
  capacity = 1024,
  reloadTo = CONFIG,
  metrics?: DaemonMetrics,
  extra: Partial<EngineOptions> = {},
) {
  return testEngine(CONFIG, {
    capacity,
    reloadTo: () => reloadTo,
    extra: { ...(metrics === undefined ? {} : { metrics }), ...extra },
  });
}

/** The control call's error code, or "none" when it succeeded. */
async function codeOf(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return "none";
  } catch (e) {
    return e instanceof ControlError ? e.code : `not a ControlError: ${e}`;
  }
}

Deno.test("Engine keeps an address blocked while another jail still bans it", async () => {
  const { e, backend, audit } = await engine();
  await e.ban("203.0.113.7", "ssh", 3600);
  await e.ban("203.0.113.7", "mail", 3600);
  equal((await backend.list()).length, 1, "one kernel entry for both jails");
  deepEqual(await e.unban("203.0.113.7", "ssh"), {
    unbanned: [{ ip: "203.0.113.7", jail: "ssh" }],
  });
  deepEqual((await backend.list()).map((b) => b.ip), ["203.0.113.7"], "mail still bans it");
  await e.unban("203.0.113.7", "mail");
  deepEqual(await backend.list(), [], "lifted once no jail bans it");
  deepEqual(audit.map((a) => `${a.event} ${a.jail}`), [
    "ban ssh",
    "ban mail",
    "unban ssh",
    "unban mail",
  ]);
});

Deno.test("the guard notices an entry deleted by hand while bans keep arriving: only bans in flight are not counted", async () => {
  const mem = new MemoryBackend();
  await mem.init();
  let gate: Promise<void> = Promise.resolve();
  const held: BanEntry[] = [];
  const backend: FirewallBackend = {
    name: mem.name,
    init: () => mem.init(),
    ban: async (entries) => {
      held.push(...entries);
      await gate;
      await mem.ban(entries);
    },
    unban: (entries) => mem.unban(entries),
    list: () => mem.list(),
    retainScopes: (s) => mem.retainScopes(s),
    check: () => mem.check(),
    close: () => mem.close(),
  };
  const { e } = await engine(1024, CONFIG, undefined, { backend });
  const repaired: string[] = [];
  const guard = new FirewallGuard({
    backend: mem,
    activeBans: () => e.activeEntries(),
    queue: e,
    onRepaired: (r) => repaired.push(r.problem),
  });
  await e.ban("203.0.113.7", "ssh", 3600);
  await e.ban("203.0.113.8", "mail", 3600);
  let open = () => {};
  gate = new Promise((resolve) => open = resolve);
  // A ban on its way in, for as long as the test runs: banning never pauses.
  const third = e.ban("203.0.113.9", "ssh", 3600);
  const c = { ip: "203.0.113.9", prefix: 32, jail: "ssh", timeoutMs: null };
  for (let i = 0; i < 3; i++) await guard.tick();
  deepEqual(repaired, [], "the queued ban is not missing");
  await mem.unban([{ ip: "203.0.113.7", prefix: 32, jail: "ssh", timeoutMs: null }]);
  for (let i = 0; i < 2; i++) await guard.tick();
  deepEqual(repaired, ["1 of 2 ban entries are missing from the sets"]);
  deepEqual((await mem.list()).map((b) => b.ip).sort(), [
    "203.0.113.7",
    "203.0.113.8",
    "203.0.113.9",
  ]);
  // A ban that lands while a reading is made may be missing from it; the next reading counts it.
  const reading = e.reading();
  equal(reading(c), true, "queued");
  open();
  await third;
  equal(reading(c), true, "landed during the reading");
  equal(e.reading()(c), false, "landed before the reading");
  equal(e.reading()({ ...c, ip: "203.0.113.7" }), false);
  for (let i = 0; i < 3; i++) await guard.tick();
  equal(repaired.length, 1);
  equal(held.length, 3);
  await guard.stop();
});

Deno.test("Engine lifts expired bans from the firewall on time", async () => {
  const { e, backend, clock } = await engine();
  await e.ban("198.51.100.3", "ssh", 60);
  clock.advance(59_999);
  await e.expireDue();
  equal((await backend.list()).length, 1);
  clock.advance(1);
  await e.expireDue();
  deepEqual(await backend.list(), []);
});

Deno.test("list() of a table with many bans made at the oldest listed time lists MAX_LIST_BANS different bans", async () => {
  const { e, clock } = await engine(4 * MAX_LIST_BANS);
  const t0 = Date.parse("2026-11-25T12:00:00Z");
  const ipOf = (i: number) => `10.${i >> 8}.${i & 255}.2`;
  // 30 newer bans, then MAX_LIST_BANS at one earlier time: the list ends in a tie at that time.
  clock.set(t0);
  for (let i = 0; i < MAX_LIST_BANS; i++) await e.ban(ipOf(i), "ssh");
  clock.set(t0 + 60_000);
  for (let i = MAX_LIST_BANS; i < MAX_LIST_BANS + 30; i++) await e.ban(ipOf(i), "mail");
  const all = await e.list();
  equal(all.total, MAX_LIST_BANS + 30);
  equal(all.bans.length, MAX_LIST_BANS);
  equal(new Set(all.bans.map((b) => b.ip)).size, MAX_LIST_BANS, "no ban twice");
  equal(all.bans.filter((b) => Date.parse(b.banned_at) === t0 + 60_000).length, 30, "every newer");
  equal(Date.parse(all.bans[0]!.banned_at), t0, "oldest first");
});

Deno.test("list() returns the newest MAX_LIST_BANS bans, oldest first, and says how many there are", async () => {
  const { e, clock } = await engine(4 * MAX_LIST_BANS);
  const n = MAX_LIST_BANS + 50;
  const ipOf = (i: number) => `10.${i >> 8}.${i & 255}.1`;
  // ban times in a scrambled order, so the heap sees old and new bans interleaved
  for (let i = 0; i < n; i++) {
    clock.set(Date.parse("2026-11-25T12:00:00Z") + ((i * 7919) % n) * 1000);
    await e.ban(ipOf(i), i % 2 === 0 ? "ssh" : "mail");
  }
  const all = await e.list();
  equal(all.truncated, true);
  equal(all.total, n);
  equal(all.bans.length, MAX_LIST_BANS);
  const times = all.bans.map((b) => Date.parse(b.banned_at));
  deepEqual(times, [...times].sort((a, b) => a - b), "oldest first");
  equal(times[0], Date.parse("2026-11-25T12:00:00Z") + 50 * 1000, "the 50 oldest are left out");
  const ssh = await e.list("ssh");
  equal(ssh.bans.length, Math.ceil(n / 2));
  equal(ssh.truncated, undefined, "all of one jail's bans fit");
  equal(ssh.bans.every((b) => b.jail === "ssh"), true);
  const one = await e.ban(ipOf(0), "ssh");
  equal(one.ip, ipOf(0), "a repeated manual ban finds the active one");
});

Deno.test("expireDue() and unbanAll() lift a table of bans in batches and lift them all", async () => {
  const { e, backend, clock } = await engine(4 * MAX_LIST_BANS);
  const due = LIFT_BATCH + 10;
  const n = due + MAX_LIST_BANS + 50; // what stays is more than an unban reply lists
  const ipOf = (i: number) => `10.${i >> 8}.${i & 255}.1`;
  for (let i = 0; i < n; i++) await e.ban(ipOf(i), "ssh", i < due ? 60 : 3600);
  clock.advance(61_000); // a jump: more than LIFT_BATCH bans are due at once
  await e.expireDue();
  equal((await backend.list()).length, n - due, "every due ban was lifted");
  const r = await e.unbanAll();
  equal(r.truncated, true);
  equal(r.total, n - due);
  equal(r.unbanned.length, MAX_LIST_BANS);
  deepEqual(await backend.list(), []);
  equal((await e.list()).bans.length, 0);
});

Deno.test("reload() lifts every ban of a removed jail, in batches, and keeps the others", async () => {
  const onlySsh = parseConfig(
    `[jails.ssh]
filter = "sshd"
logpath = "/var/log/auth.log"
maxretry = 2
`,
    "engine_test.toml",
  );
  const { e, backend } = await engine(4 * LIFT_BATCH, onlySsh);
  const n = LIFT_BATCH + 20;
  for (let i = 0; i < n; i++) await e.ban(`10.${i >> 8}.${i & 255}.2`, "mail");
  await e.ban("203.0.113.40", "ssh");
  equal((await backend.list()).length, n + 1);
  deepEqual(await e.reload(), { reloaded: true, jails: ["ssh"] });
  deepEqual((await backend.list()).map((b) => b.ip), ["203.0.113.40"]);
  deepEqual((await e.list()).bans.map((b) => [b.ip, b.jail]), [["203.0.113.40", "ssh"]]);
});

Deno.test("ignoreAdd() lifts the bans it covers from the firewall and keeps them off; ignoreDel() undoes it", async () => {
  const { e, backend, audit, tracker } = await engine();
  await e.ban("192.0.2.10", "ssh");
  await e.ban("192.0.2.11", "mail");
  await e.ban("198.51.100.1", "ssh");
  const added = await e.ignoreAdd("192.0.2.0/24");
  deepEqual(added, {
    ignore: { cidr: "192.0.2.0/24", jail: null },
    unbanned: [{ ip: "192.0.2.10", jail: "ssh" }, { ip: "192.0.2.11", jail: "mail" }],
  });
  deepEqual((await backend.list()).map((b) => b.ip), ["198.51.100.1"]);
  deepEqual(audit.filter((a) => a.event === "unban").map((a) => a.reason), [
    "address ignored by client",
    "address ignored by client",
  ]);
  equal(await codeOf(() => e.ban("192.0.2.10", "ssh")), "bad_request");
  equal(tracker.record(1, "192.0.2.99", null).kind, "ignored");
  // One jail only: the other keeps banning it.
  deepEqual((await e.ignoreAdd("198.51.100.1", "mail")).unbanned, []);
  deepEqual((await e.ignoreAdd("198.51.100.1", "ssh")).unbanned, [{
    ip: "198.51.100.1",
    jail: "ssh",
  }]);
  deepEqual(await e.ignoreList("mail"), {
    ignore: [
      { cidr: "192.0.2.0/24", jail: null, source: "runtime" },
      { cidr: "198.51.100.1", jail: "mail", source: "runtime" },
      { cidr: "127.0.0.0/8", jail: "mail", source: "config" },
      { cidr: "::1", jail: "mail", source: "config" },
    ],
  });
  equal((await e.ignoreList()).ignore.length, 3);
  equal(await codeOf(() => e.ignoreAdd("192.0.2.1/24")), "bad_request");
  equal(await codeOf(() => e.ignoreAdd("192.0.2.0/24", "nope")), "not_found");
  deepEqual(await e.ignoreDel("192.0.2.0/24"), { ignore: { cidr: "192.0.2.0/24", jail: null } });
  equal(await codeOf(() => e.ignoreDel("192.0.2.0/24")), "not_found");
  equal(await codeOf(() => e.ignoreDel("127.0.0.0/8", "mail")), "not_found", "the config's stay");
  deepEqual(await e.ban("192.0.2.10", "ssh"), { ip: "192.0.2.10", jail: "ssh", duration_s: 600 });
});

Deno.test("jailStop() lifts the jail's bans and stops its counting until jailStart() or a reload", async () => {
  const { e, backend, tracker } = await engine();
  await e.ban("203.0.113.1", "ssh");
  await e.ban("203.0.113.2", "ssh");
  await e.ban("203.0.113.1", "mail");
  deepEqual(await e.jailStop("ssh"), {
    jail: "ssh",
    stopped: true,
    unbanned: [{ ip: "203.0.113.1", jail: "ssh" }, { ip: "203.0.113.2", jail: "ssh" }],
  });
  deepEqual((await backend.list()).map((b) => b.ip), ["203.0.113.1"], "mail still bans it");
  equal(tracker.record(0, "198.51.100.8", null).kind, "ignored");
  equal(await codeOf(() => e.ban("198.51.100.8", "ssh")), "bad_request");
  equal((await e.statusJail("ssh")).stopped, true);
  deepEqual((await e.jails()).jails.map((j) => [j.name, j.stopped]), [["ssh", true], [
    "mail",
    false,
  ]]);
  deepEqual(await e.jailStart("ssh"), { jail: "ssh", stopped: false });
  equal(tracker.record(0, "198.51.100.8", null).kind, "counted");
  await e.jailStop("ssh");
  await e.reload();
  equal((await e.statusJail("ssh")).stopped, false, "a reload starts every jail");
  equal(await codeOf(() => e.jailStop("nope")), "not_found");
});

Deno.test("banned(), list(jail, ip) and unban(ips) answer for several addresses; one bad address lifts nothing", async () => {
  const { e, backend } = await engine();
  await e.ban("203.0.113.5", "ssh");
  await e.ban("203.0.113.5", "mail");
  await e.ban("203.0.113.6", "mail");
  deepEqual(await e.banned(["203.0.113.5", "203.0.113.6", "::ffff:203.0.113.7"]), {
    banned: [
      { ip: "203.0.113.5", jails: ["ssh", "mail"] },
      { ip: "203.0.113.6", jails: ["mail"] },
      { ip: "203.0.113.7", jails: [] },
    ],
  });
  deepEqual((await e.list(undefined, "203.0.113.5")).bans.map((b) => b.jail), ["ssh", "mail"]);
  deepEqual((await e.list("mail", "203.0.113.5")).bans.map((b) => b.jail), ["mail"]);
  deepEqual((await e.list(undefined, "203.0.113.9")).bans, []);
  equal(await codeOf(() => e.list(undefined, "not-an-ip")), "bad_request");
  equal(await codeOf(() => e.unban(["203.0.113.5", "nonsense"])), "bad_request");
  equal((await backend.list()).length, 2, "nothing was lifted");
  deepEqual(await e.unban(["203.0.113.5", "203.0.113.8"], "mail"), {
    unbanned: [{ ip: "203.0.113.5", jail: "mail" }],
    not_banned: ["203.0.113.8"],
  });
  equal(await codeOf(() => e.unban(["203.0.113.8", "203.0.113.9"])), "not_found");
  deepEqual((await e.unban(["203.0.113.5", "203.0.113.6"])).unbanned.length, 2);
  deepEqual(await backend.list(), []);
});

Deno.test("reload() drops the metric series of a removed jail and exposes an added one", async () => {
  const onlySsh = parseConfig(
    `[jails.ssh]\nfilter = "sshd"\nlogpath = "/var/log/auth.log"\n`,
    "engine_test.toml",
  );
  const metrics = createDaemonMetrics();
  for (const j of CONFIG.jails) metrics.addJail(j.name);
  const { e } = await engine(1024, onlySsh, metrics);
  await e.ban("203.0.113.30", "mail");
  equal(metrics.render().includes('jail="mail"'), true);
  await e.reload();
  const text = metrics.render();
  equal(text.includes('jail="mail"'), false, text);
  equal(text.includes('fail2zig_bans_total{jail="ssh"} 0'), true, text);
});

Deno.test("Engine history asks the audit reader for the canonical address, at most 1000 records", async () => {
  const asked: [string, number][] = [];
  const rec = { seq: 4, ts: "2026-11-25T12:00:00.000Z", event: "ban", ip: "2001:db8::1" };
  const { e } = await engine(1024, CONFIG, undefined, {
    history: (ip, max) => {
      asked.push([ip, max]);
      return Promise.resolve({ records: [rec], total: max === 1 ? 3 : 1 });
    },
  });
  deepEqual(await e.history("2001:DB8:0::1"), { ip: "2001:db8::1", records: [rec] });
  deepEqual(await e.history("2001:db8::1", 1), {
    ip: "2001:db8::1",
    records: [rec],
    truncated: true,
    total: 3,
  });
  deepEqual(asked, [["2001:db8::1", 1000], ["2001:db8::1", 1]]);
  equal(await codeOf(() => e.history("2001:db8::zz")), "bad_request");
  const { e: noLog } = await engine();
  equal(await codeOf(() => noLog.history("192.0.2.1")), "not_found", "audit_log disabled");
});

/** A Worker batch of `failures` (`[jail index, canonical address]`), times unknown. */
function batch(failures: readonly [number, string][]): BatchMessage {
  const n = failures.length;
  return {
    type: "batch",
    count: n,
    jails: Int32Array.from(failures.map(([j]) => j)),
    ips: failures.map(([, ip]) => ip).join("\n"),
    times: new Float64Array(n).fill(NaN),
    origin: "/var/log/auth.log",
    offsets: new Float64Array(n).fill(-1),
    lines: [],
    positions: [],
    sentAt: 0,
  };
}

const SELF_CONFIG = parseConfig(
  `[jails.ssh]
filter = "sshd"
logpath = "/var/log/auth.log"
maxretry = 2
ipv6_prefix = 64
[jails.open]
filter = "sshd"
logpath = "/var/log/auth.log"
maxretry = 2
ignoreself = false
`,
  "engine_self_test.toml",
);

Deno.test("ignoreself: failures from the host's own addresses never ban; reload reads them again", async () => {
  let own = ["192.0.2.10", "2001:db8:5:6::1"];
  const next = parseConfig(
    `[jails.ssh]\nfilter = "sshd"\nlogpath = "/a"\nmaxretry = 2\n`,
    "engine_self_test.toml",
  );
  const { e, backend, audit } = await engine(1024, next, undefined, {
    config: SELF_CONFIG,
    selfAddresses: () => own,
  });
  const twice = (j: number, ip: string): [number, string][] => [[j, ip], [j, ip]];
  await e.applyBatch(
    batch([
      ...twice(0, "192.0.2.10"),
      ...twice(0, "2001:db8:5:6::99"), // the host's own /64 in a jail banning by /64
      ...twice(0, "198.51.100.1"),
      ...twice(1, "192.0.2.10"), // ignoreself = false
    ]),
    0,
  );
  deepEqual(audit.map((a) => `${a.jail} ${a.ip}`), ["ssh 198.51.100.1", "open 192.0.2.10"]);
  equal(await codeOf(() => e.ban("192.0.2.10", "ssh")), "bad_request", "not by hand either");
  equal(await codeOf(() => e.ban("192.0.2.10", "open")), "none");

  own = ["192.0.2.20"]; // the host's address changed; a reload reads it again
  await e.reload();
  const before = audit.length;
  await e.applyBatch(batch([...twice(0, "192.0.2.20"), ...twice(0, "192.0.2.10")]), 0);
  deepEqual(audit.slice(before).map((a) => `${a.event} ${a.jail} ${a.ip}`), [
    "ban ssh 192.0.2.10",
  ]);
  ok((await backend.list()).every((b) => b.ip !== "192.0.2.20"));
});

Deno.test("hostAddresses takes every interface address, canonical, zone dropped, plus loopback", () => {
  deepEqual(
    hostAddresses([
      { address: "10.1.2.3" },
      { address: "fe80::0001%eth0" },
      { address: "127.0.0.1" },
      { address: "not an address" },
    ]),
    ["127.0.0.1", "::1", "10.1.2.3", "fe80::1"],
  );
  ok(hostAddresses().includes("::1"), "the real interfaces read (sys permission)");
});

Deno.test("Engine reports degraded as its callback says; a refused ban counts as done only when the guard repaired the firewall", async () => {
  const clock = new ManualClock(Date.parse("2026-11-25T12:00:00Z"));
  const backend = new MemoryBackend({ now: () => clock.now() });
  await backend.init();
  let degraded = false;
  const audit: AuditEvent[] = [];
  const tracker = new Tracker({ jails: CONFIG.jails, capacity: 64, clock });
  const e: Engine = new Engine({
    config: CONFIG,
    tracker,
    sources: new SourceSet(),
    backend,
    degraded: () => degraded || guard.degraded,
    onFirewallFailure: () => guard.recover(),
    clock,
    logger: new Logger("error", []),
    audit: (ev) => audit.push(ev),
    changed: () => {},
    reloadConfig: () => Promise.resolve(CONFIG),
    version: "test",
  });
  const guard = new FirewallGuard({ backend, activeBans: () => e.activeEntries() });
  equal((await e.status()).degraded, false);
  degraded = true;
  equal((await e.status()).degraded, true);
  degraded = false;
  await e.ban("203.0.113.8", "ssh", 3600);
  backend.flush(); // nft flush ruleset
  await e.ban("203.0.113.9", "ssh", 3600);
  deepEqual(
    (await backend.list()).map((b) => [b.ip, b.timeoutMs]).sort(),
    [["203.0.113.8", 3_600_000], ["203.0.113.9", 3_600_000]],
    "the repair put back the older ban and the refused one",
  );
  equal(
    audit.filter((a) => a.event === "ban").length,
    2,
    "the refused ban is audited once in force",
  );
  backend.flush();
  backend.refuseInit(new FirewallError("memory", "init", "no", 1));
  equal(await codeOf(() => e.ban("203.0.113.10", "ssh", 3600)) !== "none", true);
  equal(audit.filter((a) => a.event === "ban").length, 2, "not in force: not audited");
  equal((await e.status()).degraded, true, "the guard's failing repair");
  await guard.stop();
});

Deno.test("status() says degraded while isDegraded() does (state saves failing)", async () => {
  const clock = new ManualClock();
  let failing = true;
  const e = new Engine({
    config: CONFIG,
    tracker: new Tracker({ jails: CONFIG.jails, capacity: 64, clock }),
    sources: new SourceSet(),
    backend: new MemoryBackend({ now: () => clock.now() }),
    degraded: false,
    isDegraded: () => failing,
    clock,
    logger: new Logger("error", []),
    audit: () => {},
    changed: () => {},
    reloadConfig: () => Promise.resolve(CONFIG),
    version: "test",
  });
  equal((await e.status()).degraded, true);
  failing = false;
  equal((await e.status()).degraded, false);
});

Deno.test("a ban the full table handed off stays in the firewall, a repair re-adds it, unban lifts it", async () => {
  const { e, backend, tracker } = await engine(16); // 16 entries, 2 hand-off slots
  for (let i = 0; i <= 17; i++) await e.ban(`203.0.113.${i}`, "ssh", 3600 + i);
  equal(tracker.stats().bansHandedOff, 2);
  const kernel = async () => (await backend.list()).map((b) => b.ip).sort();
  equal((await kernel()).length, 18, "the handed-off bans are still enforced");
  deepEqual(tracker.bansOf("203.0.113.0"), [], "the table no longer holds them");
  equal((await e.list()).bans.length, 16);
  // a flushed ruleset: the repair re-adds the table's bans and the handed-off ones it knows
  const repaired: number[] = [];
  const guard = new FirewallGuard({
    backend,
    activeBans: () => e.activeEntries(),
    queue: e,
    onRepaired: (r) => repaired.push(r.bans),
  });
  const before = await kernel();
  backend.flush();
  await guard.tick();
  deepEqual(repaired, [18]);
  deepEqual(await kernel(), before);
  // unban lifts a handed-off ban from the firewall and says so (the mail ban hands off .2 into
  // the slot .0 had, so .1 is the older one the list still holds)
  await e.ban("203.0.113.5", "mail", 3600);
  deepEqual(await e.unban(["203.0.113.1", "203.0.113.5"], "ssh"), {
    unbanned: [{ ip: "203.0.113.1", jail: "ssh" }, { ip: "203.0.113.5", jail: "ssh" }],
    not_banned: [],
  });
  equal((await kernel()).includes("203.0.113.1"), false, "lifted from the firewall");
  equal((await kernel()).includes("203.0.113.5"), true, "still banned in mail");
  // and a repair does not bring it back
  backend.flush();
  await guard.tick();
  equal((await kernel()).includes("203.0.113.1"), false);
  // a hand-off beyond the list's slots (.0 after the flush: the repair could not know it) is only
  // the kernel's: unban removes it all the same
  const only = (await kernel()).filter((ip) =>
    tracker.bansOf(ip).length === 0 && ![...tracker.eachHandedOff()].some((b) => b.ip === ip)
  );
  deepEqual(only, []);
  // (the unbans freed an entry and .1's slot: .30 takes the entry, .31 and .32 hand off .3 and
  // .4 into both slots, so .2 is only the kernel's)
  for (const i of [30, 31, 32]) await e.ban(`203.0.113.${i}`, "ssh", 7200);
  const gone = "203.0.113.2";
  equal((await kernel()).includes(gone), true);
  let message = "";
  try {
    await e.unban(gone);
  } catch (err) {
    message = (err as Error).message;
  }
  equal(message.includes("removed from the firewall all the same"), true, message);
  equal((await kernel()).includes(gone), false);
  guard.stop();
});

Deno.test("Engine bans into each jail's port scope; an unban lifts only its own scope's entry", async () => {
  const config = parseConfig(
    `[jails.ssh]
filter = "sshd"
logpath = "/var/log/auth.log"
port = ["ssh", 2222]
[jails.ssh2]
filter = "sshd"
logpath = "/var/log/auth2.log"
port = [2222, "ssh"]
[jails.mail]
filter = "postfix"
logpath = "/var/log/mail.log"
`,
    "scoped.toml",
  );
  const { e, backend } = await engine(1024, config, undefined, { config });
  const listed = async () =>
    (await backend.list()).map((b) => `${b.scope?.id ?? "-"} ${b.ip}`).sort();
  await e.ban("203.0.113.7", "ssh", 3600);
  await e.ban("203.0.113.7", "ssh2", 3600);
  await e.ban("203.0.113.7", "mail", 3600);
  deepEqual(await listed(), ["- 203.0.113.7", "tcp.22_2222 203.0.113.7"], "ssh and ssh2 share");
  await e.unban("203.0.113.7", "mail");
  deepEqual(await listed(), ["tcp.22_2222 203.0.113.7"], "mail's all-port entry is gone");
  await e.unban("203.0.113.7", "ssh");
  deepEqual(await listed(), ["tcp.22_2222 203.0.113.7"], "ssh2 still bans it on its ports");
  await e.unban("203.0.113.7", "ssh2");
  deepEqual(await listed(), []);
  equal((await e.statusJail("ssh")).ports, "tcp 22,2222");
  equal((await e.statusJail("mail")).ports, "all");
});

Deno.test("reload() moves the bans of a jail whose port changed to the new scope", async () => {
  const text = (port: string) =>
    `[jails.ssh]\nfilter = "sshd"\nlogpath = "/var/log/auth.log"\n${port}`;
  const before = parseConfig(text('port = "ssh"\n'), "a.toml");
  const after = parseConfig(text("port = 2222\n"), "b.toml");
  const { e, backend } = await engine(1024, after, undefined, { config: before });
  await e.ban("203.0.113.7", "ssh", 3600);
  deepEqual((await backend.list()).map((b) => b.scope?.id), ["tcp.22"]);
  await e.reload();
  await e.settle();
  deepEqual((await backend.list()).map((b) => `${b.scope?.id} ${b.ip}`), ["tcp.2222 203.0.113.7"]);
  equal((await e.statusJail("ssh")).ports, "tcp 2222");
});

Deno.test("reload() removes the scopes no jail uses any more and keeps the bans of the others", async () => {
  const jail = (name: string, port: string) =>
    `[jails.${name}]\nfilter = "sshd"\nlogpath = "/var/log/${name}.log"\nport = ${port}\n`;
  const before = parseConfig(jail("ssh", '"ssh"') + jail("web", "80"), "a.toml");
  const after = parseConfig(jail("ssh", '"ssh"') + jail("alt", "8080"), "b.toml");
  const { e, backend } = await engine(1024, after, undefined, { config: before });
  await e.ban("203.0.113.7", "ssh", 3600);
  await e.ban("203.0.113.8", "web", 3600);
  deepEqual(backend.scopeIds, ["tcp.22", "tcp.80"]);
  await e.reload();
  await e.settle();
  deepEqual(backend.scopeIds, ["tcp.22"], "tcp.80's sets are gone; tcp.8080 has no ban yet");
  deepEqual((await backend.list()).map((b) => `${b.scope?.id} ${b.ip}`), ["tcp.22 203.0.113.7"]);
});

Deno.test("Engine hands a jail's bans and unbans to its actions, after the firewall", async () => {
  const config = parseConfig(
    `[actions.note]
type = "exec"
on_ban = ["/usr/bin/logger", "{ip}"]
[jails.ssh]
filter = "sshd"
logpath = "/var/log/auth.log"
actions = ["note"]
[jails.mail]
filter = "postfix"
logpath = "/var/log/mail.log"
`,
    "actions.toml",
  );
  const seen: string[] = [];
  const applied = new Set<string>();
  const { e, backend } = await engine(1024, config, undefined, {
    config,
    actions: (names, ev) => {
      const when = applied.has(ev.ip) ? "in force" : "not in force";
      seen.push(
        `${names.join("+")} ${ev.kind} ${ev.ip} ${ev.jail} ${ev.durationMs} ${ev.origin} ${when}`,
      );
    },
  });
  const ban = backend.ban.bind(backend);
  backend.ban = async (entries) => {
    await ban(entries);
    for (const x of entries) applied.add(x.ip);
  };
  await e.ban("203.0.113.7", "ssh", 60);
  await e.ban("203.0.113.8", "mail", 60);
  await e.unban("203.0.113.7", "ssh");
  await e.settle();
  deepEqual(seen, [
    "note ban 203.0.113.7 ssh 60000 client in force",
    "note unban 203.0.113.7 ssh null client in force",
  ]);
});
