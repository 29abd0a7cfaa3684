/**
 * Between the engine and the link. Outgoing: each local ban and unban of a shared jail becomes a
 * record in the outbox (never a wait on the ban path); long bans are re-published before the
 * stream's `max_age` drops them. Incoming: each message is decoded strictly, dropped (and
 * counted) when bad, from this host, or over its origin's rate; a ban goes to the engine, which
 * applies it under the reserved jail `fleet` through `ignoreip` and the host's own addresses.
 * Pure code over two interfaces, tested with fakes.
 * @module
 */
import type { FleetConfig } from "../config/mod.ts";
import type { BanDecision } from "../tracker/mod.ts";
import {
  decodeRecord,
  type DropReason,
  encodeRecord,
  type FleetRecord,
  subjectOf,
} from "./record.ts";

/** What a received ban came to (`fail2zig_fleet_received_total{outcome}`). */
export type ApplyOutcome = "banned" | "current" | "ignored" | "expired" | "unbanned" | "not_banned";

/** The engine as the fleet sees it. */
export interface FleetEngine {
  /**
   * Applies received bans under the jail `fleet` (`expiresAt` null: permanent), in one go: for
   * each, `banned`, or `current` when a ban as long is in force, or `ignored` (ignoreip, own
   * address, full table).
   */
  fleetBans(
    records: readonly { ip: string; expiresAt: number | null; origin: string; reason: string }[],
  ): Promise<("banned" | "current" | "ignored")[]>;
  /** Lifts the jail `fleet`'s ban of `ip`; false when there was none. */
  fleetUnban(ip: string, origin: string): Promise<boolean>;
  /** The active bans, every jail (a lazy view). */
  activeBans(): Iterable<BanDecision>;
}

/** Where records go out (the link's outbox). */
export interface FleetOutbox {
  /** Queues a record; never waits. */
  publish(subject: string, data: Uint8Array): void;
}

/** Counters of the bridge (status and metrics). */
export interface BridgeStats {
  /** Messages read from the stream. */
  received: number;
  /** What came of the valid records of other hosts. */
  outcomes: Record<ApplyOutcome, number>;
  /** Records dropped, by reason (`rate`: over the origin's `max_rate`). */
  dropped: Record<DropReason | "rate", number>;
  /** This host's own records, read back and skipped. */
  own: number;
  /** Records handed to the outbox. */
  queued: number;
}

/** Options of {@link FleetBridge}. */
export interface BridgeOptions {
  /** `[fleet]`. */
  readonly config: FleetConfig;
  /** This host's name in the fleet. */
  readonly name: string;
  /** Where received bans go. */
  readonly engine: FleetEngine;
  /** Where local bans go. */
  readonly outbox: FleetOutbox;
  /** ms since the epoch. */
  readonly now: () => number;
  /** A dropped record, for the operational log. */
  readonly onDrop?: (reason: DropReason | "rate", detail: string) => void;
}

const JAIL = "fleet";
/** Most received records applied in one pass (one firewall call for their bans). */
const DRAIN_BATCH = 1024;
const MANUAL = "manual";

/** One origin's token bucket of `max_rate`. */
interface Bucket {
  tokens: number;
  at: number;
}

/** Turns local bans into records and received records into bans. */
export class FleetBridge {
  readonly #o: BridgeOptions;
  /** Counters, live. */
  readonly stats: BridgeStats = {
    received: 0,
    outcomes: { banned: 0, current: 0, ignored: 0, expired: 0, unbanned: 0, not_banned: 0 },
    dropped: { oversize: 0, malformed: 0, version: 0, future: 0, forged: 0, rate: 0 },
    own: 0,
    queued: 0,
  };
  /** Origins of the fleet bans in force, by address (`client list` shows them). */
  readonly #origins = new Map<string, Set<string>>();
  readonly #buckets = new Map<string, Bucket>();
  /** Valid records of other hosts waiting to be applied, in arrival order. */
  #pending: FleetRecord[] = [];
  #draining: Promise<void> | null = null;

  /** A bridge for `options.engine` and `options.outbox`. */
  constructor(options: BridgeOptions) {
    this.#o = options;
  }

  // ---- outgoing ----

