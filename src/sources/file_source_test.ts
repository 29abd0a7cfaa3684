/**
 * FileSource driven directly against real files: appends, rotation (rename, copytruncate,
 * delete + recreate), late files, globs, shared files, partial and over-long lines, invalid
 * UTF-8, back-pressure. Every test checks the exact list of lines delivered, then waits a few
 * safety re-checks to prove nothing more (no duplicate) arrives.
 */
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { type DropInfo, FileSource, type FileSourceOptions, type LineBatch } from "./mod.ts";
import { append, Collector, numbered, sleep } from "./testdata/harness.ts";

/** Fast re-check and grace so that the safety paths run within a test's lifetime. */
const FAST = { recheckMs: 100, rotateGraceMs: 300 } as const;
/** Long enough for several re-checks: anything still to come would have come. */
const QUIET_MS = 350;

async function withSource(
  options: Omit<FileSourceOptions, "patterns"> & { patterns: (dir: string) => string[] },
  body: (dir: string, source: FileSource, got: Collector) => Promise<void>,
  before?: (dir: string) => void,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "f2z-src-" });
  const got = new Collector();
  let source: FileSource | undefined;
  try {
    before?.(dir);
    source = new FileSource({ ...FAST, ...options, patterns: options.patterns(dir) });
    await source.start(got.sink);
    await body(dir, source, got);
  } finally {
    await source?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("FileSource starts at the end of an existing file and delivers each append once", async () => {
  await withSource(
    { patterns: (d) => [`${d}/app.log`] },
    async (dir, _source, got) => {
      const [text, lines] = numbered("new ", 0, 50);
      for (const l of text.split(/(?<=\n)/)) append(`${dir}/app.log`, l);
      await got.lineCount(50);
      await sleep(QUIET_MS);
      deepStrictEqual(got.lines, lines);
      const last = got.batches.at(-1)!;
      strictEqual(last.source, `${dir}/app.log`);
      deepStrictEqual(last.matches, [0]);
    },
    (dir) => append(`${dir}/app.log`, "old 1\nold 2\n"),
  );
});

Deno.test("FileSource with readFrom start delivers the existing lines first", async () => {
  await withSource(
    { patterns: (d) => [`${d}/app.log`], readFrom: "start" },
    async (dir, _source, got) => {
      append(`${dir}/app.log`, "new 1\n");
      await got.lineCount(3);
      await sleep(QUIET_MS);
      deepStrictEqual(got.lines, ["old 1", "old 2", "new 1"]);
      deepStrictEqual(got.batches[0]!.offsets, [0, 6]);
    },
    (dir) => append(`${dir}/app.log`, "old 1\nold 2\n"),
  );
});

Deno.test("FileSource buffers a partial last line until its newline is written", async () => {
  await withSource({ patterns: (d) => [`${d}/app.log`] }, async (dir, _source, got) => {
    append(`${dir}/app.log`, "Failed password for root from 203.0");
    await sleep(QUIET_MS);
    deepStrictEqual(got.lines, []);
    append(`${dir}/app.log`, ".113.5 port 22\nnext\n");
    await got.lineCount(2);
    deepStrictEqual(got.lines, ["Failed password for root from 203.0.113.5 port 22", "next"]);
  }, (dir) => append(`${dir}/app.log`, ""));
});

Deno.test("FileSource finishes a renamed file, reads its late writes, then the new file from its start", async () => {
  await withSource({ patterns: (d) => [`${d}/app.log`] }, async (dir, source, got) => {
    const log = `${dir}/app.log`;
    const writer = Deno.openSync(log, { write: true, append: true });
    const enc = new TextEncoder();
    try {
      writer.writeSync(enc.encode("before 1\nbefore 2\n"));
      await got.lineCount(2);
      writer.writeSync(enc.encode("before 3\n"));
      Deno.renameSync(log, `${log}.1`); // logrotate "create": rename, then a new file
      writer.writeSync(enc.encode("late 1\n")); // the daemon has not reopened yet
      append(log, "fresh 1\n");
      await got.lineCount(5);
      writer.writeSync(enc.encode("late 2\n")); // still writing to the old file, after the switch
      append(log, "fresh 2\n");
      await got.lineCount(7);
    } finally {
      writer.close();
    }
    await sleep(QUIET_MS);
    const lines = got.lines;
    deepStrictEqual([...lines].sort(), [
      "before 1",
      "before 2",
      "before 3",
      "fresh 1",
      "fresh 2",
      "late 1",
      "late 2",
    ]);
    // Order: the old file's lines up to the switch come before the new file's first line.
    ok(lines.indexOf("late 1") < lines.indexOf("fresh 1"), JSON.stringify(lines));
    ok(lines.indexOf("before 3") < lines.indexOf("fresh 1"));
    ok(source.stats().rotations >= 1);
  }, (dir) => append(`${dir}/app.log`, ""));
});

Deno.test("FileSource reads a copytruncated file again from its start", async () => {
  await withSource({ patterns: (d) => [`${d}/app.log`] }, async (dir, source, got) => {
    const log = `${dir}/app.log`;
    const [text1, lines1] = numbered("a", 0, 100);
    append(log, text1);
    await got.lineCount(100);
    Deno.copyFileSync(log, `${log}.1`);
    Deno.truncateSync(log, 0);
    append(log, "b0\nb1\n");
    await got.lineCount(102);
    await sleep(QUIET_MS);
    deepStrictEqual(got.lines, [...lines1, "b0", "b1"]);
    strictEqual(source.stats().truncations, 1);
  }, (dir) => append(`${dir}/app.log`, ""));
});

Deno.test("FileSource notices a copytruncate whose new content already outgrew the old offset", async () => {
  await withSource(
    { patterns: (d) => [`${d}/app.log`], recheckMs: 60_000 },
    async (dir, _s, got) => {
      const log = `${dir}/app.log`;
      append(log, "2026-11-24T10:00:00 short old line\n");
      await got.lineCount(1);
      // Replace the content in place (same inode) with more bytes than were read: only the head
      // fingerprint can tell.
      const f = Deno.openSync(log, { write: true, truncate: true });
      f.writeSync(
        new TextEncoder().encode("2026-11-24T11:00:00 replaced line one\nsecond new line\n"),
      );
      f.close();
      await got.lineCount(3);
      await sleep(150);
      deepStrictEqual(got.lines, [
        "2026-11-24T10:00:00 short old line",
        "2026-11-24T11:00:00 replaced line one",
        "second new line",
      ]);
    },
    (dir) => append(`${dir}/app.log`, ""),
  );
});

Deno.test("FileSource follows a file deleted and created again", async () => {
  await withSource({ patterns: (d) => [`${d}/app.log`] }, async (dir, _source, got) => {
    const log = `${dir}/app.log`;
    append(log, "one\n");
    await got.lineCount(1);
    Deno.removeSync(log);
    await sleep(50);
    append(log, "two\nthree\n");
    await got.lineCount(3);
    Deno.removeSync(log);
    append(log, "four\n");
    await got.lineCount(4);
    await sleep(QUIET_MS);
    deepStrictEqual(got.lines, ["one", "two", "three", "four"]);
  }, (dir) => append(`${dir}/app.log`, ""));
});

Deno.test("FileSource reads a file that did not exist at start from its first line", async () => {
  await withSource(
    { patterns: (d) => [`${d}/later.log`, `${d}/sub/deeper.log`] },
    async (dir, _s, got) => {
      append(`${dir}/later.log`, "first\nsecond\n");
      await got.lineCount(2);
      // A directory that does not exist yet is found by the safety re-check.
      Deno.mkdirSync(`${dir}/sub`);
      append(`${dir}/sub/deeper.log`, "deep 1\n");
      await got.lineCount(3);
      append(`${dir}/sub/deeper.log`, "deep 2\n");
      await got.lineCount(4);
      await sleep(QUIET_MS);
      deepStrictEqual(got.lines, ["first", "second", "deep 1", "deep 2"]);
    },
  );
});

Deno.test("FileSource follows glob matches as they come and go, in matching directories too", async () => {
  await withSource(
    { patterns: (d) => [`${d}/*.log`, `${d}/vhosts/*/access.log`] },
    async (dir, _s, got) => {
      append(`${dir}/a.log`, "a1\n");
      append(`${dir}/b.txt`, "not matched\n");
      append(`${dir}/.hidden.log`, "not matched either\n");
      await got.lineCount(1);
      append(`${dir}/b.log`, "b1\n");
      await got.lineCount(2);
      Deno.removeSync(`${dir}/a.log`);
      append(`${dir}/c.log`, "c1\n");
      await got.lineCount(3);
      append(`${dir}/a.log`, "a2\n"); // a.log back: a new file, read from its start
      await got.lineCount(4);
      Deno.mkdirSync(`${dir}/vhosts/site1`, { recursive: true });
      append(`${dir}/vhosts/site1/access.log`, "v1\n");
      await got.lineCount(5);
      append(`${dir}/vhosts/site1/access.log`, "v2\n");
      await got.lineCount(6);
      await sleep(QUIET_MS);
      deepStrictEqual(got.lines, ["a1", "b1", "c1", "a2", "v1", "v2"]);
      const bySource = new Map(got.batches.map((b) => [b.source, b.matches]));
      deepStrictEqual(bySource.get(`${dir}/vhosts/site1/access.log`), [1]);
      deepStrictEqual(bySource.get(`${dir}/c.log`), [0]);
    },
  );
});

Deno.test("FileSource reads a file shared by several patterns once and names every match", async () => {
  await withSource(
    { patterns: (d) => [`${d}/auth.log`, `${d}/*.log`, `${d}/other.log`] },
    async (dir, _source, got) => {
      append(`${dir}/auth.log`, "shared 1\nshared 2\n");
      append(`${dir}/other.log`, "other 1\n");
      await got.lineCount(3);
      await sleep(QUIET_MS);
      deepStrictEqual([...got.lines].sort(), ["other 1", "shared 1", "shared 2"]);
      for (const b of got.batches) {
        deepStrictEqual(b.matches, b.source.endsWith("auth.log") ? [0, 1] : [1, 2]);
      }
    },
    (dir) => {
      append(`${dir}/auth.log`, "");
      append(`${dir}/other.log`, "");
    },
  );
});

Deno.test("FileSource drops lines over the cap, counts them, and keeps the lines around them", async () => {
  const drops: DropInfo[] = [];
  await withSource(
    { patterns: (d) => [`${d}/app.log`], lineMaxBytes: 256, onDrop: (d) => drops.push(d) },
    async (dir, source, got) => {
      const log = `${dir}/app.log`;
      append(log, "before\n" + "x".repeat(257) + "\n" + "y".repeat(256) + "\n");
      // An over-long line written in many small pieces, never complete for a long time.
      for (let i = 0; i < 100; i++) append(log, "z".repeat(100));
      append(log, "\nafter\n");
      await got.lineCount(3);
      await sleep(QUIET_MS);
      deepStrictEqual(got.lines, ["before", "y".repeat(256), "after"]);
      strictEqual(source.stats().dropped, 2);
      deepStrictEqual(drops.map((d) => [d.reason, d.offset]), [
        ["line_too_long", 7],
        ["line_too_long", 7 + 258 + 257],
      ]);
    },
    (dir) => append(`${dir}/app.log`, ""),
  );
});

Deno.test("FileSource survives invalid UTF-8 without merging or shifting lines", async () => {
  await withSource({ patterns: (d) => [`${d}/app.log`] }, async (dir, _source, got) => {
    const enc = new TextEncoder();
    append(
      `${dir}/app.log`,
      new Uint8Array([
        ...enc.encode("Invalid user "),
        0xc3,
        0x28,
        0xff,
        10,
        ...enc.encode("from 198.51.100.9 "),
        0xe2,
        0x82,
        10,
        0x80,
        10,
      ]),
    );
    await got.lineCount(3);
    deepStrictEqual(got.lines, [
      "Invalid user \ufffd(\ufffd",
      "from 198.51.100.9 \ufffd",
      "\ufffd",
    ]);
  }, (dir) => append(`${dir}/app.log`, ""));
});

Deno.test("FileSource applies back-pressure: nothing more is read while the sink is busy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-src-" });
  const log = `${dir}/app.log`;
  append(log, "");
  let inFlight = 0;
  let maxInFlight = 0;
  let calls = 0;
  let lines = 0;
  let release!: () => void;
  let gate = new Promise<void>((r) => release = r);
  const source = new FileSource({ ...FAST, patterns: [log], chunkBytes: 4096 });
  try {
    await source.start(async (b: LineBatch) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      calls++;
      lines += b.lines.length;
      await gate;
      inFlight--;
    });
    const [text] = numbered("line number ", 0, 20_000);
    append(log, text);
    await sleep(300);
    strictEqual(calls, 1, "one batch delivered, the next waits for the sink");
    ok(lines < 1000, `at most one chunk of lines while blocked, got ${lines}`);
    release();
    gate = Promise.resolve();
    const deadline = Date.now() + 8000;
    while (lines < 20_000 && Date.now() < deadline) await sleep(20);
    strictEqual(lines, 20_000);
    strictEqual(maxInFlight, 1);
  } finally {
    release();
    await source.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileSource stops and rejects done when the sink rejects", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-src-" });
  const log = `${dir}/app.log`;
  append(log, "");
  const source = new FileSource({ ...FAST, patterns: [log] });
  try {
    await source.start(() => Promise.reject(new Error("tracker full")));
    append(log, "x\n");
    await rejects(source.done, /tracker full/);
    // The position did not move past the rejected batch.
    strictEqual((source.positions()[0] as { offset: number }).offset, 0);
  } finally {
    await source.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileSource watches more directories than inotify's per-user instance limit through one watcher", async () => {
  const DIRS = 200; // the default fs.inotify.max_user_instances is 128
  await withSource(
    { patterns: (d) => [`${d}/*/x.log`], recheckMs: 60_000 },
    async (dir, _source, got) => {
      append(`${dir}/d${DIRS - 1}/x.log`, "last\n");
      append(`${dir}/d0/x.log`, "first\n");
      await got.lineCount(2); // no re-check for a minute: only inotify events can deliver these
      deepStrictEqual([...got.lines].sort(), ["first", "last"]);
    },
    (dir) => {
      for (let i = 0; i < DIRS; i++) {
        Deno.mkdirSync(`${dir}/d${i}`);
        append(`${dir}/d${i}/x.log`, "");
      }
    },
  );
});
