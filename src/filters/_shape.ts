/**
 * Line shapes: finds where the message starts, which program wrote it, and (only for lines that
 * matched) the line's time.
 *
 * Recognised leading timestamps, each optionally after a `<PRI>`:
 * - RFC 3164 `Nov 24 12:26:41` (also `Nov  4`, fractions `12:26:41.771471`, a trailing year);
 *   the year is inferred from `now` and never lands more than a day in the future;
 * - RFC 3339 `2026-11-24T12:26:41.771471+00:00` (`Z`, `+0000`, no zone = local time) and the
 *   space form `2026-11-24 12:26:41,123` (proftpd, local time);
 * - nginx `2026/11/24 12:26:41`; ctime `Tue Nov 24 12:26:41 2026` (vsftpd);
 *   apache `[Tue Nov 24 12:26:41.123456 2026]`.
 * After a syslog-style timestamp comes an optional host and a tag `prog[pid]:` / `prog:` (or a
 * bare `[prog]` / `(prog):`, or `prog(sub)[pid]:`); without
 * a timestamp only the unmistakable `host prog[pid]: ` / `prog[pid]: ` forms count as a prefix.
 * Anything else is a bare message (a journal MESSAGE): program unknown, time null. Common log
 * format times (`[24/Nov/2026:12:26:41 +0000]`) are found inside the line.
 * An rsyslog `message repeated N times: [ … ]` wrapper is removed.
 * @module
 */

/** Kinds of leading timestamp. */
export const Ts = {
  NONE: 0,
  RFC3164: 1,
  ISO: 2,
  NGINX: 3,
  CTIME: 4,
  APACHE: 5,
  TAI64N: 6,
  /** journalctl `short-unix`: `1764000000.123456` (UTC seconds). */
  UNIX: 7,
  /** journalctl `short-full`: `Tue 2026-11-24 12:26:41 UTC` (local time unless UTC/GMT). */
  FULL: 8,
  /** journalctl `short-monotonic`: `[ 12345.678901]` (since boot: no time). */
  MONOTONIC: 9,
} as const;
/** A value of `Ts`. */
export type Ts = (typeof Ts)[keyof typeof Ts];

/** The programs a filter reads: exact names, name prefixes and name suffixes. */
export interface ProgramSet {
  /** Bit n set: some name has length n (31 = 31 or more). */
  readonly lengths: number;
  /** Bit n set: some name starts with a character whose code ends in the 5 bits n. */
  readonly firsts: number;
  readonly names: readonly string[];
  readonly prefixes: readonly string[];
  readonly suffixes: readonly string[];
}

/** Builds a `ProgramSet` (bit masks let most foreign programs be refused without a compare). */
export function programSet(
  opts: { names?: string[]; prefixes?: string[]; suffixes?: string[] },
): ProgramSet {
  let lengths = 0, firsts = 0;
  for (const n of opts.names ?? []) {
    lengths |= 1 << Math.min(n.length, 31);
    firsts |= 1 << (n.charCodeAt(0) & 31);
  }
  return {
    lengths,
    firsts,
    names: opts.names ?? [],
    prefixes: opts.prefixes ?? [],
    suffixes: opts.suffixes ?? [],
  };
}

/** True when the program `s[a, e)` is in `p`. */
export function programIn(p: ProgramSet, s: string, a: number, e: number): boolean {
  const len = e - a;
  if (
    ((p.lengths >>> Math.min(len, 31)) & 1) === 1 &&
    ((p.firsts >>> (s.charCodeAt(a) & 31)) & 1) === 1
  ) {
    const names = p.names;
    for (let i = 0; i < names.length; i++) {
      if (names[i]!.length === len && s.startsWith(names[i]!, a)) return true;
    }
  }
  const pre = p.prefixes;
  for (let i = 0; i < pre.length; i++) {
    if (len >= pre[i]!.length && s.startsWith(pre[i]!, a)) return true;
  }
  const suf = p.suffixes;
  for (let i = 0; i < suf.length; i++) {
    if (len > suf[i]!.length && s.startsWith(suf[i]!, e - suf[i]!.length)) return true;
  }
  return false;
}

