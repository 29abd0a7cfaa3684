/**
 * `deno task fuzz TARGET [--seconds N] [--seed S]`: runs one fuzz target of tests/fuzz for N
 * seconds (default 60), growing its corpus under fixtures/fuzz/TARGET/ and saving every failing
 * or over-time input there as a reproducer (`crash-*.json`, `timeout-*.json`; tests/fuzz/fuzz_test.ts
 * replays each as a test). Prints executions, the corpus before and after, and the block coverage
 * of the target's modules before and after (V8's counters read in process: see docs/fuzzing.md).
 * `deno task fuzz --list` names the targets. Exits 1 when a reproducer was saved.
 * @module
 */
import { TARGETS } from "../tests/fuzz/_targets.ts";
import { writeEntry } from "../tests/fuzz/_corpus.ts";
import { decodeInput } from "../tests/fuzz/_input.ts";
import type { FuzzJob } from "./_fuzz_worker.ts";
import process from "node:process";

/** Parsed command line. */
export interface FuzzArgs {
  target: string;
  seconds: number;
  seed: number;
}

/** Parses `TARGET [--seconds N] [--seed S]`; throws `TypeError` with the usage otherwise. */
export function parseFuzzArgs(args: readonly string[]): FuzzArgs {
  const usage = `usage: deno task fuzz TARGET [--seconds N] [--seed S]; targets: ${
    TARGETS.map((t) => t.name).join(", ")
  }`;
  let target: string | null = null, seconds = 60, seed = Date.now() % 2 ** 31;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--seconds" || a === "--seed") {
      const v = Number(args[++i]);
      if (!Number.isSafeInteger(v) || v < (a === "--seed" ? 0 : 1)) throw new TypeError(usage);
      if (a === "--seconds") seconds = v;
      else seed = v;
    } else if (target === null && !a.startsWith("-")) target = a;
    else throw new TypeError(usage);
  }
  if (target === null || !TARGETS.some((t) => t.name === target)) throw new TypeError(usage);
  return { target, seconds, seed };
}

interface Done {
  type: "done";
  execs: number;
  batches: number;
  corpusBefore: number;
  corpusAfter: number;
  added: number;
  full: boolean;
  before: { covered: number; total: number };
  after: { covered: number; total: number };
  saved: string[];
}

const pct = (c: { covered: number; total: number }) =>
  c.total === 0
    ? "n/a"
    : `${(100 * c.covered / c.total).toFixed(1)}% (${c.covered}/${c.total} bytes)`;

/** CPU time this process has used, in ms (every thread: the Worker's runs count). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Runs the job in a Worker; saves a hung input itself. Resolves with the Worker's summary, or
 * with the hang and the executions the Worker last reported. An input hangs when none started
 * while the process used `hangMs` of CPU time: a synchronous loop burns it, while a Worker merely
 * starved by a loaded machine (or a machine paused) does not, however long the wall-clock gap.
 */
function runWorker(
  job: FuzzJob,
  hangMs: number,
): Promise<Done | { type: "hang"; file: string; execs: number }> {
  const worker = new Worker(new URL("./_fuzz_worker.ts", import.meta.url), { type: "module" });
  const header = new Int32Array(job.shared, 0, 2);
  return new Promise((resolve, reject) => {
    let last = Atomics.load(header, 0), since = cpuMs(), execs = 0;
    const watch = setInterval(() => {
      const now = Atomics.load(header, 0);
      if (now !== last) [last, since] = [now, cpuMs()];
      else if (cpuMs() - since > hangMs && now > 0) {
        clearInterval(watch);
        worker.terminate();
        const n = Atomics.load(header, 1);
        const text = new TextDecoder().decode(new Uint8Array(job.shared, 8, n));
        const file = writeEntry(job.target, "timeout", decodeInput(text));
        resolve({ type: "hang", file, execs });
      }
    }, 250);
    worker.onmessage = (e) => {
      const m = e.data;
      if (m.type === "progress") {
        execs = m.execs;
        console.log(`  ${m.execs} execs, corpus ${m.corpus}, coverage ${pct(m)}`);
      } else if (m.type === "saved") console.log(`  saved ${m.file}: ${m.why}`);
      else if (m.type === "done") {
        clearInterval(watch);
        worker.terminate();
        resolve(m);
      }
    };
    worker.onerror = (e) => {
      e.preventDefault();
      clearInterval(watch);
      worker.terminate();
      reject(new Error(e.message));
    };
    worker.postMessage(job);
  });
}

async function main(args: readonly string[]): Promise<number> {
  if (args[0] === "--list") {
    for (const t of TARGETS) console.log(`${t.name}\t${t.modules.join(" ")}`);
    return 0;
  }
  let parsed: FuzzArgs;
  try {
    parsed = parseFuzzArgs(args);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const t = TARGETS.find((x) => x.name === parsed.target)!;
  console.log(`fuzz ${t.name}: ${parsed.seconds} s, seed ${parsed.seed}`);
  const hangMs = Number(Deno.env.get("FUZZ_HANG_MS") ?? Math.max(10 * t.timeoutMs, 10_000));
  const start = Date.now();
  const hung: string[] = [];
  let earlier = 0; // executions of Workers stopped on a hang (up to their last report)
  for (;;) {
    const left = parsed.seconds - Math.floor((Date.now() - start) / 1000);
    const job = { ...parsed, seconds: Math.max(1, left), shared: new SharedArrayBuffer(1 << 20) };
    const r = await runWorker(job, hangMs);
    if (r.type === "hang") {
      console.log(`  saved ${r.file}: no return within ${hangMs} ms of CPU time`);
      hung.push(r.file);
      earlier += r.execs;
      if (left <= 1 || hung.length >= 5) return 1;
      continue; // a fresh Worker for the rest of the time
    }
    const s = (Date.now() - start) / 1000, execs = r.execs + earlier;
    const restarts = hung.length === 0 ? "" : ` (${hung.length + 1} Workers; coverage of the last)`;
    console.log(
      `${t.name}: ${execs} execs in ${s.toFixed(0)} s (${(execs / s).toFixed(0)}/s)${restarts}, ` +
        `corpus ${r.corpusBefore} -> ${r.corpusAfter}${r.full ? " (size cap reached)" : ""}, ` +
        `coverage of ${t.modules.join(", ")}: ${pct(r.before)} -> ${pct(r.after)}, ` +
        `reproducers saved: ${r.saved.length + hung.length}`,
    );
    return r.saved.length + hung.length > 0 ? 1 : 0;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
