/**
 * `deno task bench:filters [--lines N] [--runs N] [--skip-fail2ban]`: generates an sshd log with
 * ground truth (gen-logs.mjs), then runs, as whole processes on the same file, `fail2zig filter
 * test sshd FILE --json` (threads as it chooses them, `--jobs 1` beside it, and once more with the
 * daemon's V8 flags, which `deno task compile` embeds in the shipped binary), sshguard's
 * `sshg-parser < FILE` and `fail2ban-regex FILE sshd`, reporting wall time (best and median of
 * `--runs`, default 5, the tools taking turns so that load from other jobs hits them alike;
 * fail2ban-regex once), lines/s (best wall), CPU time (user + system, all threads), peak RSS (GNU
 * time) and ratios; then checks fail2zig's verdicts (maxretry 5, findtime 600 s, every matching
 * line one failure) against the ground truth.
 * @module
 */
import { parseArgs } from "node:util";
import { DAEMON_V8_FLAGS } from "../src/daemon/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    lines: { type: "string", default: "1000000" },
    "skip-fail2ban": { type: "boolean", default: false },
    runs: { type: "string", default: "5" },
  },
});
const LINES = Number(values.lines);
/** fail2zig and sshg-parser run this many times in turns; the fastest run counts (fail2ban-regex: once). */
const RUNS = Math.max(1, Number(values.runs));
const ROOT = new URL("../", import.meta.url).pathname;
const TIME = "/usr/bin/time";
const SSHG = "/usr/libexec/sshguard/sshg-parser";

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function sh(cmd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("bash", {
    args: ["-c", cmd],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Figures of one command over its runs. */
interface Measured {
  /** Best wall seconds. */
  s: number;
  /** Median wall seconds. */
  median: number;
  /** Least CPU seconds (user + system, all threads). */
  cpu: number;
  /** Highest peak RSS, MiB. */
  rssMiB: number;
  /** What the command wrote on stderr in its last run. */
  stderr: string;
}

/**
 * One run of `cmd`: wall and CPU seconds (user + system, all threads) from bash's `time` (to the
 * millisecond: GNU time's `%e` has 10 ms steps, 4 % of a 0.25 s run), peak RSS KiB from GNU time,
 * and what `cmd` wrote on stderr.
 */
async function once(cmd: string): Promise<{ wall: number; cpu: number; rss: number; err: string }> {
  if (cmd.includes("'")) throw new Error(`no single quotes in a measured command: ${cmd}`);
  const script = `TIMEFORMAT="@@@%3R %3U %3S"; time { ${cmd} ; }`;
  const r = await sh(`${TIME} -f '@@%M' bash -c '${script}' 2>&1 >/dev/null`);
  const out = r.stdout + r.stderr;
  const t = /@@@([\d.]+) ([\d.]+) ([\d.]+)/.exec(out);
  const m = /@@(\d+)\s*$/.exec(out);
  if (!t || !m) throw new Error(`cannot measure: ${cmd}\n${out}`);
  return {
    wall: Number(t[1]),
    cpu: Number(t[2]) + Number(t[3]),
    rss: Number(m[1]),
    err: out.slice(0, t.index),
  };
}

/**
 * Runs each of `cmds` `runs` times under GNU time, taking turns (the machine may be shared: load
 * from other jobs then falls on every tool alike). The best wall time is the headline; the median
 * and the CPU time (which other jobs hardly change) are shown beside it.
 */
async function measure(cmds: string[], runs: number): Promise<Measured[]> {
  const walls = cmds.map(() => [] as number[]);
  const out = cmds.map(() => ({ s: 0, median: 0, cpu: Infinity, rssMiB: 0, stderr: "" }));
  for (let i = 0; i < runs; i++) {
    for (const [k, cmd] of cmds.entries()) {
      const r = await once(cmd);
      walls[k]!.push(r.wall);
      const o = out[k]!;
      o.cpu = Math.min(o.cpu, r.cpu);
      o.rssMiB = Math.max(o.rssMiB, r.rss / 1024);
      o.stderr = r.err;
    }
  }
  return out.map((o, k) => {
    const w = walls[k]!.sort((a, b) => a - b);
    return { ...o, s: w[0]!, median: w[w.length >> 1]! };
  });
}

const dir = await Deno.makeTempDir({ prefix: "fail2zig-bench-" });
try {
  const gen = exists(`${ROOT}fixtures/gen-logs.mjs`)
    ? `${ROOT}fixtures/gen-logs.mjs`
    : `${ROOT}../shared/bench/gen-logs.mjs`;
  const log = `${dir}/auth.log`, truthPath = `${dir}/truth.json`, json = `${dir}/out.json`;
  const g = await sh(
    `node ${gen} --service sshd --lines ${LINES} --seed 7 --out ${log} --truth ${truthPath}`,
  );
  if (g.code !== 0) throw new Error(`gen-logs failed: ${g.stderr}`);
  console.log(`generated ${LINES} sshd lines (${(Deno.statSync(log).size / 1e6).toFixed(1)} MB)`);
  await sh(`cat ${log} > /dev/null`); // warm the page cache for every tool alike

  const deno = Deno.execPath();
  const fail2zig = `${deno} run -q -P=daemon ${ROOT}mod.ts filter test sshd ${log} --json`;
  const shipped = `${deno} run -q --v8-flags=${DAEMON_V8_FLAGS} -P=daemon ${ROOT}mod.ts filter ` +
    `test sshd ${log} --json`;
  const cmds = [
    `${fail2zig} > ${json}`,
    `${fail2zig} --jobs 1 > /dev/null`,
    `${shipped} > /dev/null`,
  ];
  const names = [
    "fail2zig filter test --json",
    "  the same with --jobs 1",
    "  with the daemon's V8 flags",
  ];
  if (exists(SSHG)) {
    cmds.push(`${SSHG} < ${log}`);
    names.push("sshguard sshg-parser");
  } else console.log(`(${SSHG} not found: sshguard not measured)`);
  const measured = await measure(cmds, RUNS);
  const rows: [string, Measured][] = names.map((n, k) => [n, measured[k]!]);
  const ours = measured[0]!;
  if (!values["skip-fail2ban"] && (await sh("command -v fail2ban-regex")).code === 0) {
    rows.push(["fail2ban-regex sshd", (await measure([`fail2ban-regex ${log} sshd`], 1))[0]!]);
  }
  const threads = /; (\d+) threads?/.exec(ours.stderr)?.[1] ?? "?";
  console.log(
    `fail2zig used ${threads} thread(s) (--jobs chose them; ${navigator.hardwareConcurrency} CPUs); best of ${RUNS} runs, tools in turns`,
  );

  console.log(
    "\ntool                          wall s    median    lines/s    CPU s   peak RSS MiB   fail2zig speed-up (wall, CPU)",
  );
  for (const [name, r] of rows) {
    console.log(
      `${name.padEnd(28)} ${r.s.toFixed(3).padStart(7)} ${r.median.toFixed(3).padStart(9)} ${
        Math.round(LINES / r.s).toLocaleString("en").padStart(10)
      } ${r.cpu.toFixed(3).padStart(8)} ${r.rssMiB.toFixed(1).padStart(14)} ${
        (r.s / ours.s).toFixed(2).padStart(10)
      }× ${(r.cpu / ours.cpu).toFixed(2).padStart(6)}×`,
    );
  }

  // verdicts: maxretry 5 within findtime 600 s, one failure per matching line
  const truth = JSON.parse(await Deno.readTextFile(truthPath)) as {
    mustBan: string[];
    neverBan: string[];
    decoys: string[];
  };
  const times = new Map<string, number[]>();
  for (const l of (await Deno.readTextFile(json)).split("\n")) {
    if (l === "") continue;
    const r = JSON.parse(l) as { ip: string; time: string | null };
    const t = r.time === null ? 0 : Date.parse(r.time);
    let a = times.get(r.ip);
    if (!a) times.set(r.ip, a = []);
    a.push(t);
  }
  const banned = new Set<string>();
  for (const [ip, ts] of times) {
    ts.sort((x, y) => x - y);
    for (let i = 4; i < ts.length; i++) {
      if (ts[i]! - ts[i - 4]! <= 600_000) {
        banned.add(ip);
        break;
      }
    }
  }
  const missed = truth.mustBan.filter((ip) => !banned.has(ip));
  const wrong = truth.neverBan.filter((ip) => banned.has(ip));
  const decoyHits = truth.decoys.filter((ip) => times.has(ip));
  console.log(
    `\nverdicts: ${banned.size} banned; mustBan ${
      truth.mustBan.length - missed.length
    }/${truth.mustBan.length}; neverBan wrongly banned ${wrong.length}/${truth.neverBan.length}; decoys matched ${decoyHits.length}/${truth.decoys.length}`,
  );
  const ok = missed.length === 0 && wrong.length === 0 && decoyHits.length === 0;
  console.log(ok ? "verdicts match the ground truth" : "VERDICTS DIFFER from the ground truth");
  if (!ok) Deno.exitCode = 1;
} finally {
  await Deno.remove(dir, { recursive: true });
}
