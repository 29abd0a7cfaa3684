/**
 * Latency and throughput benchmark (`deno task bench:latency`).
 *
 * Source stage (a FileSource / JournalSource in this process):
 * 1. throughput — a realistic sshd log (fixtures/gen-logs.mjs) is appended at full speed by a
 *    separate process (`cat`), while a FileSource delivers it to a counting sink: lines/s from
 *    the first write to the last line delivered (median of 3 runs);
 * 2. file latency — one line appended at a time (at most 1 per ms): append → sink, p50/p99/max;
 * 3. journal latency — systemd-journal-remote appends one record; from its first write to the
 *    journal file (seen through inotify) to the JournalSource sink (journalctl --follow).
 *
 * The live daemon (`mod.ts daemon`, log-only backend, started like the tests start it):
 * 4. ban-decision latency — one attacker at a time: its first line, then (2 ms later) the
 *    `maxretry`-th (2nd) line; from that append to the ban record read from the daemon's stdout
 *    (so it includes the pipe), p50/p99 over `--bans` distinct addresses; also the ban record's own
 *    `ts` minus the append time (millisecond resolution);
 * 5. the same while 8 clients flood the control socket (4 back to back on one connection, 4 with
 *    a connection per request, as tests/ipc_flood_test.ts);
 * 6. lines/s sustained through the daemon: `--lines` generated sshd lines appended by `cat` at full
 *    speed, then a sentinel attacker; from the first write to the sentinel's ban record (every
 *    line before it was processed; `client status` confirms the line count).
 *
 * fail2ban (Debian `fail2ban-server`, private config dir, one sshd jail without actions, backends
 * `polling` and `pyinotify` when python3-pyinotify is installed) on the same workloads:
 * ban latency from the append to the "Ban IP" line appearing in its log (polled every 2 ms;
 * attackers appended every 50 ms without waiting for the ban, `--f2b-bans` of them) and lines/s
 * on the first `--f2b-lines` lines of the workload (fail2ban is slow; bounded by `--f2b-timeout`).
 *
 * Options: --lines N (1000000), --samples N (2000), --bans N (1000), --flood-bans N (300),
 * --f2b-lines N (100000), --f2b-bans N (200), --f2b-timeout S (180), --no-journal, --no-sources,
 * --no-daemon, --no-fail2ban, --save-interval D (the daemon's state-file save interval; default:
 * the daemon's own default).
 * @module
 */
import { parseArgs } from "node:util";
import { FileSource, JournalSource } from "../src/sources/mod.ts";
import { appendJournal, JOURNAL_REMOTE } from "../src/sources/testdata/journal.ts";
import { floodControlSocket } from "../tests/_control_flood.ts";
import { syslogTime } from "./_live.ts";
import { IpcClient } from "../src/ipc/mod.ts";
import { makeConfig, privateGlobal, type RunningDaemon, startDaemon } from "../tests/_daemon.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    lines: { type: "string", default: "1000000" },
    samples: { type: "string", default: "2000" },
    "no-journal": { type: "boolean", default: false },
    "no-sources": { type: "boolean", default: false },
    "no-daemon": { type: "boolean", default: false },
    "no-fail2ban": { type: "boolean", default: false },
    bans: { type: "string", default: "1000" },
    "flood-bans": { type: "string", default: "300" },
    "f2b-lines": { type: "string", default: "100000" },
    "f2b-bans": { type: "string", default: "200" },
    "f2b-timeout": { type: "string", default: "180" },
    "save-interval": { type: "string" },
  },
});
const LINES = Number(values.lines);
const SAMPLES = Number(values.samples);
const BANS = Number(values.bans);
const FLOOD_BANS = Number(values["flood-bans"]);
const F2B_LINES = Number(values["f2b-lines"]);
const F2B_BANS = Number(values["f2b-bans"]);
const F2B_TIMEOUT_MS = Number(values["f2b-timeout"]) * 1000;

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

// ---------------------------------------------------------------------------------------------
// The live daemon and fail2ban

const enc = new TextEncoder();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function sshLine(ip: string, i: number): Uint8Array {
  return enc.encode(
    `${syslogTime(new Date())} web1 sshd[${
      1000 + (i % 9000)
    }]: Failed password for root from ${ip} port ${1024 + (i % 60000)} ssh2\n`,
  );
}

