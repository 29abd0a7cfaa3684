/**
 * JournalSource against real journal files written by systemd-journal-remote and read through
 * journalctl: matching, line shape, record time, caps, cursor resume, follow mode.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type DropInfo, JournalSource, type JournalSourceOptions } from "../src/sources/mod.ts";
import { Collector, sleep } from "../src/sources/testdata/harness.ts";
import { appendJournal, type Entry } from "../src/sources/testdata/journal.ts";
import { waitUntil } from "./_wait.ts";

const T0 = 1_764_000_000_000_000; // µs: 2025-11-24T16:00:00Z
const SSH = ["_SYSTEMD_UNIT=ssh.service"];

function ssh(
  i: number,
  message: string | Uint8Array = `Failed password for root from 192.0.2.${i} port 22 ssh2`,
): Entry {
  return { message, timeUs: T0 + i * 1_000_000, unit: "ssh.service", ident: "sshd", pid: 1000 + i };
}

async function inJournal(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "f2z-journal-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Reads the whole journal once (no follow) and returns what was delivered. */
async function readOnce(options: JournalSourceOptions): Promise<[Collector, JournalSource]> {
  const got = new Collector();
  const source = new JournalSource({ readFrom: "start", follow: false, ...options });
  await source.start(got.sink);
  await source.done;
  await source.stop();
  return [got, source];
}

Deno.test("JournalSource delivers only matched records: same field OR-ed, different fields AND-ed", async () => {
  await inJournal(async (dir) => {
    await appendJournal(dir, [
      ssh(1),
      { message: "cron ran", timeUs: T0 + 2e6, unit: "cron.service", ident: "CRON", pid: 5 },
      {
        message: "sshd via other unit",
        timeUs: T0 + 3e6,
        unit: "sshd.service",
        ident: "sshd",
        pid: 6,
      },
      { message: "fake sshd", timeUs: T0 + 4e6, unit: "user@1000.service", ident: "sshd", pid: 7 },
      { message: "not sshd ident", timeUs: T0 + 5e6, unit: "ssh.service", ident: "helper", pid: 8 },
    ]);
    const [got] = await readOnce({
      directory: dir,
      match: ["_SYSTEMD_UNIT=ssh.service", "_SYSTEMD_UNIT=sshd.service", "SYSLOG_IDENTIFIER=sshd"],
    });
    deepStrictEqual(got.lines, [
      "sshd[1001]: Failed password for root from 192.0.2.1 port 22 ssh2",
      "sshd[6]: sshd via other unit",
    ]);
    deepStrictEqual(got.batches.flatMap((b) => b.times), [T0 / 1000 + 1000, T0 / 1000 + 3000]);
  });
});

Deno.test("JournalSource keeps a message one line: control characters escaped, bad UTF-8 replaced", async () => {
  await inJournal(async (dir) => {
    const enc = new TextEncoder();
    await appendJournal(dir, [
      ssh(1, "Invalid user x\nFailed password for root from 203.0.113.9 port 1 ssh2"),
      ssh(
        2,
        new Uint8Array([...enc.encode("user "), 0xff, 0xc3, ...enc.encode(" from 192.0.2.2")]),
      ),
      { message: "no ident", timeUs: T0 + 3e6, unit: "ssh.service" },
    ]);
    const [got] = await readOnce({ directory: dir, match: SSH });
    deepStrictEqual(got.lines, [
      "sshd[1001]: Invalid user x#012Failed password for root from 203.0.113.9 port 1 ssh2",
      "sshd[1002]: user \ufffd\ufffd from 192.0.2.2",
      "no ident",
    ]);
    const [plain] = await readOnce({ directory: dir, match: SSH, lineFormat: "message" });
    strictEqual(plain.lines[1], "user \ufffd\ufffd from 192.0.2.2");
  });
});

Deno.test("JournalSource drops a record over the line cap and counts it", async () => {
  await inJournal(async (dir) => {
    await appendJournal(dir, [ssh(1), ssh(2, "y".repeat(5000)), ssh(3)]);
    const drops: DropInfo[] = [];
    const [got, source] = await readOnce({
      directory: dir,
      match: SSH,
      lineMaxBytes: 4096,
      onDrop: (d) => drops.push(d),
    });
    deepStrictEqual(got.lines.map((l) => l.slice(0, 10)), ["sshd[1001]", "sshd[1003]"]);
    strictEqual(source.stats().dropped, 1);
    deepStrictEqual(drops.map((d) => d.reason), ["record_too_large"]);
  });
});

