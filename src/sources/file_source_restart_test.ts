/**
 * FileSource read positions across restarts: each test runs a source, stops it, changes the files
 * while it is down (appends, rotation, copytruncate, truncation, deletion), starts a new source
 * from the saved positions (round-tripped through encode/decode, as the state file does) and
 * checks the exact lines both runs delivered together: nothing lost, nothing twice.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  decodePosition,
  encodePosition,
  type FilePosition,
  FileSource,
  type FileSourceOptions,
  positionKey,
  type SourcePosition,
} from "./mod.ts";
import { append, Collector, numbered, sleep } from "./testdata/harness.ts";

const FAST = { recheckMs: 100, rotateGraceMs: 300 } as const;
const QUIET_MS = 350;

/** One run of a source over `log`; returns its positions after stop. */
class Run {
  readonly got = new Collector();
  readonly source: FileSource;
  constructor(log: string, saved: SourcePosition[], extra: Partial<FileSourceOptions> = {}) {
    this.source = new FileSource({ ...FAST, patterns: [log], saved, ...extra });
  }
  async start(): Promise<this> {
    await this.source.start(this.got.sink);
    return this;
  }
  /** Stops and returns the positions as the state file would give them back. */
  async stop(): Promise<SourcePosition[]> {
    await this.source.stop();
    return this.source.positions().map((p) => decodePosition(encodePosition(p)));
  }
  /** Waits for `count` lines, then `QUIET_MS` more (so that a duplicate would show), and stops. */
  async finish(count: number): Promise<void> {
    try {
      await this.got.lineCount(count);
      await sleep(QUIET_MS);
    } finally {
      await this.stop();
    }
  }
}

