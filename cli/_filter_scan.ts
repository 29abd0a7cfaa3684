/**
 * The per-line work of `fail2zig filter test`, shared by the single-thread path and every thread of
 * the parallel one (cli/_filter_parallel.ts): split decoded text into lines, drop lines over the
 * cap, match, and collect what the output needs with line numbers relative to where the lines
 * were counted from, so that a block of a file can be matched before the number of lines ahead of
 * it is known. `Collector.take*(base)` turns them into output with `base` added.
 * @module
 */
import { exceedsLineCap, type Filter, LineKind } from "../src/filters/mod.ts";

/** Readable report: sample lines kept per pattern. */
export const SAMPLES_PER_PATTERN = 3;

/** Where `LineSplitter` sends lines (a `Collector`). */
export interface LineSink {
  onLine(line: string, n: number): void;
  onDropped(n: number): void;
}

/**
 * Splits decoded text, fed chunk by chunk, into lines (without the newline): `sink.onLine(line,
 * n)`, or `sink.onDropped(n)` for lines longer than `maxBytes`. `n` counts from 1.
 *
 * The per-line loop lives in `feed`, a function of its own called once per chunk: V8 optimises it
 * like any hot function. Nested inside the read loop, it ran as on-stack-replaced code that V8
 * threw away at the end of every chunk ("exit from OSR'd inner loop", ~100 times per 1,000,000
 * lines), so much of each chunk ran unoptimised. The sink's callbacks are methods (one function
 * for every `Collector`), not a closure per instance: with a new `Collector` per block, a closure
 * made each block's first call a "wrong call target" deoptimisation of `feed` and a recompile.
 */
export class LineSplitter {
  /** Lines seen so far. */
  n = 0;
  #carry = "";
  #skipping = false; // inside a line already known to be too long
  readonly #maxBytes: number;
  readonly #quick: number; // shorter lines cannot exceed the cap, whatever their characters
  readonly #sink: LineSink;

  constructor(maxBytes: number, sink: LineSink) {
    this.#maxBytes = maxBytes;
    this.#quick = maxBytes / 3;
    this.#sink = sink;
  }

  /** Takes the next piece of text. */
  feed(text: string): void {
    const maxBytes = this.#maxBytes, quick = this.#quick;
    let n = this.n;
    let pos = 0;
    for (;;) {
      const nl = text.indexOf("\n", pos);
      if (nl < 0) break;
      let line = text.slice(pos, nl);
      pos = nl + 1;
      n++;
      if (this.#carry !== "" || this.#skipping) {
        line = this.#carry + line;
        this.#carry = "";
        if (this.#skipping) {
          this.#skipping = false;
          this.#sink.onDropped(n);
          continue;
        }
      }
      if (line.length > quick && exceedsLineCap(line, maxBytes)) this.#sink.onDropped(n);
      else this.#sink.onLine(line, n);
    }
    this.n = n;
    if (pos < text.length) {
      this.#carry += text.slice(pos);
      if (this.#carry.length > maxBytes) {
        this.#skipping = true; // remember only that the line is too long
        this.#carry = "";
      }
    }
  }

