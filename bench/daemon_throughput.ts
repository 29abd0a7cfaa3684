/**
 * Daemon throughput benchmark (`deno task bench:throughput`): lines/s through the running daemon
 * (file source → parser Worker → filters → postMessage → engine → tracker) while a log is
 * appended at full speed by a separate process (`cat`).
 *
 * The daemon is started as tests/_daemon.ts starts it (`mod.ts daemon` under `-P=daemon` with
 * `DAEMON_V8_FLAGS`), log-only firewall, one sshd jail, `memory_ceiling_mb = 128`. Workloads:
 * - realistic: a 1M-line sshd log from fixtures/gen-logs.mjs (`--format iso --span 300`);
 * - flood: 2M lines, every one a failure from a new address (future timestamps count as now).
 *
 * The clock runs from the start of `cat` until `status_jail sshd` reports every line
 * (`lines_total`, polled every 55 ms). VmHWM of the daemon is read after each run.
 * Options: --runs N (default 3, median reported), --only realistic|flood, --realistic-lines N,
 * --flood-lines N, --cpu-prof DIR (writes V8 CPU profiles of the daemon into DIR).
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { IpcClient } from "../src/ipc/mod.ts";
import { daemonRunArgs } from "../scripts/_daemon_argv.ts";
import {
  floodIp,
  generateLog,
  makeConfig,
  privateGlobal,
  procStatus,
  sshdJail,
} from "../tests/_daemon.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
    only: { type: "string" },
    "realistic-lines": { type: "string", default: "1000000" },
    "flood-lines": { type: "string", default: "2000000" },
    "cpu-prof": { type: "string" },
  },
});
const RUNS = Number(values.runs);
/** Longest wait for the daemon to count every line of one run. */
const RUN_TIMEOUT_MS = 300_000;
/** Interval of the `status_jail` poll (the control socket allows 20 requests/s). */
const POLL_MS = 55;
/** `/proc/PID/task/TID/stat` times are in clock ticks (USER_HZ). */
const CLOCK_TICKS = 100;

async function writeFlood(path: string, lines: number): Promise<void> {
  const ts = new Date(Date.now() + 7 * 86_400_000).toISOString(); // future: counts as now
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  let chunk = "";
  for (let i = 0; i < lines; i++) {
    chunk += `${ts} web1 sshd[7]: Failed password for root from ${floodIp(i)} port 22 ssh2\n`;
    if (chunk.length > 1 << 20) {
      await file.write(enc.encode(chunk));
      chunk = "";
    }
  }
  await file.write(enc.encode(chunk));
  file.close();
}

async function countLines(path: string): Promise<number> {
  let n = 0;
  const f = await Deno.open(path);
  for await (const chunk of f.readable) for (const b of chunk) if (b === 10) n++;
  return n;
}

/** CPU seconds (user + system) per thread of `pid`, keyed by `comm:tid`. */
async function threadCpu(pid: number): Promise<Map<string, number>> {
  const out = await new Deno.Command("bash", {
    args: ["-c", 'cat /proc/"$1"/task/*/stat', "bash", String(pid)],
  }).output();
  const cpu = new Map<string, number>();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const m = /^(\d+) \((.*)\) (.*)$/.exec(line);
    if (m === null) continue;
    const f = m[3]!.split(" ");
    cpu.set(`${m[2]}:${m[1]}`, (Number(f[11]) + Number(f[12])) / CLOCK_TICKS);
  }
  return cpu;
}

async function linesTotal(sock: string): Promise<number> {
  const c = await IpcClient.connect(sock);
  try {
    const r = await c.request({ v: 1, cmd: "status_jail", jail: "sshd" });
    if (!r.ok && r.code === "rate_limited") return -1;
    if (!r.ok) throw new Error(JSON.stringify(r));
    return (r as unknown as Record<string, number>)["lines_total"]!;
  } finally {
    c.close();
  }
}

interface Run {
  rate: number;
  seconds: number;
  hwmMiB: number;
  /** CPU seconds per busy thread of the daemon during the run. */
  threads: string;
}

