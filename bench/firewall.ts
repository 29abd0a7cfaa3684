/**
 * `deno task bench:firewall` — how fast bans reach the kernel, beside fail2ban and sshguard, all
 * inside a throw-away network namespace (never the host's ruleset). Needs root.
 *
 * Measured, in order:
 * 1. fail2zig nftables backend: single bans (one ban() per address) — bans/s and the time from
 *    the ban decision (the call) to the element being visible in the set (checked by a netlink
 *    dump right after); batched bans (1000 per call, and 10 000 in one call) — bans/s.
 * 2. fail2ban's nftables action (/etc/fail2ban/action.d/nftables.conf): actionstart once, then
 *    its actionban command line per ban through `sh -c`, as fail2ban does.
 * 3. sshguard's /usr/libexec/sshguard/sshg-fw-nft-sets fed `block ADDR 4 32` lines on stdin, as
 *    sshg-blocker does; visibility polled with a netlink dump.
 * @module
 */
import {
  MessageWriter,
  NETLINK_NETFILTER,
  NetlinkSocket,
  NLM_F,
  parseAttrs,
} from "../src/ffi/mod.ts";
import { type BanEntry, NftablesBackend } from "../src/firewall/mod.ts";

const SINGLE_N = 1000;
const BATCH_N = 10_000;
const BATCH_SIZE = 1000;
const TOOL_N = 300;
const SSHG = "/usr/libexec/sshguard/sshg-fw-nft-sets";

