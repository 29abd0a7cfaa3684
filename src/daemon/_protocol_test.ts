import { deepEqual, equal, ok } from "node:assert/strict";
import {
  type BatchMessage,
  IP_SEPARATOR,
  MAX_IP_CHARS,
  MAX_TEXT_CHARS,
  parseWorkerMessage,
} from "./_protocol.ts";

/** A well-formed batch of two failures in jails 0 and 1, with `over` fields replaced. */
function batch(over: Record<string, unknown> = {}): Record<string, unknown> {
  const good: BatchMessage = {
    type: "batch",
    count: 2,
    jails: Int32Array.of(0, 1),
    ips: ["192.0.2.1", "2001:db8::1"].join(IP_SEPARATOR),
    times: Float64Array.of(NaN, 1_700_000_000_000),
    origin: "/var/log/auth.log",
    offsets: Float64Array.of(0, 120),
    lines: [[0, 10, 0], [1, 10, 1]],
    positions: [{
      kind: "file",
      path: "/var/log/auth.log",
      ...{ dev: 1, ino: 2, size: 300, offset: 200, fpLen: 0, fp: "00000000000000" },
    }],
    sentAt: 1_700_000_000_000,
  };
  return { ...good, ...over };
}

Deno.test("parseWorkerMessage accepts what the Worker sends", () => {
  const r = parseWorkerMessage(batch(), 2);
  ok(r.ok, JSON.stringify(r));
  equal(r.message.type, "batch");
  ok(
    parseWorkerMessage(
      batch({
        count: 0,
        jails: new Int32Array(0),
        ips: "",
        times: new Float64Array(0),
        offsets: new Float64Array(0),
        lines: [],
      }),
      2,
    ).ok,
  );
  ok(parseWorkerMessage(batch({ id: 7, positions: [] }), 2).ok);
  for (
    const m of [
      { type: "ready", readPaths: ["/var/log"] },
      { type: "dropped", reason: "line_too_long", count: 3 },
      { type: "warning", message: "file source: x" },
      { type: "fatal", message: "log source stopped" },
      { type: "stopped", positions: [] },
    ]
  ) {
    const r = parseWorkerMessage(m, 2);
    ok(r.ok, `${JSON.stringify(m)}: ${JSON.stringify(r)}`);
    deepEqual(r.message, m);
  }
});

Deno.test("parseWorkerMessage rejects crafted batches, never throws, and says how to settle them", () => {
  const bad: [string, Record<string, unknown>][] = [
    ["jail index past the jails", { jails: Int32Array.of(0, 2) }],
    ["negative jail index", { jails: Int32Array.of(-1, 0) }],
    ["count above the arrays", { count: 3 }],
    ["count below the arrays", { count: 1 }],
    ["fractional count", { count: 1.5 }],
    ["huge count", { count: 2 ** 40 }],
    ["jails not typed", { jails: [0, 1] }],
    ["times too short", { times: Float64Array.of(NaN) }],
    ["infinite time", { times: Float64Array.of(Infinity, 0) }],
    ["negative offset", { offsets: Float64Array.of(-2, 0) }],
    ["fractional offset", { offsets: Float64Array.of(0.5, 0) }],
    ["one address too few", { ips: "192.0.2.1" }],
    ["one address too many", { ips: `192.0.2.1\n192.0.2.2\n192.0.2.3` }],
    ["empty address", { ips: `\n192.0.2.2` }],
    ["address too long", { ips: `${"1".repeat(MAX_IP_CHARS + 1)}\n192.0.2.2` }],
    ["ips not a string", { ips: ["192.0.2.1", "192.0.2.2"] }],
    ["origin too long", { origin: "/".repeat(MAX_TEXT_CHARS + 1) }],
    ["lines pair out of range", { lines: [[5, 1, 0]] }],
    ["lines not pairs", { lines: [[0]] }],
    ["more lines pairs than jails", { lines: [[0, 1, 0], [1, 1, 0], [0, 1, 0]] }],
    ["negative line count", { lines: [[0, -1, 0]] }],
    ["more ambiguous lines than lines", { lines: [[0, 1, 2]] }],
    ["a pair without the ambiguous count", { lines: [[0, 1]] }],
    ["bad position", { positions: [{ kind: "file", path: "relative" }] }],
    ["positions not an array", { positions: "x" }],
    ["sentAt missing", { sentAt: undefined }],
    ["id not whole", { id: 1.5 }],
  ];
  for (const [why, over] of bad) {
    const r = parseWorkerMessage(batch(over), 2);
    ok(!r.ok, `${why}: accepted`);
    ok(r.reason.length > 0, why);
    if (over.id === undefined) equal(r.credit, true, `${why}: the Worker is owed its credit`);
  }
  const answer = parseWorkerMessage(batch({ id: 9, count: -1 }), 2);
  ok(!answer.ok);
  equal(answer.id, 9, "a rejected journal answer names the request to settle");
  equal(answer.credit, false);
});

Deno.test("parseWorkerMessage rejects crafted notices and non-messages", () => {
  const bad: unknown[] = [
    null,
    42,
    "batch",
    [],
    {},
    { type: "nope" },
    { type: "ready", readPaths: "/" },
    { type: "ready", readPaths: [1] },
    { type: "dropped", reason: "x", count: -1 },
    { type: "dropped", reason: "x".repeat(65), count: 1 },
    { type: "warning", message: "x".repeat(MAX_TEXT_CHARS + 1) },
    { type: "fatal" },
    { type: "stopped", positions: [{ kind: "journal" }] },
    {
      type: "batch",
      get count() {
        throw new Error("getter");
      },
    },
  ];
  for (const m of bad) {
    const r = parseWorkerMessage(m, 2);
    ok(!r.ok, `message ${bad.indexOf(m)}: accepted`);
  }
});

Deno.test("parseWorkerMessage refuses the holes of sparse arrays (found by the worker-messages fuzz target)", () => {
  // structured clone keeps holes; `map`/`every` skip them, so `[,]` used to pass as positions and
  // reach SourceSet.seed as `undefined`.
  const hole = structuredClone(new Array(1));
  equal(parseWorkerMessage({ type: "stopped", positions: hole }, 1).ok, false);
  equal(parseWorkerMessage(batch({ positions: structuredClone(new Array(2)) }), 2).ok, false);
  equal(
    parseWorkerMessage({ type: "ready", readPaths: structuredClone(["/a", , "/b"]) }, 1).ok,
    false,
  );
});
