import assert from "node:assert/strict";
import {
  bytesToWords,
  formatWords,
  isNeverBannableWords,
  maskWords,
  parseIpWords,
  wordsToBytes,
} from "./words.ts";

// The accepted and rejected spellings are tested through canonicalIp/parseIp in ip_test.ts (the
// same codec); here: the word form itself, and a fuzz test of parse/format.

const w = new Uint32Array(4);

Deno.test("parseIpWords() writes at an offset; wordsToBytes() and bytesToWords() invert each other", () => {
  const buf = new Uint32Array(12);
  assert.equal(parseIpWords("2001:db8::1:2", buf, 4), 6);
  assert.deepEqual([...buf.subarray(4, 8)], [0x20010db8, 0, 0, 0x10002]);
  assert.equal(formatWords(buf, 4), "2001:db8::1:2");
  assert.deepEqual([...wordsToBytes(buf, 4)], [32, 1, 13, 184, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]);
  assert.equal(parseIpWords("::ffff:192.0.2.1", buf, 8), 4);
  assert.deepEqual([...wordsToBytes(buf, 8)], [192, 0, 2, 1]);
  bytesToWords(Uint8Array.from([192, 0, 2, 1]), w);
  assert.deepEqual([...w], [0, 0, 0xffff, 0xc0000201]);
  bytesToWords(wordsToBytes(buf, 4), w);
  assert.deepEqual([...w], [...buf.subarray(4, 8)]);
  assert.deepEqual([...buf.subarray(0, 4)], [0, 0, 0, 0], "nothing written before the offset");
});

Deno.test("maskWords() keeps the network bits; never-bannable covers loopback and unspecified", () => {
  parseIpWords("2001:db8:1:2:3:4:5:6", w);
  maskWords(w, 0, 64);
  assert.equal(formatWords(w), "2001:db8:1:2::");
  parseIpWords("2001:db8:1:2:3:4:5:6", w);
  maskWords(w, 0, 50);
  assert.equal(formatWords(w), "2001:db8:1::");
  for (const ip of ["127.0.0.1", "0.0.0.0", "::", "::1"]) {
    parseIpWords(ip, w);
    assert.ok(isNeverBannableWords(w), ip);
  }
  for (const ip of ["128.0.0.1", "::2", "1.0.0.0"]) {
    parseIpWords(ip, w);
    assert.ok(!isNeverBannableWords(w), ip);
  }
});

/** A deterministic [0, n) source (LCG), so a failure names a reproducible case. */
function random(seed: number): (n: number) => number {
  let x = seed >>> 0;
  return (n) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
}

/** Random words: IPv4, or IPv6 whose groups are often zero (so `::` runs of every length). */
function randomWords(r: (n: number) => number): Uint32Array {
  const out = new Uint32Array(4);
  if (r(3) === 0) {
    out.set([0, 0, 0xffff, ((r(256) << 24) | (r(65536) << 8) | r(256)) >>> 0]);
    return out;
  }
  for (let q = 0; q < 4; q++) {
    const g = () => (r(2) === 0 ? 0 : r(3) === 0 ? r(16) : r(0x10000));
    out[q] = ((g() << 16) | g()) >>> 0;
  }
  if (out[0] === 0 && out[1] === 0 && out[2] === 0xffff) out[2] = 0xfffe; // not IPv4 by chance
  return out;
}

function groupsOf(x: Uint32Array): number[] {
  return [...x].flatMap((v) => [v >>> 16, v & 0xffff]);
}

/** The canonical text by RFC 5952, written out independently of formatWords. */
function rfc5952(x: Uint32Array): string {
  if (x[0] === 0 && x[1] === 0 && x[2] === 0xffff) {
    const v = x[3]!;
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".");
  }
  const g = groupsOf(x);
  let best = -1, bestLen = 1; // the longest run of two or more zero groups, the first on a tie
  for (let i = 0; i < 8; i++) {
    let n = 0;
    while (i + n < 8 && g[i + n] === 0) n++;
    if (n > bestLen) [best, bestLen] = [i, n];
  }
  const hex = (a: number[]) => a.map((v) => v.toString(16)).join(":");
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** Another valid spelling of the same address: case, leading zeros, any `::`, a dotted tail. */
function respelled(x: Uint32Array, r: (n: number) => number): string {
  const g = groupsOf(x);
  const v4 = x[0] === 0 && x[1] === 0 && x[2] === 0xffff;
  const hex = (v: number) => {
    const s = v.toString(16).padStart(1 + r(4), "0").slice(-4);
    return r(2) === 0 ? s.toUpperCase() : s;
  };
  let parts = g.map(hex);
  if (v4 || r(4) === 0) {
    const v = x[3]!;
    parts = [
      ...parts.slice(0, 6),
      [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join("."),
    ];
  }
  const zeros: [number, number][] = []; // every run of zero groups, any length, may be `::`
  for (let i = 0; i < 6; i++) {
    for (let n = 1; i + n <= 6 && g[i + n - 1] === 0; n++) zeros.push([i, n]);
  }
  if (zeros.length > 0 && r(2) === 0) {
    const [at, n] = zeros[r(zeros.length)]!;
    return `${parts.slice(0, at).join(":")}::${parts.slice(at + n).join(":")}`;
  }
  return parts.join(":");
}

const ALPHABET = "0123456789abcdefABCDEFgx:.%/[] \u0660";

Deno.test("fuzz: parseIpWords/formatWords round-trip every address, read every spelling, and keep a fixpoint on mutated text", () => {
  const r = random(20261204);
  const got = new Uint32Array(4);
  for (let i = 0; i < 20_000; i++) {
    const x = randomWords(r);
    const text = formatWords(x);
    assert.equal(text, rfc5952(x), `canonical text of ${[...x]}`);
    assert.notEqual(parseIpWords(text, got), 0, text);
    assert.deepEqual([...got], [...x], text);
    const other = respelled(x, r);
    assert.notEqual(parseIpWords(other, got), 0, `spelling ${other}`);
    assert.deepEqual([...got], [...x], `spelling ${other} of ${text}`);
    // mutate: whatever parses formats to a canonical text that reads back the same
    const chars = [...other];
    for (let m = 1 + r(3); m > 0; m--) {
      const at = r(chars.length + 1);
      const c = ALPHABET[r(ALPHABET.length)]!;
      const op = r(3);
      if (op === 0) chars.splice(at, 0, c);
      else if (op === 1) chars.splice(at, 1);
      else chars[Math.min(at, chars.length - 1)] = c;
    }
    const mutated = chars.join("");
    if (parseIpWords(mutated, got) === 0) continue;
    const canonical = formatWords(got);
    assert.equal(canonical, rfc5952(got), `canonical text of ${mutated}`);
    const again = new Uint32Array(4);
    assert.notEqual(parseIpWords(canonical, again), 0, `${mutated} -> ${canonical}`);
    assert.deepEqual([...again], [...got], `${mutated} -> ${canonical}`);
    assert.ok(/^[0-9a-f:.]+$/.test(canonical) && /^[0-9A-Fa-f:.]+$/.test(mutated), mutated);
  }
});