function addr(i: number): string {
  // 198.18.0.0/15 is the benchmarking range (RFC 2544); it exists only inside the namespace.
  return `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 0xff}.${i & 0xff}`;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

function fmtMs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

/** Number of elements in set `set` of table `family table` (netlink dump, ~tens of µs). */
class SetCounter {
  #sock = NetlinkSocket.open(NETLINK_NETFILTER);
  async count(family: number, table: string, set: string): Promise<number> {
    const w = new MessageWriter();
    const seq = this.#sock.nextSeq();
    w.beginMessage((10 << 8) | 13, /* GETSETELEM */ NLM_F.REQUEST | NLM_F.DUMP | NLM_F.ACK, seq);
    w.nfgenmsg(family);
    w.str(1, table);
    w.str(2, set);
    w.endMessage();
    let n = 0;
    try {
      for (const m of await this.#sock.dump(w.bytes(), seq, "GETSETELEM")) {
        for (const a of parseAttrs(m.payload, 4)) if (a.type === 3) n += parseAttrs(a.data).length;
      }
    } catch {
      return -1;
    }
    return n;
  }
  close(): void {
    this.#sock.close();
  }
}

async function sh(cmd: string): Promise<void> {
  const o = await new Deno.Command("/bin/sh", {
    args: ["-c", cmd],
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (o.code !== 0) throw new Error(`${cmd}: ${new TextDecoder().decode(o.stderr)}`);
}

interface Row {
  tool: string;
  mode: string;
  n: number;
  bansPerS: number;
  p50: number | null;
  p99: number | null;
}

async function benchFail2zig(counter: SetCounter): Promise<Row[]> {
  const rows: Row[] = [];
  const fw = new NftablesBackend();
  await fw.init();
  // decision → visible: ban, then dump until the element count grows (first dump already sees it).
  const vis: number[] = [];
  for (let i = 0; i < 200; i++) {
    const before = i;
    const s = performance.now();
    await fw.ban([{ ip: addr(50_000 + i), prefix: 32, timeoutMs: 3_600_000, jail: "sshd" }]);
    while ((await counter.count(1, "fail2zig", "banned_ipv4")) <= before) { /* poll */ }
    vis.push(performance.now() - s);
  }
  rows.push({
    tool: "fail2zig nftables",
    mode: "decision→visible",
    n: 200,
    bansPerS: NaN,
    p50: pct(vis, 50),
    p99: pct(vis, 99),
  });
  const lat: number[] = [];
  let t0 = performance.now();
  for (let i = 0; i < SINGLE_N; i++) {
    const s = performance.now();
    await fw.ban([{ ip: addr(i), prefix: 32, timeoutMs: 3_600_000, jail: "sshd" }]);
    lat.push(performance.now() - s);
  }
  let dt = performance.now() - t0;
  if ((await counter.count(1, "fail2zig", "banned_ipv4")) !== SINGLE_N + 200) {
    throw new Error("single bans not all visible");
  }
  rows.push({
    tool: "fail2zig nftables",
    mode: "single",
    n: SINGLE_N,
    bansPerS: SINGLE_N / (dt / 1000),
    p50: pct(lat, 50),
    p99: pct(lat, 99),
  });

  await fw.close();

  await fw.init();
  const entries: BanEntry[] = [];
  for (let i = 0; i < BATCH_N; i++) {
    entries.push({ ip: addr(i), prefix: 32, timeoutMs: 3_600_000, jail: "sshd" });
  }
  t0 = performance.now();
  for (let i = 0; i < BATCH_N; i += BATCH_SIZE) await fw.ban(entries.slice(i, i + BATCH_SIZE));
  dt = performance.now() - t0;
  if ((await counter.count(1, "fail2zig", "banned_ipv4")) !== BATCH_N) {
    throw new Error("batched bans not all visible");
  }
  rows.push({
    tool: "fail2zig nftables",
    mode: `batched ×${BATCH_SIZE}`,
    n: BATCH_N,
    bansPerS: BATCH_N / (dt / 1000),
    p50: dt / (BATCH_N / BATCH_SIZE),
    p99: null,
  });
  await fw.close();

  await fw.init();
  t0 = performance.now();
  await fw.ban(entries);
  dt = performance.now() - t0;
  if ((await counter.count(1, "fail2zig", "banned_ipv4")) !== BATCH_N) {
    throw new Error("one-call bans not all visible");
  }
  rows.push({
    tool: "fail2zig nftables",
    mode: `one call ×${BATCH_N}`,
    n: BATCH_N,
    bansPerS: BATCH_N / (dt / 1000),
    p50: dt,
    p99: null,
  });
  await fw.close();
  return rows;
}

async function benchFail2ban(counter: SetCounter): Promise<Row[]> {
  // nftables.conf, [Init] defaults with name=sshd, port=ssh, protocol=tcp, blocktype=reject.
  const T = "inet f2b-table", set = "addr-set-sshd";
  await sh(`nft add table ${T}`);
  await sh(`nft -- add chain ${T} f2b-chain \\{ type filter hook input priority -1 \\; \\}`);
  await sh(`nft add set ${T} ${set} \\{ type ipv4_addr\\; \\}`);
  await sh(`nft add rule ${T} f2b-chain tcp dport \\{ ssh \\} ip saddr @${set} reject`);
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < TOOL_N; i++) {
    const s = performance.now();
    await sh(`nft add element ${T} ${set} \\{ ${addr(i)} \\}`);
    lat.push(performance.now() - s);
  }
  const dt = performance.now() - t0;
  if ((await counter.count(1, "f2b-table", set)) !== TOOL_N) {
    throw new Error("fail2ban bans not all visible");
  }
  await sh(`nft delete table ${T}`);
  return [
    {
      tool: "fail2ban nftables action",
      mode: "single",
      n: TOOL_N,
      bansPerS: TOOL_N / (dt / 1000),
      p50: pct(lat, 50),
      p99: pct(lat, 99),
    },
    {
      tool: "fail2ban nftables action",
      mode: "decision→visible",
      n: TOOL_N,
      bansPerS: NaN,
      p50: pct(lat, 50),
      p99: pct(lat, 99),
    },
  ];
}

async function benchSshguard(counter: SetCounter): Promise<Row[]> {
  const child = new Deno.Command(SSHG, { stdin: "piped", stdout: "null", stderr: "null" }).spawn();
  const w = child.stdin.getWriter();
  const enc = new TextEncoder();
  const NFPROTO_IPV4 = 2;
  try {
    // wait for fw_init (tables and sets exist)
    const deadline = performance.now() + 10_000;
    while ((await counter.count(NFPROTO_IPV4, "sshguard", "attackers")) < 0) {
      if (performance.now() > deadline) throw new Error("sshg-fw-nft-sets did not create its sets");
      await new Promise((r) => setTimeout(r, 5));
    }
    // The set has `flags interval`: one block adds a start and an end element, so wait for the
    // count to grow rather than for a given count.
    const count = () => counter.count(NFPROTO_IPV4, "sshguard", "attackers");
    const lat: number[] = [];
    let perBlock = 1;
    for (let i = 0; i < 100; i++) {
      const before = await count();
      const s = performance.now();
      await w.write(enc.encode(`block ${addr(60_000 + i)} 4 32\n`));
      let now;
      while ((now = await count()) <= before) { /* poll */ }
      lat.push(performance.now() - s);
      perBlock = now - before;
    }
    const start = await count();
    const t0 = performance.now();
    for (let i = 0; i < TOOL_N; i++) await w.write(enc.encode(`block ${addr(i)} 4 32\n`));
    while ((await count()) < start + perBlock * TOOL_N) {
      await new Promise((r) => setTimeout(r, 1));
    }
    const dt = performance.now() - t0;
    return [
      {
        tool: "sshguard sshg-fw-nft-sets",
        mode: "single (stream)",
        n: TOOL_N,
        bansPerS: TOOL_N / (dt / 1000),
        p50: null,
        p99: null,
      },
      {
        tool: "sshguard sshg-fw-nft-sets",
        mode: "decision→visible",
        n: 100,
        bansPerS: NaN,
        p50: pct(lat, 50),
        p99: pct(lat, 99),
      },
    ];
  } finally {
    await w.close().catch(() => {});
    await child.status;
  }
}

async function inner(): Promise<void> {
  const counter = new SetCounter();
  const rows = [
    ...await benchFail2zig(counter),
    ...await benchFail2ban(counter),
    ...await benchSshguard(counter),
  ];
  counter.close();
  console.log(JSON.stringify(rows));
}

async function outer(): Promise<void> {
  if (Deno.uid() !== 0) {
    console.error("bench:firewall needs root (it creates a network namespace)");
    Deno.exit(1);
  }
  const ns = `f2z-bench-${Deno.pid}`;
  const run = (args: string[]) =>
    new Deno.Command("ip", { args, stdout: "piped", stderr: "inherit" }).output();
  await run(["netns", "add", ns]);
  try {
    const o = await new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        ns,
        Deno.execPath(),
        "run",
        "-q",
        "--config",
        new URL("../deno.json", import.meta.url).pathname,
        "-P=test",
        new URL(import.meta.url).pathname,
        "--inner",
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (o.code !== 0) throw new Error(`benchmark failed (exit ${o.code})`);
    const rows = JSON.parse(new TextDecoder().decode(o.stdout).trim().split("\n").pop()!) as Row[];
    const ours = rows.find((r) => r.tool.startsWith("fail2zig") && r.mode === "single")!;
    console.log(`firewall benchmark (network namespace ${ns}, Linux ${Deno.osRelease()})`);
    console.log(
      "tool".padEnd(28) + "mode".padEnd(20) + "n".padStart(7) + "bans/s".padStart(12) +
        "p50".padStart(12) +
        "p99".padStart(12) + "  vs fail2zig single",
    );
    for (const r of rows) {
      const ratio = Number.isFinite(r.bansPerS)
        ? `${(ours.bansPerS / r.bansPerS).toFixed(1)}× slower`
        : "";
      console.log(
        r.tool.padEnd(28) + r.mode.padEnd(20) + String(r.n).padStart(7) +
          (Number.isFinite(r.bansPerS) ? r.bansPerS.toFixed(0) : "-").padStart(12) +
          (r.p50 === null ? "-" : fmtMs(r.p50)).padStart(12) +
          (r.p99 === null ? "-" : fmtMs(r.p99)).padStart(12) +
          "  " + (r.tool.startsWith("fail2zig") ? "" : ratio),
      );
    }
  } finally {
    await run(["netns", "del", ns]);
  }
}

if (Deno.args.includes("--inner")) await inner();
else await outer();