/** Result of `parseShape` (one reused object; read it before the next call). */
export interface Shape {
  msgStart: number;
  msgEnd: number;
  /** Program name span, `progStart < 0` when the line has none. */
  progStart: number;
  progEnd: number;
  ts: Ts;
  tsStart: number;
}

/** Month index 0..11 of a three-letter English month name at i, else -1. */
function monthAt(s: string, i: number): number {
  const a = s.charCodeAt(i), b = s.charCodeAt(i + 1), c = s.charCodeAt(i + 2);
  switch (a) {
    case 74: // J
      if (b === 97 && c === 110) return 0; // Jan
      if (b === 117) return c === 110 ? 5 : c === 108 ? 6 : -1; // Jun Jul
      return -1;
    case 70:
      return b === 101 && c === 98 ? 1 : -1; // Feb
    case 77:
      return b === 97 ? (c === 114 ? 2 : c === 121 ? 4 : -1) : -1; // Mar May
    case 65:
      return b === 112 && c === 114 ? 3 : b === 117 && c === 103 ? 7 : -1; // Apr Aug
    case 83:
      return b === 101 && c === 112 ? 8 : -1; // Sep
    case 79:
      return b === 99 && c === 116 ? 9 : -1; // Oct
    case 78:
      return b === 111 && c === 118 ? 10 : -1; // Nov
    case 68:
      return b === 101 && c === 99 ? 11 : -1; // Dec
  }
  return -1;
}
const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
function dayAt(s: string, i: number): boolean {
  for (const d of DAYS) if (s.startsWith(d, i)) return true;
  return false;
}
function hexAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 48 && c <= 57) return c - 48;
  return c >= 97 && c <= 102 ? c - 87 : -1;
}
function dig(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -100;
}
function num2(s: string, i: number): number {
  return dig(s, i) * 10 + dig(s, i + 1);
}
function num4(s: string, i: number): number {
  return num2(s, i) * 100 + num2(s, i + 2);
}
/** `hh:mm:ss` at i; returns true when well-formed. */
function clockAt(s: string, i: number): boolean {
  return num2(s, i) >= 0 && s.charCodeAt(i + 2) === 58 && num2(s, i + 3) >= 0 &&
    s.charCodeAt(i + 5) === 58 && num2(s, i + 6) >= 0;
}
/** Skips `[.,]digits` at i. */
function skipFrac(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c !== 46 && c !== 44) return i;
  let j = i + 1;
  while (j < s.length && j < i + 10 && dig(s, j) >= 0) j++;
  return j > i + 1 ? j : i;
}

/** Tag characters: letters, digits, `_ . / @ ( ) -`. */
function tagChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 ||
    c === 46 || c === 47 || c === 64 || c === 45 || c === 40 || c === 41;
}

/**
 * Reads a tag at i: `name[pid]:`, `name:` (when `colonOptional` false) or `name[pid]` followed by
 * a space. Sets the program span and returns the message start, or -1.
 */
function tagAt(s: string, i: number, strict: boolean, out: Shape): number {
  const n = s.length;
  let j = i;
  const lim = Math.min(n, i + 64);
  while (j < lim && tagChar(s.charCodeAt(j))) j++;
  if (j === i || j >= n) return -1;
  const nameEnd = j;
  let pid = false;
  if (s.charCodeAt(j) === 91) {
    let k = j + 1;
    while (k < n && k < j + 12 && dig(s, k) >= 0) k++;
    if (k === j + 1 || s.charCodeAt(k) !== 93) return -1;
    pid = true;
    j = k + 1;
  }
  if (strict && !pid) return -1;
  if (s.charCodeAt(j) === 58) {
    j++;
  } else if (!pid) return -1;
  if (j < n && s.charCodeAt(j) !== 32) return -1;
  out.progStart = i;
  out.progEnd = nameEnd;
  return j < n ? j + 1 : j;
}