async function inDir(body: (dir: string, log: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "f2z-restart-" });
  try {
    await body(dir, `${dir}/app.log`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("restart resumes at the saved offset: lines written while down are read once", async () => {
  await inDir(async (_dir, log) => {
    append(log, "existing\n");
    const a = await new Run(log, []).start();
    append(log, "a1\na2\n");
    await a.got.lineCount(2);
    const saved = await a.stop();
    append(log, "down1\ndown2\n");
    const b = await new Run(log, saved).start();
    try {
      await b.got.lineCount(2);
      append(log, "b1\n");
      await b.got.lineCount(3);
      await sleep(QUIET_MS);
    } finally {
      await b.stop();
    }
    deepStrictEqual([...a.got.lines, ...b.got.lines], ["a1", "a2", "down1", "down2", "b1"]);
  });
});

Deno.test("a file rotated while down: the rest of the old file first, then the new one from its start", async () => {
  await inDir(async (_dir, log) => {
    append(log, "");
    const a = await new Run(log, []).start();
    append(log, "a1\n");
    await a.got.lineCount(1);
    const saved = await a.stop();
    append(log, "a2\n");
    Deno.renameSync(log, `${log}.1`);
    append(`${log}.1`, "a3\n");
    append(log, "n1\nn2\n");
    const b = await new Run(log, saved).start();
    await b.finish(4);
    deepStrictEqual([...a.got.lines, ...b.got.lines], ["a1", "a2", "a3", "n1", "n2"]);
    strictEqual(b.source.stats().rotations, 1);
  });
});

Deno.test("restart in the middle of a rotation: renamed but not yet recreated", async () => {
  await inDir(async (_dir, log) => {
    append(log, "");
    const a = await new Run(log, []).start();
    append(log, "a1\n");
    await a.got.lineCount(1);
    const saved = await a.stop();
    append(log, "a2\n");
    Deno.renameSync(log, `${log}.1`); // logrotate renamed; "create" has not happened yet
    append(`${log}.1`, "late\n");
    const b = await new Run(log, saved).start();
    try {
      await b.got.lineCount(2);
      append(log, "n1\n"); // now the new file appears
      await b.got.lineCount(3);
      await sleep(QUIET_MS);
    } finally {
      await b.stop();
    }
    deepStrictEqual([...a.got.lines, ...b.got.lines], ["a1", "a2", "late", "n1"]);
  });
});

Deno.test("restart in the middle of a rotation: stopped while the old file was still being drained", async () => {
  await inDir(async (_dir, log) => {
    append(log, "");
    // A long grace: the rotated-away file is still open (and saved as such) when we stop.
    const a = await new Run(log, [], { rotateGraceMs: 60_000 }).start();
    const writer = Deno.openSync(log, { write: true, append: true });
    const enc = new TextEncoder();
    let saved: SourcePosition[];
    try {
      writer.writeSync(enc.encode("a1\n"));
      await a.got.lineCount(1);
      Deno.renameSync(log, `${log}.1`);
      writer.writeSync(enc.encode("late1\n"));
      append(log, "n1\n");
      await a.got.lineCount(3);
      saved = await a.stop();
      // One record for the path: the new file, with the rotated-away one nested.
      strictEqual(saved.length, 1, JSON.stringify(saved));
      strictEqual((saved[0] as FilePosition).rotated?.length, 1, JSON.stringify(saved));
      writer.writeSync(enc.encode("late2\n")); // written to the old file while we are down
    } finally {
      writer.close();
    }
    append(log, "n2\n");
    const b = await new Run(log, saved).start();
    await b.finish(2);
    deepStrictEqual([...a.got.lines].sort(), ["a1", "late1", "n1"]);
    deepStrictEqual(b.got.lines, ["late2", "n2"]);
  });
});

Deno.test("copytruncate while down: the rest is read from the copy, the new content from 0", async () => {
  await inDir(async (_dir, log) => {
    append(log, "");
    const a = await new Run(log, []).start();
    append(log, "2026-11-24T10:00:00 a1\n");
    await a.got.lineCount(1);
    const saved = await a.stop();
    append(log, "2026-11-24T10:00:01 a2\n");
    Deno.copyFileSync(log, `${log}.1`);
    Deno.truncateSync(log, 0);
    append(log, "2026-11-24T11:00:00 n1\n");
    const b = await new Run(log, saved).start();
    await b.finish(2);
    deepStrictEqual([...a.got.lines, ...b.got.lines], [
      "2026-11-24T10:00:00 a1",
      "2026-11-24T10:00:01 a2",
      "2026-11-24T11:00:00 n1",
    ]);
  });
});

Deno.test("truncated while down without a copy: read again from the start", async () => {
  await inDir(async (_dir, log) => {
    append(log, "");
    const a = await new Run(log, []).start();
    const [text, lines] = numbered("old ", 0, 10);
    append(log, text);
    await a.got.lineCount(10);
    const saved = await a.stop();
    Deno.truncateSync(log, 0);
    append(log, "new 0\n");
    const b = await new Run(log, saved).start();
    await b.finish(1);
    deepStrictEqual(a.got.lines, lines);
    deepStrictEqual(b.got.lines, ["new 0"]);
    strictEqual(b.source.stats().truncations, 1);
  });
});

Deno.test("rewritten in place while down to a longer file: the changed head is recognised", async () => {
  await inDir(async (_dir, log) => {
    append(log, "");
    const a = await new Run(log, []).start();
    append(log, "2026-11-24T10:00:00 host app: first\n");
    await a.got.lineCount(1);
    const saved = await a.stop();
    // Same inode, more bytes than the saved offset: only the fingerprint tells.
    const f = Deno.openSync(log, { write: true, truncate: true });
    f.writeSync(new TextEncoder().encode("2026-11-25T09:00:00 host app: other one\nsecond\n"));
    f.close();
    const b = await new Run(log, saved).start();
    await b.finish(2);
    deepStrictEqual(b.got.lines, ["2026-11-25T09:00:00 host app: other one", "second"]);
  });
});

Deno.test("a saved file that is gone keeps its position until it returns, then is read from its start", async () => {
  await inDir(async (_dir, log) => {
    append(log, "");
    const a = await new Run(log, []).start();
    append(log, "a1\n");
    await a.got.lineCount(1);
    const savedA = await a.stop();
    Deno.removeSync(log);
    const b = await new Run(log, savedA).start();
    const savedB = await b.stop();
    deepStrictEqual(savedB, savedA, "the position of the missing file survives a run");
    append(log, "while down 1\nwhile down 2\n"); // recreated while down: not "end" but start
    const c = await new Run(log, savedB).start();
    await c.finish(2);
    deepStrictEqual([...a.got.lines, ...b.got.lines, ...c.got.lines], [
      "a1",
      "while down 1",
      "while down 2",
    ]);
  });
});

Deno.test("first start at the end delivers an unfinished last line once it is finished", async () => {
  await inDir(async (_dir, log) => {
    append(log, "old line\nunfinished");
    const a = await new Run(log, []).start();
    try {
      append(log, " now finished\nnext\n");
      await a.got.lineCount(2);
      await sleep(QUIET_MS);
    } finally {
      await a.stop();
    }
    deepStrictEqual(a.got.lines, ["unfinished now finished", "next"]);
  });
});

Deno.test("positions taken inside a batch name exactly the lines delivered so far", async () => {
  await inDir(async (_dir, log) => {
    append(log, "");
    const source = new FileSource({ ...FAST, patterns: [log], chunkBytes: 64 });
    const seen: { lines: number; offset: number }[] = [];
    let total = 0;
    await source.start((b) => {
      total += b.lines.length;
      const own = b.positions.find((p) => p.kind === "file" && p.path === log);
      deepStrictEqual(own, b.position);
      seen.push({ lines: total, offset: (b.position as { offset: number }).offset });
    });
    try {
      const [text] = numbered("line ", 0, 100); // "line N\n": 7 or 8 bytes
      append(log, text);
      const deadline = Date.now() + 5000;
      while (total < 100 && Date.now() < deadline) await sleep(10);
    } finally {
      await source.stop();
    }
    strictEqual(total, 100);
    for (const { lines, offset } of seen) {
      const bytes = Math.min(lines, 10) * 7 + Math.max(0, lines - 10) * 8;
      strictEqual(offset, bytes, `after ${lines} lines`);
    }
  });
});

Deno.test("two file sources over the same file keep their positions apart by group", async () => {
  await inDir(async (_dir, log) => {
    append(log, "old\n");
    const fromEnd = await new Run(log, [], { group: "end" }).start();
    const fromStart = await new Run(log, [], { group: "start", readFrom: "start" }).start();
    append(log, "a1\n");
    await fromEnd.got.lineCount(1);
    await fromStart.got.lineCount(2);
    // Stop them at different points: only the "start" group sees a2 before stopping.
    const savedEnd = await fromEnd.stop();
    append(log, "a2\n");
    await fromStart.got.lineCount(3);
    const savedStart = await fromStart.stop();
    const all = [...savedEnd, ...savedStart];
    strictEqual(new Set(all.map(positionKey)).size, 2, "distinct keys");
    append(log, "a3\n");
    const end2 = await new Run(log, all, { group: "end" }).start();
    const start2 = await new Run(log, all, { group: "start", readFrom: "start" }).start();
    try {
      await end2.got.lineCount(2);
      await start2.got.lineCount(1);
      await sleep(QUIET_MS);
    } finally {
      await end2.stop();
      await start2.stop();
    }
    deepStrictEqual([...fromEnd.got.lines, ...end2.got.lines], ["a1", "a2", "a3"]);
    deepStrictEqual([...fromStart.got.lines, ...start2.got.lines], ["old", "a1", "a2", "a3"]);
  });
});

Deno.test("a glob match that is gone is forgotten at restart; a literal logpath is remembered", async () => {
  await inDir(async (dir, log) => {
    append(log, "");
    append(`${dir}/day1.log`, "");
    const source = new FileSource({ ...FAST, patterns: [log, `${dir}/day*.log`] });
    const got = new Collector();
    await source.start(got.sink);
    append(log, "x\n");
    append(`${dir}/day1.log`, "y\n");
    await got.lineCount(2);
    await source.stop();
    const saved = source.positions();
    strictEqual(saved.length, 2);
    Deno.removeSync(log);
    Deno.removeSync(`${dir}/day1.log`);
    const again = new FileSource({ ...FAST, patterns: [log, `${dir}/day*.log`], saved });
    await again.start(got.sink);
    await again.stop();
    deepStrictEqual(again.positions().map((p) => (p as FilePosition).path), [log]);
  });
});
