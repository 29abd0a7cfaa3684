/**
 * The tracker: a fixed-capacity table of per-(jail, address) state, allocated once as typed
 * arrays, that counts failures and decides bans.
 *
 * Stages of `record()`, in the order the code follows:
 * 1. jail enabled? → parse the address into scratch words (no allocation)
 * 2. never-bannable (loopback, unspecified) or `ignoreip` → ignored
 * 3. time rule (`clampToNow`, src/time): null → now, future → now; older than `findtime` → ignored
 * 4. group IPv6 by the jail's `ipv6_prefix`; look the key up (open addressing, keyed hash)
 * 5. new key: take a free slot, or apply the eviction policy when the table is full; when that
 *    finds nothing, hand an active ban off to the kernel (it keeps it until its timeout)
 * 6. add the failure time; `maxretry` failures within `findtime` → ban (duration from
 *    `bantime`/`bantime_increment`), then feed the ban to every `source = "bans"` jail (recidive)
 *
 * The structures over the entries have a file each: the hash index (`_index.ts`), the eviction
 * and free lists (`_lists.ts`), the expiry heap (`_heap.ts`), the ghost filter of evicted keys
 * (`_ghosts.ts`) and the u32 time offsets with their rebasing (`_time.ts`); this file holds the
 * entries and what `record`, `ban`, `expire`, reload and snapshot do with them.
 *
 * Memory: every array is allocated in the constructor; the hot path allocates only the outcome
 * of a ban. `TRACKER_BYTES_PER_ENTRY` and `trackerCapacityFor()` size the table from a budget.
 * @module
 */
import type { EvictionPolicy, JailConfig } from "../config/mod.ts";
import type { StateBan, StateFailures, StateHistory, StateIgnore } from "../state/mod.ts";
import { canonicalIgnore, RuntimeIgnore, type RuntimeIgnoreEntry } from "./_ignore.ts";
import type { Clock } from "./clock.ts";
import { SystemClock } from "./clock.ts";
import {
  formatWords,
  isNeverBannableWords,
  isV4Words,
  maskWords,
  parseIpWords,
  WordCidrList,
  wordsToBytes,
} from "../net/mod.ts";
import { banDurationMs, type RandomSource } from "./policy.ts";
import { clampToNow } from "../time/mod.ts";
import { capacityOfSlots, KeyIndex, slotsFor } from "./_index.ts";
import { ExpiryHeap } from "./_heap.ts";
import { GHOST_BITS_PER_SLOT, GhostFilter } from "./_ghosts.ts";
import {
  ENTRIES_PER_HANDOFF,
  HANDOFF_BYTES_PER_SLOT,
  HandOffs,
  handOffSlotsFor,
} from "./_handoffs.ts";
import { shiftedOffset, TimeBase } from "./_time.ts";
import {
  BANNED,
  EntryLists,
  FAILURE_SLOTS,
  failuresList,
  FREE,
  HISTORY,
  LISTS,
  ONE_FAILURE,
  RETURNING,
} from "./_lists.ts";

// ---- limits (each names what happens when it is reached) ----

export { FAILURE_SLOTS };
/** Buckets per entry for jails with `maxretry` > `FAILURE_SLOTS` (each spans `findtime / 4`). */
export const FAILURE_BUCKETS = FAILURE_SLOTS / 2;
/** Largest ban count stored per entry; further bans keep it there. */
export const MAX_BAN_COUNT = 0xffff;
/** Least interval between two `onDropBurst` calls (`log-and-drop`). */
export const DROP_LOG_INTERVAL_MS = 10_000;
/** Entries examined per `expire()` call by the background sweeper that frees stale entries. */
export const SWEEP_PER_EXPIRE = 4096;
/** Smallest table the tracker builds. */
export const MIN_CAPACITY = 16;
/** Largest table (index slots are int32). */
export const MAX_CAPACITY = 1 << 28;
/** Most failure records `snapshot()` yields (entries with the most failures first). */
export const MAX_SNAPSHOT_FAILURE_ENTRIES = 65_536;

/**
 * Bytes per table entry, all arrays included except those sized by index slots
 * (`TRACKER_BYTES_PER_SLOT`; `trackerBytesFor()` adds them): key 16, failure times 32, ban
 * times 16, expiry heap 8, list links 8, last seen 4, jail 2, ban count 2,
 * prefix/list/count/returning 4, and a share of the handed-off bans' list (`_handoffs.ts`, one
 * 37-byte slot per 8 entries, rounded up to 5).
 */
export const TRACKER_BYTES_PER_ENTRY: number = 16 + FAILURE_SLOTS * 4 + 16 + 8 + 8 + 4 + 2 + 2 + 4 +
  Math.ceil(HANDOFF_BYTES_PER_SLOT / ENTRIES_PER_HANDOFF);
/** Bytes per index slot: the slot (4) and its share of the two ghost bitmaps. */
export const TRACKER_BYTES_PER_SLOT: number = 4 + (2 * GHOST_BITS_PER_SLOT) / 8;

/**
 * Bytes the tracker allocates for a table of `capacity` entries, at most (one hand-off slot more
 * than the per-entry share covers, for its rounding up).
 */
export function trackerBytesFor(capacity: number): number {
  return capacity * TRACKER_BYTES_PER_ENTRY + slotsFor(capacity) * TRACKER_BYTES_PER_SLOT +
    HANDOFF_BYTES_PER_SLOT;
}

/**
 * The largest capacity whose table fits in `budgetBytes` (at least `MIN_CAPACITY`).
 * The daemon computes the budget as `memory_ceiling_mb` minus the runtime's measured baseline
 * and working headroom (see docs/state.md, "Sizing").
 */
export function trackerCapacityFor(budgetBytes: number): number {
  let best = MIN_CAPACITY;
  for (let s = 16; s * TRACKER_BYTES_PER_SLOT <= budgetBytes && s <= MAX_CAPACITY * 2; s *= 2) {
    const byLoad = capacityOfSlots(s);
    const byBytes = Math.floor(
      (budgetBytes - s * TRACKER_BYTES_PER_SLOT - HANDOFF_BYTES_PER_SLOT) / TRACKER_BYTES_PER_ENTRY,
    );
    const cap = Math.min(byLoad, byBytes, MAX_CAPACITY);
    if (cap > best) best = cap;
  }
  return best;
}

/**
 * Bytes of `memory_ceiling_mb` the tracker table may take: the ceiling minus the runtime's own
 * peak (the daemon passes the config's `RUNTIME_PEAK_MB`). Pass the result to
 * `trackerCapacityFor()`.
 */
export function trackerBudgetFor(memoryCeilingMb: number, runtimePeakMb: number): number {
  return Math.max(0, (memoryCeilingMb - runtimePeakMb) * 1024 * 1024);
}

// ---- public records ----

/** Why a ban happened. */
export type BanCause = "failures" | "recidive" | "manual" | "restored";

/** A ban to apply (or, from `expire`/`unban`, one that was lifted). */
export interface BanDecision {
  /** Canonical text; the network address when `prefix` is shorter than the family. */
  readonly ip: string;
  /** 32 for IPv4; the jail's `ipv6_prefix` (or 128) for IPv6. */
  readonly prefix: number;
  /** Jail name. */
  readonly jail: string;
  /** Index into the jails given to the tracker. */
  readonly jailIndex: number;
  /** Ban length in ms; `null` for permanent. */
  readonly durationMs: number | null;
  /** Bans of this address in this jail, this one included. */
  readonly banCount: number;
  /** ms since the epoch. */
  readonly bannedAt: number;
  /** ms since the epoch; `null` for permanent. */
  readonly expiresAt: number | null;
  /**
   * Why the ban happened, on decisions returned by `record()`, `ban()` and `restore()`; the
   * decisions of `eachActiveBan()`, `expire()`, `unban()` and `reconfigure()` say `"failures"`.
   */
  readonly cause: BanCause;
}

/** Why a failure was not counted. */
export type IgnoreReason =
  | "invalid"
  | "disabled"
  | "stopped"
  | "never-bannable"
  | "ignoreip"
  | "too-old";

