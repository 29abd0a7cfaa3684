/**
 * Fleet benchmark (`deno task bench:fleet`): ban propagation through NATS JetStream between real
 * daemons (`mod.ts daemon`, log-only, narrowed permissions, as the tests start them) and a real
 * nats-server on loopback, with 3 and 10 daemons on this one machine.
 *
 * 1. propagation latency — `--bans` sshd failure lines appended to daemon 0's log one at a time
 *    (maxretry 1: each bans); from the append to each other daemon's ban record (jail `fleet`)
 *    read from its output; p50/p99/max over all (ban, receiver) pairs;
 * 2. bans/s — `--burst` failure lines of distinct addresses in one append; from the append to
 *    the last ban record on the last receiver (the receivers' `max_rate` is raised so the rate
 *    cap does not count);
 * 3. memory — resident set of daemon 0 (with [fleet], after the runs), the peak (VmHWM) of daemon
 *    0 (publishing the burst) and of daemon 1 (applying it); then, like for like, `--rounds`
 *    pairs of idle daemons of the same config, one with [fleet] (connected, an empty stream
 *    replayed) and one without, started together and read after the same 3 s.
 *
 * The reference: CrowdSec's bouncers poll the local API every 10 s by default (the decision
 * reaches a bouncer 0–10 s after it is made, 5 s on average).
 *
 * Options: --bans N (200), --burst N (2000), --sizes 3,10 ("": none), --rounds N (3)
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import {
  makeConfig,
  privateGlobal,
  procStatus,
  type RunningDaemon,
  startDaemon,
} from "../tests/_daemon.ts";
import { startNats } from "../tests/_nats.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    bans: { type: "string", default: "200" },
    burst: { type: "string", default: "2000" },
    sizes: { type: "string", default: "3,10" },
    rounds: { type: "string", default: "3" },
  },
});
const BANS = Number(args.values.bans);
const BURST = Number(args.values.burst);
const SIZES = args.values.sizes.split(",").filter((n) => n !== "").map(Number);
const ROUNDS = Number(args.values.rounds);
/** How long both idle daemons run before their memory is read, ms. */
const SETTLE_MS = 3_000;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function toml(url: string | null, name: string) {
  return (dir: string) =>
    `${privateGlobal(dir)}[jails.sshd]\nfilter = "sshd"\nlogpath = "${
      join(dir, "auth.log")
    }"\nmaxretry = 1\nbantime = "1h"\n${
      url === null ? "" : `[fleet]\nurl = "${url}"\nname = "${name}"\nmax_rate = 100000\n`
    }`;
}

async function daemon(url: string | null, name: string): Promise<RunningDaemon> {
  const { dir, config } = await makeConfig(toml(url, name));
  await Deno.writeTextFile(join(dir, "auth.log"), "");
  const d = await startDaemon(dir, config, { readyTimeoutMs: 60_000 });
  if (url !== null) await d.waitFor((r) => r["msg"] === "fleet link connected", 30_000);
  return d;
}

/** Resolves when `d` printed the fleet ban of `ip`. */
function fleetBan(d: RunningDaemon, ip: string, ms = 60_000): Promise<number> {
  const ev = (r: Record<string, unknown>) => r["event"] ?? r["fail2zig_event"];
  return d.waitFor((r) => ev(r) === "ban" && r["ip"] === ip && r["jail"] === "fleet", ms)
    .then(() => performance.now());
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** One sshd failure line of now (classic syslog time, UTC); maxretry 1 bans at once. */
function sshLine(ip: string, i: number): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  const t = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ${
    p(d.getUTCHours())
  }:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  return `${t} web1 sshd[${1000 + i % 9000}]: Failed password for root from ${ip} port ${
    1024 + i
  } ssh2\n`;
}

async function runSize(n: number, run: number): Promise<void> {
  const server = await startNats();
  const daemons: RunningDaemon[] = [];
  try {
    for (let i = 0; i < n; i++) daemons.push(await daemon(server.url, `h${i}`));
    const [origin, ...receivers] = daemons as [RunningDaemon, ...RunningDaemon[]];
    const log = await Deno.open(join(origin.dir, "auth.log"), { append: true });
    const enc = new TextEncoder();
    // 1. latency: one failure line at a time (maxretry 1), to every receiver's ban record
    const lat: number[] = [];
    for (let i = 0; i < BANS; i++) {
      const addr = `198.18.${run * 16 + (i >> 8)}.${i & 255}`;
      const waits = receivers.map((d) => fleetBan(d, addr));
      const t0 = performance.now();
      await log.write(enc.encode(sshLine(addr, i)));
      for (const t of await Promise.all(waits)) lat.push(t - t0);
    }
    lat.sort((a, b) => a - b);
    // 2. a burst: BURST lines in one write
    const burst = Array.from(
      { length: BURST },
      (_, i) => `198.19.${run * 16 + (i >> 8)}.${i & 255}`,
    );
    const done = Promise.all(receivers.map((d) => fleetBan(d, burst.at(-1)!, 300_000)));
    const t0 = performance.now();
    await log.write(enc.encode(burst.map((a, i) => sshLine(a, i)).join("")));
    const secs = (Math.max(...await done) - t0) / 1000;
    log.close();
    const status = await procStatus(origin.process.pid);
    const rss = status.VmRSS ?? 0;
    const peak = (pid: number, st: Record<string, number>) =>
      `${((st.VmHWM ?? 0) / 1048576).toFixed(1)} MiB (pid ${pid})`;
    const receiver = receivers[0]!.process.pid;
    console.log(
      `${n} daemons: propagation (log line on daemon 0 -> ban record on each other) p50 ${
        quantile(lat, 0.5).toFixed(1)
      } ms, p99 ${quantile(lat, 0.99).toFixed(1)} ms, max ${
        lat.at(-1)!.toFixed(1)
      } ms (${lat.length} pairs); burst of ${BURST}: ${
        (BURST / secs).toFixed(0)
      } bans/s reached every receiver; daemon 0 RSS ${
        (rss / 1048576).toFixed(1)
      } MiB; peak RSS (VmHWM) of daemon 0 ${peak(origin.process.pid, status)}, of daemon 1 ${
        peak(receiver, await procStatus(receiver))
      }`,
    );
  } finally {
    for (const d of daemons) await d.stop().catch(() => {});
    await server.stop();
  }
}

for (const [run, n] of SIZES.entries()) await runSize(n, run);
// Memory like for like: an idle daemon with [fleet] (connected, its empty stream replayed) and
// one of the same config without it, started together and sampled after the same settling time.
const idle = await startNats();
try {
  const mib = (n: number | undefined) => ((n ?? 0) / 1048576).toFixed(1);
  for (let round = 1; round <= ROUNDS; round++) {
    const plain = await daemon(null, "plain");
    const fleet = await daemon(idle.url, `idle${round}`);
    try {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const [p, f] = await Promise.all([plain, fleet].map((d) => procStatus(d.process.pid)));
      console.log(
        `idle, round ${round}: without [fleet] RSS ${mib(p!.VmRSS)} MiB (peak ${
          mib(p!.VmHWM)
        }), with [fleet] RSS ${mib(f!.VmRSS)} MiB (peak ${mib(f!.VmHWM)})`,
      );
    } finally {
      await plain.stop();
      await fleet.stop();
    }
  }
} finally {
  await idle.stop();
}
console.log("reference: CrowdSec bouncers poll every 10 s by default (0-10 s, 5 s on average)");
