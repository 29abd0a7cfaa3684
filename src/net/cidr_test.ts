import { equal, match, throws } from "node:assert/strict";
import { cidrError, CidrSet, formatCidr, parseCidr, parseIpWords, WordCidrList } from "./mod.ts";

Deno.test("parseCidr() accepts networks and bare addresses", () => {
  equal(formatCidr(parseCidr("10.0.0.0/8")!), "10.0.0.0/8");
  equal(formatCidr(parseCidr("1.2.3.4")!), "1.2.3.4/32");
  equal(formatCidr(parseCidr("2001:DB8::/32")!), "2001:db8::/32");
  equal(formatCidr(parseCidr("::1")!), "::1/128");
  equal(formatCidr(parseCidr("0.0.0.0/0")!), "0.0.0.0/0");
});

Deno.test("parseCidr() rejects host bits, bad lengths and bad addresses with a clear message", () => {
  for (const t of ["10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/08", "x/8", "::/129"]) {
    equal(parseCidr(t), null, t);
  }
  match(cidrError("10.0.0.1/8")!, /host bits clear.*10\.0\.0\.0\/8/);
  match(cidrError("10.0.0.0/33")!, /prefix length 0\.\.32/);
  match(cidrError("::ffff:10.0.0.0/104")!, /10\.0\.0\.0\/8/);
});

Deno.test("CidrSet.has() finds addresses in any block of either family", () => {
  const set = new CidrSet(["127.0.0.0/8", "::1", "192.0.2.0/24", "2001:db8:abcd::/48", "10.1.2.3"]);
  equal(set.size, 5);
  for (const t of ["127.0.0.1", "192.0.2.200", "::1", "2001:db8:abcd:1::9", "10.1.2.3"]) {
    equal(set.has(t), true, t);
  }
  for (const t of ["128.0.0.1", "192.0.3.1", "::2", "2001:db8:abce::1", "10.1.2.4", "junk"]) {
    equal(set.has(t), false, t);
  }
  equal(set.has("::ffff:192.0.2.1"), true);
  equal(new CidrSet(["0.0.0.0/0"]).has("8.8.8.8"), true);
  equal(new CidrSet(["0.0.0.0/0"]).has("::8"), false);
});

Deno.test("CidrSet rejects an invalid entry naming it", () => {
  throws(() => new CidrSet(["10.0.0.0/8", "10.0.0.1/8"]), /10\.0\.0\.1\/8/);
});

Deno.test("WordCidrList matches addresses and prefixes and rejects bad entries", () => {
  const w = new Uint32Array(4);
  const list = new WordCidrList(["10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "0.0.0.0/0"]);
  const l2 = new WordCidrList(["10.0.0.0/8", "2001:db8::/32"]);
  const has = (l: WordCidrList, ip: string) => (parseIpWords(ip, w), l.has(w));
  equal(has(list, "8.8.8.8"), true); // 0.0.0.0/0 covers all IPv4, not IPv6
  equal(has(list, "2001:db9::1"), false);
  equal(has(l2, "10.255.0.1"), true);
  equal(has(l2, "::ffff:10.255.0.1"), true);
  equal(has(l2, "11.0.0.1"), false);
  equal(has(l2, "2001:db8:ffff::"), true);
  parseIpWords("2001:db8::", w);
  equal(l2.overlaps(w, 0, 16), true, "a /16 containing a listed /32");
  parseIpWords("2001:db9::", w);
  equal(l2.overlaps(w, 0, 32), false);
  throws(() => new WordCidrList(["10.0.0.0/33"]), /prefix length 0\.\.32/);
  throws(() => new WordCidrList(["example.com"]), /IP address or CIDR/);
});
