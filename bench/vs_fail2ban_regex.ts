/**
 * `deno task bench:regex [--md] [--only FILE]`: differential run of fail2zig's built-in filters
 * against Debian's `fail2ban-regex` over the annotated corpus (`fixtures/filters/*.txt` and
 * `fixtures/filters/captured/*.txt`, lines `EXPECTED<TAB>LINE`, file name `FILTER[.MODE].txt`).
 *
 * Per file: fail2zig runs ONE filter instance over the lines in order (so sessions and the
 * "one attempt counts once" rule apply as in the daemon); fail2ban-regex runs over a temp file of
 * the same lines (raw bytes, EXPECTED column cut) with the fail2ban filter of the same name and
 * mode (`FILTER[mode=MODE]`).
 *
 * Aligning fail2ban-regex's output: with `-o '<ip> | <msg>'` a ticket prints one row per line
 * of its `matches` — for an sshd session that is every helper line of the session (`Connection
 * from`, pam_unix, …) *and* the failure line, the failure line last — and nothing separates two
 * tickets. So fail2ban-regex also runs with `-o '@@F2B-TICKET@@ <ip> @@F2B-MATCHES@@ <matches>'`,
 * which starts every ticket on a marked row; the last line of a ticket's matches is the line that
 * raised it (its trigger). The flattened tickets must equal the `<ip> | <msg>` rows (checked).
 * Walking the input in order, each trigger is the first line at or after the previous trigger's
 * successor with the same text; the other lines of the ticket are its context (shown, not counted).
 *
 * Per line the two are compared (both count with the same address, both nothing, only fail2ban,
 * only fail2zig, different addresses) and each against EXPECTED (`-` and `~ADDR` = must not count).
 * Addresses are compared canonically (IPv4-mapped IPv6 as IPv4, IPv6 compressed, lower case).
 * Every disagreement is listed and put into a class (`CLASSES` below, first match wins; the
 * explanations are in docs/filters-differential.md). `--md` prints Markdown for that document.
 * @module
 */
import { getFilter, LineKind } from "../src/filters/mod.ts";

const ROOT = new URL("../", import.meta.url);
const DIRS = ["fixtures/filters/", "fixtures/filters/captured/"];
const F2B_FILTER_DIR = "/etc/fail2ban/filter.d/";
const MD = Deno.args.includes("--md");
const onlyIdx = Deno.args.indexOf("--only");
const ONLY = onlyIdx >= 0 ? Deno.args[onlyIdx + 1] : undefined;
const CUT = 200;

const KIND_NAME: Record<number, string> = {};
for (const [k, v] of Object.entries(LineKind)) KIND_NAME[v] = k.toLowerCase();

// ---------------------------------------------------------------------------------------------
// addresses

function canonIPv6(s: string): string | null {
  let text = s.toLowerCase();
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split(".").map(Number);
    if (b.some((x) => x > 255)) return null;
    tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
    text = text.slice(0, -v4[1]!.length);
    if (text.endsWith(":") && !text.endsWith("::")) text = text.slice(0, -1);
  }
  const parts = text.split("::");
  if (parts.length > 2) return null;
  const head = parts[0] ? parts[0].split(":") : [];
  const back = parts.length === 2 && parts[1] ? parts[1].split(":") : [];
  const hex = (g: string[]) => g.map((x) => (/^[0-9a-f]{1,4}$/.test(x) ? parseInt(x, 16) : NaN));
  const h = hex(head), t = [...hex(back), ...tail];
  if ([...h, ...t].some(Number.isNaN)) return null;
  const fill = 8 - h.length - t.length;
  if (parts.length === 1 ? fill !== 0 : fill < 1) return null;
  const g = [...h, ...Array(fill).fill(0), ...t] as number[];
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  }
  // RFC 5952: longest run (>1) of zero groups becomes ::
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hx = g.map((x) => x.toString(16));
  if (best < 0) return hx.join(":");
  return `${hx.slice(0, best).join(":")}::${hx.slice(best + bestLen).join(":")}`;
}

