/**
 * `MemoryBackend`: the in-memory fake of the firewall seam. It behaves like a kernel backend as the
 * contract tests see it — validation, per-entry timeouts that expire, re-ban replacing the
 * timeout, idempotent unban, scaffold gone after close — without touching the kernel. Tests
 * play the operator with `flush()` (`nft flush ruleset`), `flushEntries()` (`ipset flush`) and
 * `refuseInit()` (a kernel that will not take the scaffold back).
 * @module
 */
import {
  type BanEntry,
  entryGroup,
  type FirewallBackend,
  FirewallError,
  type FirewallHealth,
} from "./backend.ts";
import { entryTarget, toTarget } from "./_addr.ts";
import type { PortScope } from "../config/mod.ts";

/** Options of `MemoryBackend`. */
export interface MemoryOptions {
  /** Clock, ms since the epoch. @default Date.now */
  now?: () => number;
  /** Accept IPv6 prefixes shorter than 128 (like an nftables interval set). @default true */
  ipv6Prefixes?: boolean;
}

interface Held {
  entry: BanEntry;
  expiresAt: number | null;
}

/** A firewall that lives in a Map. */
export class MemoryBackend implements FirewallBackend {
  readonly name = "memory";
  #now: () => number;
  #prefixes: boolean;
  #bans = new Map<string, Held>();
  /** Ids of the scopes bans went into (a kernel backend's per-scope sets). */
  #scopes = new Set<string>();
  #open = false;
  #refuse: FirewallError | null = null;

  /** An empty backend; bans expire by `options.now`. */
  constructor(options: MemoryOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#prefixes = options.ipv6Prefixes ?? true;
  }

  /** True between `init()` and `close()` (what a test checks instead of `nft list`). */
  get installed(): boolean {
    return this.#open;
  }

  #check(op: string): void {
    if (!this.#open) {
      throw new FirewallError(this.name, op, "expected init() before use, found no scaffold", 2);
    }
  }

  /** Ids of the port scopes installed (first used by a ban, not removed by `retainScopes`). */
  get scopeIds(): string[] {
    return [...this.#scopes].sort();
  }

  /** Removes scaffold and entries, as `nft flush ruleset` does to a kernel backend. */
  flush(): void {
    this.#open = false;
    this.#bans.clear();
    this.#scopes.clear();
  }

  /** Removes the entries and keeps the scaffold, as `ipset flush` does. */
  flushEntries(): void {
    this.#bans.clear();
  }

  /** While `error` is set, `init()` rejects with it (null: init works again). */
  refuseInit(error: FirewallError | null): void {
    this.#refuse = error;
  }

  init(): Promise<void> {
    if (this.#refuse !== null) return Promise.reject(this.#refuse);
    this.#open = true;
    return Promise.resolve();
  }

  check(): Promise<FirewallHealth> {
    if (!this.#open) return Promise.resolve({ ok: false, problem: "the scaffold is missing" });
    return this.list().then((l) => ({
      ok: true,
      problem: "",
      entries: l.length,
      groups: new Set(l.map(entryGroup)),
    }));
  }

  ban(entries: readonly BanEntry[]): Promise<void> {
    try {
      this.#check("ban");
      const staged: [string, Held][] = [];
      for (const e of entries) {
        const t = entryTarget(this.name, "ban", e);
        if (t.family === 6 && t.prefix < 128 && !this.#prefixes) {
          throw new FirewallError(
            this.name,
            "ban",
            `expected a single address (/128), found ${t.key}`,
          );
        }
        const ip = t.key.slice(0, t.key.lastIndexOf("/"));
        const scope = e.scope === undefined ? {} : { scope: e.scope };
        staged.push([`${e.scope?.id ?? ""} ${t.key}`, {
          entry: { ip, prefix: t.prefix, timeoutMs: e.timeoutMs, jail: e.jail, ...scope },
          expiresAt: e.timeoutMs === null ? null : this.#now() + e.timeoutMs,
        }]);
      }
      // All or nothing, like one netlink transaction.
      for (const [k, h] of staged) {
        this.#bans.set(k, h);
        if (h.entry.scope !== undefined) this.#scopes.add(h.entry.scope.id);
      }
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  unban(entries: readonly BanEntry[]): Promise<void> {
    try {
      this.#check("unban");
      const keys = entries.map((e) =>
        `${e.scope?.id ?? ""} ${toTarget(this.name, e.ip, e.prefix).key}`
      );
      for (const k of keys) this.#bans.delete(k);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  retainScopes(scopes: readonly PortScope[]): Promise<void> {
    const keep = new Set(scopes.map((s) => s.id));
    for (const id of this.#scopes) if (!keep.has(id)) this.#scopes.delete(id);
    for (const [k, h] of this.#bans) {
      if (h.entry.scope !== undefined && !keep.has(h.entry.scope.id)) this.#bans.delete(k);
    }
    return Promise.resolve();
  }

  list(): Promise<BanEntry[]> {
    try {
      this.#check("list");
    } catch (e) {
      return Promise.reject(e);
    }
    const now = this.#now();
    const out: BanEntry[] = [];
    for (const [k, h] of this.#bans) {
      if (h.expiresAt !== null && h.expiresAt <= now) {
        this.#bans.delete(k);
        continue;
      }
      out.push({ ...h.entry, timeoutMs: h.expiresAt === null ? null : h.expiresAt - now });
    }
    return Promise.resolve(out);
  }

  close(): Promise<void> {
    this.#open = false;
    this.#bans.clear();
    this.#scopes.clear();
    return Promise.resolve();
  }
}