/** Attacker `n` of a run: 198.18.0.0/15 (benchmarking range), distinct per `n` < 131072. */
function attacker(n: number): string {
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}
/** The sentinel attacker appended after a throughput workload. */
const SENTINEL = "198.19.255.254";

/** Text with `n` lines of `text` (up to the n-th newline). */
async function firstLines(src: string, dst: string, n: number): Promise<void> {
  const r = await new Deno.Command("bash", {
    args: ["-c", 'head -n "$1" -- "$2" > "$3"', "bash", String(n), src, dst],
  }).output();
  if (!r.success) throw new Error("head failed");
}

async function appendFileAtFullSpeed(sample: string, log: string): Promise<void> {
  const w = await new Deno.Command("bash", {
    args: ["-c", 'cat -- "$1" >> "$2"', "bash", sample, log],
  }).output();
  if (!w.success) throw new Error("writer failed");
}

interface Stats {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s.at(-1)! };
}

const fmtStats = (s: Stats | null) =>
  s === null ? "n/a" : `${s.p50.toFixed(2)} / ${s.p99.toFixed(2)} ms (n=${s.n})`;

function daemonJail(d: string, maxretry: number): string {
  const save = values["save-interval"];
  return `${privateGlobal(d, save === undefined ? "" : `save_interval = "${save}"`)}
[jails.sshd]
filter = "sshd"
logpath = "${d}/auth.log"
maxretry = ${maxretry}
findtime = "10m"
bantime = "1h"
`;
}

/** Appends attackers one at a time to a live daemon; append of the 2nd line → ban record. */
async function daemonBans(
  daemon: RunningDaemon,
  log: Deno.FsFile,
  first: number,
  count: number,
): Promise<{ read: number[]; ts: number[] }> {
  const read: number[] = [];
  const ts: number[] = [];
  for (let n = first; n < first + count; n++) {
    const ip = attacker(n);
    log.writeSync(sshLine(ip, 2 * n));
    await sleep(2);
    let seen = 0;
    const wall = Date.now();
    const t0 = performance.now();
    log.writeSync(sshLine(ip, 2 * n + 1));
    const rec = await daemon.waitFor((r) => {
      const hit = r["event"] === "ban" && r["ip"] === ip;
      if (hit) seen = performance.now();
      return hit;
    }, 10_000);
    read.push(seen - t0);
    ts.push(Date.parse(String(rec["ts"])) - wall);
    await sleep(2);
  }
  return { read, ts };
}

interface DaemonFigures {
  quiet: Stats;
  quietTs: Stats;
  flooded: Stats | null;
  floodedTs: Stats | null;
  floodRate: number;
  floodLimited: number;
  linesPerS: number;
  lines: number;
  seconds: number;
}

async function daemonBench(sample: string, lines: number): Promise<DaemonFigures> {
  // ---- ban latency, quiet and under a control-socket flood ----
  const a = await makeConfig((d) => daemonJail(d, 2));
  await Deno.writeTextFile(`${a.dir}/auth.log`, "");
  let daemon = await startDaemon(a.dir, a.config);
  const log = Deno.openSync(`${a.dir}/auth.log`, { append: true });
  let quiet: { read: number[]; ts: number[] };
  let flooded: { read: number[]; ts: number[] } = { read: [], ts: [] };
  let answered = 0;
  let limited = 0;
  let floodSeconds = 1;
  try {
    await daemonBans(daemon, log, 0, 50); // warm-up
    quiet = await daemonBans(daemon, log, 50, BANS);
    if (FLOOD_BANS > 0) {
      const sock = `${a.dir}/fail2zig.sock`;
      const flood = floodControlSocket(sock, { steady: 4, churn: 4 });
      await sleep(200);
      const t0 = performance.now();
      try {
        flooded = await daemonBans(daemon, log, 50 + BANS, FLOOD_BANS);
      } finally {
        await flood.stop();
      }
      floodSeconds = (performance.now() - t0) / 1000;
      answered = flood.answered;
      limited = flood.limited;
    }
  } finally {
    log.close();
    await daemon.stop();
    await Deno.remove(a.dir, { recursive: true });
  }

  // ---- lines/s through the daemon ----
  const b = await makeConfig((d) => daemonJail(d, 5));
  const logPath = `${b.dir}/auth.log`;
  await Deno.writeTextFile(logPath, "");
  daemon = await startDaemon(b.dir, b.config);
  let seconds: number;
  try {
    const t0 = performance.now();
    await appendFileAtFullSpeed(sample, logPath);
    const f = Deno.openSync(logPath, { append: true });
    for (let i = 0; i < 5; i++) f.writeSync(sshLine(SENTINEL, i));
    f.close();
    await daemon.waitFor((r) => r["event"] === "ban" && r["ip"] === SENTINEL, 300_000);
    seconds = (performance.now() - t0) / 1000;
    const c = await IpcClient.connect(`${b.dir}/fail2zig.sock`);
    try {
      const st = await c.request({ v: 1, cmd: "status_jail", jail: "sshd" });
      const seen = (st as unknown as Record<string, unknown>)["lines_total"];
      if (seen !== lines + 5) {
        throw new Error(`expected the daemon to have seen ${lines + 5} lines, found ${seen}`);
      }
    } finally {
      c.close();
    }
  } finally {
    await daemon.stop();
    await Deno.remove(b.dir, { recursive: true });
  }
  return {
    quiet: stats(quiet.read),
    quietTs: stats(quiet.ts),
    flooded: flooded.read.length > 0 ? stats(flooded.read) : null,
    floodedTs: flooded.ts.length > 0 ? stats(flooded.ts) : null,
    floodRate: answered / floodSeconds,
    floodLimited: limited,
    linesPerS: lines / seconds,
    lines,
    seconds,
  };
}

