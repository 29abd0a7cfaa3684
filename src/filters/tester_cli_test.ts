/** `fail2zig filter test` as a whole process, under the daemon permission set like the binary. */
import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { fixtureLines } from "./_fuzz_lines.ts";
import { DEFAULT_LINE_MAX_BYTES as DEFAULT_CAP, getFilter } from "./mod.ts";
import {
  AUTO_JOBS_MAX,
  finishRun,
  JOBS_MAX,
  PARALLEL_MIN_BYTES,
  planBlocks,
  startRun,
} from "../../cli/_filter_parallel.ts";
import { fail2zig } from "../../tests/_daemon.ts";

/** `fail2zig filter test ARGS`, with `stdin` when given. */
const run = (args: string[], stdin?: string) => fail2zig(["filter", "test", ...args], stdin);

const LOG = [
  "2026-11-24T12:26:41.771471+00:00 web1 sshd[11934]: Invalid user admin from 1.2.3.4 from 5.6.7.8 port 22",
  "Nov 24 12:26:41 web1 CRON[1]: pam_unix(cron:session): session closed for user root",
  "Failed password for root from 2001:DB8::1 port 22 ssh2",
  "x".repeat(5000),
  "2026-11-24T12:26:42Z web1 sshd-session[1]: Connection closed by authenticating user root ::ffff:9.9.9.9 port 5 [preauth]",
].join("\n");

