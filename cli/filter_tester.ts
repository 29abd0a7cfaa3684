/**
 * `fail2zig filter test FILTER FILE|- [--json] [--mode MODE] [--config PATH] [--missed]
 * [--jobs N]`: runs a filter over a log offline. Keeps only read permission.
 *
 * Stages: flags → (a large regular FILE: start Workers) → filter (built-in, or `[filters.NAME]`
 * from `--config`) → stream the input in chunks, split lines, drop lines over the cap → match →
 * JSON lines or a readable report. A regular file of `PARALLEL_MIN_BYTES` or more (or any with
 * `--jobs N`, N > 1) is matched in blocks by several threads (cli/_filter_blocks.ts) with output
 * byte for byte that of one thread.
 * @module
 */
import { Exit, parseFlags, revokeExcept, UsageError } from "./_cli.ts";
import {
  builtinFilterNames,
  DEFAULT_LINE_MAX_BYTES,
  type Filter,
  filterHasSessions,
  filterModes,
  getFilter,
  LineKind,
  PatternError,
} from "../src/filters/mod.ts";
import type { UserFilterConfig } from "../src/config/mod.ts";
import { CHUNK_BYTES, writeAll } from "./_filter_blocks.ts";
import { Collector, LineSplitter, LISTABLE, type Tally } from "./_filter_scan.ts";
import {
  AUTO_JOBS_MAX,
  chooseJobs,
  finishRun,
  JOBS_MAX,
  PARALLEL_MIN_BYTES,
  planBlocks,
  type Run,
  startRun,
  stopRun,
} from "./_filter_parallel.ts";

/** The `--help` text (also the command's section of fail2zig(8)). */
export const USAGE =
  `usage: fail2zig filter test FILTER FILE|- [--json] [--mode MODE] [--config PATH] [--missed]
       [--ambiguous] [--duplicates] [--ignored] [--jobs N]

Runs FILTER over the lines of FILE (or standard input for -) and reports the matches.
  --json          one JSON object per matching line on stdout:
                  {"line":N,"ip":"…","time":"…"|null,"filter":"…","mode":"…"}; summary on stderr
  --mode MODE     filter mode (default: normal)
  --config PATH   load [filters.NAME] user filters and line_max_bytes from this config
  --missed        also list the lines that did not match (readable report only)
  --ambiguous     also list the lines whose address two readings disagree on
  --duplicates    also list the lines that repeat an attempt already counted
  --ignored       also list the lines an ignore pattern dropped
  --jobs N        threads for a regular FILE (1 to ${JOBS_MAX}; default: 1 below ${
    PARALLEL_MIN_BYTES >> 20
  } MiB, else the
                  number of CPUs up to ${AUTO_JOBS_MAX}); the output is the same for every N
                  (a filter with sessions, like sshd, reads its lines in order: one thread)

Built-in filters: ${builtinFilterNames().join(", ")}`;

/** Something with a synchronous `readSync` (a file, standard input). */
interface SyncReader {
  readSync(buf: Uint8Array): number | null;
}

/**
 * The single-thread path: reads `source` in chunks and feeds `collector` every line; writes JSON
 * records as it goes. Returns the number of lines. Synchronous reads: this command has nothing
 * else to do meanwhile, and they are 3× faster here than a ReadableStream.
 */
function scanAll(
  source: SyncReader,
  maxBytes: number,
  collector: Collector,
  json: boolean,
): number {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const buf = new Uint8Array(CHUNK_BYTES);
  const lines = new LineSplitter(maxBytes, collector);
  const flush = () => {
    if (json && collector.jsonChars > 0) writeAll(encoder.encode(collector.takeJson(0)));
  };
  for (;;) {
    const got = source.readSync(buf);
    if (got === null) {
      lines.feed(decoder.decode());
      break;
    }
    lines.feed(decoder.decode(buf.subarray(0, got), { stream: true }));
    if (collector.jsonChars > JSON_FLUSH_CHARS) flush();
  }
  lines.end();
  flush();
  return lines.n;
}

