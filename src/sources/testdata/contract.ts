/**
 * The contract every {@link LogSource} keeps, as one suite run against each implementation
 * (`tests/sources_contract_test.ts`): order, exactly-once, back-pressure, positions, stop, sink
 * failure, restart from saved positions.
 * @module
 */
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import type { LineBatch, LogSource } from "../log_source.ts";
import { decodePosition, encodePosition, type SourcePosition } from "../position.ts";
import { Collector, sleep } from "./harness.ts";

/** Drives one implementation: its inputs and how a fed text looks once delivered. */
export interface ContractHarness {
  /** A new source over the harness's inputs, read from the end unless `saved` applies. */
  make(saved: readonly SourcePosition[]): LogSource;
  /** Makes these lines appear in the input (append to the file, the journal, the log). */
  feed(texts: readonly string[]): Promise<void>;
  /** The delivered line for a fed text. */
  shown(text: string): string;
  /** Removes the inputs. */
  cleanup(): Promise<void>;
}

/** Registers the contract tests for one implementation. */
export function logSourceContract(name: string, harness: () => Promise<ContractHarness>): void {
  const texts = (from: number, to: number) =>
    Array.from(
      { length: to - from },
      (_, i) => `Failed password for root from 192.0.2.${from + i}`,
    );

  async function withSource(
    body: (h: ContractHarness, s: LogSource, got: Collector) => Promise<void>,
  ): Promise<void> {
    const h = await harness();
    const got = new Collector();
    let s: LogSource | undefined;
    try {
      s = h.make([]);
      await s.start(got.sink);
      await body(h, s, got);
    } finally {
      await s?.stop();
      await h.cleanup();
    }
  }

  Deno.test(`${name}: delivers what is fed after start, in order, exactly once`, async () => {
    await withSource(async (h, _s, got) => {
      await h.feed(texts(0, 3));
      await h.feed(texts(3, 5));
      await got.lineCount(5);
      await sleep(300);
      deepStrictEqual(got.lines, texts(0, 5).map(h.shown));
    });
  });

  Deno.test(`${name}: one batch in flight; positions move only when the sink settles`, async () => {
    const h = await harness();
    const s = h.make([]);
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    const batches: LineBatch[] = [];
    let inFlight = 0;
    try {
      await s.start(async (b) => {
        batches.push(b);
        ok(b.positions.some((p) => JSON.stringify(p) === JSON.stringify(b.position)));
        inFlight++;
        strictEqual(inFlight, 1);
        await gate;
        inFlight--;
      });
      const before = JSON.stringify(s.positions());
      await h.feed(texts(0, 1));
      const deadline = Date.now() + 8000;
      while (batches.length === 0 && Date.now() < deadline) await sleep(10);
      strictEqual(batches.length, 1);
      await h.feed(texts(1, 2));
      await sleep(200);
      strictEqual(batches.length, 1, "nothing more while the sink is busy");
      strictEqual(JSON.stringify(s.positions()), before, "position unchanged until settled");
      release();
      while (batches.flatMap((b) => b.lines).length < 2 && Date.now() < deadline) await sleep(10);
      deepStrictEqual(batches.flatMap((b) => b.lines), texts(0, 2).map(h.shown));
    } finally {
      release();
      await s.stop();
      await h.cleanup();
    }
  });

  Deno.test(`${name}: a restart from saved positions delivers only what came after`, async () => {
    const h = await harness();
    try {
      const a = new Collector();
      const first = h.make([]);
      await first.start(a.sink);
      await h.feed(texts(0, 2));
      await a.lineCount(2);
      await first.stop();
      await first.stop(); // idempotent
      await first.done;
      const saved = first.positions().map((p) => decodePosition(encodePosition(p)));
      await h.feed(texts(2, 4)); // while down
      const b = new Collector();
      const second = h.make(saved);
      try {
        await second.start(b.sink);
        await b.lineCount(2);
        await h.feed(texts(4, 5));
        await b.lineCount(3);
        await sleep(300);
      } finally {
        await second.stop();
      }
      deepStrictEqual(a.lines, texts(0, 2).map(h.shown));
      deepStrictEqual(b.lines, texts(2, 5).map(h.shown));
    } finally {
      await h.cleanup();
    }
  });

  Deno.test(`${name}: a rejecting sink stops the source and rejects done`, async () => {
    const h = await harness();
    const s = h.make([]);
    try {
      await s.start(() => Promise.reject(new Error("sink broke")));
      await h.feed(texts(0, 1));
      await rejects(s.done, /sink broke/);
    } finally {
      await s.stop();
      await h.cleanup();
    }
  });
}
