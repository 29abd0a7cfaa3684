import { deepEqual, equal, rejects } from "node:assert/strict";
import { AuditLog, readAuditHistory } from "./mod.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "f2z-history-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("history reads the rotated segments oldest first and keeps the newest records", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/audit.log`;
    // ~200-byte records, rotating every 2 KiB: the 40 records span several segments
    const log = AuditLog.open(path, { maxBytes: 2048 });
    for (let i = 0; i < 20; i++) {
      log.append({ event: "ban", ip: "192.0.2.7", jail: "sshd", durationS: i + 1, reason: "x" });
      log.append({ event: "ban", ip: "192.0.2.70", jail: "sshd", durationS: 1, reason: "x" });
    }
    log.close();
    equal((await Deno.stat(`${path}.3`)).isFile, true, "the log rotated");

    const all = await readAuditHistory(path, "192.0.2.7", 1000);
    equal(all.total, 20, "192.0.2.70 is another address");
    deepEqual(all.records.map((r) => r.duration_s), Array.from({ length: 20 }, (_, i) => i + 1));
    equal(all.records.every((r) => r.ip === "192.0.2.7" && !("hash" in r)), true);
    equal(all.segments > 3, true);

    const cut = await readAuditHistory(path, "192.0.2.7", 3);
    equal(cut.total, 20);
    deepEqual(cut.records.map((r) => r.duration_s), [18, 19, 20], "the newest, newest last");
  });
});

Deno.test("history matches canonical forms and prefix bans covering the address", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/audit.log`;
    const log = AuditLog.open(path);
    log.append({ event: "ban", ip: "2001:db8:1:2::/64", jail: "web", durationS: 60 });
    log.append({ event: "ban", ip: "2001:db8:1:3::/64", jail: "web", durationS: 60 });
    log.append({ event: "ban", ip: "2001:db8:1:2::5", jail: "sshd", durationS: 60 });
    log.append({ event: "ban", ip: "198.51.100.0/24", jail: "web", durationS: 60 });
    log.append({
      event: "unban",
      ip: "203.0.113.1",
      reason: 'quoted "ip":"2001:db8:1:2::5" in text',
    });
    log.close();
    const h = await readAuditHistory(path, "2001:0db8:1:2:0:0:0:5", 10);
    deepEqual(h.records.map((r) => r.ip), ["2001:db8:1:2::/64", "2001:db8:1:2::5"]);
    deepEqual(
      (await readAuditHistory(path, "198.51.100.9", 10)).records.map((r) => r.jail),
      ["web"],
    );
  });
});

Deno.test("history skips an incomplete last line and damaged lines; no log is no records", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/audit.log`;
    equal((await readAuditHistory(path, "192.0.2.1", 10)).segments, 0);
    const log = AuditLog.open(path);
    log.append({ event: "ban", ip: "192.0.2.1", jail: "sshd", durationS: 60 });
    log.close();
    await Deno.writeTextFile(path, '{"seq":1,"ip":"192.0.2.1", broken\n{"seq":2,"ip":"192.0.2.1"', {
      append: true,
    });
    const h = await readAuditHistory(path, "192.0.2.1", 10);
    deepEqual(h.records.map((r) => r.seq), [0]);
    await rejects(() => readAuditHistory(path, "not-an-ip", 10), TypeError);
  });
});

Deno.test("history skips two records run together, which JSON.parse reads as the second's address (found by the audit fuzz target)", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/audit.log`;
    const log = AuditLog.open(path);
    log.append({ event: "ban", ip: "192.0.2.7", jail: "sshd", durationS: 60 });
    log.append({ event: "ban", ip: "2001:db8::/32", jail: "sshd", durationS: 60 });
    log.close();
    const text = await Deno.readTextFile(path);
    // the newline between the records lost, and the first one's tail with it
    const [a, b] = text.split("\n") as [string, string];
    await Deno.writeTextFile(path, a.slice(0, a.indexOf(',"jail"')) + "," + b.slice(1) + "\n");
    const h = await readAuditHistory(path, "192.0.2.7", 10);
    equal(h.total, 0, "the merged line's record is of 2001:db8::/32, not of 192.0.2.7");
    equal(h.records.length, 0);
  });
});
