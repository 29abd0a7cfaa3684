import { deepEqual, equal, throws } from "node:assert/strict";
import { encodeFrame, FrameDecoder, FrameTooLargeError } from "./frame.ts";
import fc from "fast-check";

Deno.test("FrameDecoder reassembles frames split at every byte boundary and batched together", () => {
  const a = encodeFrame({ v: 1, cmd: "ping" });
  const b = encodeFrame({ v: 1, cmd: "list", jail: "sshd ünïcode" });
  const stream = new Uint8Array([...a, ...b]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new FrameDecoder();
    d.push(stream.subarray(0, cut));
    const got: unknown[] = [];
    for (let f = d.next(); f !== null; f = d.next()) got.push(f);
    d.push(stream.subarray(cut));
    for (let f = d.next(); f !== null; f = d.next()) got.push(f);
    deepEqual(got, [
      { kind: "frame", text: '{"v":1,"cmd":"ping"}' },
      { kind: "frame", text: '{"v":1,"cmd":"list","jail":"sshd ünïcode"}' },
    ]);
    equal(d.buffered, 0);
  }
});

Deno.test("FrameDecoder flags an announced length past the cap before the body arrives", () => {
  const d = new FrameDecoder(16);
  d.push(new Uint8Array([17, 0, 0, 0]));
  deepEqual(d.next(), { kind: "too_large", length: 17 });
  const ok = new FrameDecoder(16);
  ok.push(new Uint8Array([16, 0, 0, 0]));
  equal(ok.next(), null); // at the cap: waits for the body
});

Deno.test("FrameDecoder reports invalid UTF-8 as a frame without text", () => {
  const d = new FrameDecoder();
  d.push(new Uint8Array([2, 0, 0, 0, 0xc3, 0x28]));
  deepEqual(d.next(), { kind: "frame", text: null });
});

Deno.test("encodeFrame refuses a value past the cap", () => {
  throws(() => encodeFrame({ pad: "x".repeat(100) }, 50), FrameTooLargeError);
  equal(new DataView(encodeFrame("é").buffer).getUint32(0, true), 4); // "\"é\"" is 4 bytes
});

Deno.test("encodeFrame writes the bytes of JSON.stringify, arrays under the top level one element at a time", () => {
  const body = (v: unknown) => {
    const f = encodeFrame(v);
    equal(new DataView(f.buffer, f.byteOffset).getUint32(0, true), f.length - 4);
    return new TextDecoder().decode(f.subarray(4));
  };
  const bans = Array.from(
    { length: 20_000 },
    (_, i) => ({ ip: `10.0.${i >> 8}.${i & 255}`, n: i }),
  );
  const samples: unknown[] = [
    { bans, truncated: true, total: 30_000 },
    { a: [1, undefined, () => 1, "ü\u2028😀", null, [2, [3]], { b: undefined }], c: undefined },
    { toJSON: () => "custom" },
    [{ x: 1 }],
    "é",
    null,
    { empty: [], z: -0, d: new Date(0) },
  ];
  for (const v of samples) equal(body(v), JSON.stringify(v));
  fc.assert(fc.property(fc.jsonValue(), (v) => body(v) === JSON.stringify(v)), { numRuns: 300 });
  fc.assert(
    fc.property(
      fc.dictionary(fc.string(), fc.array(fc.jsonValue({ maxDepth: 2 }))),
      (v) => body(v) === JSON.stringify(v),
    ),
    { numRuns: 300 },
  );
});
