/**
 * The pattern language and its compiler into linear-time matchers (see docs/filters.md).
 *
 * Stages: parse the text into atoms (literal, token, `<*>`, `{a|b}` groups) → expand groups into
 * plain variants (the plain texts of a group between literal texts are gathered into set ops,
 * `literalSets`) → check each variant for linear matchability (else `PatternError` with a column)
 * → split each variant at `<*>` into segments of literals and byte-class tokens.
 *
 * Matching a variant against the message `[b, e)`: the first segment is matched left to right at
 * `b`, the last one right to left ending at `e`, so a pattern anchored on the trailing structure of
 * a line (` from <HOST> port <NUM>`) finds it even when attacker text before it repeats that
 * structure. Middle segments are placed leftmost, except the one holding `<HOST>`: every placement
 * of it after its left neighbours and before the last segment is considered (the segments after
 * it only decide whether the pattern matches), and two placements with different addresses make
 * the line ambiguous — no match, rather than a guess that could ban an address an attacker
 * planted.
 * Each step is a bounded scan; no backtracking regular expression runs on log bytes.
 * @module
 */
import { canonicalIp } from "../net/mod.ts";

/** A pattern that cannot be compiled; `column` is 1-based in the pattern text. */
export class PatternError extends SyntaxError {
  /** Always `"PatternError"`. */
  override name = "PatternError";
  /** 1-based column in the pattern text. */
  readonly column: number;
  /** Index of the pattern in its list (set by the filter compiler). */
  patternIndex = 0;
  /** Which list of a user filter the pattern is in. */
  list: "patterns" | "ignore_patterns" = "patterns";
  /** The message without position. */
  readonly reason: string;
  /** An error at 1-based `column` of the pattern text. */
  constructor(column: number, message: string) {
    super(`column ${column}: ${message}`);
    this.column = column;
    this.reason = message;
  }
}

/** Maximum variants one pattern may expand to through `{…|…}` groups. */
export const MAX_VARIANTS = 256;
/** Maximum length of a pattern text. */
export const MAX_PATTERN_LENGTH = 4096;

interface TokenSpec {
  readonly cls: Uint8Array; // 1 = member, for codes 0..255
  readonly wide: boolean; // codes >= 256 are members
  readonly min: number;
  readonly max: number;
  readonly host: boolean;
}

function makeClass(pred: (c: number) => boolean): Uint8Array {
  const a = new Uint8Array(256);
  for (let c = 0; c < 256; c++) a[c] = pred(c) ? 1 : 0;
  return a;
}
const isDigit = (c: number) => c >= 48 && c <= 57;
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const NAME_CHARS = (c: number) => isDigit(c) || isAlpha(c) || c === 46 || c === 95 || c === 45;

/** Token names and their byte classes and length bounds. */
const TOKENS: Record<string, TokenSpec> = {
  HOST: {
    cls: makeClass((c) => isHex(c) || c === 58 || c === 46),
    wide: false,
    min: 2,
    max: 45,
    host: true,
  },
  NUM: { cls: makeClass(isDigit), wide: false, min: 1, max: 20, host: false },
  HEX: { cls: makeClass(isHex), wide: false, min: 1, max: 64, host: false },
  NAME: { cls: makeClass(NAME_CHARS), wide: false, min: 1, max: 255, host: false },
  HOSTNAME: {
    cls: makeClass((c) => NAME_CHARS(c) || c === 58),
    wide: false,
    min: 1,
    max: 255,
    host: false,
  },
  SID: {
    cls: makeClass((c) => isDigit(c) || isAlpha(c) || c === 43 || c === 47 || c === 61),
    wide: false,
    min: 1,
    max: 128,
    host: false,
  },
  WORD: {
    cls: makeClass((c) => c > 32 && c !== 127),
    wide: true,
    min: 1,
    max: 256,
    host: false,
  },
};
TOKENS["ADDR"] = TOKENS["HOST"]!;
TOKENS["USER"] = TOKENS["WORD"]!;
const TOKEN_NAMES = "<HOST> <ADDR> <*> <NUM> <HEX> <NAME> <HOSTNAME> <SID> <WORD> <USER>";

/** A token op: a run of its byte class. */
type Tok = Extract<Op, { readonly set: null }>;
function isTok(op: Op | null | undefined): op is Tok {
  return op !== null && op !== undefined && !op.lit && op.set === null;
}

