/**
 * The live race (`deno task bench:live`, as root): three whole daemons, one after another, each
 * in its own network namespace with its own nftables backend, on the same workloads:
 *
 * - fail2zig (`mod.ts daemon` as `deno task fail2zig` runs it, `firewall = "nftables"`);
 * - sshguard 2.4 (Debian's `/usr/sbin/sshguard` script with `BACKEND=sshg-fw-nft-sets`; its
 *   config path is the only change, pointing at a private config whose `LOGREADER` is
 *   `tail -F -n +1 -q LOG`, so it reads the same file from its start; `THRESHOLD` = 10 × maxretry);
 * - fail2ban (Debian's `fail2ban-server`, private config dir, sshd jail, `nftables` action,
 *   `backend = auto`, `loglevel = NOTICE`, `dbfile = :memory:`).
 *
 * Every daemon: maxretry 5, findtime and bantime 1 day, loopback never banned. Workloads:
 * 1. attackers: the daemon starts on an empty log; a probe attacker (maxretry lines from a new
 *    address) is appended every 50 ms until one is in the kernel set: start-up time is from the
 *    spawn to that element. 2 s later VmRSS is the idle RSS. Then `--attackers` attackers one at a
 *    time: maxretry − 1 lines, 2 ms, the maxretry-th line; the next one when its ban is visible
 *    (at most 100 ms later). Ban latency is from the write of the maxretry-th line to the element
 *    reported by `nft monitor new elements` (netlink multicast, inside the namespace).
 * 2. realistic: gen-logs.mjs sshd logs (syslog format, seed 7, pre-written and read from the
 *    start; seed 8, appended by `cat` at full speed from the spawn on), then a sentinel
 *    attacker. lines/s = all lines / (spawn → last expected ban in the kernel set); expected:
 *    both truths' mustBan (loopback removed) and the sentinel.
 * 3. flood: after start-up, `--flood-lines` failures each from a new address appended by `cat`
 *    at full speed, then the sentinel: lines/s from the append to the sentinel's element.
 *
 * CPU seconds and RSS are summed over the daemon's processes (every process in its namespace
 * but the monitor; CPU includes reaped children such as sshguard's `nft`). "bans visible" is
 * read from `nft -j list ruleset` at the end of each workload. Figures print as a table with
 * each daemon's ratio to fail2zig; `--write-docs` puts it into docs/performance.md.
 *
 * Options: --quick (small sizes, a smoke run), --realistic-lines N (per part, 10,000,000),
 * --flood-lines N (2,000,000), --attackers N (1,000), --only NAME[,NAME], --timeout S (of the
 * realistic workload, 3600), --flood-timeout S (600), --write-docs, --workloads DIR (keep the
 * generated logs in DIR and reuse those already there, at the same sizes). Installs nothing:
 * .ci/run's packages (nftables, sshguard, fail2ban, iproute2) suffice.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { daemonRunArgs } from "../scripts/_daemon_argv.ts";
import { isRoot, Netns, runOk, uniqueName } from "../tests/_netns.ts";
import { floodIp } from "../tests/_daemon.ts";
import { RUNTIME_PEAK_MB } from "../src/config/mod.ts";
import { trackerBudgetFor, trackerBytesFor, trackerCapacityFor } from "../src/tracker/mod.ts";
import {
  canonicalIp,
  type Figure,
  fmtNumber,
  type GcRecord,
  monitorAddedElements,
  nftJsonElements,
  parseGcLine,
  parseKbLines,
  quantile,
  ratioTable,
  readTruth,
  replaceSection,
  smapsByKind,
  statCpuSeconds,
  syslogTime,
  type Truth,
} from "./_live.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    "realistic-lines": { type: "string" },
    "flood-lines": { type: "string" },
    attackers: { type: "string" },
    only: { type: "string", default: "fail2zig,sshguard,fail2ban" },
    timeout: { type: "string", default: "3600" },
    "flood-timeout": { type: "string", default: "600" },
    "write-docs": { type: "boolean", default: false },
    memory: { type: "boolean", default: false },
    workloads: { type: "string" },
  },
});
const quick = values.quick;
const REALISTIC = Number(values["realistic-lines"] ?? (quick ? 20_000 : 10_000_000));
const FLOOD = Number(values["flood-lines"] ?? (quick ? 2_000 : 2_000_000));
const ATTACKERS = Number(values.attackers ?? (quick ? 20 : 1000));
const TIMEOUT_MS = Number(values.timeout) * 1000;
const FLOOD_TIMEOUT_MS = Number(values["flood-timeout"]) * 1000;
const MAXRETRY = 5;
const SENTINEL = "198.51.100.254";
const ROOT = new URL("..", import.meta.url).pathname;
const enc = new TextEncoder();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function failLine(ip: string, i: number): string {
  return `${syslogTime(new Date())} web1 sshd[${
    1000 + (i % 9000)
  }]: Failed password for root from ${ip} port ${1024 + (i % 60000)} ssh2\n`;
}

/** Attacker `n` (< 65,536) of the attackers workload, in 198.18.0.0/16 (benchmarking). */
const attacker = (n: number) => `198.18.${n >> 8}.${n & 255}`;
/** Probe `k` (< 65,536) of the start-up measure, in 198.19.0.0/16. */
const probe = (k: number) => `198.19.${k >> 8}.${k & 255}`;

