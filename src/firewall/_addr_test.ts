import assert from "node:assert/strict";
import { parseIp } from "../net/mod.ts";
import { FirewallError } from "./backend.ts";
import { blockEnd, entryTarget, formatAddr, safeComment, toTarget } from "./_addr.ts";

const b = (t: string) => parseIp(t)!.bytes;

Deno.test("blockEnd() is the first address after the block, null at the end of the space", () => {
  assert.equal(formatAddr(blockEnd(b("2001:db8::"), 64)!), "2001:db8:0:1::");
  assert.equal(formatAddr(blockEnd(b("2001:db8::5"), 128)!), "2001:db8::6");
  assert.equal(formatAddr(blockEnd(b("2001:db8::ffff"), 128)!), "2001:db8::1:0");
  assert.equal(blockEnd(b("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 128), null);
  assert.equal(formatAddr(blockEnd(b("203.0.113.255"), 32)!), "203.0.114.0");
});

Deno.test("toTarget() accepts canonical targets and refuses what would ban the wrong thing", () => {
  assert.equal(toTarget("x", "203.0.113.5", 32).key, "203.0.113.5/32");
  assert.equal(toTarget("x", "2001:DB8::", 64).key, "2001:db8::/64");
  for (
    const [ip, p] of [
      ["203.0.113.0", 24],
      ["2001:db8::1", 64],
      ["2000::", 8],
      ["127.0.0.1", 32],
      ["::", 128],
      ["203.0.113.5 ", 32],
      ["203.0.113.5", 32.5],
    ] as const
  ) {
    assert.throws(() => toTarget("x", ip, p), FirewallError, `${ip}/${p}`);
  }
});

Deno.test("safeComment() keeps jail names to a safe alphabet and length", () => {
  assert.equal(safeComment('ss"hd; drop'), "ss_hd__drop");
  assert.equal(safeComment("x".repeat(100)).length, 64);
});

Deno.test("entryTarget() accepts a positive or null timeout and refuses the rest with the address", () => {
  const e = { ip: "203.0.113.7", prefix: 32, jail: "sshd" };
  assert.equal(entryTarget("x", "ban", { ...e, timeoutMs: 1000 }).key, "203.0.113.7/32");
  assert.equal(entryTarget("x", "ban", { ...e, timeoutMs: null }).key, "203.0.113.7/32");
  for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => entryTarget("x", "ban", { ...e, timeoutMs: bad }),
      (err) =>
        err instanceof FirewallError &&
        err.message.includes(`expected a positive timeout for 203.0.113.7/32, found ${bad}`),
    );
  }
});
