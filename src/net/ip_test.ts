import { deepEqual, equal } from "node:assert/strict";
import {
  canonicalIp,
  formatIp,
  isNeverBannable,
  maskBytes,
  networkOf,
  parseIp,
  prefixOf,
} from "./mod.ts";

Deno.test("parseIp() accepts dotted quads and canonicalises IPv6 per RFC 5952", () => {
  const cases: [string, string][] = [
    ["1.2.3.4", "1.2.3.4"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["fe80::1:2", "fe80::1:2"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["64:ff9b::1.2.3.4", "64:ff9b::102:304"],
  ];
  for (const [input, want] of cases) equal(canonicalIp(input), want, input);
});

Deno.test("parseIp() folds v4-mapped IPv6 to IPv4", () => {
  equal(canonicalIp("::ffff:1.2.3.4"), "1.2.3.4");
  equal(canonicalIp("::FFFF:102:304"), "1.2.3.4");
  equal(canonicalIp("0:0:0:0:0:ffff:10.0.0.1"), "10.0.0.1");
  equal(parseIp("::ffff:1.2.3.4")?.family, 4);
});

Deno.test("parseIp() rejects ambiguous and foreign forms", () => {
  const bad = [
    "",
    "1.2.3",
    "1.2.3.4.5",
    "01.2.3.4",
    "1.2.3.04",
    "256.1.1.1",
    "1.2.3.4 ",
    " 1.2.3.4",
    "1.2.3.",
    ".1.2.3",
    "16909060",
    "0x1.2.3.4",
    "1..2.3",
    "fe80::1%eth0",
    "[::1]",
    "2001:db8::/32",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1::2::3",
    ":::",
    ":1::",
    "1:",
    ":1",
    "12345::",
    "::ffff:1.2.3",
    "::ffff:01.2.3.4",
    "1:2:3:4:5:6:7:1.2.3.4",
    "1.2.3.4::",
    "::1.2.3.4:5",
    "g::1",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "1.2.3.4/32",
  ];
  for (const t of bad) equal(parseIp(t), null, JSON.stringify(t));
});

Deno.test("formatIp() round-trips every parsed address", () => {
  for (const t of ["10.1.2.3", "2001:db8::", "::1", "2001:db8:1:2:3:4:5:6", "::ffff:0:1"]) {
    const ip = parseIp(t)!;
    deepEqual(parseIp(formatIp(ip)), ip, t);
  }
});

Deno.test("isNeverBannable() is true for loopback and unspecified only", () => {
  for (const t of ["127.0.0.1", "127.255.0.9", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1"]) {
    equal(isNeverBannable(t), true, t);
  }
  for (const t of ["1.2.3.4", "128.0.0.1", "::2", "2001:db8::1", "10.0.0.1"]) {
    equal(isNeverBannable(t), false, t);
  }
  equal(isNeverBannable("not an ip"), true);
});

Deno.test("networkOf() gives the canonical network address for IPv6 /64 grouping", () => {
  equal(networkOf("2001:db8:1:2:3:4:5:6", 64), "2001:db8:1:2::");
  equal(networkOf("2001:db8:1:2:3:4:5:6", 128), "2001:db8:1:2:3:4:5:6");
  equal(networkOf("2001:db8:1:2:3:4:5:6", 56), "2001:db8:1::");
  equal(networkOf("1.2.3.4", 24), "1.2.3.0");
  equal(networkOf("1.2.3.4", 64), "1.2.3.4");
  equal(prefixOf(parseIp("2001:db8::ff")!, 120), "2001:db8::");
});

Deno.test("canonicalIp() takes its IPv4 fast path only where parse-and-format gives the same text", () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const alphabet = "0123456789.0123456789.:x -+";
  for (let i = 0; i < 200_000; i++) {
    let s = "";
    const len = 1 + rnd(17);
    for (let k = 0; k < len; k++) s += alphabet[rnd(alphabet.length)];
    if (i % 3 === 0) s = `${rnd(300)}.${rnd(300)}.${rnd(300)}.${rnd(300)}`;
    if (i % 7 === 0) {
      s = `${rnd(2) ? "0" : ""}${rnd(256)}.${rnd(256)}.${rnd(2) ? "00" : ""}${rnd(256)}.${
        rnd(256)
      }`;
    }
    const p = parseIp(s);
    equal(canonicalIp(s), p === null ? null : formatIp(p), JSON.stringify(s));
  }
});

Deno.test("maskBytes() returns a copy with the bits after the prefix cleared", () => {
  const b = parseIp("2001:db8:1:2:3:4:5:6")!.bytes;
  equal(formatIp({ family: 6, bytes: maskBytes(b, 64) }), "2001:db8:1:2::");
  equal(formatIp({ family: 6, bytes: maskBytes(b, 60) }), "2001:db8:1::");
  equal(formatIp({ family: 6, bytes: b }), "2001:db8:1:2:3:4:5:6", "the input is left as it was");
  equal(
    formatIp({ family: 4, bytes: maskBytes(parseIp("203.0.113.77")!.bytes, 25) }),
    "203.0.113.0",
  );
});