/** A fail2ban-server on a private config dir with one sshd jail (no actions). */
class Fail2ban {
  readonly dir: string;
  readonly log: string;
  readonly sock: string;
  #proc: Deno.ChildProcess | null = null;
  #offset = 0;
  #rest = "";
  /** Ban IP → performance.now() when the bench read the "Ban" line. */
  readonly bans = new Map<string, number>();
  #tail: ReturnType<typeof setInterval> | undefined;

  private constructor(dir: string) {
    this.dir = dir;
    this.log = `${dir}/auth.log`;
    this.sock = `${dir}/f2b.sock`;
  }

  static async start(backend: string, maxretry: number): Promise<Fail2ban> {
    const dir = await Deno.makeTempDir({ prefix: "f2z-f2b-" });
    const f = new Fail2ban(dir);
    const cp = await new Deno.Command("cp", {
      args: ["-r", "/etc/fail2ban/filter.d", `${dir}/filter.d`],
    }).output();
    if (!cp.success) throw new Error("cannot copy /etc/fail2ban/filter.d");
    // NOTICE: fail2ban's best case (no INFO record per failure line); bans are NOTICE records.
    await Deno.writeTextFile(
      `${dir}/fail2ban.conf`,
      `[Definition]
loglevel = NOTICE
logtarget = ${dir}/fail2ban.log
syslogsocket = auto
socket = ${f.sock}
pidfile = ${dir}/f2b.pid
allowipv6 = auto
dbfile = :memory:
dbpurgeage = 1d
`,
    );
    await Deno.writeTextFile(
      `${dir}/jail.conf`,
      `[DEFAULT]
backend = ${backend}
[sshd]
enabled = true
filter = sshd
logpath = ${f.log}
maxretry = ${maxretry}
findtime = 600
bantime = 3600
action =
`,
    );
    await Deno.writeTextFile(f.log, "");
    await Deno.writeTextFile(`${dir}/fail2ban.log`, "");
    f.#proc = new Deno.Command("/usr/bin/fail2ban-server", {
      args: ["-f", "-x", "-c", dir, "-s", f.sock, "-p", `${dir}/f2b.pid`],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const end = Date.now() + 30_000;
    for (;;) {
      const r = await new Deno.Command("/usr/bin/fail2ban-client", {
        args: ["-s", f.sock, "status", "sshd"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (r.success) break;
      if (Date.now() > end) {
        await f.stop();
        throw new Error("fail2ban did not start its sshd jail within 30 s");
      }
      await sleep(200);
    }
    f.#tail = setInterval(() => f.#read(), 2);
    return f;
  }

  #read(): void {
    const file = Deno.openSync(`${this.dir}/fail2ban.log`, { read: true });
    try {
      const size = file.statSync().size;
      if (size <= this.#offset) return;
      const buf = new Uint8Array(size - this.#offset);
      file.seekSync(this.#offset, Deno.SeekMode.Start);
      let got = 0;
      while (got < buf.length) {
        const n = file.readSync(buf.subarray(got));
        if (n === null) break;
        got += n;
      }
      this.#offset += got;
      const now = performance.now();
      const text = this.#rest + new TextDecoder().decode(buf.subarray(0, got));
      const lines = text.split("\n");
      this.#rest = lines.pop() ?? "";
      for (const l of lines) {
        const m = / Ban (\S+)$/.exec(l);
        if (m && !this.bans.has(m[1]!)) this.bans.set(m[1]!, now);
      }
    } finally {
      file.close();
    }
  }

  async waitBan(ip: string, timeoutMs: number): Promise<number | null> {
    const end = Date.now() + timeoutMs;
    while (!this.bans.has(ip)) {
      if (Date.now() > end) return null;
      await sleep(5);
    }
    return this.bans.get(ip)!;
  }

  async stop(): Promise<void> {
    clearInterval(this.#tail);
    if (this.#proc !== null) {
      try {
        this.#proc.kill("SIGTERM");
      } catch { /* gone */ }
      const late = setTimeout(() => {
        try {
          this.#proc?.kill("SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      await this.#proc.status;
      clearTimeout(late);
    }
    await Deno.remove(this.dir, { recursive: true });
  }
}

interface F2bFigures {
  backend: string;
  latency: Stats | null;
  missed: number;
  linesPerS: number | null;
  lines: number;
  seconds: number;
}

async function fail2banBench(backend: string, sample: string, lines: number): Promise<F2bFigures> {
  // ban latency: attackers appended every 50 ms, not waiting for each ban (fail2ban takes ~1 s)
  const f = await Fail2ban.start(backend, 2);
  const sent = new Map<string, number>();
  let latency: number[] = [];
  let missed = 0;
  try {
    const log = Deno.openSync(f.log, { append: true });
    try {
      for (let n = 0; n < F2B_BANS; n++) {
        const ip = attacker(n);
        log.writeSync(sshLine(ip, 2 * n));
        await sleep(2);
        sent.set(ip, performance.now());
        log.writeSync(sshLine(ip, 2 * n + 1));
        await sleep(48);
      }
    } finally {
      log.close();
    }
    const end = Date.now() + 20_000;
    while (f.bans.size < F2B_BANS && Date.now() < end) await sleep(20);
    latency = [...sent].flatMap(([ip, t0]) => {
      const t = f.bans.get(ip);
      return t === undefined ? [] : [t - t0];
    });
    missed = F2B_BANS - latency.length;
  } finally {
    await f.stop();
  }
  // throughput: the first `lines` lines of the workload, then the sentinel
  const g = await Fail2ban.start(backend, 5);
  let seconds = F2B_TIMEOUT_MS / 1000;
  let done = false;
  try {
    const t0 = performance.now();
    await appendFileAtFullSpeed(sample, g.log);
    const log = Deno.openSync(g.log, { append: true });
    for (let i = 0; i < 5; i++) log.writeSync(sshLine(SENTINEL, i));
    log.close();
    const t = await g.waitBan(SENTINEL, F2B_TIMEOUT_MS);
    if (t !== null) {
      seconds = (t - t0) / 1000;
      done = true;
    }
  } finally {
    await g.stop();
  }
  return {
    backend,
    latency: latency.length > 0 ? stats(latency) : null,
    missed,
    linesPerS: done ? lines / seconds : null,
    lines,
    seconds,
  };
}

async function hasPyinotify(): Promise<boolean> {
  try {
    const r = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import pyinotify"],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success;
  } catch {
    return false;
  }
}

async function generate(dir: string, lines: number, format: string, out: string): Promise<void> {
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
      format,
      "--span",
      "300",
      "--lines",
      String(lines),
      "--out",
      out,
    ],
    stdout: "null",
  }).output();
  if (!made.success) throw new Error("gen-logs.mjs failed");
}

// ---------------------------------------------------------------------------------------------

const dir = await Deno.makeTempDir({ prefix: "f2z-bench-" });
try {
  if (!values["no-sources"]) {
    const sample = `${dir}/sample.log`;
    await generate(dir, LINES, "iso", sample);
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
    await Deno.remove(sample);
  }

  // The daemon and fail2ban read the same workload: classic syslog lines of the last 5 minutes.
  const workload = `${dir}/workload.log`;
  let daemonFig: DaemonFigures | null = null;
  const f2b: F2bFigures[] = [];
  if (!values["no-daemon"]) {
    await generate(dir, LINES, "syslog", workload);
    daemonFig = await daemonBench(workload, LINES);
    const d = daemonFig;
    console.log(
      `daemon ban latency (append of the maxretry-th line → ban record read from stdout): ` +
        `p50 ${d.quiet.p50.toFixed(3)} ms, p99 ${d.quiet.p99.toFixed(3)} ms, max ${
          d.quiet.max.toFixed(3)
        } ms over ${d.quiet.n} bans; by the record's own ts (1 ms resolution): p50 ${d.quietTs.p50} ms, p99 ${d.quietTs.p99} ms`,
    );
    if (d.flooded !== null) {
      console.log(
        `daemon ban latency while 8 clients flood the control socket: p50 ${
          d.flooded.p50.toFixed(3)
        } ms, p99 ${d.flooded.p99.toFixed(3)} ms, max ${
          d.flooded.max.toFixed(3)
        } ms over ${d.flooded.n} bans ` +
          `(${
            Math.round(d.floodRate)
          } replies/s, ${d.floodLimited} rate_limited); by the record's ` +
          `own ts: p50 ${d.floodedTs!.p50} ms, p99 ${d.floodedTs!.p99} ms (the flooding clients ` +
          `share the bench's event loop with the stdout reader)`,
      );
    }
    console.log(
      `daemon throughput: ${Math.round(d.linesPerS).toLocaleString("en")} lines/s ` +
        `(${d.lines.toLocaleString("en")} sshd lines appended at full speed, ${
          d.seconds.toFixed(2)
        } s ` +
        `to the sentinel's ban)`,
    );
  }
  if (!values["no-fail2ban"]) {
    let have = true;
    try {
      Deno.statSync("/usr/bin/fail2ban-server");
    } catch {
      have = false;
      console.log("fail2ban: skipped (Debian package fail2ban not installed)");
    }
    if (have) {
      const small = `${dir}/workload-f2b.log`;
      try {
        Deno.statSync(workload);
      } catch {
        await generate(dir, LINES, "syslog", workload);
      }
      await firstLines(workload, small, F2B_LINES);
      const backends = ["polling"];
      if (await hasPyinotify()) backends.push("pyinotify");
      else console.log("fail2ban pyinotify: skipped (python3-pyinotify not installed)");
      for (const b of backends) {
        const r = await fail2banBench(b, small, F2B_LINES);
        f2b.push(r);
        console.log(
          `fail2ban ${b}: ban latency ${fmtStats(r.latency)}${
            r.missed > 0 ? ` (${r.missed} bans not seen within 20 s)` : ""
          }; throughput ${
            r.linesPerS === null
              ? `not finished within ${r.seconds} s`
              : `${Math.round(r.linesPerS).toLocaleString("en")} lines/s`
          } (${r.lines.toLocaleString("en")} lines)`,
        );
      }
    }
  }
  if (daemonFig !== null && f2b.length > 0) {
    const d = daemonFig;
    const rows: string[][] = [
      ["", "fail2zig", ...f2b.map((r) => `fail2ban ${r.backend}`)],
      [
        "ban latency p50",
        `${d.quiet.p50.toFixed(2)} ms`,
        ...f2b.map((r) =>
          r.latency === null
            ? "n/a"
            : `${r.latency.p50.toFixed(1)} ms (${(r.latency.p50 / d.quiet.p50).toFixed(0)}×)`
        ),
      ],
      [
        "ban latency p99",
        `${d.quiet.p99.toFixed(2)} ms`,
        ...f2b.map((r) =>
          r.latency === null
            ? "n/a"
            : `${r.latency.p99.toFixed(1)} ms (${(r.latency.p99 / d.quiet.p99).toFixed(0)}×)`
        ),
      ],
      ["bans measured", String(d.quiet.n), ...f2b.map((r) => String(r.latency?.n ?? 0))],
      [
        "lines/s",
        Math.round(d.linesPerS).toLocaleString("en"),
        ...f2b.map((r) =>
          r.linesPerS === null
            ? "n/a"
            : `${Math.round(r.linesPerS).toLocaleString("en")} (1/${
              (d.linesPerS / r.linesPerS).toFixed(0)
            })`
        ),
      ],
      [
        "lines in run",
        d.lines.toLocaleString("en"),
        ...f2b.map((r) => r.lines.toLocaleString("en")),
      ],
    ];
    const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    console.log("");
    for (const [i, r] of rows.entries()) {
      console.log(`| ${r.map((x, c) => x.padEnd(w[c]!)).join(" | ")} |`);
      if (i === 0) console.log(`|${w.map((n) => "-".repeat(n + 2)).join("|")}|`);
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
