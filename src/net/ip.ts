/**
 * Strict IP address parsing and canonical formatting.
 *
 * Accepted: dotted-quad IPv4 (`1.2.3.4`, decimal octets 0..255 without leading zeros) and IPv6 text
 * (RFC 4291: up to eight 1–4 digit hex groups, one `::`, an optional dotted-quad tail). Rejected as
 * ambiguous or foreign: leading-zero octets (`01.2.3.4`, octal in some libcs), shortened IPv4
 * (`1.2.3`), integers, zone ids (`fe80::1%eth0`), brackets, prefixes, whitespace, hex groups longer
 * than four digits. IPv4-mapped IPv6 (`::ffff:1.2.3.4`, `::ffff:102:304`) folds to IPv4.
 * @module
 */

/** A parsed address: 4 bytes for IPv4, 16 for IPv6 (never a v4-mapped IPv6). */
export interface Ip {
  /** 4 for IPv4, 6 for IPv6. */
  readonly family: 4 | 6;
  /** Network byte order; length 4 or 16. */
  readonly bytes: Uint8Array;
}

/** Longest IPv6 text form (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`). */
export const MAX_IP_TEXT = 45;

function parseV4Into(
  text: string,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
): boolean {
  let part = 0;
  let i = start;
  while (part < 4) {
    const s = i;
    let v = 0;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
      if (i - s > 3) return false;
    }
    const len = i - s;
    if (len === 0 || v > 255 || (len > 1 && text.charCodeAt(s) === 48)) return false;
    out[at + part] = v;
    part++;
    if (part < 4) {
      if (i >= end || text.charCodeAt(i) !== 46) return false;
      i++;
    }
  }
  return i === end;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function parseV6(text: string): Uint8Array | null {
  const end = text.length;
  if (end < 2 || end > MAX_IP_TEXT) return null;
  const out = new Uint8Array(16);
  let groups = 0; // 16-bit groups written so far
  let gap = -1; // group index where `::` sits
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return null;
    gap = 0;
    i = 2;
    if (i === end) return out; // "::"
  }
  while (i < end) {
    if (groups >= 8) return null;
    const s = i;
    let v = 0;
    while (i < end) {
      const h = hexVal(text.charCodeAt(i));
      if (h < 0) break;
      v = v * 16 + h;
      i++;
    }
    const len = i - s;
    if (i < end && text.charCodeAt(i) === 46) {
      // dotted-quad tail: must be the last 32 bits
      if (groups > 6) return null;
      if (!parseV4Into(text, s, end, out, groups * 2)) return null;
      groups += 2;
      i = end;
      break;
    }
    if (len === 0 || len > 4) return null;
    out[groups * 2] = v >> 8;
    out[groups * 2 + 1] = v & 0xff;
    groups++;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return null;
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (gap >= 0) return null;
      gap = groups;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return null; // trailing single colon
    }
  }
  if (gap < 0) {
    if (groups !== 8) return null;
    return out;
  }
  if (groups >= 8) return null; // `::` must stand for at least one group
  const tail = groups - gap;
  const moved = out.slice(gap * 2, groups * 2);
  out.fill(0, gap * 2);
  out.set(moved, 16 - tail * 2);
  return out;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let k = 0; k < 10; k++) if (b[k] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/**
 * Parses an address strictly (see the module doc for what is rejected). Returns `null` for
 * anything that is not exactly one address.
 */
export function parseIp(text: string): Ip | null {
  const n = text.length;
  if (n < 2 || n > MAX_IP_TEXT) return null;
  let colon = false;
  for (let k = 0; k < n; k++) {
    if (text.charCodeAt(k) === 58) {
      colon = true;
      break;
    }
  }
  if (!colon) {
    const b = new Uint8Array(4);
    return parseV4Into(text, 0, n, b, 0) ? { family: 4, bytes: b } : null;
  }
  const b6 = parseV6(text);
  if (b6 === null) return null;
  if (isV4Mapped(b6)) return { family: 4, bytes: b6.slice(12) };
  return { family: 6, bytes: b6 };
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatIp(ip: Ip): string {
  const b = ip.bytes;
  if (ip.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const w: number[] = [];
  for (let k = 0; k < 8; k++) w.push((b[k * 2]! << 8) | b[k * 2 + 1]!);
  let bestAt = -1, bestLen = 0;
  for (let k = 0; k < 8;) {
    if (w[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && w[e] === 0) e++;
    if (e - k > bestLen) {
      bestAt = k;
      bestLen = e - k;
    }
    k = e;
  }
  if (bestLen < 2) return w.map((x) => x.toString(16)).join(":");
  const head = w.slice(0, bestAt).map((x) => x.toString(16)).join(":");
  const tail = w.slice(bestAt + bestLen).map((x) => x.toString(16)).join(":");
  return `${head}::${tail}`;
}

const V4_SCRATCH = new Uint8Array(4);

/** Parses and re-formats; `null` when `text` is not a valid address. */
export function canonicalIp(text: string): string | null {
  // Hot path (every matched line): a strict dotted quad is its own canonical form, because
  // parseV4Into refuses leading zeros, signs and anything else that could be written two ways.
  const n = text.length;
  if (n >= 7 && n <= 15 && text.indexOf(":") < 0) {
    return parseV4Into(text, 0, n, V4_SCRATCH, 0) ? text : null;
  }
  const ip = parseIp(text);
  return ip === null ? null : formatIp(ip);
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