/** Compiled element of a segment. */
export type Op =
  | { readonly lit: true; readonly s: string }
  | {
    /**
     * A `{…|…}` group of plain texts (see `literalSets`): exactly one of them, at most one of
     * which can match in any one place, so the group is one step instead of one variant each.
     */
    readonly lit: false;
    readonly set: readonly string[];
    /** No text ends another, so the set can be matched right to left as well. */
    readonly suffixFree: boolean;
  }
  | {
    readonly lit: false;
    readonly set: null;
    readonly name: string;
    readonly cls: Uint8Array;
    readonly wide: boolean;
    readonly min: number;
    readonly max: number;
    readonly host: boolean;
    /** For `<HOST>` matched left to right and followed by `:`/`.`: split at the last one. */
    readonly split: number;
  };

/** One expanded, checked variant of a pattern. */
export interface Variant {
  readonly segs: readonly (readonly Op[])[];
  /** Segment holding `<HOST>`, or -1 (ignore patterns may have none). */
  readonly hostSeg: number;
  /** Char code the message must start with, or -1 when the first segment starts with a token. */
  readonly first: number;
  /** Upper bound of scan steps per position of the line, for the step-bound test. */
  readonly stepFactor: number;
  /** When the first segment starts with a token then text: the text's first character. */
  readonly needChar: string;
}

type Atom =
  | { k: "lit"; s: string; col: number }
  | { k: "set"; options: readonly string[]; suffixFree: boolean; col: number }
  | { k: "tok"; name: string; col: number }
  | { k: "skip"; col: number };
type Part = Atom | { k: "alt"; options: Part[][]; col: number };

function parse(text: string): Part[] {
  // stack of open groups: the options of each, and the column of its '{'
  const root: Part[] = [];
  const stack: { options: Part[][]; col: number }[] = [];
  const cur = (): Part[] => {
    const top = stack[stack.length - 1];
    return top ? top.options[top.options.length - 1]! : root;
  };
  for (let i = 0; i < text.length;) {
    const ch = text[i]!;
    const col = i + 1;
    if (ch === "\\") {
      const next = text[i + 1];
      if (next === undefined) throw new PatternError(col, "expected a character after '\\'");
      cur().push({ k: "lit", s: next, col });
      i += 2;
      continue;
    }
    if (ch === "<") {
      const m = /^<([A-Z]+|\*)>/.exec(text.slice(i, i + 16));
      if (m) {
        const name = m[1]!;
        if (name === "*") cur().push({ k: "skip", col });
        else if (name in TOKENS) {
          cur().push({ k: "tok", name: name === "ADDR" ? "HOST" : name, col });
        } else {
          throw new PatternError(col, `expected one of ${TOKEN_NAMES}, found <${name}>`);
        }
        i += m[0].length;
        continue;
      }
    }
    if (ch === "{") {
      if (stack.length >= 4) {
        throw new PatternError(col, "expected at most 4 nested '{', found more");
      }
      stack.push({ options: [[]], col });
      i++;
      continue;
    }
    if (ch === "|" && stack.length > 0) {
      stack[stack.length - 1]!.options.push([]);
      i++;
      continue;
    }
    if (ch === "}" && stack.length > 0) {
      const g = stack.pop()!;
      cur().push({ k: "alt", options: g.options, col: g.col });
      i++;
      continue;
    }
    cur().push({ k: "lit", s: ch, col });
    i++;
  }
  const open = stack.pop();
  if (open) throw new PatternError(open.col, "expected '}' to close this '{', found the end");
  return root;
}

/**
 * True when every expansion of `parts[0, i)` ends with literal text (`before`: whether what comes
 * before `parts` does, for an expansion that is empty).
 */
function litBefore(parts: Part[], i: number, before: boolean): boolean {
  const prev = parts[i - 1];
  if (prev === undefined) return before;
  if (prev.k === "lit") return true;
  if (prev.k !== "alt") return false;
  const left = litBefore(parts, i - 1, before);
  return prev.options.every((o) => litBefore(o, o.length, left));
}

/**
 * What comes right after a part in every expansion: "text" (literal text or `<*>`), "end" (that
 * or, in some expansion, the pattern's end), or "other" (a token or a set, in some expansion).
 */
type After = "end" | "text" | "other";

/** What comes after `parts[i]` (`after`: what comes after `parts`); `i` -1 asks for `parts`. */
function follows(parts: Part[], i: number, after: After): After {
  const next = parts[i + 1];
  if (next === undefined) return after;
  if (next.k === "lit" || next.k === "skip") return "text";
  if (next.k !== "alt") return "other";
  const right = follows(parts, i + 1, after);
  let out: After = "text";
  for (const o of next.options) {
    const f = follows(o, -1, right);
    if (f === "other") return "other";
    if (f === "end") out = "end";
  }
  return out;
}