/** The result of `record()` or `ban()`. Non-ban outcomes are shared frozen objects. */
export type RecordOutcome =
  | { readonly kind: "ignored"; readonly reason: IgnoreReason }
  | { readonly kind: "counted" }
  | { readonly kind: "already-banned" }
  | { readonly kind: "dropped" }
  | { readonly kind: "ban"; readonly bans: readonly BanDecision[] };

function ignored(reason: IgnoreReason): RecordOutcome {
  return Object.freeze({ kind: "ignored", reason });
}
const IGNORED = {
  invalid: ignored("invalid"),
  disabled: ignored("disabled"),
  stopped: ignored("stopped"),
  "never-bannable": ignored("never-bannable"),
  ignoreip: ignored("ignoreip"),
  "too-old": ignored("too-old"),
} as const;
const COUNTED: RecordOutcome = Object.freeze({ kind: "counted" });
const ALREADY_BANNED: RecordOutcome = Object.freeze({ kind: "already-banned" });
const DROPPED: RecordOutcome = Object.freeze({ kind: "dropped" });

/** Per-jail figures for `status JAIL` and metrics. */
export interface JailStats {
  /** The jail's name. */
  readonly jail: string;
  /** Tracked, not banned, with at least one failure kept. */
  readonly currentlyFailed: number;
  /** Bans of this jail in force now. */
  readonly activeBans: number;
  /** Failures counted since start (ignored and dropped ones excluded). */
  readonly failuresTotal: number;
  /** Bans since start (restored ones excluded). */
  readonly bansTotal: number;
}

/** Table-wide figures. */
export interface TrackerStats {
  /** Entries the table can hold. */
  readonly capacity: number;
  /** Entries in use (failing, banned, or holding ban history). */
  readonly tracked: number;
  /** Bans in force now, all jails. */
  readonly activeBans: number;
  /** Entries removed to make room (by `evict-oldest`, for a manual ban, or bans handed off). */
  readonly evictions: number;
  /**
   * Active bans removed from the full table to make room (counted in `evictions` too): the kernel
   * set still holds each until its own timeout, but `list`, `unban` and the state file no longer
   * see it.
   */
  readonly bansHandedOff: number;
  /** New addresses not tracked because the table was full. */
  readonly drops: number;
  /** Bytes allocated by the table. */
  readonly bytes: number;
  /** Per-jail figures, in config order. */
  readonly jails: readonly JailStats[];
}

/** Passed to `onDropBurst` (`log-and-drop`). */
export interface DropBurst {
  /** Drops since the previous call. */
  readonly dropped: number;
  /** Drops since start. */
  readonly totalDropped: number;
}

/** Options of `new Tracker()`. */
export interface TrackerOptions {
  /** The jails, in config order; `record()` takes an index into this list. */
  readonly jails: readonly JailConfig[];
  /** Table entries (see `trackerCapacityFor`). */
  readonly capacity: number;
  /** What happens when the table is full. @default "evict-oldest" */
  readonly eviction?: EvictionPolicy;
  /** The time source. @default new SystemClock() */
  readonly clock?: Clock;
  /** Uniform [0, 1) source for the ban jitter. @default Math.random */
  readonly random?: RandomSource;
  /** Called at most once per `DROP_LOG_INTERVAL_MS` while `log-and-drop` drops. */
  readonly onDropBurst?: (burst: DropBurst) => void;
  /**
   * Called at most once per `DROP_LOG_INTERVAL_MS` while active bans are removed from the full
   * table to make room (`dropped` = bans handed off since the last call; the kernel keeps them).
   */
  readonly onBanHandOff?: (burst: DropBurst) => void;
  /** Seed of the keyed hash (tests); random by default so attackers cannot aim collisions. */
  readonly hashSeed?: number;
}

/** What `restore()` did. */
export interface RestoreResult {
  /** Bans re-established (still running); the daemon re-adds them to the firewall. */
  readonly restored: BanDecision[];
  /** Bans whose time had run out (kept as history). */
  readonly expired: number;
  /**
   * Records whose jail no longer exists, whose address is invalid, or that found no room (a ban
   * in force that finds the table full is kept in a free hand-off slot first: `eachHandedOff`).
   */
  readonly skipped: number;
}

// ---- internals ----

const U32_MAX = 0xffffffff;

/** Prefix length of the key `keys[off, off + 4)` counted over 128 bits (IPv4 from bit 96). */
function len128(keys: Uint32Array, off: number, prefix: number): number {
  return isV4Words(keys, off) ? 96 + prefix : prefix;
}

interface JailRuntime {
  readonly config: JailConfig;
  readonly name: string;
  readonly enabled: boolean;
  readonly fromBans: boolean;
  /** The reserved jail `fleet` (bans received from other hosts): its bans feed no recidive jail. */
  readonly fromFleet: boolean;
  readonly findtime: number;
  readonly maxretry: number;
  /** maxretry ≤ FAILURE_SLOTS: exact sorted times; otherwise buckets. */
  readonly exact: boolean;
  readonly bucketWidth: number;
  readonly v6prefix: number;
  readonly ignore: WordCidrList;
}

function compileJail(config: JailConfig): JailRuntime {
  return {
    config,
    name: config.name,
    enabled: config.enabled,
    fromBans: config.source === "bans",
    fromFleet: config.source === "fleet",
    findtime: config.findtimeMs,
    maxretry: config.maxretry,
    exact: config.maxretry <= FAILURE_SLOTS,
    bucketWidth: Math.max(1, Math.ceil(config.findtimeMs / FAILURE_BUCKETS)),
    v6prefix: config.ipv6Prefix,
    ignore: new WordCidrList(config.ignoreip),
  };
}

function sameCounting(a: JailRuntime, b: JailRuntime): boolean {
  return a.findtime === b.findtime && a.maxretry === b.maxretry;
}

/**
 * Per-address failure counting and ban decisions in a fixed-capacity table.
 *
 * Keys are (jail, address or IPv6 network). One entry holds the failure times needed for
 * `findtime`/`maxretry`, the ban state and expiry, the ban count (history for
 * `bantime_increment`) and when it was last seen. Not thread-safe; one owner (the main thread).
 */
export class Tracker {
  #jails: JailRuntime[] = [];
  #bansJails: number[] = [];
  /** `client ignore add` entries (kept across reloads and, through the state file, restarts). */
  readonly #runtimeIgnore = new RuntimeIgnore();
  /** By jail index: 1 after `stopJail`, until `startJail` or a reload. */
  #stopped = new Uint8Array(0);
  readonly #capacity: number;
  readonly #eviction: EvictionPolicy;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #onDropBurst: ((burst: DropBurst) => void) | undefined;
  readonly #onBanHandOff: ((burst: DropBurst) => void) | undefined;

  // table: entry fields by entry number, and the structures over them
  readonly #keys: Uint32Array;
  readonly #jail: Uint16Array;
  readonly #prefix: Uint8Array;
  readonly #n: Uint8Array;
  /** 1 when the address was evicted before and came back (ghost hit): ranks as one failure more. */
  readonly #returning: Uint8Array;
  readonly #banCount: Uint16Array;
  readonly #times: Uint32Array;
  readonly #lastSeen: Uint32Array;
  readonly #bannedAt: Float64Array;
  readonly #expiresAt: Float64Array;
  readonly #index: KeyIndex;
  readonly #lists: EntryLists;
  /** `#lists`' own arrays (the list of each entry, the next of each, the head of each list). */
  readonly #list: Uint8Array;
  readonly #next: Int32Array;
  readonly #head: Int32Array;
  readonly #heap: ExpiryHeap;
  readonly #ghosts: GhostFilter;
  readonly #time: TimeBase;
  /** Bans handed off to the kernel, the latest of them (`_handoffs.ts`). */
  readonly #handoffs: HandOffs;
  #used = 0;
  #sweepCursor = 0;

  // counters
  #evictions = 0;
  #drops = 0;
  #pendingDrops = 0;
  #lastDropLog = -Infinity;
  #handedOff = 0;
  #pendingHandOffs = 0;
  #lastHandOffLog = -Infinity;
  #failing: number[] = [];
  #banned: number[] = [];
  #failuresTotal: number[] = [];
  #bansTotal: number[] = [];