/** Position of the `[` that opens the `[pid]` ending at `close` (a `]`), or -1. */
function openBracket(s: string, a: number, close: number): number {
  for (let k = close - 1; k > a && k > close - 24; k--) if (s.charCodeAt(k) === 91) return k;
  return -1;
}

/** Program span of a tag token `[a, e)` (`prog[pid]:`, `prog:`, `prog[pid]`), or false. */
function tagToken(s: string, a: number, e: number, out: Shape): boolean {
  if (e - a < 2 || e - a > 80) return false;
  const last = s.charCodeAt(e - 1);
  let pe: number;
  if (last === 58) { // ':'
    if (s.charCodeAt(e - 2) === 93) {
      pe = s.indexOf("[", a);
      if (pe >= e) pe = -1;
    } else pe = e - 1;
  } else if (last === 93) { // `prog[pid]` without colon (proftpd's own log)
    pe = openBracket(s, a, e - 1);
  } else return false;
  if (pe <= a) return false;
  // `sshd(pam_unix)[123]:` (PRE-02b): the program is the name before the parenthesis
  if (s.charCodeAt(pe - 1) === 41 && s.charCodeAt(pe) === 91) {
    const open = s.lastIndexOf("(", pe);
    if (open > a) pe = open;
  }
  out.progStart = a;
  out.progEnd = pe;
  return true;
}

/**
 * Program span of a bare tag token `[a, e)`: `[prog]`, `[prog]:`, `(prog)` or `(prog):`
 * (PRE-02b), whose name starts with a letter and holds only tag characters; else false.
 */
function bareTag(s: string, a: number, e: number, out: Shape): boolean {
  const open = s.charCodeAt(a);
  const shut = open === 91 ? 93 : open === 40 ? 41 : 0;
  const close = s.charCodeAt(e - 1) === 58 ? e - 2 : e - 1;
  if (shut === 0 || close <= a + 1 || s.charCodeAt(close) !== shut) return false;
  const c = s.charCodeAt(a + 1) | 32;
  if (c < 97 || c > 122) return false;
  for (let k = a + 2; k < close; k++) {
    const ch = s.charCodeAt(k);
    if (!tagChar(ch) || ch === 40 || ch === 41) return false;
  }
  out.progStart = a + 1;
  out.progEnd = close;
  return true;
}

/** After a syslog timestamp at i: `host tag`, `tag`, or nothing; returns the message start. */
function afterStamp(s: string, i: number, out: Shape): number {
  const h = s.indexOf(" ", i);
  if (h < 0) return i;
  if (bareTag(s, i, h, out)) return h + 1; // "[prog]", "(prog):", no host
  if (s.charCodeAt(h - 1) === 58 && tagToken(s, i, h, out)) return h + 1;
  const t = s.indexOf(" ", h + 1);
  const te = t < 0 ? s.length : t;
  if (bareTag(s, h + 1, te, out) || tagToken(s, h + 1, te, out)) return t < 0 ? te : te + 1;
  // busybox / syslog-ng with the facility: "host authpriv.info sshd[123]: "
  if (t > 0 && s.charCodeAt(t - 1) !== 58 && s.lastIndexOf(".", t) > h) {
    const u = s.indexOf(" ", t + 1);
    if (u > 0 && tagToken(s, t + 1, u, out)) return u + 1;
  }
  return i;
}

/** After an RFC 5424 timestamp at i: `HOST APP PROCID MSGID SD `; returns the message start. */
function after5424(s: string, i: number, out: Shape): number {
  const h = s.indexOf(" ", i);
  const a = h < 0 ? -1 : s.indexOf(" ", h + 1);
  const p = a < 0 ? -1 : s.indexOf(" ", a + 1);
  const m = p < 0 ? -1 : s.indexOf(" ", p + 1);
  if (m < 0) return i;
  if (!(a === h + 2 && s.charCodeAt(h + 1) === 45)) { // APP "-" means none
    out.progStart = h + 1;
    out.progEnd = a;
  }
  let q = m + 1;
  const n = s.length;
  if (s.charCodeAt(q) === 45) q++;
  else {
    while (q < n && s.charCodeAt(q) === 91) { // [id param="v\\]…"] …: `]` inside quotes stays
      q++;
      let quoted = false;
      while (q < n && (quoted || s.charCodeAt(q) !== 93)) {
        const ch = s.charCodeAt(q);
        if (ch === 92) q++;
        else if (ch === 34) quoted = !quoted;
        q++;
      }
      q++;
    }
  }
  if (s.charCodeAt(q) === 32) q++;
  if (s.charCodeAt(q) === 0xfeff) q++;
  return Math.min(q, n);
}