  /** A local ban or unban (from the engine): queued as records when its jail is shared. */
  onLocal(event: "ban" | "unban", bans: readonly BanDecision[], origin: string): void {
    if (event === "unban" && origin === "expiry") return; // every host expires it itself
    for (const b of bans) {
      if (b.jail === JAIL || !this.#shared(b, event, origin)) continue;
      this.#publish(event, b, event === "ban" ? reasonOf(b) : `unbanned (${origin})`);
    }
  }

  /**
   * Publishes again every shared ban that outlives half the stream's `max_age` (permanent ones
   * included), so the stream still holds it when a host connects later. Called at each connect
   * and every half `max_age`.
   */
  republish(): number {
    const now = this.#o.now();
    const half = this.#o.config.maxAgeMs / 2;
    let n = 0;
    for (const b of this.#o.engine.activeBans()) {
      if (b.jail === JAIL || !this.#shared(b, "ban", "")) continue;
      if (b.expiresAt !== null && b.expiresAt - now <= half) continue;
      this.#publish("ban", b, reasonOf(b));
      n++;
    }
    return n;
  }

  #shared(b: BanDecision, event: "ban" | "unban", origin: string): boolean {
    const share = this.#o.config.share;
    if (share === null) return true;
    if (event === "ban" && b.cause === "manual") return share.includes(MANUAL);
    return share.includes(b.jail) || (origin === "client" && share.includes(MANUAL));
  }

  #publish(op: "ban" | "unban", b: BanDecision, reason: string): void {
    const record: FleetRecord = {
      op,
      ip: b.ip,
      prefix: b.prefix,
      jail: b.jail,
      origin: this.#o.name,
      at: op === "ban" ? b.bannedAt : this.#o.now(),
      exp: op === "ban" ? b.expiresAt : null,
      reason,
    };
    this.#o.outbox.publish(subjectOf(record), encodeRecord(record));
    this.stats.queued++;
  }

  // ---- incoming ----

  /** A message from the stream; applied in arrival order. */
  onMessage(subject: string, data: Uint8Array): void {
    this.stats.received++;
    const decoded = decodeRecord(subject, data, this.#o.now());
    if (!decoded.ok) return this.#drop(decoded.reason, decoded.detail);
    const r = decoded.record;
    if (r.origin === this.#o.name) {
      this.stats.own++;
      return;
    }
    if (!this.#o.config.accept) return;
    if (!this.#take(r.origin)) return this.#drop("rate", `origin ${r.origin}`);
    this.#pending.push(r);
    this.#draining ??= this.#drain();
  }

  /** Resolves when every message received so far is applied. */
  settle(): Promise<void> {
    return this.#draining ?? Promise.resolve();
  }

  /**
   * Applies what is pending, in order: each run of bans in one engine call (one firewall call),
   * each unban on its own between them.
   */
  async #drain(): Promise<void> {
    // Wait out the current task: the messages of one read from the server arrive together.
    await new Promise((resolve) => setTimeout(resolve, 0));
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, DRAIN_BATCH);
      try {
        let run: FleetRecord[] = [];
        for (const r of batch) {
          if (r.op === "ban") {
            run.push(r);
            continue;
          }
          await this.#applyBans(run);
          run = [];
          await this.#applyUnban(r);
        }
        await this.#applyBans(run);
      } catch (e) {
        this.#o.onDrop?.("malformed", `apply failed: ${e instanceof Error ? e.message : e}`);
      }
    }
    this.#draining = null;
  }

  /** The origin hosts of the fleet ban of `ip`, comma-separated; undefined when none known. */
  originOf(ip: string): string | undefined {
    const set = this.#origins.get(ip);
    return set === undefined || set.size === 0 ? undefined : [...set].sort().join(",");
  }

  async #applyBans(records: readonly FleetRecord[]): Promise<void> {
    const o = this.stats.outcomes;
    const now = this.#o.now();
    const live = records.filter((r) => {
      if (r.exp !== null && r.exp <= now) o.expired++;
      return r.exp === null || r.exp > now;
    });
    if (live.length === 0) return;
    const outcomes = await this.#o.engine.fleetBans(live.map((r) => ({
      ip: r.ip,
      expiresAt: r.exp,
      origin: r.origin,
      reason: `${r.origin} ${r.jail}: ${r.reason}`.slice(0, 200),
    })));
    live.forEach((r, i) => {
      const out = outcomes[i]!;
      o[out]++;
      if (out === "ignored") return;
      const set = this.#origins.get(r.ip) ?? new Set();
      set.add(r.origin);
      this.#origins.set(r.ip, set);
    });
  }

  async #applyUnban(r: FleetRecord): Promise<void> {
    const o = this.stats.outcomes;
    const set = this.#origins.get(r.ip);
    set?.delete(r.origin);
    // Another origin still bans it: the fleet's ban stays.
    if (set !== undefined && set.size > 0) {
      o.current++;
      return;
    }
    this.#origins.delete(r.ip);
    o[(await this.#o.engine.fleetUnban(r.ip, r.origin)) ? "unbanned" : "not_banned"]++;
  }

  /** Takes one token from the origin's bucket (`max_rate` per second, bursts up to it). */
  #take(origin: string): boolean {
    const rate = this.#o.config.maxRate;
    const now = this.#o.now();
    let b = this.#buckets.get(origin);
    if (b === undefined) {
      if (this.#buckets.size >= 4096) this.#buckets.clear(); // bounded: a bucket is cheap to refill
      b = { tokens: rate, at: now };
      this.#buckets.set(origin, b);
    }
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens--;
    return true;
  }

  #drop(reason: DropReason | "rate", detail: string): void {
    this.stats.dropped[reason]++;
    this.#o.onDrop?.(reason, detail);
  }
}

function reasonOf(b: BanDecision): string {
  return b.cause === "manual" ? "client ban" : b.cause === "recidive" ? "recidive" : "failures";
}
