import { equal } from "node:assert/strict";
import { createHash } from "node:crypto";
import { crc32 as zlibCrc32 } from "node:zlib";
import { crc32, sha256Hex } from "./mod.ts";

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

Deno.test("sha256Hex() matches the FIPS 180-4 examples", () => {
  equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  equal(
    sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

Deno.test("sha256Hex() and crc32() agree with node:crypto and node:zlib on every length 0..300", () => {
  for (let n = 0; n <= 300; n++) {
    const bytes = randomBytes(n, n + 1);
    equal(sha256Hex(bytes), createHash("sha256").update(bytes).digest("hex"), `sha256 length ${n}`);
    equal(crc32(bytes), zlibCrc32(bytes), `crc32 length ${n}`);
  }
  const big = randomBytes(1 << 20, 7);
  equal(sha256Hex(big), createHash("sha256").update(big).digest("hex"));
  equal(crc32(big), zlibCrc32(big));
  equal(crc32(big.subarray(5000), crc32(big.subarray(0, 5000))), zlibCrc32(big), "crc32 continues");
});
