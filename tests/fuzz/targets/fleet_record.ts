/**
 * Target `fleet-record`: a ban record from another host (src/fleet/record.ts) through
 * `decodeRecord(subject, bytes, now)`. Fails when the decoder throws, drops with a reason outside
 * its documented set, refuses a record `encodeRecord` wrote on its own subject, or accepts one
 * that breaks the wire contract as checked here (canonical address with no bits past its prefix,
 * names, times, at most 60 s ahead, the subject the record's own) or that does not survive being
 * encoded and decoded again.
 * @module
 */
import fc from "fast-check";
import { decodeRecord, encodeRecord, type FleetRecord, subjectOf } from "../../../src/fleet/mod.ts";
import { canonicalIp, networkOf } from "../../../src/net/mod.ts";
import { mutatedBytes, mutatedString } from "../_input.ts";
import { expect, type Target } from "../_target.ts";

/** One input; `valid`: the record was written by `encodeRecord` on its own subject, untouched. */
export interface FleetInput {
  subject: string;
  bytes: Uint8Array;
  now: number;
  valid: boolean;
}

const NOW = 1_767_225_600_000;
const DROPS = ["oversize", "malformed", "version", "future", "forged"];
const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,10}$/).filter((j) => j !== "fleet");
const address = fc.oneof(
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
    .map(([a, b, c, d]) => ({ ip: `${a}.${b}.${c}.${d}`, prefix: 32 })),
  fc.tuple(
    fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
    fc.integer({ min: 16, max: 128 }),
  )
    .map(([w, prefix]) => ({
      ip: networkOf(w.map((x) => x.toString(16)).join(":"), prefix),
      prefix,
    })),
);
const record: fc.Arbitrary<FleetRecord> = fc.tuple(
  address,
  fc.constantFrom("ban" as const, "unban" as const),
  name,
  fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/),
  fc.integer({ min: 1, max: NOW }),
  fc.option(fc.integer({ min: 1, max: 10 ** 9 }), { nil: null }),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/\p{Cc}/gu, " ")),
).map(([a, op, jail, origin, at, len, reason]) => ({
  op,
  ...a,
  jail,
  origin,
  at,
  exp: op === "unban" || len === null ? null : at + len,
  reason,
}));
const written = record.map((r) => ({
  subject: subjectOf(r),
  bytes: encodeRecord(r),
  now: NOW,
  valid: true,
}));
const edited = fc.tuple(written, fc.boolean(), fc.integer({ min: -120_000, max: 120_000 })).chain(
  ([w, bytes, skew]) =>
    bytes
      ? mutatedBytes(fc.constant(w.bytes), 4).map((b) => ({
        ...w,
        bytes: b,
        now: w.now + skew,
        valid: false,
      }))
      : mutatedString(fc.constant(w.subject), 3).map((s) => ({ ...w, subject: s, valid: false })),
);

/** Why an accepted record breaks the contract, or null. */
function violation(r: FleetRecord, subject: string, now: number): string | null {
  if (r.op !== "ban" && r.op !== "unban") return "op";
  if (canonicalIp(r.ip) !== r.ip) return "ip not canonical";
  const v6 = r.ip.includes(":");
  if (!Number.isInteger(r.prefix) || r.prefix > (v6 ? 128 : 32) || r.prefix < (v6 ? 16 : 32)) {
    return "prefix";
  }
  if (networkOf(r.ip, r.prefix) !== r.ip) return "bits past the prefix";
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$/.test(r.jail) || r.jail === "fleet") return "jail";
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(r.origin)) return "origin";
  if (!Number.isSafeInteger(r.at) || r.at <= 0 || r.at > now + 60_000) return "at";
  if (r.exp !== null && !(Number.isSafeInteger(r.exp) && r.exp > r.at && r.op === "ban")) {
    return "exp";
  }
  if (typeof r.reason !== "string" || r.reason.length > 128 || /\p{Cc}/u.test(r.reason)) {
    return "reason";
  }
  if (subject !== subjectOf(r)) return "subject not the record's";
  return null;
}

/** The `fleet-record` target. */
export const fleetRecordTarget: Target<FleetInput> = {
  name: "fleet-record",
  modules: ["src/fleet/record.ts"],
  runs: 3000,
  timeoutMs: 1000,
  arbitrary: (corpus) => {
    const bases = corpus.length === 0 ? [] : [fc.constantFrom(...corpus)];
    const fromCorpus = bases.map((b) =>
      fc.tuple(b, mutatedBytes(b.map((x) => x.bytes), 4)).map(([x, bytes]) => ({
        ...x,
        bytes,
        valid: false,
      }))
    );
    return fc.oneof(written, edited, ...fromCorpus);
  },
  check({ subject, bytes, now, valid }) {
    const d = decodeRecord(subject, bytes, now);
    if (!d.ok) {
      expect(!valid, () => `refused a written record: ${d.reason} (${d.detail})`);
      expect(DROPS.includes(d.reason), () => `drop reason ${d.reason}`);
      return;
    }
    const why = violation(d.record, subject, now);
    expect(why === null, () => `accepted a record that breaks the contract: ${why}`);
    const again = decodeRecord(subject, encodeRecord(d.record), now);
    expect(
      again.ok && JSON.stringify(again.record) === JSON.stringify(d.record),
      () => `an accepted record does not survive re-encoding: ${JSON.stringify(again)}`,
    );
  },
};
