import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type CutOutput, LineCutter } from "./_line_cutter.ts";

const enc = new TextEncoder();

function out(): CutOutput {
  return { lines: [], offsets: [], drops: [] };
}

/** Reference: split on \n, drop lines over the cap, decode each line on its own. */
function reference(bytes: Uint8Array, cap: number) {
  const dec = new TextDecoder("utf-8", { ignoreBOM: true });
  const lines: string[] = [];
  const offsets: number[] = [];
  const drops: number[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 10) continue;
    if (i - start > cap) drops.push(start);
    else {
      let line = dec.decode(bytes.subarray(start, i));
      if (line.endsWith("\r")) line = line.slice(0, -1);
      lines.push(line);
      offsets.push(start);
    }
    start = i + 1;
  }
  // An unterminated tail already over the cap is known to be dropped before its newline comes.
  if (bytes.length - start > cap) drops.push(start);
  return { lines, offsets, drops, committed: start };
}

/** A seeded PRNG so that failures reproduce. */
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

Deno.test("LineCutter carries a partial last line until its newline arrives", () => {
  const c = new LineCutter(100);
  const o = out();
  c.push(enc.encode("one\ntwo\nthr"), o);
  deepStrictEqual(o.lines, ["one", "two"]);
  strictEqual(c.committed, 8);
  strictEqual(c.carried, 3);
  c.push(enc.encode("ee\n"), o);
  deepStrictEqual(o.lines, ["one", "two", "three"]);
  deepStrictEqual(o.offsets, [0, 4, 8]);
  strictEqual(c.committed, 14);
});

Deno.test("LineCutter keeps a line of exactly the cap and drops one byte more, counted once", () => {
  const c = new LineCutter(8);
  const o = out();
  c.push(enc.encode("12345678\n123456789\nok\n"), o);
  deepStrictEqual(o.lines, ["12345678", "ok"]);
  deepStrictEqual(o.drops, [9]);
  strictEqual(c.committed, 22);
});

Deno.test("LineCutter never carries more than the cap of an endless line, then resumes after it", () => {
  const c = new LineCutter(16);
  const o = out();
  c.push(enc.encode("first\n"), o);
  for (let i = 0; i < 1000; i++) {
    c.push(enc.encode("xxxxxxx"), o);
    ok(c.carried <= 16, `carried ${c.carried} bytes`);
  }
  c.push(enc.encode("xx\nafter\n"), o);
  deepStrictEqual(o.lines, ["first", "after"]);
  deepStrictEqual(o.drops, [6]);
});

Deno.test("LineCutter replaces invalid UTF-8 within its own line and never shifts the next", () => {
  const c = new LineCutter(100);
  const o = out();
  const bytes = new Uint8Array([
    ...enc.encode("user "),
    0xff,
    0xe2,
    0x82,
    10,
    ...enc.encode("from 192.0.2.7"),
    0xc3,
    10,
    0xf0,
    0x9f,
    0x98,
    0x80,
    10,
  ]);
  c.push(bytes, o);
  deepStrictEqual(o.lines, ["user \ufffd\ufffd", "from 192.0.2.7\ufffd", "😀"]);
});

Deno.test("LineCutter strips one trailing carriage return", () => {
  const c = new LineCutter(100);
  const o = out();
  c.push(enc.encode("a\r\nb\r\r\n"), o);
  deepStrictEqual(o.lines, ["a", "b\r"]);
});

Deno.test("LineCutter reset mid-line skips the unseen line's rest silently", () => {
  const c = new LineCutter(100);
  const o = out();
  c.reset(50, true);
  c.push(enc.encode("tail of a line\nwhole\n"), o);
  deepStrictEqual(o.lines, ["whole"]);
  deepStrictEqual(o.offsets, [65]);
  deepStrictEqual(o.drops, []);
  strictEqual(c.committed, 71);
});

Deno.test("LineCutter.flush delivers an unterminated last line once", () => {
  const c = new LineCutter(100);
  const o = out();
  c.push(enc.encode("a\nunfinished"), o);
  ok(c.flush(o));
  ok(!c.flush(o));
  deepStrictEqual(o.lines, ["a", "unfinished"]);
  deepStrictEqual(o.offsets, [0, 2]);
  strictEqual(c.committed, 12);
});

/** Bytes drawn from `alphabet`; mostly ASCII ones take the cutter's decode-then-split path. */
const ALPHABETS = {
  "mixed bytes": [10, 10, 13, 0x41, 0x20, 0xff, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98],
  // one byte, one character (stray 0xff and 0xc3 decode to one U+FFFD each), rarely a sequence
  "mostly ASCII": [
    ...[10, 10, 13, 0x41, 0x42, 0x20, 0x20, 0x61, 0x30, 0x3a, 0x5b, 0x5d, 0x2e, 0x7e],
    ...[0x41, 0x61, 0x20, 0x62, 0x63, 0x64, 0x39, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37],
    0xff,
    0xc3,
    ...[0xc3, 0xa9],
  ],
};

for (const [name, alphabet] of Object.entries(ALPHABETS)) {
  Deno.test(`LineCutter gives the per-line result for any chunking of random bytes (${name})`, () => {
    cutsLikeReference(alphabet);
  });
}

function cutsLikeReference(alphabet: readonly number[]): void {
  const rand = rng(42);
  for (let round = 0; round < 300; round++) {
    const cap = 1 + Math.floor(rand() * 40);
    const bytes = new Uint8Array(Math.floor(rand() * 400));
    for (let i = 0; i < bytes.length; i++) {
      bytes[i] = alphabet[Math.floor(rand() * alphabet.length)]!;
    }
    const want = reference(bytes, cap);
    const c = new LineCutter(cap);
    const o = out();
    let at = 0;
    while (at < bytes.length) {
      const n = 1 + Math.floor(rand() * 30);
      c.push(bytes.subarray(at, at + n), o);
      ok(c.carried <= cap);
      at += n;
    }
    deepStrictEqual(o.lines, want.lines, `round ${round}`);
    deepStrictEqual(o.offsets, want.offsets, `round ${round}`);
    deepStrictEqual(o.drops, want.drops, `round ${round}`);
    strictEqual(c.committed, want.committed, `round ${round}`);
  }
}
