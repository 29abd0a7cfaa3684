import { equal, throws } from "node:assert/strict";
import { TokenBucket } from "./rate_limit.ts";

Deno.test("TokenBucket allows the burst, then one token per 1/rate seconds", () => {
  const b = new TokenBucket({ ratePerSecond: 10, burst: 3 });
  equal([b.take(0), b.take(0), b.take(0), b.take(0)].join(), "true,true,true,false");
  equal(b.msUntilToken(0), 100);
  equal(b.take(50), false);
  equal(b.msUntilToken(50), 50);
  equal(b.take(100), true);
  equal(b.take(100), false);
  equal(b.take(10_000), true); // refilled, but never past the burst
  equal(b.take(10_000), true);
  equal(b.take(10_000), true);
  equal(b.take(10_000), false);
});

Deno.test("TokenBucket ignores a clock going backwards and refuses nonsense settings", () => {
  const b = new TokenBucket({ ratePerSecond: 1, burst: 1 });
  equal(b.take(5000), true);
  equal(b.take(1000), false);
  equal(b.take(5999), false);
  equal(b.take(6000), true);
  throws(() => new TokenBucket({ ratePerSecond: 0, burst: 1 }), /ratePerSecond/);
});