// ---------------------------------------------------------------------------------------------
// The three daemons

interface Daemon {
  name: string;
  /** Writes its config into `dir`; returns the argv run inside the namespace. */
  prepare(dir: string, log: string): Promise<string[]>;
  /** Receives each stdout line when given (else stdout is discarded). */
  onStdout?: (line: string) => void;
}

const FAIL2ZIG: Daemon = {
  name: "fail2zig",
  prepare: (dir, log) => fail2zigArgv(dir, log, []),
};

async function fail2zigArgv(dir: string, log: string, runFlags: string[]): Promise<string[]> {
  const config = join(dir, "config.toml");
  await Deno.writeTextFile(
    config,
    `[global]
socket_path = "${dir}/fail2zig.sock"
state_file = "${dir}/state.bin"
audit_log = "${dir}/audit.log"
metrics_bind = ""
firewall = "nftables"

[jails.sshd]
filter = "sshd"
logpath = "${log}"
read_from = "start"
maxretry = ${MAXRETRY}
findtime = "1d"
bantime = "1d"
`,
  );
  return [Deno.execPath(), ...daemonRunArgs(config, runFlags)];
}

const SSHGUARD: Daemon = {
  name: "sshguard",
  async prepare(dir, log) {
    const conf = join(dir, "sshguard.conf");
    await Deno.writeTextFile(
      conf,
      `BACKEND="/usr/libexec/sshguard/sshg-fw-nft-sets"
LOGREADER="LANG=C tail -F -n +1 -q ${log}"
THRESHOLD=${10 * MAXRETRY}
BLOCK_TIME=86400
DETECTION_TIME=86400
IPV4_SUBNET=32
IPV6_SUBNET=128
WHITELIST_FILE=/etc/sshguard/whitelist
`,
    );
    const script = await Deno.readTextFile("/usr/sbin/sshguard");
    const ours = script.replace('config="/etc/sshguard/sshguard.conf"', `config="${conf}"`);
    if (ours === script) throw new Error("/usr/sbin/sshguard: its config line was not found");
    await Deno.writeTextFile(join(dir, "sshguard"), ours);
    return ["/bin/sh", join(dir, "sshguard")];
  },
};

const FAIL2BAN: Daemon = {
  name: "fail2ban",
  async prepare(dir, log) {
    for (const d of ["filter.d", "action.d"]) {
      await runOk(["cp", "-r", `/etc/fail2ban/${d}`, join(dir, d)]);
    }
    await Deno.writeTextFile(
      join(dir, "fail2ban.conf"),
      `[Definition]
loglevel = NOTICE
logtarget = ${dir}/fail2ban.log
socket = ${dir}/f2b.sock
pidfile = ${dir}/f2b.pid
allowipv6 = auto
dbfile = :memory:
`,
    );
    await Deno.writeTextFile(
      join(dir, "jail.conf"),
      `[DEFAULT]
backend = auto
ignoreip = 127.0.0.1/8 ::1
[sshd]
enabled = true
filter = sshd
logpath = ${log}
maxretry = ${MAXRETRY}
findtime = 86400
bantime = 86400
action = nftables[name=sshd, port=ssh, protocol=tcp]
`,
    );
    return [
      "/usr/bin/fail2ban-server",
      "-f",
      "-x",
      "-c",
      dir,
      "-s",
      `${dir}/f2b.sock`,
      "-p",
      `${dir}/f2b.pid`,
    ];
  },
};