/** Canonical form of an address, or the text itself (a host name, `None`) when it is none. */
function canon(s: string): string {
  const t = s.trim();
  if (/^\d+\.\d+\.\d+\.\d+$/.test(t)) {
    return t.split(".").every((x) => Number(x) <= 255) ? t.split(".").map(Number).join(".") : t;
  }
  if (t.includes(":")) return canonIPv6(t.replace(/^\[|\]$/g, "")) ?? t;
  return t;
}

const isAddr = (s: string) => /^\d+\.\d+\.\d+\.\d+$/.test(s) || (s.includes(":") && !/\s/.test(s));

// ---------------------------------------------------------------------------------------------
// corpus

interface Line {
  n: number; // 1-based line number in the corpus file
  expect: string; // EXPECTED column as written
  raw: Uint8Array; // the log line's bytes
  text: string; // decoded
}

interface CorpusFile {
  path: string; // relative to the repository root
  filter: string;
  mode: string;
  lines: Line[];
}

function loadCorpus(): CorpusFile[] {
  const out: CorpusFile[] = [];
  const dec = new TextDecoder();
  for (const dir of DIRS) {
    const names = [...Deno.readDirSync(new URL(dir, ROOT))]
      .filter((e) => e.isFile && e.name.endsWith(".txt"))
      .map((e) => e.name)
      .sort();
    for (const name of names) {
      const path = dir + name;
      if (ONLY && !path.endsWith(ONLY)) continue;
      const base = name.slice(0, -4);
      const dot = base.indexOf(".");
      const filter = dot < 0 ? base : base.slice(0, dot);
      const mode = dot < 0 ? "normal" : base.slice(dot + 1);
      const bytes = Deno.readFileSync(new URL(path, ROOT));
      const lines: Line[] = [];
      let start = 0, n = 0;
      while (start <= bytes.length) {
        let end = bytes.indexOf(0x0a, start);
        if (end < 0) end = bytes.length;
        n++;
        let rec = bytes.subarray(start, end);
        if (rec.length && rec[rec.length - 1] === 0x0d) rec = rec.subarray(0, rec.length - 1);
        start = end + 1;
        if (rec.length === 0 || rec[0] === 0x23 /* # */) continue;
        const tab = rec.indexOf(0x09);
        if (tab < 0) throw new Error(`${path}:${n}: expected EXPECTED<TAB>LINE`);
        const raw = rec.slice(tab + 1);
        lines.push({ n, expect: dec.decode(rec.subarray(0, tab)), raw, text: dec.decode(raw) });
      }
      out.push({ path, filter, mode, lines });
    }
  }
  return out;
}

/** What EXPECTED asks for: the canonical address, or "-" (must not count; `-` and `~ADDR`). */
const wanted = (e: string) => (e === "-" || e.startsWith("~") ? "-" : canon(e));

// ---------------------------------------------------------------------------------------------
// fail2ban-regex

function f2bConfText(name: string, seen = new Set<string>()): string {
  if (seen.has(name)) return "";
  seen.add(name);
  let text: string;
  try {
    text = Deno.readTextFileSync(`${F2B_FILTER_DIR}${name}.conf`);
  } catch {
    return "";
  }
  let all = text;
  for (const m of text.matchAll(/^(?:before|after)\s*=\s*(.+)$/gm)) {
    for (const inc of m[1]!.split(/\s+/)) {
      if (inc.endsWith(".conf")) all += "\n" + f2bConfText(inc.slice(0, -5), seen);
    }
  }
  return all;
}

/** Whether fail2ban's filter `name` knows `mode` (has keys `…-MODE =` or a `mode = MODE` line). */
function f2bHasMode(name: string, mode: string): boolean | null {
  const text = f2bConfText(name);
  if (!text) return null;
  if (mode === "normal") return true;
  const m = mode.replace(/[^\w-]/g, "");
  return new RegExp(`^[\\w-]*-${m}(?:-[\\w-]+)?\\s*=|^mode\\s*=\\s*${m}\\s*$`, "m").test(text);
}

interface Ticket {
  ip: string;
  matches: string[];
}

