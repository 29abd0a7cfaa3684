/**
 * The pure parts of `bench/live.ts` (tested by `bench/live_test.ts`): parsers of `/proc/PID/stat`,
 * `/proc/PID/status`, `/proc/PID/smaps_rollup` and of `nft monitor` lines, the ground-truth reader
 * of gen-logs.mjs, address canonicalisation, quantiles and the ratio table.
 * @module
 */

/** `/proc/PID/stat` times are in clock ticks (USER_HZ). */
export const CLOCK_TICKS = 100;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * Classic syslog time of `d` (`Mmm dd hh:mm:ss`, UTC, as gen-logs writes it), which fail2zig,
 * fail2ban and sshguard all read.
 */
export function syslogTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ${
    p(d.getUTCHours())
  }:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/**
 * CPU seconds of one `/proc/PID/stat` line: utime + stime + cutime + cstime (the last two are
 * the children it has reaped, so short-lived helpers such as sshguard's `nft` calls count).
 * The command name may hold spaces and parentheses: fields are read after the last `)`.
 */
export function statCpuSeconds(line: string): number {
  const close = line.lastIndexOf(")");
  if (close < 0) throw new Error(`not a /proc/PID/stat line: ${line}`);
  const f = line.slice(close + 2).split(" ");
  // After "pid (comm) ": state is field 3, so utime (14) is index 11 here.
  const ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(f[i]), 0);
  if (!Number.isFinite(ticks)) throw new Error(`bad /proc/PID/stat line: ${line}`);
  return ticks / CLOCK_TICKS;
}

/** The `NAME: N kB` lines of `/proc/PID/status` or `/proc/PID/smaps_rollup`, in bytes. */
export function parseKbLines(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_]\w*):\s+(\d+) kB$/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]) * 1024;
  }
  return out;
}

