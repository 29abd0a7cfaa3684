/**
 * Tracker benchmark: `deno task bench:tracker [--quick] [--json FILE] [--f2b-seconds S]`.
 *
 * 1. Throughput of the tracker alone (in this process): failures/s for 1M and 10M distinct
 *    addresses (85% IPv4, 15% IPv6) and a heavy-hitter mix, with the address-text generation
 *    cost measured separately and subtracted.
 * 2. Peak memory of a daemon-shaped child process (main thread: tracker; a Worker generates the
 *    address texts and posts batches with back-pressure, as the parser Worker will): the maximum
 *    of `Deno.memoryUsage().rss` sampled in the child, and VmHWM read from /proc/PID/status by
 *    the parent (through `cat`: Deno gates /proc behind --allow-all). Tracker sized for
 *    `memory_ceiling_mb` 96 and 64 with `trackerBudgetFor()`, 1M and 10M addresses; then the
 *    lowest ceiling whose run stays within itself for 10M addresses.
 * 3. fail2ban on the same kind of flood: `fail2ban-regex` with Debian's sshd filter on a
 *    generated log, bounded in time; VmHWM sampled from /proc, progress from the log fd offset.
 * @module
 */
import { parseArgs } from "node:util";
import type { JailConfig } from "../src/config/types.ts";
import {
  RUNTIME_BASELINE_MB,
  Tracker,
  trackerBudgetFor,
  trackerCapacityFor,
} from "../src/tracker/mod.ts";

const FEEDER = "tracker-bench-feeder";
const BATCH = 1024;
const CREDIT = 2;
const MiB = 1024 * 1024;
/** V8 flags of the measured children (the daemon caps the young generation the same way). */
const DEFAULT_V8_FLAGS = "--max-semi-space-size=1";

const SSHD: JailConfig = {
  name: "sshd",
  enabled: true,
  filter: "sshd",
  mode: "normal",
  source: "file",
  logpath: ["/var/log/auth.log"],
  readFrom: "end",
  journalMatch: [],
  bantimeMs: 3_600_000,
  findtimeMs: 600_000,
  maxretry: 5,
  ignoreip: ["127.0.0.0/8", "::1"],
  ipv6Prefix: 128,
  bantimeIncrement: {
    enabled: false,
    formula: "exponential",
    factor: 2,
    maxMs: 604_800_000,
    jitterMs: 0,
    overall: false,
  },
};

/** Distinct address text number `i` (i < 2^24): 6 of 7 IPv4, 1 of 7 IPv6; never loopback. */
function distinct(i: number): string {
  if (i % 7 === 3) return `2001:db8:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::7`;
  let a = 11 + (i >>> 16);
  if (a >= 127) a++;
  return `${a}.${(i >>> 8) & 255}.${i & 255}.7`;
}

/** Heavy-hitter mix: 90% from 10,000 attackers (banned after 5), 10% distinct. */
function heavy(i: number): string {
  if (i % 10 !== 0) {
    const h = (Math.imul(i, 2654435761) >>> 0) % 10_000;
    return `203.${h >> 8}.${h & 255}.9`;
  }
  return distinct(i / 10);
}

type Mix = "distinct" | "heavy";
const gen: Record<Mix, (i: number) => string> = { distinct, heavy };

// ---------------- worker (feeder) ----------------

interface FeedStart {
  n: number;
  mix: Mix;
}

function runFeeder(): void {
  const scope = globalThis as unknown as {
    onmessage: ((e: MessageEvent) => void) | null;
    postMessage(m: unknown): void;
  };
  let n = 0;
  let i = 0;
  let mix: Mix = "distinct";
  const send = () => {
    if (i >= n) {
      scope.postMessage(null);
      return;
    }
    const end = Math.min(n, i + BATCH);
    const batch: string[] = new Array(end - i);
    const g = gen[mix];
    for (let k = 0; i < end; i++, k++) batch[k] = g(i);
    scope.postMessage(batch);
  };
  scope.onmessage = (e: MessageEvent) => {
    if (e.data === "more") return send();
    const start = e.data as FeedStart;
    n = start.n;
    mix = start.mix;
    for (let c = 0; c < CREDIT; c++) send();
  };
}

// ---------------- child (daemon-shaped process) ----------------

function trace(records: number): void {
  const m = Deno.memoryUsage();
  console.error(
    `${records} rss ${(m.rss / MiB).toFixed(1)} heapTotal ${(m.heapTotal / MiB).toFixed(1)} ` +
      `heapUsed ${(m.heapUsed / MiB).toFixed(1)} external ${(m.external / MiB).toFixed(1)}`,
  );
}

