/**
 * Addresses as values: parsing into an `Ip`, canonical text. The syntax (what is accepted and
 * rejected) and the codec itself are words.ts'; these wrap it for callers that keep an address.
 * @module
 */
import { bytesToWords, formatWords, MAX_IP_TEXT, parseIpWords, wordsToBytes } from "./words.ts";
export { MAX_IP_TEXT };

/** A parsed address: 4 bytes for IPv4, 16 for IPv6 (never a v4-mapped IPv6). */
export interface Ip {
  /** 4 for IPv4, 6 for IPv6. */
  readonly family: 4 | 6;
  /** Network byte order; length 4 or 16. */
  readonly bytes: Uint8Array;
}

/** Scratch words of the functions below (none of them re-enters another). */
const W = new Uint32Array(4);

/**
 * Parses an address strictly (see words.ts for what is rejected). Returns `null` for anything
 * that is not exactly one address; v4-mapped IPv6 folds to IPv4.
 */
export function parseIp(text: string): Ip | null {
  const family = parseIpWords(text, W);
  if (family === 0) return null;
  return { family, bytes: wordsToBytes(W) };
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatIp(ip: Ip): string {
  bytesToWords(ip.bytes, W);
  return formatWords(W);
}

/** Parses and re-formats; `null` when `text` is not a valid address. */
export function canonicalIp(text: string): string | null {
  const family = parseIpWords(text, W);
  if (family === 0) return null;
  // Hot path (every matched line): a strict dotted quad is its own canonical form, because the
  // parser refuses leading zeros, signs and anything else that could be written two ways.
  if (family === 4 && text.indexOf(":") < 0) return text;
  return formatWords(W);
}

/** True for addresses that must never be banned: loopback (127/8, ::1) and unspecified. */
export function isNeverBannable(ip: Ip | string): boolean {
  const p = typeof ip === "string" ? parseIp(ip) : ip;
  if (p === null) return true;
  const b = p.bytes;
  if (p.family === 4) {
    return b[0] === 127 || (b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0);
  }
  for (let k = 0; k < 15; k++) if (b[k] !== 0) return false;
  return b[15] === 0 || b[15] === 1;
}

/** Returns a copy of `bytes` with every bit after the first `prefixLen` cleared. */
export function maskBytes(bytes: Uint8Array, prefixLen: number): Uint8Array {
  const out = bytes.slice();
  for (let k = 0; k < out.length; k++) {
    const keep = prefixLen - k * 8;
    if (keep >= 8) continue;
    out[k] = keep <= 0 ? 0 : out[k]! & (0xff << (8 - keep));
  }
  return out;
}

/**
 * The canonical text of the network of `ip` with `prefixLen` bits (clamped to 0..32 for IPv4 and
 * 0..128 for IPv6): `networkOf("2001:db8:1:2:3:4:5:6", 64)` is `"2001:db8:1:2::"`. Used to count
 * and ban IPv6 addresses by /64. Throws `TypeError` when `ip` is text that is not an address.
 */
export function networkOf(ip: Ip | string, prefixLen: number): string {
  const p = typeof ip === "string" ? parseIp(ip) : ip;
  if (p === null) throw new TypeError(`expected an IP address, found ${JSON.stringify(ip)}`);
  const width = p.family === 4 ? 32 : 128;
  const len = Math.max(0, Math.min(width, Math.trunc(prefixLen)));
  if (len === width) return formatIp(p);
  return formatIp({ family: p.family, bytes: maskBytes(p.bytes, len) });
}

/** Same as {@linkcode networkOf} (the name used in docs/architecture.md). */
export const prefixOf: typeof networkOf = networkOf;
