/**
 * Allocation-free address helpers for the tracker's hot path. An address is held as four
 * big-endian 32-bit words of its 16-byte IPv6 form; IPv4 (and v4-mapped IPv6, which is folded to
 * IPv4) is `0, 0, 0xffff, v4`. `src/net` owns the user-facing address API; these helpers exist
 * because the tracker parses millions of addresses per second into a reusable scratch buffer and
 * must not allocate an object per address.
 * @module
 */
import { cidrError, parseCidr } from "../net/mod.ts";

/** Address family of a parsed address: 4, 6, or 0 when the text was not an address. */
export type Family = 0 | 4 | 6;

const COLON = 58;
const DOT = 46;

/** True when the four words hold an IPv4 address (v4-mapped form). */
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
  if (n === 0 || n > 45) return 0;
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

/**
 * A compiled list of CIDRs matched against words; linear scan, meant for the short `ignoreip`
 * lists of a jail. IPv4 CIDRs are held in v4-mapped form, so they match folded addresses.
 */
export class WordCidrList {
  #nets: Uint32Array;
  #lens: Uint8Array;
  #count = 0;

  /**
   * Compiles CIDR texts with the syntax of `src/net` (`parseCidr`; host bits must be clear).
   * @throws TypeError naming the first invalid entry
   */
  constructor(cidrs: readonly string[]) {
    this.#nets = new Uint32Array(cidrs.length * 4);
    this.#lens = new Uint8Array(cidrs.length);
    for (const text of cidrs) {
      const err = cidrError(text);
      const cidr = err === null ? parseCidr(text) : null;
      if (cidr === null) throw new TypeError(`ignoreip: ${err ?? text}`);
      const b = cidr.ip.bytes;
      const o = this.#count * 4;
      if (cidr.ip.family === 4) {
        this.#nets.set(
          [0, 0, 0xffff, ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0],
          o,
        );
      } else {
        for (let k = 0; k < 4; k++) {
          this.#nets[o + k] =
            ((b[4 * k]! << 24) | (b[4 * k + 1]! << 16) | (b[4 * k + 2]! << 8) | b[4 * k + 3]!) >>>
            0;
        }
      }
      const len128 = cidr.ip.family === 4 ? 96 + cidr.prefixLen : cidr.prefixLen;
      maskWords(this.#nets, o, len128);
      this.#lens[this.#count] = len128;
      this.#count++;
    }
  }

  /** True when the address in `w[off..off+4)` lies in one of the CIDRs. */
  has(w: Uint32Array, off = 0): boolean {
    const nets = this.#nets;
    outer: for (let i = 0; i < this.#count; i++) {
      const len = this.#lens[i]!;
      for (let k = 0; k < 4; k++) {
        const keep = len - 32 * k;
        if (keep <= 0) break;
        const mask = keep >= 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
        if (((w[off + k]! & mask) >>> 0) !== nets[i * 4 + k]) continue outer;
      }
      return true;
    }
    return false;
  }

  /**
   * True when the network `w[off..off+4)`/`len128` (prefix length over 128 bits) and one of the
   * CIDRs overlap: one contains the other, so they agree on the shorter prefix.
   */
  overlaps(w: Uint32Array, off: number, len128: number): boolean {
    const nets = this.#nets;
    outer: for (let i = 0; i < this.#count; i++) {
      const len = Math.min(len128, this.#lens[i]!);
      for (let k = 0; k < 4; k++) {
        const keep = len - 32 * k;
        if (keep <= 0) break;
        const mask = keep >= 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
        if (((w[off + k]! & mask) >>> 0) !== ((nets[i * 4 + k]! & mask) >>> 0)) continue outer;
      }
      return true;
    }
    return false;
  }
}
