/**
 * The Worker of `deno task fuzz` (scripts/fuzz.ts): runs one target until its deadline, with V8
 * block coverage on (node:inspector, started before any target module loads). Inputs run in
 * seeded fast-check batches; after each batch the coverage counters are taken, and when the batch
 * reached bytes of src/ that no input reached before, its inputs are replayed one by one to find
 * which did, and those join the corpus. A failing batch is shrunk by fast-check and its
 * counterexample saved as a reproducer (`crash-` or `timeout-`). Before each input its encoding
 * is published in a SharedArrayBuffer, so that the main thread can save an input that never
 * returns (a hang no in-process timer can interrupt).
 * @module
 */
/// <reference lib="deno.worker" />
import { Session } from "node:inspector";

/** What the main thread sends to start. */
export interface FuzzJob {
  target: string;
  seconds: number;
  seed: number;
  shared: SharedArrayBuffer;
}

/** One V8 block-coverage range. */
interface Range {
  startOffset: number;
  endOffset: number;
  count: number;
}

interface ScriptCoverage {
  url: string;
  functions: { ranges: Range[] }[];
}

const session = new Session();
session.connect();
function post<T>(method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (e: unknown, r: unknown) => e ? reject(e) : resolve(r as T))
  );
}
await post("Profiler.enable");
await post("Profiler.startPreciseCoverage", { callCount: true, detailed: true });

const fc = (await import("fast-check")).default;
const { target: lookup } = await import("../tests/fuzz/_targets.ts");
const { readEntries, writeEntry, MAX_ENTRY_BYTES, MAX_TARGET_BYTES } = await import(
  "../tests/fuzz/_corpus.ts"
);
const { encodeInput } = await import("../tests/fuzz/_input.ts");
const { runOne } = await import("../tests/fuzz/_target.ts");

const SRC = new URL("../src/", import.meta.url).href;
/** Bytes of each src/ script (transpiled JS, as V8 runs it) that a target's check executed. */
const covered = new Map<string, Uint8Array>();
/**
 * Bytes executed anywhere in a batch, the generators included (some call src/ code, e.g.
 * `encodeState`): a batch is replayed input by input only when it ran bytes outside both maps, so
 * code that only generation reaches does not send every batch to a replay.
 */
const batchSeen = new Map<string, Uint8Array>();

/**
 * Takes (and resets) the counters: the src/ bytes that ran since the last take, per script. Within
 * a take the innermost range decides: functions are painted largest first, each function's ranges
 * in V8's order (a block after the range containing it).
 */
async function take(): Promise<Map<string, Uint8Array>> {
  const { result } = await post<{ result: ScriptCoverage[] }>("Profiler.takePreciseCoverage");
  const out = new Map<string, Uint8Array>();
  for (const script of result) {
    if (!script.url.startsWith(SRC)) continue;
    const fns = script.functions.filter((f) => f.ranges.length > 0).sort((a, b) =>
      (b.ranges[0]!.endOffset - b.ranges[0]!.startOffset) -
      (a.ranges[0]!.endOffset - a.ranges[0]!.startOffset)
    );
    const len = Math.max(0, ...fns.map((f) => f.ranges[0]!.endOffset));
    const now = new Uint8Array(len);
    for (const f of fns) {
      for (const r of f.ranges) now.fill(r.count > 0 ? 1 : 0, r.startOffset, r.endOffset);
    }
    out.set(script.url, now);
  }
  return out;
}

/** Bytes of `snap` in none of `maps`. */
function gained(snap: Map<string, Uint8Array>, ...maps: Map<string, Uint8Array>[]): number {
  let n = 0;
  for (const [url, now] of snap) {
    const seen = maps.map((m) => m.get(url));
    for (let i = 0; i < now.length; i++) if (now[i] === 1 && seen.every((s) => s?.[i] !== 1)) n++;
  }
  return n;
}

/** Adds the bytes of `snap` to `into`. */
function merge(snap: Map<string, Uint8Array>, into: Map<string, Uint8Array>): void {
  for (const [url, now] of snap) {
    let seen = into.get(url);
    if (seen === undefined || seen.length < now.length) {
      const grown = new Uint8Array(now.length);
      if (seen !== undefined) grown.set(seen);
      into.set(url, seen = grown);
    }
    for (let i = 0; i < now.length; i++) seen[i] ||= now[i]!;
  }
}

/** Covered and total bytes of the given repository paths. */
function coverageOf(modules: readonly string[]): { covered: number; total: number } {
  let c = 0, t = 0;
  for (const m of modules) {
    const seen = covered.get(new URL(`../${m}`, import.meta.url).href);
    if (seen === undefined) continue;
    t += seen.length;
    for (const b of seen) c += b;
  }
  return { covered: c, total: t };
}

self.onmessage = async (e: MessageEvent<FuzzJob>) => {
  const job = e.data;
  const t = lookup(job.target)!;
  const header = new Int32Array(job.shared, 0, 2);
  const body = new Uint8Array(job.shared, 8);
  const enc = new TextEncoder();
  const publish = (input: unknown) => {
    const bytes = enc.encode(encodeInput(input));
    const n = Math.min(bytes.length, body.length);
    body.set(bytes.subarray(0, n));
    Atomics.store(header, 1, n);
    Atomics.add(header, 0, 1);
  };
  await t.setup?.();
  const corpus = readEntries(t.name).filter((x) => x.kind === "corpus");
  let corpusBytes = corpus.reduce((a, x) => a + x.text.length, 0);
  const inputs = corpus.map((x) => x.input);
  for (const input of inputs) {
    publish(input);
    await t.check(input);
  }
  merge(await take(), covered);
  const before = coverageOf(t.modules);
  const deadline = Date.now() + job.seconds * 1000;
  let execs = 0, batches = 0, added = 0, full = false;
  const saved: string[] = [];
  let seed = job.seed;
  let lastReport = Date.now();
  while (Date.now() < deadline && saved.length < 5) {
    const batch: unknown[] = [];
    const prop = fc.asyncProperty(t.arbitrary(inputs), async (input: unknown) => {
      publish(input);
      batch.push(input);
      execs++;
      await runOne(t, input);
    });
    const r = await fc.check(prop, { seed: seed++, numRuns: 200 });
    batches++;
    if (r.failed && r.counterexample !== null) {
      const why = String(r.errorInstance ?? "");
      const kind = /time-out/.test(why) ? "timeout" : "crash";
      const file = writeEntry(t.name, kind, r.counterexample[0]);
      saved.push(file);
      self.postMessage({ type: "saved", file, why: why.split("\n")[0] });
    }
    const snap = await take();
    if (gained(snap, covered, batchSeen) > 0) {
      for (const input of batch) {
        try {
          await t.check(input);
        } catch {
          continue; // a failing input is saved as a reproducer, not as corpus
        }
        const one = await take();
        if (gained(one, covered) === 0) continue;
        merge(one, covered);
        const size = encodeInput(input).length;
        if (size > MAX_ENTRY_BYTES) continue;
        if (corpusBytes + size > MAX_TARGET_BYTES) {
          full = true;
          continue;
        }
        writeEntry(t.name, "corpus", input);
        inputs.push(input);
        corpusBytes += size;
        added++;
      }
    }
    merge(snap, batchSeen);
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      self.postMessage({
        type: "progress",
        execs,
        corpus: inputs.length,
        ...coverageOf(t.modules),
      });
    }
  }
  await t.close?.();
  self.postMessage({
    type: "done",
    execs,
    batches,
    corpusBefore: corpus.length,
    corpusAfter: inputs.length,
    added,
    full,
    before,
    after: coverageOf(t.modules),
    saved,
  });
};
