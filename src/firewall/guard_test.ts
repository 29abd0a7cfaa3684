import { deepEqual, equal, match, ok } from "node:assert/strict";
import { FirewallError } from "./backend.ts";
import type { BanEntry, FirewallBackend } from "./backend.ts";
import {
  FirewallGuard,
  GUARD_INTERVAL_MS,
  GUARD_MAX_BACKOFF_MS,
  type RepairReport,
} from "./guard.ts";
import { MemoryBackend } from "./memory.ts";

/** A MemoryBackend under a manual clock, a guard over it, and the active bans it guards. */
async function setup(bans: BanEntry[], intervalMs = GUARD_INTERVAL_MS) {
  let now = Date.parse("2026-12-04T02:00:00Z");
  const clock = { now: () => now, advance: (ms: number) => now += ms };
  const backend = new MemoryBackend({ now: clock.now });
  await backend.init();
  await backend.ban(bans);
  const active = new Map(bans.map((b) => [`${b.ip}/${b.prefix}`, b]));
  const repaired: RepairReport[] = [];
  const failed: string[] = [];
  const degraded: boolean[] = [];
  const guard = new FirewallGuard({
    backend,
    activeBans: () => active.values(),
    intervalMs,
    now: clock.now,
    onRepaired: (r) => repaired.push(r),
    onRepairFailed: (problem, error) => failed.push(`${problem}: ${error}`),
    onDegraded: (d) => degraded.push(d),
  });
  return { clock, backend, active, guard, repaired, failed, degraded };
}

const BANS: BanEntry[] = [
  { ip: "203.0.113.5", prefix: 32, timeoutMs: 600_000, jail: "sshd" },
  { ip: "203.0.113.6", prefix: 32, timeoutMs: null, jail: "nginx" },
  { ip: "2001:db8:1::", prefix: 64, timeoutMs: 600_000, jail: "sshd" },
];

/** `backend` with some methods replaced (the others delegate to it). */
function override(backend: FirewallBackend, with_: Partial<FirewallBackend>): FirewallBackend {
  return {
    name: backend.name,
    init: () => backend.init(),
    ban: (e) => backend.ban(e),
    unban: (e) => backend.unban(e),
    list: () => backend.list(),
    retainScopes: (s) => backend.retainScopes(s),
    check: () => backend.check(),
    close: () => backend.close(),
    ...with_,
  };
}

const keys = (l: BanEntry[]) => l.map((b) => `${b.ip}/${b.prefix}`).sort();

Deno.test("FirewallGuard leaves a healthy firewall alone", async () => {
  const { backend, guard, repaired, failed } = await setup(BANS);
  for (let i = 0; i < 3; i++) await guard.tick();
  deepEqual([repaired.length, failed.length, guard.repairs, guard.degraded], [0, 0, 0, false]);
  deepEqual(keys(await backend.list()), keys(BANS));
});

Deno.test("FirewallGuard re-installs a flushed scaffold and re-adds every active ban with its remaining time", async () => {
  const { clock, backend, guard, repaired } = await setup(BANS);
  clock.advance(60_000);
  backend.flush(); // nft flush ruleset
  equal(backend.installed, false);
  await guard.tick();
  equal(backend.installed, true);
  const got = await backend.list();
  deepEqual(keys(got), keys(BANS));
  // The callback's remaining timeouts are what goes back in (here the originals: the test's view).
  deepEqual(got.map((b) => b.timeoutMs).sort(), [600_000, 600_000, null].sort());
  equal(repaired.length, 1);
  match(repaired[0]!.problem, /scaffold is missing/);
  equal(repaired[0]!.bans, 3);
  equal(guard.repairs, 1);
  await guard.tick();
  equal(guard.repairs, 1, "nothing more to repair");
});

