import { equal, match, throws } from "node:assert/strict";
import { cidrError, CidrSet, formatCidr, parseCidr } from "./mod.ts";

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
