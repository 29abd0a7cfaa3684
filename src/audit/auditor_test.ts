import { deepEqual, equal, ok } from "node:assert/strict";
import { bindDatagramListener } from "../ffi/unix.ts";
import { decodeJournalEntry, JournaldSink, Logger } from "../log/mod.ts";
import { AuditLog, Auditor, verifyAuditLog } from "./mod.ts";

const LINE = "Nov 25 12:00:01 host sshd[1]: Failed password for root from 192.0.2.1 port 22\n" +
  "INJECTED=1";

async function recordOnce(level: "info" | "debug") {
  const dir = await Deno.makeTempDir({ prefix: "f2z-auditor-" });
  const listener = bindDatagramListener(`${dir}/journal.socket`);
  const sink = new JournaldSink({ socketPath: listener.path });
  const log = AuditLog.open(`${dir}/audit.log`);
  try {
    const auditor = new Auditor({ logger: new Logger(level, [sink]), log });
    const rec = auditor.record({
      event: "ban",
      ip: "192.0.2.1",
      jail: "sshd",
      durationS: 600,
      reason: "maxretry 5 within 600s",
      origin: "/var/log/auth.log:4096",
      line: LINE,
    });
    const dgram = await listener.receive(2000);
    ok(dgram !== null, "journald got nothing");
    const fields = Object.fromEntries(decodeJournalEntry(dgram!));
    const chain = await verifyAuditLog(`${dir}/audit.log`);
    const stored = await Deno.readTextFile(`${dir}/audit.log`);
    return { fields, rec, chain, stored };
  } finally {
    log.close();
    sink.close();
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("every ban gives a journald record with address, jail, duration, reason, origin and chain position", async () => {
  const { fields, rec, chain, stored } = await recordOnce("info");
  ok(rec !== null);
  deepEqual(fields, {
    MESSAGE: "ban 192.0.2.1 in sshd for 600s: maxretry 5 within 600s",
    PRIORITY: "6",
    SYSLOG_IDENTIFIER: "fail2zig",
    FAIL2ZIG_EVENT: "ban",
    IP: "192.0.2.1",
    JAIL: "sshd",
    DURATION: "600",
    REASON: "maxretry 5 within 600s",
    ORIGIN: "/var/log/auth.log:4096",
    LINE: `[redacted: ${LINE.length} chars]`, // info level: no log content
    AUDIT_SEQ: "0",
    AUDIT_HASH: rec!.hash,
  });
  equal(chain.ok && chain.lastHash, rec!.hash);
  ok(!stored.includes("Failed password"), "log content must never reach the audit file");
});

Deno.test("at debug level the journald record shows the triggering line, multi-line safe", async () => {
  const { fields } = await recordOnce("debug");
  equal(fields.LINE, LINE);
  equal(fields.INJECTED, undefined); // the newline in the content did not start a field
});

Deno.test("an audit file that cannot be written does not stop the record from reaching the log", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-auditor-" });
  const listener = bindDatagramListener(`${dir}/journal.socket`);
  const sink = new JournaldSink({ socketPath: listener.path });
  const log = AuditLog.open(`${dir}/audit.log`);
  try {
    log.close(); // every append now fails
    const auditor = new Auditor({ logger: new Logger("info", [sink]), log });
    equal(
      auditor.record({ event: "unban", ip: "192.0.2.5", jail: "sshd", reason: "expired" }),
      null,
    );
    const audit = Object.fromEntries(decodeJournalEntry((await listener.receive(2000))!));
    equal(audit.FAIL2ZIG_EVENT, "unban");
    ok(audit.AUDIT_ERROR && audit.AUDIT_ERROR.length > 0);
    const err = Object.fromEntries(decodeJournalEntry((await listener.receive(2000))!));
    equal(err.PRIORITY, "3");
  } finally {
    sink.close();
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the Auditor warns when the audit file was deleted under it, and when a start found records lost", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-auditor-" });
  const seen: string[] = [];
  const logger = new Logger("info", [{ write: (level, msg) => seen.push(`${level} ${msg}`) }]);
  try {
    const path = `${dir}/audit.log`;
    const log = AuditLog.open(path);
    const auditor = new Auditor({ logger, log });
    auditor.record({ event: "ban", ip: "192.0.2.1", jail: "sshd" });
    await Deno.remove(path);
    auditor.record({ event: "ban", ip: "192.0.2.2", jail: "sshd" });
    const head = log.head;
    log.close();
    ok(seen.includes("warn audit log deleted, moved or replaced; reopened"), seen.join("\n"));
    await Deno.remove(path);
    const again = AuditLog.open(path, { saved: head });
    new Auditor({ logger, log: again });
    again.close();
    ok(seen.includes("warn audit log: records lost"), seen.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