// ---------------------------------------------------------------------------------------------
// The kernel set, seen through netlink

/** `nft monitor new elements` inside a namespace: when each address first entered a set. */
class Monitor {
  readonly seen = new Map<string, number>();
  #waiters = new Set<{ ip: string; resolve: (t: number | null) => void }>();
  readonly pid: number;
  readonly #done: Promise<void>;

  constructor(ns: Netns) {
    const child = ns.spawn(["nft", "monitor", "new", "elements"], {
      stdin: "null",
      stderr: "null",
    });
    this.pid = child.pid;
    this.#done = (async () => {
      let rest = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        const now = performance.now();
        rest += chunk;
        const lines = rest.split("\n");
        rest = lines.pop()!;
        for (const l of lines) for (const ip of monitorAddedElements(l)) this.#add(ip, now);
      }
    })();
  }

  #add(ip: string, t: number): void {
    if (this.seen.has(ip)) return;
    this.seen.set(ip, t);
    for (const w of this.#waiters) {
      if (w.ip === ip) {
        this.#waiters.delete(w);
        w.resolve(t);
      }
    }
  }

  /** When `ip` entered a set, waiting up to `ms`; `null` if it has not. */
  wait(ip: string, ms: number): Promise<number | null> {
    const t = this.seen.get(ip);
    if (t !== undefined) return Promise.resolve(t);
    return new Promise((resolve) => {
      const w = {
        ip,
        resolve: (x: number | null) => (clearTimeout(timer), resolve(x)),
      };
      const timer = setTimeout(() => (this.#waiters.delete(w), resolve(null)), ms);
      this.#waiters.add(w);
    });
  }

  /** Waits until the subscription works: a throwaway table's element must come through. */
  async ready(ns: Netns): Promise<void> {
    const probeIp = "192.0.2.255";
    for (let i = 0; i < 50; i++) {
      await ns.execOk([
        "nft",
        "add table inet f2zbench; add set inet f2zbench s { type ipv4_addr; }",
      ]);
      await ns.execOk(["nft", `add element inet f2zbench s { ${probeIp} }`]);
      const t = await this.wait(probeIp, 100);
      await ns.execOk(["nft", "delete table inet f2zbench"]);
      if (t !== null) {
        this.seen.delete(probeIp);
        return;
      }
    }
    throw new Error("nft monitor reported nothing");
  }

  done(): Promise<void> {
    return this.#done;
  }
}

// ---------------------------------------------------------------------------------------------
// One daemon in its namespace

interface Ctx {
  ns: Netns;
  monitor: Monitor;
  log: string;
  spawnAt: number;
  child: Deno.ChildProcess;
  stderr: string[];
}

/** Pids of the daemon: every process in its namespace but the monitor. */
async function daemonPids(c: Ctx): Promise<number[]> {
  const out = await runOk(["ip", "netns", "pids", c.ns.name]);
  return out.split(/\s+/).filter((x) => /^\d+$/.test(x)).map(Number)
    .filter((p) => p !== c.monitor.pid);
}

async function procFiles(pids: number[], file: string): Promise<string[]> {
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      'for p in "$@"; do cat "/proc/$p/$0" 2>/dev/null; echo "\x1e"; done',
      file,
      ...pids.map(String),
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\x1e\n").filter((s) => s.trim() !== "");
}

/** CPU seconds of the daemon's processes (with their reaped children). */
async function cpuSeconds(c: Ctx): Promise<number> {
  const texts = await procFiles(await daemonPids(c), "stat");
  return texts.reduce((n, t) => n + statCpuSeconds(t.trim()), 0);
}

/** A `/proc/PID/status` field (e.g. VmRSS, VmHWM) summed over the daemon's processes, MiB. */
async function memMiB(c: Ctx, field: string): Promise<number> {
  const texts = await procFiles(await daemonPids(c), "status");
  return texts.reduce((n, t) => n + (parseKbLines(t)[field] ?? 0), 0) / 1048576;
}

/** The addresses in the namespace's kernel sets now. */
async function kernelSet(c: Ctx): Promise<Set<string>> {
  return nftJsonElements(await c.ns.execOk(["nft", "-j", "list", "ruleset"]));
}

async function withDaemon<R>(
  d: Daemon,
  prewritten: string | null,
  body: (c: Ctx) => Promise<R>,
): Promise<R> {
  const dir = await Deno.makeTempDir({ prefix: `f2z-live-${d.name}-` });
  await Deno.chmod(dir, 0o755);
  const log = join(dir, "auth.log");
  if (prewritten === null) await Deno.writeTextFile(log, "");
  else await runOk(["cp", prewritten, log]);
  const ns = await Netns.create(uniqueName(`live-${d.name}`));
  try {
    const monitor = new Monitor(ns);
    await monitor.ready(ns);
    const argv = await d.prepare(dir, log);
    const spawnAt = performance.now();
    const onStdout = d.onStdout;
    const child = ns.spawn(argv, {
      stdin: "null",
      stdout: onStdout === undefined ? "null" : "piped",
      stderr: "piped",
      cwd: dir,
    });
    if (onStdout !== undefined) {
      (async () => {
        let rest = "";
        for await (const t of child.stdout.pipeThrough(new TextDecoderStream())) {
          const lines = (rest + t).split("\n");
          rest = lines.pop()!;
          for (const l of lines) onStdout(l);
        }
      })().catch(() => {});
    }
    const stderr: string[] = [];
    (async () => {
      for await (const t of child.stderr.pipeThrough(new TextDecoderStream())) {
        stderr.push(t);
        if (stderr.length > 20) stderr.shift();
      }
    })().catch(() => {});
    return await body({ ns, monitor, log, spawnAt, child, stderr });
  } finally {
    await ns.destroy();
    await Deno.remove(dir, { recursive: true });
  }
}

function appendLines(log: string, ip: string, n: number, from = 0): void {
  const f = Deno.openSync(log, { append: true });
  try {
    for (let i = from; i < from + n; i++) f.writeSync(enc.encode(failLine(ip, i)));
  } finally {
    f.close();
  }
}

async function catAppend(src: string, log: string): Promise<void> {
  const r = await new Deno.Command("bash", {
    args: ["-c", 'cat -- "$1" >> "$2"', "bash", src, log],
  }).output();
  if (!r.success) throw new Error("cat failed");
}

/** Probes until the first ban is visible; ms from the spawn (start-up to first ban possible). */
async function startup(c: Ctx): Promise<number> {
  for (let k = 0; k < 60_000; k++) {
    appendLines(c.log, probe(k), MAXRETRY);
    // Any probe so far counts: a daemon that tails from the end bans a later one.
    const t = await Promise.race(
      Array.from({ length: k + 1 }, (_, j) => c.monitor.wait(probe(j), 50)),
    );
    if (t !== null) return t - c.spawnAt;
    if (performance.now() - c.spawnAt > 120_000) break;
  }
  throw new Error(`no probe banned within 120 s; stderr: ${c.stderr.join("")}`);
}

/** Waits until every address of `expected` is in the monitor's record, or `deadline`. */
async function waitAll(c: Ctx, expected: Set<string>, deadline: number): Promise<number | null> {
  let last = 0;
  for (const ip of expected) {
    const t = await c.monitor.wait(ip, Math.max(0, deadline - performance.now()));
    if (t === null) return null;
    last = Math.max(last, t);
  }
  return last;
}

// ---------------------------------------------------------------------------------------------
// The workloads

interface AttackersResult {
  startupMs: number;
  idleMiB: number;
  latencies: number[];
  visible: number;
  expected: number;
}

async function attackersRun(d: Daemon): Promise<AttackersResult> {
  return await withDaemon(d, null, async (c) => {
    const startupMs = await startup(c);
    await sleep(2000);
    const idleMiB = await memMiB(c, "VmRSS");
    const sent = new Map<string, number>();
    const f = Deno.openSync(c.log, { append: true });
    try {
      for (let n = 0; n < ATTACKERS; n++) {
        const ip = attacker(n);
        for (let i = 0; i < MAXRETRY - 1; i++) f.writeSync(enc.encode(failLine(ip, i)));
        await sleep(2);
        const line = enc.encode(failLine(ip, MAXRETRY));
        sent.set(ip, performance.now());
        f.writeSync(line);
        await c.monitor.wait(ip, 100);
      }
    } finally {
      f.close();
    }
    const expected = new Set(sent.keys());
    await waitAll(c, expected, performance.now() + 30_000);
    const inSet = await kernelSet(c);
    const latencies = [...sent].flatMap(([ip, t0]) => {
      const t = c.monitor.seen.get(ip);
      return t === undefined ? [] : [t - t0];
    }).sort((a, b) => a - b);
    const visible = [...expected].filter((ip) => inSet.has(ip)).length;
    return { startupMs, idleMiB, latencies, visible, expected: expected.size };
  });
}

interface ThroughputResult {
  lines: number;
  /** lines/s, `null` when the last expected ban was not visible before the timeout. */
  rate: number | null;
  /** The timeout of the run, s. */
  timeout: number;
  cpuPerM: number;
  peakMiB: number;
  visible: number;
  expected: number;
  wrong: number;
}

async function finish(
  c: Ctx,
  t0: number,
  cpu0: number,
  lines: number,
  expected: Set<string>,
  never: Set<string>,
  timeoutMs: number,
): Promise<ThroughputResult> {
  const last = await waitAll(c, expected, t0 + timeoutMs);
  const cpu = await cpuSeconds(c) - cpu0;
  const peakMiB = await memMiB(c, "VmHWM");
  const inSet = await kernelSet(c);
  return {
    lines,
    rate: last === null ? null : lines / ((last - t0) / 1000),
    timeout: timeoutMs / 1000,
    cpuPerM: cpu / (lines / 1e6),
    peakMiB,
    visible: [...expected].filter((ip) => inSet.has(ip)).length,
    expected: expected.size,
    wrong: [...inSet].filter((ip) => never.has(ip)).length,
  };
}

interface Realistic {
  pre: string;
  appended: string;
  truth: Truth;
}

async function realisticRun(d: Daemon, w: Realistic): Promise<ThroughputResult> {
  return await withDaemon(d, w.pre, async (c) => {
    const writer = catAppend(w.appended, c.log).then(() => appendLines(c.log, SENTINEL, MAXRETRY));
    const expected = new Set([...w.truth.mustBan, SENTINEL]);
    const r = await finish(
      c,
      c.spawnAt,
      0,
      w.truth.lines + MAXRETRY,
      expected,
      w.truth.neverBan,
      TIMEOUT_MS,
    );
    await writer;
    return r;
  });
}

async function floodRun(d: Daemon, flood: string): Promise<ThroughputResult> {
  return await withDaemon(d, null, async (c) => {
    await startup(c);
    const cpu0 = await cpuSeconds(c);
    const t0 = performance.now();
    await catAppend(flood, c.log);
    appendLines(c.log, SENTINEL, MAXRETRY);
    const never = new Set(Array.from({ length: FLOOD }, (_, i) => canonicalIp(floodIp(i))!));
    return await finish(
      c,
      t0,
      cpu0,
      FLOOD + MAXRETRY,
      new Set([SENTINEL]),
      never,
      FLOOD_TIMEOUT_MS,
    );
  });
}

// ---------------------------------------------------------------------------------------------

async function generate(dir: string, seed: number, out: string): Promise<Truth> {
  const truth = `${out}.truth.json`;
  if (values.workloads !== undefined && await exists(truth)) {
    return readTruth(await Deno.readTextFile(truth));
  }
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "--allow-read",
      `--allow-write=${dir}`,
      join(ROOT, "fixtures/gen-logs.mjs"),
      "--service",
      "sshd",
      "--format",
      "syslog",
      "--span",
      "3600",
      "--seed",
      String(seed),
      "--lines",
      String(REALISTIC),
      "--out",
      out,
      "--truth",
      truth,
    ],
    stdout: "null",
  }).output();
  if (!r.success) throw new Error("gen-logs.mjs failed");
  return readTruth(await Deno.readTextFile(truth));
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function writeFlood(path: string): Promise<void> {
  if (values.workloads !== undefined && await exists(path)) return;
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  let chunk = "";
  for (let i = 0; i < FLOOD; i++) {
    chunk += failLine(floodIp(i), i);
    if (chunk.length > 1 << 20) {
      await f.write(enc.encode(chunk));
      chunk = "";
    }
  }
  await f.write(enc.encode(chunk));
  f.close();
}

