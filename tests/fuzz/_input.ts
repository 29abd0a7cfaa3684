/**
 * Fuzz inputs on disk and their mutation. A corpus or reproducer file (`fixtures/fuzz/TARGET/*.json`)
 * holds one input as tagged JSON, so that byte strings, typed arrays, `undefined`, `NaN`, `±Infinity`
 * and `-0` (which Worker messages can carry) survive the trip; `mutatedBytes`/`mutatedString` turn a
 * base input into shrinkable fast-check edits of it.
 * @module
 */
import fc from "fast-check";

type Tagged =
  | null
  | boolean
  | number
  | string
  | Tagged[]
  | { [k: string]: Tagged };

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function unb64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function num(n: number): Tagged {
  if (Number.isNaN(n) || !Number.isFinite(n) || Object.is(n, -0)) return { $num: String(n) };
  return n;
}

function unnum(text: string): number {
  return text === "0" ? -0 : Number(text);
}

/** A hole of a sparse array (structured clone keeps holes, JSON does not). */
const HOLE: Tagged = { $hole: 1 };

/** Sets an own property, `__proto__` included (an assignment would set the prototype). */
function define(o: object, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `value` as JSON-safe tagged data (see the module comment). */
export function toTagged(value: unknown): Tagged {
  if (value === undefined) return { $undef: 1 };
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") return num(value);
  if (typeof value === "bigint") return { $big: String(value) };
  if (value instanceof Uint8Array) return { $u8: b64(value) };
  if (value instanceof Int32Array) return { $i32: [...value].map(num) };
  if (value instanceof Float64Array) return { $f64: [...value].map(num) };
  if (Array.isArray(value)) {
    return Array.from({ length: value.length }, (_, i) => i in value ? toTagged(value[i]) : HOLE);
  }
  if (typeof value === "object") {
    const out: Record<string, Tagged> = {};
    for (const [k, v] of Object.entries(value)) define(out, k, toTagged(v));
    return out;
  }
  throw new TypeError(`cannot store a ${typeof value} in the corpus`);
}

/** The inverse of `toTagged`. */
export function fromTagged(t: Tagged): unknown {
  if (t === null || typeof t !== "object") return t;
  if (Array.isArray(t)) {
    const out = t.map(fromTagged);
    t.forEach((x, i) => {
      if (isHole(x)) delete out[i];
    });
    return out;
  }
  const keys = Object.keys(t);
  if (keys.length === 1) {
    const v = t[keys[0]!]!;
    const nums = () => (v as Tagged[]).map((x) => typeof x === "number" ? x : fromTagged(x));
    switch (keys[0]) {
      case "$undef":
        return undefined;
      case "$num":
        return unnum(v as string);
      case "$big":
        return BigInt(v as string);
      case "$u8":
        return unb64(v as string);
      case "$i32":
        return Int32Array.from(nums() as number[]);
      case "$f64":
        return Float64Array.from(nums() as number[]);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) define(out, k, fromTagged(v));
  return out;
}

function isHole(t: Tagged): boolean {
  return typeof t === "object" && t !== null && !Array.isArray(t) && Object.keys(t).length === 1 &&
    t.$hole === 1;
}

/** One input as the text of a corpus file. */
export function encodeInput(value: unknown): string {
  return JSON.stringify(toTagged(value)) + "\n";
}

/** One corpus file's input. */
export function decodeInput(text: string): unknown {
  return fromTagged(JSON.parse(text));
}

/** One edit of a sequence: positions are taken modulo the length, so every edit applies. */
type Edit =
  | { op: "set"; at: number; v: number }
  | { op: "insert"; at: number; vs: number[] }
  | { op: "delete"; at: number; n: number }
  | { op: "copy"; from: number; at: number; n: number };

/** Byte values that often sit on a decoder's boundaries. */
const SPECIAL = [0, 1, 9, 10, 13, 32, 34, 44, 47, 58, 61, 91, 92, 93, 123, 125, 127, 128, 255];

function editArb(value: fc.Arbitrary<number>): fc.Arbitrary<Edit> {
  const at = fc.nat();
  return fc.oneof(
    fc.record({ op: fc.constant("set" as const), at, v: value }),
    fc.record({
      op: fc.constant("insert" as const),
      at,
      vs: fc.array(value, { minLength: 1, maxLength: 16 }),
    }),
    fc.record({ op: fc.constant("delete" as const), at, n: fc.integer({ min: 1, max: 64 }) }),
    fc.record({
      op: fc.constant("copy" as const),
      from: fc.nat(),
      at,
      n: fc.integer({ min: 1, max: 64 }),
    }),
  );
}

function applyEdits(base: readonly number[], edits: readonly Edit[]): number[] {
  const out = [...base];
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % (out.length + 1);
    if (e.op === "set") {
      if (out.length > 0) out[at % out.length] = e.v;
    } else if (e.op === "insert") out.splice(at, 0, ...e.vs);
    else if (e.op === "delete") out.splice(at, e.n);
    else if (out.length > 0) {
      const from = e.from % out.length;
      out.splice(at, 0, ...out.slice(from, from + e.n));
    }
  }
  return out;
}

const byteValue = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...SPECIAL));

/** `base` with up to `maxEdits` edits (overwrite, insert, delete, duplicate a range). */
export function mutatedBytes(
  base: fc.Arbitrary<Uint8Array>,
  maxEdits = 6,
): fc.Arbitrary<Uint8Array> {
  return fc.tuple(base, fc.array(editArb(byteValue), { maxLength: maxEdits }))
    .map(([b, edits]) => Uint8Array.from(applyEdits([...b], edits)));
}

const charValue = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 32, max: 126 }) },
  { weight: 1, arbitrary: fc.constantFrom(...SPECIAL, 0x85, 0xa0, 0x2028, 0xfeff, 0xd800) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);

/** `base` with up to `maxEdits` edits of its UTF-16 code units (lone surrogates included). */
export function mutatedString(base: fc.Arbitrary<string>, maxEdits = 6): fc.Arbitrary<string> {
  return fc.tuple(base, fc.array(editArb(charValue), { maxLength: maxEdits }))
    .map(([s, edits]) => {
      const units = applyEdits(
        [...s].flatMap((c) => c.split("").map((u) => u.charCodeAt(0))),
        edits,
      );
      let out = "";
      for (let i = 0; i < units.length; i += 4096) {
        out += String.fromCharCode(...units.slice(i, i + 4096));
      }
      return out;
    });
}

/** Cut points splitting `n` bytes into chunks (sorted, inside 1..n-1). */
export function chunksOf(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => bytes.length === 0 ? 0 : c % bytes.length))]
    .filter((c) => c > 0).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of at) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out;
}
