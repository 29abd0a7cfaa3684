/**
 * Block-parallel `fail2zig filter test` over a regular file: the part every thread runs (the main
 * thread and each Worker of cli/_filter_parallel.ts).
 *
 * The file is cut into blocks of `blockBytes` bytes. Threads claim blocks one at a time from a
 * shared counter (so a Worker that starts late simply takes fewer), and match each with the same
 * `LineSplitter` + `Collector` as the single-thread path, numbering lines from 1 within the block.
 * A block owns the lines that start inside it: it begins just after the first newline at or
 * after its nominal start − 1 (byte 0 for the first block) and ends just after the first newline
 * at or after its nominal end − 1, so a line that straddles a nominal boundary — even one
 * over the cap, megabytes long — belongs whole to the block where it starts, and a block in which
 * no line starts is empty. Block boundaries are always just after a `\n` byte, where a UTF-8
 * decoder holds no partial character, so decoding block by block yields the same text as
 * decoding the whole file (the first block alone may start with a byte-order mark that the
 * decoder drops, as the single path's does; later blocks keep U+FEFF as the single path does).
 *
 * When a block is done its line count goes into shared memory; once the counts of all blocks
 * before it are known, its thread adds their sum to its line numbers and (with `--json`) writes
 * its records to stdout when the shared "next block to write" counter reaches it, so the output is
 * in input order and no thread holds more than the blocks it is waiting to write. The readable
 * report's tallies go back to the main thread, which merges them in block order.
 * @module
 */
import type { Filter } from "../src/filters/mod.ts";
import { type CollectOptions, Collector, LineSplitter, type Tally } from "./_filter_scan.ts";

/** Shared control words (Int32Array over a SharedArrayBuffer). */
export const CTL = {
  /** Next block to claim. */
  CLAIM: 0,
  /** Next block whose JSON records may be written. */
  WRITE: 1,
  /** Non-zero: a thread failed, everyone stops. */
  ABORT: 2,
  /** Line counts of the blocks from here on, -1 while unknown. */
  COUNTS: 3,
} as const;

/** Bytes read per chunk. */
export const CHUNK_BYTES = 1 << 18;

/** Milliseconds a waiting Worker sleeps before it looks at the abort flag again. */
const WAIT_SLICE_MS = 100;

/** The blocks of a file. */
export interface BlockPlan {
  /** Nominal block size in bytes (the last block runs to the end of the file, however long). */
  blockBytes: number;
  /** Number of blocks (≥ 1). */
  blocks: number;
}

/** What one thread needs besides the filter and the shared memory. */
export interface BlockJob extends CollectOptions {
  path: string;
  maxBytes: number;
  plan: BlockPlan;
}

/** The shared memory of a run of `blocks` blocks, every count unknown. */
export function newControl(blocks: number): Int32Array {
  const ctl = new Int32Array(new SharedArrayBuffer(4 * (CTL.COUNTS + blocks)));
  ctl.fill(-1, CTL.COUNTS);
  return ctl;
}

/** Thrown in a thread when another one failed. */
export class Aborted extends Error {
  override name = "Aborted";
}

/** How a thread waits until `ctl[i]` is no longer `value` (the main thread must not block). */
export type Wait = (ctl: Int32Array, i: number, value: number) => void | Promise<void>;

/** Blocking wait for a Worker, which looks at the abort flag every `WAIT_SLICE_MS`. */
export function waitSync(ctl: Int32Array, i: number, value: number): void {
  while (Atomics.load(ctl, i) === value) {
    if (Atomics.load(ctl, CTL.ABORT) !== 0) throw new Aborted("another thread failed");
    Atomics.wait(ctl, i, value, WAIT_SLICE_MS);
  }
}

/** Wait for the main thread: its event loop keeps running (Worker errors are seen). */
export async function waitAsync(ctl: Int32Array, i: number, value: number): Promise<void> {
  while (Atomics.load(ctl, i) === value) {
    if (Atomics.load(ctl, CTL.ABORT) !== 0) throw new Aborted("another thread failed");
    const r = Atomics.waitAsync(ctl, i, value, WAIT_SLICE_MS);
    if (r.async) await r.value;
  }
}

/** Marks the run failed and wakes every waiting thread. */
export function abort(ctl: Int32Array): void {
  Atomics.store(ctl, CTL.ABORT, 1);
  for (let i = 0; i < ctl.length; i++) Atomics.notify(ctl, i);
}

