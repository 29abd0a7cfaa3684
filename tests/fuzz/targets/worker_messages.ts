/**
 * Target `worker-messages`: what the parser Worker posts to the main thread, through
 * `parseWorkerMessage`. The Worker parses attacker-written bytes, so a message is as untrusted as
 * a control-socket request. Fails when the parser throws, when it refuses a well-formed message,
 * when it accepts one that breaks the protocol of src/daemon/_protocol.ts as checked here index by
 * index (a hole of a sparse array included: the daemon reads every index), or when a refused
 * batch is settled with the wrong credit/id.
 * @module
 */
import fc from "fast-check";
import { parseWorkerMessage } from "../../../src/daemon/_protocol.ts";
import { expect, type Target, withCorpus } from "../_target.ts";

/** One input: the message, the daemon's jail count, and whether the message is well formed. */
export interface WorkerInput {
  data: unknown;
  jailCount: number;
  valid: boolean;
}

const MAX_IP_CHARS = 64;
const MAX_TEXT_CHARS = 8192;

const fp = fc.stringMatching(/^[0-9a-f]{14}$/);
const markArb = fc.record({
  dev: fc.nat(),
  ino: fc.nat(),
  size: fc.nat(),
  offset: fc.nat(),
  fpLen: fc.nat(64),
  fp,
});
const position = fc.oneof(
  fc.tuple(
    fc.stringMatching(/^\/[a-z\/.]{1,20}$/),
    markArb,
    fc.option(fc.constant("web"), { nil: undefined }),
  )
    .map(([path, m, group]) => ({ kind: "file", path, ...m, ...(group ? { group } : {}) })),
  fc.record({
    kind: fc.constant("journal"),
    key: fc.constant("journal:sshd"),
    cursor: fc.constant("s=1;i=2"),
  }),
);
const ip = fc.constantFrom("203.0.113.7", "2001:db8::1", "198.51.100.22", "::ffff:192.0.2.1");

function batch(jailCount: number) {
  return fc.tuple(
    fc.array(
      fc.tuple(
        fc.nat(jailCount - 1),
        ip,
        fc.oneof(fc.double({ noDefaultInfinity: true }), fc.constant(NaN)),
        fc.oneof(fc.constant(-1), fc.nat()),
      ),
      { maxLength: 5 },
    ),
    fc.option(fc.nat(), { nil: undefined }),
    fc.string({ maxLength: 20 }),
    fc.array(fc.tuple(fc.nat(jailCount - 1), fc.nat(1000)).map(([j, n]) => [j, n, n >> 1]), {
      maxLength: jailCount,
    }),
    fc.array(position, { maxLength: 3 }),
  ).map(([fails, id, origin, lines, positions]) => ({
    type: "batch",
    ...(id === undefined ? {} : { id }),
    count: fails.length,
    jails: Int32Array.from(fails.map((f) => f[0])),
    ips: fails.map((f) => f[1]).join("\n"),
    times: Float64Array.from(fails.map((f) => f[2])),
    offsets: Float64Array.from(fails.map((f) => f[3])),
    origin,
    lines,
    positions,
    sentAt: 1_767_225_600_000,
  }));
}

const other = fc.oneof(
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }).map((readPaths) => ({
    type: "ready",
    readPaths,
  })),
  fc.record({
    type: fc.constant("dropped"),
    reason: fc.constant("line_too_long"),
    count: fc.nat(),
  }),
  fc.record({ type: fc.constantFrom("warning", "fatal"), message: fc.string({ maxLength: 30 }) }),
  fc.record({ type: fc.constant("stopped"), positions: fc.array(position, { maxLength: 3 }) }),
);

const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({
    maxDepth: 2,
    withTypedArray: true,
    withSparseArray: true,
    withNullPrototype: true,
  }),
  fc.constantFrom(-1, 2 ** 22 + 1, NaN, Infinity, -0, 1.5, "", "\n", 2 ** 53),
  fc.sparseArray(position, { maxLength: 3 }),
  fc.int32Array({ maxLength: 4 }),
  fc.float64Array({ maxLength: 4 }),
);

const valid = fc.integer({ min: 1, max: 5 }).chain((jailCount) =>
  fc.oneof(batch(jailCount), other).map((data) => ({ data, jailCount, valid: true }))
);

/** A batch whose failure `k` names jail `jailCount` (one past the last) or -1. */
function pastLastJail(base: fc.Arbitrary<WorkerInput>): fc.Arbitrary<WorkerInput> {
  return fc.tuple(base, fc.nat(), fc.boolean()).map(([b, k, high]) => {
    const m = b.data as Record<string, unknown>;
    if (m?.type !== "batch" || !(m.jails instanceof Int32Array) || m.jails.length === 0) return b;
    const jails = m.jails.slice();
    jails[k % jails.length] = high ? b.jailCount : -1;
    return { data: { ...m, jails }, jailCount: b.jailCount, valid: false };
  });
}

/** `base` with one field replaced by junk or deleted, or the whole message replaced. */
function mutate(base: fc.Arbitrary<WorkerInput>): fc.Arbitrary<WorkerInput> {
  return fc.oneof(pastLastJail(base), mutateField(base));
}