  // scratch (never escapes)
  readonly #w = new Uint32Array(4);
  readonly #w2 = new Uint32Array(4);
  readonly #w3 = new Uint32Array(4);

  /**
   * A table of `options.capacity` entries for `options.jails`.
   * @throws RangeError when the capacity is out of range, Error when an `ignoreip` is invalid
   */
  constructor(options: TrackerOptions) {
    const cap = Math.floor(options.capacity);
    if (!(cap >= MIN_CAPACITY && cap <= MAX_CAPACITY)) {
      throw new RangeError(
        `expected a tracker capacity in ${MIN_CAPACITY}..${MAX_CAPACITY}, found ${options.capacity}`,
      );
    }
    this.#capacity = cap;
    this.#eviction = options.eviction ?? "evict-oldest";
    this.#clock = options.clock ?? new SystemClock();
    this.#random = options.random ?? Math.random;
    this.#onDropBurst = options.onDropBurst;
    this.#onBanHandOff = options.onBanHandOff;
    const seed = options.hashSeed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
    this.#keys = new Uint32Array(cap * 4);
    this.#jail = new Uint16Array(cap);
    this.#prefix = new Uint8Array(cap);
    this.#n = new Uint8Array(cap);
    this.#returning = new Uint8Array(cap);
    this.#banCount = new Uint16Array(cap);
    this.#times = new Uint32Array(cap * FAILURE_SLOTS);
    this.#lastSeen = new Uint32Array(cap);
    this.#bannedAt = new Float64Array(cap);
    this.#expiresAt = new Float64Array(cap);
    this.#index = new KeyIndex(this.#keys, this.#jail, seed);
    this.#lists = new EntryLists(cap);
    this.#list = this.#lists.list;
    this.#next = this.#lists.next;
    this.#head = this.#lists.head;
    this.#heap = new ExpiryHeap(cap, this.#expiresAt);
    this.#ghosts = new GhostFilter(slotsFor(cap) * GHOST_BITS_PER_SLOT, seed);
    this.#handoffs = new HandOffs(handOffSlotsFor(cap));
    this.#time = new TimeBase(this.#clock.now());
    this.#setJails(options.jails.map(compileJail));
  }