async function runChild(
  args: { n: number; capacity: number; worker: boolean; mix: Mix; trace: boolean },
) {
  const tracker = new Tracker({ jails: [SSHD], capacity: args.capacity, eviction: "evict-oldest" });
  let maxRss = Deno.memoryUsage().rss;
  const sample = () => {
    const r = Deno.memoryUsage().rss;
    if (r > maxRss) maxRss = r;
  };
  const timer = setInterval(sample, 10);
  const started = performance.now();
  let records = 0;
  let bans = 0;
  if (args.worker) {
    const w = new Worker(import.meta.url, { type: "module", name: FEEDER });
    await new Promise<void>((resolve) => {
      let done = 0;
      w.onmessage = (e: MessageEvent) => {
        const batch = e.data as string[] | null;
        if (batch === null) {
          if (++done === CREDIT) resolve();
          return;
        }
        for (const ip of batch) if (tracker.record(0, ip, null).kind === "ban") bans++;
        records += batch.length;
        if (args.trace && records % 1_000_000 < batch.length) trace(records);
        sample();
        w.postMessage("more");
      };
      w.postMessage({ n: args.n, mix: args.mix } satisfies FeedStart);
    });
    w.terminate();
  } else {
    const g = gen[args.mix];
    for (let i = 0; i < args.n; i++) {
      if (tracker.record(0, g(i), null).kind === "ban") bans++;
      if ((i & 0xffff) === 0) {
        sample();
        await new Promise((r) => setTimeout(r, 0));
      }
    }
    records = args.n;
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  sample();
  const s = tracker.stats();
  const mu = Deno.memoryUsage();
  console.log(JSON.stringify({
    heapTotal: mu.heapTotal,
    external: mu.external,
    records,
    bans,
    seconds,
    maxRss,
    tracked: s.tracked,
    evictions: s.evictions,
    tableBytes: s.bytes,
  }));
  // Stay alive until the parent has read VmHWM.
  const buf = new Uint8Array(16);
  while ((await Deno.stdin.read(buf)) !== null) { /* wait for EOF */ }
}

// ---------------- parent ----------------

async function procStatus(pid: number): Promise<Record<string, number>> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stderr: "null" })
    .output();
  const result: Record<string, number> = {};
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const m = /^(Vm\w+|RssAnon|RssFile):\s+(\d+) kB/.exec(line);
    if (m) result[m[1]!] = Number(m[2]) * 1024;
  }
  return result;
}

interface ChildResult {
  ceilingMb: number;
  n: number;
  capacity: number;
  tableMiB: number;
  worker: boolean;
  seconds: number;
  perSecond: number;
  maxRssMiB: number;
  vmHwmMiB: number;
  evictions: number;
  bans: number;
  fits: boolean;
}

async function child(
  ceilingMb: number,
  n: number,
  worker: boolean,
  v8Flags: string | null,
): Promise<ChildResult> {
  const capacity = trackerCapacityFor(trackerBudgetFor(ceilingMb));
  const config = new URL("../deno.json", import.meta.url).pathname;
  const args = ["run", "-q", "-P=test", "--config", config];
  if (v8Flags) args.push(`--v8-flags=${v8Flags}`);
  args.push(
    import.meta.filename!,
    "--child",
    "--n",
    String(n),
    "--capacity",
    String(capacity),
    "--mix",
    "distinct",
  );
  if (worker) args.push("--worker");
  const proc = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`child exited early: ${text}`);
    text += value;
  }
  const status = await procStatus(proc.pid);
  await proc.stdin.close();
  reader.cancel();
  await proc.status;
  const r = JSON.parse(text.trim());
  const vmHwm = status.VmHWM ?? NaN;
  return {
    ceilingMb,
    n,
    capacity,
    tableMiB: r.tableBytes / MiB,
    worker,
    seconds: r.seconds,
    perSecond: r.records / r.seconds,
    maxRssMiB: r.maxRss / MiB,
    vmHwmMiB: vmHwm / MiB,
    evictions: r.evictions,
    bans: r.bans,
    fits: vmHwm <= ceilingMb * MiB,
  };
}

function throughput(label: string, n: number, mix: Mix, capacity: number) {
  const g = gen[mix];
  // Generation cost alone (kept observable so it is not optimised away).
  let sink = 0;
  let t0 = performance.now();
  for (let i = 0; i < n; i++) sink += g(i).length;
  const genS = (performance.now() - t0) / 1000;
  const tracker = new Tracker({ jails: [SSHD], capacity, eviction: "evict-oldest" });
  let bans = 0;
  t0 = performance.now();
  for (let i = 0; i < n; i++) if (tracker.record(0, g(i), null).kind === "ban") bans++;
  const totalS = (performance.now() - t0) / 1000;
  const s = tracker.stats();
  return {
    label,
    n,
    capacity,
    withGeneration: n / totalS,
    trackerOnly: n / Math.max(1e-9, totalS - genS),
    bans,
    evictions: s.evictions,
    tracked: s.tracked,
    sink,
  };
}

