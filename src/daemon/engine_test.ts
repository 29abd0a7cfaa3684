import { deepEqual, equal } from "node:assert/strict";
import { parseConfig } from "../config/mod.ts";
import { MemoryBackend } from "../firewall/mod.ts";
import { Logger } from "../log/mod.ts";
import { ManualClock, Tracker } from "../tracker/mod.ts";
import { type AuditEvent, Engine, LIFT_BATCH, MAX_LIST_BANS } from "./engine.ts";

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

async function engine(capacity = 1024, reloadTo = CONFIG) {
  const clock = new ManualClock(Date.parse("2026-11-25T12:00:00Z"));
  const backend = new MemoryBackend({ now: () => clock.now() });
  await backend.init();
  const audit: AuditEvent[] = [];
  const e = new Engine({
    config: CONFIG,
    tracker: new Tracker({ jails: CONFIG.jails, capacity, clock }),
    backend,
    degraded: false,
    clock,
    logger: new Logger("error", []),
    audit: (ev) => audit.push(ev),
    changed: () => {},
    reloadConfig: () => Promise.resolve(reloadTo),
    version: "test",
  });
  return { e, backend, audit, clock };
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