  /** The input ended: a last line without a newline counts too. */
  end(): void {
    if (this.#carry !== "" || this.#skipping) {
      const n = ++this.n;
      if (this.#skipping || exceedsLineCap(this.#carry, this.#maxBytes)) this.#sink.onDropped(n);
      else this.#sink.onLine(this.#carry, n);
      this.#carry = "";
      this.#skipping = false;
    }
  }
}

/** What a run collects besides the JSON records (summed or merged over blocks in input order). */
export interface Tally {
  lines: number;
  matched: number;
  dropped: number;
  /** Matches per failure pattern (readable report only). */
  perPattern: number[];
  /** First `SAMPLES_PER_PATTERN` lines per pattern, as `N: line` (readable report only). */
  samples: string[][];
  /** Matches per address, in order of first appearance (readable report only). */
  ips: [string, number][];
  /** Missed lines (with `--missed`, readable report only). */
  missedCount: number;
  /** The missed lines as `  N: line`, in pieces each joined by "\n" (empty pieces left out). */
  missedText: string[];
  /** Lines per `LineKind` that counted nothing (ambiguous, ignored, duplicates, session lines). */
  kinds: number[];
  /** Lines per line shape (`Ts` of src/filters/_shape.ts: the date format found). */
  formats: number[];
  /** Per listed kind (`--ambiguous`, `--duplicates`, `--ignored`): its lines as `  N: line`. */
  listed: Record<number, string[]>;
}

/** Kinds of line a run can list, by the flag that asks for them. */
export const LISTABLE: Readonly<Record<string, number>> = {
  ambiguous: LineKind.AMBIGUOUS,
  duplicates: LineKind.DUPLICATE,
  ignored: LineKind.IGNORED,
};

/** Options of a `Collector`. */
export interface CollectOptions {
  /** JSON records instead of the readable report's data. */
  json: boolean;
  /** Keep missed lines (readable report only). */
  missed: boolean;
  /** The time lines are clamped to (ms since the epoch); the same for every thread. */
  now: number;
  /** `LineKind`s whose lines are kept for the report (readable report only). @default [] */
  list?: readonly number[];
}

/**
 * Matches lines and keeps what the output needs, line numbers as given to `onLine` (relative to
 * the start of a block); `takeJson`/`takeMissed`/`takeTally` add the block's first line number
 * minus one and clear what they return.
 */
export class Collector {
  matched = 0;
  dropped = 0;
  /** Characters of JSON records held. */
  jsonChars = 0;
  readonly perPattern: number[];
  readonly #filter: Filter;
  readonly #json: boolean;
  readonly #missed: boolean;
  readonly #now: number;
  readonly #tail: string;
  readonly #nums: number[] = [];
  readonly #recs: string[] = [];
  #samples: (string | number)[][]; // n, line, n, line, …
  #ips = new Map<string, number>();
  readonly #missedNums: number[] = [];
  readonly #missedLines: string[] = [];
  #missedCount = 0;
  readonly #kinds: number[] = [0, 0, 0, 0, 0, 0];
  readonly #formats: number[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  readonly #list: Set<number>;
  #listed: Record<number, string[]> = {};

