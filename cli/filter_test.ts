/**
 * `fail2zig filter test FILTER FILE|- [--json] [--mode MODE] [--config PATH] [--missed]`: runs a
 * filter over a log offline. Keeps only read permission.
 *
 * Stages: flags → filter (built-in, or `[filters.NAME]` from `--config`) → stream the input in
 * chunks, split lines, drop lines over the cap → match → JSON lines or a readable report.
 * @module
 */
import { Exit, parseFlags, revokeExcept, UsageError } from "./_cli.ts";
import {
  builtinFilterNames,
  DEFAULT_LINE_MAX_BYTES,
  exceedsLineCap,
  type Filter,
  filterModes,
  getFilter,
  PatternError,
} from "../src/filters/mod.ts";
import type { UserFilterConfig } from "../src/config/types.ts";

const USAGE =
  `usage: fail2zig filter test FILTER FILE|- [--json] [--mode MODE] [--config PATH] [--missed]

Runs FILTER over the lines of FILE (or standard input for -) and reports the matches.
  --json          one JSON object per matching line on stdout:
                  {"line":N,"ip":"…","time":"…"|null,"filter":"…","mode":"…"}; summary on stderr
  --mode MODE     filter mode (default: normal)
  --config PATH   load [filters.NAME] user filters and line_max_bytes from this config
  --missed        also list the lines that did not match (readable report only)

Built-in filters: ${builtinFilterNames().join(", ")}`;

/** Readable report: sample lines kept per pattern. */
const SAMPLES_PER_PATTERN = 3;

interface Stats {
  lines: number;
  matched: number;
  dropped: number;
  perPattern: number[];
  samples: string[][];
  ips: Map<string, number>;
  missed: string[];
}

/** Bytes read per chunk. */
const CHUNK_BYTES = 1 << 18;

/** Something with a synchronous `readSync` (a file, standard input). */
interface SyncReader {
  readSync(buf: Uint8Array): number | null;
}

/**
 * Splits decoded text, fed chunk by chunk, into lines (without the newline): `onLine(line, n)`,
 * or `onDropped(n)` for lines longer than `maxBytes`.
 *
 * The per-line loop lives in `feed`, a function of its own called once per chunk: V8 optimises it
 * like any hot function. Nested inside the read loop, it ran as on-stack-replaced code that V8
 * threw away at the end of every chunk ("exit from OSR'd inner loop", ~100 times per 1,000,000
 * lines), so much of each chunk ran unoptimised.
 */
class LineSplitter {
  /** Lines seen so far. */
  n = 0;
  #carry = "";
  #skipping = false; // inside a line already known to be too long
  readonly #maxBytes: number;
  readonly #quick: number; // shorter lines cannot exceed the cap, whatever their characters
  readonly #onLine: (line: string, n: number) => void;
  readonly #onDropped: (n: number) => void;

  constructor(
    maxBytes: number,
    opts: { onLine: (line: string, n: number) => void; onDropped: (n: number) => void },
  ) {
    this.#maxBytes = maxBytes;
    this.#quick = maxBytes / 3;
    this.#onLine = opts.onLine;
    this.#onDropped = opts.onDropped;
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
          this.#onDropped(n);
          continue;
        }
      }
      if (line.length > quick && exceedsLineCap(line, maxBytes)) this.#onDropped(n);
      else this.#onLine(line, n);
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
      if (this.#skipping || exceedsLineCap(this.#carry, this.#maxBytes)) this.#onDropped(n);
      else this.#onLine(this.#carry, n);
      this.#carry = "";
      this.#skipping = false;
    }
  }
}

/**
 * Reads `source` in chunks and calls `onLine(line, n)` for every line (without the newline);
 * lines longer than `maxBytes` are only counted (`onDropped`). Returns the number of lines.
 * Synchronous reads: this command has nothing else to do meanwhile, and they are 3× faster here
 * than a ReadableStream.
 */
function eachLine(
  source: SyncReader,
  maxBytes: number,
  onLine: (line: string, n: number) => void,
  onDropped: (n: number) => void,
): number {
  const decoder = new TextDecoder();
  const buf = new Uint8Array(CHUNK_BYTES);
  const lines = new LineSplitter(maxBytes, { onLine, onDropped });
  for (;;) {
    const got = source.readSync(buf);
    if (got === null) {
      lines.feed(decoder.decode());
      break;
    }
    lines.feed(decoder.decode(buf.subarray(0, got), { stream: true }));
  }
  lines.end();
  return lines.n;
}

function openInput(path: string): SyncReader & { close(): void } {
  if (path === "-") return { readSync: (b) => Deno.stdin.readSync(b), close: () => {} };
  return Deno.openSync(path, { read: true });
}

function chooseFilter(
  name: string,
  mode: string,
  users: readonly UserFilterConfig[],
): Filter | string {
  const modes = filterModes(name, users);
  if (modes === undefined) {
    return `unknown filter "${name}"; expected one of ${
      [...builtinFilterNames(), ...users.map((u) => u.name)].join(", ")
    }`;
  }
  if (!modes.includes(mode)) {
    return `filter "${name}" has no mode "${mode}"; expected one of ${modes.join(", ")}`;
  }
  try {
    return getFilter(name, mode, users);
  } catch (e) {
    if (e instanceof PatternError) {
      return `filter "${name}": ${e.list}[${e.patternIndex}] column ${e.column}: ${e.reason}`;
    }
    throw e;
  }
}