/** 100 heavy attackers, `attempts` failures each, spread evenly through `n` flood addresses. */
function interleaved(n: number, capacity: number, attempts: number) {
  const tracker = new Tracker({ jails: [SSHD], capacity, eviction: "evict-oldest" });
  const attackers = 100;
  const every = Math.floor(n / (attackers * attempts));
  const banned = new Set<string>();
  let k = 0;
  for (let i = 0; i < n; i++) {
    tracker.record(0, distinct(i), null);
    if (i % every === 0 && k < attackers * attempts) {
      const a = `198.18.0.${(k++ % attackers) + 1}`;
      if (tracker.record(0, a, null).kind === "ban") banned.add(a);
    }
  }
  return { n, capacity, attempts, apart: every * attackers, banned: banned.size, attackers };
}

async function fail2banRegex(lines: number, seconds: number) {
  const filter = "/etc/fail2ban/filter.d/sshd.conf";
  try {
    Deno.statSync("/usr/bin/fail2ban-regex");
    Deno.statSync(filter);
  } catch {
    return {
      skipped: "fail2ban-regex or its sshd filter is not installed (apt-get install fail2ban)",
    };
  }
  const dir = Deno.makeTempDirSync({ prefix: "f2z-bench-" });
  try {
    const log = `${dir}/auth.log`;
    const file = Deno.openSync(log, { write: true, create: true });
    const enc = new TextEncoder();
    let chunk = "";
    for (let i = 0; i < lines; i++) {
      const s = i % 60;
      chunk += `Nov 25 12:${String((i / 60 | 0) % 60).padStart(2, "0")}:${
        String(s).padStart(2, "0")
      } web1 sshd[${1000 + (i % 5000)}]: Failed password for root from ${distinct(i)} port ${
        1024 + (i % 60000)
      } ssh2\n`;
      if (chunk.length > 1 << 20) {
        file.writeSync(enc.encode(chunk));
        chunk = "";
      }
    }
    file.writeSync(enc.encode(chunk));
    file.close();
    const size = Deno.statSync(log).size;
    const proc = new Deno.Command("/usr/bin/fail2ban-regex", {
      args: [log, filter],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const outP = proc.output();
    const started = performance.now();
    let hwm = 0;
    let offset = 0;
    let finished = false;
    outP.then(() => (finished = true), () => (finished = true));
    while (!finished && performance.now() - started < seconds * 1000) {
      const st = await procStatus(proc.pid);
      if (st.VmHWM) hwm = Math.max(hwm, st.VmHWM);
      const fd = await new Deno.Command("bash", {
        args: [
          "-c",
          `for f in /proc/${proc.pid}/fd/*; do [ "$(readlink $f)" = "${log}" ] && cat /proc/${proc.pid}/fdinfo/\${f##*/} | head -1; done`,
        ],
        stderr: "null",
      }).output();
      const m = /pos:\s+(\d+)/.exec(new TextDecoder().decode(fd.stdout));
      if (m) offset = Math.max(offset, Number(m[1]));
      await new Promise((r) => setTimeout(r, 200));
    }
    const elapsed = (performance.now() - started) / 1000;
    if (!finished) {
      try {
        proc.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
    }
    const out = await outP;
    const text = new TextDecoder().decode(out.stdout);
    const m = /Lines: (\d+) lines/.exec(text);
    const done = finished && m !== null;
    const processed = done ? Number(m![1]) : Math.round(lines * (offset / size));
    return {
      lines,
      finished: done,
      seconds: elapsed,
      linesProcessed: processed,
      perSecond: processed / elapsed,
      vmHwmMiB: hwm / MiB,
      note: done
        ? "completed"
        : `stopped after ${seconds} s; progress from the log fd offset (an upper bound: Python reads ahead)`,
    };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

function fmt(n: number, digits = 1): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits });
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      child: { type: "boolean", default: false },
      trace: { type: "boolean", default: false },
      n: { type: "string" },
      capacity: { type: "string" },
      mix: { type: "string", default: "distinct" },
      worker: { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      json: { type: "string" },
      "f2b-seconds": { type: "string", default: "90" },
      "v8-flags": { type: "string", default: DEFAULT_V8_FLAGS },
    },
  });
  if (values.child) {
    return runChild({
      n: Number(values.n),
      capacity: Number(values.capacity),
      worker: values.worker,
      mix: values.mix as Mix,
      trace: values.trace,
    });
  }
  const quick = values.quick;
  const big = quick ? 2_000_000 : 10_000_000;
  const report: Record<string, unknown> = { date: new Date().toISOString(), deno: Deno.version };

  console.log("## Tracker throughput (in process, capacity for memory_ceiling_mb = 96)");
  const cap96 = trackerCapacityFor(trackerBudgetFor(96));
  const tp = [
    throughput("1M distinct", 1_000_000, "distinct", cap96),
    throughput(`${big / 1e6}M distinct`, big, "distinct", cap96),
    throughput(`${big / 1e6}M heavy-hitter mix`, big, "heavy", cap96),
  ];
  for (const r of tp) {
    console.log(
      `${r.label.padEnd(24)} tracker alone ${fmt(r.trackerOnly / 1e6, 2)} M failures/s ` +
        `(with address generation ${fmt(r.withGeneration / 1e6, 2)} M/s), capacity ${
          fmt(r.capacity)
        }, evictions ${fmt(r.evictions)}, bans ${fmt(r.bans)}`,
    );
  }
  report.throughput = tp;

  console.log("\n## Heavy attackers interleaved through the flood (evict-oldest, maxretry 5)");
  const il = [];
  for (const n of [2_000_000, big]) {
    for (const attempts of [8, 6]) {
      const r = interleaved(n, cap96, attempts);
      il.push(r);
      console.log(
        `${fmt(n / 1e6)}M flood, capacity ${fmt(r.capacity)}: ${r.banned}/${r.attackers} banned ` +
          `(${attempts} failures each, ${fmt(r.apart)} flood addresses apart = ${
            fmt(r.apart / r.capacity)
          }× the table)`,
      );
    }
  }
  report.interleaved = il;

  console.log("\n## Peak memory of a daemon-shaped process (main: tracker, Worker: feeder)");
  console.log(`runtime baseline assumed by trackerBudgetFor(): ${RUNTIME_BASELINE_MB} MiB`);
  const mem: ChildResult[] = [];
  const v8 = values["v8-flags"] || null;
  console.log(`child V8 flags: ${v8 ?? "(none)"}`);
  for (const ceiling of [96, 64]) {
    for (const n of [1_000_000, big]) {
      const r = await child(ceiling, n, true, v8);
      mem.push(r);
      console.log(
        `ceiling ${ceiling} MiB, ${fmt(n / 1e6)}M addresses: capacity ${fmt(r.capacity)} (${
          fmt(r.tableMiB)
        } MiB table), VmHWM ${fmt(r.vmHwmMiB)} MiB, max sampled RSS ${fmt(r.maxRssMiB)} MiB, ${
          fmt(r.perSecond / 1e6, 2)
        } M failures/s end to end, ${r.fits ? "within" : "OVER"} the ceiling`,
      );
    }
  }
  const bare = await child(96, big, false, v8);
  console.log(
    `(no Worker, ceiling 96, ${fmt(big / 1e6)}M: VmHWM ${fmt(bare.vmHwmMiB)} MiB, RSS ${
      fmt(bare.maxRssMiB)
    } MiB)`,
  );
  mem.push(bare);
  report.memory = mem;

  console.log(`\n## Lowest memory_ceiling_mb holding a ${fmt(big / 1e6)}M-address flood`);
  let lowest: number | null = null;
  for (const ceiling of [56, 60, 64, 68, 72, 76, 80, 88, 96]) {
    const r = await child(ceiling, big, true, v8);
    console.log(
      `ceiling ${ceiling}: capacity ${fmt(r.capacity)}, VmHWM ${fmt(r.vmHwmMiB)} MiB → ${
        r.fits ? "holds" : "exceeds"
      }`,
    );
    mem.push(r);
    if (r.fits) {
      lowest = ceiling;
      break;
    }
  }
  console.log(`lowest ceiling that holds: ${lowest ?? "none tested"} MiB`);
  report.lowestCeilingMb = lowest;

  console.log("\n## fail2ban-regex (Debian) on a flood of distinct addresses");
  const f2bSeconds = Number(values["f2b-seconds"]);
  const f2b = [];
  for (const lines of quick ? [200_000] : [1_000_000, big]) {
    const r = await fail2banRegex(lines, f2bSeconds);
    f2b.push(r);
    if ("skipped" in r) {
      console.log(r.skipped);
      break;
    }
    console.log(
      `${fmt(lines / 1e6)}M lines: ${fmt(r.linesProcessed)} processed in ${fmt(r.seconds)} s (${
        fmt(r.perSecond)
      } lines/s), VmHWM ${fmt(r.vmHwmMiB)} MiB — ${r.note}`,
    );
  }
  report.fail2ban = f2b;
  if (values.json) Deno.writeTextFileSync(values.json, JSON.stringify(report, null, 2));
}

if ((globalThis as unknown as { name?: string }).name === FEEDER) runFeeder();
else if (import.meta.main) await main();
