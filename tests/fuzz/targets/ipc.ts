/**
 * Targets `ipc-frames` and `ipc-requests`: what a client of the control socket sends.
 *
 * - `ipc-frames`: bytes cut into chunks at random points through `FrameDecoder` (cap chosen per
 *   input); compared with a whole-buffer reading of the format (u32 little-endian length, then
 *   that many bytes of UTF-8): the same frames and texts (`null` for invalid UTF-8), `too_large`
 *   exactly when an announced length passes the cap, the same bytes left buffered, whatever the
 *   chunking. Frames of `encodeFrame` come back as the JSON they were made from.
 * - `ipc-requests`: request texts through `parseRequest`: it never throws, refuses only with
 *   `bad_request`/`unsupported_version`, and whatever it accepts satisfies the protocol
 *   (docs/interfaces.md) as checked here field by field, and is accepted again after a
 *   re-serialisation.
 * @module
 */
import fc from "fast-check";
import { encodeFrame, FrameDecoder } from "../../../src/ipc/frame.ts";
import { parseRequest } from "../../../src/ipc/protocol.ts";
import { chunksOf, mutatedBytes, mutatedString } from "../_input.ts";
import { expect, type Target, withCorpus } from "../_target.ts";

/** One `ipc-frames` input. */
export interface FramesInput {
  bytes: Uint8Array;
  cuts: number[];
  max: number;
}

type Frames = { frames: (string | null)[]; tooLarge: number | null; left: number };

function reference(b: Uint8Array, max: number): Frames {
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const frames: (string | null)[] = [];
  let i = 0;
  while (b.length - i >= 4) {
    const len = b[i]! | b[i + 1]! << 8 | b[i + 2]! << 16 | (b[i + 3]! * 2 ** 24);
    const length = (len >>> 0) + 0;
    if (length > max) return { frames, tooLarge: length, left: -1 }; // the stream ends here
    if (b.length - i - 4 < length) break;
    let text: string | null = null;
    try {
      text = utf8.decode(b.subarray(i + 4, i + 4 + length));
    } catch {
      text = null;
    }
    frames.push(text);
    i += 4 + length;
  }
  return { frames, tooLarge: null, left: b.length - i };
}

function decoded(input: FramesInput): Frames {
  const d = new FrameDecoder(input.max);
  const frames: (string | null)[] = [];
  for (const chunk of chunksOf(input.bytes, input.cuts)) {
    d.push(chunk);
    for (let f = d.next(); f !== null; f = d.next()) {
      if (f.kind === "too_large") return { frames, tooLarge: f.length, left: -1 };
      frames.push(f.text);
    }
  }
  return { frames, tooLarge: null, left: d.buffered };
}

const enc = new TextEncoder();
const frameOf = fc.jsonValue({ maxDepth: 3 }).map((v) => encodeFrame(v));
const frameStream = fc.array(
  fc.oneof(frameOf, fc.string().map((s) => enc.encode(s)), fc.uint8Array({ maxLength: 8 })),
  { maxLength: 6 },
).map((parts) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
});
const cuts = fc.array(fc.nat(), { maxLength: 8 });
const max = fc.constantFrom(0, 3, 64, 1024, 64 * 1024);

/** The `ipc-frames` target. */
export const ipcFramesTarget: Target<FramesInput> = {
  name: "ipc-frames",
  modules: ["src/ipc/frame.ts"],
  runs: 4000,
  timeoutMs: 1000,
  arbitrary: (corpus) =>
    withCorpus(
      corpus,
      fc.record({ bytes: fc.oneof(frameStream, mutatedBytes(frameStream)), cuts, max }),
      (base) =>
        fc.record({
          bytes: mutatedBytes(base.map((b) => b.bytes)),
          cuts,
          max: fc.oneof(base.map((b) => b.max), max),
        }),
    ),
  check(input) {
    const got = JSON.stringify(decoded(input));
    const want = JSON.stringify(reference(input.bytes, input.max));
    expect(got === want, () => `decoded ${got.slice(0, 300)}\nreference ${want.slice(0, 300)}`);
  },
};

const COMMANDS: Record<string, readonly string[]> = {
  status: [],
  status_jail: ["jail"],
  jails: [],
  list: ["jail", "ip"],
  banned: ["ips"],
  ban: ["ip", "jail", "duration_s"],
  unban: ["ip", "ips", "jail"],
  unban_all: [],
  ignore_add: ["cidr", "jail"],
  ignore_del: ["cidr", "jail"],
  ignore_list: ["jail"],
  jail_stop: ["jail"],
  jail_start: ["jail"],
  reload: [],
  history: ["ip", "limit"],
  version: [],
  ping: [],
};
const REQUIRED: Record<string, readonly string[]> = {
  status_jail: ["jail"],
  banned: ["ips"],
  ban: ["ip", "jail"],
  ignore_add: ["cidr"],
  ignore_del: ["cidr"],
  jail_stop: ["jail"],
  jail_start: ["jail"],
  history: ["ip"],
};