const MARK_T = "@@F2B-TICKET@@ ";
const MARK_M = " @@F2B-MATCHES@@ ";

async function runF2b(args: string[]): Promise<string> {
  const o = await new Deno.Command("fail2ban-regex", { args, stdout: "piped", stderr: "piped" })
    .output();
  const err = new TextDecoder().decode(o.stderr).trim();
  if (!o.success) throw new Error(`fail2ban-regex ${args.join(" ")}: ${err}`);
  return new TextDecoder().decode(o.stdout);
}

async function fail2ban(
  file: CorpusFile,
): Promise<{ tickets: Ticket[]; rows: string[]; spec: string }> {
  const tmp = await Deno.makeTempFile({ prefix: "f2zdiff.", suffix: ".log" });
  try {
    const parts: Uint8Array[] = [];
    for (const l of file.lines) parts.push(l.raw, new Uint8Array([0x0a]));
    const total = parts.reduce((s, p) => s + p.length, 0);
    const buf = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      buf.set(p, off);
      off += p.length;
    }
    await Deno.writeFile(tmp, buf);
    const spec = `${file.filter}[mode=${file.mode}]`;
    const [msgOut, tOut] = await Promise.all([
      runF2b(["-o", "<ip> | <msg>", tmp, spec]),
      runF2b(["-o", `${MARK_T.trim()} <ip>${MARK_M}<matches>`, tmp, spec]),
    ]);
    const rows = msgOut.split("\n");
    if (rows.at(-1) === "") rows.pop();
    const tickets: Ticket[] = [];
    const tl = tOut.split("\n");
    if (tl.at(-1) === "") tl.pop();
    for (const row of tl) {
      if (row.startsWith(MARK_T)) {
        const k = row.indexOf(MARK_M);
        tickets.push({ ip: row.slice(MARK_T.length, k), matches: [row.slice(k + MARK_M.length)] });
      } else if (tickets.length) tickets.at(-1)!.matches.push(row);
      else throw new Error(`${file.path}: fail2ban-regex ticket output starts without marker`);
    }
    return { tickets, rows, spec };
  } finally {
    await Deno.remove(tmp);
  }
}

// ---------------------------------------------------------------------------------------------
// comparison

type Verdict = "agree" | "only-f2b" | "only-f2z" | "different";

interface Result {
  line: Line;
  f2b: string[]; // canonical addresses fail2ban counted on this line (usually 0 or 1)
  f2bRaw: string[];
  f2bContext: boolean; // the line was context of a fail2ban ticket raised on a later line
  f2bTrigger: Line | null; // for context lines: the line that raised the ticket
  f2bContextOf: Line[]; // for trigger lines: their context lines
  f2z: string | null;
  kind: number;
  verdict: Verdict;
  cls?: string;
}

interface FileReport {
  file: CorpusFile;
  spec: string;
  modeKnown: boolean | null;
  results: Result[];
  alignErrors: string[];
  rowsMismatch: number;
}

/** fail2ban-regex escapes NUL as `\x00` in tag values other than `<msg>`. */
const escNul = (s: string) => s.replaceAll("\x00", "\\x00");