/**
 * journalctl's other short outputs at i (first character `c`): short-unix, short-full and
 * short-monotonic (docs/formats/prefixes.md PRE-07u/f/m). Returns the message start, or -1.
 */
function journalStamp(s: string, i: number, c: number, out: Shape): number {
  let msg = -1;
  if (c >= 48 && c <= 57 && s.charCodeAt(i + 10) === 46 && s.charCodeAt(i + 17) === 32) {
    // journalctl short-unix: "1764000000.123456 "
    let j = i;
    while (j < i + 17 && (j === i + 10 || dig(s, j) >= 0)) j++;
    if (j === i + 17) {
      out.ts = Ts.UNIX;
      out.tsStart = i;
      msg = afterStamp(s, i + 18, out);
    }
  } else if (
    c >= 65 && c <= 90 && dayAt(s, i) && s.charCodeAt(i + 3) === 32 && dig(s, i + 4) >= 0
  ) {
    // journalctl short-full: "Tue 2026-11-24 12:26:41 UTC "
    const z = s.indexOf(" ", i + 24);
    if (
      num4(s, i + 4) >= 0 && s.charCodeAt(i + 8) === 45 && num2(s, i + 9) >= 0 &&
      s.charCodeAt(i + 11) === 45 && num2(s, i + 12) >= 0 && s.charCodeAt(i + 14) === 32 &&
      clockAt(s, i + 15) && s.charCodeAt(i + 23) === 32 && z > i + 24 && z < i + 32
    ) {
      out.ts = Ts.FULL;
      out.tsStart = i;
      msg = afterStamp(s, z + 1, out);
    }
  } else if (c === 91 && (s.charCodeAt(i + 1) === 32 || dig(s, i + 1) >= 0)) {
    // journalctl short-monotonic: "[ 12345.678901] " (seconds since boot, right-aligned)
    let j = i + 1;
    while (s.charCodeAt(j) === 32 && j < i + 12) j++;
    const d = j;
    while (dig(s, j) >= 0 && j < d + 12) j++;
    if (
      j > d && s.charCodeAt(j) === 46 && dig(s, j + 1) >= 0 && s.charCodeAt(j + 7) === 93 &&
      s.charCodeAt(j + 8) === 32
    ) {
      out.ts = Ts.MONOTONIC;
      out.tsStart = i;
      msg = afterStamp(s, j + 9, out);
    }
  }
  return msg;
}

/**
 * The timestamps other than the common `Nov 24 12:26:41 ` (fast path of `parseShape`) at i, whose
 * first character is `c`: sets the kind and start in `out` and returns the message start, or -1.
 * Kept out of `parseShape` so that the optimising compiler has less to compile there (and each
 * Worker of `filter test` warms up sooner).
 */