Deno.test("JournalSource follows records appended after start and resumes after its cursor", async () => {
  await inJournal(async (dir) => {
    await appendJournal(dir, [ssh(1), ssh(2)]);
    const a = new Collector();
    const first = new JournalSource({ directory: dir, match: SSH }); // read_from = end
    let saved;
    try {
      await first.start(a.sink);
      await appendJournal(dir, [ssh(3)]);
      await a.lineCount(1);
      await appendJournal(dir, [ssh(4), ssh(5)]);
      await a.lineCount(3);
    } finally {
      await first.stop();
      saved = first.positions();
    }
    strictEqual(saved.length, 1);
    await appendJournal(dir, [ssh(6)]); // while down
    const b = new Collector();
    const second = new JournalSource({ directory: dir, match: SSH, saved });
    try {
      await second.start(b.sink);
      await b.lineCount(1);
      await appendJournal(dir, [ssh(7)]);
      await b.lineCount(2);
      await sleep(200);
    } finally {
      await second.stop();
    }
    const ips = (c: Collector) => c.lines.map((l) => l.split(" ")[6]);
    deepStrictEqual(ips(a), ["192.0.2.3", "192.0.2.4", "192.0.2.5"]);
    deepStrictEqual(ips(b), ["192.0.2.6", "192.0.2.7"]);
    strictEqual(a.batches.at(-1)!.source, first.key);
  });
});

Deno.test("JournalSource from the start in follow mode reads the backlog, then new records", async () => {
  await inJournal(async (dir) => {
    await appendJournal(dir, [ssh(1), ssh(2)]);
    const got = new Collector();
    const source = new JournalSource({ directory: dir, match: SSH, readFrom: "start" });
    try {
      await source.start(got.sink);
      await got.lineCount(2);
      await appendJournal(dir, [ssh(3)]);
      await got.lineCount(3);
    } finally {
      await source.stop();
    }
    strictEqual(got.lines.length, 3);
  });
});

Deno.test("JournalSource applies back-pressure to journalctl while the sink is busy", async () => {
  await inJournal(async (dir) => {
    const entries: Entry[] = [];
    for (let i = 0; i < 3000; i++) {
      entries.push(
        ssh(
          i,
          `Failed password for root from 192.0.2.${i % 250} port ${i} ssh2 ${"p".repeat(200)}`,
        ),
      );
    }
    await appendJournal(dir, entries);
    let inFlight = 0;
    let maxInFlight = 0;
    let lines = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    const source = new JournalSource({
      directory: dir,
      match: SSH,
      readFrom: "start",
      follow: false,
    });
    try {
      await source.start(async (b) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        lines += b.lines.length;
        await gate;
        inFlight--;
      });
      await waitUntil(() => lines > 0, "the first batch");
      await sleep(300); // while the sink blocks, no second batch may be delivered
      ok(lines < 3000, `one batch while blocked, got ${lines} lines`);
      release();
      await source.done;
    } finally {
      release();
      await source.stop();
    }
    strictEqual(lines, 3000);
    strictEqual(maxInFlight, 1);
  });
});

Deno.test("JournalSource with a cursor journalctl rejects warns and starts at the end", async () => {
  await inJournal(async (dir) => {
    await appendJournal(dir, [ssh(1)]);
    const warnings: string[] = [];
    const got = new Collector();
    const source = new JournalSource({
      directory: dir,
      match: SSH,
      cursor: "not-a-cursor",
      onWarning: (w) => warnings.push(w),
    });
    let next = 2;
    try {
      await source.start(got.sink);
      await waitUntil(() => warnings.some((w) => /cursor/.test(w)), "the cursor warning", {
        timeoutMs: 5000,
        stepMs: 20,
      });
      // journalctl is started again at the end after a restart delay that a loaded machine may
      // stretch: a record is appended every 500 ms until one arrives.
      await waitUntil(
        async () => {
          if (got.lines.length > 0) return true;
          await appendJournal(dir, [ssh(next++)]);
          return false;
        },
        "a record appended after the restart",
        { timeoutMs: 15_000, stepMs: 500 },
      );
    } finally {
      await source.stop();
    }
    ok(warnings.some((w) => /rejected the saved cursor/.test(w)), warnings.join("\n"));
    const ips = got.lines.map((l) => l.split(" ")[6]!);
    ok(ips.length > 0 && !ips.includes("192.0.2.1"), `started at the end: ${ips.join(" ")}`);
    deepStrictEqual(ips, [...ips].sort((a, b) => a.localeCompare(b, "en", { numeric: true })));
  });
});

Deno.test("JournalSource at the end of a journal without a matching record delivers the first one that comes", async () => {
  await inJournal(async (dir) => {
    await appendJournal(dir, [{
      message: "cron ran",
      timeUs: T0,
      unit: "cron.service",
      ident: "CRON",
    }]);
    const got = new Collector();
    const source = new JournalSource({ directory: dir, match: SSH });
    try {
      await source.start(got.sink);
      await appendJournal(dir, [ssh(1)]);
      await got.lineCount(1);
      await sleep(200);
    } finally {
      await source.stop();
    }
    deepStrictEqual(got.lines, [
      "sshd[1001]: Failed password for root from 192.0.2.1 port 22 ssh2",
    ]);
  });
});