function compare(file: CorpusFile, tickets: Ticket[], rows: string[]): {
  results: Result[];
  alignErrors: string[];
  rowsMismatch: number;
} {
  const now = Date.now();
  const f = getFilter(file.filter, file.mode);
  const results: Result[] = file.lines.map((line) => {
    const m = f.match(line.text, now);
    return {
      line,
      f2b: [],
      f2bRaw: [],
      f2bContext: false,
      f2bTrigger: null,
      f2bContextOf: [],
      f2z: m ? canon(m.ip) : null,
      kind: f.lastKind,
      verdict: "agree",
    };
  });
  const alignErrors: string[] = [];
  // the flattened tickets must be the `<ip> | <msg>` rows
  const flat = tickets.flatMap((t) => t.matches.map((m) => `${t.ip} | ${m}`));
  let rowsMismatch = Math.abs(flat.length - rows.length);
  for (let i = 0; i < Math.min(flat.length, rows.length); i++) {
    if (flat[i] !== escNul(rows[i]!)) rowsMismatch++;
  }
  const texts = file.lines.map((l) => escNul(l.text));
  let p = 0;
  let prev: { t: Ticket; q: number } | null = null;
  for (const t of tickets) {
    const trig = t.matches.at(-1)!;
    let q: number;
    if (
      prev && prev.t.ip !== t.ip && prev.t.matches.length === t.matches.length &&
      prev.t.matches.every((m, i) => m === t.matches[i])
    ) {
      q = prev.q; // one line, several addresses (a host name resolved to many)
    } else {
      q = texts.indexOf(trig, p);
      if (q < 0) {
        alignErrors.push(`ticket ${t.ip} | ${trig.slice(0, CUT)}: no such line after line ${p}`);
        continue;
      }
      p = q + 1;
    }
    const r = results[q]!;
    r.f2b.push(canon(t.ip));
    r.f2bRaw.push(t.ip);
    // context lines: latest earlier line of the same text
    for (const m of t.matches.slice(0, -1)) {
      const c = texts.lastIndexOf(m, q - 1);
      if (c < 0) {
        alignErrors.push(`context of ${t.ip} | ${trig.slice(0, 80)}: ${m.slice(0, 80)} not found`);
        continue;
      }
      results[c]!.f2bContext = true;
      results[c]!.f2bTrigger = r.line;
      r.f2bContextOf.push(results[c]!.line);
    }
    prev = { t, q };
  }
  for (const r of results) {
    const b = r.f2b, z = r.f2z;
    if (!b.length && z === null) r.verdict = "agree";
    else if (b.length && z === null) r.verdict = "only-f2b";
    else if (!b.length && z !== null) r.verdict = "only-f2z";
    else r.verdict = b.length === 1 && b[0] === z ? "agree" : "different";
  }
  return { results, alignErrors, rowsMismatch };
}

// ---------------------------------------------------------------------------------------------
// classes of disagreement (first match wins); explanations in docs/filters-differential.md

interface Ctx {
  r: Result;
  file: CorpusFile;
  modeKnown: boolean | null;
  t: string; // the line
  exp: string; // wanted(EXPECTED)
}

interface Class {
  id: string;
  title: string;
  test: (c: Ctx) => boolean;
}

const PRI = /^<\d{1,3}>/;

const HELPER =
  /\]: (?:(?:error|fatal): )?(?:Connection (?:closed|reset) by|Disconnected from|Accepted \w+ for|Received disconnect from|pam_unix\(sshd:auth\): authentication failure|Connection from)/;
const DECOY = /\b(?:6\.6\.6\.6|7\.7\.7\.7|127\.0\.0\.1)\b/;
/**
 * The address docs/formats/dovecot.md's attribution rules give, or null when they call the line
 * ambiguous or do not apply: login processes take the rightmost `, rip=«ADDR»` followed by
 * `, lip=`, `,` or EOL; auth prefixes `passwd-file(`/`pam(` the only `,«IP»` whose comma is at most
 * 64 bytes after the `(` and that is followed by `(,master)?(,<«SID»>)?):`.
 */
function dovecotCatalog(t: string): string | null {
  if (/-login: /.test(t)) {
    const rips = [...t.matchAll(/, rip=([0-9A-Fa-f:.]+)(?=, lip=|,|$)/g)];
    return rips.length ? canon(rips.at(-1)![1]!) : null;
  }
  const open = /(?:passwd-file|pam)\(/.exec(t);
  if (!open) return null;
  const start = open.index + open[0].length;
  const cands = [
    ...t.matchAll(/,([0-9A-Fa-f:.]*[0-9A-Fa-f])(?=(?:,master)?(?:,<[A-Za-z0-9+\/]+>)?\):)/g),
  ].filter((m) => m.index! - start <= 64 && m.index! >= start);
  return cands.length === 1 ? canon(cands[0]![1]!) : null;
}