Deno.test("FirewallGuard repairs sets emptied under an intact scaffold on the second empty reading, without init()", async () => {
  const { backend, active } = await setup(BANS);
  let inits = 0;
  const counted = override(backend, { init: () => (inits++, backend.init()) });
  const repaired: RepairReport[] = [];
  const guard = new FirewallGuard({
    backend: counted,
    activeBans: () => active.values(),
    onRepaired: (r) => repaired.push(r),
  });
  backend.flushEntries(); // ipset flush
  await guard.tick();
  equal(repaired.length, 0, "one empty reading may be a ban in flight");
  await guard.tick();
  equal(repaired.length, 1);
  match(repaired[0]!.problem, /empty while bans are active/);
  deepEqual(keys(await backend.list()), keys(BANS));
  equal(inits, 0, "the check found the scaffold intact: only the bans go back");
  backend.flush();
  await guard.tick();
  equal(inits, 1, "a missing scaffold is re-installed");
  deepEqual(keys(await backend.list()), keys(BANS));
});

Deno.test("FirewallGuard re-adds the bans of one set emptied while the other still holds its bans", async () => {
  const { backend, active, guard, repaired } = await setup(BANS);
  // `nft flush set inet fail2zig banned_ipv6`: the IPv4 bans stay, the IPv6 one is gone.
  await backend.unban(BANS.filter((b) => b.ip.includes(":")));
  await guard.tick();
  equal(repaired.length, 0, "one reading may be a ban in flight");
  await guard.tick();
  equal(repaired.length, 1);
  match(repaired[0]!.problem, /IPv6 set is empty while bans of it are active/);
  deepEqual(keys(await backend.list()), keys(BANS));
  // The same for the IPv4 set, and nothing while every set holds its bans.
  await backend.unban(BANS.filter((b) => !b.ip.includes(":")));
  await guard.tick();
  await guard.tick();
  equal(repaired.length, 2);
  match(repaired[1]!.problem, /IPv4 set is empty/);
  await guard.tick();
  equal(repaired.length, 2);
  equal(active.size, BANS.length);
});

Deno.test("FirewallGuard re-adds one ban deleted from a set that still holds others", async () => {
  const { backend, active, guard, repaired } = await setup(BANS);
  // `nft delete element inet fail2zig banned_ipv4 { 203.0.113.5 }`: both sets still hold bans.
  await backend.unban([BANS[0]!]);
  await guard.tick();
  equal(repaired.length, 0, "one reading may be a ban in flight");
  await guard.tick();
  equal(repaired.length, 1);
  match(repaired[0]!.problem, /^1 of 3 ban entries are missing from the sets$/);
  deepEqual(keys(await backend.list()), keys(BANS));
  await guard.tick();
  await guard.tick();
  equal(repaired.length, 1);
  equal(active.size, BANS.length);
});

Deno.test("FirewallGuard counts no entry as missing while bans are queued, shared or covered", async () => {
  let queued = true;
  const backend = new MemoryBackend();
  await backend.init();
  const inKernel: BanEntry[] = [BANS[0]!, BANS[1]!, BANS[2]!];
  await backend.ban(inKernel);
  const active: BanEntry[] = [
    ...inKernel,
    // Two jails banning one address share its entry; a /128 inside a banned /64 takes none
    // (the interval set keeps the /64); a ban about to expire proves nothing.
    { ...BANS[0]!, jail: "recidive" },
    { ip: "2001:db8:1::7", prefix: 128, timeoutMs: 600_000, jail: "nginx" },
    { ip: "198.51.100.9", prefix: 32, timeoutMs: 900, jail: "sshd" },
    // Queued: decided, not yet in the kernel.
    { ip: "198.51.100.10", prefix: 32, timeoutMs: 600_000, jail: "sshd" },
  ];
  const repaired: RepairReport[] = [];
  const guard = new FirewallGuard({
    backend,
    activeBans: () => active,
    queue: { reading: () => (e) => queued && e.ip === "198.51.100.10" },
    onRepaired: (r) => repaired.push(r),
  });
  for (let i = 0; i < 3; i++) await guard.tick();
  equal(repaired.length, 0, "queued");
  active.pop();
  queued = false;
  for (let i = 0; i < 3; i++) await guard.tick();
  equal(repaired.length, 0, "shared, covered or expiring");
  // The same view with the shared entry deleted by hand: one is missing.
  await backend.unban([BANS[0]!]);
  for (let i = 0; i < 2; i++) await guard.tick();
  equal(repaired.length, 1);
  match(repaired[0]!.problem, /^1 of 3 ban entries are missing/);
});

