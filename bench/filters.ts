/**
 * `deno task bench:filters [--lines N] [--skip-fail2ban]`: generates an sshd log with ground
 * truth (gen-logs.mjs), then runs, as whole processes on the same file, `fail2zig filter test sshd
 * FILE --json`, `fail2ban-regex FILE sshd` and sshguard's `sshg-parser < FILE`, reporting wall
 * time (best and median of `--runs`, default 3; fail2ban-regex once), lines/s (best wall), CPU
 * time (user + system), peak RSS (GNU time) and ratios; then checks fail2zig's verdicts
 * (maxretry 5, findtime 600 s, every matching line one failure) against the ground truth.
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    lines: { type: "string", default: "1000000" },
    "skip-fail2ban": { type: "boolean", default: false },
    runs: { type: "string", default: "3" },
  },
});
const LINES = Number(values.lines);
/** fail2zig and sshg-parser run this many times; the fastest run counts (fail2ban-regex: once). */
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
}

/**
 * Runs `cmd` under GNU time `runs` times. The machine may be shared: the best wall time is the
 * headline, the median and the CPU time (which other jobs hardly change) are shown beside it.
 */
async function measure(cmd: string, runs = 1): Promise<Measured> {
  const walls: number[] = [];
  let cpu = Infinity, rssMiB = 0;
  for (let i = 0; i < runs; i++) {
    const r = await sh(`${TIME} -f '@@%e %U %S %M' bash -c ${JSON.stringify(cmd)} 2>&1 >/dev/null`);
    const m = /@@([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stdout + r.stderr);
    if (!m) throw new Error(`cannot measure: ${cmd}\n${r.stdout}${r.stderr}`);
    walls.push(Number(m[1]));
    cpu = Math.min(cpu, Number(m[2]) + Number(m[3]));
    rssMiB = Math.max(rssMiB, Number(m[4]) / 1024);
  }
  walls.sort((a, b) => a - b);
  return { s: walls[0]!, median: walls[walls.length >> 1]!, cpu, rssMiB };
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
  const ours = await measure(
    `${deno} run -q -P=daemon ${ROOT}mod.ts filter test sshd ${log} --json > ${json}`,
    RUNS,
  );
  const rows: [string, Measured][] = [["fail2zig filter test --json", ours]];
  if (exists(SSHG)) rows.push(["sshguard sshg-parser", await measure(`${SSHG} < ${log}`, RUNS)]);
  else console.log(`(${SSHG} not found: sshguard not measured)`);
  if (!values["skip-fail2ban"] && (await sh("command -v fail2ban-regex")).code === 0) {
    rows.push(["fail2ban-regex sshd", await measure(`fail2ban-regex ${log} sshd`)]);
  }

  console.log(
    "\ntool                          wall s   median    lines/s   CPU s   peak RSS MiB   fail2zig speed-up (wall, CPU)",
  );
  for (const [name, r] of rows) {
    console.log(
      `${name.padEnd(28)} ${r.s.toFixed(2).padStart(7)} ${r.median.toFixed(2).padStart(8)} ${
        Math.round(LINES / r.s).toLocaleString("en").padStart(10)
      } ${r.cpu.toFixed(2).padStart(7)} ${r.rssMiB.toFixed(1).padStart(14)} ${
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