const f2bOne = (c: Ctx) => (c.r.f2b.length === 1 ? c.r.f2b[0]! : c.r.f2b.length ? "*" : "-");
const zOk = (c: Ctx) => (c.r.f2z ?? "-") === c.exp;
const bOk = (c: Ctx) => f2bOne(c) === c.exp;
const onlyZ = (c: Ctx) => c.r.verdict === "only-f2z";
const onlyB = (c: Ctx) => c.r.verdict === "only-f2b";
const isAmb = (c: Ctx) => c.r.kind === LineKind.AMBIGUOUS;

/**
 * Classes of disagreement, first match wins. `defect: true` marks a class in which fail2zig
 * contradicts EXPECTED while fail2ban matches it or the grammar decides the line (the
 * candidates for "fail2zig defects found").
 */
const CLASSES: (Class & { defect?: boolean })[] = [
  {
    id: "pri-prefix",
    title: "raw syslog datagram (`<PRI>` prefix, RFC 3164 without host or RFC 5424): fail2ban's " +
      "`__prefix_line` does not accept the `<PRI>`",
    test: (c) => PRI.test(c.t) && onlyZ(c) && zOk(c),
  },
  {
    id: "no-f2b-mode",
    title: "fail2ban 1.0.2 has no such mode (the filter runs as its default)",
    test: (c) => c.modeKnown === false,
  },
  {
    id: "duplicate",
    title:
      "one attempt, several lines: fail2ban counts each line, fail2zig counts the attempt once " +
      "(docs/interfaces.md counting rule)",
    test: (c) => onlyB(c) && c.r.kind === LineKind.DUPLICATE,
  },
  {
    id: "f2b-session-carry",
    title: "fail2ban blames an address that is not in the line: its `F-MLFID` session cache " +
      "(same `host sshd[PID]:`) keeps the IPv4 of an earlier line of that pid",
    test: (c) =>
      zOk(c) && c.r.f2bRaw.length > 0 && c.r.f2bRaw.every((x) => isAddr(x) && !c.t.includes(x)) &&
      (c.r.verdict === "different" || onlyB(c)) && c.file.filter === "sshd" &&
      !c.file.path.includes("/captured/"),
  },
  {
    id: "f2b-helper-counted",
    title: "fail2ban counts a session helper line (`Connection closed`/`Disconnected`/pam_unix/" +
      "`Accepted`): its multi-line rule turns a helper into a failure when the session has a " +
      "pending failure or more than one user name",
    test: (c) => onlyB(c) && c.exp === "-" && HELPER.test(c.t) && !isAmb(c),
  },
  {
    id: "f2z-ambiguous-catalog",
    title: "fail2zig calls a dovecot line ambiguous that docs/formats/dovecot.md's attribution " +
      "rule decides (rightmost `, rip=`; the one `,IP` followed by `,<SID>):`); EXPECTED and " +
      "fail2ban have the real address",
    test: (c) => isAmb(c) && c.file.filter === "dovecot" && dovecotCatalog(c.t) === c.exp,
    defect: true,
  },
  {
    id: "f2b-planted",
    title: "attacker text holds a planted address: fail2ban blames it, fail2zig calls the line " +
      "ambiguous",
    test: (c) =>
      isAmb(c) && c.r.f2b.length > 0 && !bOk(c) && DECOY.test(c.t) &&
      c.r.f2bRaw.some((x) => DECOY.test(x)),
  },
  {
    id: "ambiguous",
    title: "two readings give two addresses (EXPECTED `-` too): fail2ban takes one, fail2zig " +
      "counts nobody",
    test: (c) => isAmb(c) && c.exp === "-" && onlyB(c),
  },
  {
    id: "f2z-ambiguous-real",
    title: "fail2zig calls the line ambiguous, fail2ban counts the real address (EXPECTED agrees)",
    test: (c) => isAmb(c) && onlyB(c) && bOk(c),
    defect: true,
  },
  {
    id: "f2b-dns",
    title: "fail2ban counts a host name (resolved or not); fail2zig counts addresses only",
    test: (c) => c.r.f2bRaw.some((x) => !isAddr(x)) && !onlyZ(c),
  },
  {
    id: "f2b-apache-ipv6-port",
    title: "Apache 2.4 writes `[client %s:%d]` with an IPv6 address bare; fail2ban's " +
      "`[client <HOST>(:\\d{1,5})?]` takes the port for the address's last group when it is " +
      "also a hex group (`2001:db8::1:4242`); fail2zig splits off the port 2.4 always writes",
    test: (c) =>
      c.r.verdict === "different" && zOk(c) && c.file.filter === "apache-auth" &&
      c.r.f2b.length === 1 && c.r.f2b[0] === canon(`${c.exp}:${c.r.f2b[0]!.split(":").pop()}`),
  },
  {
    id: "f2b-lax",
    title:
      "fail2ban counts a line the grammar rules out (malformed address, text after the fixed " +
      "tail, an address sshd/proftpd never writes); EXPECTED `-`",
    test: (c) => onlyB(c) && c.exp === "-" && !isAmb(c),
  },
  {
    id: "f2b-1.1-mode",
    title: "fail2zig's mode has a template fail2ban 1.1 added to that mode and 1.0.2 lacks " +
      "(nginx-http-auth aggressive: `no user/password was provided`)",
    test: (c) =>
      onlyZ(c) && zOk(c) && c.file.filter === "nginx-http-auth" &&
      /no user\/password was provided/.test(c.t),
  },
  {
    id: "f2b-misses-injected",
    title:
      "fail2ban 1.0.2 misses a real failure whose attacker-controlled field holds decoy text " +
      "(its `\\S*`/`[^>]*`/`/<block> ` pieces stop there); fail2zig counts the real address",
    test: (c) => onlyZ(c) && zOk(c) && (DECOY.test(c.t) || /%2[02]/.test(c.t)),
  },
  {
    id: "f2b-nginx-limit",
    title: "nginx `delaying request` / `limiting connections`: catalog NGX-05/06 and issue 11 " +
      "count them, fail2ban 1.0.2's nginx-limit-req only `limiting requests`",
    test: (c) => onlyZ(c) && zOk(c) && /delaying request|limiting connections/.test(c.t),
  },
  {
    id: "f2b-sshd-session",
    title: "OpenSSH 9.8+ program names `sshd-session`/`sshd-auth`: fail2ban 1.0.2's `_daemon` " +
      "is `sshd` only (1.1 adds them)",
    test: (c) => onlyZ(c) && zOk(c) && /\bsshd-(?:session|auth)\b/.test(c.t),
  },
  {
    id: "f2b-variant",
    title: "a real wording or prefix variant fail2ban 1.0.2's regexes lack (see the doc for each)",
    test: (c) => onlyZ(c) && zOk(c),
  },
  {
    id: "f2z-counts-wrong",
    title: "fail2zig counts a line EXPECTED says must not count, or blames another address",
    test: (c) => (onlyZ(c) || c.r.verdict === "different") && !zOk(c),
    defect: true,
  },
  {
    id: "f2z-misses",
    title: "fail2zig misses a failure EXPECTED and fail2ban count",
    test: (c) => onlyB(c) && bOk(c),
    defect: true,
  },
];