/** Canonical text of an IPv4 or IPv6 address (RFC 5952 for IPv6), or `null` if it is neither. */
export function canonicalIp(ip: string): string | null {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    const p = ip.split(".").map(Number);
    return p.every((n) => n <= 255) ? p.join(".") : null;
  }
  if (!/^[0-9a-fA-F:]+$/.test(ip) || ip.split("::").length > 2) return null;
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const h = head === "" ? [] : head!.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  if (fill < 0 || (tail === undefined && h.length !== 8)) return null;
  const groups = [...h, ...Array(fill).fill("0"), ...t];
  if (groups.some((g) => g.length === 0 || g.length > 4)) return null;
  const n = groups.map((g) => parseInt(g, 16));
  // The longest run of two or more zero groups (the first of equals) becomes "::".
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && n[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = n.map((x) => x.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** True for 127.0.0.0/8 and ::1, which all three daemons never ban by default. */
export function isLoopback(ip: string): boolean {
  return ip === "::1" || ip.startsWith("127.");
}

/**
 * The addresses of one `nft monitor` line that adds set elements (`add element FAMILY TABLE SET
 * { A [timeout …], B/32, … }`), canonical, without prefix lengths; `[]` for any other line.
 */
export function monitorAddedElements(line: string): string[] {
  const m = /^add element \S+ \S+ \S+ \{ (.*) \}$/.exec(line.trim());
  if (m === null) return [];
  const out: string[] = [];
  for (const part of m[1]!.split(",")) {
    const first = part.trim().split(" ")[0]!.replace(/\/\d+$/, "");
    const ip = canonicalIp(first);
    if (ip !== null) out.push(ip);
  }
  return out;
}

/** What gen-logs.mjs `--truth` says of one generated log. */
export interface Truth {
  lines: number;
  /** Canonical addresses every daemon must ban (loopback removed: none of the three bans it). */
  mustBan: Set<string>;
  /** Canonical addresses no daemon may ban. */
  neverBan: Set<string>;
}

/** Reads gen-logs.mjs's truth.json text. */
export function readTruth(text: string): Truth {
  const j = JSON.parse(text) as { lines?: unknown; mustBan?: unknown; neverBan?: unknown };
  const list = (x: unknown, name: string): Set<string> => {
    if (!Array.isArray(x)) throw new Error(`truth.json: ${name} is not a list`);
    return new Set(x.map((a) => {
      const ip = canonicalIp(String(a));
      if (ip === null) throw new Error(`truth.json: ${name} holds a non-address: ${a}`);
      return ip;
    }));
  };
  if (typeof j.lines !== "number") throw new Error("truth.json: lines is not a number");
  const must = list(j.mustBan, "mustBan");
  for (const ip of must) if (isLoopback(ip)) must.delete(ip);
  return { lines: j.lines, mustBan: must, neverBan: list(j.neverBan, "neverBan") };
}

/** The q-quantile of ascending `sorted` (nearest rank, lower); NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** One figure of the race: how to print it and which way is better. */
export interface Figure {
  name: string;
  unit: string;
  /**
   * Per daemon (same order as the table's columns); `null` where not measured; a string is
   * printed as it is, without a ratio.
   */
  values: (number | string | null)[];
  digits: number;
}

/** Formats `x` with `digits` decimals and thousands separators. */
export function fmtNumber(x: number, digits: number): string {
  return x.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The ratio of `x` to the reference `ref`, as `×R` (two significant digits below 10). */
export function fmtRatio(x: number, ref: number): string {
  if (ref === 0) return x === 0 ? "×1" : "×∞";
  const r = x / ref;
  return `×${r >= 10 ? fmtNumber(r, 0) : r >= 0.1 ? r.toPrecision(2) : r.toPrecision(1)}`;
}

/**
 * A Markdown table: one row per figure, one column per daemon; each cell is the value with its
 * unit and, for all but the first daemon, its ratio to the first (the reference, fail2zig).
 */
export function ratioTable(daemons: readonly string[], figures: readonly Figure[]): string {
  const rows: string[][] = [["", ...daemons]];
  for (const f of figures) {
    const r0 = f.values[0] ?? null;
    const ref = typeof r0 === "number" ? r0 : null;
    rows.push([
      `${f.name}${f.unit === "" ? "" : ` (${f.unit})`}`,
      ...f.values.map((v, i) => {
        if (typeof v === "string") return v;
        if (v === null || !Number.isFinite(v)) return "n/a";
        const s = fmtNumber(v, f.digits);
        return i === 0 || ref === null || !Number.isFinite(ref) ? s : `${s} (${fmtRatio(v, ref)})`;
      }),
    ]);
  }
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((x, c) => x.padEnd(w[c]!)).join(" | ")} |`;
  return [
    line(rows[0]!),
    `|${w.map((n) => "-".repeat(n + 2)).join("|")}|`,
    ...rows.slice(1).map(line),
  ]
    .join("\n");
}

/**
 * Replaces the text between `<!-- BEGIN NAME -->` and `<!-- END NAME -->` in `doc` (markers
 * kept); throws when the markers are missing.
 */
export function replaceSection(doc: string, name: string, body: string): string {
  const begin = `<!-- BEGIN ${name} -->`, end = `<!-- END ${name} -->`;
  const i = doc.indexOf(begin), j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`markers of ${name} not found`);
  return `${doc.slice(0, i + begin.length)}\n${body.trim()}\n${doc.slice(j)}`;
}

/**
 * The addresses in every set of `nft -j list ruleset` output (elements may be plain strings,
 * `{"elem": {"val": …}}` with a timeout, or `{"prefix": {"addr": …, "len": …}}`), canonical.
 */
export function nftJsonElements(text: string): Set<string> {
  const out = new Set<string>();
  const add = (e: unknown): void => {
    if (typeof e === "string") {
      const ip = canonicalIp(e);
      if (ip !== null) out.add(ip);
    } else if (e !== null && typeof e === "object") {
      const o = e as Record<string, unknown>;
      if ("elem" in o) add((o["elem"] as Record<string, unknown>)["val"]);
      else if ("prefix" in o) add((o["prefix"] as Record<string, unknown>)["addr"]);
      else if ("val" in o) add(o["val"]);
    }
  };
  const j = JSON.parse(text) as { nftables?: Record<string, unknown>[] };
  for (const item of j.nftables ?? []) {
    const set = item["set"] as { elem?: unknown[] } | undefined;
    for (const e of set?.elem ?? []) add(e);
  }
  return out;
}

/** One `--trace-gc-nvp` record of V8: which isolate, and its heap after that GC (bytes). */
export interface GcRecord {
  /** The isolate's number in V8's log prefix `[PID:ADDRESS:N]` (0: the main isolate). */
  isolate: number;
  /** The isolate's address in that prefix (a new main isolate address: a new process image). */
  address: string;
  /** Live objects after the GC (`end_object_size`). */
  live: number;
  /** Heap memory committed after the GC (`end_memory_size`). */
  committed: number;
}

/** Reads a `--trace-gc-nvp` line (`[PID:0xADDR:N]   T ms: GC: {…}`); `null` for any other line. */
export function parseGcLine(line: string): GcRecord | null {
  const m = /^\[\d+:(0x[0-9a-f]+):(\d+)\]\s+[\d.]+ ms: GC: (\{.*\})\s*$/.exec(line);
  if (m === null) return null;
  const j = JSON.parse(m[3]!) as Record<string, unknown>;
  const live = j["end_object_size"], committed = j["end_memory_size"];
  if (typeof live !== "number" || typeof committed !== "number") return null;
  return { isolate: Number(m[2]), address: m[1]!, live, committed };
}

/**
 * Resident bytes of `/proc/PID/smaps` by kind of mapping: `executable` (the file `exe`),
 * `files` (other file mappings), `brk heap` (`[heap]`, malloc's main arena), `stacks`
 * (`[stack]`), `anonymous` (V8's heaps, mmapped malloc arenas and large blocks, thread stacks),
 * `kernel` (`[vdso]`, `[vvar]`…).
 */
export function smapsByKind(text: string, exe: string): Record<string, number> {
  const out: Record<string, number> = {
    executable: 0,
    files: 0,
    "brk heap": 0,
    stacks: 0,
    anonymous: 0,
    kernel: 0,
  };
  let kind = "anonymous";
  for (const line of text.split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head !== null) {
      const path = head[1]!.replace(/ \(deleted\)$/, "");
      kind = path === exe
        ? "executable"
        : path === ""
        ? "anonymous"
        : path === "[heap]"
        ? "brk heap"
        : path.startsWith("[stack")
        ? "stacks"
        : path.startsWith("[")
        ? (path.startsWith("[anon") ? "anonymous" : "kernel")
        : "files";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (rss !== null) out[kind]! += Number(rss[1]) * 1024;
  }
  return out;
}

/** The part of `.cpuprofile` (V8's CPU profile, `deno run --cpu-prof`) that stages are read from. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * The pipeline stage a profile node's own code belongs to, `null` to inherit its caller's (the
 * runtime's JS, shared helpers such as `src/net/`, anonymous native frames).
 */
export function stageOf(url: string, functionName: string): string | null {
  if (functionName === "(idle)") return "idle";
  if (functionName === "(garbage collector)") return "GC";
  if (functionName === "(program)") return "V8 and runtime, native";
  if (/13_message_port\.js|11_workers\.js/.test(url) || functionName === "postMessage") {
    return "postMessage";
  }
  const m = /\/src\/([a-z]+)\/([\w.]+)$/.exec(url);
  if (m === null) return null;
  const [, dir, file] = m;
  if (dir === "sources") return file === "_line_cutter.ts" ? "cutter" : "source";
  if (dir === "filters" || file === "_matcher.ts" || file === "parser_worker.ts") return "filters";
  if (dir === "daemon" && (file === "engine.ts" || file === "_protocol.ts")) return "engine";
  if (dir === "tracker") return "tracker";
  if (dir === "firewall" || dir === "ffi") return "firewall";
  if (dir === "net" || dir === "hash") return null;
  return `other: src/${dir}`;
}

/** Self time (ms) per stage of one CPU profile; a node's stage is its own or its caller's. */
export function stageTimes(p: CpuProfile): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const stage = new Map<number, string>();
  const childIds = new Set(p.nodes.flatMap((n) => n.children ?? []));
  const walk = (id: number, inherited: string) => {
    const n = byId.get(id)!;
    const s = stageOf(n.callFrame.url, n.callFrame.functionName) ?? inherited;
    stage.set(id, s);
    for (const c of n.children ?? []) walk(c, s);
  };
  for (const n of p.nodes) if (!childIds.has(n.id)) walk(n.id, "other: runtime JS");
  const out = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const s = stage.get(id) ?? "other: runtime JS";
    out.set(s, (out.get(s) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  });
  return out;
}
