import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  appendAudit,
  AUDIT_SEGMENTS_KEPT,
  AuditLog,
  GAP_EVENT,
  GENESIS_HASH,
  SEGMENT_EVENT,
  verifyAuditLog,
} from "./mod.ts";

async function withLog(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "f2z-audit-" });
  try {
    await fn(`${dir}/audit.log`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes five ban/unban records and returns the file's lines. */
async function fiveRecords(path: string): Promise<string[]> {
  let t = Date.UTC(2026, 10, 25, 12, 0, 0);
  const log = AuditLog.open(path, { now: () => new Date(t += 1000) });
  try {
    for (let i = 1; i <= 4; i++) {
      log.append({
        event: "ban",
        ip: `192.0.2.${i}`,
        jail: "sshd",
        durationS: 600,
        reason: "maxretry 5 within 600s",
        origin: `/var/log/auth.log:${i * 1000}`,
      });
    }
    log.append({ event: "unban", ip: "192.0.2.1", jail: "sshd", reason: "expired" });
  } finally {
    log.close();
  }
  const text = await Deno.readTextFile(path);
  return text.slice(0, -1).split("\n");
}

async function rewrite(path: string, lines: string[]): Promise<void> {
  await Deno.writeTextFile(path, lines.map((l) => l + "\n").join(""));
}

Deno.test("AuditLog writes a chain from the genesis hash that verifyAuditLog accepts", async () => {
  await withLog(async (path) => {
    const lines = await fiveRecords(path);
    equal(lines.length, 5);
    const recs = lines.map((l) => JSON.parse(l));
    equal(recs[0].prev, GENESIS_HASH);
    deepEqual(recs.map((r) => r.seq), [0, 1, 2, 3, 4]);
    for (let i = 1; i < 5; i++) equal(recs[i].prev, recs[i - 1].hash);
    deepEqual(Object.keys(recs[0]), [
      "seq",
      "ts",
      "event",
      "ip",
      "jail",
      "duration_s",
      "reason",
      "origin",
      "prev",
      "hash",
    ]);
    equal(recs[0].origin, "/var/log/auth.log:1000");
    equal((Deno.statSync(path).mode ?? 0) & 0o777, 0o600);
    const v = await verifyAuditLog(path);
    deepEqual(v, {
      ok: true,
      records: 5,
      firstSeq: 0,
      startPrev: GENESIS_HASH,
      lastSeq: 4,
      lastHash: recs[4].hash,
      firstEvent: "ban",
      gaps: [],
    });
  });
});

Deno.test("verifyAuditLog catches an edited record at its own line", async () => {
  await withLog(async (path) => {
    const lines = await fiveRecords(path);
    lines[2] = lines[2]!.replace("192.0.2.3", "192.0.2.33");
    await rewrite(path, lines);
    const v = await verifyAuditLog(path);
    equal(v.ok, false);
    if (!v.ok) {
      equal(v.line, 3);
      equal(v.records, 2);
      match(v.reason, /record altered/);
    }
  });
});

Deno.test("verifyAuditLog catches an edit whose own hash was recomputed, at the next line", async () => {
  await withLog(async (path) => {
    const lines = await fiveRecords(path);
    const { createHash } = await import("node:crypto");
    const rec = JSON.parse(lines[1]!);
    delete rec.hash;
    rec.duration_s = 1; // the forger shortens a ban and fixes this record's hash…
    const body = JSON.stringify(rec);
    const hash = createHash("sha256").update(body).digest("hex");
    lines[1] = `${body.slice(0, -1)},"hash":"${hash}"}`;
    await rewrite(path, lines);
    const v = await verifyAuditLog(path);
    equal(v.ok, false);
    if (!v.ok) {
      equal(v.line, 3); // …but the next record still points at the original
      match(v.reason, /expected prev/);
    }
  });
});

Deno.test("verifyAuditLog catches deleted records: in the middle and the first", async () => {
  await withLog(async (path) => {
    const lines = await fiveRecords(path);
    await rewrite(path, [lines[0]!, lines[1]!, lines[3]!, lines[4]!]);
    const mid = await verifyAuditLog(path);
    equal(mid.ok === false && mid.line, 3);
    await rewrite(path, lines.slice(1));
    const first = await verifyAuditLog(path);
    equal(first.ok, false);
    if (!first.ok) {
      equal(first.line, 1);
      match(first.reason, /genesis/);
    }
  });
});

Deno.test("verifyAuditLog catches reordered and duplicated records", async () => {
  await withLog(async (path) => {
    const lines = await fiveRecords(path);
    await rewrite(path, [lines[0]!, lines[2]!, lines[1]!, lines[3]!, lines[4]!]);
    const swapped = await verifyAuditLog(path);
    equal(swapped.ok === false && swapped.line, 2);
    await rewrite(path, [lines[0]!, lines[1]!, lines[1]!, lines[2]!]);
    const dup = await verifyAuditLog(path);
    equal(dup.ok === false && dup.line, 3);
  });
});

Deno.test("verifyAuditLog reports junk lines, a missing final newline, and accepts an empty file", async () => {
  await withLog(async (path) => {
    const lines = await fiveRecords(path);
    await rewrite(path, [lines[0]!, "not json", lines[1]!]);
    const junk = await verifyAuditLog(path);
    equal(junk.ok === false && junk.line, 2);
    await Deno.writeTextFile(path, lines[0]! + "\n" + lines[1]!);
    const noNl = await verifyAuditLog(path);
    equal(noNl.ok, false);
    if (!noNl.ok) {
      equal(noNl.line, 2);
      match(noNl.reason, /incomplete/);
    }
    await Deno.writeTextFile(path, "");
    deepEqual(await verifyAuditLog(path), {
      ok: true,
      records: 0,
      firstSeq: null,
      startPrev: GENESIS_HASH,
      lastSeq: null,
      lastHash: GENESIS_HASH,
      firstEvent: null,
      gaps: [],
    });
  });
});

Deno.test("reopening continues the chain; a torn last line is cut and the cut recorded", async () => {
  await withLog(async (path) => {
    const lines = await fiveRecords(path);
    appendAudit(path, { event: "unban", ip: "192.0.2.2", jail: "sshd", reason: "client request" });
    let v = await verifyAuditLog(path);
    equal(v.ok && v.records, 6);
    // A crash mid-write leaves half a record.
    const f = await Deno.open(path, { append: true });
    await f.write(new TextEncoder().encode(lines[0]!.slice(0, 40)));
    f.close();
    equal((await verifyAuditLog(path)).ok, false);
    const rec = appendAudit(path, { event: "ban", ip: "192.0.2.7", jail: "sshd", durationS: null });
    equal(rec.seq, 7);
    v = await verifyAuditLog(path);
    ok(v.ok, JSON.stringify(v));
    equal(v.records, 8);
    const all = (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l));
    equal(all[6].event, "audit_recovered");
    match(all[6].reason, /cut 40 bytes/);
    equal(all[7].duration_s, null);
  });
});

Deno.test("a large audit log verifies in one streaming pass", async () => {
  await withLog(async (path) => {
    const log = AuditLog.open(path);
    for (let i = 0; i < 20_000; i++) {
      log.append({
        event: "ban",
        ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        jail: "sshd",
        durationS: 60,
      });
    }
    log.close();
    const t0 = performance.now();
    const v = await verifyAuditLog(path);
    const ms = performance.now() - t0;
    equal(v.ok && v.records, 20_000);
    ok(ms < 10_000, `verify took ${ms} ms`);
  });
});

Deno.test("a log rotated at maxBytes leaves segments that each verify and continue one another", async () => {
  await withLog(async (path) => {
    const log = AuditLog.open(path, { maxBytes: 600 });
    try {
      for (let i = 0; i < 40; i++) {
        log.append({ event: "ban", ip: `198.51.100.${i}`, jail: "sshd", reason: "5 failures" });
      }
    } finally {
      log.close();
    }
    const files = [
      path,
      ...Array.from({ length: AUDIT_SEGMENTS_KEPT }, (_, i) => `${path}.${i + 1}`),
    ];
    const results = await Promise.all(files.map((f) => verifyAuditLog(f)));
    const beyond = await Deno.stat(`${path}.${AUDIT_SEGMENTS_KEPT + 1}`).then(
      () => true,
      () => false,
    );
    equal(beyond, false, "the oldest segment is deleted");
    for (const [i, r] of results.entries()) ok(r.ok, `${files[i]}: ${JSON.stringify(r)}`);
    // Oldest first: each segment's first record links to the last hash of the one before.
    const chain = results.reverse() as Extract<typeof results[number], { ok: true }>[];
    for (let i = 1; i < chain.length; i++) {
      equal(chain[i]!.startPrev, chain[i - 1]!.lastHash);
      equal(chain[i]!.firstSeq, chain[i - 1]!.lastSeq! + 1);
    }
    ok(chain[0]!.firstSeq! > 0, "older segments were deleted at the limit");
    const last = (await Deno.readTextFile(path)).trimEnd().split("\n").at(-1)!;
    equal(JSON.parse(last).ip, "198.51.100.39");
    for (const f of files) {
      ok(Deno.statSync(f).size < 600 + 400, `${f} is ${Deno.statSync(f).size} bytes`);
    }
    const first = JSON.parse((await Deno.readTextFile(path)).split("\n")[0]!);
    equal(first.event, SEGMENT_EVENT);
    match(first.reason, /continues audit\.log\.1 \(rotated at 600 bytes\)/);
  });
});

Deno.test("a log truncated under the writer (copytruncate) or found empty at start goes on as a segment", async () => {
  await withLog(async (path) => {
    const lines = await fiveRecords(path);
    // logrotate copytruncate: copy to .1, truncate in place; the open log notices at its next write.
    const log = AuditLog.open(path);
    await Deno.writeTextFile(`${path}.1`, await Deno.readTextFile(path));
    await Deno.truncate(path, 0);
    log.append({ event: "ban", ip: "203.0.113.1", jail: "sshd" });
    log.close();
    const old = await verifyAuditLog(`${path}.1`);
    const cur = await verifyAuditLog(path);
    ok(old.ok && cur.ok, JSON.stringify([old, cur]));
    if (old.ok && cur.ok) {
      deepEqual([cur.firstSeq, cur.startPrev, cur.records], [5, JSON.parse(lines[4]!).hash, 2]);
    }
    // Rotated while the daemon was stopped: the next start continues from PATH.1.
    await Deno.rename(path, `${path}.1`);
    appendAudit(path, { event: "unban", ip: "203.0.113.1", jail: "sshd" });
    const after = await verifyAuditLog(path);
    ok(after.ok && after.firstSeq === 7 && after.records === 2, JSON.stringify(after));
    match(
      await Deno.readTextFile(path),
      /"reason":"continues audit\.log\.1 \(found empty at start\)"/,
    );
    // A segment record is trusted only on the first line: anywhere else it must chain.
    const seg = (await Deno.readTextFile(path)).split("\n")[0]!;
    await Deno.writeTextFile(path, lines.join("\n") + "\n" + seg + "\n");
    const inside = await verifyAuditLog(path);
    ok(!inside.ok && inside.line === 6, JSON.stringify(inside));
  });
});

Deno.test("a log deleted while running is reopened: the new file declares the gap and verify reports it", async () => {
  await withLog(async (path) => {
    const lines = await fiveRecords(path);
    const log = AuditLog.open(path);
    await Deno.remove(path);
    const rec = log.append({ event: "ban", ip: "203.0.113.1", jail: "sshd" });
    log.close();
    match(
      rec.notice ?? "",
      /was deleted or replaced while the daemon ran: the records before seq 5 in it are lost/,
    );
    equal(rec.seq, 6);
    const [gap] = (await Deno.readTextFile(path)).split("\n").map((l) => l && JSON.parse(l));
    deepEqual([gap.event, gap.seq, gap.prev], [GAP_EVENT, 5, JSON.parse(lines[4]!).hash]);
    const v = await verifyAuditLog(path);
    ok(v.ok, JSON.stringify(v));
    if (v.ok) {
      deepEqual([v.firstSeq, v.records, v.firstEvent], [5, 2, GAP_EVENT]);
      deepEqual(v.gaps.map((g) => [g.line, g.seq]), [[1, 5]]);
    }
  });
});

Deno.test("a log moved away while running goes on as a segment; one replaced by another file declares a gap", async () => {
  await withLog(async (path) => {
    await fiveRecords(path);
    const log = AuditLog.open(path);
    await Deno.rename(path, `${path}.old`); // logrotate without copytruncate
    const moved = log.append({ event: "ban", ip: "203.0.113.1", jail: "sshd" });
    match(moved.notice ?? "", /was moved away while the daemon ran/);
    const seg = await verifyAuditLog(path);
    ok(seg.ok && seg.firstEvent === SEGMENT_EVENT && seg.gaps.length === 0, JSON.stringify(seg));
    const old = await verifyAuditLog(`${path}.old`);
    ok(old.ok && seg.ok && seg.startPrev === old.lastHash && seg.firstSeq === 5);
    // Nothing changed since: no notice, no extra record.
    equal(log.append({ event: "unban", ip: "203.0.113.1", jail: "sshd" }).notice, undefined);
    // Replaced while the old file still exists elsewhere (a hard link keeps it).
    await Deno.link(path, `${path}.kept`);
    // Replaced by a file with its own two records: the chain goes on in it after a gap record.
    const other = `${path}.other`;
    appendAudit(other, { event: "ban", ip: "198.51.100.1" });
    appendAudit(other, { event: "ban", ip: "198.51.100.2" });
    await Deno.rename(other, path);
    const replaced = log.append({ event: "ban", ip: "203.0.113.2", jail: "sshd" });
    log.close();
    match(replaced.notice ?? "", /was replaced by another file while the daemon ran/);
    const v = await verifyAuditLog(path);
    ok(v.ok, JSON.stringify(v));
    if (v.ok) {
      deepEqual(v.gaps.map((g) => [g.line, g.seq]), [[3, 8]]);
      deepEqual([v.firstSeq, v.lastSeq, v.records], [0, 9, 4]);
    }
    // Renamed over with no other link left: the file it replaced is gone with its records.
    const again = AuditLog.open(path);
    appendAudit(other, { event: "ban", ip: "198.51.100.3" });
    await Deno.rename(other, path);
    match(again.append({ event: "ban" }).notice ?? "", /was deleted or replaced while the daemon/);
    again.close();
  });
});

Deno.test("a restart goes on from the state file's head when the log is missing, emptied or behind it", async () => {
  await withLog(async (path) => {
    const lines = await fiveRecords(path);
    const saved = { seq: 5, prev: JSON.parse(lines[4]!).hash as string };
    // Ahead of (or at) the saved head, e.g. after a crash between two state saves: no gap.
    const ahead = AuditLog.open(path, { saved: { seq: 3, prev: JSON.parse(lines[2]!).hash } });
    equal(ahead.openNotice, null);
    deepEqual(ahead.head, saved);
    ahead.close();
    // Missing at start: the chain goes on at seq 5 after the saved hash, not again at 0.
    await Deno.remove(path);
    const fresh = AuditLog.open(path, { saved });
    match(fresh.openNotice ?? "", /was missing or empty at start/);
    fresh.append({ event: "ban", ip: "203.0.113.1", jail: "sshd" });
    fresh.close();
    const v = await verifyAuditLog(path);
    ok(v.ok && v.firstSeq === 5 && v.startPrev === saved.prev, JSON.stringify(v));
    ok(v.ok && v.gaps.length === 1 && v.gaps[0]!.line === 1);
    // Behind the saved head (its last records cut): a gap record in the middle of the file.
    await rewrite(path, lines.slice(0, 3));
    const behind = AuditLog.open(path, { saved });
    match(behind.openNotice ?? "", /ends at seq 3, before the state file's head \(seq 5\)/);
    behind.close();
    const b = await verifyAuditLog(path);
    ok(b.ok, JSON.stringify(b));
    if (b.ok) {
      deepEqual(b.gaps.map((g) => [g.line, g.seq]), [[4, 5]]);
      deepEqual([b.records, b.lastSeq], [4, 5]);
    }
    // A gap record may not go back in seq, and is checked like any record.
    const text = (await Deno.readTextFile(path)).split("\n");
    const back = JSON.parse(text[3]!);
    back.seq = 1;
    await rewrite(path, [...text.slice(0, 3), JSON.stringify(back)]);
    const bad = await verifyAuditLog(path);
    ok(!bad.ok && bad.line === 4, JSON.stringify(bad));
  });
});