function classify(c: Ctx): string {
  for (const k of CLASSES) if (k.test(c)) return k.id;
  return "unclassified";
}

// ---------------------------------------------------------------------------------------------
// output

function show(s: string): string {
  // deno-lint-ignore no-control-regex
  const e = s.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16)}`);
  return e.length > CUT ? e.slice(0, CUT) + "…" : e;
}

function cell(r: Result): string {
  const exp = wanted(r.line.expect);
  const f2b = r.f2b.length ? r.f2bRaw.join(",") : "-";
  const f2z = r.f2z ?? "-";
  const okB = (r.f2b.length === 1 ? r.f2b[0] : r.f2b.length ? "*" : "-") === exp;
  const okZ = f2z === exp;
  const who = okB && okZ ? "both" : okB ? "fail2ban" : okZ ? "fail2zig" : "neither";
  return `expected ${r.line.expect}; fail2ban ${f2b}; fail2zig ${f2z} (${
    KIND_NAME[r.kind]
  }); matches EXPECTED: ${who}`;
}

const reports: FileReport[] = [];
for (const file of loadCorpus()) {
  const { tickets, rows, spec } = await fail2ban(file);
  const { results, alignErrors, rowsMismatch } = compare(file, tickets, rows);
  const modeKnown = f2bHasMode(file.filter, file.mode);
  for (const r of results) {
    if (r.verdict !== "agree") {
      r.cls = classify({ r, file, modeKnown, t: r.line.text, exp: wanted(r.line.expect) });
    }
  }
  reports.push({ file, spec, modeKnown, results, alignErrors, rowsMismatch });
}

const out: string[] = [];
const p = (s = "") => out.push(s);

async function cmd(c: string, args: string[]): Promise<string> {
  try {
    const o = await new Deno.Command(c, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(o.stdout).trim();
  } catch {
    return "?";
  }
}
const head = await cmd("git", ["rev-parse", "--short", "HEAD"]);
const dirty = await cmd("git", ["status", "--porcelain", "--", "src/filters", "fixtures/filters"]);
const f2bVersion = await cmd("dpkg-query", ["-W", "-f=${Version}", "fail2ban"]);
p(
  `Run ${new Date().toISOString().slice(0, 16)}Z at commit ${head}` +
    (dirty
      ? ` with uncommitted changes in ${
        [...new Set(dirty.split("\n").map((l) => l.trim().replace(/^\S+\s+/, "")))].join(", ")
      }`
      : "") +
    `; fail2ban ${f2bVersion} (Debian).`,
);
p();

const cols = [
  "lines",
  "agree",
  "only-f2b",
  "only-f2z",
  "different",
  "f2b≠exp",
  "f2z≠exp",
] as const;
type Row = Record<(typeof cols)[number], number>;
const tot: Row = Object.fromEntries(cols.map((c) => [c, 0])) as Row;
p("| file | fail2ban filter | " + cols.join(" | ") + " |");
p("| --- | --- | " + cols.map(() => "---:").join(" | ") + " |");
for (const rep of reports) {
  const rs = rep.results;
  const row: Row = {
    lines: rs.length,
    agree: rs.filter((r) => r.verdict === "agree").length,
    "only-f2b": rs.filter((r) => r.verdict === "only-f2b").length,
    "only-f2z": rs.filter((r) => r.verdict === "only-f2z").length,
    different: rs.filter((r) => r.verdict === "different").length,
    "f2b≠exp": rs.filter((r) =>
      (r.f2b.length === 1 ? r.f2b[0] : r.f2b.length ? "*" : "-") !== wanted(r.line.expect)
    ).length,
    "f2z≠exp": rs.filter((r) =>
      (r.f2z ?? "-") !== wanted(r.line.expect)
    ).length,
  };
  for (const c of cols) tot[c] += row[c];
  const note = rep.modeKnown === false
    ? " (1.0.2 lacks this mode)"
    : rep.modeKnown === null
    ? " (no such fail2ban filter)"
    : "";
  p(`| ${rep.file.path} | \`${rep.spec}\`${note} | ${cols.map((c) => row[c]).join(" | ")} |`);
}
p(`| **total** | | ${cols.map((c) => `**${tot[c]}**`).join(" | ")} |`);
p();

