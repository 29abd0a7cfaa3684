/**
 * CIDR blocks and sets of them, compiled once (at config load) for fast membership tests.
 *
 * Host bits: `parseCidr("10.0.0.1/8")` is rejected (a typo there usually means the author meant a
 * different block; silently masking it could ignore or ban the wrong range). Use
 * {@linkcode cidrError} for a message that says what was expected.
 * @module
 */
import { formatIp, type Ip, maskBytes, parseIp } from "./ip.ts";
import { bytesToWords, maskWords } from "./words.ts";

/** A network: address with host bits clear, and its prefix length. */
export interface Cidr {
  /** The network address (host bits clear). */
  readonly ip: Ip;
  /** Prefix length: 0–32 for IPv4, 0–128 for IPv6. */
  readonly prefixLen: number;
}

/**
 * Explains why `text` is not a CIDR (or a bare address, which means /32 or /128), or returns
 * `null` when it is valid.
 */
export function cidrError(text: string): string | null {
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  const ip = parseIp(addr);
  if (ip === null) {
    return `expected an IP address or CIDR such as "192.0.2.0/24" or "2001:db8::/32", found ${
      JSON.stringify(text)
    }`;
  }
  const width = addr.includes(":") ? 128 : 32;
  if (slash < 0) return null;
  const lenText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText) || Number(lenText) > width) {
    return `expected a prefix length 0..${width} after "/", found ${JSON.stringify(lenText)}`;
  }
  const len = Number(lenText);
  // A v4-mapped IPv6 CIDR folds to IPv4: its prefix length then counts from bit 96.
  if (ip.family === 4 && addr.includes(":")) {
    return `expected an IPv4 CIDR for the v4-mapped address ${JSON.stringify(text)}; write it as ${
      formatIp(ip)
    }/${Math.max(0, len - 96)}`;
  }
  const masked = maskBytes(ip.bytes, len);
  if (!masked.every((v, k) => v === ip.bytes[k])) {
    return `expected the network address of ${JSON.stringify(text)} with host bits clear, found ${
      formatIp(ip)
    }; the network is ${formatIp({ family: ip.family, bytes: masked })}/${len}`;
  }
  return null;
}

/** Parses `ADDR/LEN` or a bare address (a /32 or /128). `null` when invalid (see `cidrError`). */
export function parseCidr(text: string): Cidr | null {
  if (cidrError(text) !== null) return null;
  const slash = text.indexOf("/");
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash))!;
  const width = ip.family === 4 ? 32 : 128;
  return { ip, prefixLen: slash < 0 ? width : Number(text.slice(slash + 1)) };
}

/** Canonical text `ADDR/LEN` of a CIDR. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.ip)}/${cidr.prefixLen}`;
}

function v4Key(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function v6Key(b: Uint8Array): string {
  let s = "";
  for (let k = 0; k < 16; k++) s += String.fromCharCode(b[k]!);
  return s;
}

/**
 * An immutable set of CIDR blocks. `has()` costs one hash lookup per distinct prefix length in the
 * set (at most 33 for IPv4, 129 for IPv6), independent of the number of blocks.
 */
export class CidrSet {
  #v4 = new Map<number, Set<number>>();
  #v6 = new Map<number, Set<string>>();
  #size = 0;

  /** Builds the set; throws `TypeError` naming the first invalid entry. */
  constructor(cidrs: Iterable<string | Cidr>) {
    for (const c of cidrs) {
      let cidr: Cidr;
      if (typeof c === "string") {
        const err = cidrError(c);
        if (err !== null) throw new TypeError(err);
        cidr = parseCidr(c)!;
      } else {
        cidr = c;
      }
      const masked = maskBytes(cidr.ip.bytes, cidr.prefixLen);
      if (cidr.ip.family === 4) {
        let s = this.#v4.get(cidr.prefixLen);
        if (!s) this.#v4.set(cidr.prefixLen, s = new Set());
        s.add(v4Key(masked));
      } else {
        let s = this.#v6.get(cidr.prefixLen);
        if (!s) this.#v6.set(cidr.prefixLen, s = new Set());
        s.add(v6Key(masked));
      }
      this.#size++;
    }
  }

  /** Number of entries given to the constructor. */
  get size(): number {
    return this.#size;
  }

  /** True when the address (text or parsed) lies in one of the blocks; false for non-addresses. */
  has(ip: Ip | string): boolean {
    const p = typeof ip === "string" ? parseIp(ip) : ip;
    if (p === null) return false;
    if (p.family === 4) {
      const key = v4Key(p.bytes);
      for (const [len, set] of this.#v4) {
        const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
        if (set.has((key & mask) >>> 0)) return true;
      }
      return false;
    }
    for (const [len, set] of this.#v6) {
      if (set.has(v6Key(maskBytes(p.bytes, len)))) return true;
    }
    return false;
  }
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
      const o = this.#count * 4;
      bytesToWords(cidr.ip.bytes, this.#nets, o);
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
