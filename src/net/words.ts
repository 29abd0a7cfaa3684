/**
 * The address codec: text ⇄ words. An address is held as four big-endian 32-bit words of its
 * 16-byte IPv6 form; IPv4 (and v4-mapped IPv6, which is folded to IPv4) is `0, 0, 0xffff, v4`.
 * Parsing writes into a caller's buffer and allocates nothing, so the tracker can read millions
 * of addresses per second; `parseIp`, `formatIp` and `canonicalIp` (ip.ts) are built on it.
 *
 * Accepted: dotted-quad IPv4 (decimal octets 0..255 without leading zeros) and IPv6 text (RFC
 * 4291: up to eight 1–4 digit hex groups, one `::`, an optional dotted-quad tail). Rejected as
 * ambiguous or foreign: leading-zero octets (`01.2.3.4`, octal in some libcs), shortened IPv4
 * (`1.2.3`), integers, zone ids (`fe80::1%eth0`), brackets, prefixes, whitespace, hex groups
 * longer than four digits. Formatting is canonical: the dotted quad, or RFC 5952 IPv6.
 * @module
 */

/** Address family of a parsed address: 4, 6, or 0 when the text was not an address. */
export type Family = 0 | 4 | 6;

/** Longest address text (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`). */
export const MAX_IP_TEXT = 45;
const COLON = 58;
const DOT = 46;

/** True when the four words at `w[off]` hold an IPv4 address (v4-mapped form). */
export function isV4Words(w: Uint32Array, off = 0): boolean {
  return w[off] === 0 && w[off + 1] === 0 && w[off + 2] === 0xffff;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses a dotted quad in `s[from, to)`; returns the 32-bit value or -1. Strict: no leading zeros. */
function parseV4(s: string, from: number, to: number): number {
  let value = 0;
  let parts = 0;
  let i = from;
  while (parts < 4) {
    const start = i;
    let octet = 0;
    while (i < to) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      octet = octet * 10 + (c - 48);
      i++;
      if (i - start > 3) return -1;
    }
    const len = i - start;
    if (len === 0 || octet > 255) return -1;
    if (len > 1 && s.charCodeAt(start) === 48) return -1;
    value = (value * 256 + octet) >>> 0;
    parts++;
    if (parts < 4) {
      if (i >= to || s.charCodeAt(i) !== DOT) return -1;
      i++;
    }
  }
  return i === to ? value >>> 0 : -1;
}

const groups = new Uint16Array(8);

/**
 * Parses IPv4 or IPv6 text (strict; no zone ids, no brackets) into `out[off..off+4)`.
 * v4-mapped IPv6 (`::ffff:a.b.c.d` in any spelling) is folded to IPv4.
 * @returns the family, or 0 when the text is not an address (`out` is then unspecified)
 */
export function parseIpWords(s: string, out: Uint32Array, off = 0): Family {
  const n = s.length;
  if (n === 0 || n > MAX_IP_TEXT) return 0;
  let hasColon = false;
  for (let i = 0; i < n; i++) {
    if (s.charCodeAt(i) === COLON) {
      hasColon = true;
      break;
    }
  }
  if (!hasColon) {
    const v = parseV4(s, 0, n);
    if (v < 0) return 0;
    out[off] = 0;
    out[off + 1] = 0;
    out[off + 2] = 0xffff;
    out[off + 3] = v;
    return 4;
  }
  // IPv6: up to 8 groups, at most one "::", optional trailing dotted quad (2 groups).
  let count = 0;
  let gap = -1;
  let i = 0;
  if (s.charCodeAt(0) === COLON) {
    if (n < 2 || s.charCodeAt(1) !== COLON) return 0;
    gap = 0;
    i = 2;
    if (i === n) {
      groups.fill(0);
      return writeGroups(out, off, 0, 0);
    }
  }
  while (i < n) {
    if (count >= 8) return 0;
    const start = i;
    let v = 0;
    while (i < n) {
      const h = hexVal(s.charCodeAt(i));
      if (h < 0) break;
      v = v * 16 + h;
      i++;
      if (i - start > 4) return 0;
    }
    if (i < n && s.charCodeAt(i) === DOT) {
      // Embedded IPv4 must be the last 32 bits.
      if (count > 6) return 0;
      const v4 = parseV4(s, start, n);
      if (v4 < 0) return 0;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      i = n;
      break;
    }
    if (i === start) return 0;
    groups[count++] = v;
    if (i === n) break;
    if (s.charCodeAt(i) !== COLON) return 0;
    i++;
    if (i < n && s.charCodeAt(i) === COLON) {
      if (gap >= 0) return 0;
      gap = count;
      i++;
      if (i === n) break;
    } else if (i === n) {
      return 0; // trailing single colon
    }
  }
  if (gap < 0 && count !== 8) return 0;
  if (gap >= 0 && count > 7) return 0;
  return writeGroups(out, off, count, gap);
}

