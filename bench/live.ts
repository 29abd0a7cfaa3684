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
 * realistic workload, 3600), --flood-timeout S (600), --write-docs. Installs nothing: .ci/run's
 * packages (nftables, sshguard, fail2ban, iproute2) suffice.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { daemonRunArgs } from "../scripts/_daemon_argv.ts";
import { isRoot, Netns, runOk, uniqueName } from "../tests/_netns.ts";
import { floodIp } from "../tests/_daemon.ts";
import {
  type Figure,
  monitorAddedElements,
  nftJsonElements,
  parseKbLines,
  quantile,
  ratioTable,
  readTruth,
  replaceSection,
  statCpuSeconds,
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
  },
});
const quick = values.quick;
const REALISTIC = Number(values["realistic-lines"] ?? (quick ? 20_000 : 10_000_000));
const FLOOD = Number(values["flood-lines"] ?? (quick ? 20_000 : 2_000_000));
const ATTACKERS = Number(values.attackers ?? (quick ? 20 : 1000));
const TIMEOUT_MS = Number(values.timeout) * 1000;
const FLOOD_TIMEOUT_MS = Number(values["flood-timeout"]) * 1000;
const MAXRETRY = 5;
const SENTINEL = "198.51.100.254";
const ROOT = new URL("..", import.meta.url).pathname;
const enc = new TextEncoder();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Classic syslog time (UTC, as gen-logs writes it), which all three daemons read. */
function syslogNow(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ${
    p(d.getUTCHours())
  }:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function failLine(ip: string, i: number): string {
  return `${syslogNow()} web1 sshd[${
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
}

const FAIL2ZIG: Daemon = {
  name: "fail2zig",
  async prepare(dir, log) {
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
    return [Deno.execPath(), ...daemonRunArgs(config)];
  },
};

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
    const child = ns.spawn(argv, { stdin: "null", stdout: "null", stderr: "piped", cwd: dir });
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
    const never = new Set(Array.from({ length: FLOOD }, (_, i) => floodIp(i)));
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

async function writeFlood(path: string): Promise<void> {
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
    row("realistic: CPU per M lines", "s", 2, (x) => x.r.cpuPerM),
    row("realistic: bans visible / expected", "", 0, (x) => bans(x.r)),
    row("realistic: wrong bans", "", 0, (x) => String(x.r.wrong)),
    row("realistic: peak RSS (VmHWM)", "MiB", 1, (x) => x.r.peakMiB),
    row("flood: lines/s", "", 0, (x) => x.f.rate ?? `not done in ${x.f.timeout} s`),
    row("flood: CPU per M lines", "s", 2, (x) => x.f.cpuPerM),
    row("flood: bans visible / expected", "", 0, (x) => bans(x.f)),
    row("flood: peak RSS (VmHWM)", "MiB", 1, (x) => x.f.peakMiB),
    row("attackers: ban latency p50", "ms", 2, (x) => quantile(x.a.latencies, 0.5)),
    row("attackers: ban latency p99", "ms", 2, (x) => quantile(x.a.latencies, 0.99)),
    row("attackers: bans visible / expected", "", 0, (x) => bans(x.a)),
    row("idle RSS (VmRSS)", "MiB", 1, (x) => x.a.idleMiB),
    row("start-up to first ban possible", "ms", 0, (x) => x.a.startupMs),
  ];
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
const work = await Deno.makeTempDir({ prefix: "f2z-live-" });
try {
  await Deno.chmod(work, 0o755);
  const pre = join(work, "pre.log"), appended = join(work, "appended.log");
  const [t1, t2] = [await generate(work, 7, pre), await generate(work, 8, appended)];
  const truth: Truth = {
    lines: t1.lines + t2.lines,
    mustBan: new Set([...t1.mustBan, ...t2.mustBan]),
    neverBan: new Set(
      [...t1.neverBan, ...t2.neverBan].filter((ip) => !t1.mustBan.has(ip) && !t2.mustBan.has(ip)),
    ),
  };
  const flood = join(work, "flood.log");
  await writeFlood(flood);
  console.log(
    `workloads: realistic ${REALISTIC.toLocaleString("en")} + ${
      REALISTIC.toLocaleString("en")
    } lines ` +
      `(${truth.mustBan.size} must-ban), flood ${
        FLOOD.toLocaleString("en")
      }, ${ATTACKERS} attackers`,
  );
  const results: Result[] = [];
  for (const d of daemons) {
    const a = await attackersRun(d);
    console.log(
      `${d.name} attackers: ${
        JSON.stringify({
          ...a,
          latencies: undefined,
          p50: quantile(a.latencies, 0.5),
          p99: quantile(a.latencies, 0.99),
        })
      }`,
    );
    const r = await realisticRun(d, { pre, appended, truth });
    console.log(`${d.name} realistic: ${JSON.stringify(r)}`);
    const f = await floodRun(d, flood);
    console.log(`${d.name} flood: ${JSON.stringify(f)}`);
    results.push({ a, r, f });
  }
  const table = ratioTable(daemons.map((d) => d.name), figures(results));
  console.log(`\n${table}`);
  if (values["write-docs"]) {
    const path = join(ROOT, "docs/performance.md");
    const when = new Date().toISOString().slice(0, 10);
    const body = `Measured ${when} on this project's 2-core machine: realistic ${
      REALISTIC.toLocaleString("en")
    } + ${REALISTIC.toLocaleString("en")} lines, flood ${
      FLOOD.toLocaleString("en")
    } lines, ${ATTACKERS} attackers.\n\n${table}`;
    await Deno.writeTextFile(
      path,
      replaceSection(await Deno.readTextFile(path), "bench:live", body),
    );
    console.log(`written into ${path}`);
  }
} finally {
  await Deno.remove(work, { recursive: true });
}