const problems = reports.filter((r) => r.alignErrors.length || r.rowsMismatch);
if (problems.length) {
  p("Alignment problems:");
  p();
  for (const r of problems) {
    p(`- ${r.file.path}: ${r.rowsMismatch} rows differ between the two outputs`);
    for (const e of r.alignErrors) p(`  - ${show(e)}`);
  }
  p();
} else {
  p(
    "Alignment: every fail2ban ticket found its line; the ticket output flattened equals the " +
      "`<ip> | <msg>` rows in every file.",
  );
  p();
}

// disagreements grouped by class
const all = reports.flatMap((rep) =>
  rep.results.filter((r) => r.verdict !== "agree").map((r) => ({ rep, r }))
);
const byClass = new Map<string, typeof all>();
for (const x of all) {
  const k = x.r.cls ?? "unclassified";
  if (!byClass.has(k)) byClass.set(k, []);
  byClass.get(k)!.push(x);
}
const order = [...CLASSES.map((k) => k.id), "unclassified"];
p("| class | lines | only-f2b | only-f2z | different |");
p("| --- | ---: | ---: | ---: | ---: |");
for (const id of order) {
  const xs = byClass.get(id);
  if (!xs) continue;
  const n = (v: Verdict) => xs.filter((x) => x.r.verdict === v).length;
  p(`| \`${id}\` | ${xs.length} | ${n("only-f2b")} | ${n("only-f2z")} | ${n("different")} |`);
}
p();
if (MD) {
  p("### Disagreements, by class");
  p();
}
for (const id of order) {
  const xs = byClass.get(id);
  if (!xs) continue;
  const k = CLASSES.find((k) => k.id === id);
  const title = (k?.defect ? "**fail2zig defect candidate**: " : "") +
    (k?.title ?? "not yet classified");
  p(`${MD ? "#### " : "== "}\`${id}\`: ${title} (${xs.length})`);
  p();
  if (MD) p("```text");
  for (const { rep, r } of xs) {
    p(`${rep.file.path}:${r.line.n} ${r.verdict}: ${cell(r)}`);
    p(`    ${show(r.line.text)}`);
    if (r.f2bContextOf.length) {
      p(`    fail2ban ticket context: lines ${r.f2bContextOf.map((l) => l.n).join(", ")}`);
    }
  }
  if (MD) p("```");
  p();
}