function mutateField(base: fc.Arbitrary<WorkerInput>): fc.Arbitrary<WorkerInput> {
  return fc.tuple(base, fc.nat(), junk, fc.boolean(), fc.integer({ min: 0, max: 6 })).map(
    ([b, k, v, drop, jailCount]) => {
      if (typeof b.data !== "object" || b.data === null || Array.isArray(b.data)) {
        return { data: v, jailCount, valid: false };
      }
      const data: Record<string, unknown> = { ...(b.data as Record<string, unknown>) };
      const keys = Object.keys(data);
      const key = keys[k % Math.max(keys.length, 1)] ?? "type";
      if (drop) delete data[key];
      else data[key] = v;
      return { data, jailCount: b.jailCount, valid: false };
    },
  );
}

function isCount(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isPosition(p: unknown): boolean {
  if (typeof p !== "object" || p === null) return false;
  const r = p as Record<string, unknown>;
  if (r.kind === "journal") return typeof r.key === "string" && typeof r.cursor === "string";
  return r.kind === "file" && typeof r.path === "string" && r.path.startsWith("/") &&
    ["dev", "ino", "size", "offset", "fpLen"].every((k) => isCount(r[k])) &&
    typeof r.fp === "string" && /^[0-9a-f]{14}$/.test(r.fp);
}

function everyIndex(a: unknown, ok: (v: unknown) => boolean): boolean {
  if (!Array.isArray(a)) return false;
  for (let i = 0; i < a.length; i++) if (!(i in a) || !ok(a[i])) return false;
  return true;
}

function batchViolation(m: Record<string, unknown>, jailCount: number): string | null {
  const n = m.count as number;
  if (!isCount(n) || n > 1 << 22) return "count";
  const { jails, times, offsets, ips } = m;
  if (!(jails instanceof Int32Array) || jails.length !== n) return "jails length";
  if (!(times instanceof Float64Array) || times.length !== n) return "times length";
  if (!(offsets instanceof Float64Array) || offsets.length !== n) return "offsets length";
  for (let i = 0; i < n; i++) {
    if (jails[i]! < 0 || jails[i]! >= jailCount) return `jails[${i}] out of range`;
    if (!Number.isNaN(times[i]!) && !Number.isFinite(times[i]!)) return `times[${i}]`;
    if (offsets[i] !== -1 && !isCount(offsets[i])) return `offsets[${i}]`;
  }
  if (typeof ips !== "string") return "ips";
  const parts = n === 0 ? [] : ips.split("\n");
  if (n === 0 && ips !== "") return "ips for count 0";
  if (parts.length !== n || parts.some((p) => p.length < 1 || p.length > MAX_IP_CHARS)) {
    return "ips split";
  }
  if (typeof m.origin !== "string" || m.origin.length > MAX_TEXT_CHARS) return "origin";
  const lines = m.lines;
  if (
    !everyIndex(
      lines,
      (p) =>
        Array.isArray(p) && p.length === 3 && isCount(p[0]) && p[0] < jailCount && isCount(p[1]) &&
        isCount(p[2]) && p[2] <= p[1],
    )
  ) {
    return "lines";
  }
  if ((lines as unknown[]).length > jailCount) return "lines length";
  if (typeof m.sentAt !== "number" || !Number.isFinite(m.sentAt)) return "sentAt";
  if (m.id !== undefined && !isCount(m.id)) return "id";
  return everyIndex(m.positions, isPosition) ? null : "positions";
}

function violation(m: Record<string, unknown>, jailCount: number): string | null {
  switch (m.type) {
    case "batch":
      return batchViolation(m, jailCount);
    case "ready":
      return everyIndex(m.readPaths, (p) => typeof p === "string" && p.length <= MAX_TEXT_CHARS)
        ? null
        : "readPaths";
    case "dropped":
      return typeof m.reason === "string" && m.reason.length <= 64 && isCount(m.count)
        ? null
        : "dropped";
    case "warning":
    case "fatal":
      return typeof m.message === "string" && m.message.length <= MAX_TEXT_CHARS ? null : "message";
    case "stopped":
      return everyIndex(m.positions, isPosition) ? null : "positions";
  }
  return `type ${String(m.type)}`;
}

/** The `worker-messages` target. */
export const workerMessagesTarget: Target<WorkerInput> = {
  name: "worker-messages",
  modules: ["src/daemon/_protocol.ts", "src/sources/position.ts"],
  runs: 4000,
  timeoutMs: 1000,
  arbitrary: (corpus) => withCorpus(corpus, fc.oneof(valid, mutate(valid)), mutate),
  check({ data, jailCount, valid }) {
    const r = parseWorkerMessage(data, jailCount);
    if (r.ok) {
      const why = violation(r.message as unknown as Record<string, unknown>, jailCount);
      expect(why === null, () => `accepted a message that breaks the protocol: ${why}`);
      return;
    }
    expect(!valid, () => `refused a well-formed message: ${r.reason}`);
    expect(typeof r.reason === "string" && r.reason.length > 0, () => "refused without reason");
    const m = data as Record<string, unknown> | null;
    const isBatch = typeof m === "object" && m !== null && !Array.isArray(m) && m.type === "batch";
    const id = isBatch ? m.id : undefined;
    const wantId = isBatch && Number.isSafeInteger(id) ? id : undefined;
    expect(r.id === wantId, () => `refusal settled id ${r.id}, expected ${String(wantId)}`);
    expect(
      r.credit === (isBatch && id === undefined),
      () =>
        `refusal credit ${r.credit} for a ${isBatch ? "batch" : "non-batch"} with id ${String(id)}`,
    );
  },
};
