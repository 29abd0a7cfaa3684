import { deepEqual, equal } from "node:assert/strict";
import { parseConfig } from "../config/mod.ts";
import { MemoryBackend } from "../firewall/mod.ts";
import { Logger } from "../log/mod.ts";
import { ManualClock, Tracker } from "../tracker/mod.ts";
import { type AuditEvent, Engine } from "./engine.ts";

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

async function engine() {
  const clock = new ManualClock(Date.parse("2026-11-25T12:00:00Z"));
  const backend = new MemoryBackend({ now: () => clock.now() });
  await backend.init();
  const audit: AuditEvent[] = [];
  const e = new Engine({
    config: CONFIG,
    tracker: new Tracker({ jails: CONFIG.jails, capacity: 1024, clock }),
    backend,
    degraded: false,
    clock,
    logger: new Logger("error", []),
    audit: (ev) => audit.push(ev),
    changed: () => {},
    reloadConfig: () => Promise.resolve(CONFIG),
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