  constructor(filter: Filter, opts: CollectOptions) {
    this.#filter = filter;
    this.#json = opts.json;
    this.#missed = opts.missed && !opts.json;
    this.#now = opts.now;
    this.#list = new Set(opts.json ? [] : opts.list ?? []);
    this.#tail = `,"filter":${JSON.stringify(filter.name)},"mode":${
      JSON.stringify(filter.mode)
    }}\n`;
    this.perPattern = filter.patterns.map(() => 0);
    this.#samples = filter.patterns.map(() => []);
  }

  /** The per-line callback for `LineSplitter`. */
  onLine(line: string, n: number): void {
    const f = this.#filter;
    const m = f.matchDetailed(line, this.#now);
    this.#formats[f.lastFormat]!++;
    if (m === null) {
      const kind = f.lastKind;
      if (kind !== LineKind.NONE) {
        this.#kinds[kind]!++;
        if (this.#list.has(kind)) (this.#listed[kind] ??= []).push(`  ${n}: ${line}`);
        return;
      }
      if (this.#missed) {
        this.#missedNums.push(n);
        this.#missedLines.push(line);
        this.#missedCount++;
      }
      return;
    }
    this.matched++;
    if (this.#json) {
      const time = m.time === null ? "null" : `"${new Date(m.time).toISOString()}"`;
      const rec = `,"ip":"${m.ip}","time":${time}${this.#tail}`;
      this.#nums.push(n);
      this.#recs.push(rec);
      this.jsonChars += rec.length;
    } else {
      this.perPattern[m.pattern]!++;
      const s = this.#samples[m.pattern]!;
      if (s.length < 2 * SAMPLES_PER_PATTERN) s.push(n, line);
      this.#ips.set(m.ip, (this.#ips.get(m.ip) ?? 0) + 1);
    }
  }

  /** The per-line callback for dropped lines. */
  onDropped(): void {
    this.dropped++;
  }

  /** The JSON records held, line numbers plus `base`, as one string; clears them. */
  takeJson(base: number): string {
    const nums = this.#nums, recs = this.#recs;
    let out = "";
    for (let i = 0; i < nums.length; i++) out += `{"line":${nums[i]! + base}${recs[i]!}`;
    nums.length = 0; // cleared in place: the fields keep their first value (no deoptimisation)
    recs.length = 0;
    this.jsonChars = 0;
    return out;
  }

  /** The tally of `lines` lines, line numbers plus `base`; clears what it returns. */
  takeTally(lines: number, base: number): Tally {
    const nums = this.#missedNums, ls = this.#missedLines;
    let text = "";
    for (let i = 0; i < nums.length; i++) {
      text += `${i === 0 ? "" : "\n"}  ${nums[i]! + base}: ${ls[i]!}`;
    }
    const samples = this.#samples.map((s) => {
      const out: string[] = [];
      for (let i = 0; i < s.length; i += 2) out.push(`${(s[i] as number) + base}: ${s[i + 1]}`);
      return out;
    });
    const t: Tally = {
      lines,
      matched: this.matched,
      dropped: this.dropped,
      perPattern: this.perPattern.slice(),
      samples,
      ips: [...this.#ips],
      missedCount: this.#missedCount,
      missedText: text === "" ? [] : [text],
      kinds: this.#kinds.slice(),
      formats: this.#formats.slice(),
      listed: rebase(this.#listed, base),
    };
    nums.length = 0;
    ls.length = 0;
    this.#listed = {};
    return t;
  }
}

/** Listed lines `  N: line` with `base` added to N. */
function rebase(listed: Record<number, string[]>, base: number): Record<number, string[]> {
  if (base === 0) return listed;
  const out: Record<number, string[]> = {};
  for (const [k, ls] of Object.entries(listed)) {
    out[Number(k)] = ls.map((l) => {
      const colon = l.indexOf(":");
      return `  ${Number(l.slice(2, colon)) + base}${l.slice(colon)}`;
    });
  }
  return out;
}

/** An empty tally for a filter with `patterns` failure patterns. */
export function emptyTally(patterns: number): Tally {
  return {
    lines: 0,
    matched: 0,
    dropped: 0,
    perPattern: new Array<number>(patterns).fill(0),
    samples: Array.from({ length: patterns }, () => []),
    ips: [],
    missedCount: 0,
    missedText: [],
    kinds: [0, 0, 0, 0, 0, 0],
    formats: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    listed: {},
  };
}

/**
 * Adds `next` (the tally of the lines after those of `into`) to `into`: counts summed, samples
 * and missed lines appended in input order (samples capped), addresses merged keeping the order
 * of first appearance.
 */
export function mergeTally(into: Tally, next: Tally, ips: Map<string, number>): void {
  into.lines += next.lines;
  into.matched += next.matched;
  into.dropped += next.dropped;
  next.perPattern.forEach((c, k) => into.perPattern[k]! += c);
  next.samples.forEach((s, k) => {
    const to = into.samples[k]!;
    for (const x of s) if (to.length < SAMPLES_PER_PATTERN) to.push(x);
  });
  for (const [ip, c] of next.ips) ips.set(ip, (ips.get(ip) ?? 0) + c);
  into.missedCount += next.missedCount;
  into.missedText.push(...next.missedText);
  next.kinds.forEach((c, k) => into.kinds[k] = (into.kinds[k] ?? 0) + c);
  next.formats.forEach((c, k) => into.formats[k] = (into.formats[k] ?? 0) + c);
  for (const [k, ls] of Object.entries(next.listed)) (into.listed[Number(k)] ??= []).push(...ls);
}
