/**
 * The runtime ignore list (`client ignore add|del`): addresses and CIDRs never counted or banned,
 * in every jail or in one, beside each jail's configured `ignoreip`. Entries name their jail, so
 * a reload keeps them; the compiled lists are indexed by the jails in force.
 * @module
 */
import { cidrError, formatCidr, formatIp, parseCidr, WordCidrList } from "../net/mod.ts";

/**
 * Most runtime ignore entries (the config's own `ignoreip` limit per jail). `add` past it throws
 * a `RangeError`: nothing is evicted, an operator's entry never disappears silently.
 */
export const MAX_RUNTIME_IGNORE = 4096;

/** One runtime ignore entry: canonical address or CIDR text, and its jail (null: every jail). */
export interface RuntimeIgnoreEntry {
  /** Canonical address or CIDR text, host bits clear. */
  readonly cidr: string;
  /** The jail it applies to, or `null` for every jail. */
  readonly jail: string | null;
}

/**
 * Canonical text of an address or CIDR as the config writes it (`2001:DB8::/32` →
 * `2001:db8::/32`, a bare address stays bare, host bits must be clear).
 * @throws TypeError saying what is wrong
 */
export function canonicalIgnore(text: string): string {
  const err = cidrError(text);
  const cidr = err === null ? parseCidr(text) : null;
  if (cidr === null) throw new TypeError(err ?? `expected an address or CIDR, found "${text}"`);
  const full = cidr.ip.family === 4 ? 32 : 128;
  return cidr.prefixLen === full ? formatIp(cidr.ip) : formatCidr(cidr);
}

/** The entries, and their lists compiled for the jails in force. */
export class RuntimeIgnore {
  #entries: RuntimeIgnoreEntry[] = [];
  #jails: readonly string[] = [];
  #all = new WordCidrList([]);
  /** By jail index: that jail's own entries, or null when it has none. */
  #byJail: (WordCidrList | null)[] = [];
  /** The compiled lists are stale (recompiled at the next lookup, not at every change). */
  #dirty = false;
  /** Canonical entry keys, for O(1) duplicate checks. */
  #keys = new Set<string>();

  /** Every entry, in the order added. */
  entries(): readonly RuntimeIgnoreEntry[] {
    return this.#entries;
  }

  /** Recompiles for a new jail list (start, reload). */
  setJails(names: readonly string[]): void {
    this.#jails = [...names];
    this.#dirty = true;
  }

  /**
   * Adds an entry (`cidr` canonical, see `canonicalIgnore`).
   * @returns false when the same entry is there already
   * @throws RangeError when `MAX_RUNTIME_IGNORE` entries exist
   */
  add(entry: RuntimeIgnoreEntry): boolean {
    if (this.#keys.has(keyOf(entry))) return false;
    if (this.#entries.length >= MAX_RUNTIME_IGNORE) {
      throw new RangeError(
        `the runtime ignore list is full (${MAX_RUNTIME_IGNORE} entries); remove one first`,
      );
    }
    this.#entries.push({ cidr: entry.cidr, jail: entry.jail });
    this.#keys.add(keyOf(entry));
    this.#dirty = true;
    return true;
  }

  /** Removes an entry; false when there was none. */
  remove(entry: RuntimeIgnoreEntry): boolean {
    if (!this.#keys.delete(keyOf(entry))) return false;
    const i = this.#entries.findIndex((e) => e.cidr === entry.cidr && e.jail === entry.jail);
    this.#entries.splice(i, 1);
    this.#dirty = true;
    return true;
  }

  /** True when the address in `w[off..off+4)` is ignored in jail `jailIndex`. */
  has(jailIndex: number, w: Uint32Array, off = 0): boolean {
    if (this.#dirty) this.#compile();
    if (this.#all.has(w, off)) return true;
    const own = this.#byJail[jailIndex];
    return own !== null && own !== undefined && own.has(w, off);
  }

  #compile(): void {
    this.#dirty = false;
    this.#all = new WordCidrList(this.#entries.filter((e) => e.jail === null).map((e) => e.cidr));
    this.#byJail = this.#jails.map((name) => {
      const own = this.#entries.filter((e) => e.jail === name).map((e) => e.cidr);
      return own.length === 0 ? null : new WordCidrList(own);
    });
  }
}

function keyOf(entry: RuntimeIgnoreEntry): string {
  return `${entry.jail ?? ""}\u0000${entry.cidr}`;
}