/**
 * The options of group `p` with its plain texts gathered into sets, or null when no two can be.
 * A set is one op that reads whichever of its texts the line holds. Its texts are plain (no token,
 * `<*>` or group), none empty, none the start of another, so at most one matches at a place read
 * left to right. The caller has checked that literal text comes right before the group in every
 * expansion (`litBefore`); `follow` says what comes after it, which must be literal text, `<*>` or
 * the pattern's end. So a set never starts a segment, never touches a token, and matches what its
 * expansion would. The plain texts are dealt in order into the first set none of whose texts
 * starts one or is started by one: `{a|ab|b}` is two options, `{a|b}` and `ab`. The other options
 * stay as they are. A set some text of which ends another cannot be read right to left: `build`
 * has the pattern expanded where it would be.
 */
function literalSets(p: Extract<Part, { k: "alt" }>, follow: After): Part[][] | null {
  if (follow === "other") return null;
  const out: { raw: Part[]; texts: string[] }[] = [];
  for (const o of p.options) {
    const plain = o.length > 0 && o.every((a) => a.k === "lit");
    const text = plain ? o.map((a) => (a as { s: string }).s).join("") : "";
    // (trailing blanks are trimmed: such a text ends the pattern as a literal)
    if (!plain || (follow === "end" && /[ \t]$/.test(text))) {
      out.push({ raw: o, texts: [] });
      continue;
    }
    if (out.some((x) => x.texts.includes(text))) continue; // the same text again adds nothing
    const home = out.find((x) =>
      x.texts.length > 0 && x.texts.every((t) => !t.startsWith(text) && !text.startsWith(t))
    );
    if (home === undefined) out.push({ raw: o, texts: [text] });
    else home.texts.push(text);
  }
  if (out.every((x) => x.texts.length < 2)) return null;
  return out.map(({ raw, texts }) => {
    if (texts.length < 2) return raw;
    const suffixFree = texts.every((a, m) => texts.every((b, n) => m === n || !b.endsWith(a)));
    return [{ k: "set", options: texts, suffixFree, col: p.col }];
  });
}

function expand(parts: Part[], sets: boolean, before = false, after: After = "end"): Atom[][] {
  let out: Atom[][] = [[]];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.k !== "alt") {
      for (const v of out) v.push(p);
      continue;
    }
    // (what surrounds the group matters only when sets are made)
    const left = sets && litBefore(parts, i, before);
    const follow = sets ? follows(parts, i, after) : "other";
    const opts: Atom[][] = [];
    for (const o of (left ? literalSets(p, follow) : null) ?? p.options) {
      opts.push(...expand(o, sets, left, follow));
    }
    const grown: Atom[][] = [];
    for (const v of out) {
      for (const o of opts) {
        grown.push([...v, ...o]);
        if (grown.length > MAX_VARIANTS) {
          throw new PatternError(
            p.col,
            `expected at most ${MAX_VARIANTS} combinations of {…|…} groups, found more`,
          );
        }
      }
    }
    out = grown;
  }
  return out;
}

function inClass(op: Tok, c: number): boolean {
  return c < 256 ? op.cls[c] === 1 : op.wide;
}

function overlap(a: Tok, b: Tok): boolean {
  if (a.wide && b.wide) return true;
  for (let c = 0; c < 256; c++) if (a.cls[c] === 1 && b.cls[c] === 1) return true;
  return false;
}

function show(c: number): string {
  return JSON.stringify(String.fromCharCode(c));
}

/** One op of a variant with its column in the pattern text; `op` null stands for `<*>`. */
type Placed = { op: Op | null; col: number };

/**
 * The atoms of one expanded variant as ops: adjacent literals merged (keeping the first column),
 * trailing whitespace dropped; throws on `<*><*>`.
 */
function placeAtoms(atoms: Atom[]): Placed[] {
  const seq: Placed[] = [];
  for (const a of atoms) {
    const last = seq[seq.length - 1];
    if (a.k === "lit") {
      if (last && last.op && last.op.lit) last.op = { lit: true, s: last.op.s + a.s };
      else seq.push({ op: { lit: true, s: a.s }, col: a.col });
    } else if (a.k === "skip") {
      if (last && last.op === null) {
        throw new PatternError(a.col, "expected text or a token between two <*>, found <*><*>");
      }
      seq.push({ op: null, col: a.col });
    } else if (a.k === "set") {
      seq.push({ op: { lit: false, set: a.options, suffixFree: a.suffixFree }, col: a.col });
    } else {
      const t = TOKENS[a.name]!;
      seq.push({
        op: { lit: false, set: null, name: a.name, ...t, split: -1 },
        col: a.col,
      });
    }
  }
  // trailing whitespace is not significant (lines are trimmed too)
  const tail = seq[seq.length - 1];
  if (tail && tail.op && tail.op.lit) {
    const s = tail.op.s.replace(/[ \t]+$/, "");
    if (s === "") seq.pop();
    else tail.op = { lit: true, s };
  }
  return seq;
}