interface Result {
  a: AttackersResult;
  r: ThroughputResult;
  f: ThroughputResult;
}

function figures(results: Result[]): Figure[] {
  const bans = (t: { visible: number; expected: number }) => `${t.visible} / ${t.expected}`;
  const row = (
    name: string,
    unit: string,
    digits: number,
    get: (r: Result) => number | string | null,
  ) => ({ name, unit, digits, values: results.map(get) });
  return [
    row("realistic: lines/s", "", 0, (x) => x.r.rate ?? `not done in ${x.r.timeout} s`),
    row("realistic: CPU per M lines", "s", 2, (x) => x.r.rate === null ? "not done" : x.r.cpuPerM),
    row("realistic: bans visible / expected", "", 0, (x) => bans(x.r)),
    row("realistic: wrong bans", "", 0, (x) => String(x.r.wrong)),
    row("realistic: peak RSS (VmHWM)", "MiB", 1, (x) => x.r.peakMiB),
    row("flood: lines/s", "", 0, (x) => x.f.rate ?? `not done in ${x.f.timeout} s`),
    row("flood: CPU per M lines", "s", 2, (x) => x.f.rate === null ? "not done" : x.f.cpuPerM),
    row("flood: bans visible / expected", "", 0, (x) => bans(x.f)),
    row("flood: peak RSS (VmHWM)", "MiB", 1, (x) => x.f.peakMiB),
    row("attackers: ban latency p50", "ms", 2, (x) => quantile(x.a.latencies, 0.5)),
    row("attackers: ban latency p99", "ms", 2, (x) => quantile(x.a.latencies, 0.99)),
    row("attackers: bans visible / expected", "", 0, (x) => bans(x.a)),
    row("idle RSS (VmRSS)", "MiB", 1, (x) => x.a.idleMiB),
    row("start-up to first ban possible", "ms", 0, (x) => x.a.startupMs),
  ];
}

