import assert from "node:assert/strict";
import { canonicalIp } from "../net/mod.ts";
import { formatWords, isNeverBannableWords, maskWords, parseIpWords, WordCidrList } from "./_ip.ts";

const w = new Uint32Array(4);
function canon(text: string): string | null {
  return parseIpWords(text, w) === 0 ? null : formatWords(w);
}

Deno.test("parseIpWords() reads IPv4 and IPv6 and formatWords() prints RFC 5952 text", () => {
  const cases: [string, string][] = [
    ["1.2.3.4", "1.2.3.4"],
    ["255.255.255.255", "255.255.255.255"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["::ffff:1.2.3.4", "1.2.3.4"],
    ["::ffff:102:304", "1.2.3.4"],
    ["0:0:0:0:0:ffff:1.2.3.4", "1.2.3.4"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["fe80::1:2:3:4", "fe80::1:2:3:4"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
  ];
  for (const [input, out] of cases) assert.equal(canon(input), out, input);
});

Deno.test("parseIpWords() rejects malformed addresses", () => {
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3.4 ",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      ":1::",
      "1:",
      "12345::",
      "::g",
      "1.2.3.4::",
      "::1.2.3",
      "fe80::1%eth0",
      "[::1]",
      "a".repeat(50),
    ]
  ) assert.equal(parseIpWords(bad, w), 0, bad);
});

Deno.test("maskWords() keeps the network bits; never-bannable covers loopback and unspecified", () => {
  parseIpWords("2001:db8:1:2:3:4:5:6", w);
  maskWords(w, 0, 64);
  assert.equal(formatWords(w), "2001:db8:1:2::");
  parseIpWords("2001:db8:1:2:3:4:5:6", w);
  maskWords(w, 0, 50);
  assert.equal(formatWords(w), "2001:db8:1::");
  for (const ip of ["127.0.0.1", "0.0.0.0", "::", "::1"]) {
    parseIpWords(ip, w);
    assert.ok(isNeverBannableWords(w), ip);
  }
  for (const ip of ["128.0.0.1", "::2", "1.0.0.0"]) {
    parseIpWords(ip, w);
    assert.ok(!isNeverBannableWords(w), ip);
  }
});

Deno.test("WordCidrList matches addresses and prefixes and rejects bad entries", () => {
  const list = new WordCidrList(["10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "0.0.0.0/0"]);
  const l2 = new WordCidrList(["10.0.0.0/8", "2001:db8::/32"]);
  const has = (l: WordCidrList, ip: string) => (parseIpWords(ip, w), l.has(w));
  assert.ok(has(list, "8.8.8.8")); // 0.0.0.0/0 covers all IPv4, not IPv6
  assert.ok(!has(list, "2001:db9::1"));
  assert.ok(has(l2, "10.255.0.1"));
  assert.ok(!has(l2, "11.0.0.1"));
  assert.ok(has(l2, "2001:db8:ffff::"));
  assert.throws(() => new WordCidrList(["10.0.0.0/33"]), /prefix length 0\.\.32/);
  assert.throws(() => new WordCidrList(["example.com"]), /IP address or CIDR/);
});

Deno.test("parseIpWords()/formatWords() agree with src/net canonicalIp on random addresses", () => {
  let seed = 9;
  const r = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  for (let i = 0; i < 5000; i++) {
    const groups = Array.from({ length: 8 }, () => (r(3) === 0 ? 0 : r(0x10000)).toString(16));
    const texts = [
      groups.join(":"),
      `${r(256)}.${r(256)}.${r(256)}.${r(256)}`,
      `::ffff:${r(256)}.${r(256)}.${r(256)}.${r(256)}`,
      `${groups[0]}::${groups[7]}`,
    ];
    for (const text of texts) assert.equal(canon(text), canonicalIp(text), text);
  }
});
