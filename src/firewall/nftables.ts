/**
 * The nftables backend: pure netlink through libc (no `nft` binary at run time). What it installs,
 * in one transaction, reads in `nft list table inet fail2zig` as:
 *
 * ```
 * table inet fail2zig {
 *   set banned_ipv4 { type ipv4_addr; flags timeout; }
 *   set banned_ipv6 { type ipv6_addr; flags timeout; }        # flags interval,timeout with prefixes
 *   chain input {
 *     type filter hook input priority filter - 1; policy accept;
 *     ip saddr @banned_ipv4 drop
 *     ip6 saddr @banned_ipv6 drop
 *   }
 * }
 * ```
 *
 * A jail with `port`/`protocol` bans into its scope's own pair of sets, `banned_ipv4_SCOPE` and
 * `banned_ipv6_SCOPE` (SCOPE = the scope id, e.g. `tcp.22_2222`), matched by one rule per family,
 * protocol and port range: `tcp dport 22 ip saddr @banned_ipv4_tcp.22_2222 drop` (as `nft list`
 * prints `meta l4proto tcp th dport 22`).
 * Jails of the same scope share its sets; jails without one use banned_ipv4/banned_ipv6. The scopes
 * of the config are installed by `init()`; a scope first seen in a ban (after a reload) is
 * installed by that ban's call, with the whole scaffold again in one transaction.
 *
 * Bans are elements with per-element timeouts (none = permanent) and the jail as element comment;
 * a call's entries go into one batch (split only past `MAX_BATCH_BYTES`). Unbans use
 * DESTROYSETELEM (Linux ≥ 6.3: absent elements are not an error, so an element that expired a
 * moment ago cannot abort the batch); older kernels get DELSETELEM of the elements a fresh listing
 * shows. Every message carries NLM_F_ACK; any refusal aborts the whole transaction and surfaces as
 * a `FirewallError` with the kernel's errno.
 *
 * `check()` asks for the ruleset generation (GETGEN); only when someone else committed since it
 * last verified the layout does it dump the chain's rules and count the elements (see `check`).
 * @module
 */
import {
  findAttr,
  MessageWriter,
  NETLINK_NETFILTER,
  NetlinkError,
  NetlinkSocket,
  NLM_F,
  parseAttrs,
  parseMessages,
  readStr,
  readU32be,
  readU64be,
} from "../ffi/mod.ts";
import {
  type BanEntry,
  entryGroup,
  type FirewallBackend,
  FirewallError,
  type FirewallHealth,
} from "./backend.ts";
import { blockEnd, entryTarget, formatAddr, safeComment, type Target } from "./_addr.ts";
import { maskBytes } from "../net/mod.ts";
import { type Block, planIntervalBans } from "./_overlap.ts";
import {
  addChain,
  addDropRule,
  addSet,
  addTable,
  Batch,
  deleteSet,
  deleteTable,
  ELEM,
  ELEM_INTERVAL_END,
  ELEM_LIST,
  ELEM_MAX_BYTES,
  type ElemSpec,
  flushChain,
  getGenRequest,
  getRulesDump,
  type Layout,
  nextGen,
  NFPROTO,
  NFT_MSG,
  nftType,
  parseGen,
  parseRule,
  type PortMatch,
  setElems,
  UDATA_ELEM_COMMENT,
} from "./_nft_messages.ts";
import { Mutex } from "./_mutex.ts";
import type { PortScope } from "../config/mod.ts";

/** A batch is split when it would grow past this (the default socket send buffer is 208 KiB). */
export const MAX_BATCH_BYTES = 160 * 1024;
/** Elements per set-element message: the element list is one attribute, limited to 64 KiB. */
const MAX_ELEMS_PER_MESSAGE = Math.floor(60_000 / ELEM_MAX_BYTES);
const ENOENT = 2;
const EEXIST = 17;
const EINVAL = 22;
const EOPNOTSUPP = 95;