/**
 * Thrown by `build` when a literal set would have to be read right to left and cannot (some text of
 * it ends another), or would end a segment placed rightmost (whose last op leads the search): the
 * pattern is compiled again with every group expanded.
 */
const EXPAND_SETS = new Error("a literal set where it cannot be read as one op");

/** Checks one expanded variant and splits it into segments. */
function build(atoms: Atom[], needHost: boolean, textLen: number): Variant {
  const seq = placeAtoms(atoms);
  if (seq.length === 0) throw new PatternError(1, "expected a pattern, found nothing");
  const hosts = seq.filter((a) => isTok(a.op) && a.op.host);
  if (needHost && hosts.length === 0) {
    throw new PatternError(
      Math.max(1, textLen),
      "expected exactly one <HOST> (or <ADDR>) for the source address, found none",
    );
  }
  if (hosts.length > 1) {
    throw new PatternError(
      hosts[1]!.col,
      "expected exactly one <HOST> (or <ADDR>), found a second one",
    );
  }
  // <*> must touch literal text (or the pattern's ends)
  for (let k = 0; k < seq.length; k++) {
    if (seq[k]!.op !== null) continue;
    const prev = seq[k - 1], next = seq[k + 1];
    if (prev && isTok(prev.op)) {
      throw new PatternError(
        seq[k]!.col,
        `expected literal text between <${prev.op.name}> and <*>, found none (where one ends and the other starts would be ambiguous)`,
      );
    }
    if (next && isTok(next.op)) {
      throw new PatternError(
        next.col,
        `expected literal text between <*> and <${next.op.name}>, found none (where one ends and the other starts would be ambiguous)`,
      );
    }
  }
  // split into segments
  const segs: { op: Op; col: number }[][] = [[]];
  for (const a of seq) {
    if (a.op === null) segs.push([]);
    else segs[segs.length - 1]!.push({ op: a.op, col: a.col });
  }
  const n = segs.length;
  let hostSeg = -1;
  segs.forEach((seg, si) => {
    const l2r = si === 0 || si < n - 1 || n === 1; // matched left to right somewhere
    const r2l = si > 0; // matched right to left (last, or placed rightmost in the middle)
    for (let k = 0; k < seg.length; k++) {
      const { op, col } = seg[k]!;
      if (!isTok(op)) continue; // literal sets touch literal text only (`literalSets`)
      if (op.host) hostSeg = si;
      const prev = seg[k - 1]?.op, next = seg[k + 1]?.op;
      if (isTok(prev) && overlap(prev, op)) {
        throw new PatternError(
          col,
          `expected literal text between <${prev.name}> and <${op.name}>, found none (their characters overlap)`,
        );
      }
      if (next && next.lit) {
        const c = next.s.charCodeAt(0);
        if (inClass(op, c)) {
          if (op.host && (c === 58 || c === 46)) {
            // left to right: split the run at its last ':'/'.' (an address followed by a port);
            // right to left the literal is matched first and needs no split
            seg[k] = { op: { ...op, split: l2r ? c : -1, max: op.max + 6 }, col };
          } else {
            throw new PatternError(
              col,
              `expected the text after <${op.name}> to start with a character it cannot contain, found ${
                show(c)
              }`,
            );
          }
        }
      }
      if (prev && prev.lit && r2l) {
        const c = prev.s.charCodeAt(prev.s.length - 1);
        if (inClass(op, c)) {
          throw new PatternError(
            col,
            `expected the text before <${op.name}> to end with a character it cannot contain, found ${
              show(c)
            }`,
          );
        }
      }
    }
  });
  // right to left: the last segment, and those between the address segment and it (`rightmost`)
  const rtl = (si: number) => n > 1 && (si === n - 1 || (hostSeg > 0 && si > hostSeg));
  segs.forEach((seg, si) => {
    if (!rtl(si)) return;
    seg.forEach(({ op }, k) => {
      const leads = si < n - 1 && k === seg.length - 1; // `rightmost` searches for its last op
      if (!op.lit && op.set && (!op.suffixFree || leads)) throw EXPAND_SETS;
    });
  });
  const first0 = segs[0]![0]?.op;
  const first = first0 && first0.lit ? first0.s.charCodeAt(0) : -1;
  let stepFactor = 3;
  for (const seg of segs) {
    let span = 2;
    for (const { op } of seg) span += opSpan(op);
    stepFactor += span;
  }
  const seg0 = segs[0]!;
  const next0 = seg0[1]?.op;
  const needChar = isTok(first0) && next0 && next0.lit ? next0.s[0]! : "";
  return {
    segs: segs.map((s) => internSeg(s.map((x) => x.op))),
    hostSeg,
    first,
    stepFactor,
    needChar,
  };
}

