/**
 * Filters: compiled sets of patterns with a line shape, built once and matched per line.
 *
 * `match(line)`: shape (prefix, program, message span) → program check → strip a log level →
 * the failure variants whose leading literal the message starts with (a walk down a radix tree
 * of those literals) → ignore patterns → time, clamped to now.
 * @module
 */
import { BUILTINS, type FilterDef, type Role, type Rule, type UserField } from "./_builtins.ts";
export type { Role } from "./_builtins.ts";
import {
  AMBIGUOUS,
  compilePattern,
  MATCHED,
  MatchState,
  matchVariant,
  otherAddressIn,
  PatternError,
  sameOp,
  type Variant,
} from "./_pattern.ts";
import { clampToNow } from "../time/mod.ts";
import { newShape, parseShape, type ProgramSet, type Shape, shapeTime } from "./_shape.ts";

/** One `[filters.NAME]` of the config: a user filter in the pattern language. */
export interface UserFilterConfig {
  /** The `NAME` of `[filters.NAME]`. */
  readonly name: string;
  /** Failure patterns, in the pattern language. */
  readonly patterns: readonly string[];
  /** Patterns of lines that are never failures. */
  readonly ignorePatterns: readonly string[];
  /** Line shape: a syslog prefix to parse, or the message alone. */
  readonly prefix: "syslog" | "none";
}

/** One matching line: the source address (canonical text) and the line's time. */
export interface FilterMatch {
  /** Canonical address (RFC 5952 for IPv6, v4-mapped folded to IPv4). */
  readonly ip: string;
  /** Milliseconds since the epoch (UTC), clamped to `nowMs`; null when the line has no time. */
  readonly time: number | null;
}

/**
 * A compiled filter. `match` is pure and allocation-light; call it once per line (without the
 * trailing newline). Lines longer than the configured cap must be dropped by the caller
 * (see `exceedsLineCap`); `match` itself refuses lines over `HARD_LINE_LIMIT` characters.
 */
export interface Filter {
  /** The filter's name (`sshd`, or a user filter's). */
  readonly name: string;
  /** The mode it was built for (`normal`, `aggressive`, …). */
  readonly mode: string;
  /** Upper bound of scan steps per character of a line (for the linear-bound test). */
  readonly stepFactor: number;
  /** The failure an address is charged with on this line, or `null` (no match, ignored, ambiguous). */
  match(line: string, nowMs: number): FilterMatch | null;
  /** Like `match`, plus the index of the failure pattern that matched (for reports). */
  matchDetailed(line: string, nowMs: number): (FilterMatch & { pattern: number }) | null;
  /** The failure pattern texts, in order. */
  readonly patterns: readonly string[];
  /** The role of each pattern (`fail` for every pattern of a user filter). */
  readonly roles: readonly Role[];
  /**
   * What the last `match`/`matchDetailed` call found (`LineKind`): a counted failure, nothing, an
   * ambiguous line (two readings — placements of one pattern, or two patterns — gave different
   * addresses), an ignored one, a duplicate of an attempt already counted, or a line that only
   * tells the session's address (or holds a failure waiting for it).
   */
  readonly lastKind: LineKind;
  /** Lines this instance found ambiguous so far (counted as they are matched, for metrics). */
  readonly ambiguousLines: number;
  /** The line shape (date format, `Ts` of _shape.ts) of the last line: 0 when none was found. */
  readonly lastFormat: number;
}

/** What a line was to a filter (`Filter.lastKind`). */
export const LineKind = {
  NONE: 0,
  FAILURE: 1,
  AMBIGUOUS: 2,
  IGNORED: 3,
  DUPLICATE: 4,
  /** A session line that counts nothing (address helper, success, a failure still waiting). */
  SESSION: 5,
} as const;
/** One of `LineKind`. */
export type LineKind = (typeof LineKind)[keyof typeof LineKind];

/** Sessions remembered per filter instance (oldest forgotten first). */
export const SESSION_MAX = 4096;
/** Slots of a filter's record of each session's last attempt (see `CompiledFilter.#echoKey`). */
const ECHO_SLOTS = 64;

interface Session {
  ip: string | null;
  /** An orphan failure waits for the address. */
  pending: boolean;
  /** The address of an announced attempt whose repeat line is a duplicate. */
  announced: string | null;
  /** Hash of the first login name the session's PAM or success lines named (0: none yet). */
  user: number;
  /** A later line named another login name: its PAM and success lines count. */
  switched: boolean;
  /** The step (`Rule.step`) of the open attempt's last line. */
  step: number;
  /** The time (ms) of the open attempt's last line (the line's own, else the caller's now). */
  at: number;
}

/** Session key of a session that is an address (`Rule.byAddr`): above every pid key. */
function addrKey(ip: string): number {
  return 2147483648 + (nameHash(ip, 0, ip.length) >>> 1);
}

/** FNV-1a hash of `line[a, z)`, never 0 (0 means "no name"); 0 for an empty range. */
function nameHash(line: string, a: number, z: number): number {
  if (z <= a) return 0;
  let h = 0x811c9dc5;
  for (let i = a; i < z; i++) h = Math.imul(h ^ line.charCodeAt(i), 0x01000193);
  return (h >>> 0) || 1;
}

