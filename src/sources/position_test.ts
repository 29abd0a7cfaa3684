import { deepStrictEqual, notStrictEqual, strictEqual, throws } from "node:assert/strict";
import {
  decodePosition,
  encodePosition,
  type FilePosition,
  fingerprint,
  MAX_ROTATED,
  POSITION_MAX_BYTES,
  positionKey,
  positionSource,
} from "./position.ts";

const file: FilePosition = {
  kind: "file",
  path: "/var/log/auth.log",
  dev: 2049,
  ino: 1234567,
  size: 5000,
  offset: 4096,
  fpLen: 64,
  fp: fingerprint(new TextEncoder().encode("2026-11-24T12:26:41 host sshd[1]: x")),
};

Deno.test("encodePosition and decodePosition round-trip file and journal positions", () => {
  deepStrictEqual(decodePosition(encodePosition(file)), file);
  const rotated: FilePosition = {
    ...file,
    group: "end",
    rotated: [{ dev: 1, ino: 2, size: 3, offset: 3, fpLen: 3, fp: "00000000000abc" }],
  };
  deepStrictEqual(decodePosition(encodePosition(rotated)), rotated);
  strictEqual(positionKey(rotated), "end:/var/log/auth.log");
  strictEqual(positionKey(file), "/var/log/auth.log");
  const journal = {
    kind: "journal" as const,
    key: "journal::_SYSTEMD_UNIT=ssh.service",
    cursor: "s=1;i=2",
  };
  deepStrictEqual(decodePosition(encodePosition(journal)), journal);
});

Deno.test("decodePosition rejects malformed bytes, naming what it expected", () => {
  const enc = new TextEncoder();
  throws(() => decodePosition(new Uint8Array([0xff, 0xfe])), /UTF-8 JSON/);
  throws(() => decodePosition(enc.encode("[]")), /position object/);
  throws(() => decodePosition(enc.encode(`{"kind":"pipe"}`)), /kind "file" or "journal"/);
  throws(
    () => decodePosition(enc.encode(JSON.stringify({ ...file, offset: -1 }))),
    /offset to be a non-negative integer/,
  );
  throws(() => decodePosition(enc.encode(JSON.stringify({ ...file, path: "rel" }))), /absolute/);
  throws(() => decodePosition(enc.encode(JSON.stringify({ ...file, fp: "zz" }))), /14 hex/);
  throws(() => decodePosition(new Uint8Array(POSITION_MAX_BYTES + 1)), /at most/);
  throws(() => decodePosition(enc.encode(JSON.stringify({ ...file, group: "a:b" }))), /group/);
  const many = Array.from({ length: MAX_ROTATED + 1 }, () => ({ ...file, kind: undefined }));
  throws(() => decodePosition(enc.encode(JSON.stringify({ ...file, rotated: many }))), /at most/);
  throws(
    () => decodePosition(enc.encode(JSON.stringify({ ...file, rotated: [{ ...file, ino: -2 }] }))),
    /ino/,
  );
});

Deno.test("fingerprint is stable, 14 hex digits, and sensitive to every byte", () => {
  const a = new TextEncoder().encode("Nov 24 12:00:00 host sshd[1]: Failed password");
  strictEqual(fingerprint(a), fingerprint(a.slice()));
  strictEqual(fingerprint(a).length, 14);
  const b = a.slice();
  b[a.length - 1]! ^= 1;
  notStrictEqual(fingerprint(a), fingerprint(b));
  notStrictEqual(fingerprint(new Uint8Array(0)), fingerprint(new Uint8Array(1)));
});

Deno.test("positionSource names the source a record belongs to", () => {
  strictEqual(positionSource(file), "file:");
  strictEqual(positionSource({ ...file, group: "start" }), "file:start");
  strictEqual(
    positionSource({ kind: "journal", key: "journal::X=1", cursor: "c" }),
    "journal::X=1",
  );
});