/** JSON output is written when this many characters are held. */
const JSON_FLUSH_CHARS = 1 << 16;

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

/** `--jobs`: a whole number from 1 to `JOBS_MAX`, or undefined when not given. */
function parseJobs(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || !/^[0-9]+$/.test(v) || n < 1 || n > JOBS_MAX) {
    throw new UsageError(`--jobs: expected a whole number from 1 to ${JOBS_MAX}, found '${v}'`);
  }
  return n;
}

/** The input: standard input, or an open file with its size when it is a regular file. */
interface Input {
  reader: SyncReader;
  close(): void;
  /** Size in bytes of a regular file, else undefined. */
  size: number | undefined;
}

function openInput(path: string): Input {
  if (path === "-") {
    return {
      reader: { readSync: (b) => Deno.stdin.readSync(b) },
      close: () => {},
      size: undefined,
    };
  }
  const file = Deno.openSync(path, { read: true });
  try {
    const st = file.statSync();
    if (st.isDirectory) throw new Error("it is a directory");
    return { reader: file, close: () => file.close(), size: st.isFile ? st.size : undefined };
  } catch (e) {
    file.close();
    throw e;
  }
}

/**
 * Runs the command. Returns the exit code for usage errors and `--help`; once the input is open,
 * it exits the process itself with the code as soon as the output is written.
 */
