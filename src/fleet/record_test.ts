import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { networkOf } from "../net/mod.ts";
import {
  addressToken,
  decodeRecord,
  encodeRecord,
  type FleetRecord,
  MAX_FUTURE_MS,
  MAX_RECORD_BYTES,
  subjectOf,
} from "./record.ts";
import { xorshift } from "../../tests/_rng.ts";

const NOW = 1_733_340_000_000;
const BAN: FleetRecord = {
  op: "ban",
  ip: "203.0.113.7",
  prefix: 32,
  jail: "sshd",
  origin: "web1",
  at: NOW,
  exp: NOW + 3_600_000,
  reason: "5 failures",
};

function randomRecord(r: () => number): FleetRecord {
  const int = (n: number) => Math.floor(r() * n);
  const v6 = r() < 0.5;
  const prefix = v6 ? 16 + int(113) : 32;
  const words = Array.from({ length: 8 }, () => int(0x10000).toString(16)).join(":");
  const ip = v6 ? networkOf(words, prefix) : `${1 + int(223)}.${int(256)}.${int(256)}.${int(256)}`;
  const name = (len: number, first = "") =>
    first + Array.from({ length: len }, () => "abcXYZ019_-"[int(11)]).join("");
  const op = r() < 0.7 ? "ban" : "unban";
  const at = NOW - int(1e9);
  return {
    op,
    ip,
    prefix,
    jail: name(int(23), "j"),
    origin: name(1 + int(63)),
    at,
    exp: op === "unban" || r() < 0.2 ? null : at + 1 + int(1e10),
    reason: Array.from({ length: int(128) }, () =>
      // printable ASCII or a CJK character (3 bytes in UTF-8): both fit the byte cap only shortened
      String.fromCharCode(r() < 0.5 ? 0x20 + int(0x5f) : 0x4e00 + int(0x100))).join(""),
  };
}

Deno.test("decodeRecord(encodeRecord(r)) is r for 2,000 random valid records, all ≤ 512 bytes", () => {
  const r = xorshift(16);
  for (let i = 0; i < 2000; i++) {
    const rec = randomRecord(r);
    const bytes = encodeRecord(rec);
    ok(bytes.length <= MAX_RECORD_BYTES, `${bytes.length} bytes`);
    const out = decodeRecord(subjectOf(rec), bytes, NOW);
    ok(out.ok, JSON.stringify(out));
    // The encoder may shorten the reason to fit the byte cap; everything else is kept.
    const { reason, ...rest } = out.record;
    const { reason: wanted, ...want } = rec;
    deepEqual(rest, want);
    ok(wanted.startsWith(reason));
  }
});

Deno.test("decodeRecord() never throws on truncated, bit-flipped or random bytes", () => {
  const r = xorshift(7);
  const base = encodeRecord(BAN);
  const subject = subjectOf(BAN);
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    let bytes: Uint8Array;
    const kind = i % 3;
    if (kind === 0) bytes = base.slice(0, Math.floor(r() * base.length));
    else if (kind === 1) {
      bytes = base.slice();
      bytes[Math.floor(r() * bytes.length)]! ^= 1 << Math.floor(r() * 8);
    } else bytes = Uint8Array.from({ length: Math.floor(r() * 600) }, () => Math.floor(r() * 256));
    const out = decodeRecord(subject, bytes, NOW);
    if (out.ok) {
      accepted++;
      // A flip that still decodes must still be a record for this subject.
      equal(subjectOf(out.record), subject);
    }
  }
  ok(accepted < 2000, `${accepted} mutated records accepted`);
});

Deno.test("decodeRecord() drops each kind of bad record with its reason", () => {
  const subject = subjectOf(BAN);
  const json = (o: Record<string, unknown>) => new TextEncoder().encode(JSON.stringify(o));
  const cases: [string, Uint8Array, string, string?][] = [
    ["oversize", new Uint8Array(MAX_RECORD_BYTES + 1).fill(32), "oversize"],
    ["not JSON", new TextEncoder().encode("{"), "malformed"],
    ["an array", json([] as unknown as Record<string, unknown>), "malformed"],
    ["version 2", json({ ...BAN, v: 2 }), "version"],
    ["no version", json({ ...BAN }), "malformed"],
    ["an extra key", json({ v: 1, ...BAN, x: 1 }), "malformed"],
    ["a missing key", json({ v: 1, ...BAN, reason: undefined }), "malformed"],
    ["non-canonical ip", json({ v: 1, ...BAN, ip: "203.0.113.07" }), "malformed"],
    [
      "host bits past prefix",
      json({ v: 1, ...BAN, ip: "2001:db8::1", prefix: 64 }),
      "malformed",
      subjectOf({ ...BAN, ip: "2001:db8::1", prefix: 64 }),
    ],
    ["IPv4 prefix", json({ v: 1, ...BAN, prefix: 24 }), "malformed"],
    ["jail fleet", json({ v: 1, ...BAN, jail: "fleet" }), "malformed"],
    ["origin with a dot", json({ v: 1, ...BAN, origin: "a.b" }), "malformed"],
    ["exp before at", json({ v: 1, ...BAN, exp: BAN.at }), "malformed"],
    ["unban with exp", json({ v: 1, ...BAN, op: "unban" }), "malformed"],
    ["float at", json({ v: 1, ...BAN, at: NOW + 0.5 }), "malformed"],
    ["control character", json({ v: 1, ...BAN, reason: "a\nb" }), "malformed"],
    ["61 s ahead", json({ v: 1, ...BAN, at: NOW + MAX_FUTURE_MS + 1000 }), "future"],
    ["another origin", encodeRecord({ ...BAN, origin: "web2" }), "forged"],
    ["another address", encodeRecord({ ...BAN, ip: "203.0.113.8" }), "forged"],
  ];
  for (const [what, bytes, reason, subj] of cases) {
    const out = decodeRecord(subj ?? subject, bytes, NOW);
    equal(out.ok ? "accepted" : out.reason, reason, what);
  }
  ok(decodeRecord(subject, json({ v: 1, ...BAN, at: NOW + MAX_FUTURE_MS }), NOW).ok, "60 s ahead");
});

Deno.test("subjects: one per origin, jail and address; tokens never hold a dot", () => {
  equal(subjectOf(BAN), "fail2zig.ban.web1.sshd.203_0_113_7");
  equal(addressToken("2001:db8::", 64), "2001-db8--~64");
  equal(addressToken("2001:db8::1", 128), "2001-db8--1");
  equal(subjectOf({ ...BAN, op: "unban" } as FleetRecord), subjectOf(BAN), "unban supersedes");
});

Deno.test("encodeRecord() shortens a long reason to fit and refuses an invalid record", () => {
  const long = {
    ...BAN,
    origin: "o".repeat(64),
    jail: "j".repeat(24),
    reason: "\u4e00".repeat(130),
  };
  const bytes = encodeRecord(long);
  ok(bytes.length <= MAX_RECORD_BYTES);
  const out = decodeRecord(subjectOf(long), bytes, NOW);
  ok(out.ok && out.record.reason.length < 128 && long.reason.startsWith(out.record.reason));
  throws(() => encodeRecord({ ...BAN, ip: "x" }), RangeError);
});