/**
 * Segments, and the ops in them, shared by every variant that has the same ones: the variants of
 * a filter repeat most of their text (dovecot's 1,580 share a few hundred segments), and each copy
 * cost about 2 KiB of the parser Worker's 12 MiB heap. Cleared when it grows past
 * `INTERN_MAX` (user filters change on reload).
 */
const interned = new Map<string, readonly Op[]>();
const INTERN_MAX = 50_000;
function opKey(op: Op): string {
  if (op.lit) return `l${op.s}`;
  return op.set ? `s${op.set.join("\u0000")}` : `t${op.name}\u0000${op.split}\u0000${op.max}`;
}

/** The most scan steps one op takes at one place (a set tries each of its texts). */
function opSpan(op: Op): number {
  if (op.lit) return op.s.length;
  return op.set ? op.set.reduce((sum, x) => sum + x.length, 0) : op.max + 1;
}
function internSeg(seg: Op[]): readonly Op[] {
  if (interned.size > INTERN_MAX) interned.clear();
  const key = seg.map(opKey).join("\u0001");
  const have = interned.get(key);
  if (have !== undefined) return have;
  const ops = seg.map((op) => {
    const k = `\u0002${opKey(op)}`;
    const one = interned.get(k);
    if (one !== undefined) return one[0]!;
    const flat: Op = op.lit ? { lit: true, s: k.slice(2) } : op;
    interned.set(k, [flat]);
    return flat;
  });
  interned.set(key, ops);
  return ops;
}

/**
 * Checks that a pattern text compiles (what `compilePattern` accepts) without handing out its
 * compiled form; throws `PatternError` with a 1-based column when it does not. `needHost`: failure
 * patterns need exactly one `<HOST>`; ignore patterns may have none.
 */
export function checkPattern(text: string, needHost = true): void {
  compilePattern(text, needHost);
}

/**
 * Compiles one pattern text into its variants; throws `PatternError` (with a 1-based column) when
 * the text is malformed or could not be matched in linear time. `needHost`: failure patterns need
 * exactly one `<HOST>`; ignore patterns may have none.
 */
export function compilePattern(text: string, needHost = true): Variant[] {
  if (text.length > MAX_PATTERN_LENGTH) {
    throw new PatternError(
      MAX_PATTERN_LENGTH,
      `expected at most ${MAX_PATTERN_LENGTH} characters, found ${text.length}`,
    );
  }
  const parts = parse(text);
  try {
    return expand(parts, true).map((atoms) => build(atoms, needHost, text.length));
  } catch (e) {
    if (e !== EXPAND_SETS) throw e;
    return expand(parts, false).map((atoms) => build(atoms, needHost, text.length));
  }
}

// ---- matching -------------------------------------------------------------------------------

/**
 * Scan steps taken by every filter so far, for the fuzz tests' linear-bound check: an instrument
 * counter, the matcher's one module-level variable (results live in each filter's `MatchState`).
 */
let steps = 0;
/** Returns and resets the step counter. */
export function takeSteps(): number {
  const s = steps;
  steps = 0;
  return s;
}

/**
 * What matching one line leaves behind, for the filter that matches it: the address of the last
 * `MATCHED` result and where it lies, why the last `NO_MATCH` failed (so the next variant can be
 * skipped when it would fail the same way), and the scan and address memos of the current line.
 * Each filter owns one; `newLine()` before the variants of a line are tried.
 */
export class MatchState {
  /** Canonical address of the last `MATCHED` result (null for a host-less ignore pattern). */
  found: string | null = null;
  /** Where the address of the last `MATCHED` result starts in the line. */
  spanS = -1;
  /** Where the address of the last `MATCHED` result ends in the line. */
  spanE = -1;
  /**
   * After `NO_MATCH`: the index of the first-segment op that failed, or 1e9 when the failure lay
   * elsewhere. A following variant whose first segment shares more leading ops with the failed
   * one fails the same way and can be skipped.
   */
  seg0Fail = 1e9;
  /**
   * After `NO_MATCH` with `seg0Fail < 1e9`: when that op is a literal, the index of its first
   * character that differs from the line (or lies past the message end), else -1; the literal is
   * `seg0Lit`. Any literal in the same place that agrees with it up to and including that index
   * fails there too.
   */
  seg0At = -1;
  /** The literal `seg0At` refers to. */
  seg0Lit = "";
  /** True when the last `matchVariant` failed because the line lacks its `needChar`. */
  needMissing = false;
  // the address capture of the scan in progress
  capS = -1;
  capE = -1;
  /** The op index, literal and first mismatch (-1: a token) where the last failed `l2r` stopped. */
  failOp = 1e9;
  failLit = "";
  failAt = -1;
  // the last token scan of this line: a sibling variant scanning the same class from the same place
  memoAt = -1;
  memoLim = -1;
  memoEnd = -1;
  memoCls: Uint8Array | null = null;
  // the last address read in this line (variants of a filter often read the same span)
  memoHostS = -1;
  memoHostE = -1;
  memoHost: string | null = null;