async function runOnce(sample: string, lines: number, profDir?: string): Promise<Run> {
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d, "memory_ceiling_mb = 128")}
${sshdJail(d, 'maxretry = 5\nfindtime = "1h"\nbantime = "1h"')}`
  );
  const log = join(dir, "auth.log");
  await Deno.writeTextFile(log, "");
  const proc = new Deno.Command(Deno.execPath(), {
    args: daemonRunArgs(
      config,
      profDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profDir}`],
    ),
    stdout: "null",
    stderr: "piped",
    env: {},
  }).spawn();
  const stderr: string[] = [];
  let sawReady!: () => void;
  const ready = new Promise<void>((r) => sawReady = r);
  const pump = (async () => {
    let rest = "";
    for await (const chunk of proc.stderr.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        if (stderr.length < 50) stderr.push(line);
        if (line.includes('"msg":"ready"')) sawReady();
      }
    }
  })();
  try {
    const started = await Promise.race([
      ready.then(() => true),
      proc.status.then(() => false),
      new Promise<false>((r) => setTimeout(() => r(false), 30_000)),
    ]);
    if (!started) throw new Error(`daemon did not start: ${stderr.join("\n")}`);
    const sock = join(dir, "fail2zig.sock");
    const cpu0 = await threadCpu(proc.pid);
    const t0 = performance.now();
    const writer = new Deno.Command("bash", {
      args: ["-c", 'cat -- "$1" >> "$2"', "bash", sample, log],
    }).output();
    let seen = 0;
    while (seen < lines) {
      if (performance.now() - t0 > RUN_TIMEOUT_MS) {
        throw new Error(`only ${seen} of ${lines} lines counted in ${RUN_TIMEOUT_MS} ms`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
      seen = Math.max(seen, await linesTotal(sock));
    }
    const seconds = (performance.now() - t0) / 1000;
    if (!(await writer).success) throw new Error("writer failed");
    const hwm = (await procStatus(proc.pid))["VmHWM"]! / 1024;
    const cpu1 = await threadCpu(proc.pid);
    const threads = [...cpu1].map(([k, v]) => [k, v - (cpu0.get(k) ?? 0)] as const)
      .filter(([, v]) => v >= 0.05).sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k.replace(/:\d+$/, "")} ${v.toFixed(2)}`).join(", ");
    return { rate: lines / seconds, seconds, hwmMiB: hwm / 1024, threads };
  } finally {
    try {
      proc.kill("SIGTERM");
    } catch { /* gone */ }
    await proc.status;
    await pump;
    await Deno.remove(dir, { recursive: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const work = await Deno.makeTempDir({ prefix: "fail2zig-bench-throughput-" });
try {
  const workloads: { name: string; path: string; lines: number }[] = [];
  if (values.only === undefined || values.only === "realistic") {
    const g = await generateLog({
      service: "sshd",
      lines: Number(values["realistic-lines"]),
      seed: 7,
      dir: work,
      span: 300,
    });
    workloads.push({ name: "realistic", path: g.path, lines: await countLines(g.path) });
  }
  if (values.only === undefined || values.only === "flood") {
    const path = join(work, "flood.log");
    await writeFlood(path, Number(values["flood-lines"]));
    workloads.push({ name: "flood", path, lines: Number(values["flood-lines"]) });
  }
  for (const w of workloads) {
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await runOnce(w.path, w.lines, values["cpu-prof"]);
      runs.push(r);
      console.log(
        `  ${w.name} run ${i + 1}: ${Math.round(r.rate).toLocaleString("en")} lines/s ` +
          `(${r.seconds.toFixed(2)} s), VmHWM ${r.hwmMiB.toFixed(1)} MiB; CPU s: ${r.threads}`,
      );
    }
    console.log(
      `${w.name}: ${w.lines.toLocaleString("en")} lines, median ${
        Math.round(median(runs.map((r) => r.rate))).toLocaleString("en")
      } lines/s, max VmHWM ${Math.max(...runs.map((r) => r.hwmMiB)).toFixed(1)} MiB`,
    );
  }
} finally {
  await Deno.remove(work, { recursive: true });
}
