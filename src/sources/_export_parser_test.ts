import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { ExportParser, type ExportRecord, MAX_FIELD_REPEATS } from "./_export_parser.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function binary(name: string, value: Uint8Array): Uint8Array {
  const len = new Uint8Array(8);
  new DataView(len.buffer).setUint32(0, value.length, true);
  return new Uint8Array([...enc.encode(name + "\n"), ...len, ...value, 10]);
}

function cat(...parts: (string | Uint8Array)[]): Uint8Array {
  const bytes = parts.map((p) => typeof p === "string" ? enc.encode(p) : p);
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

function texts(r: ExportRecord): Record<string, string[]> {
  return Object.fromEntries([...r.fields].map(([k, v]) => [k, v.map((x) => dec.decode(x))]));
}

const STREAM = cat(
  "__CURSOR=s=1;i=1\nMESSAGE=hello world\nOTHER=skipped\n\n",
  "__CURSOR=s=1;i=2\n",
  binary("MESSAGE", enc.encode("two\nlines")),
  "_PID=7\n\n",
);

Deno.test("ExportParser reads text and binary fields and keeps only the named ones", () => {
  const out: ExportRecord[] = [];
  new ExportParser(["__CURSOR", "MESSAGE", "_PID"], 100).push(STREAM, out);
  deepStrictEqual(out.map(texts), [
    { __CURSOR: ["s=1;i=1"], MESSAGE: ["hello world"] },
    { __CURSOR: ["s=1;i=2"], MESSAGE: ["two\nlines"], _PID: ["7"] },
  ]);
});

Deno.test("ExportParser gives the same records for the stream split at every byte", () => {
  const whole: ExportRecord[] = [];
  new ExportParser(["__CURSOR", "MESSAGE", "_PID"], 100).push(STREAM, whole);
  for (let cut = 1; cut < STREAM.length; cut++) {
    const out: ExportRecord[] = [];
    const p = new ExportParser(["__CURSOR", "MESSAGE", "_PID"], 100);
    p.push(STREAM.subarray(0, cut), out);
    p.push(STREAM.subarray(cut), out);
    deepStrictEqual(out.map(texts), whole.map(texts), `cut at ${cut}`);
  }
  const bytewise: ExportRecord[] = [];
  const p = new ExportParser(["__CURSOR", "MESSAGE", "_PID"], 100);
  for (let i = 0; i < STREAM.length; i++) p.push(STREAM.subarray(i, i + 1), bytewise);
  deepStrictEqual(bytewise.map(texts), whole.map(texts));
});

Deno.test("ExportParser skips values over the cap without keeping them and reports them", () => {
  const out: ExportRecord[] = [];
  const p = new ExportParser(["MESSAGE", "__CURSOR"], 10);
  p.push(cat("MESSAGE=" + "x".repeat(11) + "\n__CURSOR=c\n\n"), out);
  p.push(cat(binary("MESSAGE", new Uint8Array(1_000_000)), "__CURSOR=d\n\n"), out);
  deepStrictEqual(out.map(texts), [{ __CURSOR: ["c"] }, { __CURSOR: ["d"] }]);
  deepStrictEqual(out.map((r) => r.oversize), [["MESSAGE"], ["MESSAGE"]]);
});

Deno.test("ExportParser keeps a bounded number of repeats of one field", () => {
  const out: ExportRecord[] = [];
  new ExportParser(["X"], 10).push(cat("X=1\n".repeat(1000), "\n"), out);
  strictEqual(out[0]!.fields.get("X")!.length, MAX_FIELD_REPEATS);
});

Deno.test("ExportParser rejects input that is not export format", () => {
  throws(() => new ExportParser([], 10).push(enc.encode("=x\n"), []), /field name/);
  throws(() => new ExportParser([], 10).push(enc.encode("A".repeat(300)), []), /at most/);
  const bad = binary("M", enc.encode("ab"));
  bad[bad.length - 1] = 65;
  throws(() => new ExportParser(["M"], 10).push(bad, []), /after a binary field/);
});
