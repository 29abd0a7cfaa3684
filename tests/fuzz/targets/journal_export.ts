/**
 * Target `journal-export`: bytes of `journalctl -o export` output, cut into chunks at random
 * points, through the streaming `ExportParser`. Compared with a whole-buffer reference parser
 * written here from the format (docs/formats): the same records (kept fields, values, repeats,
 * oversize names) before the end or the first error; the error a `SyntaxError` exactly when the
 * reference finds the input malformed; the result independent of the chunking.
 * @module
 */
import fc from "fast-check";
import {
  ExportParser,
  type ExportRecord,
  MAX_FIELD_REPEATS,
  MAX_NAME_BYTES,
} from "../../../src/sources/_export_parser.ts";
import { chunksOf, mutatedBytes } from "../_input.ts";
import { expect, type Target, withCorpus } from "../_target.ts";

/** One input: the bytes, where to cut them, and the value cap. */
export interface ExportInput {
  bytes: Uint8Array;
  cuts: number[];
  max: number;
}

const KEEP = ["MESSAGE", "_PID", "SYSLOG_IDENTIFIER", "__CURSOR"];
const latin1 = new TextDecoder("latin1");
const enc = new TextEncoder();

interface Parsed {
  records: { fields: [string, number[][]][]; oversize: string[] }[];
  error: boolean;
}

function view(records: readonly ExportRecord[]): Parsed["records"] {
  return records.map((r) => ({
    fields: [...r.fields.entries()].map(([k, vs]) => [k, vs.map((v) => [...v])]),
    oversize: [...r.oversize],
  }));
}

/** The reference: the whole buffer at once, by index arithmetic. */
function reference(b: Uint8Array, max: number): Parsed {
  const out: ExportRecord[] = [];
  let rec: ExportRecord = { fields: new Map(), oversize: [] };
  let has = false;
  const keep = new Set(KEEP);
  const value = (name: string, v: Uint8Array) => {
    has = true;
    if (!keep.has(name)) return;
    if (v.length > max) return void rec.oversize.push(name);
    const list = rec.fields.get(name);
    if (list === undefined) rec.fields.set(name, [v.slice()]);
    else if (list.length < MAX_FIELD_REPEATS) list.push(v.slice());
  };
  let i = 0;
  const n = b.length;
  const done = (error: boolean): Parsed => ({ records: view(out), error });
  while (i < n) {
    let j = i;
    while (j < n && b[j] !== 10 && b[j] !== 61) j++;
    if (j - i > MAX_NAME_BYTES) return done(true);
    if (j === n) break;
    const name = latin1.decode(b.subarray(i, j));
    if (b[j] === 61) {
      if (j === i) return done(true);
      const nl = b.indexOf(10, j + 1);
      if (nl < 0) break;
      value(name, b.subarray(j + 1, nl));
      i = nl + 1;
    } else if (j === i) {
      if (has) out.push(rec);
      rec = { fields: new Map(), oversize: [] };
      has = false;
      i = j + 1;
    } else {
      if (j + 9 > n) break;
      const dv = new DataView(b.buffer, b.byteOffset + j + 1, 8);
      const len = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
      if (!Number.isSafeInteger(len)) return done(true);
      const end = j + 9 + len;
      if (end >= n) break;
      if (b[end] !== 10) return done(true);
      value(name, b.subarray(j + 9, end));
      i = end + 1;
    }
  }
  return done(false);
}

function streamed(input: ExportInput): Parsed {
  const parser = new ExportParser(KEEP, input.max);
  const out: ExportRecord[] = [];
  try {
    for (const chunk of chunksOf(input.bytes, input.cuts)) parser.push(chunk, out);
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    return { records: view(out), error: true };
  }
  return { records: view(out), error: false };
}

const name = fc.oneof(
  fc.constantFrom(...KEEP, "PRIORITY", "_HOSTNAME"),
  fc.stringMatching(/^[A-Z_]{1,12}$/),
  fc.integer({ min: MAX_NAME_BYTES - 2, max: MAX_NAME_BYTES + 2 }).map((n) => "N".repeat(n)),
);
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("", "sshd", "Failed password"));
const field = fc.oneof(
  fc.tuple(name, text).map(([k, v]) => enc.encode(`${k}=${v.replaceAll("\n", " ")}\n`)),
  fc.tuple(name, fc.uint8Array({ maxLength: 40 })).map(([k, v]) => {
    const out = new Uint8Array(k.length + 10 + v.length);
    out.set(enc.encode(k + "\n"));
    new DataView(out.buffer).setUint32(k.length + 1, v.length, true);
    out.set(v, k.length + 9);
    out[out.length - 1] = 10;
    return out;
  }),
);
const record = fc.oneof(
  fc.array(field, { maxLength: 6 }),
  // one field repeated around MAX_FIELD_REPEATS times
  fc.tuple(field, fc.integer({ min: MAX_FIELD_REPEATS - 1, max: MAX_FIELD_REPEATS + 2 }))
    .map(([f, n]) => Array.from({ length: n }, () => f)),
).map((fs) => concat([...fs, Uint8Array.of(10)]));
const stream = fc.array(record, { maxLength: 5 }).map(concat);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const cuts = fc.array(fc.nat(), { maxLength: 6 });
const maxValue = fc.constantFrom(0, 4, 16, 64, 4096);

/** The `journal-export` target. */
export const journalExportTarget: Target<ExportInput> = {
  name: "journal-export",
  modules: ["src/sources/_export_parser.ts"],
  runs: 4000,
  timeoutMs: 1000,
  arbitrary: (corpus) =>
    withCorpus(
      corpus,
      fc.record({ bytes: fc.oneof(mutatedBytes(stream), fc.uint8Array()), cuts, max: maxValue }),
      (base) =>
        fc.record({
          bytes: mutatedBytes(base.map((b) => b.bytes)),
          cuts,
          max: fc.oneof(base.map((b) => b.max), maxValue),
        }),
    ),
  check(input) {
    const got = streamed(input);
    const want = reference(input.bytes, input.max);
    const a = JSON.stringify(got), b = JSON.stringify(want);
    expect(a === b, () => `streamed ${a.slice(0, 300)}\nreference ${b.slice(0, 300)}`);
  },
};
