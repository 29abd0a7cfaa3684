/**
 * Threat D-03: an authorised client flooding the control socket must not delay bans. A live
 * daemon (log-only backend) bans fresh addresses while clients hammer its socket — some sending
 * requests back to back on one connection, some opening a connection per request — and the
 * append → ban-record latency is compared with the same measurement on a quiet socket.
 */
import { ok } from "node:assert/strict";
import { join } from "node:path";
import { type ControlFlood, floodControlSocket } from "./_control_flood.ts";
import { makeConfig, privateGlobal, startDaemon } from "./_daemon.ts";

/** Stated bound: p99 ban latency under a flood stays within quiet p99 + this many ms. */
const FLOOD_P99_SLACK_MS = 100;
const SAMPLES = 25;
/** Pause between samples, so that the flood runs through the whole measurement. */
const GAP_MS = 30;
const STEADY = 4;
const CHURNERS = 4;

function failLine(ip: string, i: number): string {
  return `${new Date().toISOString()} web1 sshd[${
    1000 + i
  }]: Failed password for root from ${ip} port ${40000 + i} ssh2\n`;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

Deno.test("a client flooding the control socket does not delay bans", async () => {
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d)}
[jails.sshd]
filter = "sshd"
logpath = "${join(d, "sshd.log")}"
maxretry = 2
findtime = "10m"
bantime = "1h"
`
  );
  const logPath = join(dir, "sshd.log");
  await Deno.writeTextFile(logPath, "");
  const daemon = await startDaemon(dir, config).catch(async (e) => {
    await Deno.remove(dir, { recursive: true });
    throw e;
  });
  const log = await Deno.open(logPath, { append: true });
  const enc = new TextEncoder();
  let n = 0;
  const measure = async (): Promise<number[]> => {
    const out: number[] = [];
    for (let s = 0; s < SAMPLES; s++) {
      n++;
      const ip = `198.51.${100 + (n >> 8)}.${n & 255}`;
      const t0 = performance.now();
      await log.write(enc.encode(failLine(ip, 2 * n) + failLine(ip, 2 * n + 1)));
      await daemon.waitFor((r) => r["event"] === "ban" && r["ip"] === ip, 10_000);
      out.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
    return out;
  };
  let flood: ControlFlood | null = null;
  try {
    await measure(); // warm-up
    const quiet = await measure();
    const sock = join(dir, "fail2zig.sock");
    flood = floodControlSocket(sock, { steady: STEADY, churn: CHURNERS });
    await new Promise((r) => setTimeout(r, 200));
    let flooded: number[];
    const floodStart = performance.now();
    try {
      flooded = await measure();
    } finally {
      await flood.stop();
    }
    const { answered, limited } = flood;
    const rate = answered / ((performance.now() - floodStart) / 1000);
    const q = { p50: quantile(quiet, 0.5), p99: quantile(quiet, 0.99) };
    const f = { p50: quantile(flooded, 0.5), p99: quantile(flooded, 0.99) };
    console.log(
      `ban latency quiet p50 ${q.p50.toFixed(1)} ms p99 ${q.p99.toFixed(1)} ms; ` +
        `flooded p50 ${f.p50.toFixed(1)} ms p99 ${f.p99.toFixed(1)} ms ` +
        `(${answered} replies, ${rate.toFixed(0)}/s, ${limited} rate_limited)`,
    );
    ok(rate > 500, `the flood must actually run (${rate.toFixed(0)} replies/s)`);
    ok(limited > 0, "the flood must reach the rate limit");
    ok(
      f.p99 <= q.p99 + FLOOD_P99_SLACK_MS,
      `flooded p99 ${f.p99.toFixed(1)} ms vs quiet p99 ${q.p99.toFixed(1)} ms`,
    );
  } finally {
    await flood?.stop();
    log.close();
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
