/**
 * Ban targets for the firewall backends: validation of the address/prefix the tracker hands over
 * (parsing through `src/net`), and the prefix arithmetic interval sets need.
 * @module
 */
import { formatIp, isNeverBannable, maskBytes, parseIp } from "../net/mod.ts";
import { type BanEntry, FirewallError } from "./backend.ts";

/** Widest IPv6 block a ban may cover (config allows `ipv6_prefix` 16..128); wider would cut off whole regions. */
export const MIN_IPV6_PREFIX = 16;

/** Canonical text of 4 or 16 address bytes. */
export function formatAddr(bytes: Uint8Array): string {
  if (bytes.length !== 4 && bytes.length !== 16) {
    throw new RangeError(`address of ${bytes.length} bytes`);
  }
  return formatIp({ family: bytes.length === 4 ? 4 : 6, bytes });
}

/** The first address after the block `bytes/prefix`; null when the block ends the space. */
export function blockEnd(bytes: Uint8Array, prefix: number): Uint8Array | null {
  const out = maskBytes(bytes, prefix);
  if (prefix === 0) return null;
  // add 1 at bit position prefix-1
  let i = (prefix - 1) >> 3;
  let add = 0x80 >> ((prefix - 1) & 7);
  while (i >= 0) {
    const sum = out[i]! + add;
    out[i] = sum & 0xff;
    if (sum <= 0xff) return out;
    add = 1;
    i--;
  }
  return null;
}

/** Length of the common leading bits of a and b (same length). */
export function commonPrefix(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! ^ b[i]!;
    if (x === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(x) - 24;
  }
  return n;
}

/** A validated ban target. */
export interface Target {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
  /** `ip/prefix` with the canonical address text. */
  readonly key: string;
}

/**
 * Validates a ban entry's address and prefix: IPv4 must be /32; IPv6 /MIN_IPV6_PREFIX../128, and
 * the address must be the block's network address (no host bits set).
 */
export function toTarget(backend: string, ip: string, prefix: number): Target {
  const a = parseIp(ip);
  if (a === null) {
    throw new FirewallError(
      backend,
      "validate",
      `expected an IPv4 or IPv6 address, found ${JSON.stringify(ip)}`,
    );
  }
  const max = a.family === 4 ? 32 : 128;
  const min = a.family === 4 ? 32 : MIN_IPV6_PREFIX;
  if (!Number.isInteger(prefix) || prefix < min || prefix > max) {
    throw new FirewallError(
      backend,
      "validate",
      `expected prefix ${min}..${max} for ${ip}, found ${prefix}`,
    );
  }
  const masked = maskBytes(a.bytes, prefix);
  if (masked.some((b, i) => b !== a.bytes[i])) {
    throw new FirewallError(
      backend,
      "validate",
      `expected the network address of ${ip}/${prefix} (${
        formatAddr(masked)
      }), found host bits set`,
    );
  }
  if (isNeverBannable(a)) {
    throw new FirewallError(
      backend,
      "validate",
      `expected a bannable address, found ${ip} (loopback or unspecified)`,
    );
  }
  const text = formatAddr(a.bytes);
  return { family: a.family, bytes: a.bytes, prefix, key: `${text}/${prefix}` };
}

/**
 * `toTarget()` of a ban entry, whose timeout must also be positive and finite (or null for
 * permanent); `op` names the operation in the error.
 */
export function entryTarget(backend: string, op: string, e: BanEntry): Target {
  const t = toTarget(backend, e.ip, e.prefix);
  if (e.timeoutMs !== null && !(e.timeoutMs > 0 && Number.isFinite(e.timeoutMs))) {
    throw new FirewallError(
      backend,
      op,
      `expected a positive timeout for ${t.key}, found ${e.timeoutMs}`,
    );
  }
  return t;
}

/** Jail names go into kernel comments: keep them to a safe alphabet and length. */
export function safeComment(jail: string): string {
  return jail.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 64);
}