  /** Forgets the memos of the previous line; call before matching a new line. */
  newLine(): void {
    this.memoAt = -1;
    this.memoHostS = -1;
  }
}

/** True when two ops match exactly the same text. */
export function sameOp(a: Op, b: Op): boolean {
  if (a.lit || b.lit) return a.lit && b.lit && a.s === b.s;
  if (a.set || b.set) return a.set !== null && b.set !== null && opKey(a) === opKey(b);
  return a.cls === b.cls && a.max === b.max && a.min === b.min && a.split === b.split &&
    a.host === b.host;
}

/** The length of the text of `set` that `s` holds at `p` (ending by `e`), or -1. */
function setAt(set: readonly string[], s: string, p: number, e: number): number {
  const c = s.charCodeAt(p);
  for (let i = 0; i < set.length; i++) {
    const x = set[i]!;
    steps += 1;
    if (x.charCodeAt(0) !== c || p + x.length > e) continue;
    steps += x.length;
    if (s.startsWith(x, p)) return x.length;
  }
  return -1;
}

/** The length of the text of `set` that `s` holds ending at `q` (starting at `b` or later), or -1. */
function setBefore(set: readonly string[], s: string, b: number, q: number): number {
  for (let i = 0; i < set.length; i++) {
    const x = set[i]!;
    steps += x.length;
    if (q - x.length >= b && s.startsWith(x, q - x.length)) return x.length;
  }
  return -1;
}

function l2r(m: MatchState, ops: readonly Op[], s: string, p: number, e: number): number {
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k]!;
    if (op.lit) {
      const L = op.s;
      const n = L.length;
      steps += n;
      let same = 0;
      while (same < n && p + same < e && s.charCodeAt(p + same) === L.charCodeAt(same)) same++;
      if (same < n) {
        m.failOp = k;
        m.failLit = L;
        m.failAt = same;
        return -1;
      }
      p += n;
      continue;
    }
    m.failAt = -1; // a token or set failure (set before any return below)
    if (op.set) {
      const n = setAt(op.set, s, p, e);
      if (n < 0) {
        m.failOp = k;
        m.failLit = "";
        return -1;
      }
      p += n;
      continue;
    }
    const st = p;
    const lim = Math.min(e, p + op.max);
    if (st === m.memoAt && op.cls === m.memoCls && lim === m.memoLim) {
      p = m.memoEnd; // the same class scanned from the same place in this line (a sibling variant)
    } else {
      while (p < lim) {
        const c = s.charCodeAt(p);
        if (c < 256 ? op.cls[c] === 0 : !op.wide) break;
        p++;
      }
      steps += p - st + 1;
      m.memoAt = st;
      m.memoCls = op.cls;
      m.memoLim = lim;
      m.memoEnd = p;
    }
    if (p === lim && p < e) {
      const c = s.charCodeAt(p);
      if (c < 256 ? op.cls[c] === 1 : op.wide) {
        m.failOp = k;
        return -1;
      } // longer than the token allows
    }
    if (op.split >= 0) {
      let q = p - 1;
      while (q >= st && s.charCodeAt(q) !== op.split) q--;
      steps += p - q;
      if (q < st) {
        m.failOp = k;
        return -1;
      }
      p = q;
    }
    if (p - st < op.min) {
      m.failOp = k;
      return -1;
    }
    if (op.host) {
      m.capS = st;
      m.capE = p;
    }
  }
  return p;
}

function r2l(m: MatchState, ops: readonly Op[], s: string, q: number, b: number): number {
  for (let k = ops.length - 1; k >= 0; k--) {
    const op = ops[k]!;
    if (op.lit) {
      const L = op.s;
      steps += L.length;
      if (q - L.length < b || !s.startsWith(L, q - L.length)) return -1;
      q -= L.length;
      continue;
    }
    if (op.set) {
      const n = setBefore(op.set, s, b, q);
      if (n < 0) return -1;
      q -= n;
      continue;
    }
    const st = q;
    const lim = Math.max(b, q - op.max);
    while (q > lim) {
      const c = s.charCodeAt(q - 1);
      if (c < 256 ? op.cls[c] === 0 : !op.wide) break;
      q--;
    }
    steps += st - q + 1;
    if (q === lim && q > b) {
      const c = s.charCodeAt(q - 1);
      if (c < 256 ? op.cls[c] === 1 : op.wide) return -1;
    }
    if (st - q < op.min) return -1;
    if (op.host) {
      m.capS = q;
      m.capE = st;
    }
  }
  return q;
}

