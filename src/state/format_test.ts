import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import {
  decodeState,
  encodeState,
  encodeStateTo,
  openState,
  STATE_HEADER_BYTES,
  type StateData,
  type StateInput,
} from "./mod.ts";

const T = 1_767_225_600_000;

function sample(): StateData {
  return {
    savedAt: T + 5000,
    audit: { seq: 41, prev: "ab".repeat(32) },
    bans: [
      {
        jail: "sshd",
        ip: "203.0.113.5",
        prefix: 32,
        bannedAt: T,
        expiresAt: T + 600_000,
        banCount: 1,
      },
      {
        jail: "web",
        ip: "2001:db8:1:2::",
        prefix: 64,
        bannedAt: T + 1,
        expiresAt: null,
        banCount: 3,
      },
    ],
    history: [{
      jail: "sshd",
      ip: "198.51.100.7",
      prefix: 32,
      banCount: 2,
      lastBanAt: T - 86_400_000,
    }],
    failures: [{ jail: "recidive", ip: "2001:db8::9", prefix: 128, times: [T - 2, T - 1, T] }],
    positions: [
      { key: "file:/var/log/auth.log", data: new Uint8Array([1, 2, 3, 255]) },
      { key: "journal:sshd", data: new Uint8Array(0) },
    ],
    ignores: [
      { cidr: "10.0.0.0/8", jail: null },
      { cidr: "2001:db8:42::/48", jail: "web" },
      { cidr: "192.0.2.77", jail: "ftp" },
      { cidr: "127.0.0.0/8", jail: null },
    ],
  };
}

/** Recomputes the trailing CRC, as a forger who knows the format would. */
function resign(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  const r = decodeState(bytes);
  assert.equal(r.ok, false, "expected the file to be rejected");
  if (!r.ok) assert.match(r.reason, pattern);
}

Deno.test("encodeState()/decodeState() round-trip bans, history, failures, positions and ignore entries", () => {
  const input = sample();
  const bytes = encodeState(input);
  const r = decodeState(bytes);
  assert.ok(r.ok);
  if (r.ok) assert.deepEqual(r.state, input);
  const empty = {
    savedAt: T,
    audit: null,
    bans: [],
    history: [],
    failures: [],
    positions: [],
    ignores: [],
  };
  const e = decodeState(encodeState(empty));
  assert.ok(e.ok);
  if (e.ok) assert.deepEqual(e.state, empty);
});

Deno.test("the audit head is written in version 2, left out of version 1, and refused where impossible", () => {
  const input = sample();
  const v2 = decodeState(encodeState(input));
  assert.ok(v2.ok);
  assert.deepEqual(v2.ok && v2.state.audit, { seq: 41, prev: "ab".repeat(32) });
  const skipped: string[] = [];
  const v1bytes = encodeState(input, { version: 1, onSkip: (w, r) => skipped.push(`${w}: ${r}`) });
  assert.equal(new DataView(v1bytes.buffer).getUint16(4, true), 1);
  assert.deepEqual(skipped, ["audit head: version 1 has no audit record"]);
  const v1 = decodeState(v1bytes);
  assert.ok(v1.ok);
  // Migrated: version 1 is version 2 without the audit head; everything else is kept.
  if (v1.ok) assert.deepEqual(v1.state, { ...input, audit: null });
  // An AUDIT record in a version 1 file is a record type that version did not have.
  const forged = encodeState(input).slice();
  new DataView(forged.buffer).setUint16(4, 1, true);
  rejects(resign(forged), /unknown record type 7/);
  for (
    const [audit, why] of [
      [{ seq: -1, prev: "ab".repeat(32) }, "impossible audit seq -1"],
      [{ seq: 1.5, prev: "ab".repeat(32) }, "impossible audit seq 1.5"],
      [{ seq: 1, prev: "AB".repeat(32) }, "audit hash of 64 hex digits expected"],
    ] as const
  ) {
    const seen: string[] = [];
    const r = decodeState(encodeState({ ...input, audit }, { onSkip: (_w, r) => seen.push(r) }));
    assert.deepEqual(seen, [why]);
    assert.ok(r.ok && r.state.audit === null);
  }
});

Deno.test("an ignore record with host bits set or a bad family makes the file refused", () => {
  const one = (cidr: string) =>
    encodeState({
      ...sample(),
      audit: null,
      bans: [],
      history: [],
      failures: [],
      positions: [],
      ignores: [{ cidr, jail: null }],
    });
  const bytes = one("10.0.0.0/8");
  const at = bytes.length - 4 - 9 - 8; // the IGNORE payload: u16 jail, u8 family, u8 prefix, 4 bytes
  assert.equal(bytes[at - 5], 6, "record type IGNORE");
  const hostBits = bytes.slice();
  hostBits[at + 5] = 1; // 10.1.0.0/8
  rejects(resign(hostBits), /host bits/);
  const family = bytes.slice();
  family[at + 2] = 5;
  rejects(resign(family), /impossible family 5/);
  const skipped: string[] = [];
  encodeState({ ...sample(), ignores: [{ cidr: "10.0.0.1/8", jail: null }] }, {
    onSkip: (what) => skipped.push(what),
  });
  assert.deepEqual(skipped, ["ignore 10.0.0.1/8"]);
});

