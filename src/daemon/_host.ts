/**
 * The host's own addresses, for `ignoreself`: every interface address (`Deno.networkInterfaces()`,
 * which needs the `sys` permission), plus loopback, canonical and without duplicates.
 * @module
 */
import { canonicalIp } from "../net/mod.ts";

/** Loopback addresses always counted as the host's own (127.0.0.0/8 is never banned anyway). */
export const LOOPBACK_ADDRESSES: readonly string[] = ["127.0.0.1", "::1"];

/** The canonical addresses of `interfaces` (an IPv6 zone `%eth0` dropped) and loopback. */
export function hostAddresses(
  interfaces: readonly { address: string }[] = Deno.networkInterfaces(),
): string[] {
  const out = new Set(LOOPBACK_ADDRESSES);
  for (const i of interfaces) {
    const at = i.address.indexOf("%");
    const ip = canonicalIp(at < 0 ? i.address : i.address.slice(0, at));
    if (ip !== null) out.add(ip);
  }
  return [...out];
}