function otherStamp(s: string, i: number, c: number, v5424: boolean, out: Shape): number {
  let msg = -1;
  // journalctl's rarer outputs, tested only where their shape can start (not on ISO lines)
  if (
    !v5424 &&
    ((c >= 48 && c <= 57 && s.charCodeAt(i + 10) === 46) || c === 91 ||
      (c >= 65 && c <= 90 && s.charCodeAt(i + 8) === 45))
  ) {
    msg = journalStamp(s, i, c, out);
    if (msg >= 0) return msg;
  }
  if (c >= 65 && c <= 90) {
    if (monthAt(s, i) >= 0 && s.charCodeAt(i + 3) === 32) {
      // Nov 24 12:26:41 / Nov  4 ...
      let d = i + 4;
      if (s.charCodeAt(d) === 32) d++;
      let j = d;
      while (j < d + 2 && dig(s, j) >= 0) j++;
      if (j > d && s.charCodeAt(j) === 32 && clockAt(s, j + 1)) {
        let k = skipFrac(s, j + 9);
        if (s.charCodeAt(k) === 32 && num4(s, k + 1) >= 1970 && s.charCodeAt(k + 5) === 32) {
          k += 5;
        }
        if (s.charCodeAt(k) === 32) {
          out.ts = Ts.RFC3164;
          out.tsStart = i;
          msg = afterStamp(s, k + 1, out);
        }
      }
    } else if (
      dayAt(s, i) && s.charCodeAt(i + 3) === 32 && monthAt(s, i + 4) >= 0 &&
      s.charCodeAt(i + 7) === 32
    ) {
      // Tue Nov 24 12:26:41 2026
      let d = i + 8;
      if (s.charCodeAt(d) === 32) d++;
      let j = d;
      while (j < d + 2 && dig(s, j) >= 0) j++;
      if (
        j > d && s.charCodeAt(j) === 32 && clockAt(s, j + 1) && s.charCodeAt(j + 9) === 32 &&
        num4(s, j + 10) >= 0 && s.charCodeAt(j + 14) === 32
      ) {
        out.ts = Ts.CTIME;
        out.tsStart = i;
        msg = j + 15;
      }
    }
  } else if (c >= 48 && c <= 57) {
    const sep = s.charCodeAt(i + 4);
    if (
      (sep === 45 || sep === 47) && num4(s, i) >= 0 && s.charCodeAt(i + 7) === sep &&
      num2(s, i + 5) >= 0 && num2(s, i + 8) >= 0
    ) {
      const t = s.charCodeAt(i + 10);
      if ((t === 84 || t === 32) && clockAt(s, i + 11)) {
        let k = i + 19;
        if (sep === 47) {
          if (s.charCodeAt(k) === 32) {
            out.ts = Ts.NGINX;
            out.tsStart = i;
            msg = k + 1;
          }
        } else {
          k = skipFrac(s, k);
          const z = s.charCodeAt(k);
          if (z === 90) k++;
          else if (z === 43 || z === 45) {
            if (num2(s, k + 1) >= 0) {
              k += s.charCodeAt(k + 3) === 58 ? 6 : 5;
            }
          }
          if (s.charCodeAt(k) === 32) {
            out.ts = Ts.ISO;
            out.tsStart = i;
            msg = v5424 ? after5424(s, k + 1, out) : afterStamp(s, k + 1, out);
          }
        }
      }
    }
  } else if (c === 64 && s.charCodeAt(i + 25) === 32 && s.startsWith("@4000000", i)) {
    // TAI64N (daemontools multilog `t`): "@" + 24 lowercase hex digits
    let j = i + 1;
    while (j < i + 25 && hexAt(s, j) >= 0) j++;
    if (j === i + 25) {
      out.ts = Ts.TAI64N;
      out.tsStart = i;
      msg = afterStamp(s, i + 26, out);
    }
  } else if (c === 91 && dayAt(s, i + 1)) {
    const close = s.indexOf("] ", i);
    if (close > 0 && close < i + 40) {
      out.ts = Ts.APACHE;
      out.tsStart = i + 1;
      msg = close + 2;
    }
  }
  return msg;
}

/** No timestamp at i: `host prog[pid]: ` or `prog[pid]: ` (sets the program), else i. */
function noStamp(s: string, i: number, out: Shape): number {
  let msg = tagAt(s, i, true, out);
  if (msg < 0) {
    const sp = s.indexOf(" ", i);
    if (sp > i && sp - i <= 255) msg = tagAt(s, sp + 1, true, out);
  }
  return msg < 0 ? i : msg;
}

/**
 * The rare wrappers at the start of the message `out.msgStart` (a `[` or an `m` there, or a
 * program and a `/` 4 characters in): nginx's repeated time, a Solaris `[ID …]` tag, rsyslog's
 * `message repeated N times: [ … ]`. Moves `out.msgStart` (and `out.msgEnd`) past them.
 */