/** Notes a login name (its hash) of session `s`: true once the session has named two. */
function noteName(s: Session, h: number): boolean {
  if (h !== 0) {
    if (s.user === 0) s.user = h;
    else if (s.user !== h) s.switched = true;
  }
  return s.switched;
}

/**
 * Notes the login names a matched line names (`field`, UserField; the address at `line[at, to)`,
 * the message ending at `e`) in session `s`; true when the session has tried two names.
 * PAM: `ruser=R rhost=ADDR[  user=U]` (sshd leaves R empty), optionally ` [preauth]` after;
 * sshd's success: `Accepted M for U from ADDR`.
 */
function namesSwitch(
  s: Session,
  field: UserField,
  line: string,
  b: number,
  e: number,
  at: number,
  to: number,
): boolean {
  if (field === "for") {
    const f = line.indexOf(" for ", b);
    return noteName(s, f < 0 ? 0 : nameHash(line, f + 5, at - 6));
  }
  const rhost = at - 7; // " rhost=" is right before the address
  const r = line.lastIndexOf(" ruser=", rhost);
  noteName(s, r < 0 ? 0 : nameHash(line, r + 7, rhost));
  let u = line.startsWith("  user=", to) ? to + 7 : line.startsWith(" user=", to) ? to + 6 : -1;
  let z = e;
  if (u >= 0 && line.endsWith(" [preauth]", e)) z -= 10;
  if (u < 0) u = z;
  return noteName(s, nameHash(line, u, z));
}

/** Longest line (in UTF-16 code units) `match` looks at; longer ones never match. */
export const HARD_LINE_LIMIT = 65536;
/** Default `line_max_bytes`. */
export const DEFAULT_LINE_MAX_BYTES = 4096;

/**
 * True when `line` is longer than `maxBytes` bytes of UTF-8. Such lines are counted and dropped,
 * never partially matched.
 */
export function exceedsLineCap(line: string, maxBytes: number): boolean {
  const n = line.length;
  if (n > maxBytes) return true;
  if (n * 3 <= maxBytes) return false;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes > maxBytes;
}

/** A variant in a dispatch list; `share`: leading first-segment ops equal to the previous one's. */
interface Entry {
  readonly v: Variant;
  readonly k: number;
  readonly share: number;
  /** Id of a literal the line must hold for the variant to match (`#must`), or -1. */
  readonly must: number;
  /** Index after the run of entries from this one on that need the same literal. */
  readonly mustEnd: number;
}

/** The longest literal of a variant outside its first segment (found with one native search). */
function mustLiteral(v: Variant): string {
  let best = "";
  for (let i = 1; i < v.segs.length; i++) {
    for (const op of v.segs[i]!) if (op.lit && op.s.length > best.length) best = op.s;
  }
  return best.length >= 4 ? best : "";
}

/**
 * True when op `k` of `v`'s first segment is a literal whose first `at + 1` characters are those of
 * `lit` (which failed at index `at` in the same place: so does this one).
 */
function agreesTo(v: Variant, k: number, lit: string, at: number): boolean {
  const op = v.segs[0]![k];
  if (op === undefined || !op.lit || op.s.length <= at) return false;
  const s = op.s;
  for (let i = 0; i <= at; i++) if (s.charCodeAt(i) !== lit.charCodeAt(i)) return false;
  return true;
}

/**
 * A node of the radix tree of the failure variants' leads (the literal each first segment starts
 * with): `text` is the whole prefix from the root, `label` its part after the parent's. `list`
 * (filled on first use) holds, in order, the variants a message may match whose longest lead
 * prefix is `text`: those whose lead is a prefix of `text`, and those that start with a token.
 * Every other variant fails at its first literal, so it is never tried.
 */
interface LeadNode {
  readonly text: string;
  readonly label: string;
  /** A lead ends here. */
  readonly lead: boolean;
  /** Children by the first character of their label. */
  readonly kids: Map<number, LeadNode>;
  list: Entry[] | null;
}

/** The radix tree of `leads` (distinct, non-empty, each starting with `text`) under `text`. */
function leadTree(leads: readonly string[], text: string, label: string): LeadNode {
  const groups = new Map<number, string[]>();
  for (const l of leads) {
    if (l.length === text.length) continue;
    const c = l.charCodeAt(text.length);
    const g = groups.get(c);
    if (g === undefined) groups.set(c, [l]);
    else g.push(l);
  }
  const kids = new Map<number, LeadNode>();
  for (const [c, g] of groups) {
    // the child's text: the longest prefix its leads share
    const a = g[0]!;
    let to = text.length + 1;
    while (
      to < a.length && g.every((l) => l.length > to && l.charCodeAt(to) === a.charCodeAt(to))
    ) {
      to++;
    }
    kids.set(c, leadTree(g, a.slice(0, to), a.slice(text.length, to)));
  }
  return { text, label, lead: leads.includes(text), kids, list: null };
}

interface Compiled {
  variants: Variant[];
  owner: number[]; // pattern index per variant
}

function compileList(
  patterns: readonly string[],
  needHost: boolean,
  roles?: readonly Role[],
): Compiled {
  const variants: Variant[] = [];
  const owner: number[] = [];
  patterns.forEach((p, k) => {
    let vs: Variant[];
    try {
      vs = compilePattern(p, needHost && roles?.[k] !== "orphan" && roles?.[k] !== "echo");
    } catch (e) {
      if (e instanceof PatternError) {
        e.patternIndex = k;
        e.list = needHost ? "patterns" : "ignore_patterns";
      }
      throw e;
    }
    for (const v of vs) {
      variants.push(v);
      owner.push(k);
    }
  });
  return { variants, owner };
}

