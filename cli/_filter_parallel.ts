/**
 * Parallel `fail2zig filter test` over a regular file: plans the blocks, starts the Workers
 * (read permission on the input file only, nothing else), matches blocks on the main thread too,
 * and merges the tallies in block order. The per-thread part and the block rules are in
 * cli/_filter_blocks.ts.
 * @module
 */
import type { Filter } from "../src/filters/mod.ts";
import type { UserFilterConfig } from "../src/config/mod.ts";
import {
  abort,
  type BlockJob,
  type BlockPlan,
  newControl,
  runBlocks,
  waitAsync,
} from "./_filter_blocks.ts";
import { emptyTally, mergeTally, type Tally } from "./_filter_scan.ts";
import type { WorkerReply, WorkerSetup } from "./_filter_worker.ts";

/**
 * Files smaller than this are read by one thread unless `--jobs` says otherwise: each extra thread
 * costs ≈ 60 ms (its Worker's start, during which `new Worker` blocks the main thread ≈ 15 ms, and
 * its own JIT warm-up), which a 2-core machine wins back only from about 64–96 MiB of log on
 * (docs/filters.md, "Measured").
 */
export const PARALLEL_MIN_BYTES = 64 << 20;
/** Most threads used without `--jobs`. */
export const AUTO_JOBS_MAX = 4;
/** Most threads `--jobs` accepts. */
export const JOBS_MAX = 64;
/**
 * Largest block (≈ 10,000 log lines); smaller files get smaller blocks so that each thread takes
 * several. Blocks of 256 KiB–1 MiB measured faster than 4–8 MiB (threads finish closer together).
 */
export const BLOCK_BYTES_MAX = 1 << 20;
/** Blocks per thread aimed at when the file is small (threads finish close together). */
const BLOCKS_PER_THREAD = 4;

/**
 * Threads for a file of `size` bytes: `jobs` when given, else 1 below `PARALLEL_MIN_BYTES`, else
 * the number of CPUs up to `AUTO_JOBS_MAX`.
 */
export function chooseJobs(size: number, jobs: number | undefined, cpus: number): number {
  if (jobs !== undefined) return jobs;
  if (size < PARALLEL_MIN_BYTES) return 1;
  return Math.max(1, Math.min(cpus, AUTO_JOBS_MAX));
}

/** Blocks for a file of `size` bytes read by `threads` threads. */
export function planBlocks(size: number, threads: number): BlockPlan {
  const blockBytes = Math.max(
    1,
    Math.min(BLOCK_BYTES_MAX, Math.ceil(size / (threads * BLOCKS_PER_THREAD))),
  );
  return { blockBytes, blocks: Math.max(1, Math.ceil(size / blockBytes)) };
}

/** A parallel run: the job, its shared control words, its Workers and their replies. */
export interface Run {
  job: BlockJob;
  ctl: Int32Array;
  workers: Worker[];
  replies: Promise<WorkerReply>[];
}

/**
 * Starts `n` Workers on `job` with filter `name` in `mode` (user filters `users`) and hands them
 * the job at once, so that they load and compile while the main thread compiles too. Each may
 * read `readable` (default: the input file) and nothing else. A Worker that fails stops the run.
 */
export function startRun(
  job: BlockJob,
  filter: { name: string; mode: string; users: readonly UserFilterConfig[] },
  n: number,
  readable: string = job.path,
): Run {
  const ctl = newControl(job.plan.blocks);
  const setup: WorkerSetup = { job, ...filter, ctl };
  const workers: Worker[] = [];
  const replies: Promise<WorkerReply>[] = [];
  for (let i = 0; i < n; i++) {
    const w = new Worker(new URL("./_filter_worker.ts", import.meta.url), {
      type: "module",
      name: `filter-test-${i + 1}`,
      deno: {
        permissions: {
          read: [readable],
          write: false,
          net: false,
          env: false,
          sys: false,
          run: false,
          ffi: false,
          import: false,
        },
      },
    });
    workers.push(w);
    replies.push(
      new Promise<WorkerReply>((resolve) => {
        w.onmessage = (e: MessageEvent<WorkerReply>) => resolve(e.data);
        w.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          resolve({ ok: false, error: e.message });
        };
      }).then((r) => {
        if (!r.ok) abort(ctl);
        return r;
      }),
    );
    w.postMessage(setup);
  }
  return { job, ctl, workers, replies };
}

/** Stops the Workers of a run (after an error, or when the run is over). */
export function stopRun(run: Run): void {
  for (const w of run.workers) w.terminate();
}

/**
 * Runs `filter` (the run's filter, compiled on the main thread) over the run's blocks on the main
 * thread beside the Workers (unless `mainScans` is false) and waits for the Workers; with
 * `job.json` the records are written to stdout. Returns the merged tally. Throws when a thread
 * failed.
 */
export async function finishRun(run: Run, filter: Filter, mainScans = true): Promise<Tally> {
  let mine: Awaited<ReturnType<typeof runBlocks>> = [];
  let error: string | undefined;
  if (mainScans) {
    try {
      mine = await runBlocks(filter, run.job, run.ctl, waitAsync);
    } catch (e) {
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  }
  const all = [...mine];
  if (error === undefined && mine.length === run.job.plan.blocks) {
    // the main thread matched every block (a small file): the Workers have none and write
    // nothing, so they are stopped rather than waited for (one may still be starting)
    stopRun(run);
  } else {
    for (const r of await Promise.all(run.replies)) {
      if (r.ok) all.push(...r.done);
      else if (error === undefined || error.startsWith("Aborted")) error = r.error;
    }
  }
  if (error !== undefined) {
    stopRun(run);
    throw new Error(`a filter thread failed: ${error}`);
  }
  all.sort((x, y) => x.b - y.b);
  const total = emptyTally(filter.patterns.length);
  const ips = new Map<string, number>();
  for (const { tally } of all) mergeTally(total, tally, ips);
  total.ips = [...ips];
  return total;
}
