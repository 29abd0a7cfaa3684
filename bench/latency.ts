/**
 * Source-stage benchmark (`deno task bench:latency`): how fast and how soon lines get from a log
 * to the parser's sink.
 *
 * 1. throughput — a realistic sshd log (fixtures/gen-logs.mjs) is appended at full speed by a
 *    separate process (`cat`), while a FileSource delivers it to a counting sink: lines/s from
 *    the first write to the last line delivered (median of 3 runs);
 * 2. file latency — one line appended at a time (at most 1 per ms): append → sink, p50/p99/max;
 * 3. journal latency — systemd-journal-remote appends one record; from its first write to the
 *    journal file (seen through inotify) to the JournalSource sink (journalctl --follow).
 *
 * The daemon-level figures of the issue (append of the maxretry-th line → ban record, and the
 * fail2ban comparison) need the running daemon and belong here once it exists.
 * Options: --lines N (default 1000000), --samples N (default 2000), --no-journal.
 * @module
 */
import { parseArgs } from "node:util";
import { FileSource, JournalSource } from "../src/sources/mod.ts";
import { appendJournal, JOURNAL_REMOTE } from "../src/sources/testdata/journal.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    lines: { type: "string", default: "1000000" },
    samples: { type: "string", default: "2000" },
    "no-journal": { type: "boolean", default: false },
  },
});
const LINES = Number(values.lines);
const SAMPLES = Number(values.samples);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function throughput(dir: string, sample: string): Promise<{ rate: number; mb: number }> {
  const log = `${dir}/auth.log`;
  await Deno.writeFile(log, new Uint8Array());
  let count = 0;
  let finished!: () => void;
  const done = new Promise<void>((r) => finished = r);
  const source = new FileSource({ patterns: [log] });
  await source.start((b) => {
    count += b.lines.length;
    if (count >= LINES) finished();
  });
  const t0 = performance.now();
  // The writer is its own process: this one only reads.
  const writer = await new Deno.Command("bash", {
    args: ["-c", 'cat -- "$1" >> "$2"', "bash", sample, log],
  }).output();
  if (!writer.success) throw new Error("writer failed");
  await done;
  const seconds = (performance.now() - t0) / 1000;
  await source.stop();
  const bytes = (await Deno.stat(sample)).size;
  return { rate: count / seconds, mb: bytes / 1e6 / seconds };
}

async function fileLatency(dir: string): Promise<number[]> {
  const log = `${dir}/lat.log`;
  const f = Deno.openSync(log, { write: true, append: true, create: true });
  let arrived!: (t: number) => void;
  const source = new FileSource({ patterns: [log] });
  await source.start((b) => {
    if (b.lines.length > 0) arrived(performance.now());
  });
  const enc = new TextEncoder();
  const lat: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const got = new Promise<number>((r) => arrived = r);
    const line = enc.encode(
      `2026-11-24T12:26:41.771471+00:00 host sshd[${i}]: Failed password for root from 203.0.113.${
        i % 250
      } port ${40000 + i} ssh2\n`,
    );
    const t0 = performance.now();
    f.writeSync(line);
    lat.push((await got) - t0);
    await new Promise((r) => setTimeout(r, 1));
  }
  f.close();
  await source.stop();
  return lat.sort((a, b) => a - b);
}

async function journalLatency(dir: string, samples: number): Promise<number[]> {
  const jdir = `${dir}/journal`;
  await Deno.mkdir(jdir);
  const entry = (i: number) => ({
    message: `Failed password for root from 203.0.113.${i % 250} port ${i} ssh2`,
    timeUs: 1_764_000_000_000_000 + i * 1000,
    unit: "ssh.service",
    ident: "sshd",
    pid: 100,
  });
  await appendJournal(jdir, [entry(0)]);
  // The moment systemd-journal-remote first modifies the journal file, seen through inotify.
  let firstWrite = 0;
  const watcher = Deno.watchFs(jdir, { recursive: false });
  (async () => {
    for await (const ev of watcher) {
      if (ev.kind === "modify" && firstWrite === 0) firstWrite = performance.now();
    }
  })();
  let arrived!: (t: number) => void;
  const source = new JournalSource({ match: ["_SYSTEMD_UNIT=ssh.service"], directory: jdir });
  await source.start((b) => {
    if (b.lines.length > 0) arrived(performance.now());
  });
  const lat: number[] = [];
  for (let i = 1; i <= samples; i++) {
    const got = new Promise<number>((r) => arrived = r);
    firstWrite = 0;
    await appendJournal(jdir, [entry(i)]);
    const t = await got;
    if (firstWrite > 0) lat.push(t - firstWrite);
  }
  watcher.close();
  await source.stop();
  return lat.sort((a, b) => a - b);
}

const dir = await Deno.makeTempDir({ prefix: "f2z-bench-" });
try {
  const sample = `${dir}/sample.log`;
  const gen = new URL("../fixtures/gen-logs.mjs", import.meta.url).pathname;
  const made = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "--allow-read",
      `--allow-write=${dir}`,
      gen,
      "--service",
      "sshd",
      "--format",
      "iso",
      "--lines",
      String(LINES),
      "--out",
      sample,
    ],
    stdout: "null",
  }).output();
  if (!made.success) throw new Error("gen-logs.mjs failed");
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await throughput(dir, sample));
  runs.sort((a, b) => a.rate - b.rate);
  const tp = runs[1]!;
  console.log(
    `file source throughput: ${Math.round(tp.rate).toLocaleString("en")} lines/s ` +
      `(${tp.mb.toFixed(0)} MB/s; median of ${runs.map((r) => Math.round(r.rate)).join(", ")}) ` +
      `over ${LINES.toLocaleString("en")} sshd lines appended at full speed`,
  );
  const fl = await fileLatency(dir);
  console.log(
    `file append → sink latency: p50 ${quantile(fl, 0.5).toFixed(3)} ms, p99 ${
      quantile(fl, 0.99).toFixed(3)
    } ms, max ${fl.at(-1)!.toFixed(3)} ms (${fl.length} samples)`,
  );
  let journal = !values["no-journal"];
  try {
    Deno.statSync(JOURNAL_REMOTE);
  } catch {
    journal = false;
    console.log("journal latency: skipped (systemd-journal-remote not installed)");
  }
  if (journal) {
    const jl = await journalLatency(dir, Math.min(SAMPLES, 200));
    console.log(
      `journal append → sink latency: p50 ${quantile(jl, 0.5).toFixed(3)} ms, p99 ${
        quantile(jl, 0.99).toFixed(3)
      } ms (${jl.length} samples; from the journal file's first write, seen by inotify)`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