/** Runs the command; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  await revokeExcept(["read"]);
  const flags = parseFlags(args, {
    json: { type: "boolean" },
    mode: { type: "string" },
    config: { type: "string" },
    missed: { type: "boolean" },
  }, USAGE);
  if (flags === null) return Exit.OK;
  const [name, path, ...extra] = flags.positionals;
  if (name === undefined || path === undefined) {
    throw new UsageError("expected FILTER and FILE (or - for standard input)");
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const json = flags.values["json"] === true;
  const missed = flags.values["missed"] === true;
  const mode = typeof flags.values["mode"] === "string" ? flags.values["mode"] : "normal";
  let users: readonly UserFilterConfig[] = [];
  let maxBytes = DEFAULT_LINE_MAX_BYTES;
  const configPath = flags.values["config"];
  if (typeof configPath === "string") {
    const { loadConfig } = await import("../src/config/mod.ts");
    try {
      const cfg = await loadConfig(configPath);
      users = cfg.filters;
      maxBytes = cfg.global.lineMaxBytes;
    } catch (e) {
      console.error(e instanceof Error ? e.message : String(e));
      return Exit.FAILED;
    }
  }
  const filter = chooseFilter(name, mode, users);
  if (typeof filter === "string") {
    console.error(`fail2zig filter test: ${filter}`);
    return Exit.FAILED;
  }
  let input: SyncReader & { close(): void };
  try {
    input = openInput(path);
  } catch (e) {
    console.error(
      `fail2zig filter test: cannot read ${path}: ${e instanceof Error ? e.message : e}`,
    );
    return Exit.FAILED;
  }
  const stats: Stats = {
    lines: 0,
    matched: 0,
    dropped: 0,
    perPattern: filter.patterns.map(() => 0),
    samples: filter.patterns.map(() => []),
    ips: new Map(),
    missed: [],
  };
  const now = Date.now();
  const encoder = new TextEncoder();
  let out: string[] = [];
  let outLen = 0;
  const flush = () => {
    if (out.length === 0) return;
    const bytes = encoder.encode(out.join(""));
    out = [];
    outLen = 0;
    writeAll(bytes);
  };
  const head = `,"filter":${JSON.stringify(filter.name)},"mode":${JSON.stringify(filter.mode)}}\n`;
  const t0 = performance.now();
  stats.lines = eachLine(input, maxBytes, (line, n) => {
    const m = filter.matchDetailed(line, now);
    if (m === null) {
      if (missed && !json) stats.missed.push(`${n}: ${line}`);
      return;
    }
    stats.matched++;
    if (json) {
      const time = m.time === null ? "null" : `"${new Date(m.time).toISOString()}"`;
      const rec = `{"line":${n},"ip":"${m.ip}","time":${time}${head}`;
      out.push(rec);
      outLen += rec.length;
      if (outLen > 1 << 16) flush();
    } else {
      stats.perPattern[m.pattern]!++;
      const s = stats.samples[m.pattern]!;
      if (s.length < SAMPLES_PER_PATTERN) s.push(`${n}: ${line}`);
      stats.ips.set(m.ip, (stats.ips.get(m.ip) ?? 0) + 1);
    }
  }, () => stats.dropped++);
  input.close();
  flush();
  const seconds = (performance.now() - t0) / 1000;
  const summary = `${stats.lines} lines, ${stats.matched} matched, ${
    stats.lines - stats.matched - stats.dropped
  } missed, ${stats.dropped} dropped (longer than ${maxBytes} bytes); filter ${filter.name} mode ${filter.mode}; ${
    Math.round(stats.lines / Math.max(seconds, 1e-9))
  } lines/s`;
  if (json) {
    console.error(summary);
    return Exit.OK;
  }
  console.log(report(filter, stats, summary));
  return Exit.OK;
}

/** Writes all of `bytes` to stdout (synchronously: the line loop is synchronous too). */
function writeAll(bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

function report(filter: Filter, st: Stats, summary: string): string {
  const lines = [`Filter ${filter.name} (mode ${filter.mode})`, `Result: ${summary}`, ""];
  lines.push("Failure patterns (matches, pattern):");
  filter.patterns.forEach((p, k) => {
    lines.push(`  ${String(st.perPattern[k]).padStart(8)}  [${k}] ${p}`);
    for (const s of st.samples[k]!) lines.push(`            ${s}`);
  });
  const top = [...st.ips].sort((a, b) => b[1] - a[1]).slice(0, 20);
  lines.push("", `Addresses: ${st.ips.size} distinct${top.length ? "; most frequent:" : ""}`);
  for (const [ip, n] of top) lines.push(`  ${String(n).padStart(8)}  ${ip}`);
  if (st.missed.length > 0) {
    lines.push("", `Missed lines (${st.missed.length}):`);
    for (const m of st.missed) lines.push(`  ${m}`);
  }
  return lines.join("\n");
}