/** End of `line` without trailing spaces, tabs and carriage returns. */
function trimmedEnd(line: string): number {
  let e = line.length;
  while (e > 0) {
    const t = line.charCodeAt(e - 1);
    if (t !== 32 && t !== 9 && t !== 13) break;
    e--;
  }
  return e;
}

/**
 * Position after the first of `strip` found at `b` in `line`, else `b` (outside `matchDetailed`:
 * less for the optimising compiler to compile there).
 */
function afterPrefix(line: string, b: number, strip: readonly string[]): number {
  for (let i = 0; i < strip.length; i++) {
    if (line.startsWith(strip[i]!, b)) return b + strip[i]!.length;
  }
  return b;
}

class CompiledFilter implements Filter {
  readonly name: string;
  readonly mode: string;
  readonly patterns: readonly string[];
  readonly roles: readonly Role[];
  readonly stepFactor: number;
  #program: ProgramSet | undefined;
  #strip: readonly string[];
  /** 1 at the ASCII code of the first character of a strip prefix. */
  #stripFirst = new Uint8Array(128);
  #shape = newShape();
  /** This filter's match results and per-line memos (see `MatchState`). */
  readonly #m = new MatchState();
  #syslog: boolean;
  #fail: { v: Variant; k: number; lead: string; must: number }[];
  /** The literals of `Entry.must`; per line, whether each was looked for and found. */
  #must: string[] = [];
  #mustLine = new Uint32Array(0);
  #mustHas = new Uint8Array(0);
  #lineNo = 0;
  /** The variants to try, by the longest lead the message starts with (see `LeadNode`). */
  #leads: LeadNode;
  /** The last line, when it matched nothing and quiet entries were skipped (for `lastKind`). */
  #skList: Entry[] | null = null;
  #skLine = "";
  #skB = 0;
  #skE = 0;
  #ignore: Variant[];
  #roles: readonly Role[];
  /** Per pattern, where its line names the login tried ("" when it does not). */
  #users: readonly (UserField | "")[];
  /** Per pattern: its step in a multi-line attempt (0: none), closing it, keyed by address. */
  #step: Uint8Array;
  #close: Uint8Array;
  #byAddr: Uint8Array;
  /** Per pattern: the seconds one attempt's lines can lie apart (`Rule.span`; 0: unbounded). */
  #span: Float64Array;
  /** Per pattern: the text after which its line states its attempt's own seconds ("": none). */
  #spanIn: readonly string[];
  /** 1 for a pattern whose line only matters to an existing session (`forget`, `end`). */
  #quiet: Uint8Array | null;
  /** Some pattern is an `echo`: attempt lines note their address (`#noteAttempt`). */
  #echoes: boolean;
  /**
   * By session key modulo `ECHO_SLOTS`: the key and the address of its last attempt line, whose
   * `echo` lines (written right after it, by the same process) are its duplicates. A session
   * needs no entry for that, so a flood of one-line attempts adds nothing to the session table.
   */
  #echoKey = new Float64Array(ECHO_SLOTS).fill(-1);
  #echoIp: (string | null)[] = new Array(ECHO_SLOTS).fill(null);
  #unique: readonly string[];
  #cap: number;
  #sessions = new Map<number, Session>();
  /** Session keys in the order they were added (-1: free), for forgetting the oldest. */
  #ring = new Float64Array(SESSION_MAX).fill(-1);
  #ringAt = 0;
  #kind: LineKind = LineKind.NONE;
  #ambiguousLines = 0;
  /** The compiled patterns, for another instance of the same filter. */
  readonly compiled: { fail: Compiled; ignore: Compiled };

