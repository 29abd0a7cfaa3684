/**
 * Parallel `fail2zig filter test` over a regular file: plans the blocks, starts the Workers
 * (read permission on the input file only, nothing else), matches blocks on the main thread too,
 * and merges the tallies in block order. The per-thread part and the block rules are in
 * cli/_filter_blocks.ts.
 * @module
 */
import type { Filter } from "../src/filters/mod.ts";
import type { UserFilterConfig } from "../src/config/types.ts";
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

/** Files smaller than this are read by one thread unless `--jobs` says otherwise. */
export const PARALLEL_MIN_BYTES = 8 << 20;
/** Most threads used without `--jobs`. */
export const AUTO_JOBS_MAX = 4;
/** Most threads `--jobs` accepts. */
export const JOBS_MAX = 64;
/** Largest block; smaller files get smaller blocks so that each thread takes several. */
export const BLOCK_BYTES_MAX = 4 << 20;
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

/** A Worker started ahead of the filter's compilation. */
export interface Started {
  workers: Worker[];
  replies: Promise<WorkerReply>[];
}

/** Starts `n` Workers, each allowed to read `path` and nothing else. */
export function startWorkers(n: number, path: string): Started {
  const workers: Worker[] = [];
  const replies: Promise<WorkerReply>[] = [];
  for (let i = 0; i < n; i++) {
    const w = new Worker(new URL("./_filter_worker.ts", import.meta.url), {
      type: "module",
      name: `filter-test-${i + 1}`,
      deno: {
        permissions: {
          read: [path],
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
      }),
    );
  }
  return { workers, replies };
}

/** Stops Workers (after an error, or ones not needed). */
export function stopWorkers(started: Started): void {
  for (const w of started.workers) w.terminate();
}

/**
 * Runs the filter over `job.path` on the main thread and the started Workers; with `job.json`
 * the records are written to stdout. Returns the merged tally. Throws when a thread failed.
 */
export async function runParallel(
  filter: Filter,
  job: BlockJob,
  started: Started,
  users: readonly UserFilterConfig[],
): Promise<Tally> {
  const ctl = newControl(job.plan.blocks);
  const setup: WorkerSetup = { job, name: filter.name, mode: filter.mode, users, ctl };
  for (const w of started.workers) w.postMessage(setup);
  const failed = started.replies.map((p) =>
    p.then((r) => {
      if (!r.ok) abort(ctl);
      return r;
    })
  );
  let mine: Awaited<ReturnType<typeof runBlocks>> = [];
  let error: string | undefined;
  try {
    mine = await runBlocks(filter, job, ctl, waitAsync);
  } catch (e) {
    error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  const all = [...mine];
  for (const r of await Promise.all(failed)) {
    if (r.ok) all.push(...r.done);
    else if (error === undefined || error.startsWith("Aborted")) error = r.error;
  }
  if (error !== undefined) {
    stopWorkers(started);
    throw new Error(`a filter thread failed: ${error}`);
  }
  all.sort((x, y) => x.b - y.b);
  const total = emptyTally(filter.patterns.length);
  const ips = new Map<string, number>();
  for (const { tally } of all) mergeTally(total, tally, ips);
  total.ips = [...ips];
  return total;
}