/** Options of `NftablesBackend`. */
export interface NftablesOptions {
  /** Make banned_ipv6 an interval set so IPv6 prefixes shorter than 128 can be banned. @default false */
  ipv6Interval?: boolean;
  /** Table name (family inet). @default "fail2zig" */
  table?: string;
  /** Hook priority of the input chain. @default -1 */
  priority?: number;
  /** Receives warnings (e.g. an incompatible existing table being rebuilt). */
  onWarning?: (message: string, fields: Record<string, unknown>) => void;
  /** Port scopes to install from the start (the config's), so `list()` reads their sets. */
  scopes?: readonly PortScope[];
}

/** One drop rule of the chain, as `addDropRule` writes it. */
type DropRule = Parameters<typeof addDropRule>[2];

/** One pair of sets: the unscoped one (`scope` null) or a scope's. */
interface SetPair {
  readonly scope: PortScope | null;
  readonly set4: string;
  readonly set6: string;
}

const IPPROTO = { tcp: 6, udp: 17 } as const;

/** The port matches of a scope's rules: one per protocol and port range (null: no scope). */
function portMatches(scope: PortScope | null): (PortMatch | null)[] {
  if (scope === null) return [null];
  return scope.protocols.flatMap((p) =>
    (scope.ports.length === 0 ? [null] : scope.ports).map((ports) => ({
      l4proto: IPPROTO[p],
      ports,
    }))
  );
}

function wrap(op: string, e: unknown): FirewallError {
  if (e instanceof FirewallError) return e;
  if (e instanceof NetlinkError) {
    return new FirewallError("nftables", op, `kernel refused ${e.operation}: ${e.reason}`, e.errno);
  }
  return new FirewallError("nftables", op, e instanceof Error ? e.message : String(e));
}

/** nftables over netlink. */
export class NftablesBackend implements FirewallBackend {
  readonly name = "nftables";
  /** Names of the table, chain and sets this backend installs. */
  readonly layout: Layout;
  #sock: NetlinkSocket | null = null;
  #lock = new Mutex();
  #destroyWorks: boolean | null = null;
  /**
   * The ruleset generation at which the layout was last verified (moved along by our own
   * commits when nobody else committed in between), with the entries counted then and the groups
   * holding them (both unknown after our own changes); null when anyone else may have changed the
   * ruleset since.
   */
  #verified: { gen: number; entries: number | undefined; groups?: ReadonlySet<string> } | null =
    null;
  #warn: (message: string, fields: Record<string, unknown>) => void;
  /** Set pairs by scope id ("" for the unscoped pair, always first). */
  #pairs = new Map<string, SetPair>();

  /** A backend for the table of `options`; nothing is installed before `init()`. */
  constructor(options: NftablesOptions = {}) {
    this.layout = {
      table: options.table ?? "fail2zig",
      chain: "input",
      set4: "banned_ipv4",
      set6: "banned_ipv6",
      ipv6Interval: options.ipv6Interval ?? false,
      priority: options.priority ?? -1,
    };
    this.#warn = options.onWarning ?? (() => {});
    this.#pairs.set("", { scope: null, set4: this.layout.set4, set6: this.layout.set6 });
    for (const sc of options.scopes ?? []) this.#register(sc);
  }