Deno.test("decodeState() rejects every single flipped byte of a small file", () => {
  const bytes = encodeState(sample());
  assert.ok(bytes.length > 200);
  for (let i = 0; i < bytes.length; i++) {
    for (const mask of [0xff, 0x01, 0x80]) {
      const bad = bytes.slice();
      bad[i]! ^= mask;
      assert.equal(decodeState(bad).ok, false, `byte ${i} ^ ${mask} was accepted`);
    }
  }
});

Deno.test("decodeState() rejects every truncation and any trailing garbage", () => {
  const bytes = encodeState(sample());
  for (let n = 0; n < bytes.length; n++) {
    assert.equal(
      decodeState(bytes.subarray(0, n)).ok,
      false,
      `truncated to ${n} bytes was accepted`,
    );
  }
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  assert.equal(decodeState(longer).ok, false);
  assert.equal(decodeState(resign(longer)).ok, false);
});

Deno.test("decodeState() rejects a forged file whose CRC does not match", () => {
  const bytes = encodeState(sample());
  const forged = bytes.slice();
  // Push the first ban's expiry a year out, keep the old CRC.
  const view = new DataView(forged.buffer);
  const banAt = STATE_HEADER_BYTES + 5 + 2 + 4; // after the "sshd" jail record
  const expOff = banAt + 5 + 4 + 4 + 1 + 8;
  assert.equal(view.getFloat64(expOff, true), T + 600_000);
  view.setFloat64(expOff, T + 365 * 86_400_000, true);
  rejects(forged, /checksum mismatch/);
  view.setUint32(forged.length - 4, 0xdeadbeef, true);
  rejects(forged, /checksum mismatch/);
  rejects(new Uint8Array(64), /not a fail2zig state file/);
});

Deno.test("decodeState() rejects a wrong version even with a valid CRC", () => {
  const bytes = encodeState(sample());
  for (const v of [0, 3, 0xffff]) {
    const bad = bytes.slice();
    new DataView(bad.buffer).setUint16(4, v, true);
    rejects(resign(bad), new RegExp(`unsupported version ${v}`));
  }
});

Deno.test("decodeState() rejects impossible values even with a valid CRC", () => {
  const ban0 = {
    jail: "sshd",
    ip: "203.0.113.5",
    prefix: 32,
    bannedAt: T,
    expiresAt: T + 1000,
    banCount: 1,
  };
  const one: StateInput = {
    savedAt: T,
    bans: [ban0],
    history: [],
    failures: [],
    positions: [],
  };
  const base = encodeState(one);
  const ban = STATE_HEADER_BYTES + 5 + 2 + 4;
  const p = ban + 5; // payload: jail u16, fam u8, prefix u8, addr 4, flags u8, at f64, exp f64, count u32
  const patch = (f: (v: DataView) => void) => {
    const b = base.slice();
    f(new DataView(b.buffer));
    return resign(b);
  };
  rejects(patch((v) => v.setFloat64(12, 0, true)), /impossible save time/);
  rejects(patch((v) => v.setFloat64(12, NaN, true)), /impossible save time/);
  rejects(patch((v) => v.setUint8(p + 3, 33)), /impossible prefix \/33/);
  rejects(patch((v) => v.setUint8(p + 3, 24)), /impossible prefix \/24/);
  rejects(patch((v) => v.setUint8(p + 2, 5)), /impossible address family 5/);
  rejects(patch((v) => v.setUint32(p + 4, 0x7f000001)), /never-bannable/);
  rejects(patch((v) => v.setUint8(p + 8, 2)), /unknown ban flags/);
  rejects(patch((v) => v.setFloat64(p + 9, 1e300, true)), /impossible ban time/);
  rejects(patch((v) => v.setFloat64(p + 17, T - 1, true)), /impossible expiry/);
  rejects(patch((v) => v.setFloat64(p + 17, Infinity, true)), /impossible expiry/);
  rejects(patch((v) => v.setUint32(p + 25, 0, true)), /ban count of 0/);
  rejects(patch((v) => v.setUint16(p, 9, true)), /undeclared jail 9/);
  rejects(patch((v) => v.setUint8(ban, 9)), /unknown record type 9/);
  rejects(patch((v) => v.setUint32(ban + 1, 28, true)), /expected 29|claims|bytes left/);
  rejects(patch((v) => v.setUint32(base.length - 8, 5, true)), /end record counts 5/);
  rejects(patch((v) => v.setUint32(8, 1, true)), /unknown header flags/);
  rejects(patch((v) => v.setUint16(6, 32, true)), /header length/);

  const v6 = encodeState({
    ...one,
    bans: [{ ...ban0, ip: "2001:db8::", prefix: 64 }],
  });
  const v6p = ban + 5;
  const patch6 = (f: (v: DataView) => void) => {
    const b = v6.slice();
    f(new DataView(b.buffer));
    return resign(b);
  };
  assert.ok(decodeState(v6).ok);
  rejects(patch6((v) => v.setUint8(v6p + 4 + 15, 1)), /host bits set under \/64/);
  rejects(patch6((v) => v.setUint8(v6p + 3, 8)), /impossible prefix \/8/);
  rejects(
    patch6((v) => {
      for (let k = 0; k < 16; k++) v.setUint8(v6p + 4 + k, k < 10 ? 0 : k < 12 ? 0xff : 1);
      v.setUint8(v6p + 3, 128);
    }),
    /v4-mapped/,
  );

  const twoFailures = encodeState({
    ...one,
    bans: [],
    failures: [{ jail: "sshd", ip: "192.0.2.1", prefix: 32, times: [T, T + 1] }],
  });
  const fp = STATE_HEADER_BYTES + 5 + 2 + 4 + 5 + 8 + 2;
  const b = twoFailures.slice();
  new DataView(b.buffer).setFloat64(fp, T + 2, true);
  rejects(resign(b), /out of order/);

  const pos = encodeState({
    ...one,
    bans: [],
    positions: [{ key: "a", data: new Uint8Array(1) }, { key: "b", data: new Uint8Array(1) }],
  });
  const dup = pos.slice();
  dup[pos.indexOf(0x62, STATE_HEADER_BYTES)] = 0x61; // second key "b" → "a"
  rejects(resign(dup), /appears twice/);
  const badUtf8 = pos.slice();
  badUtf8[pos.indexOf(0x62, STATE_HEADER_BYTES)] = 0xff;
  rejects(resign(badUtf8), /not UTF-8/);
});