  constructor(
    name: string,
    mode: string,
    opts: {
      patterns: readonly string[];
      ignore: readonly string[];
      program?: ProgramSet | undefined;
      strip?: readonly string[] | undefined;
      syslog: boolean;
      /** Role per pattern (default: every pattern is `fail`). */
      roles?: readonly Role[] | undefined;
      /** Per pattern, a text that must occur once in the message ("" for none). */
      unique?: readonly string[] | undefined;
      /** Per pattern, where its line names the login tried ("" for none). */
      users?: readonly (UserField | "")[] | undefined;
      /** Per pattern, its `Rule.step`, `close`, `byAddr`, `span`, `spanIn` (0 / false / ""). */
      steps?:
        | readonly {
          step: number;
          close: boolean;
          byAddr: boolean;
          span?: number;
          spanIn?: string;
        }[]
        | undefined;
      /** The service's length limit in bytes: messages this long or longer are ambiguous. */
      cap?: number | undefined;
      /** The patterns already compiled (built-ins compile once; each instance keeps state). */
      compiled?: { fail: Compiled; ignore: Compiled } | undefined;
    },
  ) {
    this.name = name;
    this.mode = mode;
    this.patterns = opts.patterns;
    this.#program = opts.program;
    this.#strip = opts.strip ?? [];
    for (const p of this.#strip) {
      if (p === "") this.#stripFirst.fill(1); // "" stops the search: keep the plain loop
      else if (p.charCodeAt(0) < 128) this.#stripFirst[p.charCodeAt(0)] = 1;
    }
    this.#syslog = opts.syslog;
    this.roles = this.#roles = opts.roles ?? opts.patterns.map(() => "fail");
    const quiet = Uint8Array.from(this.#roles, (r) => r === "forget" || r === "end" ? 1 : 0);
    this.#quiet = quiet.includes(1) && opts.syslog ? quiet : null;
    this.#echoes = this.#roles.includes("echo");
    this.#unique = opts.unique ?? [];
    this.#users = opts.users ?? [];
    const steps = opts.steps ?? [];
    this.#step = Uint8Array.from(steps, (x) => x.step);
    this.#close = Uint8Array.from(steps, (x) => x.close ? 1 : 0);
    this.#byAddr = Uint8Array.from(steps, (x) => x.byAddr ? 1 : 0);
    this.#span = Float64Array.from(steps, (x) => x.span ?? 0);
    this.#spanIn = steps.map((x) => x.spanIn ?? "");
    this.#cap = opts.cap ?? 0;
    const fail = opts.compiled?.fail ?? compileList(opts.patterns, true, this.#roles);
    this.#ignore = (opts.compiled?.ignore ?? compileList(opts.ignore, false)).variants;
    this.compiled = { fail, ignore: { variants: this.#ignore, owner: [] } };
    this.#fail = fail.variants.map((v, i) => {
      const op = v.segs[0]![0];
      const lit = mustLiteral(v);
      let must = lit === "" ? -1 : this.#must.indexOf(lit);
      if (lit !== "" && must < 0) must = this.#must.push(lit) - 1;
      return { v, k: fail.owner[i]!, lead: op && op.lit ? op.s : "", must };
    });
    // a pattern's variants in runs by the literal they need: which of them matches first changes
    // nothing, as every variant that reads an address must read the same one
    this.#fail.sort((a, b) => a.k - b.k || a.must - b.must);
    const leads = new Set(this.#fail.map((x) => x.lead));
    leads.delete("");
    this.#leads = leadTree([...leads], "", "");
    this.#mustLine = new Uint32Array(this.#must.length);
    this.#mustHas = new Uint8Array(this.#must.length);
    let f = 4;
    for (const v of fail.variants) f += v.stepFactor;
    for (const v of this.#ignore) f += v.stepFactor;
    this.stepFactor = f;
  }

  /** The variants that may match the message `line[b, e)` (a walk down `#leads`). */
  #listFor(line: string, b: number, e: number): Entry[] {
    let node = this.#leads, best = node;
    for (let i = b; i < e;) {
      const next = node.kids.get(line.charCodeAt(i));
      if (next === undefined || b + next.text.length > e || !line.startsWith(next.label, i)) break;
      node = next;
      i = b + node.text.length;
      if (node.lead) best = node;
    }
    return best.list ??= this.#entries(
      this.#fail.filter(({ lead }) => lead === "" || best.text.startsWith(lead)),
    );
  }

  #entries(picked: { v: Variant; k: number; must: number }[]): Entry[] {
    // the run of entries that need the same literal: a line without it skips the run at once
    const ends = new Int32Array(picked.length);
    for (let i = picked.length - 1; i >= 0; i--) {
      ends[i] = picked[i + 1]?.must === picked[i]!.must ? ends[i + 1]! : i + 1;
    }
    return picked.map(({ v, k, must }, i) => {
      // leading ops of the first segment shared with the previous entry
      let share = 0;
      const prev = picked[i - 1]?.v.segs[0]!, cur = v.segs[0]!;
      if (prev) {
        while (share < cur.length && share < prev.length && sameOp(prev[share]!, cur[share]!)) {
          share++;
        }
      }
      return { v, k, share, must, mustEnd: ends[i]! };
    });
  }

  match(line: string, nowMs: number): FilterMatch | null {
    return this.matchDetailed(line, nowMs);
  }

  /**
   * Applies the session rules to a matched line (`ip` null for an orphan; pattern `k` matched the
   * message `line[b, e)`, its address at `line[at, to)`): returns the address to count, or null
   * (with `#kind` set) when the line counts nothing.
   */
  #session(
    line: string,
    sh: Shape,
    role: Role,
    ip: string | null,
    k: number,
    b: number,
    e: number,
    at: number,
    to: number,
    nowMs: number,
  ): string | null {
    const key = this.#byAddr[k] === 1
      ? (ip === null ? -1 : addrKey(ip))
      : this.#syslog
      ? sessionKey(line, sh)
      : -1;
    if (key < 0) {
      if (role === "fail" || role === "announce" || role === "repeat") return ip;
      if (role === "echo" && ip !== null) return ip;
      this.#kind = LineKind.SESSION;
      return null;
    }
    const sessions = this.#sessions;
    let s = sessions.get(key);
    if (role === "echo") return this.#echoed(key, ip, s);
    if (s === undefined) {
      // a failure of a session nobody waits on needs no entry; an `end` closes nothing
      if (role === "fail" || role === "repeat") return this.#noteAttempt(key, ip);
      if (role === "end" || role === "forget") {
        this.#kind = LineKind.SESSION;
        return null;
      }
      s = this.#open(key);
    }
    const st = this.#step[k] ?? 0;
    if (st > 0 && ip !== null) {
      const t = (this.#syslog ? lineTime(line, sh, nowMs) : null) ?? nowMs;
      return this.#stepped(s, st, this.#close[k] === 1, ip, t, this.#within(k, line, b, e));
    }
    switch (role) {
      case "orphan":
        if (s.ip !== null) return this.#noteAttempt(key, s.ip);
        s.pending = true;
        this.#kind = LineKind.SESSION;
        return null;
      case "repeat":
        s.ip = ip;
        this.#noteAttempt(key, ip);
        if (s.announced === ip) {
          s.announced = null;
          this.#kind = LineKind.DUPLICATE;
          return null;
        }
        s.pending = false;
        return ip;
      case "fail":
      case "announce":
        s.ip = ip;
        s.pending = false;
        s.announced = role === "announce" ? ip : null;
        return this.#noteAttempt(key, ip);
      case "forget": {
        s.step = 0;
        // a success after the session tried another login name: the earlier tries were attacks
        const field = this.#users[k];
        const counts = !!field && ip !== null && namesSwitch(s, field, line, b, e, at, to);
        s.ip = ip;
        s.pending = false;
        s.announced = null;
        this.#noteAttempt(key, null);
        s.user = 0; // authentication is over: a reused pid starts afresh
        s.switched = false;
        if (counts) return ip;
        this.#kind = LineKind.SESSION;
        return null;
      }
      default: { // helper, end
        const field = this.#users[k];
        const counts = !!field && ip !== null && namesSwitch(s, field, line, b, e, at, to);
        const settle = s.pending && ip !== null;
        s.pending = false;
        s.ip = ip;
        this.#noteAttempt(key, counts || settle ? ip : null); // (not counted: its echo counts)
        if (role === "end") sessions.delete(key);
        if (counts) {
          s.announced = ip; // the service's own failure line for this try is its duplicate
          return ip;
        }
        if (settle) return ip;
        this.#kind = LineKind.SESSION;
        return null;
      }
    }
  }

  /**
   * An `echo` line of session `key` (`s` when it has an entry): the service's own line about the
   * attempt it has just written (sshd's MaxAuthTries), a duplicate of it when its address is the
   * last attempt's; without an address of its own or the session's, it waits as an orphan.
   */
  #echoed(key: number, ip: string | null, s: Session | undefined): string | null {
    const slot = key % ECHO_SLOTS;
    const last = this.#echoKey[slot] === key ? this.#echoIp[slot]! : null;
    const addr = ip ?? s?.ip ?? last;
    if (addr === null) {
      s ??= this.#open(key);
      s.pending = true;
      this.#kind = LineKind.SESSION;
      return null;
    }
    if (s !== undefined) {
      s.ip = addr;
      s.pending = false;
    }
    if (addr === last) {
      this.#kind = LineKind.DUPLICATE;
      return null;
    }
    return this.#noteAttempt(key, addr);
  }