function unwrap(s: string, out: Shape): void {
  let msg = out.msgStart;
  const end = out.msgEnd;
  // nginx logging through syslog repeats its own time: "nginx: 2026/11/24 12:26:41 [error] …"
  if (
    out.progStart >= 0 && s.charCodeAt(msg + 4) === 47 && s.charCodeAt(msg + 7) === 47 &&
    s.charCodeAt(msg + 10) === 32 && s.charCodeAt(msg + 19) === 32 && clockAt(s, msg + 11)
  ) {
    out.ts = Ts.NGINX;
    out.tsStart = msg;
    msg += 20;
  }
  // a kernel time stamp copied into the message: "kernel:[  970.699396]: " / "kernel: [ 1.2] "
  if (s.startsWith("kernel:", msg)) {
    let k = msg + 7;
    if (s.charCodeAt(k) === 32) k++;
    const close = s.charCodeAt(k) === 91 ? s.indexOf("]", k) : -1;
    if (close > 0 && close < k + 24 && /^\[ *\d+\.\d+$/.test(s.slice(k, close))) {
      k = close + 1;
      if (s.charCodeAt(k) === 58) k++;
      if (s.charCodeAt(k) === 32) msg = k + 1;
    }
  }
  // Solaris/illumos syslog: "[ID 800047 auth.info] "
  if (s.startsWith("[ID ", msg)) {
    const close = s.indexOf("] ", msg);
    if (close > 0 && close < msg + 48) msg = close + 2;
  }
  // rsyslog: "message repeated 3 times: [ original]"
  if (s.startsWith("message repeated ", msg) && s.charCodeAt(end - 1) === 93) {
    let k = msg + 17;
    while (k < end && dig(s, k) >= 0) k++;
    if (s.startsWith(" times: [", k)) {
      msg = k + 9;
      if (s.charCodeAt(msg) === 32) msg++;
      out.msgEnd = end - 1;
    }
  }
  out.msgStart = msg;
}

/**
 * Fills `out` for line `s`. Returns false as soon as the line names a program not in `program`
 * (then `out` is incomplete). The common syslog shape is handled here; the others are in
 * functions of their own (`otherStamp`, `noStamp`, `unwrap`), called only for lines that may
 * have them.
 */
export function parseShape(
  s: string,
  out: Shape,
  program?: ProgramSet,
): boolean {
  const n = s.length;
  out.progStart = -1;
  out.progEnd = -1;
  out.ts = Ts.NONE;
  out.tsStart = 0;
  let i = 0;
  let v5424 = false;
  if (s.charCodeAt(0) === 60) { // <PRI>
    let k = 1;
    while (k < 5 && dig(s, k) >= 0) k++;
    if (k > 1 && s.charCodeAt(k) === 62) i = k + 1;
    // RFC 5424: "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG"
    if (i > 0 && s.charCodeAt(i) === 49 && s.charCodeAt(i + 1) === 32 && dig(s, i + 2) >= 0) {
      v5424 = true;
      i += 2;
    }
  }
  const c = s.charCodeAt(i);
  let msg: number;
  if (
    !v5424 && s.charCodeAt(i + 3) === 32 && s.charCodeAt(i + 9) === 58 &&
    s.charCodeAt(i + 12) === 58 &&
    s.charCodeAt(i + 15) === 32 && c >= 65 && c <= 90 &&
    !(dig(s, i + 16) >= 0 && s.charCodeAt(i + 20) === 32 && num4(s, i + 16) >= 1970)
  ) {
    // fast path: "Nov 24 12:26:41 " (month and digits are checked when the time is computed)
    out.ts = Ts.RFC3164;
    out.tsStart = i;
    msg = afterStamp(s, i + 16, out);
  } else msg = otherStamp(s, i, c, v5424, out);
  // a program named after a timestamp is checked here, once (nothing below changes its span)
  let checked = false;
  if (msg >= 0 && out.progStart >= 0 && program) {
    if (!programIn(program, s, out.progStart, out.progEnd)) {
      // under daemontools or runit a service's log holds its stderr, with no program tag: after
      // TAI64N, `name:` without a pid that is not the filter's program is the message's own
      // start (sshd -e: "error: PAM: …", "banner exchange: …")
      if ((out.ts as Ts) !== Ts.TAI64N || s.charCodeAt(out.progEnd) !== 58) return false;
      out.progStart = out.progEnd = -1;
      msg = out.tsStart + 26;
    } else checked = true;
  }
  if (msg < 0) msg = noStamp(s, i, out);
  let end = n;
  while (end > msg) {
    const t = s.charCodeAt(end - 1);
    if (t !== 32 && t !== 9 && t !== 13 && t !== 10) break;
    end--;
  }
  out.msgStart = msg;
  out.msgEnd = end;
  const m0 = s.charCodeAt(msg);
  if (
    m0 === 91 || m0 === 109 || m0 === 107 || (out.progStart >= 0 && s.charCodeAt(msg + 4) === 47)
  ) {
    unwrap(s, out);
  }
  return checked || out.progStart < 0 || !program ||
    programIn(program, s, out.progStart, out.progEnd);
}

/** A fresh `Shape` to reuse. */
export function newShape(): Shape {
  return { msgStart: 0, msgEnd: 0, progStart: -1, progEnd: -1, ts: Ts.NONE, tsStart: 0 };
}

function fracMs(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c !== 46 && c !== 44) return 0;
  let ms = 0, scale = 100;
  for (let j = i + 1; j < i + 4; j++) {
    const d = dig(s, j);
    if (d < 0) break;
    ms += d * scale;
    scale /= 10;
  }
  return ms;
}