/** Leftmost placement of a middle segment (starts with a literal) inside `[p, q)`: its end. */
function leftmost(m: MatchState, ops: readonly Op[], s: string, p: number, q: number): number {
  const lead = (ops[0] as { s: string }).s;
  let pos = s.indexOf(lead, p);
  while (pos >= 0 && pos + lead.length <= q) {
    steps += pos - p + 1;
    const r = l2r(m, ops, s, pos, q);
    if (r >= 0) return r;
    p = pos + 1;
    pos = s.indexOf(lead, p);
  }
  steps += q - p + 1;
  return -1;
}

/** Rightmost placement of a middle segment (ends with a literal) inside `[p, q)`: its start. */
function rightmost(m: MatchState, ops: readonly Op[], s: string, p: number, q: number): number {
  const lead = (ops[ops.length - 1] as { s: string }).s;
  let pos = s.lastIndexOf(lead, q - lead.length);
  while (pos >= p) {
    steps += q - pos + 1;
    const r = r2l(m, ops, s, pos + lead.length, p);
    if (r >= 0) return r;
    q = pos + lead.length - 1;
    if (q - lead.length < p) break;
    pos = s.lastIndexOf(lead, q - lead.length);
  }
  steps += q - p + 1;
  return -1;
}

/** Result of matching: no match. */
export const NO_MATCH = 0;
/** Result of matching: matched; the address is in the state's `found` (null for ignore patterns). */
export const MATCHED = 1;
/** Result of matching: the address position is ambiguous (decoy); treat the line as no match. */
export const AMBIGUOUS = 2;

/** 1 at the codes of the characters an address is written with: hex digits, `.` and `:`. */
const ADDR_CHAR = makeClass((c) => isHex(c) || c === 58 || c === 46);
function addrChar(c: number): boolean {
  return c < 256 && ADDR_CHAR[c] === 1;
}
/**
 * True when a run with `dots`, `colons` and a `::` (`double`) may be an address: an IPv4 one has 3
 * dots, an IPv6 one a `::` or 7 colons, or 6 and an IPv4 tail (a clock has 2).
 */
function mayBeAddress(dots: number, colons: number, double: boolean): boolean {
  return dots >= 3 || double || colons >= 7;
}

/**
 * True when `s[b, e)` holds an address-shaped run other than the one `[as, ae)` was read from, or
 * when that run could be read another way (`[as, ae)` is only part of it, or it is the whole run
 * and the run up to its last `:` or `.` is an address too): only then can another reading of the
 * line give another address. A run is a maximal stretch of hex digits, `.` and `:`
 * that parses as an address whole or up to its last `:` or `.`.
 */
export function otherAddressIn(s: string, b: number, e: number, as: number, ae: number): boolean {
  let i = b;
  while (i < e) {
    if (!addrChar(s.charCodeAt(i))) {
      i++;
      continue;
    }
    const x = i;
    let dots = 0, colons = 0, double = false;
    while (i < e && addrChar(s.charCodeAt(i))) {
      const c = s.charCodeAt(i);
      if (c === 46) dots++;
      else if (c === 58) {
        if (s.charCodeAt(i - 1) === 58) double = true;
        colons++;
      }
      i++;
    }
    steps += i - x;
    if (x <= as && ae <= i) {
      if (x !== as || i !== ae) return true;
      // read whole, the run may still split into an address and a port (`2001:db8::1:4242`) for
      // another pattern's `<HOST>:<NUM>` (a part with too few separators cannot be one)
      if (colons > 0 && mayBeAddress(dots, colons - 1, double)) {
        const c = s.lastIndexOf(":", i - 1);
        if (c > x && canonicalIp(s.slice(x, c)) !== null) return true;
      }
      if (dots > 0 && mayBeAddress(dots - 1, colons, double)) {
        const d = s.lastIndexOf(".", i - 1);
        if (d > x && canonicalIp(s.slice(x, d)) !== null) return true;
      }
      continue;
    }
    if (!mayBeAddress(dots, colons, double)) continue;
    const run = s.slice(x, i);
    if (canonicalIp(run) !== null) return true;
    const c = run.lastIndexOf(":"), d = run.lastIndexOf(".");
    if (c > 0 && canonicalIp(run.slice(0, c)) !== null) return true;
    if (d > 0 && canonicalIp(run.slice(0, d)) !== null) return true;
  }
  return false;
}
function hostOf(m: MatchState, s: string): string | null {
  const capS = m.capS, capE = m.capE;
  if (capS < 0) return null;
  if (capS === m.memoHostS && capE === m.memoHostE) return m.memoHost;
  const ip = canonicalIp(s.slice(capS, capE));
  m.memoHostS = capS;
  m.memoHostE = capE;
  m.memoHost = ip === null || ip.length < 13 ? ip : unpinned(ip);
  return m.memoHost;
}