/** Writes all of `bytes` to stdout. */
export function writeAll(bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

const NL = 10;

/**
 * Reads block `b` of `file` and feeds its lines to `lines`; returns after `lines.end()`.
 */
function scanBlock(
  file: Deno.FsFile,
  b: number,
  plan: BlockPlan,
  buf: Uint8Array,
  lines: LineSplitter,
): void {
  const start = b * plan.blockBytes;
  const end = b === plan.blocks - 1 ? Infinity : start + plan.blockBytes;
  // the first newline at or after `start - 1` ends the previous block's last line
  let off = start === 0 ? 0 : start - 1; // file offset of buf[0]
  file.seekSync(off, Deno.SeekMode.Start);
  let started = start === 0;
  // byte 0 may hold a byte-order mark the single path's decoder drops; elsewhere U+FEFF stays
  const decoder = new TextDecoder("utf-8", { ignoreBOM: !started });
  for (;;) {
    const got = file.readSync(buf);
    if (got === null) break;
    const chunk = buf.subarray(0, got);
    let a = 0;
    if (!started) {
      // only a newline before `end - 1` starts a line inside this block
      const nl = chunk.subarray(0, Math.max(0, Math.min(got, end - 1 - off))).indexOf(NL);
      if (nl < 0) {
        off += got;
        if (off >= end - 1) return; // no line starts in this block
        continue;
      }
      a = nl + 1;
      started = true;
    }
    if (off + got > end - 1) {
      const nl = chunk.indexOf(NL, Math.max(a, end - 1 - off));
      if (nl >= 0) {
        lines.feed(decoder.decode(chunk.subarray(a, nl + 1), { stream: true }));
        break;
      }
    }
    lines.feed(decoder.decode(chunk.subarray(a), { stream: true }));
    off += got;
  }
  lines.feed(decoder.decode());
  lines.end();
}

/** A block matched but not yet numbered or written. */
interface Held {
  b: number;
  lines: number;
  collector: Collector;
  /** Encoded JSON records, once numbered. */
  bytes?: Uint8Array;
  tally?: Tally;
}

/**
 * The thread loop: claims blocks until none is left, matches them, then numbers and writes them
 * in turn. Returns the tallies of the blocks this thread matched (with block indices).
 */
export async function runBlocks(
  filter: Filter,
  job: BlockJob,
  ctl: Int32Array,
  wait: Wait,
): Promise<{ b: number; tally: Tally }[]> {
  const { plan } = job;
  const file = Deno.openSync(job.path, { read: true });
  const encoder = new TextEncoder();
  const buf = new Uint8Array(CHUNK_BYTES);
  const held: Held[] = [];
  const done: { b: number; tally: Tally }[] = [];
  let known = 0, knownLines = 0; // counts of blocks [0, known) are known and sum to knownLines
  const baseOf = (b: number): number | null => {
    for (;;) {
      if (known === b) return knownLines;
      const c = Atomics.load(ctl, CTL.COUNTS + known);
      if (c < 0) return null;
      knownLines += c;
      known++;
    }
  };
  /** Numbers what it can, writes what is its turn; with `final` waits until all is written. */
  const progress = async (final: boolean) => {
    for (const h of held) {
      if (h.tally !== undefined) continue;
      let base = baseOf(h.b);
      while (base === null && final) {
        await wait(ctl, CTL.COUNTS + known, -1);
        base = baseOf(h.b);
      }
      if (base === null) break;
      if (job.json) h.bytes = encoder.encode(h.collector.takeJson(base));
      h.tally = h.collector.takeTally(h.lines, base);
    }
    while (held.length > 0 && held[0]!.tally !== undefined) {
      const h = held[0]!;
      if (job.json) {
        let turn = Atomics.load(ctl, CTL.WRITE);
        if (turn !== h.b && !final) break;
        while (turn !== h.b) {
          await wait(ctl, CTL.WRITE, turn);
          turn = Atomics.load(ctl, CTL.WRITE);
        }
        writeAll(h.bytes!);
        Atomics.store(ctl, CTL.WRITE, h.b + 1);
        Atomics.notify(ctl, CTL.WRITE);
      }
      done.push({ b: h.b, tally: h.tally! });
      held.shift();
    }
  };
  try {
    for (;;) {
      if (Atomics.load(ctl, CTL.ABORT) !== 0) throw new Aborted("another thread failed");
      const b = Atomics.add(ctl, CTL.CLAIM, 1);
      if (b >= plan.blocks) break;
      const collector = new Collector(filter, job);
      const lines = new LineSplitter(job.maxBytes, collector);
      scanBlock(file, b, plan, buf, lines);
      Atomics.store(ctl, CTL.COUNTS + b, lines.n);
      Atomics.notify(ctl, CTL.COUNTS + b);
      held.push({ b, lines: lines.n, collector });
      await progress(false);
    }
    await progress(true);
  } catch (e) {
    abort(ctl);
    throw e;
  } finally {
    file.close();
  }
  return done;
}