// ---------------------------------------------------------------------------------------------
// --memory: where fail2zig's resident memory goes

/** One snapshot of fail2zig's memory: smaps by kind, V8's heaps by isolate, status fields. */
interface Account {
  status: Record<string, number>;
  kinds: Record<string, number>;
  heaps: Map<number, GcRecord>;
}

async function account(c: Ctx, heaps: Map<number, GcRecord>): Promise<Account> {
  const [pid] = await daemonPids(c);
  if (pid === undefined) throw new Error("fail2zig is not running");
  const exe = await Deno.realPath(Deno.execPath());
  const [smaps] = await procFiles([pid], "smaps");
  const [status] = await procFiles([pid], "status");
  return {
    status: parseKbLines(status ?? ""),
    kinds: smapsByKind(smaps ?? "", exe),
    heaps: new Map(heaps),
  };
}

/** The default ceiling's table (128 MiB), sized as the daemon sizes it. */
function tableBytes(): number {
  return trackerBytesFor(trackerCapacityFor(trackerBudgetFor(128, RUNTIME_PEAK_MB)));
}

function accountTable(idle: Account, peak: Account): string {
  const mib = (b: number | undefined) => b === undefined ? "n/a" : fmtNumber(b / 1048576, 1);
  const heap = (a: Account, i: number, k: "committed" | "live") => a.heaps.get(i)?.[k];
  const anonRest = (a: Account) =>
    a.kinds["anonymous"]! - [...a.heaps.values()].reduce((n, h) => n + h.committed, 0);
  const rows: [string, (a: Account) => number | undefined][] = [
    ["VmRSS", (a) => a.status["VmRSS"]],
    ["VmHWM (peak so far)", (a) => a.status["VmHWM"]],
    ["the deno executable's pages (code, read-only data)", (a) => a.kinds["executable"]],
    ["other files (libc, libm, locale…)", (a) => a.kinds["files"]],
    ["malloc's main arena ([heap])", (a) => a.kinds["brk heap"]],
    ["main thread stack", (a) => a.kinds["stacks"]],
    ["anonymous mappings, all", (a) => a.kinds["anonymous"]],
    ["  V8 main isolate heap, committed", (a) => heap(a, 0, "committed")],
    ["  V8 main isolate heap, live objects", (a) => heap(a, 0, "live")],
    ["  V8 Worker isolate heap, committed", (a) => heap(a, 1, "committed")],
    ["  V8 Worker isolate heap, live objects", (a) => heap(a, 1, "live")],
    ["  the rest (malloc arenas, buffers, the table, thread stacks, code)", anonRest],
  ];
  const lines = [
    "| MiB | idle | after the flood |",
    "|---|---|---|",
    ...rows.map(([n, f]) => `| ${n} | ${mib(f(idle))} | ${mib(f(peak))} |`),
    `| the table as allocated (default 128 MiB ceiling) | ${mib(tableBytes())} | ${
      mib(tableBytes())
    } |`,
  ];
  return lines.join("\n");
}