function local(y: number, mo: number, d: number, h: number, mi: number, se: number): number {
  return new Date(y, mo, d, h, mi, se).getTime();
}

const DAY_MS = 86_400_000;

/** Year-less local time: the latest year that does not put it more than a day after `now`. */
function inferYear(
  mo: number,
  d: number,
  h: number,
  mi: number,
  se: number,
  nowMs: number,
): number {
  const y = new Date(nowMs).getFullYear();
  const t = local(y, mo, d, h, mi, se);
  return t > nowMs + DAY_MS ? local(y - 1, mo, d, h, mi, se) : t;
}

/**
 * The line's time in ms since the epoch, or null when it has none or it is malformed. Not
 * clamped (the caller clamps to now).
 */
export function shapeTime(s: string, sh: Shape, nowMs: number): number | null {
  const i = sh.tsStart;
  let t: number;
  switch (sh.ts) {
    case Ts.RFC3164: {
      const mo = monthAt(s, i);
      let d = i + 4;
      if (s.charCodeAt(d) === 32) d++;
      let day = dig(s, d);
      let j = d + 1;
      if (dig(s, j) >= 0) day = day * 10 + dig(s, j++);
      const h = num2(s, j + 1), mi = num2(s, j + 4), se = num2(s, j + 7);
      if (mo < 0 || day < 1 || day > 31 || !clockAt(s, j + 1)) return null;
      const k = skipFrac(s, j + 9);
      const ms = fracMs(s, j + 9);
      if (s.charCodeAt(k) === 32 && num4(s, k + 1) >= 1970 && s.charCodeAt(k + 5) === 32) {
        t = local(num4(s, k + 1), mo, day, h, mi, se);
      } else {
        t = inferYear(mo, day, h, mi, se, nowMs);
      }
      t += ms;
      break;
    }
    case Ts.ISO: {
      const y = num4(s, i), mo = num2(s, i + 5) - 1, d = num2(s, i + 8);
      const h = num2(s, i + 11), mi = num2(s, i + 14), se = num2(s, i + 17);
      const ms = fracMs(s, i + 19);
      const k = skipFrac(s, i + 19);
      const z = s.charCodeAt(k);
      if (z === 90) t = Date.UTC(y, mo, d, h, mi, se) + ms;
      else if (z === 43 || z === 45) {
        const oh = num2(s, k + 1);
        const om = s.charCodeAt(k + 3) === 58 ? num2(s, k + 4) : num2(s, k + 3);
        const off = (oh * 60 + om) * 60_000 * (z === 43 ? 1 : -1);
        t = Date.UTC(y, mo, d, h, mi, se) + ms - off;
      } else t = local(y, mo, d, h, mi, se) + ms;
      break;
    }
    case Ts.TAI64N: {
      // label = 2^62 + TAI seconds; TAI is 10 s ahead of UNIX time in libtai's reckoning
      let sec = 0;
      for (let j = i + 9; j < i + 17; j++) sec = sec * 16 + hexAt(s, j);
      let ns = 0;
      for (let j = i + 17; j < i + 25; j++) ns = ns * 16 + hexAt(s, j);
      t = (sec - 10) * 1000 + Math.floor(ns / 1e6);
      break;
    }
    case Ts.UNIX: {
      let sec = 0;
      for (let j = i; j < i + 10; j++) sec = sec * 10 + dig(s, j);
      t = sec * 1000 + fracMs(s, i + 10);
      break;
    }
    case Ts.FULL: {
      const y = num4(s, i + 4), mo = num2(s, i + 9) - 1, d = num2(s, i + 12);
      const h = num2(s, i + 15), mi = num2(s, i + 18), se = num2(s, i + 21);
      // journalctl prints the zone it formats in: UTC/GMT exactly, any other is the local zone
      const utc = s.startsWith("UTC ", i + 24) || s.startsWith("GMT ", i + 24);
      t = utc ? Date.UTC(y, mo, d, h, mi, se) : local(y, mo, d, h, mi, se);
      break;
    }
    case Ts.MONOTONIC:
      return null;
    case Ts.NGINX:
      t = local(
        num4(s, i),
        num2(s, i + 5) - 1,
        num2(s, i + 8),
        num2(s, i + 11),
        num2(s, i + 14),
        num2(s, i + 17),
      );
      break;
    case Ts.CTIME:
    case Ts.APACHE: {
      const mo = monthAt(s, i + 4);
      let d = i + 8;
      if (s.charCodeAt(d) === 32) d++;
      let day = dig(s, d);
      let j = d + 1;
      if (dig(s, j) >= 0) day = day * 10 + dig(s, j++);
      const h = num2(s, j + 1), mi = num2(s, j + 4), se = num2(s, j + 7);
      const ms = fracMs(s, j + 9);
      const k = skipFrac(s, j + 9);
      if (mo < 0 || day < 0 || !clockAt(s, j + 1) || num4(s, k + 1) < 0) return null;
      t = local(num4(s, k + 1), mo, day, h, mi, se) + ms;
      break;
    }
    default: {
      // common log format: `[24/Nov/2026:12:26:41 +0000]` after the first " ["
      const o = s.indexOf(" [", 0) + 2;
      if (o < 2 || o > 300 || s.charCodeAt(o + 2) !== 47 || s.charCodeAt(o + 6) !== 47) return null;
      const mo = monthAt(s, o + 3), z = s.charCodeAt(o + 21);
      if (
        mo < 0 || s.charCodeAt(o + 11) !== 58 || !clockAt(s, o + 12) ||
        s.charCodeAt(o + 20) !== 32 || (z !== 43 && z !== 45) || s.charCodeAt(o + 26) !== 93
      ) return null;
      if (num2(s, o) < 0 || num4(s, o + 7) < 0 || num2(s, o + 22) < 0 || num2(s, o + 24) < 0) {
        return null;
      }
      const off = (num2(s, o + 22) * 60 + num2(s, o + 24)) * 60_000 * (z === 43 ? 1 : -1);
      t = Date.UTC(
        num4(s, o + 7),
        mo,
        num2(s, o),
        num2(s, o + 12),
        num2(s, o + 15),
        num2(s, o + 18),
      ) -
        off;
    }
  }
  return Number.isFinite(t) ? t : null;
}