Deno.test("FirewallGuard does not count empty sets as a flush when every active ban is about to expire", async () => {
  const soon: BanEntry[] = [{ ip: "198.51.100.1", prefix: 32, timeoutMs: 1000, jail: "sshd" }];
  const { backend, guard, repaired } = await setup(soon);
  backend.flushEntries();
  for (let i = 0; i < 3; i++) await guard.tick();
  equal(repaired.length, 0);
});

Deno.test("FirewallGuard reports degraded while the repair fails, backs off, and clears it when a repair succeeds", async () => {
  const { clock, backend, guard, repaired, failed, degraded } = await setup(BANS);
  backend.flush();
  backend.refuseInit(new FirewallError("memory", "init", "kernel says no", 1));
  await guard.tick();
  equal(guard.degraded, true);
  deepEqual(degraded, [true]);
  equal(failed.length, 1);
  match(failed[0]!, /scaffold is missing: memory: init: kernel says no/);
  await guard.tick();
  equal(failed.length, 1, "no new attempt before the backoff has passed");
  let attempts = 1;
  for (let wait = GUARD_INTERVAL_MS; wait <= GUARD_MAX_BACKOFF_MS * 2; wait *= 2) {
    clock.advance(Math.min(wait, GUARD_MAX_BACKOFF_MS));
    await guard.tick();
    equal(failed.length, ++attempts, `an attempt after ${wait} ms`);
  }
  deepEqual(degraded, [true], "reported once");
  backend.refuseInit(null);
  clock.advance(GUARD_MAX_BACKOFF_MS);
  await guard.tick();
  equal(guard.degraded, false);
  deepEqual(degraded, [true, false]);
  equal(repaired.length, 1);
  deepEqual(keys(await backend.list()), keys(BANS));
});

Deno.test("FirewallGuard checks at once after a failed operation and stop() leaves no timer", async () => {
  const { backend, guard, repaired } = await setup(BANS, 3_600_000);
  guard.start();
  equal(await guard.recover(), false, "nothing to repair: the refusal had another cause");
  backend.flush();
  const recovered = guard.recover(); // what the engine calls when the kernel refused a ban
  await guard.stop(); // waits for the running check; the hour-long timer is cleared
  equal(await recovered, true);
  equal(repaired.length, 1);
  deepEqual(keys(await backend.list()), keys(BANS));
  backend.flush();
  equal(await guard.recover(), false);
  await guard.tick();
  equal(repaired.length, 1, "stopped: notifications and ticks do nothing");
  equal(backend.installed, false, "a stopped guard never re-installs (the backend may be closing)");
});

Deno.test("FirewallGuard lifts again a ban that was lifted while the repair re-added it", async () => {
  const { backend, guard, active } = await setup(BANS);
  // The engine lifts 203.0.113.5 (tracker first, then the kernel) while the repair's ban() runs.
  const wrapped = override(backend, {
    ban: async (entries) => {
      active.delete("203.0.113.5/32");
      await backend.unban([BANS[0]!]);
      await backend.ban(entries);
    },
  });
  const g = new FirewallGuard({ backend: wrapped, activeBans: () => active.values() });
  backend.flush();
  await g.tick();
  deepEqual(keys(await backend.list()), keys(BANS.slice(1)));
  equal(g.repairs, 1);
  await guard.stop();
});

Deno.test("FirewallGuard counts a repair as failed when the check still fails after it", async () => {
  const backend = new MemoryBackend();
  await backend.init();
  let checks = 0;
  const broken = override(backend, {
    check: () => {
      checks++;
      return Promise.resolve({ ok: false, problem: "a rule is missing" });
    },
  });
  const failed: string[] = [];
  const g = new FirewallGuard({
    backend: broken,
    activeBans: () => BANS,
    onRepairFailed: (_p, e) => failed.push(e),
  });
  await g.tick();
  equal(checks, 2, "the check before and the check after the repair");
  equal(g.degraded, true);
  match(failed[0]!, /still broken after re-installing: a rule is missing/);
  ok(g.repairs === 0);
});