// lines where the two agree and both differ from EXPECTED
const bothWrong = reports.flatMap((rep) =>
  rep.results.filter((r) => r.verdict === "agree" && (r.f2z ?? "-") !== wanted(r.line.expect))
    .map((r) => ({ rep, r }))
);
const bwClass = (r: Result, file: CorpusFile) =>
  r.kind === LineKind.AMBIGUOUS && file.filter === "dovecot" &&
    dovecotCatalog(r.line.text) === wanted(r.line.expect)
    ? "**fail2zig defect candidate** `f2z-ambiguous-catalog`: ambiguous to fail2zig although " +
      "docs/formats/dovecot.md's rule decides it; fail2ban misses it"
    : r.kind === LineKind.DUPLICATE
    ? "duplicate (fail2zig: counting rule; fail2ban misses the line, e.g. `<PRI>` prefix)"
    : r.kind === LineKind.AMBIGUOUS
    ? "ambiguous to fail2zig (docs/formats: ambiguous), not matched by fail2ban; EXPECTED counts " +
      "the real address"
    : r.f2z === null
    ? "neither counts a line EXPECTED counts (annotation to check)"
    : "both count a line EXPECTED does not count (or another address)";
const bw = new Map<string, typeof bothWrong>();
for (const x of bothWrong) {
  const k = bwClass(x.r, x.rep.file);
  if (!bw.has(k)) bw.set(k, []);
  bw.get(k)!.push(x);
}
p(`${MD ? "### " : "== "}fail2ban and fail2zig agree, EXPECTED differs (${bothWrong.length})`);
p();
for (const [k, xs] of bw) {
  p(`${MD ? "#### " : "== "}${k} (${xs.length})`);
  p();
  if (MD) p("```text");
  for (const { rep, r } of xs) {
    p(`${rep.file.path}:${r.line.n}: ${cell(r)}`);
    p(`    ${show(r.line.text)}`);
  }
  if (MD) p("```");
  p();
}

// representation differences (same canonical address, different text)
const repr = reports.flatMap((rep) =>
  rep.results.filter((r) => r.verdict === "agree" && r.f2bRaw.some((x) => x !== r.f2z))
    .map((r) => ({ rep, r }))
);
if (repr.length) {
  p(`Same address written differently by fail2ban (counted as agreement): ${repr.length} lines,`);
  p(`e.g. ${repr[0]!.rep.file.path}:${repr[0]!.r.line.n}: fail2ban \`${
    repr[0]!.r.f2bRaw.join(",")
  }\`, fail2zig \`${repr[0]!.r.f2z}\`.`);
  p();
}

console.log(out.join("\n"));
