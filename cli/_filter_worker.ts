/**
 * Worker of the parallel `fail2zig filter test` (cli/_filter_parallel.ts): compiles the filter,
 * runs `runBlocks` and posts the tallies of its blocks. Spawned with read permission on the
 * input file only.
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { getFilter } from "../src/filters/mod.ts";
import { type BlockJob, runBlocks, waitSync } from "./_filter_blocks.ts";
import type { UserFilterConfig } from "../src/config/mod.ts";

/** The one message a Worker receives. */
export interface WorkerSetup {
  job: BlockJob;
  name: string;
  mode: string;
  users: readonly UserFilterConfig[];
  ctl: Int32Array;
}

/** What a Worker posts back: its blocks' tallies, or why it failed. */
export type WorkerReply =
  | { ok: true; done: Awaited<ReturnType<typeof runBlocks>> }
  | { ok: false; error: string };

self.onmessage = async (e: MessageEvent<WorkerSetup>) => {
  const { job, name, mode, users, ctl } = e.data;
  let reply: WorkerReply;
  try {
    const filter = getFilter(name, mode, users);
    reply = { ok: true, done: await runBlocks(filter, job, ctl, waitSync) };
  } catch (err) {
    reply = {
      ok: false,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    };
  }
  self.postMessage(reply);
  self.close();
};