  /** Notes `ip` as the address of session `key`'s last attempt line (null: none); returns it. */
  #noteAttempt(key: number, ip: string | null): string | null {
    if (this.#echoes) {
      this.#echoKey[key % ECHO_SLOTS] = key;
      this.#echoIp[key % ECHO_SLOTS] = ip;
    }
    return ip;
  }

  /** A new session under `key`, in place of the oldest when the table is full. */
  #open(key: number): Session {
    const s: Session = {
      ip: null,
      pending: false,
      announced: null,
      user: 0,
      switched: false,
      step: 0,
      at: 0,
    };
    // oldest first: the ring holds the keys in the order they were added
    const ring = this.#ring;
    const old = ring[this.#ringAt]!;
    if (old >= 0) this.#sessions.delete(old);
    ring[this.#ringAt] = key;
    this.#ringAt = (this.#ringAt + 1) % SESSION_MAX;
    this.#sessions.set(key, s);
    return s;
  }

  /**
   * A line of step `st` of a multi-line attempt in session `s`, at time `t`: a duplicate when it
   * continues the open attempt of the same address (a later step, whose last line is at most
   * `within` ms older), else a new attempt that counts.
   */
  #stepped(
    s: Session,
    st: number,
    close: boolean,
    ip: string,
    t: number,
    within: number,
  ): string | null {
    const continues = s.announced === ip && st > s.step && (within < 0 || t - s.at <= within);
    s.ip = ip;
    s.pending = false;
    s.step = st;
    s.at = t;
    s.announced = close ? null : ip;
    if (!continues) return ip;
    this.#kind = LineKind.DUPLICATE;
    return null;
  }

  /**
   * How much older (ms) than pattern `k`'s line `line[b, e)` the lines of its attempt can be: the
   * seconds the line states after its `spanIn` text (plus 2 s for whole-second clocks) when that
   * is less than its `span`, else its `span`; -1 when unbounded.
   */
  #within(k: number, line: string, b: number, e: number): number {
    const span = this.#span[k] ?? 0;
    if (span <= 0) return -1;
    const text = this.#spanIn[k] ?? "";
    // the first copy: the service writes it before any client text (the user name)
    const i = text === "" ? -1 : line.indexOf(text, b);
    let secs = -1;
    for (let j = i < 0 ? e : i + text.length; j < e; j++) {
      const c = line.charCodeAt(j) - 48;
      if (c < 0 || c > 9 || secs > span) break;
      secs = (secs < 0 ? 0 : secs * 10) + c;
    }
    return (secs >= 0 && secs + 2 < span ? secs + 2 : span) * 1000;
  }

  /** 1 when no session waits on the line's pid (its success and close lines can be skipped). */
  #idle(line: string, sh: Shape): number {
    return this.#sessions.size === 0 || !this.#sessions.has(sessionKey(line, sh)) ? 1 : 0;
  }

  get ambiguousLines(): number {
    return this.#ambiguousLines;
  }

  #ambiguous(): void {
    this.#kind = LineKind.AMBIGUOUS;
    this.#ambiguousLines++;
  }

  get lastKind(): LineKind {
    const list = this.#skList;
    if (list !== null) {
      // the line matched nothing but success or close patterns were skipped (no session waited
      // on them): whether it is a session line is worked out only when someone asks
      this.#skList = null;
      this.#m.newLine();
      for (const entry of list) {
        if (
          this.#quiet![entry.k] === 1 &&
          matchVariant(this.#m, entry.v, this.#skLine, this.#skB, this.#skE) === MATCHED
        ) {
          this.#kind = LineKind.SESSION;
          break;
        }
      }
    }
    return this.#kind;
  }

  get lastFormat(): number {
    return this.#syslog ? this.#shape.ts : 0;
  }

  /** Keeps a line that matched nothing after quiet entries were skipped, for `lastKind`. */
  #skipped(list: Entry[], line: string, b: number, e: number): void {
    this.#skList = list;
    this.#skLine = line;
    this.#skB = b;
    this.#skE = e;
  }

  /**
   * After failure pattern `pattern` matched the message `line[b, e)`: true (and the line's kind
   * set) when an ignore pattern matches, the line may have been cut by the service, or the text
   * the pattern needs once is missing or repeated.
   */
  #rejects(line: string, b: number, e: number, pattern: number): boolean {
    const ignore = this.#ignore;
    for (let i = 0; i < ignore.length; i++) {
      if (matchVariant(this.#m, ignore[i]!, line, b, e) !== 0) {
        this.#kind = LineKind.IGNORED;
        return true;
      }
    }
    const cap = this.#cap;
    if (cap > 0 && e - b >= cap / 3 && exceedsLineCap(line.slice(b, e), cap - 1)) {
      this.#ambiguous(); // cut by the service: its trailing structure may be gone
      return true;
    }
    const once = this.#unique[pattern];
    if (once) {
      const at = line.indexOf(once, b);
      if (at < 0 || line.indexOf(once, at + 1) >= 0) {
        this.#ambiguous(); // its unique text is missing or repeated
        return true;
      }
    }
    return false;
  }

  matchDetailed(line: string, nowMs: number): (FilterMatch & { pattern: number }) | null {
    this.#kind = LineKind.NONE;
    this.#skList = null;
    const sh = this.#shape;
    sh.ts = 0;
    if (line.length > HARD_LINE_LIMIT) return null;
    let b: number, e: number;
    if (this.#syslog) {
      if (!parseShape(line, sh, this.#program)) return null;
      b = sh.msgStart;
      e = sh.msgEnd;
    } else {
      b = 0;
      e = trimmedEnd(line);
    }
    const m = this.#m;
    m.newLine();
    const s0 = line.charCodeAt(b);
    // a prefix can only be there when the message starts with the first character of one
    if (s0 >= 128 || this.#stripFirst[s0] === 1) b = afterPrefix(line, b, this.#strip);
    const list = this.#listFor(line, b, e);
    let ip: string | null = null;
    let ipAt = 0, ipTo = 0; // where the first reading found the address
    let pattern = -1;
    let failed = -1; // first-segment op at which the last tried variant failed
    let failLit = "", failAt = -1; // that op's literal and its first mismatch, when a literal
    let absent = ""; // a needChar the line lacks
    // success and close lines matter only to a session that waits for something
    const quiet = this.#quiet;
    let idle = -1; // unknown until a quiet entry comes up; then 1 when no session waits
    const lineNo = this.#lineNo = (this.#lineNo + 1) >>> 0 || 1;
    const mustLine = this.#mustLine, mustHas = this.#mustHas;
    for (let i = 0; i < list.length; i++) {
      const entry = list[i]!;
      if (quiet !== null && quiet[entry.k] === 1) {
        // (a session that is an address is known only once the line's address is read)
        if (idle < 0) idle = this.#idle(line, sh);
        if (idle === 1 && (this.#byAddr[entry.k] === 0 || this.#sessions.size === 0)) {
          failed = -1; // not tried: the next entry cannot lean on this one's failure
          continue;
        }
      }
      const must = entry.must;
      if (must >= 0) {
        if (mustLine[must] !== lineNo) {
          mustLine[must] = lineNo;
          mustHas[must] = line.indexOf(this.#must[must]!, b) >= 0 ? 1 : 0;
        }
        if (mustHas[must] === 0) {
          failed = -1; // not tried: the next entry cannot lean on this one's failure
          i = entry.mustEnd - 1;
          continue;
        }
      }
      if (failed >= 0) {
        if (entry.share > failed) continue; // fails at the same op
        // the same ops before it, and a literal there agreeing up to the mismatch: fails there too
        if (entry.share === failed && failAt >= 0 && agreesTo(entry.v, failed, failLit, failAt)) {
          continue;
        }
      }
      const need = entry.v.needChar;
      if (need !== "" && need === absent) {
        failed = 1; // what matchVariant would report (needChar missing), without the search
        failAt = -1;
        continue;
      }
      const r = matchVariant(m, entry.v, line, b, e);
      if (r === MATCHED) {
        // every variant that reads an address from this line must read the same one; the first
        // pattern to match decides what the line is
        const got = m.found;
        if (pattern < 0) pattern = entry.k;
        if (got !== null) {
          if (ip === null) {
            ip = got;
            ipAt = m.spanS;
            ipTo = m.spanE;
            // no other address-shaped text in the line: no other reading can disagree
            if (!otherAddressIn(line, b, e, ipAt, ipTo)) break;
          } else if (got !== ip) {
            this.#ambiguous(); // two readings disagree
            return null;
          }
        }
        failed = -1;
        continue;
      }
      if (r === AMBIGUOUS) {
        this.#ambiguous(); // two placements of one pattern disagree
        return null;
      }
      const at = m.seg0Fail;
      failed = at >= 1e9 ? -1 : at;
      failAt = -1;
      if (failed >= 0) {
        if (m.needMissing) absent = need;
        else {
          failLit = m.seg0Lit;
          failAt = m.seg0At;
        }
      }
    }
    if (pattern < 0) {
      if (idle === 1) this.#skipped(list, line, b, e);
      return null;
    }
    if (this.#rejects(line, b, e, pattern)) return null;
    const role = this.#roles[pattern]!;
    if (role !== "fail" || this.#sessions.size > 0) {
      ip = this.#session(line, sh, role, ip, pattern, b, e, ipAt, ipTo, nowMs);
    }
    if (ip === null) return null;
    this.#kind = LineKind.FAILURE;
    return { ip, time: this.#syslog ? lineTime(line, sh, nowMs) : null, pattern };
  }
}

/** The time of a line with a shape, clamped to `nowMs` (null when it has none). */
function lineTime(line: string, sh: Shape, nowMs: number): number | null {
  const time = shapeTime(line, sh, nowMs);
  return time === null ? null : clampToNow(time, nowMs);
}

/** The session of a line: its program and `[pid]` (null when the line has no pid). */
/**
 * The session of a line: its pid (from `prog[pid]`, or RFC 5424's PROCID) mixed with a hash of the
 * program name, as a number; -1 when the line names no pid. No string is made per line.
 */
function sessionKey(line: string, sh: Shape): number {
  const a = sh.progStart, e = sh.progEnd;
  if (a < 0) return -1;
  let i = e;
  const c = line.charCodeAt(i);
  if (c !== 91 && c !== 32) return -1; // `[pid]` or RFC 5424's ` PROCID `
  i++;
  let pid = 0, digits = 0;
  for (; digits < 10; i++, digits++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    pid = pid * 10 + d;
  }
  if (digits === 0) return -1;
  let h = 0;
  for (let k = a; k < e; k++) h = (Math.imul(h, 31) + line.charCodeAt(k)) | 0;
  return ((h & 0xff) << 22 | (pid & 0x3fffff)) >>> 0; // a small integer: a cheap Map key
}

/**
 * True when a filter keeps session state between lines (sshd's address-less failures, helpers,
 * duplicates): its lines must then be matched in order by one instance.
 */
export function filterHasSessions(
  name: string,
  mode: string,
  userFilters?: readonly UserFilterConfig[],
): boolean {
  if (findUser(name, userFilters)) return false;
  const rules = findBuiltin(name)?.modes[mode] ?? [];
  return rules.some((r) => typeof r !== "string" && r.role !== "fail" && r.role !== "ignore");
}

function findUser(name: string, users?: readonly UserFilterConfig[]): UserFilterConfig | undefined {
  return users?.find((u) => u.name === name);
}
function findBuiltin(name: string): FilterDef | undefined {
  return BUILTINS.find((d) => d.name === name);
}

/**
 * The modes of filter `name` (`["normal", …]`), or `undefined` when no such filter exists. A user
 * filter (`[filters.NAME]`) has the single mode `normal` and takes precedence over a built-in of
 * the same name.
 */
export function filterModes(
  name: string,
  userFilters?: readonly UserFilterConfig[],
): readonly string[] | undefined {
  if (findUser(name, userFilters)) return ["normal"];
  const d = findBuiltin(name);
  return d ? Object.keys(d.modes) : undefined;
}

/** Names of the built-in filters. */
export function builtinFilterNames(): readonly string[] {
  return BUILTINS.map((d) => d.name);
}

/**
 * Compiles a `[filters.NAME]` table. Throws `PatternError` (`list`, `patternIndex`, 1-based
 * `column`, `reason`) for the first pattern that cannot be compiled.
 */
export function compileUserFilter(cfg: UserFilterConfig): Filter {
  return new CompiledFilter(cfg.name, "normal", {
    patterns: cfg.patterns,
    ignore: cfg.ignorePatterns,
    syslog: cfg.prefix === "syslog",
  });
}

const cache = new Map<string, { fail: Compiled; ignore: Compiled }>();

/** What a token stands for in a witness line (the shortest text the service could write there). */
const SAMPLE: Readonly<Record<string, string>> = { NUM: "4242", HEX: "4242" };
/** The addresses a witness line holds (an IPv6 one meets `<HOST>:<NUM>` as `2001:db8::1:4242`). */
const WITNESS_HOSTS = ["192.0.2.1", "2001:db8::1"];

/**
 * Lines failure variant `v` matches with `host` as its address and `x` in every free part: line k
 * takes text k (cyclically) of each literal set, so every text of every set is in one of them.
 */
function witnesses(v: Variant, host: string): string[] {
  let n = 1;
  for (const seg of v.segs) {
    for (const op of seg) if (!op.lit && op.set) n = Math.max(n, op.set.length);
  }
  return Array.from(
    { length: n },
    (_, k) =>
      v.segs.map((seg) =>
        seg.map((op) =>
          op.lit
            ? op.s
            : op.set
            ? op.set[k % op.set.length]
            : op.host
            ? host
            : SAMPLE[op.name] ?? "x"
        ).join("")
      ).join("x"),
  );
}

/**
 * Compile-time agreement check across the patterns of a filter: for every failure variant and
 * address, the line the variant matches with neutral text in its free parts (no attacker text, no
 * planted structure) is matched by the whole filter (`probe`, a fresh instance of it). When the
 * filter calls that line ambiguous or reads another address from it, two of its patterns (or
 * optional tails) place the address differently on a line the service writes, which the grammar
 * must decide: each such case is returned as `pattern N: WHY: LINE`. Lines the filter does not
 * match as a whole (its line shapes, ignore patterns) are not disagreements.
 */
function disagreements(probe: CompiledFilter, fail: Compiled): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  fail.variants.forEach((v, i) => {
    if (v.hostSeg < 0) return; // an orphan reads no address
    for (const host of WITNESS_HOSTS) {
      for (const line of witnesses(v, host)) {
        if (seen.has(line)) continue;
        seen.add(line);
        const got = probe.matchDetailed(line, 0);
        const kind = probe.lastKind;
        if (kind === LineKind.AMBIGUOUS) out.push(`pattern ${fail.owner[i]}: ambiguous: ${line}`);
        else if (got !== null && got.ip !== host) {
          out.push(`pattern ${fail.owner[i]}: reads ${got.ip}, not ${host}: ${line}`);
        }
      }
    }
  });
  return out;
}

/**
 * The places where the patterns of filter `name` in `mode` disagree on a line its service could
 * write (see `disagreements`; 0.1–0.5 s for a large built-in, so not at every start): a test holds
 * every built-in to none, `config check` warns about each of a user filter's. The run-time check
 * still makes such lines ambiguous. Throws as `getFilter` does.
 */
export function filterDisagreements(
  name: string,
  mode = "normal",
  userFilters?: readonly UserFilterConfig[],
): string[] {
  const f = getFilter(name, mode, userFilters) as CompiledFilter;
  return disagreements(getFilter(name, mode, userFilters) as CompiledFilter, f.compiled.fail);
}

const RANK: Record<Role, number> = {
  ignore: 0,
  fail: 0,
  announce: 0,
  repeat: 0,
  forget: 1,
  helper: 1,
  end: 1,
  orphan: 2,
  echo: 2,
};

/** A mode's rules with counting ones first, then helpers, then orphans (the first match wins). */
function ordered(list: readonly (string | Rule)[]): Rule[] {
  const rules = list.map((r) => typeof r === "string" ? { role: "fail" as const, p: r } : r);
  return rules.map((r, i) => ({ r, i })).sort((x, y) =>
    RANK[x.r.role] - RANK[y.r.role] || x.i - y.i
  ).map((x) => x.r);
}

/**
 * Returns the compiled filter `name` in `mode`. User filters come first (compiled on each call;
 * a `PatternError` propagates), built-ins are compiled once and cached per mode. Throws
 * `RangeError` for an unknown filter or mode (message names the known ones). Each call returns a
 * new instance with its own session table (one per jail, or per run of `filter test`).
 */
export function getFilter(
  name: string,
  mode = "normal",
  userFilters?: readonly UserFilterConfig[],
): Filter {
  const user = findUser(name, userFilters);
  if (user) {
    if (mode !== "normal") {
      throw new RangeError(`filter "${name}" has the mode "normal" only, found "${mode}"`);
    }
    return compileUserFilter(user);
  }
  const d = findBuiltin(name);
  if (!d) {
    throw new RangeError(
      `expected a filter name (${
        builtinFilterNames().join(", ")
      } or a [filters.NAME]), found "${name}"`,
    );
  }
  const patterns = d.modes[mode];
  if (!patterns) {
    throw new RangeError(
      `filter "${name}" has the modes ${Object.keys(d.modes).join(", ")}, found "${mode}"`,
    );
  }
  const key = `${name}\0${mode}`;
  const all = ordered(patterns);
  const rules = all.filter((r) => r.role !== "ignore");
  const make = (compiled?: { fail: Compiled; ignore: Compiled }) =>
    new CompiledFilter(name, mode, {
      patterns: rules.map((r) => r.p),
      roles: rules.map((r) => r.role),
      unique: rules.map((r) => r.unique ?? ""),
      users: rules.map((r) => r.user ?? ""),
      steps: rules.map((r) => ({
        step: r.step ?? 0,
        close: r.close === true,
        byAddr: r.byAddr === true,
        span: r.span ?? 0,
        spanIn: r.spanIn ?? "",
      })),
      ignore: [...(d.ignore ?? []), ...all.filter((r) => r.role === "ignore").map((r) => r.p)],
      program: d.program,
      strip: d.strip,
      cap: d.cap,
      syslog: true,
      compiled,
    });
  const f = make(cache.get(key));
  cache.set(key, f.compiled);
  return f;
}