/** docs/interfaces.md: `duration_s` at most 100 years of 366 days. */
const MAX_DURATION_S = 100 * 366 * 86_400;

const isName = (v: unknown) => typeof v === "string" && v.length >= 1 && v.length <= 256;

/** Why an accepted request breaks the protocol, or null. */
function violation(r: Record<string, unknown>): string | null {
  if (r.v !== 1) return "v is not 1";
  const fields = typeof r.cmd === "string" ? COMMANDS[r.cmd] : undefined;
  if (fields === undefined || !Object.hasOwn(COMMANDS, r.cmd as string)) return "unknown cmd";
  for (const k of Object.keys(r)) {
    if (k !== "v" && k !== "cmd" && !fields.includes(k)) return `field ${k} not of ${r.cmd}`;
  }
  for (const k of REQUIRED[r.cmd as string] ?? []) if (!(k in r)) return `no ${k}`;
  for (const k of ["jail", "ip", "cidr"]) if (k in r && !isName(r[k])) return `bad ${k}`;
  if ("ips" in r) {
    const ips = r.ips;
    if (!Array.isArray(ips) || ips.length < 1 || ips.length > 1000 || !ips.every(isName)) {
      return "bad ips";
    }
  }
  if (r.cmd === "unban" && ("ip" in r) === ("ips" in r)) return "unban needs one of ip, ips";
  const d = r.duration_s;
  if (
    "duration_s" in r && d !== null &&
    !(Number.isSafeInteger(d) && (d as number) >= 1 && (d as number) <= MAX_DURATION_S)
  ) {
    return "bad duration_s";
  }
  const n = r.limit;
  if ("limit" in r && !(Number.isSafeInteger(n) && (n as number) >= 1 && (n as number) <= 1000)) {
    return "bad limit";
  }
  return null;
}

const value = fc.oneof(
  fc.constantFrom("sshd", "203.0.113.7", "2001:db8::/32", "", null, 0, 1, -1, 1.5, 3600),
  fc.string({ maxLength: 8 }),
  fc.integer({ min: 255, max: 258 }).map((n) => "x".repeat(n)), // around MAX_NAME_CHARS
  fc.array(fc.constantFrom("203.0.113.7", "", "::1", 5), { maxLength: 3 }),
  fc.integer({ min: 999, max: 1001 }).map((n) => Array.from({ length: n }, () => "192.0.2.1")),
  fc.constantFrom(100 * 366 * 86_400, 100 * 366 * 86_400 + 1, 1000, 1001),
  fc.jsonValue({ maxDepth: 2 }),
);
const ANY_FIELD = ["jail", "ip", "ips", "cidr", "duration_s", "limit", "__proto__"];
const request = fc.constantFrom(...Object.keys(COMMANDS)).chain((command) =>
  fc.record({
    v: fc.oneof(
      { weight: 9, arbitrary: fc.constant(1) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
    ),
    cmd: fc.oneof(
      { weight: 9, arbitrary: fc.constant(command) },
      { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    ),
    fields: fc.dictionary(
      fc.oneof(
        { weight: 9, arbitrary: fc.constantFrom(...COMMANDS[command]!, "jail") },
        { weight: 1, arbitrary: fc.constantFrom(...ANY_FIELD) },
      ),
      value,
      { maxKeys: 3 },
    ),
  })
).map(({ v, cmd, fields }) => {
  const parts = [`"v":${JSON.stringify(v)}`, `"cmd":${JSON.stringify(cmd)}`];
  for (const [k, x] of Object.entries(fields)) {
    parts.push(`${JSON.stringify(k)}:${JSON.stringify(x)}`);
  }
  return `{${parts.join(",")}}`;
});

/** The `ipc-requests` target (`null`: a body that was not UTF-8). */
export const ipcRequestsTarget: Target<string | null> = {
  name: "ipc-requests",
  modules: ["src/ipc/protocol.ts"],
  runs: 4000,
  timeoutMs: 1000,
  arbitrary: (corpus) =>
    withCorpus(
      corpus,
      fc.oneof(
        { weight: 4, arbitrary: request },
        { weight: 4, arbitrary: mutatedString(request) },
        { weight: 1, arbitrary: fc.json() },
        { weight: 1, arbitrary: fc.constant(null) },
      ),
      (base) => mutatedString(base.map((b) => b ?? "")),
    ),
  check(text) {
    const parsed = parseRequest(text);
    if (!parsed.ok) {
      expect(
        parsed.code === "bad_request" || parsed.code === "unsupported_version",
        () => `refused with code ${parsed.code}`,
      );
      expect(typeof parsed.error === "string" && parsed.error.length > 0, () => "no reason");
      return;
    }
    const r = parsed.request as unknown as Record<string, unknown>;
    const why = violation(r);
    expect(why === null, () => `accepted a request that breaks the protocol: ${why}`);
    const again = parseRequest(JSON.stringify(r));
    expect(again.ok, () => `accepted once, refused re-serialised: ${JSON.stringify(again)}`);
  },
};