function writeGroups(out: Uint32Array, off: number, count: number, gap: number): Family {
  // Expand the "::" gap in place (work from the end).
  if (gap >= 0) {
    const tail = count - gap;
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[count - 1 - k]!;
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  }
  for (let k = 0; k < 4; k++) {
    out[off + k] = ((groups[2 * k]! << 16) | groups[2 * k + 1]!) >>> 0;
  }
  return isV4Words(out, off) ? 4 : 6;
}

/** Zeroes the bits after `prefixLen` (0..128, counted on the 128-bit form) of the words. */
export function maskWords(w: Uint32Array, off: number, prefixLen: number): void {
  for (let k = 0; k < 4; k++) {
    const keep = prefixLen - 32 * k;
    if (keep >= 32) continue;
    w[off + k] = keep <= 0 ? 0 : (w[off + k]! & (0xffffffff << (32 - keep))) >>> 0;
  }
}

/** Canonical text of the words: dotted quad for IPv4, RFC 5952 for IPv6. */
export function formatWords(w: Uint32Array, off = 0): string {
  if (isV4Words(w, off)) {
    const v = w[off + 3]!;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const g: number[] = [];
  for (let k = 0; k < 4; k++) g.push(w[off + k]! >>> 16, w[off + k]! & 0xffff);
  let bestStart = -1;
  let bestLen = 1;
  for (let k = 0; k < 8;) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) {
      bestStart = k;
      bestLen = e - k;
    }
    k = e;
  }
  if (bestStart < 0) return g.map((x) => x.toString(16)).join(":");
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(":");
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(":");
  return `${head}::${tail}`;
}

/** True for addresses that are never banned: loopback and unspecified, IPv4 and IPv6. */
export function isNeverBannableWords(w: Uint32Array, off = 0): boolean {
  if (isV4Words(w, off)) {
    const v = w[off + 3]!;
    return (v >>> 24) === 127 || v === 0;
  }
  return w[off] === 0 && w[off + 1] === 0 && w[off + 2] === 0 && (w[off + 3]! >>> 1) === 0;
}

/** The words at `w[off]` as network-order bytes: 4 for IPv4, 16 for IPv6. */
export function wordsToBytes(w: Uint32Array, off = 0): Uint8Array {
  const v4 = isV4Words(w, off);
  const out = new Uint8Array(v4 ? 4 : 16);
  for (let q = v4 ? 3 : 0, o = 0; q < 4; q++, o += 4) {
    const v = w[off + q]!;
    out[o] = v >>> 24;
    out[o + 1] = (v >>> 16) & 255;
    out[o + 2] = (v >>> 8) & 255;
    out[o + 3] = v & 255;
  }
  return out;
}

/** Writes 4 (IPv4) or 16 (IPv6) network-order bytes into `out[off..off+4)` as words. */
export function bytesToWords(bytes: Uint8Array, out: Uint32Array, off = 0): void {
  const v4 = bytes.length === 4;
  if (v4) {
    out[off] = 0;
    out[off + 1] = 0;
    out[off + 2] = 0xffff;
  }
  for (let q = v4 ? 3 : 0, o = 0; q < 4; q++, o += 4) {
    out[off + q] =
      ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
  }
}