export async function main(args: string[]): Promise<number> {
  await revokeExcept(["read"]);
  const flags = parseFlags(args, {
    json: { type: "boolean" },
    mode: { type: "string" },
    config: { type: "string" },
    missed: { type: "boolean" },
    ambiguous: { type: "boolean" },
    duplicates: { type: "boolean" },
    ignored: { type: "boolean" },
    jobs: { type: "string" },
  }, USAGE);
  if (flags === null) return Exit.OK;
  const [name, path, ...extra] = flags.positionals;
  if (name === undefined || path === undefined) {
    throw new UsageError("expected FILTER and FILE (or - for standard input)");
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const opts: Options = {
    name,
    path,
    json: flags.values["json"] === true,
    missed: flags.values["missed"] === true,
    list: Object.keys(LISTABLE).filter((k) => flags.values[k] === true).map((k) => LISTABLE[k]!),
    mode: typeof flags.values["mode"] === "string" ? flags.values["mode"] : "normal",
    jobs: parseJobs(flags.values["jobs"]),
    configPath: typeof flags.values["config"] === "string" ? flags.values["config"] : undefined,
  };
  let input: Input;
  try {
    input = openInput(path);
  } catch (e) {
    console.error(
      `fail2zig filter test: cannot read ${path}: ${e instanceof Error ? e.message : e}`,
    );
    return Exit.FAILED;
  }
  let code: number;
  try {
    code = await runOn(input, opts);
  } finally {
    input.close();
  }
  // Everything is written (synchronous writes); leave now rather than through the runtime's
  // orderly shutdown after the event loop drains (≈ 3–6 ms, measured).
  Deno.exit(code);
}

/** The command line, parsed. */
interface Options {
  name: string;
  path: string;
  json: boolean;
  missed: boolean;
  /** `LineKind`s to list (`--ambiguous`, `--duplicates`, `--ignored`). */
  list: number[];
  mode: string;
  jobs: number | undefined;
  configPath: string | undefined;
}

async function runOn(input: Input, o: Options): Promise<number> {
  const { json, missed } = o;
  let users: readonly UserFilterConfig[] = [];
  let maxBytes = DEFAULT_LINE_MAX_BYTES;
  if (o.configPath !== undefined) {
    const { loadConfig } = await import("../src/config/mod.ts");
    try {
      const cfg = await loadConfig(o.configPath);
      users = cfg.filters;
      maxBytes = cfg.global.lineMaxBytes;
    } catch (e) {
      console.error(e instanceof Error ? e.message : String(e));
      return Exit.FAILED;
    }
  }
  const now = Date.now();
  let run: Run | null = null;
  let threads = 1;
  // a filter with sessions carries state from line to line: one thread reads them in order
  if (
    input.size !== undefined && !filterHasSessions(o.name, o.mode, users) && o.list.length === 0
  ) {
    const jobs = chooseJobs(input.size, o.jobs, navigator.hardwareConcurrency);
    if (jobs > 1) {
      const plan = planBlocks(input.size, jobs);
      threads = Math.min(jobs, plan.blocks);
      // the Workers start before the filter is compiled here: they load and compile meanwhile
      const job = { path: Deno.realPathSync(o.path), plan, maxBytes, json, missed, now };
      run = startRun(job, { name: o.name, mode: o.mode, users }, threads - 1);
    }
  }
  try {
    const filter = chooseFilter(o.name, o.mode, users);
    if (typeof filter === "string") {
      console.error(`fail2zig filter test: ${filter}`);
      return Exit.FAILED;
    }
    const t0 = performance.now();
    let tally: Tally;
    if (run === null) {
      const collector = new Collector(filter, { json, missed, now, list: o.list });
      const lines = scanAll(input.reader, maxBytes, collector, json);
      tally = collector.takeTally(lines, 0);
    } else {
      tally = await finishRun(run, filter);
    }
    const seconds = (performance.now() - t0) / 1000;
    const k = tally.kinds;
    const other = k.reduce((a, b) => a + b, 0);
    const summary = `${tally.lines} lines, ${tally.matched} matched, ${
      tally.lines - tally.matched - tally.dropped - other
    } missed, ${k[LineKind.IGNORED]} ignored, ${k[LineKind.AMBIGUOUS]} ambiguous, ${
      k[LineKind.DUPLICATE]
    } duplicates, ${
      k[LineKind.SESSION]
    } session lines, ${tally.dropped} dropped (longer than ${maxBytes} bytes); filter ${filter.name} mode ${filter.mode}; ${
      Math.round(tally.lines / Math.max(seconds, 1e-9))
    } lines/s; ${threads} thread${threads > 1 ? "s" : ""}`;
    if (json) {
      console.error(summary);
      return Exit.OK;
    }
    console.log(report(filter, tally, summary));
    return Exit.OK;
  } finally {
    if (run !== null) stopRun(run);
  }
}

function report(filter: Filter, st: Tally, summary: string): string {
  const lines = [`Filter ${filter.name} (mode ${filter.mode})`, `Result: ${summary}`, ""];
  lines.push("Failure patterns (matches, pattern):");
  filter.patterns.forEach((p, k) => {
    lines.push(`  ${String(st.perPattern[k]).padStart(8)}  [${k}] ${p}`);
    for (const s of st.samples[k]!) lines.push(`            ${s}`);
  });
  const top = [...st.ips].sort((a, b) => b[1] - a[1]).slice(0, 20);
  lines.push("", `Addresses: ${st.ips.length} distinct${top.length ? "; most frequent:" : ""}`);
  for (const [ip, n] of top) lines.push(`  ${String(n).padStart(8)}  ${ip}`);
  const formats = st.formats.map((n, ts) => [FORMAT_NAMES[ts] ?? `#${ts}`, n] as const)
    .filter(([, n]) => n > 0);
  lines.push("", "Date formats (lines):");
  for (const [f, n] of formats) lines.push(`  ${String(n).padStart(8)}  ${f}`);
  for (const [flag, kind] of Object.entries(LISTABLE)) {
    const ls = st.listed[kind];
    if (ls === undefined) continue;
    lines.push("", `${flag[0]!.toUpperCase()}${flag.slice(1)} lines (${ls.length}):`, ...ls);
  }
  if (st.missedCount > 0) {
    lines.push("", `Missed lines (${st.missedCount}):`);
    lines.push(...st.missedText);
  }
  return lines.join("\n");
}

/** Names of the line shapes (`Ts`), for the report. */
const FORMAT_NAMES = [
  "none (bare message, access log)",
  "RFC 3164 syslog",
  "RFC 3339 / ISO 8601",
  "nginx error log",
  "ctime (vsftpd)",
  "Apache error log",
  "TAI64N",
  "journalctl short-unix",
  "journalctl short-full",
  "journalctl short-monotonic",
];