Deno.test("filter test --json prints one object per matching line in input order, summary on stderr", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/auth.log`, LOG);
    const r = await run(["sshd", `${dir}/auth.log`, "--json"]);
    equal(r.code, 0, r.stderr);
    deepEqual(r.stdout.trim().split("\n").map((l) => JSON.parse(l)), [
      { line: 1, ip: "5.6.7.8", time: "2026-11-24T12:26:41.771Z", filter: "sshd", mode: "normal" },
      { line: 3, ip: "2001:db8::1", time: null, filter: "sshd", mode: "normal" },
    ]);
    // line 5 only tells its session's address in normal mode (fail2ban's helper)
    match(
      r.stderr,
      /5 lines, 2 matched, 1 missed, 0 ignored, 0 ambiguous, 0 duplicates, 1 session lines, 1 dropped/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("filter test reads standard input and prints a readable report with --missed", async () => {
  const r = await run(["sshd", "-", "--missed", "--mode", "aggressive"], LOG);
  equal(r.code, 0, r.stderr);
  match(r.stdout, /Filter sshd \(mode aggressive\)/);
  match(r.stdout, /Missed lines \(1\):\n {2}2: Nov 24/);
  match(r.stdout, /Addresses: 3 distinct/);
});

Deno.test("filter test exits 1 for an unknown filter or mode and 2 for a bad command line", async () => {
  equal((await run(["nope", "-"], "")).code, 1);
  equal((await run(["sshd", "-", "--mode", "paranoid"], "")).code, 1);
  equal((await run(["sshd"])).code, 2);
  equal((await run(["sshd", "-", "--bogus"], "")).code, 2);
  equal((await run(["sshd", "/nonexistent/file"])).code, 1);
  const dir = await run(["sshd", "/tmp", "--jobs", "2"]);
  equal(dir.code, 1);
  match(dir.stderr, /cannot read \/tmp: it is a directory/);
});

Deno.test("filter test --config makes [filters.NAME] testable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cfg = `${dir}/config.toml`;
    await Deno.writeTextFile(
      cfg,
      `[filters.myapp]\npatterns = ["login failed for <*> from <HOST>"]\nprefix = "none"\n`,
    );
    await Deno.chmod(cfg, 0o644);
    const r = await run(
      ["myapp", "-", "--json", "--config", cfg],
      "login failed for x from 1.2.3.4\n",
    );
    equal(r.code, 0, r.stderr);
    equal(JSON.parse(r.stdout).ip, "1.2.3.4");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("filter test drops a line longer than the cap even when it spans read chunks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const huge = `Failed password for root from 1.2.3.4 port 22 ssh2 ${"x".repeat(3 << 20)}`;
    const ok = "Failed password for root from 5.6.7.8 port 22 ssh2";
    await Deno.writeTextFile(`${dir}/big.log`, `${ok}\n${huge}\n${ok}\n${huge}`);
    const r = await run(["sshd", `${dir}/big.log`, "--json"]);
    equal(r.code, 0, r.stderr);
    deepEqual(r.stdout.trim().split("\n").map((l) => JSON.parse(l).line), [1, 3]);
    match(r.stderr, /4 lines, 2 matched, 0 missed, .* 2 dropped/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- the parallel path (--jobs): output byte for byte that of one thread ----

const enc = new TextEncoder();

/** A byte buffer built piece by piece, for placing lines at exact offsets. */
class Bytes {
  parts: Uint8Array[] = [];
  length = 0;
  add(x: string | Uint8Array): void {
    const b = typeof x === "string" ? enc.encode(x) : x;
    this.parts.push(b);
    this.length += b.length;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A session-free filter for sshd's failure lines (the built-in sshd reads in one thread). */
const SSH_FILTER =
  `[filters.ssh]\npatterns = ["Failed password for <*> from <HOST> port <NUM> ssh<NUM>", "Invalid user <*> from <HOST> port <NUM>"]\n`;

const FAIL = (i: number) =>
  `2026-11-24T12:${
    String(i % 60).padStart(2, "0")
  }:41.771471+00:00 web1 sshd[7]: Failed password for root from 203.0.113.${i % 250} port 22 ssh2`;

/** Filler lines: golden fixture lines, failures, CRLF, multi-byte and invalid UTF-8, over-cap. */
function fillerLine(r: () => number, fixtures: string[], cap: number): Uint8Array {
  const k = r();
  const i = Math.floor(r() * 1e6);
  if (k < 0.3) return enc.encode(`${FAIL(i)}\n`);
  if (k < 0.75) return enc.encode(`${fixtures[i % fixtures.length]}\n`);
  if (k < 0.8) return enc.encode(`${FAIL(i)}\r\n`);
  if (k < 0.85) {
    return enc.encode(
      `Nov 24 12:00:0${i % 10} web1 sshd[9]: Invalid user é😀${i} from 198.51.100.${
        i % 200
      } port 9\n`,
    );
  }
  if (k < 0.9) return new Uint8Array([...enc.encode(FAIL(i)), 0xff, 0xe2, 0x82, 10]);
  if (k < 0.95) return enc.encode(`${FAIL(i)} ${"y".repeat(cap - 80 + (i % 200))}\n`); // near the cap
  return enc.encode("\n");
}

/**
 * A log of exactly `size` bytes (no trailing newline) with, at every multiple of `block`, one of a
 * series of awkward placements: an over-cap line starting right at the boundary or straddling it,
 * one spanning several blocks, a newline right at it or just before it, CRLF split by it, a
 * multi-byte character or an invalid sequence cut by it, a byte-order mark at it, lines of exactly
 * the cap and one byte more across it, a line from one block to the last byte of the next.
 */
function awkwardLog(size: number, block: number, cap: number): Uint8Array {
  const r = rng(42);
  const fixtures = fixtureLines();
  const b = new Bytes();
  b.add(new Uint8Array([0xef, 0xbb, 0xbf])); // a byte-order mark at byte 0
  const padTo = (target: number) => {
    while (target - b.length > 400) {
      const line = fillerLine(r, fixtures, cap);
      if (line.length < target - b.length) b.add(line); // (a fixture line may be longer than 400)
    }
    const rest = target - b.length;
    ok(rest >= 0, `placements overlap at ${target}`);
    if (rest > 0) b.add(`${"x".repeat(rest - 1)}\n`);
  };
  const exact = (n: number, ip: number) => { // a failure line of exactly n bytes with its newline
    const l = `${FAIL(ip)} `;
    return `${l}${"z".repeat(n - 1 - l.length)}\n`;
  };
  let kind = 0;
  for (let at = block; at + 2 * block < size; at += block) {
    switch (kind++ % 11) {
      case 0: // an over-cap line starts right at the boundary
        padTo(at);
        b.add(`${FAIL(1)} ${"o".repeat(cap)}\n`);
        break;
      case 1: // a newline right at the boundary
        padTo(at - 150);
        b.add(exact(151, 2));
        break;
      case 2: // an over-cap line straddles the boundary
        padTo(at - 100);
        b.add(`${FAIL(3)} ${"s".repeat(cap + 200)}\n`);
        break;
      case 3: // an over-cap line spans the next block whole: that block has no line of its own
        padTo(at - 10);
        b.add(`${FAIL(4)} ${"w".repeat(block + 100)}\n`);
        at += block;
        break;
      case 4: // CRLF cut by the boundary
        padTo(at - 149);
        b.add(`${exact(150, 5).slice(0, -1)}\r\n`);
        break;
      case 5: // a four-byte character cut by the boundary, then an invalid sequence cut by the next
        padTo(at - 2);
        b.add("😀 not a failure\n");
        break;
      case 6: // a byte-order mark at the boundary, before a failure
        padTo(at);
        b.add(new Uint8Array([0xef, 0xbb, 0xbf]));
        b.add(`${FAIL(6)}\n`);
        break;
      case 7: // exactly the cap across the boundary, then one byte more
        padTo(at - 50);
        b.add(exact(cap + 1, 7)); // cap bytes + newline: kept
        b.add(exact(cap + 2, 8)); // dropped
        break;
      case 8: // a truncated UTF-8 sequence right before the newline at the boundary
        padTo(at - 5);
        b.add(new Uint8Array([0x41, 0x42, 0xe2, 0x82, 10]));
        break;
      case 9: // a failure line cut by the boundary
        padTo(at - 40);
        b.add(`${FAIL(9)}\n`);
        break;
      case 10: // a line across the next block whose newline ends that block: it is empty too
        padTo(at - 10);
        b.add(`${FAIL(11)} ${"e".repeat(block + 8 - FAIL(11).length)}\n`);
        at += block;
        break;
    }
  }
  padTo(size - FAIL(10).length - 2);
  b.add(`x\n${FAIL(10)}`); // the last line has no newline and matches
  const out = b.bytes();
  equal(out.length, size);
  return out;
}

/** The report without its lines/s and thread count. */
function stable(s: string): string {
  return s.replace(/; \d+ lines\/s; \d+ threads?/, "");
}

Deno.test("filter test --jobs N prints byte for byte what one thread prints, whatever falls on block boundaries", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cap = 256;
    const cfg = `${dir}/config.toml`;
    await Deno.writeTextFile(cfg, `[global]\nline_max_bytes = ${cap}\n${SSH_FILTER}`);
    await Deno.chmod(cfg, 0o644);
    const size = 1 << 17;
    // --jobs 4 cuts it into 16 blocks of 8 KiB, --jobs 2 into 8 of 16 KiB, --jobs 3 elsewhere
    const block = planBlocks(size, 4).blockBytes;
    equal(block, 8192);
    equal(planBlocks(size, 2).blockBytes % block, 0);
    const log = `${dir}/auth.log`;
    await Deno.writeFile(log, awkwardLog(size, block, cap));
    const base = ["ssh", log, "--config", cfg];
    const json1 = await run([...base, "--json", "--jobs", "1"]);
    const report1 = await run([...base, "--missed", "--jobs", "1"]);
    equal(json1.code, 0, json1.stderr);
    match(json1.stderr, /; 1 thread$/m);
    const m = /^(\d+) lines, (\d+) matched, \d+ missed, .* (\d+) dropped/.exec(json1.stderr);
    ok(m !== null && Number(m[2]) > 100 && Number(m[3]) > 10, json1.stderr);
    for (const jobs of ["2", "3", "4"]) {
      const json = await run([...base, "--json", "--jobs", jobs]);
      equal(json.code, 0, json.stderr);
      match(json.stderr, new RegExp(`; ${jobs} threads$`, "m"));
      equal(json.stdout, json1.stdout, `--json --jobs ${jobs}`);
      equal(stable(json.stderr), stable(json1.stderr));
      const report = await run([...base, "--missed", "--jobs", jobs]);
      equal(report.code, 0, report.stderr);
      equal(stable(report.stdout), stable(report1.stdout), `report --jobs ${jobs}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("filter test --jobs 4 on a file of a few lines leaves blocks empty and prints what one thread prints", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, text] of [["tiny", `${FAIL(1)}\nnothing\n${FAIL(2)}`], ["empty", ""]]) {
      const log = `${dir}/${name}.log`;
      await Deno.writeTextFile(log, text!);
      const one = await run(["sshd", log, "--json", "--jobs", "1"]);
      const four = await run(["sshd", log, "--json", "--jobs", "4"]);
      equal(four.code, 0, four.stderr);
      equal(four.stdout, one.stdout);
      equal(stable(four.stderr), stable(one.stderr));
      const report1 = await run(["sshd", log, "--missed", "--jobs", "1"]);
      const report4 = await run(["sshd", log, "--missed", "--jobs", "4"]);
      equal(stable(report4.stdout), stable(report1.stdout));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("filter test uses several threads by itself for a file over the threshold, one for standard input", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = rng(7);
    const fixtures = fixtureLines();
    const b = new Bytes();
    while (b.length < 1 << 20) b.add(fillerLine(r, fixtures, DEFAULT_CAP));
    const piece = b.bytes();
    const log = `${dir}/auth.log`;
    const file = await Deno.open(log, { write: true, create: true });
    try {
      for (let n = 0; n <= PARALLEL_MIN_BYTES; n += piece.length) await file.write(piece);
    } finally {
      file.close();
    }
    const cfg = `${dir}/config.toml`;
    await Deno.writeTextFile(cfg, SSH_FILTER);
    await Deno.chmod(cfg, 0o644);
    const auto = await run(["ssh", log, "--json", "--config", cfg]);
    const one = await run(["ssh", log, "--json", "--config", cfg, "--jobs", "1"]);
    // the built-in sshd keeps sessions from line to line: one thread, whatever --jobs says
    const sshd = await run(["sshd", log, "--json", "--jobs", "4"]);
    match(sshd.stderr, /; 1 thread$/m);
    equal(auto.code, 0, auto.stderr);
    ok(auto.stdout === one.stdout, "the outputs differ");
    const threads = Math.min(navigator.hardwareConcurrency, AUTO_JOBS_MAX);
    match(auto.stderr, new RegExp(`; ${threads} threads?$`, "m"));
    const stdin = await run(["sshd", "-", "--json", "--jobs", "4"], FAIL(1));
    match(stdin.stderr, /1 matched.*; 1 thread$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("filter test --jobs runs a [filters.NAME] user filter from --config on every thread", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cfg = `${dir}/config.toml`;
    await Deno.writeTextFile(
      cfg,
      `[filters.myapp]\npatterns = ["login failed for <*> from <HOST>"]\nprefix = "none"\n`,
    );
    await Deno.chmod(cfg, 0o644);
    const log = `${dir}/app.log`;
    await Deno.writeTextFile(
      log,
      Array.from(
        { length: 3000 },
        (_, i) => `login ${i % 3 ? "failed" : "ok"} for u from 10.0.${i % 200}.1`,
      )
        .join("\n"),
    );
    const one = await run(["myapp", log, "--json", "--config", cfg, "--jobs", "1"]);
    const three = await run(["myapp", log, "--json", "--config", cfg, "--jobs", "3"]);
    equal(three.code, 0, three.stderr);
    match(three.stderr, /2000 matched.*; 3 threads$/m);
    ok(three.stdout === one.stdout, "the outputs differ");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("filter test refuses --jobs that is not a whole number from 1 to the maximum", async () => {
  for (const bad of ["0", "x", "1.5", "-1", String(JOBS_MAX + 1)]) {
    equal((await run(["sshd", "-", "--jobs", bad], "")).code, 2, bad);
  }
});

Deno.test("a filter test Worker may read the input file and nothing else", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const allowed = `${dir}/allowed.log`, other = `${dir}/other.log`;
    await Deno.writeTextFile(allowed, `${FAIL(1)}\n`.repeat(50));
    await Deno.writeTextFile(other, `${FAIL(2)}\n`.repeat(50));
    const filter = getFilter("sshd");
    const job = (path: string) => ({
      path,
      plan: planBlocks(Deno.statSync(path).size, 2),
      maxBytes: DEFAULT_CAP,
      json: false,
      missed: false,
      now: Date.now(),
    });
    const sshd = { name: "sshd", mode: "normal", users: [] };
    // the main thread does not match (false): the Worker reads every block
    const tally = await finishRun(startRun(job(allowed), sshd, 1), filter, false);
    equal(tally.matched, 50);
    // a Worker allowed to read one file and told to open another is refused by its permissions
    await rejects(
      finishRun(startRun(job(other), sshd, 1, allowed), filter, false),
      /a filter thread failed: .*(NotCapable|PermissionDenied)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