async function memoryRun(flood: string): Promise<string> {
  const heaps = new Map<number, GcRecord>();
  const traced: Daemon = {
    name: "fail2zig",
    // stdbuf: V8 prints the trace through C stdio, block-buffered into a pipe (and lost at the
    // daemon's execve); line-buffered, each record arrives after its GC.
    prepare: async (dir, log) => [
      "stdbuf",
      "-oL",
      ...await fail2zigArgv(dir, log, ["--v8-flags=--trace-gc-nvp"]),
    ],
    onStdout: (line) => {
      const r = parseGcLine(line);
      if (r === null) return;
      // The daemon re-executes itself once (docs/permissions.md): forget the first image.
      if (r.isolate === 0 && heaps.get(0)?.address !== r.address) heaps.clear();
      heaps.set(r.isolate, r);
    },
  };
  return await withDaemon(traced, null, async (c) => {
    await startup(c);
    await sleep(2000);
    const idle = await account(c, heaps);
    await catAppend(flood, c.log);
    appendLines(c.log, SENTINEL, MAXRETRY);
    if (await c.monitor.wait(SENTINEL, FLOOD_TIMEOUT_MS) === null) throw new Error("no sentinel");
    const peak = await account(c, heaps);
    return accountTable(idle, peak);
  });
}