  /** Table entries. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Bytes the table allocated. */
  get bytes(): number {
    return trackerBytesFor(this.#capacity);
  }

  /** Index of the jail with this name, or -1. */
  jailIndex(name: string): number {
    return this.#jails.findIndex((j) => j.name === name);
  }

  /**
   * Counts one failure of `ip` in jail `jailIndex`.
   * @param ip canonical address text from a filter (other valid spellings are accepted)
   * @param timeMs the line's time in ms since the epoch, or `null` for "now"
   * @returns `ban` with the decisions to apply (the jail's ban first, then recidive bans), or why
   *   nothing is to be done
   * @throws RangeError for an unknown jail index
   */
  record(jailIndex: number, ip: string, timeMs: number | null): RecordOutcome {
    const jail = this.#jailAt(jailIndex);
    if (!jail.enabled) return IGNORED.disabled;
    if (this.#stopped[jailIndex] === 1) return IGNORED.stopped;
    const w = this.#w;
    const fam = parseIpWords(ip, w);
    if (fam === 0) return IGNORED.invalid;
    if (isNeverBannableWords(w)) return IGNORED["never-bannable"];
    if (this.#ignores(jailIndex, w)) return IGNORED.ignoreip;
    const now = this.#clock.now();
    const t = Math.floor(clampToNow(timeMs, now));
    if (t < now - jail.findtime) return IGNORED["too-old"];
    const prefix = fam === 4 ? 32 : jail.v6prefix;
    if (fam === 6) maskWords(w, 0, prefix);
    return this.#fail(jailIndex, w, prefix, now, t, "failures");
  }

  /**
   * Bans `ip` in a jail by hand (`client ban`). `ignoreip` and never-bannable addresses still
   * win. An address that is banned already gets the new duration. When the table is full an
   * unbanned entry is evicted whatever the policy; in a table full of bans the ban soonest to expire
   * is handed off to the kernel (see `stats().bansHandedOff`).
   * @param durationMs ms (≥ 1), `null` for permanent; omitted: the jail's policy (with increment)
   * @throws RangeError for an unknown jail index or a duration that is not a number ≥ 1
   */
  ban(ip: string, jailIndex: number, durationMs?: number | null): RecordOutcome {
    const jail = this.#jailAt(jailIndex);
    if (
      durationMs !== undefined && durationMs !== null && !(durationMs >= 1 && durationMs < 1e15)
    ) {
      throw new RangeError(`expected a ban duration of at least 1 ms or null, found ${durationMs}`);
    }
    if (this.#stopped[jailIndex] === 1) return IGNORED.stopped;
    const w = this.#w;
    const fam = parseIpWords(ip, w);
    if (fam === 0) return IGNORED.invalid;
    if (isNeverBannableWords(w)) return IGNORED["never-bannable"];
    if (this.#ignores(jailIndex, w)) return IGNORED.ignoreip;
    const prefix = fam === 4 ? 32 : jail.v6prefix;
    if (fam === 6) maskWords(w, 0, prefix);
    const now = this.#clock.now();
    this.#rebaseIfNeeded(now);
    let e = this.#index.find(jailIndex, w, 0);
    if (e < 0) {
      e = this.#allocate(now, true);
      if (e < 0) return this.#drop(now);
      this.#initEntry(e, jailIndex, w, prefix, now);
    }
    if (this.#list[e] === BANNED) {
      const dur = durationMs === undefined ? this.#durationFor(e) : durationMs;
      this.#heap.remove(e);
      this.#bannedAt[e] = now;
      this.#expiresAt[e] = dur === null ? Infinity : now + dur;
      if (dur !== null) this.#heap.push(e);
      return { kind: "ban", bans: [this.#decision(e, "manual")] };
    }
    const bans = [this.#banEntry(e, now, durationMs, "manual")];
    this.#feedRecidiveOf(e, now, jailIndex, bans);
    return { kind: "ban", bans };
  }

  /**
   * Lifts bans of `ip`: in one jail, or in every jail. An address inside a banned IPv6 prefix
   * lifts that prefix. The entries keep their ban count (history).
   * @returns the bans lifted (empty when none matched)
   */
  unban(ip: string, jailIndex?: number): BanDecision[] {
    // the list's first: `#shadowed` asks the table before its bans are lifted
    const handed = this.#handedOffOf(ip, jailIndex).map((s) => this.#liftHandedOff(s));
    const lifted = this.#bannedEntriesOf(ip, jailIndex).map((e) => this.#lift(e));
    for (const d of handed) if (d !== null) lifted.push(d);
    return lifted;
  }

  /**
   * The active bans covering `ip` (an address inside a banned IPv6 prefix is covered by it), in
   * one jail or in every jail, in jail order; nothing changes.
   */
  bansOf(ip: string, jailIndex?: number): BanDecision[] {
    return this.#bannedEntriesOf(ip, jailIndex).map((e) => this.#decision(e, "failures"));
  }

  #bannedEntriesOf(ip: string, jailIndex: number | undefined): number[] {
    const w = this.#w2;
    const out: number[] = [];
    if (parseIpWords(ip, w) === 0) return out;
    const v4 = isV4Words(w);
    const prefixes = v4 ? [32] : [...new Set([128, ...this.#jails.map((j) => j.v6prefix)])];
    const jails = jailIndex === undefined
      ? this.#jails.map((_, i) => i)
      : [this.#checkIndex(jailIndex)];
    const k = this.#w;
    for (const j of jails) {
      for (const p of prefixes) {
        k.set(w);
        if (!v4) maskWords(k, 0, p);
        const e = this.#index.find(j, k, 0);
        if (e >= 0 && this.#list[e] === BANNED && !out.includes(e)) out.push(e);
      }
    }
    return out;
  }

  /**
   * Lifts, in one jail or every jail, the first `limit` active bans whose address or network
   * overlaps `cidr` (one contains the other): what `ignoreAdd` must not leave blocked.
   * @throws TypeError for an invalid `cidr`
   */
  unbanWithin(cidr: string, limit = Infinity, jailIndex?: number): BanDecision[] {
    const only = jailIndex === undefined ? -1 : this.#checkIndex(jailIndex);
    const net = new WordCidrList([cidr]);
    const out: BanDecision[] = [];
    const h = this.#handoffs;
    for (const s of this.#heldSlots(only)) {
      if (out.length >= limit) break;
      if (net.overlaps(h.keys, s * 4, len128(h.keys, s * 4, h.prefix[s]!))) {
        const d = this.#liftHandedOff(s);
        if (d !== null) out.push(d);
      }
    }
    let e = this.#head[BANNED]!;
    while (e >= 0 && out.length < limit) {
      const next = this.#next[e]!;
      if (
        (only < 0 || this.#jail[e] === only) &&
        net.overlaps(this.#keys, e * 4, len128(this.#keys, e * 4, this.#prefix[e]!))
      ) {
        out.push(this.#lift(e));
      }
      e = next;
    }
    return out;
  }

  // ---- runtime ignore list and stopped jails ----

  /**
   * Adds `cidr` (an address or CIDR, host bits clear) to the runtime ignore list of one jail or
   * of every jail (`jailIndex` undefined). Bans it covers stay until `unbanWithin` lifts them.
   * @returns the canonical entry, and false in `added` when it was there already
   * @throws TypeError for an invalid `cidr`, RangeError when the list is full
   */
  ignoreAdd(cidr: string, jailIndex?: number): { entry: RuntimeIgnoreEntry; added: boolean } {
    const entry = this.#ignoreEntry(cidr, jailIndex);
    return { entry, added: this.#runtimeIgnore.add(entry) };
  }

  /**
   * Removes an entry that `ignoreAdd` made; the config's `ignoreip` is not touched.
   * @returns the canonical entry, or null when there was no such entry
   * @throws TypeError for an invalid `cidr`
   */
  ignoreRemove(cidr: string, jailIndex?: number): RuntimeIgnoreEntry | null {
    const entry = this.#ignoreEntry(cidr, jailIndex);
    return this.#runtimeIgnore.remove(entry) ? entry : null;
  }

  /** The runtime ignore entries, in the order added. */
  ignoreEntries(): readonly RuntimeIgnoreEntry[] {
    return this.#runtimeIgnore.entries();
  }

  #ignoreEntry(cidr: string, jailIndex: number | undefined): RuntimeIgnoreEntry {
    const jail = jailIndex === undefined ? null : this.#jailAt(jailIndex).name;
    return { cidr: canonicalIgnore(cidr), jail };
  }

  #ignores(jailIndex: number, w: Uint32Array): boolean {
    return this.#jails[jailIndex]!.ignore.has(w) || this.#runtimeIgnore.has(jailIndex, w);
  }

  /**
   * Stops (or restarts) counting and banning in a jail: while stopped, `record` and `ban` answer
   * `ignored` (`stopped`) and no recidive ban is made in it. Its bans are the caller's to lift
   * (`unbanAll(limit, jailIndex)`). A reload (`reconfigure`) starts every jail again.
   */
  setStopped(jailIndex: number, stopped: boolean): void {
    this.#stopped[this.#checkIndex(jailIndex)] = stopped ? 1 : 0;
  }

  /** True after `setStopped(jailIndex, true)`, until it is started again or a reload. */
  isStopped(jailIndex: number): boolean {
    return this.#stopped[this.#checkIndex(jailIndex)] === 1;
  }

  /**
   * True when some jail still holds an active ban of exactly this address/network and prefix.
   * The kernel sets are shared by all jails: when a ban is lifted (expiry, unban, reload), the
   * caller removes the firewall entry only if this returns false.
   */
  isBanned(ip: string, prefix: number): boolean {
    const w = this.#w2;
    const fam = parseIpWords(ip, w);
    if (fam === 0) return false;
    if (fam === 6) maskWords(w, 0, prefix);
    for (let j = 0; j < this.#jails.length; j++) {
      const e = this.#index.find(j, w, 0);
      if (e >= 0 && this.#list[e] === BANNED && this.#prefix[e] === prefix) return true;
    }
    return false;
  }

  /** Lifts every ban (of jail `jailIndex` when given), or the first `limit` of them; returns them. */
  unbanAll(limit = Infinity, jailIndex?: number): BanDecision[] {
    const only = jailIndex === undefined ? -1 : this.#checkIndex(jailIndex);
    const out: BanDecision[] = [];
    for (const s of this.#heldSlots(only)) {
      if (out.length >= limit) break;
      const d = this.#liftHandedOff(s);
      if (d !== null) out.push(d);
    }
    let e = this.#head[BANNED]!;
    while (e >= 0 && out.length < limit) {
      const next = this.#next[e]!;
      if (only < 0 || this.#jail[e] === only) out.push(this.#lift(e));
      e = next;
    }
    return out;
  }

  /** Throws what `reconfigure(jails)` would throw, changing nothing. */
  checkJails(jails: readonly JailConfig[]): void {
    for (const j of jails) compileJail(j);
  }

  /**
   * Lifts the bans whose expiry is at or before `now` (min-heap; O(k log n) for k expiries) and
   * frees a bounded number of stale entries. Call it periodically (e.g. every second).
   * At most `limit` bans are lifted per call (the earliest first): a clock jump or a long stop
   * can make a whole table of bans due at once, too many to hold as objects in the capped heap.
   * @returns the lifted bans, for the firewall and the audit log
   */
  expire(now: number = this.#clock.now(), limit = Infinity): BanDecision[] {
    const out: BanDecision[] = [];
    while (this.#heap.size > 0 && out.length < limit) {
      const e = this.#heap.peek();
      if (this.#expiresAt[e]! > now) break;
      out.push(this.#lift(e));
    }
    this.#rebaseIfNeeded(now);
    this.#sweep(now, SWEEP_PER_EXPIRE);
    this.#maybeReportDrops(now);
    this.#maybeReportHandOffs(now);
    return out;
  }

  /**
   * Active bans one at a time, without building an array (for feeding the firewall in batches
   * after a restore). Do not change the tracker while iterating.
   */
  *eachActiveBan(): Generator<BanDecision, void> {
    for (let e = this.#head[BANNED]!; e >= 0; e = this.#next[e]!) {
      yield this.#decision(e, "failures");
    }
  }

  /**
   * The bans the full table handed off that are still in force and that the table does not ban
   * again itself (the latest `handOffSlotsFor(capacity)` of them): the kernel holds them, so a
   * repair of a flushed ruleset re-adds them. `list` and `stats()` do not show them; `unban`,
   * `unbanWithin` and `unbanAll` lift them. Do not change the tracker while iterating.
   */
  *eachHandedOff(): Generator<BanDecision, void> {
    for (const s of this.#heldSlots()) if (!this.#shadowed(s)) yield this.#handOffDecision(s);
  }

  /**
   * Every ban the kernel must hold: the table's (`eachActiveBan`), then the listed hand-offs
   * (`eachHandedOff`). Do not change the tracker while iterating.
   */
  *eachEnforcedBan(): Generator<BanDecision, void> {
    yield* this.eachActiveBan();
    yield* this.eachHandedOff();
  }

  /** How many handed-off bans `eachHandedOff` would give. */
  handedOffHeld(): number {
    let n = 0;
    for (const s of this.#heldSlots()) if (!this.#shadowed(s)) n++;
    return n;
  }

  /** Slots of the hand-off list holding a ban in force, of jail `only` (every jail when -1). */
  *#heldSlots(only = -1): Generator<number, void> {
    const h = this.#handoffs, now = this.#clock.now();
    for (let s = 0; s < h.slots; s++) {
      if (h.held(s, now) && (only < 0 || h.jail[s] === only)) yield s;
    }
  }

  /** Slots of handed-off bans in force that cover `ip`, in one jail or every jail. */
  #handedOffOf(ip: string, jailIndex: number | undefined): number[] {
    const out: number[] = [];
    const w = this.#w2, k = this.#w, h = this.#handoffs;
    if (h.empty || parseIpWords(ip, w) === 0) return out;
    for (const s of this.#heldSlots(jailIndex === undefined ? -1 : this.#checkIndex(jailIndex))) {
      if (isV4Words(h.keys, s * 4) !== isV4Words(w)) continue;
      k.set(w);
      if (!isV4Words(w)) maskWords(k, 0, h.prefix[s]!);
      let same = true;
      for (let i = 0; i < 4; i++) if (k[i] !== h.keys[s * 4 + i]) same = false;
      if (same) out.push(s);
    }
    return out;
  }

  #handOffDecision(s: number): BanDecision {
    const h = this.#handoffs;
    const exp = h.expiresAt[s]!, at = h.bannedAt[s]!;
    const permanent = exp === Infinity;
    return {
      ip: formatWords(h.keys, s * 4),
      prefix: h.prefix[s]!,
      jail: this.#jails[h.jail[s]!]!.name,
      jailIndex: h.jail[s]!,
      durationMs: permanent ? null : exp - at,
      banCount: h.banCount[s]!,
      bannedAt: at,
      expiresAt: permanent ? null : exp,
      cause: "failures",
    };
  }

  /** True when the table bans slot `s`'s address in its jail again itself (that ban wins). */
  #shadowed(s: number): boolean {
    const e = this.#index.find(this.#handoffs.jail[s]!, this.#handoffs.keys, s * 4);
    return e >= 0 && this.#list[e] === BANNED;
  }

  /**
   * Frees slot `s`; returns its ban to lift, or null when the table bans the address itself
   * (lifting the table's ban lifts the kernel's element).
   */
  #liftHandedOff(s: number): BanDecision | null {
    const d = this.#shadowed(s) ? null : this.#handOffDecision(s);
    this.#handoffs.free(s);
    return d;
  }

  /** Counters for status and metrics. */
  stats(): TrackerStats {
    return {
      capacity: this.#capacity,
      tracked: this.#used,
      activeBans: this.#lists.size[BANNED]!,
      evictions: this.#evictions,
      bansHandedOff: this.#handedOff,
      drops: this.#drops,
      bytes: this.bytes,
      jails: this.#jails.map((j, i) => ({
        jail: j.name,
        currentlyFailed: this.#failing[i]!,
        activeBans: this.#banned[i]!,
        failuresTotal: this.#failuresTotal[i]!,
        bansTotal: this.#bansTotal[i]!,
      })),
    };
  }

  /**
   * Applies a reloaded jail list. Jails are matched by name: their bans, history and (when
   * `findtime` and `maxretry` are unchanged) failure times are kept. Entries of jails that no
   * longer exist are removed; their active bans are returned so the caller lifts them.
   * @throws Error when an `ignoreip` entry is invalid (nothing has changed then)
   */
  reconfigure(jails: readonly JailConfig[]): BanDecision[] {
    const compiled = jails.map(compileJail); // throws before any change
    const old = this.#jails;
    const map = old.map((j) => compiled.findIndex((c) => c.name === j.name));
    const lifted: BanDecision[] = [];
    // Walk the lists in order so that LRU order survives the rebuild.
    const order = new Int32Array(this.#used);
    let count = 0;
    for (let l = ONE_FAILURE; l < LISTS; l++) {
      for (let e = this.#head[l]!; e >= 0; e = this.#next[e]!) order[count++] = e;
    }
    for (let i = 0; i < count; i++) {
      const e = order[i]!;
      if (this.#list[e] === BANNED && map[this.#jail[e]!]! < 0) {
        lifted.push(this.#decision(e, "failures"));
      }
    }
    const h = this.#handoffs;
    for (const s of this.#heldSlots()) {
      const to = map[h.jail[s]!]!;
      if (to >= 0) h.jail[s] = to;
      else {
        const d = this.#liftHandedOff(s);
        if (d !== null) lifted.push(d);
      }
    }
    this.#lists.clear();
    this.#index.clear();
    this.#heap.clear();
    this.#used = 0;
    this.#setJails(compiled);
    for (let i = 0; i < count; i++) {
      const e = order[i]!;
      const oldJ = this.#jail[e]!;
      const newJ = map[oldJ]!;
      const wasBanned = this.#list[e] === BANNED;
      if (newJ < 0) {
        this.#lists.pushFree(e);
        continue;
      }
      this.#jail[e] = newJ;
      if (!sameCounting(old[oldJ]!, compiled[newJ]!)) this.#n[e] = 0;
      if (!wasBanned && this.#n[e] === 0 && this.#banCount[e] === 0) {
        this.#lists.pushFree(e);
        continue;
      }
      this.#used++;
      this.#index.insert(e);
      if (wasBanned) {
        this.#banned[newJ]!++;
        this.#lists.linkTail(e, BANNED);
        if (this.#expiresAt[e] !== Infinity) this.#heap.push(e);
      } else {
        if (this.#n[e]! > 0) this.#failing[newJ]!++;
        this.#lists.linkTail(e, this.#classOf(e));
      }
    }
    return lifted;
  }

  /**
   * The table's durable part, as lazy iterables for `encodeState` (consume them at once, before
   * the tracker changes): active bans, ban history, and failure times of entries with at least
   * two failures (every entry of a `source = "bans"` jail), most failures first, at most
   * `MAX_SNAPSHOT_FAILURE_ENTRIES`. Jails with `maxretry` > `FAILURE_SLOTS` keep no failure times.
   */
  snapshot(): {
    bans: Iterable<StateBan>;
    history: Iterable<StateHistory>;
    failures: Iterable<StateFailures>;
    ignores: Iterable<StateIgnore>;
  } {
    return {
      bans: this.#iterBans(),
      history: this.#iterHistory(),
      failures: this.#iterFailures(),
      ignores: [...this.#runtimeIgnore.entries()],
    };
  }

  /**
   * Loads records from a state file into the table (normally empty, at start). Bans still
   * running are re-established with their remaining time (past the table's room, in free slots of
   * the hand-off list); expired ones become history. Records of unknown jails are skipped.
   *
   * Memory: with `{ listRestored: false }` the result's `restored` stays empty and the caller
   * feeds the firewall from `eachActiveBan()` in batches, so a state of 100k+ bans is never held
   * as objects at once (≈ 270 bytes of heap per listed ban otherwise).
   */
  restore(
    state: {
      bans?: Iterable<StateBan>;
      history?: Iterable<StateHistory>;
      failures?: Iterable<StateFailures>;
      ignores?: Iterable<StateIgnore>;
    },
    options: { listRestored?: boolean } = {},
  ): RestoreResult {
    const now = this.#clock.now();
    this.#rebaseIfNeeded(now);
    const list = options.listRestored ?? true;
    const restored: BanDecision[] = [];
    let expired = 0;
    let skipped = 0;
    for (const i of state.ignores ?? []) {
      try {
        this.#runtimeIgnore.add({ cidr: canonicalIgnore(i.cidr), jail: i.jail });
      } catch {
        skipped++;
      }
    }
    for (const b of state.bans ?? []) {
      let kept = false;
      const e = this.#restoreEntry(b.jail, b.ip, b.prefix, now, true, (j) => {
        kept = this.#restoreHandOff(j, b, now);
        return kept;
      });
      if (e < 0) {
        if (!kept) skipped++;
        continue;
      }
      const count = Math.min(MAX_BAN_COUNT, Math.max(this.#banCount[e]!, b.banCount));
      if (b.expiresAt !== null && b.expiresAt <= now) {
        expired++;
        this.#banCount[e] = count;
        this.#bannedAt[e] = b.bannedAt;
        if (this.#list[e] !== BANNED) this.#relink(e);
        continue;
      }
      if (this.#list[e] === BANNED) this.#heap.remove(e);
      else {
        this.#setN(e, 0);
        this.#lists.unlink(e);
        this.#banned[this.#jail[e]!]!++;
        this.#lists.linkTail(e, BANNED);
      }
      this.#banCount[e] = count;
      this.#bannedAt[e] = b.bannedAt;
      this.#expiresAt[e] = b.expiresAt === null ? Infinity : b.expiresAt;
      if (b.expiresAt !== null) this.#heap.push(e);
      if (list) restored.push(this.#decision(e, "restored"));
    }
    for (const h of state.history ?? []) {
      const e = this.#restoreEntry(h.jail, h.ip, h.prefix, now, false);
      if (e < 0) {
        skipped++;
        continue;
      }
      this.#banCount[e] = Math.min(MAX_BAN_COUNT, Math.max(this.#banCount[e]!, h.banCount));
      if (this.#list[e] !== BANNED) this.#bannedAt[e] = h.lastBanAt;
      this.#relink(e);
    }
    for (const f of state.failures ?? []) {
      const j = this.jailIndex(f.jail);
      const jail = this.#jails[j];
      if (!jail || !jail.exact) {
        skipped++;
        continue;
      }
      const e = this.#restoreEntry(f.jail, f.ip, f.prefix, now, false);
      if (e < 0 || this.#list[e] === BANNED) {
        skipped++;
        continue;
      }
      for (const t of f.times) {
        if (t >= now - jail.findtime && t <= now) this.#addTime(e, jail, t, now);
      }
      if (this.#n[e] === 0 && this.#banCount[e] === 0) this.#free(e);
      else this.#relink(e);
    }
    return { restored, expired, skipped };
  }

  // ---- record path ----

  #jailAt(jailIndex: number): JailRuntime {
    const jail = this.#jails[jailIndex];
    if (jail === undefined) {
      throw new RangeError(
        `expected a jail index in 0..${this.#jails.length - 1}, found ${jailIndex}`,
      );
    }
    return jail;
  }

  #checkIndex(jailIndex: number): number {
    this.#jailAt(jailIndex);
    return jailIndex;
  }

  #fail(
    j: number,
    w: Uint32Array,
    prefix: number,
    now: number,
    t: number,
    cause: BanCause,
  ): RecordOutcome {
    this.#rebaseIfNeeded(now);
    const jail = this.#jails[j]!;
    let e = this.#index.find(j, w, 0);
    if (e < 0) {
      e = this.#allocate(now, false);
      if (e < 0) {
        return jail.maxretry === 1 ? this.#unstoredBan(j, w, prefix, now, cause) : this.#drop(now);
      }
      this.#initEntry(e, j, w, prefix, now);
      if (this.#ghosts.adds > 0 && this.#ghosts.has(j, w, 0)) this.#returning[e] = 1;
    } else if (this.#list[e] === BANNED) {
      return ALREADY_BANNED;
    }
    this.#lastSeen[e] = this.#rel(now);
    this.#failuresTotal[j]!++;
    const reached = this.#addTime(e, jail, t, now);
    if (!reached) {
      this.#relink(e);
      return COUNTED;
    }
    const bans = [this.#banEntry(e, now, undefined, cause)];
    if (!jail.fromBans) this.#feedRecidiveOf(e, now, j, bans);
    return { kind: "ban", bans };
  }

  /**
   * The ban of a new address whose first failure reaches `maxretry` (1) when the table has no
   * entry the policy may free and no ban to hand off (`deny-new` with a table full of counting
   * entries): decided without an entry and handed straight to the kernel (first ban: no history).
   */
  #unstoredBan(
    j: number,
    w: Uint32Array,
    prefix: number,
    now: number,
    cause: BanCause,
  ): RecordOutcome {
    const jail = this.#jails[j]!;
    const dur = banDurationMs(jail.config, 0, this.#random);
    this.#failuresTotal[j]!++;
    this.#bansTotal[j]!++;
    this.#handoffs.add(w, 0, j, prefix, 1, now, dur === null ? Infinity : now + dur);
    this.#handedOff++;
    this.#pendingHandOffs++;
    this.#maybeReportHandOffs(now);
    const bans: BanDecision[] = [{
      ip: formatWords(w, 0),
      prefix,
      jail: jail.name,
      jailIndex: j,
      durationMs: dur,
      banCount: 1,
      bannedAt: now,
      expiresAt: dur === null ? null : now + dur,
      cause: jail.fromBans ? "recidive" : cause,
    }];
    if (!jail.fromBans) {
      this.#w3.set(w);
      this.#feedRecidive(this.#w3, prefix, now, j, bans);
    }
    return { kind: "ban", bans };
  }

  /** Adds failure time `t` to entry `e`; true when the jail's `maxretry` is reached. */
  #addTime(e: number, jail: JailRuntime, t: number, now: number): boolean {
    const base = e * FAILURE_SLOTS;
    const times = this.#times;
    const lo = this.#rel(now - jail.findtime);
    const v = this.#rel(t);
    let n = this.#n[e]!;
    if (jail.exact) {
      // Drop times that left the window, then keep the newest `maxretry` times, ascending.
      let drop = 0;
      while (drop < n && times[base + drop]! < lo) drop++;
      if (drop > 0) {
        times.copyWithin(base, base + drop, base + n);
        n -= drop;
      }
      const m = jail.maxretry;
      if (n >= m) {
        if (v <= times[base]!) {
          this.#setN(e, n);
          return n >= m;
        }
        times.copyWithin(base, base + 1, base + n);
        n--;
      }
      let i = base + n;
      while (i > base && times[i - 1]! > v) {
        times[i] = times[i - 1]!;
        i--;
      }
      times[i] = v;
      n++;
      this.#setN(e, n);
      return n >= m;
    }
    // Buckets: pairs (start, count); a bucket counts only while its start is inside the window.
    const width = jail.bucketWidth;
    let total = 0;
    let hit = -1;
    let oldest = -1;
    for (let b = 0; b < n;) {
      const s = times[base + 2 * b]!;
      if (s < lo) {
        times[base + 2 * b] = times[base + 2 * (n - 1)]!;
        times[base + 2 * b + 1] = times[base + 2 * (n - 1) + 1]!;
        n--;
        continue;
      }
      if (v >= s && v - s < width) hit = b;
      if (oldest < 0 || s < times[base + 2 * oldest]!) oldest = b;
      b++;
    }
    if (hit >= 0) {
      times[base + 2 * hit + 1] = Math.min(U32_MAX, times[base + 2 * hit + 1]! + 1);
    } else if (n < FAILURE_BUCKETS) {
      times[base + 2 * n] = v;
      times[base + 2 * n + 1] = 1;
      n++;
    } else if (v > times[base + 2 * oldest]!) {
      times[base + 2 * oldest] = v; // the oldest bucket's count is given up (under-count)
      times[base + 2 * oldest + 1] = 1;
    }
    for (let b = 0; b < n; b++) total += times[base + 2 * b + 1]!;
    this.#setN(e, n);
    return total >= jail.maxretry;
  }

  /** Failures an entry holds (exact times, or the sum of its buckets). */
  #failureCount(e: number): number {
    const n = this.#n[e]!;
    const jail = this.#jails[this.#jail[e]!]!;
    if (jail.exact) return n;
    let total = 0;
    for (let b = 0; b < n; b++) total += this.#times[e * FAILURE_SLOTS + 2 * b + 1]!;
    return total;
  }

  #classOf(e: number): number {
    if (this.#list[e] === BANNED) return BANNED;
    if (this.#banCount[e]! > 0) return HISTORY;
    const c = this.#failureCount(e);
    if (c <= 1) return this.#returning[e] === 1 ? RETURNING : ONE_FAILURE;
    return failuresList(Math.min(FAILURE_SLOTS, c));
  }

  /** Moves `e` to the tail of the list it now belongs to (most recently seen). */
  #relink(e: number): void {
    this.#lists.unlink(e);
    this.#lists.linkTail(e, this.#classOf(e));
  }

  #setN(e: number, n: number): void {
    const before = this.#n[e]!;
    this.#n[e] = n;
    if (this.#list[e] === BANNED) return;
    const j = this.#jail[e]!;
    if (before === 0 && n > 0) this.#failing[j]!++;
    else if (before > 0 && n === 0) this.#failing[j]!--;
  }

  #durationFor(e: number): number | null {
    const j = this.#jail[e]!;
    const jail = this.#jails[j]!;
    let previous = this.#banCount[e]!;
    if (jail.config.bantimeIncrement.enabled && jail.config.bantimeIncrement.overall) {
      previous = 0;
      const k = this.#w2;
      const v4 = isV4Words(this.#keys, e * 4);
      for (let o = 0; o < this.#jails.length; o++) {
        for (let q = 0; q < 4; q++) k[q] = this.#keys[e * 4 + q]!;
        if (!v4) maskWords(k, 0, Math.min(this.#prefix[e]!, this.#jails[o]!.v6prefix));
        const x = o === j ? e : this.#index.find(o, k, 0);
        if (x >= 0) previous += this.#banCount[x]!;
      }
    }
    return banDurationMs(jail.config, previous, this.#random);
  }

  #banEntry(
    e: number,
    now: number,
    durationMs: number | null | undefined,
    cause: BanCause,
  ): BanDecision {
    const dur = durationMs === undefined ? this.#durationFor(e) : durationMs;
    const j = this.#jail[e]!;
    this.#setN(e, 0);
    this.#lists.unlink(e);
    this.#banCount[e] = Math.min(MAX_BAN_COUNT, this.#banCount[e]! + 1);
    this.#bannedAt[e] = now;
    this.#expiresAt[e] = dur === null ? Infinity : now + dur;
    this.#lists.linkTail(e, BANNED);
    if (dur !== null) this.#heap.push(e);
    this.#banned[j]!++;
    this.#bansTotal[j]!++;
    return this.#decision(e, this.#jails[j]!.fromBans ? "recidive" : cause);
  }

  /** `#feedRecidive` for the ban of entry `e`. */
  #feedRecidiveOf(e: number, now: number, fromJail: number, out: BanDecision[]): void {
    // Entry `e` may be handed off to make room for a recidive entry: copy its key first.
    for (let q = 0; q < 4; q++) this.#w3[q] = this.#keys[e * 4 + q]!;
    this.#feedRecidive(this.#w3, this.#prefix[e]!, now, fromJail, out);
  }

  /** Counts the ban of `banned`/`bannedPrefix` as one failure in every `source = "bans"` jail. */
  #feedRecidive(
    banned: Uint32Array,
    bannedPrefix: number,
    now: number,
    fromJail: number,
    out: BanDecision[],
  ): void {
    if (this.#jails[fromJail]!.fromBans || this.#jails[fromJail]!.fromFleet) return;
    for (const r of this.#bansJails) {
      if (r === fromJail) continue;
      const jail = this.#jails[r]!;
      if (!jail.enabled || this.#stopped[r] === 1) continue;
      const k = this.#w2;
      k.set(banned);
      const v4 = isV4Words(k);
      if (this.#ignores(r, k)) continue;
      const prefix = v4 ? 32 : Math.min(bannedPrefix, jail.v6prefix);
      if (!v4) maskWords(k, 0, prefix);
      // #fail uses #w2 only through #durationFor after the lookup; copy the key first.
      const key = this.#w;
      key.set(k);
      const outcome = this.#fail(r, key, prefix, now, now, "recidive");
      if (outcome.kind === "ban") out.push(...outcome.bans);
    }
  }

  #decision(e: number, cause: BanCause): BanDecision {
    const exp = this.#expiresAt[e]!;
    const at = this.#bannedAt[e]!;
    const permanent = exp === Infinity;
    return {
      ip: formatWords(this.#keys, e * 4),
      prefix: this.#prefix[e]!,
      jail: this.#jails[this.#jail[e]!]!.name,
      jailIndex: this.#jail[e]!,
      durationMs: permanent ? null : exp - at,
      banCount: this.#banCount[e]!,
      bannedAt: at,
      expiresAt: permanent ? null : exp,
      cause,
    };
  }

  #lift(e: number): BanDecision {
    const d = this.#decision(e, "failures");
    const j = this.#jail[e]!;
    this.#heap.remove(e);
    this.#lists.unlink(e);
    this.#banned[j]!--;
    this.#n[e] = 0;
    this.#lists.linkTail(e, HISTORY);
    return d;
  }

  // ---- allocation and eviction ----

  #initEntry(e: number, j: number, w: Uint32Array, prefix: number, now: number): void {
    for (let q = 0; q < 4; q++) this.#keys[e * 4 + q] = w[q]!;
    this.#jail[e] = j;
    this.#prefix[e] = prefix;
    this.#n[e] = 0;
    this.#returning[e] = 0;
    this.#banCount[e] = 0;
    this.#bannedAt[e] = 0;
    this.#expiresAt[e] = 0;
    this.#lastSeen[e] = this.#rel(now);
    this.#list[e] = FREE;
    this.#used++;
    this.#index.insert(e);
    this.#lists.linkTail(e, ONE_FAILURE);
  }

  /**
   * A free entry, or one made free by the policy; -1 when the address must be dropped. When the
   * policy finds nothing to evict, an active ban is handed off to the kernel (under every policy,
   * unless `keepBans`: a restore, whose bans are not in the kernel yet): the soonest to expire,
   * permanent ones last. Bans never depend on table room.
   */
  #allocate(now: number, manual: boolean, keepBans = false): number {
    const free = this.#lists.takeFree();
    if (free >= 0) return free;
    let victim = manual || this.#eviction === "evict-oldest" ? this.#victim(now) : -1;
    if (victim < 0 && !keepBans && this.#lists.size[BANNED]! > 0) {
      victim = this.#heap.size > 0 ? this.#heap.peek() : this.#head[BANNED]!;
      this.#handoffs.add(
        this.#keys,
        victim * 4,
        this.#jail[victim]!,
        this.#prefix[victim]!,
        this.#banCount[victim]!,
        this.#bannedAt[victim]!,
        this.#expiresAt[victim]!,
      );
      this.#handedOff++;
      this.#pendingHandOffs++;
      this.#maybeReportHandOffs(now);
    }
    if (victim >= 0) {
      this.#ghosts.add(this.#jail[victim]!, this.#keys, victim * 4);
      this.#free(victim);
      this.#evictions++;
      return this.#lists.takeFree();
    }
    return -1;
  }

  /** Counts a new address that found no room (and reports the burst under `log-and-drop`). */
  #drop(now: number): RecordOutcome {
    this.#drops++;
    if (this.#eviction === "log-and-drop") {
      this.#pendingDrops++;
      this.#maybeReportDrops(now);
    }
    return DROPPED;
  }

  /**
   * `evict-oldest`: an entry whose failures all left `findtime` (checked at the head of each
   * failure list), else the least recently seen entry of the lowest non-empty list: fewest
   * failures first, ban history last, banned never (`#allocate` hands off a ban when this finds
   * nothing). Bounded: at most 2 × `LISTS` heads.
   *
   * Evicted keys go into a ghost filter (two generations of a 3-hash Bloom bitmap): an address
   * that comes back after its eviction is marked returning and ranks one failure higher, so a
   * repeat offender whose first failure was flushed by a flood of one-shot addresses is kept the
   * second time. The ghost only ranks entries; bans still need `maxretry` timed failures. The
   * returning list is capped at half the table (its own LRU head goes first beyond that).
   */
  #victim(now: number): number {
    for (let l = ONE_FAILURE; l < HISTORY; l++) {
      const h = this.#head[l]!;
      if (h >= 0 && this.#abs(this.#lastSeen[h]!) < now - this.#jails[this.#jail[h]!]!.findtime) {
        return h;
      }
    }
    // Ghost false positives accumulate on the returning list during a long flood; capping it at
    // half the table keeps room for fresh one-shot entries (an attacker's first failure).
    if (this.#lists.size[RETURNING]! > this.#capacity >>> 1) return this.#head[RETURNING]!;
    for (let l = ONE_FAILURE; l <= HISTORY; l++) if (this.#head[l]! >= 0) return this.#head[l]!;
    return -1;
  }

  #free(e: number): void {
    if (this.#list[e] === BANNED) {
      this.#heap.remove(e);
      this.#banned[this.#jail[e]!]!--;
    } else if (this.#n[e]! > 0) {
      this.#failing[this.#jail[e]!]!--;
    }
    this.#index.remove(e);
    this.#lists.unlink(e);
    this.#n[e] = 0;
    this.#lists.pushFree(e);
    this.#used--;
  }

  /**
   * The entry of a restored record (found, or allocated without handing a ban off), or -1. When
   * the table has no room, `overflow(jail)` may keep the record elsewhere (the key is in `#w`);
   * else it counts as a drop.
   */
  #restoreEntry(
    jailName: string,
    ip: string,
    prefix: number,
    now: number,
    forBan: boolean,
    overflow?: (jail: number) => boolean,
  ): number {
    const j = this.jailIndex(jailName);
    if (j < 0) return -1;
    const w = this.#w;
    const fam = parseIpWords(ip, w);
    if (fam === 0) return -1;
    if (fam === 4 ? prefix !== 32 : !(prefix >= 0 && prefix <= 128)) return -1;
    if (fam === 6) maskWords(w, 0, prefix);
    let e = this.#index.find(j, w, 0);
    if (e < 0) {
      e = this.#allocate(now, forBan, true);
      if (e < 0) {
        if (!overflow?.(j)) this.#drop(now);
        return -1;
      }
      this.#initEntry(e, j, w, prefix, now);
    }
    return e;
  }

  /**
   * Restored ban `b` of jail `j` (its key in `#w`) that found the table full: kept in a free slot
   * of the hand-off list, so the daemon adds it to the kernel with the table's (`eachHandedOff`).
   * False when it has expired or the list has no free slot.
   */
  #restoreHandOff(j: number, b: StateBan, now: number): boolean {
    if ((b.expiresAt !== null && b.expiresAt <= now) || !this.#handoffs.nextFree(now)) return false;
    const count = Math.min(MAX_BAN_COUNT, b.banCount);
    this.#handoffs.add(this.#w, 0, j, b.prefix, count, b.bannedAt, b.expiresAt ?? Infinity);
    return true;
  }

  #maybeReportHandOffs(now: number): void {
    if (this.#pendingHandOffs === 0 || this.#onBanHandOff === undefined) return;
    if (now - this.#lastHandOffLog < DROP_LOG_INTERVAL_MS) return;
    this.#lastHandOffLog = now;
    const dropped = this.#pendingHandOffs;
    this.#pendingHandOffs = 0;
    this.#onBanHandOff({ dropped, totalDropped: this.#handedOff });
  }

  #maybeReportDrops(now: number): void {
    if (this.#pendingDrops === 0 || this.#onDropBurst === undefined) return;
    if (now - this.#lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this.#lastDropLog = now;
    const dropped = this.#pendingDrops;
    this.#pendingDrops = 0;
    this.#onDropBurst({ dropped, totalDropped: this.#drops });
  }

  /** Frees entries whose failures all left `findtime` and that hold no ban history. */
  #sweep(now: number, budget: number): void {
    const cap = this.#capacity;
    let e = this.#sweepCursor;
    for (let i = 0; i < budget; i++, e = e + 1 === cap ? 0 : e + 1) {
      const l = this.#list[e]!;
      if (l === FREE || l === BANNED || this.#n[e] === 0) continue;
      const jail = this.#jails[this.#jail[e]!]!;
      if (this.#abs(this.#lastSeen[e]!) >= now - jail.findtime) continue;
      this.#setN(e, 0);
      if (this.#banCount[e] === 0) this.#free(e);
      else this.#relink(e);
    }
    this.#sweepCursor = e;
  }

  // ---- time ----

  #rel(t: number): number {
    return this.#time.rel(t);
  }

  #abs(v: number): number {
    return this.#time.abs(v);
  }

  /** Keeps `now` inside the u32 range of stored times (a pass over the table every ~24 days). */
  #rebaseIfNeeded(now: number): void {
    const shift = this.#time.rebase(now);
    if (shift !== 0) this.#shiftTimes(shift);
  }

  /** Re-expresses every stored time after the epoch moved by `shift` ms. */
  #shiftTimes(shift: number): void {
    const move = (v: number): number => shiftedOffset(v, shift);
    for (let e = 0; e < this.#capacity; e++) {
      if (this.#list[e] === FREE) continue;
      this.#lastSeen[e] = move(this.#lastSeen[e]!);
      const jail = this.#jails[this.#jail[e]!]!;
      const base = e * FAILURE_SLOTS;
      const n = this.#n[e]!;
      if (jail.exact) {
        for (let i = 0; i < n; i++) this.#times[base + i] = move(this.#times[base + i]!);
      } else {for (let b = 0; b < n; b++) {
          this.#times[base + 2 * b] = move(this.#times[base + 2 * b]!);
        }}
    }
  }

  // ---- snapshot ----

  /** The entry's address as 4 or 16 network-order bytes (for the state encoder). */
  #addrBytes(e: number): Uint8Array {
    return wordsToBytes(this.#keys, e * 4);
  }

  *#iterBans(): Generator<StateBan> {
    for (let e = this.#head[BANNED]!; e >= 0; e = this.#next[e]!) {
      const exp = this.#expiresAt[e]!;
      yield {
        jail: this.#jails[this.#jail[e]!]!.name,
        ip: formatWords(this.#keys, e * 4),
        prefix: this.#prefix[e]!,
        addr: this.#addrBytes(e),
        bannedAt: this.#bannedAt[e]!,
        expiresAt: exp === Infinity ? null : exp,
        banCount: this.#banCount[e]!,
      };
    }
    // the listed hand-offs too: a restart keeps them (in the table if it has room by then)
    for (const b of this.eachHandedOff()) {
      const { jail, ip, prefix, bannedAt, expiresAt, banCount } = b;
      yield { jail, ip, prefix, bannedAt, expiresAt, banCount };
    }
  }

  *#iterHistory(): Generator<StateHistory> {
    for (let e = this.#head[HISTORY]!; e >= 0; e = this.#next[e]!) {
      yield {
        jail: this.#jails[this.#jail[e]!]!.name,
        ip: formatWords(this.#keys, e * 4),
        prefix: this.#prefix[e]!,
        addr: this.#addrBytes(e),
        banCount: this.#banCount[e]!,
        lastBanAt: this.#bannedAt[e]!,
      };
    }
  }

  *#iterFailures(): Generator<StateFailures> {
    let emitted = 0;
    for (let l = HISTORY; l >= ONE_FAILURE; l--) {
      for (let e = this.#head[l]!; e >= 0; e = this.#next[e]!) {
        const jail = this.#jails[this.#jail[e]!]!;
        const n = this.#n[e]!;
        if (!jail.exact || n === 0 || (n < 2 && !jail.fromBans)) continue;
        if (emitted++ >= MAX_SNAPSHOT_FAILURE_ENTRIES) return;
        const times: number[] = [];
        for (let i = 0; i < n; i++) times.push(this.#abs(this.#times[e * FAILURE_SLOTS + i]!));
        yield {
          jail: jail.name,
          ip: formatWords(this.#keys, e * 4),
          prefix: this.#prefix[e]!,
          addr: this.#addrBytes(e),
          times,
        };
      }
    }
  }

  // ---- jails ----

  /** Installs compiled jails; per-jail totals follow jails by name, live counts restart at 0. */
  #setJails(compiled: JailRuntime[]): void {
    if (compiled.length > 0xffff) {
      throw new RangeError(`expected at most 65535 jails, found ${compiled.length}`);
    }
    const totals = new Map(
      this.#jails.map((j, i) => [j.name, [this.#failuresTotal[i] ?? 0, this.#bansTotal[i] ?? 0]]),
    );
    this.#jails = compiled;
    this.#bansJails = compiled.flatMap((j, i) => (j.fromBans ? [i] : []));
    this.#failuresTotal = compiled.map((j) => totals.get(j.name)?.[0] ?? 0);
    this.#bansTotal = compiled.map((j) => totals.get(j.name)?.[1] ?? 0);
    this.#failing = compiled.map(() => 0);
    this.#banned = compiled.map(() => 0);
    this.#stopped = new Uint8Array(compiled.length);
    this.#runtimeIgnore.setJails(compiled.map((j) => j.name));
  }
}