Deno.test("encodeState() skips records the decoder would refuse, so the file always loads", () => {
  const s = sample();
  const b0 = s.bans[0]!;
  const skipped: string[] = [];
  const bytes = encodeState({
    ...s,
    bans: [
      b0,
      { ...b0, ip: "nope" },
      { ...b0, prefix: 24 },
      { ...b0, ip: "2001:db8::", prefix: 8 },
      { ...b0, ip: "127.0.0.1" },
      { ...b0, bannedAt: 0 },
      { ...b0, expiresAt: b0.bannedAt },
      { ...b0, banCount: 0 },
      { ...b0, jail: "" },
      { ...b0, ip: "192.0.2.1", addr: new Uint8Array([127, 0, 0, 1]) },
    ],
    failures: [{ jail: "sshd", ip: "192.0.2.9", prefix: 32, times: [T + 1, T] }],
    positions: [...s.positions, { key: "", data: new Uint8Array() }, s.positions[0]!],
  }, { onSkip: (what, reason) => skipped.push(`${what}: ${reason}`) });
  assert.equal(skipped.length, 12, skipped.join("\n"));
  const r = decodeState(bytes);
  assert.ok(r.ok);
  if (r.ok) {
    assert.equal(r.state.bans.length, 1);
    assert.equal(r.state.failures.length, 0);
    assert.equal(r.state.positions.length, 2);
  }
  assert.throws(() => encodeState({ ...s, savedAt: 0 }), /save time between 2000 and 2100/);
});

Deno.test("encodeState() writes a given addr as is instead of parsing ip", () => {
  const s = sample();
  const bytes = encodeState({
    ...s,
    bans: [{ ...s.bans[0]!, ip: "ignored", addr: new Uint8Array([198, 51, 100, 4]) }],
  });
  const r = decodeState(bytes);
  assert.ok(r.ok);
  if (r.ok) assert.equal(r.state.bans[0]!.ip, "198.51.100.4");
});

Deno.test("encodeStateTo() streams a large state in bounded chunks and openState() reads it lazily", () => {
  const n = 50_000;
  function* bans() {
    for (let i = 0; i < n; i++) {
      yield {
        jail: i % 2 ? "sshd" : "web",
        ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        prefix: 32,
        bannedAt: T + i,
        expiresAt: T + i + 600_000,
        banCount: 1,
      };
    }
  }
  const chunks: Uint8Array[] = [];
  const total = encodeStateTo(
    { savedAt: T, bans: bans(), history: [], failures: [], positions: [] },
    (c) => {
      assert.ok(c.length <= 64 * 1024);
      chunks.push(c.slice());
    },
  );
  assert.ok(chunks.length > 10);
  const bytes = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) (bytes.set(c, off), off += c.length);
  const opened = openState(bytes);
  assert.ok(opened.ok);
  if (!opened.ok) return;
  let count = 0;
  let last = -1;
  for (const b of opened.state.bans) {
    assert.equal(b.bannedAt, T + count);
    last = b.bannedAt;
    count++;
  }
  assert.equal(count, n);
  assert.equal(last, T + n - 1);
  assert.deepEqual([...opened.state.positions], []);
});