/**
 * The same text without a reference to the line: V8 keeps a slice of 13 or more characters as a
 * view of its parent, so an address canonicalIp returns as is (a dotted quad) would keep the whole
 * line alive, and with it `filter test`'s 256 KiB read chunk while the result is queued (measured:
 * peak RSS 80 -> 100-120 MiB on the 1,000,000-line bench log). Two short slices are copies.
 */
function unpinned(ip: string): string {
  return ip.slice(0, 8) + ip.slice(8);
}

/**
 * Matches one variant against the message `s[b, e)`. Returns `NO_MATCH`, `MATCHED` (address via
 * `m.found`) or `AMBIGUOUS`; what it found or why it failed is left in `m`.
 */
export function matchVariant(m: MatchState, v: Variant, s: string, b: number, e: number): number {
  const segs = v.segs;
  const n = segs.length;
  m.capS = -1;
  m.found = null;
  m.needMissing = false;
  m.seg0At = -1;
  if (v.needChar !== "") {
    // a leading token must be followed by this character: cheap native search first
    steps += e - b + 1;
    if (s.indexOf(v.needChar, b) < 0) {
      m.seg0Fail = 1;
      m.needMissing = true;
      return NO_MATCH;
    }
  }
  if (n === 1) {
    const end = l2r(m, segs[0]!, s, b, e);
    if (end !== e) {
      m.seg0Fail = end >= 0 ? 1e9 : m.failOp;
      if (end < 0) {
        m.seg0Lit = m.failLit;
        m.seg0At = m.failAt;
      }
      return NO_MATCH;
    }
    if (v.hostSeg < 0) return MATCHED;
    m.found = hostOf(m, s);
    m.spanS = m.capS;
    m.spanE = m.capE;
    return m.found === null ? NO_MATCH : MATCHED;
  }
  let p = l2r(m, segs[0]!, s, b, e);
  if (p < 0) {
    m.seg0Fail = m.failOp;
    m.seg0Lit = m.failLit;
    m.seg0At = m.failAt;
    return NO_MATCH;
  }
  m.seg0Fail = 1e9;
  let hs = m.capS, he = m.capE;
  let q = r2l(m, segs[n - 1]!, s, e, p);
  if (q < 0) return NO_MATCH;
  if (v.hostSeg === n - 1) {
    hs = m.capS;
    he = m.capE;
  }
  const h = v.hostSeg;
  if (h <= 0 || h === n - 1) {
    for (let i = 1; i < n - 1; i++) {
      p = leftmost(m, segs[i]!, s, p, q);
      if (p < 0) return NO_MATCH;
    }
    if (h < 0) return MATCHED;
    m.capS = hs;
    m.capE = he;
    m.found = hostOf(m, s);
    m.spanS = m.capS;
    m.spanE = m.capE;
    return m.found === null ? NO_MATCH : MATCHED;
  }
  for (let i = 1; i < h; i++) {
    p = leftmost(m, segs[i]!, s, p, q);
    if (p < 0) return NO_MATCH;
  }
  // The segments after the address bound where a placement may end for the pattern to match
  // (rightmost chain), but not which placements are considered: every placement of the address
  // segment up to the anchored last segment counts, so attacker text before the real field that
  // copies its structure (and whatever follows it) makes the line ambiguous instead of capping
  // the search before the real field.
  const qAll = q;
  for (let i = n - 2; i > h; i--) {
    q = rightmost(m, segs[i]!, s, p, q);
    if (q < 0) return NO_MATCH;
  }
  // every placement of the address segment between p and the last segment
  const seg = segs[h]!;
  const lead = (seg[0] as { s: string }).s;
  let result: string | null = null;
  let fits = false;
  let from = p;
  let pos = s.indexOf(lead, from);
  while (pos >= 0 && pos + lead.length <= qAll) {
    steps += pos - from + 1;
    const r = l2r(m, seg, s, pos, qAll);
    if (r >= 0) {
      const ip = hostOf(m, s);
      if (ip !== null) {
        if (result !== null && result !== ip) {
          m.found = null;
          return AMBIGUOUS;
        }
        result = ip;
        m.spanS = m.capS;
        m.spanE = m.capE;
        if (r <= q) fits = true;
      }
    }
    from = pos + 1;
    pos = s.indexOf(lead, from);
  }
  if (!fits) result = null;
  m.found = result;
  return result === null ? NO_MATCH : MATCHED;
}
