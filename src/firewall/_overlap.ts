/**
 * Overlapping IPv6 blocks in an interval set. The kernel refuses (EEXIST) an interval that
 * overlaps another without being the same block, so bans for 2001:db8::5/128 and
 * 2001:db8::/64 cannot both be elements. The plan keeps one element per region, and errs on the
 * side of dropping packets: a block covered by a wider one is folded into it, and the wider one
 * lasts as long as the longest of them (never shorter than any ban asked for).
 * Pure code: no kernel, no `Deno.*`.
 * @module
 */
import { maskBytes } from "../net/mod.ts";

/** An IPv6 block with its remaining time (null = permanent). */
export interface Block {
  readonly bytes: Uint8Array;
  readonly prefix: number;
  readonly timeoutMs: number | null;
  readonly jail: string;
}

/** What to do to the interval set. */
export interface OverlapPlan {
  /** Existing elements to delete (narrower blocks folded into a new wider one). */
  readonly remove: Block[];
  /** Elements to add or update (same block re-added: the kernel updates its timeout). */
  readonly add: Block[];
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return a.length === b.length;
}

/** True when block `a` contains block `b` (equal blocks included). */
export function covers(a: Block, b: Block): boolean {
  return a.prefix <= b.prefix && same(maskBytes(b.bytes, a.prefix), a.bytes);
}

/** The longer of two remaining times (permanent wins). */
export function longer(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : Math.max(a, b);
}

function key(b: Block): string {
  return `${Array.from(b.bytes).join(",")}/${b.prefix}`;
}

/**
 * Plans the elements for `incoming` bans given the `existing` elements. A re-ban of an existing
 * identical block replaces its timeout (like the plain sets); every other overlap extends.
 */
export function planIntervalBans(
  incoming: readonly Block[],
  existing: readonly Block[],
): OverlapPlan {
  // 1. Fold the incoming blocks among themselves (widest first).
  const merged: Block[] = [];
  for (const n of [...incoming].sort((a, b) => a.prefix - b.prefix)) {
    const i = merged.findIndex((m) => covers(m, n));
    if (i === -1) merged.push(n);
    else {
      const m = merged[i]!;
      merged[i] = {
        ...m,
        timeoutMs: m.prefix === n.prefix ? n.timeoutMs : longer(m.timeoutMs, n.timeoutMs),
      };
    }
  }
  // 2. Fold against what the set holds.
  const add = new Map<string, Block>();
  const remove = new Map<string, Block>();
  for (const r of merged) {
    const wider = existing.find((e) => covers(e, r));
    if (wider && wider.prefix === r.prefix) {
      add.set(key(r), r);
      continue;
    }
    if (wider) {
      const k = key(wider);
      const prev = add.get(k) ?? wider;
      add.set(k, { ...wider, timeoutMs: longer(prev.timeoutMs, r.timeoutMs) });
      continue;
    }
    let timeoutMs = r.timeoutMs;
    for (const e of existing) {
      if (covers(r, e)) {
        remove.set(key(e), e);
        timeoutMs = longer(timeoutMs, e.timeoutMs);
      }
    }
    add.set(key(r), { ...r, timeoutMs });
  }
  return { remove: [...remove.values()], add: [...add.values()] };
}
