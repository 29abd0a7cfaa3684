/**
 * Target `state`: the state file decoder. Two kinds of input:
 * - a state (any records, impossible ones included) written with `encodeState`: the file must load
 *   (the encoder promises a written file always loads), with every record the encoder did not
 *   report skipped, field for field;
 * - bytes (written files edited, or random): `decodeState` must not throw, and a state it accepts
 *   must survive another write and read unchanged.
 * @module
 */
import fc from "fast-check";
import { decodeState, encodeState, type StateData } from "../../../src/state/mod.ts";
import { canonicalIp, networkOf } from "../../../src/net/mod.ts";
import { mutatedBytes } from "../_input.ts";
import { expect, type Target } from "../_target.ts";

/** One input: a state to write, or bytes to read. */
export type StateFuzzInput = { state: StateData } | { bytes: Uint8Array };

const T0 = 946_684_800_000, T1 = 4_102_444_800_000;
const time = fc.oneof(
  fc.integer({ min: T0, max: T1 }),
  fc.constantFrom(T0 - 1, T1 + 1, 0, -1, 1.5, NaN),
);
const ip = fc.constantFrom(
  "203.0.113.7",
  "2001:db8::",
  "2001:db8:1:2::",
  "::ffff:192.0.2.1",
  "198.51.100.0",
  "not-an-ip",
  "",
);
const prefix = fc.constantFrom(32, 24, 128, 64, 0, 129, 33, -1);
const jail = fc.oneof(
  fc.constantFrom("sshd", "web", "", "x".repeat(256)),
  fc.string({ maxLength: 6 }),
);
const state: fc.Arbitrary<StateData> = fc.record({
  savedAt: fc.integer({ min: T0, max: T1 }),
  audit: fc.option(
    fc.record({
      seq: fc.oneof(fc.nat(), fc.constant(-1)),
      prev: fc.constantFrom("ab".repeat(32), "0".repeat(64), "x"),
    }),
    { nil: null },
  ),
  bans: fc.array(
    fc.record({
      jail,
      ip,
      prefix,
      bannedAt: time,
      expiresAt: fc.option(time, { nil: null }),
      banCount: fc.oneof(fc.nat(1000), fc.constant(-1)),
    }),
    { maxLength: 4 },
  ),
  history: fc.array(
    fc.record({ jail, ip, prefix, banCount: fc.nat(1000), lastBanAt: time }),
    { maxLength: 3 },
  ),
  failures: fc.array(
    fc.record({ jail, ip, prefix, times: fc.array(time, { maxLength: 5 }) }),
    { maxLength: 3 },
  ),
  positions: fc.array(
    fc.record({ key: fc.string({ maxLength: 12 }), data: fc.uint8Array({ maxLength: 32 }) }),
    { maxLength: 3 },
  ),
  ignores: fc.array(
    fc.record({
      cidr: fc.constantFrom("192.0.2.0/24", "2001:db8::/32", "10.0.0.1", "bad/99", ""),
      jail: fc.option(jail, { nil: null }),
    }),
    { maxLength: 3 },
  ),
});

const KINDS = ["bans", "history", "failures", "positions", "ignores"] as const;

/** The fields of a record that must come back as written. */
function keyOf(kind: (typeof KINDS)[number], r: unknown): string {
  const x = r as Record<string, unknown>;
  // an address is stored as its network under the prefix (2001:db8:: /24 reads 2001:d00::)
  let ip = typeof x.ip === "string" ? (canonicalIp(x.ip) ?? x.ip) : "";
  try {
    ip = networkOf(ip, x.prefix as number);
  } catch {
    // not an address, or a prefix its family lacks: such a record is skipped anyway
  }
  switch (kind) {
    case "bans":
      return plain([x.jail, ip, x.prefix, x.bannedAt, x.expiresAt, x.banCount]);
    case "history":
      return plain([x.jail, ip, x.prefix, x.banCount, x.lastBanAt]);
    case "failures":
      return plain([x.jail, ip, x.prefix, x.times]);
    case "positions":
      return plain([x.key, x.data]);
    case "ignores":
      return plain([x.cidr, x.jail]);
  }
}

/** True when `sub` is `all` with some entries left out, in the same order. */
function isSubsequence(sub: readonly string[], all: readonly string[]): boolean {
  let i = 0;
  for (const a of all) if (i < sub.length && sub[i] === a) i++;
  return i === sub.length;
}

function plain(v: unknown): string {
  return JSON.stringify(v, (_k, x) => x instanceof Uint8Array ? [...x] : x);
}

/** The `state` target. */
export const stateTarget: Target<StateFuzzInput> = {
  name: "state",
  modules: ["src/state/format.ts"],
  runs: 2000,
  timeoutMs: 1000,
  arbitrary: (corpus) => {
    const written = state.map((s) => encodeState(s));
    const bases = corpus.map((c) => "bytes" in c ? c.bytes : encodeState(c.state));
    const from = bases.length === 0 ? written : fc.oneof(written, fc.constantFrom(...bases));
    return fc.oneof(
      state.map((s) => ({ state: s })),
      mutatedBytes(from, 4).map((bytes) => ({ bytes })),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ bytes })),
    );
  },
  check(input) {
    if ("state" in input) {
      const skipped: string[] = [];
      const bytes = encodeState(input.state, {
        onSkip: (what) => what !== "audit head" && skipped.push(what),
      });
      const d = decodeState(bytes);
      expect(d.ok, () => `a written state does not load: ${!d.ok && d.reason}`);
      const kept = KINDS.reduce((a, k) => a + d.state[k].length, 0);
      // an address without failure times carries nothing: the encoder leaves it out unreported
      const empty = input.state.failures.filter((f) => f.times.length === 0).length;
      const given = KINDS.reduce((a, k) => a + input.state[k].length, 0) - empty;
      expect(
        kept + skipped.length === given,
        () => `${given} records written, ${kept} read back and ${skipped.length} reported skipped`,
      );
      for (const kind of KINDS) {
        const read = (d.state[kind] as readonly unknown[]).map((r) => keyOf(kind, r));
        const written = (input.state[kind] as readonly unknown[]).map((r) => keyOf(kind, r));
        expect(
          isSubsequence(read, written),
          () => `${kind} read back are not the ones written, in order: ${read.join(" ; ")}`,
        );
      }
      return;
    }
    const d = decodeState(input.bytes);
    if (!d.ok) {
      expect(typeof d.reason === "string" && d.reason.length > 0, () => "refused without reason");
      return;
    }
    const again = decodeState(encodeState(d.state));
    expect(again.ok, () => `an accepted state does not load once rewritten`);
    const a = plain(d.state), b = plain(again.state);
    expect(a === b, () => `rewritten state differs:\n${a.slice(0, 300)}\n${b.slice(0, 300)}`);
  },
};