  /** Adds the scope's set pair; true when it was new. */
  #register(scope: PortScope): boolean {
    if (this.#pairs.has(scope.id)) return false;
    const l = this.layout;
    this.#pairs.set(scope.id, {
      scope,
      set4: `${l.set4}_${scope.id}`,
      set6: `${l.set6}_${scope.id}`,
    });
    return true;
  }

  #pairOf(e: BanEntry): SetPair | undefined {
    return this.#pairs.get(e.scope?.id ?? "");
  }

  #socket(op: string): NetlinkSocket {
    if (this.#sock === null) {
      try {
        this.#sock = NetlinkSocket.open(NETLINK_NETFILTER);
      } catch (e) {
        throw wrap(op, e);
      }
    }
    return this.#sock;
  }

  #batch(op: string): Batch {
    const s = this.#socket(op);
    return new Batch(() => s.nextSeq());
  }

  async #commit(op: string, b: Batch): Promise<void> {
    if (b.size === 0) return;
    const bytes = b.finish();
    const verified = this.#verified;
    this.#verified = null;
    try {
      await this.#socket(op).request(bytes, b.expected, b.optional);
    } catch (e) {
      throw wrap(op, e);
    }
    if (verified === null) return;
    try {
      // Exactly one commit more (ours): nobody else changed the ruleset since it was verified.
      const gen = await this.#generation(op);
      if (gen === nextGen(verified.gen)) this.#verified = { gen, entries: undefined };
    } catch {
      // Unverified: the next check reads everything.
    }
  }

  /** The ruleset generation (every committed transaction in the namespace increments it). */
  async #generation(op: string): Promise<number> {
    const s = this.#socket(op);
    const seq = s.nextSeq();
    let answers;
    try {
      answers = await s.request(getGenRequest(seq), new Map([[seq, "GETGEN"]]));
    } catch (e) {
      throw wrap(op, e);
    }
    for (const m of answers) {
      const gen = parseGen(m.payload);
      if (gen !== null) return gen;
    }
    throw new FirewallError("nftables", op, "expected a generation id in the GETGEN answer");
  }

  #scaffold(b: Batch): void {
    const l = this.layout;
    addTable(b, l);
    addChain(b, l);
    flushChain(b, l);
    [...this.#pairs.values()].forEach((pair, i) => {
      addSet(b, l, { name: pair.set4, family: 4, interval: false, id: 2 * i + 1 });
      addSet(b, l, { name: pair.set6, family: 6, interval: l.ipv6Interval, id: 2 * i + 2 });
    });
    for (const rule of this.#dropRules()) addDropRule(b, l, rule);
  }

  /** The chain's drop rules: per set pair and family, one per protocol and port range. */
  #dropRules(): DropRule[] {
    return [...this.#pairs.values()].flatMap((pair, i) =>
      ([4, 6] as const).flatMap((family) =>
        portMatches(pair.scope).map((match) => ({
          family,
          set: family === 4 ? pair.set4 : pair.set6,
          setId: family === 4 ? 2 * i + 1 : 2 * i + 2,
          match,
        }))
      )
    );
  }

  /**
   * The shapes (see `RuleSummary.shape`) the chain's rules must have, sorted: the scaffold's rule
   * messages read back with the parser that reads the kernel's dump.
   */
  #expectedShapes(): string[] {
    let seq = 0;
    const b = new Batch(() => ++seq);
    for (const rule of this.#dropRules()) addDropRule(b, this.layout, rule);
    return parseMessages(b.finish())
      .filter((m) => m.type === nftType(NFT_MSG.NEWRULE))
      .map((m) => parseRule(m.payload).shape)
      .sort();
  }

  /**
   * Installs table, sets, chain and rules in one transaction. An existing table from a crashed
   * run keeps its elements (the chain is flushed and its two rules re-added, so rules never
   * duplicate); if its sets are incompatible (EEXIST, e.g. `ipv6Interval` changed) the table is
   * rebuilt empty and a warning is given — the state file re-adds the bans.
   */
  init(): Promise<void> {
    return this.#lock.run(() => this.#install("init"));
  }

  async #install(op: string): Promise<void> {
    const b = this.#batch(op);
    this.#scaffold(b);
    try {
      await this.#commit(op, b);
    } catch (e) {
      if (!(e instanceof FirewallError) || e.errno !== EEXIST) throw e;
      this.#warn("existing nftables table is incompatible; rebuilding it empty", {
        table: this.layout.table,
        error: e.message,
      });
      const del = this.#batch(op);
      deleteTable(del, this.layout, false);
      await this.#commit(op, del);
      const again = this.#batch(op);
      this.#scaffold(again);
      await this.#commit(op, again);
    }
  }

  /**
   * One GETGEN request: while the ruleset generation is the one last verified (only our own
   * commits since), nothing else changed it and the layout holds. Otherwise: one GETRULE dump of
   * the input chain, which must hold exactly the drop rules of the layout: one on banned_ipv4 and
   * one on banned_ipv6, and per scope one per protocol and port range on each of its two sets,
   * each matching what the scaffold wrote (family, protocol, ports, set, verdict: a rule whose
   * port was changed by hand is altered; a rule's lookup cannot exist without its set, so the
   * table, the chain and the sets are proven with it; a missing table or chain reads as not ok),
   * then the elements are counted. A repair (`init()`) flushes the chain and writes it again.
   */
  check(): Promise<FirewallHealth> {
    return this.#lock.run(async () => {
      const gen = await this.#generation("check");
      const v = this.#verified;
      if (v !== null && v.gen === gen) {
        return {
          ok: true,
          problem: "",
          ...(v.entries === undefined ? {} : { entries: v.entries }),
          ...(v.groups === undefined ? {} : { groups: v.groups }),
        };
      }
      this.#verified = null;
      const layout = await this.#checkRules();
      if (!layout.ok) return layout;
      const listed = await this.#list("check");
      const entries = listed.length;
      const groups = new Set(listed.map(entryGroup));
      this.#verified = { gen, entries, groups };
      return { ok: true, problem: "", entries, groups };
    });
  }

  async #checkRules(): Promise<FirewallHealth> {
    const l = this.layout;
    const s = this.#socket("check");
    const seq = s.nextSeq();
    let msgs;
    try {
      msgs = await s.dump(getRulesDump(l, seq), seq, `GETRULE ${l.table} ${l.chain}`);
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === ENOENT) {
        return { ok: false, problem: `table inet ${l.table} or its chain ${l.chain} is missing` };
      }
      throw wrap("check", e);
    }
    const rules = msgs.map((m) => parseRule(m.payload))
      .filter((r) => r.table === l.table && r.chain === l.chain);
    if (rules.length === 0) {
      return { ok: false, problem: `chain inet ${l.table} ${l.chain} is missing or empty` };
    }
    const want = this.#expectedShapes();
    const left = new Map<string, number>();
    for (const w of want) left.set(w, (left.get(w) ?? 0) + 1);
    const odd = rules.filter((r) => {
      const n = left.get(r.shape) ?? 0;
      if (n > 0) left.set(r.shape, n - 1);
      return n === 0;
    });
    if (odd.length === 0 && rules.length === want.length) return { ok: true, problem: "" };
    const first = odd[0] === undefined ? "" : `, first on @${odd[0].set || "(no set)"}`;
    return {
      ok: false,
      problem: `expected the ${want.length} drop rules of the layout in chain ${l.chain}, found ` +
        `${rules.length} rule(s), ${odd.length} altered or foreign${first}`,
    };
  }

  #spec(t: Target, e: BanEntry): ElemSpec {
    return {
      key: t.bytes,
      end: t.family === 6 && this.layout.ipv6Interval ? blockEnd(t.bytes, t.prefix) : null,
      timeoutMs: e.timeoutMs,
      comment: safeComment(e.jail),
    };
  }

  /** The entries by set pair and family; entries of a scope not installed are left out. */
  #targets(op: string, entries: readonly BanEntry[]): Map<SetPair, Grouped> {
    const out = new Map<SetPair, Grouped>();
    for (const e of entries) {
      const pair = this.#pairOf(e);
      const t = entryTarget("nftables", op, e);
      if (t.family === 6 && t.prefix < 128 && !this.layout.ipv6Interval) {
        throw new FirewallError(
          "nftables",
          op,
          `expected a single address (/128) because banned_ipv6 is not an interval set, found ${t.key}` +
            ` (construct the backend with ipv6Interval: true to ban prefixes)`,
        );
      }
      if (pair === undefined) continue;
      let g = out.get(pair);
      if (g === undefined) out.set(pair, g = { v4: [], v6: [] });
      (t.family === 4 ? g.v4 : g.v6).push([t, e]);
    }
    return out;
  }

  /** Runs set-element messages for both sets, splitting into several batches when large. */
  async #elements(
    op: string,
    kind: "add" | "delete" | "destroy",
    groups: { set: string; specs: ElemSpec[]; kind?: "add" | "delete" | "destroy" }[],
  ): Promise<void> {
    let b = this.#batch(op);
    for (const g of groups) {
      for (let i = 0; i < g.specs.length; i += MAX_ELEMS_PER_MESSAGE) {
        if (b.w.length > MAX_BATCH_BYTES - 60_000) {
          await this.#commit(op, b);
          b = this.#batch(op);
        }
        const interval = this.layout.ipv6Interval && this.#isSet6(g.set);
        setElems(
          b,
          this.layout,
          g.kind ?? kind,
          { name: g.set, interval },
          g.specs.slice(i, i + MAX_ELEMS_PER_MESSAGE),
        );
      }
    }
    await this.#commit(op, b);
  }

  #isSet6(name: string): boolean {
    for (const p of this.#pairs.values()) if (p.set6 === name) return true;
    return false;
  }

  /**
   * Adds the entries to their sets (banned_ipv4 / banned_ipv6, or their scope's) in one
   * transaction (several past 160 KiB); a scope not installed yet is installed first. In an
   * interval IPv6 set, overlapping blocks are folded first (see `_overlap.ts`): the set is read,
   * narrower elements under a new wider block are deleted in the same transaction.
   */
  ban(entries: readonly BanEntry[]): Promise<void> {
    return this.#lock.run(async () => {
      let fresh = false;
      for (const e of entries) if (e.scope !== undefined && this.#register(e.scope)) fresh = true;
      if (fresh) await this.#install("ban");
      const groups = this.#targets("ban", entries);
      for (let attempt = 0;; attempt++) {
        const ops: { set: string; specs: ElemSpec[]; kind?: "add" | "delete" | "destroy" }[] = [];
        for (const [pair, { v4, v6 }] of groups) {
          ops.push({ set: pair.set4, specs: v4.map(([t, e]) => this.#spec(t, e)) });
          if (!this.layout.ipv6Interval || v6.length === 0) {
            ops.push({ set: pair.set6, specs: v6.map(([t, e]) => this.#spec(t, e)) });
            continue;
          }
          const incoming: Block[] = v6.map(([t, e]) => ({
            bytes: t.bytes,
            prefix: t.prefix,
            timeoutMs: e.timeoutMs,
            jail: safeComment(e.jail),
          }));
          const existing = intervalsToBlocks(await this.#dumpSet("ban", pair.set6));
          const plan = planIntervalBans(incoming, existing);
          const spec = (x: Block): ElemSpec => ({
            key: x.bytes,
            end: blockEnd(x.bytes, x.prefix),
            timeoutMs: x.timeoutMs,
            comment: x.jail,
          });
          ops.push({ set: pair.set6, kind: "delete", specs: plan.remove.map(spec) });
          ops.push({ set: pair.set6, specs: plan.add.map(spec) });
        }
        try {
          await this.#elements("ban", "add", ops);
          return;
        } catch (e) {
          // An element expired between the read and the commit: read again, once.
          const interval = this.layout.ipv6Interval;
          if (!interval || attempt > 0 || !(e instanceof FirewallError) || e.errno !== ENOENT) {
            throw e;
          }
        }
      }
    });
  }

  /**
   * Forgets the scopes not in `scopes` and, in one transaction, writes the chain again without
   * their rules and deletes their sets.
   */
  retainScopes(scopes: readonly PortScope[]): Promise<void> {
    return this.#lock.run(async () => {
      const keep = new Set(scopes.map((s) => s.id));
      const gone = [...this.#pairs].filter(([id]) => id !== "" && !keep.has(id));
      if (gone.length === 0) return;
      for (const [id] of gone) this.#pairs.delete(id);
      const b = this.#batch("retain");
      this.#scaffold(b);
      for (const [, pair] of gone) {
        deleteSet(b, this.layout, pair.set4);
        deleteSet(b, this.layout, pair.set6);
      }
      await this.#commit("retain", b);
    });
  }

  /** Removes the entries; absent ones are ignored. */
  unban(entries: readonly BanEntry[]): Promise<void> {
    return this.#lock.run(async () => {
      const targets = this.#targets("unban", entries);
      if (targets.size === 0) return;
      const groups = (keep: (pair: SetPair, p: [Target, BanEntry]) => boolean) =>
        [...targets].flatMap(([pair, { v4, v6 }]) => [
          {
            set: pair.set4,
            specs: v4.filter((x) => keep(pair, x)).map(([t, e]) => this.#spec(t, e)),
          },
          {
            set: pair.set6,
            specs: v6.filter((x) => keep(pair, x)).map(([t, e]) => this.#spec(t, e)),
          },
        ]);
      if (this.#destroyWorks !== false) {
        try {
          await this.#elements("unban", "destroy", groups(() => true));
          this.#destroyWorks = true;
          return;
        } catch (e) {
          const old = e instanceof FirewallError && (e.errno === EOPNOTSUPP || e.errno === EINVAL);
          if (this.#destroyWorks === true || !old) throw e;
          this.#destroyWorks = false;
        }
      }
      // Kernels before 6.3: delete only what is present (retry once if one expired meanwhile).
      for (let attempt = 0;; attempt++) {
        const present = new Set(
          (await this.#list("unban")).map((x) => `${x.scope?.id ?? ""} ${x.ip}/${x.prefix}`),
        );
        const keep = (pair: SetPair, p: [Target, BanEntry]) =>
          present.has(`${pair.scope?.id ?? ""} ${p[0].key}`);
        try {
          await this.#elements("unban", "delete", groups(keep));
          return;
        } catch (e) {
          if (attempt > 0 || !(e instanceof FirewallError) || e.errno !== ENOENT) throw e;
        }
      }
    });
  }

  /** Elements of both sets, with remaining time and the jail from the element comment. */
  list(): Promise<BanEntry[]> {
    return this.#lock.run(() => this.#list("list"));
  }

  async #dumpSet(op: string, set: string): Promise<ElemRecord[]> {
    const s = this.#socket(op);
    const w = new MessageWriter();
    const seq = s.nextSeq();
    w.beginMessage(nftType(NFT_MSG.GETSETELEM), NLM_F.REQUEST | NLM_F.DUMP | NLM_F.ACK, seq);
    w.nfgenmsg(NFPROTO.INET);
    w.str(ELEM_LIST.TABLE, this.layout.table);
    w.str(ELEM_LIST.SET, set);
    w.endMessage();
    let msgs;
    try {
      msgs = await s.dump(w.bytes(), seq, `GETSETELEM ${set}`);
    } catch (e) {
      throw wrap(op, e);
    }
    const out: ElemRecord[] = [];
    for (const m of msgs) {
      const attrs = parseAttrs(m.payload, 4);
      const list = findAttr(attrs, ELEM_LIST.ELEMENTS);
      if (!list) continue;
      for (const item of parseAttrs(list)) out.push(parseElem(item.data));
    }
    return out;
  }

  async #list(op: string): Promise<BanEntry[]> {
    const out: BanEntry[] = [];
    for (const pair of this.#pairs.values()) {
      const scoped = (e: BanEntry): BanEntry =>
        pair.scope === null ? e : { ...e, scope: pair.scope };
      for (const r of await this.#dumpSet(op, pair.set4)) {
        if (r.key.length !== 4 || r.intervalEnd) continue;
        const ip = formatAddr(r.key);
        out.push(scoped({ ip, prefix: 32, timeoutMs: r.remainingMs, jail: r.comment }));
      }
      const v6 = await this.#dumpSet(op, pair.set6);
      if (!this.layout.ipv6Interval) {
        for (const r of v6) {
          if (r.key.length !== 16 || r.intervalEnd) continue;
          const ip = formatAddr(r.key);
          out.push(scoped({ ip, prefix: 128, timeoutMs: r.remainingMs, jail: r.comment }));
        }
      } else {
        out.push(...intervalsToEntries(v6).map(scoped));
      }
    }
    return out;
  }

  /** Deletes the table (clean stop; see docs/architecture.md) and closes the socket. */
  close(): Promise<void> {
    return this.#lock.run(async () => {
      if (this.#sock === null) return;
      try {
        const b = this.#batch("close");
        deleteTable(b, this.layout, false);
        await this.#commit("close", b);
      } catch (e) {
        if (!(e instanceof FirewallError) || e.errno !== ENOENT) throw e;
      } finally {
        this.#sock?.close();
        this.#sock = null;
        this.#verified = null;
      }
    });
  }
}

/** A pair's entries by family. */
interface Grouped {
  v4: [Target, BanEntry][];
  v6: [Target, BanEntry][];
}

interface ElemRecord {
  key: Uint8Array;
  intervalEnd: boolean;
  remainingMs: number | null;
  comment: string;
}

function parseElem(data: Uint8Array): ElemRecord {
  const a = parseAttrs(data);
  const keyNest = findAttr(a, ELEM.KEY);
  const key = keyNest ? findAttr(parseAttrs(keyNest), 1 /* NFTA_DATA_VALUE */) : undefined;
  const flags = findAttr(a, ELEM.FLAGS);
  const exp = findAttr(a, ELEM.EXPIRATION);
  const timeout = findAttr(a, ELEM.TIMEOUT);
  const udata = findAttr(a, ELEM.USERDATA);
  let comment = "";
  if (udata) {
    for (let off = 0; off + 2 <= udata.length;) {
      const type = udata[off]!, len = udata[off + 1]!;
      if (type === UDATA_ELEM_COMMENT) comment = readStr(udata.subarray(off + 2, off + 2 + len));
      off += 2 + len;
    }
  }
  let remainingMs: number | null = null;
  if (exp) remainingMs = Number(readU64be(exp));
  else if (timeout) remainingMs = Number(readU64be(timeout));
  return {
    key: key ? key.slice() : new Uint8Array(0),
    intervalEnd: flags ? (readU32be(flags) & ELEM_INTERVAL_END) !== 0 : false,
    remainingMs,
    comment,
  };
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Turns interval-set elements (start + INTERVAL_END pairs) back into blocks. */
function intervalsToBlocks(recs: ElemRecord[]): Block[] {
  const sorted = recs.filter((r) => r.key.length === 16).sort((a, b) => compare(a.key, b.key));
  const out: Block[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i]!;
    if (start.intervalEnd) continue;
    const next = sorted[i + 1];
    const end = next && next.intervalEnd ? next.key : null;
    let prefix = 128;
    for (let p = 0; p <= 128; p++) {
      if (compare(maskBytes(start.key, p), start.key) !== 0) continue;
      const e = blockEnd(start.key, p);
      if ((e === null && end === null) || (e !== null && end !== null && compare(e, end) === 0)) {
        prefix = p;
        break;
      }
    }
    out.push({ bytes: start.key, prefix, timeoutMs: start.remainingMs, jail: start.comment });
  }
  return out;
}

/** Interval-set elements as ban entries. */
function intervalsToEntries(recs: ElemRecord[]): BanEntry[] {
  return intervalsToBlocks(recs).map((b) => ({
    ip: formatAddr(b.bytes),
    prefix: b.prefix,
    timeoutMs: b.timeoutMs,
    jail: b.jail,
  }));
}