if (!isRoot) {
  console.error("bench:live needs root (network namespaces, nftables)");
  Deno.exit(2);
}
const daemons = values.only.split(",").map((n) => {
  const d = [FAIL2ZIG, SSHGUARD, FAIL2BAN].find((x) => x.name === n);
  if (d === undefined) throw new Error(`--only: unknown daemon ${n}`);
  return d;
});

async function writeDocs(section: string, table: string): Promise<void> {
  const path = join(ROOT, "docs/performance.md");
  const when = new Date().toISOString().slice(0, 10);
  const sizes = values.memory
    ? `flood ${FLOOD.toLocaleString("en")} lines`
    : `realistic ${REALISTIC.toLocaleString("en")} + ${
      REALISTIC.toLocaleString("en")
    } lines, flood ${FLOOD.toLocaleString("en")} lines, ${ATTACKERS} attackers`;
  const body = `Measured ${when} (\`${
    ["bench:live", ...Deno.args].join(" ")
  }\`): ${sizes}.\n\n${table}`;
  await Deno.writeTextFile(path, replaceSection(await Deno.readTextFile(path), section, body));
  console.log(`written into ${path}`);
}

async function race(work: string, flood: string): Promise<string> {
  const pre = join(work, "pre.log"), appended = join(work, "appended.log");
  const [t1, t2] = [await generate(work, 7, pre), await generate(work, 8, appended)];
  const must = new Set([...t1.mustBan, ...t2.mustBan]);
  const truth: Truth = {
    lines: t1.lines + t2.lines,
    mustBan: must,
    neverBan: new Set([...t1.neverBan, ...t2.neverBan].filter((ip) => !must.has(ip))),
  };
  console.log(
    `workloads: realistic ${REALISTIC.toLocaleString("en")} + ${
      REALISTIC.toLocaleString("en")
    } lines (${must.size} must-ban), flood ${FLOOD.toLocaleString("en")}, ${ATTACKERS} attackers`,
  );
  const results: Result[] = [];
  for (const d of daemons) {
    const a = await attackersRun(d);
    const { latencies, ...rest } = a;
    const p = { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
    console.log(`${d.name} attackers: ${JSON.stringify({ ...rest, ...p })}`);
    const r = await realisticRun(d, { pre, appended, truth });
    console.log(`${d.name} realistic: ${JSON.stringify(r)}`);
    const f = await floodRun(d, flood);
    console.log(`${d.name} flood: ${JSON.stringify(f)}`);
    results.push({ a, r, f });
  }
  return ratioTable(daemons.map((d) => d.name), figures(results));
}

const work = values.workloads ?? await Deno.makeTempDir({ prefix: "f2z-live-" });
try {
  await Deno.chmod(work, 0o755);
  const flood = join(work, "flood.log");
  await writeFlood(flood);
  const section = values.memory ? "bench:memory" : "bench:live";
  const table = values.memory ? await memoryRun(flood) : await race(work, flood);
  console.log(`\n${table}`);
  if (values["write-docs"]) await writeDocs(section, table);
} finally {
  if (values.workloads === undefined) await Deno.remove(work, { recursive: true });
}
