/**
 * The live daemon with a `source = "journald"` jail, reading real journal files written by
 * systemd-journal-remote: only the matched unit counts, the record's own time is the failure
 * time, entries appended after start are followed, and the cursor survives a restart.
 */
import { deepEqual, equal } from "node:assert/strict";
import { join } from "node:path";
import { appendJournal, type Entry } from "../src/sources/testdata/journal.ts";
import { makeConfig, privateGlobal, startDaemon } from "./_daemon.ts";

function entry(ip: string, i: number, unit = "ssh.service", ageS = 5): Entry {
  return {
    message: `Failed password for invalid user admin from ${ip} port ${40000 + i} ssh2`,
    timeUs: (Date.now() - ageS * 1000 + i) * 1000,
    unit,
    ident: "sshd",
    pid: 4000 + i,
  };
}

const bans = (out: Record<string, unknown>[]) =>
  out.filter((r) => r["event"] === "ban").map((r) => r["ip"] as string).sort();

Deno.test("daemon bans from journal records of the matched unit, follows new ones and resumes after restart", async () => {
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d, `journal_directory = "${join(d, "journal")}"\nsave_interval = "50ms"`)}
[jails.sshd-journal]
filter = "sshd"
source = "journald"
journal_match = ["_SYSTEMD_UNIT=ssh.service"]
read_from = "start"
maxretry = 3
findtime = "10m"
`
  );
  const jdir = join(dir, "journal");
  await Deno.mkdir(jdir);
  // Before start: an attacker (3 failures), the same text from another unit (ignored), and an
  // address whose failures are older than findtime (record time counts, not read time).
  await appendJournal(jdir, [
    ...[0, 1, 2].map((i) => entry("198.51.100.1", i)),
    ...[0, 1, 2].map((i) => entry("198.51.100.2", i, "other.service")),
    ...[0, 1, 2].map((i) => entry("198.51.100.3", i, "ssh.service", 3600)),
  ]);
  let daemon = await startDaemon(dir, config);
  try {
    await daemon.waitFor((r) => r["event"] === "ban" && r["ip"] === "198.51.100.1");
    // follow: appended after start
    await appendJournal(jdir, [0, 1, 2].map((i) => entry("198.51.100.4", i)));
    await daemon.waitFor((r) => r["event"] === "ban" && r["ip"] === "198.51.100.4", 15_000);
    await new Promise((r) => setTimeout(r, 300));
    deepEqual(bans(daemon.out), ["198.51.100.1", "198.51.100.4"]);
    const audit = daemon.err.find((r) =>
      r["fail2zig_event"] === "ban" && r["ip"] === "198.51.100.4"
    );
    equal(
      String(audit?.["origin"] ?? "").startsWith("journal:"),
      true,
      "the audit points at the journal cursor",
    );

    // restart: the cursor is resumed, nothing is counted twice; new records still ban
    equal(await daemon.stop(), 0);
    await appendJournal(jdir, [0, 1].map((i) => entry("198.51.100.5", i)));
    daemon = await startDaemon(dir, config);
    await appendJournal(jdir, [2].map((i) => entry("198.51.100.5", i)));
    await daemon.waitFor((r) => r["event"] === "ban" && r["ip"] === "198.51.100.5", 15_000);
    await new Promise((r) => setTimeout(r, 300));
    // the restored bans are re-added at start (1 and 4), then 5; no second failure-ban of 1 or 4
    deepEqual(bans(daemon.out), ["198.51.100.1", "198.51.100.4", "198.51.100.5"]);
    equal(
      daemon.err.filter((r) => r["fail2zig_event"] === "ban").length,
      1,
      "one new ban after restart",
    );
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
