/**
 * The daemon's core, between the parser Worker and the outside world. It owns no OS resource
 * itself: tracker, firewall backend, audit sink and clock are given, so it is tested in process
 * with fakes.
 *
 * Stages, in order: a batch of failures arrives → each goes through the tracker (ignoreip,
 * counting, eviction) → bans are applied to the backend in one call → each ban is audited and
 * counted → the sources' position after the batch is recorded in the `SourceSet` (the state
 * file saves both together). A timer calls `expireDue()`; the control plane calls the `Controller` methods.
 * @module
 */
import {
  type Config,
  describeScope,
  FLEET_JAIL,
  type JailConfig,
  type PortScope,
} from "../config/mod.ts";
import { type BanEntry, entryKey, type FirewallBackend } from "../firewall/mod.ts";
import type { Logger } from "../log/mod.ts";
import { canonicalIp, networkOf, parseIp } from "../net/mod.ts";
import type { BanDecision, Clock, Tracker } from "../tracker/mod.ts";
import {
  type BanInfo,
  type BannedReply,
  type BanReply,
  ControlError,
  type Controller,
  type FleetStatus,
  type HistoryRecord,
  type HistoryReply,
  type IgnoreAddReply,
  type IgnoreDelReply,
  type IgnoreListReply,
  type JailRunReply,
  type JailsReply,
  type JailStatusReply,
  type ListReply,
  MAX_HISTORY_RECORDS,
  type ReloadReply,
  type StatusReply,
  type UnbanReply,
} from "../ipc/mod.ts";
import { type BatchMessage, IP_SEPARATOR } from "./_protocol.ts";
import type { DaemonMetrics } from "../metrics/mod.ts";
import type { ActionEvent } from "../actions/mod.ts";
import type { SourceSet } from "./source_set.ts";

/** Most bans one `list` reply carries (the newest); a reply must stay far below the heap cap. */
export const MAX_LIST_BANS = 10_000;
/**
 * Most bans taken from the tracker as objects at once when many are lifted together (expiry after
 * a clock jump or a long stop, `unban --all`): a table of bans at once would exhaust the capped
 * V8 heap.
 */
export const LIFT_BATCH = 4096;

/** One ban or unban for the audit trail. */
export interface AuditEvent {
  /** Whether the address was banned or unbanned. */
  readonly event: "ban" | "unban";
  /** The banned address or network (canonical). */
  readonly ip: string;
  /** Prefix length of the banned network (32 or 128 for one address). */
  readonly prefix: number;
  /** The jail the ban belongs to. */
  readonly jail: string;
  /** Ban duration in ms; null for a permanent ban. */
  readonly durationMs: number | null;
  /** Why: the failures that triggered the ban, a client request, expiry, and the like. */
  readonly reason: string;
  /** `path:offset` of the triggering line, a journal cursor, or `client`/`expiry`. */
  readonly origin: string;
}

/** Where ban and unban events are recorded (journald/stderr records and the audit log). */
export type AuditSink = (event: AuditEvent) => void;

/**
 * What the fleet (src/fleet, loaded only with `[fleet]`) attaches to the engine: it hears every
 * ban and unban after they took effect, names the origin hosts of the jail `fleet`'s bans in
 * `list`, and adds its line to `status`.
 */
export interface FleetAttachment {
  /** A ban or unban took effect (any jail; the fleet keeps what it shares). */
  onChange(event: "ban" | "unban", bans: readonly BanDecision[], origin: string): void;
  /** The origin hosts of the fleet ban of `ip` (`list`). */
  originOf(ip: string): string | undefined;
  /** The `status` reply's `fleet` object. */
  status(): FleetStatus;
}

/** Options of {@link Engine}. */
export interface EngineOptions {
  /** The config in force at start. */
  readonly config: Config;
  /** Counts failures and decides bans. */
  readonly tracker: Tracker;
  /** The firewall bans are enforced through. */
  readonly backend: FirewallBackend;
  /** Bans are not enforced (log-only); a function when it can change (a failing firewall repair). */
  readonly degraded: boolean | (() => boolean);
  /** Further reasons to report degraded while they last (state saves failing). */
  readonly isDegraded?: () => boolean;
  /**
   * Called after the backend refused a ban or unban (the firewall guard checks at once); resolves
   * true when it found the firewall flushed and repaired it with every active ban — the refused
   * operation has then taken effect and is recorded as done.
   */
  readonly onFirewallFailure?: () => Promise<boolean>;
  /** Time source (a fake one in tests). */
  readonly clock: Clock;
  /** Operational log. */
  readonly logger: Logger;
  /** Where every ban and unban is recorded. */
  readonly audit: AuditSink;
  /**
   * Runs a jail's `actions` for a ban in force or a lifted one; called beside the audit record,
   * must only queue (`ActionRunner.dispatch`), never wait.
   */
  readonly actions?: (names: readonly string[], event: ActionEvent) => void;
  /** The sources' read positions: each applied batch advances its source's. */
  readonly sources: SourceSet;
  /** Called after every change the state file must carry (bans, failures, positions). */
  readonly changed: () => void;
  /** Validates and returns a new config for `reload` (throws ControlError invalid_config). */
  readonly reloadConfig: () => Promise<Config>;
  /** Applies a validated new config outside the engine (Worker respawn); called after the engine's part. */
  readonly onReloaded?: (config: Config) => Promise<void>;
  /** The Prometheus series the engine feeds (lines, matches, bans, unbans, latency). */
  readonly metrics?: DaemonMetrics;
  /**
   * Reads the audit records of a canonical address from the audit log and its segments: the
   * newest `max`, oldest first, and how many there are in all. Absent when the log is disabled.
   */
  readonly history?: (ip: string, max: number) => Promise<{
    records: HistoryRecord[];
    total: number;
  }>;
  /**
   * The host's own addresses (canonical), for the jails with `ignoreself`; read at construction
   * and at every reload. @default none (loopback is never banned anyway)
   */
  readonly selfAddresses?: () => readonly string[];
  /** Process memory in bytes (status). */
  readonly memoryBytes?: () => number;
  /** The daemon version (status). */
  readonly version: string;
}

/**
 * Entries remembered as landed during one kernel reading of the guard; past this the reading is
 * taken as inconclusive rather than growing without bound under a flood of bans.
 */
const MAX_LANDED = 65_536;

/** The running daemon's decisions and its answers to the control plane. */
export class Engine implements Controller {
  #o: EngineOptions;
  #config: Config;
  #started: number;
  /** Lines read per jail, in config order (the tracker counts failures and bans). */
  #lines: number[];
  /** Lines per jail that its filter found ambiguous (counted for nobody). */
  #ambiguous: number[];
  #queue: Promise<void> = Promise.resolve();
  /** Kernel entries (`entryKey`) of bans queued or being added, with how many operations hold each. */
  #inFlight = new Map<string, number>();
  /** Entries added since the guard's kernel reading began (`reading()`); null before the first. */
  #landed: Set<string> | null = null;
  /** Per jail: keys (`selfKey`) of the host's own addresses; null when `ignoreself` is off. */
  #self: (Set<string> | null)[] = [];
  #fleet: FleetAttachment | null = null;

  /** An engine with `options.config` in force; reads the host's addresses for `ignoreself`. */
  constructor(options: EngineOptions) {
    this.#o = options;
    this.#config = options.config;
    this.#started = options.clock.now();
    this.#lines = options.config.jails.map(() => 0);
    this.#ambiguous = options.config.jails.map(() => 0);
    this.#readSelf(options.config);
  }

  /** The config in force. */
  get config(): Config {
    return this.#config;
  }

  /** Applies one Worker batch; resolves when its bans reached the backend. */
  applyBatch(batch: BatchMessage, receivedAt: number): Promise<void> {
    const m = this.#o.metrics;
    for (const [j, n, ambiguous] of batch.lines) {
      if (j < this.#lines.length) {
        this.#lines[j]! += n;
        this.#ambiguous[j]! += ambiguous;
      }
      const jail = { jail: this.#config.jails[j]?.name ?? "" };
      m?.linesParsed.inc(jail, n);
      if (ambiguous > 0) m?.linesAmbiguous.inc(jail, ambiguous);
    }
    const bans: BanDecision[] = [];
    const origins: string[] = [];
    // Matches per jail of this batch, counted once per batch (a labelled metric costs a lookup).
    const matched = new Map<number, number>();
    const ips = batch.ips;
    let from = 0;
    for (let i = 0; i < batch.count; i++) {
      let to = ips.indexOf(IP_SEPARATOR, from);
      if (to < 0) to = ips.length;
      const ip = ips.slice(from, to);
      from = to + 1;
      const j = batch.jails[i]!;
      matched.set(j, (matched.get(j) ?? 0) + 1);
      if (this.#isSelf(j, ip)) continue; // ignoreself: as if in ignoreip
      const t = batch.times[i]!;
      const out = this.#o.tracker.record(j, ip, Number.isNaN(t) ? null : t);
      if (out.kind === "ban") {
        for (const b of out.bans) {
          bans.push(b);
          const off = batch.offsets[i]!;
          const at = off >= 0 ? `${batch.origin}:${off}` : batch.origin;
          origins.push(b.cause === "recidive" ? `jail:${at}` : at);
        }
      }
    }
    for (const [j, n] of matched) {
      m?.linesMatched.inc({ jail: this.#config.jails[j]?.name ?? "" }, n);
    }
    this.#o.sources.advance(batch.positions);
    this.#o.changed();
    if (bans.length === 0) return Promise.resolve();
    return this.#apply(bans, origins, receivedAt);
  }

  /** Lifts bans whose time has come. */
  async expireDue(): Promise<void> {
    for (;;) {
      const due = this.#o.tracker.expire(this.#o.clock.now(), LIFT_BATCH);
      if (due.length === 0) return;
      this.#o.changed();
      await this.#lift(due, "expired", "expiry");
      if (due.length < LIFT_BATCH) return;
    }
  }

  /** Re-adds restored bans to the backend (start-up reconciliation). */
  restore(bans: readonly BanDecision[]): Promise<void> {
    if (bans.length === 0) return Promise.resolve();
    return this.#enqueueBans(bans, async () => {
      await this.#o.backend.ban(bans.map((b) => this.#entry(b)));
      this.#o.logger.info("restored bans", { count: bans.length });
    });
  }

  /** Bans are not enforced right now (status `degraded`). */
  get degraded(): boolean {
    const d = this.#o.degraded;
    return (typeof d === "function" ? d() : d) || (this.#o.isDegraded?.() ?? false);
  }

  /**
   * The active bans as backend entries with their remaining timeouts (a live, lazy view): the
   * table's, and those it handed off to the kernel that it still knows (`eachHandedOff`), so a
   * repair re-adds both.
   */
  *activeEntries(): Generator<BanEntry, void> {
    for (const b of this.#o.tracker.eachEnforcedBan()) yield this.#entry(b);
  }

  /** Waits until every queued firewall operation has finished. */
  settle(): Promise<void> {
    return this.#queue;
  }

  /**
   * The guard's `BanQueue` (src/firewall/guard.ts): for the kernel reading about to begin,
   * whether a ban's entry may be absent without having been deleted (its ban is queued or being
   * added, or lands during the reading).
   */
  reading(): (entry: BanEntry) => boolean {
    const landed = new Set<string>();
    this.#landed = landed;
    return (e) => {
      // More landed than remembered: the reading proves nothing (a flood; the next one will).
      if (landed.size > MAX_LANDED) return true;
      const k = entryKey(e);
      return this.#inFlight.has(k) || landed.has(k);
    };
  }

  // ---- fleet (src/fleet) ----

  /** Attaches the fleet (or detaches it with null). */
  attachFleet(fleet: FleetAttachment | null): void {
    this.#fleet = fleet;
  }

  /** The active bans of every jail (a lazy view). */
  activeBans(): Iterable<BanDecision> {
    return this.#o.tracker.eachActiveBan();
  }

  /**
   * Applies bans received from the fleet under the reserved jail `fleet`, in one firewall call:
   * the jail's `ignoreip` and the host's own addresses win (`ignored`), a ban in force that lasts
   * as long is kept (`current`); audited with the origin host, never counted for recidive.
   * Returns each request's outcome, in order.
   */
  async fleetBans(
    requests: readonly { ip: string; expiresAt: number | null; origin: string; reason: string }[],
  ): Promise<("banned" | "current" | "ignored")[]> {
    const index = this.#jailIndex(FLEET_JAIL);
    const now = this.#o.clock.now();
    const bans: BanDecision[] = [];
    const origins: string[] = [];
    const reasons: string[] = [];
    const outcomes = requests.map((r): "banned" | "current" | "ignored" => {
      if (this.#isSelf(index, r.ip)) return "ignored";
      const held = this.#o.tracker.bansOf(r.ip, index)[0];
      if (
        held !== undefined &&
        (held.expiresAt === null || (r.expiresAt !== null && held.expiresAt >= r.expiresAt))
      ) return "current";
      const out = this.#o.tracker.ban(r.ip, index, r.expiresAt === null ? null : r.expiresAt - now);
      if (out.kind !== "ban") return out.kind === "already-banned" ? "current" : "ignored";
      for (const b of out.bans) {
        bans.push(b);
        origins.push(`fleet:${r.origin}`);
        reasons.push(r.reason);
      }
      return "banned";
    });
    if (bans.length > 0) {
      this.#o.changed();
      await this.#apply(bans, origins, now, false, reasons);
    }
    return outcomes;
  }

  /** Lifts the jail `fleet`'s ban of `ip` (an unban from the fleet); false when none. */
  async fleetUnban(ip: string, origin: string): Promise<boolean> {
    const lifted = this.#o.tracker.unban(ip, this.#jailIndex(FLEET_JAIL));
    if (lifted.length === 0) return false;
    this.#o.changed();
    await this.#lift(lifted, "unbanned by the fleet", `fleet:${origin}`);
    return true;
  }

  // ---- Controller ----

  status(): Promise<StatusReply> {
    const s = this.#o.tracker.stats();
    return Promise.resolve({
      version: this.#o.version,
      uptime_s: Math.floor((this.#o.clock.now() - this.#started) / 1000),
      backend: this.#o.backend.name,
      degraded: this.degraded,
      memory_bytes: this.#o.memoryBytes?.() ?? 0,
      tracked: s.tracked,
      capacity: s.capacity,
      evictions: s.evictions,
      dropped: s.drops,
      active_bans: s.activeBans,
      jails: this.#config.jails.map((j) => j.name),
      ...(this.#fleet === null ? {} : { fleet: this.#fleet.status() }),
    });
  }

  statusJail(jail: string): Promise<JailStatusReply> {
    const index = this.#jailIndex(jail);
    const j = this.#config.jails[index]!;
    const s = this.#o.tracker.stats().jails[index]!;
    return Promise.resolve({
      jail: j.name,
      filter: j.filter,
      sources: j.source === "file"
        ? [...j.logpath]
        : j.source === "journald"
        ? [...j.journalMatch]
        : [j.source],
      lines_total: this.#lines[index]!,
      ambiguous_total: this.#ambiguous[index]!,
      failures_total: s.failuresTotal,
      currently_failed: s.currentlyFailed,
      bans_total: s.bansTotal,
      active_bans: s.activeBans,
      stopped: this.#o.tracker.isStopped(index),
      ports: describeScope(j.scope),
    });
  }

  jails(): Promise<JailsReply> {
    const stats = this.#o.tracker.stats().jails;
    return Promise.resolve({
      jails: this.#config.jails.map((j, i) => ({
        name: j.name,
        enabled: j.enabled,
        filter: j.filter,
        maxretry: j.maxretry,
        findtime_s: j.findtimeMs / 1000,
        bantime_s: j.bantimeMs === null ? null : j.bantimeMs / 1000,
        active_bans: stats[i]?.activeBans ?? 0,
        stopped: this.#o.tracker.isStopped(i),
      })),
    });
  }

  list(jail?: string, ip?: string): Promise<ListReply> {
    const index = jail === undefined ? undefined : this.#jailIndex(jail);
    const now = this.#o.clock.now();
    if (ip !== undefined) {
      this.#checkIp(ip);
      const bans = this.#o.tracker.bansOf(ip, index).sort((a, b) => a.bannedAt - b.bannedAt);
      return Promise.resolve({ bans: bans.map((b) => this.#banInfo(b, now)) });
    }
    const only = index === undefined ? undefined : this.#config.jails[index]!.name;
    // The table may hold hundreds of thousands of bans; as objects all at once they would
    // exhaust the capped V8 heap (a 62,000-ban list killed the daemon before). Even the newest
    // MAX_LIST_BANS as decisions beside their BanInfo, then as one JSON string, took the heap in
    // use from 7.8 to 13.5 MB (over the 12 MiB cap) in the ban-flood test. A first pass finds
    // the oldest ban time listed, keeping only times; the second builds the listed BanInfo.
    const mine = (b: BanDecision) => only === undefined || b.jail === only;
    const times = new Float64Array(MAX_LIST_BANS);
    let kept = 0;
    let total = 0;
    for (const b of this.#o.tracker.eachActiveBan()) {
      if (!mine(b)) continue;
      total++;
      if (kept < MAX_LIST_BANS) minHeapPush(times, kept++, b.bannedAt);
      else if (b.bannedAt > times[0]!) minHeapReplaceTop(times, kept, b.bannedAt);
    }
    const oldest = total > kept ? times[0]! : -Infinity;
    // Bans at the oldest time listed: as many as the heap kept, the first ones met (ties).
    let atOldest = 0;
    for (let i = 0; i < kept; i++) if (times[i] === oldest) atOldest++;
    const listed: { at: number; info: BanInfo }[] = [];
    for (const b of this.#o.tracker.eachActiveBan()) {
      if (listed.length === kept) break;
      if (!mine(b) || b.bannedAt < oldest) continue;
      if (b.bannedAt === oldest && atOldest-- <= 0) continue;
      listed.push({ at: b.bannedAt, info: this.#banInfo(b, now) });
    }
    const bans = listed.sort((a, b) => a.at - b.at).map((l) => l.info);
    return Promise.resolve(total > bans.length ? { bans, truncated: true, total } : { bans });
  }

  banned(ips: readonly string[]): Promise<BannedReply> {
    for (const ip of ips) this.#checkIp(ip);
    return Promise.resolve({
      banned: ips.map((ip) => ({
        ip: canonicalIp(ip) ?? ip,
        jails: [...new Set(this.#o.tracker.bansOf(ip).map((b) => b.jail))],
      })),
    });
  }

  async ban(ip: string, jail: string, durationS?: number | null): Promise<BanReply> {
    const index = this.#jailIndex(jail);
    const parsed = parseIp(ip);
    if (parsed === null) {
      throw new ControlError("bad_request", `expected an IPv4 or IPv6 address, found "${ip}"`);
    }
    if (this.#isSelf(index, canonicalIp(ip)!)) {
      throw new ControlError(
        "bad_request",
        `${ip} is not bannable in jail ${jail} (ignoreself: an address of this host)`,
      );
    }
    const durationMs = durationS === undefined
      ? undefined
      : durationS === null
      ? null
      : durationS * 1000;
    const out = this.#o.tracker.ban(ip, index, durationMs);
    if (out.kind === "ignored") {
      throw new ControlError(
        "bad_request",
        `${ip} is not bannable in jail ${jail} (${out.reason})`,
      );
    }
    if (out.kind === "dropped") {
      throw new ControlError("internal", "the tracker table is full (deny-new)");
    }
    if (out.kind === "ban") {
      this.#o.changed();
      await this.#apply(out.bans, out.bans.map(() => "client"), this.#o.clock.now(), false);
      const first = out.bans[0]!;
      return {
        ip: first.ip,
        jail: first.jail,
        duration_s: first.durationMs === null ? null : first.durationMs / 1000,
      };
    }
    let active: BanDecision | undefined;
    for (const b of this.#o.tracker.eachActiveBan()) {
      if (b.jail === this.#config.jails[index]!.name && b.ip === ip) {
        active = b;
        break;
      }
    }
    return {
      ip,
      jail,
      duration_s: active?.durationMs === null || active === undefined
        ? null
        : active.durationMs / 1000,
    };
  }

  async unban(ip: string | readonly string[], jail?: string): Promise<UnbanReply> {
    const index = jail === undefined ? undefined : this.#jailIndex(jail);
    const ips = typeof ip === "string" ? [ip] : ip;
    for (const one of ips) this.#checkIp(one); // all or nothing: a typo lifts nothing
    const lifted: BanDecision[] = [];
    const missed: string[] = [];
    for (const one of ips) {
      const these = this.#o.tracker.unban(one, index);
      if (these.length === 0) missed.push(one);
      lifted.push(...these);
    }
    const handedOff = await this.#liftHandedOff(missed, index);
    if (lifted.length === 0) {
      throw new ControlError(
        "not_found",
        `${ips.join(", ")} ${ips.length === 1 ? "is" : "are"} not banned${
          jail === undefined ? "" : ` in jail ${jail}`
        }${
          handedOff
            ? " (removed from the firewall all the same, in case a ban that the full table handed off to the kernel held it)"
            : ""
        }`,
      );
    }
    this.#o.changed();
    await this.#lift(lifted, "unbanned by client", "client");
    const unbanned = lifted.map((b) => ({ ip: b.ip, jail: b.jail }));
    return typeof ip === "string" ? { unbanned } : { unbanned, not_banned: missed };
  }

  unbanAll(): Promise<UnbanReply> {
    // The bans active now, in batches; bans made meanwhile are not chased (a flood could go on).
    let left = this.#o.tracker.stats().activeBans + this.#o.tracker.handedOffHeld();
    return this.#liftBatches(() => {
      const batch = this.#o.tracker.unbanAll(Math.min(left, LIFT_BATCH));
      left -= batch.length;
      return batch;
    }, "unbanned by client (all)");
  }

  async ignoreAdd(cidr: string, jail?: string): Promise<IgnoreAddReply> {
    const index = jail === undefined ? undefined : this.#jailIndex(jail);
    let entry: { cidr: string; jail: string | null };
    try {
      entry = this.#o.tracker.ignoreAdd(cidr, index).entry;
    } catch (e) {
      if (e instanceof TypeError || e instanceof RangeError) {
        throw new ControlError("bad_request", e.message);
      }
      throw e;
    }
    this.#o.changed();
    const lifted = await this.#liftBatches(
      () => this.#o.tracker.unbanWithin(entry.cidr, LIFT_BATCH, index),
      "address ignored by client",
    );
    this.#o.logger.info("runtime ignore entry added", {
      ...entry,
      unbanned: lifted.total ?? lifted.unbanned.length,
    });
    return { ignore: { ...entry }, ...lifted };
  }

  ignoreDel(cidr: string, jail?: string): Promise<IgnoreDelReply> {
    const index = jail === undefined ? undefined : this.#jailIndex(jail);
    let entry: { cidr: string; jail: string | null } | null;
    try {
      entry = this.#o.tracker.ignoreRemove(cidr, index);
    } catch (e) {
      if (e instanceof TypeError) throw new ControlError("bad_request", e.message);
      throw e;
    }
    if (entry === null) {
      throw new ControlError(
        "not_found",
        `${cidr} is not in the runtime ignore list${
          jail === undefined ? " of every jail" : ` of jail ${jail}`
        } (the config's ignoreip is changed in the config)`,
      );
    }
    this.#o.changed();
    this.#o.logger.info("runtime ignore entry removed", { ...entry });
    return Promise.resolve({ ignore: { ...entry } });
  }

  ignoreList(jail?: string): Promise<IgnoreListReply> {
    const index = jail === undefined ? undefined : this.#jailIndex(jail);
    const name = index === undefined ? undefined : this.#config.jails[index]!.name;
    const runtime = this.#o.tracker.ignoreEntries()
      .filter((e) => name === undefined || e.jail === null || e.jail === name)
      .map((e) => ({ cidr: e.cidr, jail: e.jail, source: "runtime" as const }));
    const configured = index === undefined
      ? []
      : this.#config.jails[index]!.ignoreip.map((cidr) => ({
        cidr,
        jail: name!,
        source: "config" as const,
      }));
    return Promise.resolve({ ignore: [...runtime, ...configured] });
  }

  async jailStop(jail: string): Promise<JailRunReply> {
    const index = this.#jailIndex(jail);
    const name = this.#config.jails[index]!.name;
    this.#o.tracker.setStopped(index, true);
    const lifted = await this.#liftBatches(
      () => this.#o.tracker.unbanAll(LIFT_BATCH, index),
      "jail stopped by client",
    );
    this.#o.logger.info("jail stopped", { jail: name });
    return { jail: name, stopped: true, ...lifted };
  }

  jailStart(jail: string): Promise<JailRunReply> {
    const index = this.#jailIndex(jail);
    const name = this.#config.jails[index]!.name;
    this.#o.tracker.setStopped(index, false);
    this.#o.logger.info("jail started", { jail: name });
    return Promise.resolve({ jail: name, stopped: false });
  }

  async reload(): Promise<ReloadReply> {
    const next = await this.#o.reloadConfig();
    const fleet = fleetReloadRefusal(this.#config.fleet, next.fleet);
    if (fleet !== null) throw new ControlError("invalid_config", fleet);
    this.#o.tracker.checkJails(next.jails); // a refused reload changes nothing
    this.#readSelf(next);
    // Bans of removed jails are lifted in batches first: reconfigure() returns what is left as
    // objects, and a table of them at once would exhaust the capped heap.
    const kept = new Set(next.jails.map((j) => j.name));
    for (let j = 0; j < this.#config.jails.length; j++) {
      if (kept.has(this.#config.jails[j]!.name)) continue;
      await this.#liftBatches(
        () => this.#o.tracker.unbanAll(LIFT_BATCH, j),
        "jail removed by reload",
        "reload",
      );
    }
    const lifted = this.#o.tracker.reconfigure(next.jails);
    const old = this.#config;
    this.#config = next;
    this.#lines = next.jails.map((j) =>
      this.#lines[old.jails.findIndex((o) => o.name === j.name)] ?? 0
    );
    this.#ambiguous = next.jails.map((j) =>
      this.#ambiguous[old.jails.findIndex((o) => o.name === j.name)] ?? 0
    );
    if (lifted.length > 0) await this.#lift(lifted, "jail removed by reload", "reload");
    await this.#rescope(old);
    const scopes = next.jails.flatMap((j) => j.scope === null ? [] : [j.scope]);
    await this.#enqueue(() => this.#o.backend.retainScopes(scopes));
    for (const j of old.jails) if (!kept.has(j.name)) this.#o.metrics?.removeJail(j.name);
    for (const j of next.jails) this.#o.metrics?.addJail(j.name);
    this.#o.changed();
    await this.#o.onReloaded?.(next);
    this.#o.logger.info("configuration reloaded", { jails: next.jails.map((j) => j.name) });
    return { reloaded: true, jails: next.jails.map((j) => j.name) };
  }

  async history(ip: string, limit = MAX_HISTORY_RECORDS): Promise<HistoryReply> {
    this.#checkIp(ip);
    const canon = canonicalIp(ip) ?? ip;
    if (this.#o.history === undefined) {
      throw new ControlError(
        "not_found",
        'no audit log to read: audit_log = "" in the config (the journal still has the records)',
      );
    }
    const max = Math.min(limit, MAX_HISTORY_RECORDS);
    const { records, total } = await this.#o.history(canon, max);
    return total > records.length
      ? { ip: canon, records, truncated: true, total }
      : { ip: canon, records };
  }

  // ---- internals ----

  /**
   * Removes from the firewall the elements that bans of `ips` handed off by the full tracker table
   * would be (the address, and for IPv6 its network under each jail's `ipv6_prefix`), unless a ban
   * in the table still holds them. Removing an absent element is no error. Returns whether any
   * were tried (only when the tracker has handed bans off).
   */
  async #liftHandedOff(ips: readonly string[], index: number | undefined): Promise<boolean> {
    if (ips.length === 0 || this.#o.tracker.stats().bansHandedOff === 0) return false;
    const jails = index === undefined ? this.#config.jails : [this.#config.jails[index]!];
    const entries = new Map<string, BanEntry>();
    for (const ip of ips) {
      const v4 = parseIp(ip)!.family === 4;
      for (const prefix of v4 ? [32] : new Set([128, ...jails.map((j) => j.ipv6Prefix)])) {
        const net = networkOf(ip, prefix);
        if (this.#o.tracker.isBanned(net, prefix)) continue;
        for (const j of jails) {
          const base = { ip: net, prefix, jail: "", timeoutMs: null };
          const scoped = j.scope === null ? base : { ...base, scope: j.scope };
          entries.set(`${j.scope?.id ?? ""} ${net}/${prefix}`, scoped);
        }
      }
    }
    if (entries.size > 0) await this.#enqueue(() => this.#o.backend.unban([...entries.values()]));
    return true;
  }

  /** Reads the host's addresses again for the jails of `config` with `ignoreself`. */
  #readSelf(config: Config): void {
    const own = config.jails.some((j) => j.ignoreself) ? this.#o.selfAddresses?.() ?? [] : [];
    this.#self = config.jails.map((j) =>
      j.ignoreself ? new Set(own.map((ip) => selfKey(ip, j.ipv6Prefix))) : null
    );
  }

  /** True when the canonical address `ip` is one of the host's own in jail `j` (ignoreself). */
  #isSelf(j: number, ip: string): boolean {
    const set = this.#self[j];
    if (set === null || set === undefined || set.size === 0) return false;
    return set.has(selfKey(ip, this.#config.jails[j]!.ipv6Prefix));
  }

  #checkIp(ip: string): void {
    if (parseIp(ip) === null) {
      throw new ControlError("bad_request", `expected an IPv4 or IPv6 address, found "${ip}"`);
    }
  }

  /**
   * Lifts what `take()` returns, one batch of at most `LIFT_BATCH` at a time, until it returns
   * none; the reply lists at most `MAX_LIST_BANS` of them.
   */
  async #liftBatches(
    take: () => BanDecision[],
    reason: string,
    origin = "client",
  ): Promise<UnbanReply> {
    const unbanned: UnbanReply["unbanned"] = [];
    let total = 0;
    for (;;) {
      const batch = take();
      if (batch.length === 0) break;
      total += batch.length;
      for (const b of batch) {
        if (unbanned.length < MAX_LIST_BANS) unbanned.push({ ip: b.ip, jail: b.jail });
      }
      this.#o.changed();
      await this.#lift(batch, reason, origin);
    }
    return total > unbanned.length ? { unbanned, truncated: true, total } : { unbanned };
  }

  #banInfo(b: BanDecision, now: number): BanInfo {
    const info = banInfo(b, now);
    const from = b.jail === FLEET_JAIL ? this.#fleet?.originOf(b.ip) : undefined;
    return from === undefined ? info : { ...info, origin: from };
  }

  #jailIndex(name: string): number {
    const i = this.#config.jails.findIndex((j: JailConfig) => j.name === name);
    if (i < 0) throw new ControlError("not_found", `no jail named "${name}"`);
    return i;
  }

  #entry(b: BanDecision): BanEntry {
    const scope = this.#scope(b);
    return {
      ip: b.ip,
      prefix: b.prefix,
      jail: b.jail,
      timeoutMs: b.expiresAt === null ? null : Math.max(1000, b.expiresAt - this.#o.clock.now()),
      ...(scope === null ? {} : { scope }),
    };
  }

  /** The port scope of the ban's jail; null for an all-port ban. */
  #scope(b: BanDecision): PortScope | null {
    return this.#config.jails[b.jailIndex]?.scope ?? null;
  }

  /**
   * After a reload: the bans of jails whose `port`/`protocol` changed are added under the new
   * scope, then removed from the old one (unless a jail of the old scope still bans the address).
   */
  #rescope(old: Config): Promise<void> {
    const id = (s: PortScope | null) => s?.id ?? "";
    const was = new Map<number, PortScope | null>();
    this.#config.jails.forEach((j, i) => {
      const o = old.jails.find((x) => x.name === j.name);
      if (o !== undefined && id(o.scope) !== id(j.scope)) was.set(i, o.scope);
    });
    if (was.size === 0) return Promise.resolve();
    const bans: BanDecision[] = [];
    for (const b of this.#o.tracker.eachActiveBan()) if (was.has(b.jailIndex)) bans.push(b);
    const stale = bans.filter((b) =>
      !this.#o.tracker.bansOf(b.ip).some((o) =>
        o.prefix === b.prefix && id(this.#config.jails[o.jailIndex]?.scope ?? null) ===
          id(was.get(b.jailIndex)!)
      )
    ).map((b) => {
      const { scope: _, ...e } = this.#entry(b);
      const before = was.get(b.jailIndex)!;
      return before === null ? e : { ...e, scope: before };
    });
    return this.#enqueueBans(bans, async () => {
      await this.#o.backend.ban(bans.map((b) => this.#entry(b)));
      if (stale.length > 0) await this.#o.backend.unban(stale);
    });
  }

  /** No other jail of the same port scope still bans this address/network (its entry can go). */
  #lastOfScope(b: BanDecision): boolean {
    if (!this.#o.tracker.isBanned(b.ip, b.prefix)) return true;
    const id = (i: number) => this.#config.jails[i]?.scope?.id ?? "";
    const mine = id(b.jailIndex);
    return !this.#o.tracker.bansOf(b.ip).some((o) =>
      o.prefix === b.prefix && id(o.jailIndex) === mine
    );
  }

  #apply(
    bans: readonly BanDecision[],
    origins: readonly string[],
    receivedAt: number,
    measure = true,
    reasons?: readonly string[],
  ): Promise<void> {
    return this.#enqueueBans(bans, async () => {
      try {
        await this.#o.backend.ban(bans.map((b) => this.#entry(b)));
      } catch (e) {
        if (!(await this.#repaired("firewall refused bans", e, bans.length))) throw e;
      }
      const done = this.#o.clock.now();
      bans.forEach((b, i) => {
        if (measure) this.#o.metrics?.banLatency.observe({}, Math.max(0, done - receivedAt) / 1000);
        this.#o.metrics?.bans.inc({ jail: b.jail });
        this.#o.audit({
          event: "ban",
          ip: b.ip,
          prefix: b.prefix,
          jail: b.jail,
          durationMs: b.durationMs,
          reason: reasons?.[i] ??
            (b.cause === "failures"
              ? `${this.#config.jails[b.jailIndex]?.maxretry ?? "?"} failures`
              : b.cause),
          origin: origins[i] ?? "",
        });
        this.#act("ban", b, b.durationMs, origins[i] ?? "");
      });
      this.#fleet?.onChange("ban", bans, origins[0] ?? "");
    });
  }

  /** Hands a ban or unban to the jail's actions (they queue; nothing here waits for them). */
  #act(kind: "ban" | "unban", b: BanDecision, durationMs: number | null, origin: string): void {
    const names = this.#config.jails.find((j) => j.name === b.jail)?.actions ?? [];
    if (names.length === 0 || this.#o.actions === undefined) return;
    this.#o.actions(names, { kind, ip: b.ip, prefix: b.prefix, jail: b.jail, durationMs, origin });
  }

  #lift(bans: readonly BanDecision[], reason: string, origin: string): Promise<void> {
    // Jails of one scope share its kernel sets: an address another of them still bans stays blocked.
    const gone = bans.filter((b) => this.#lastOfScope(b));
    return this.#enqueue(async () => {
      try {
        if (gone.length > 0) await this.#o.backend.unban(gone.map((b) => this.#entry(b)));
      } catch (e) {
        if (!(await this.#repaired("firewall refused unbans", e, gone.length))) throw e;
      }
      for (const b of bans) {
        this.#o.metrics?.unbans.inc({ jail: b.jail });
        this.#o.audit({
          event: "unban",
          ip: b.ip,
          prefix: b.prefix,
          jail: b.jail,
          durationMs: null,
          reason,
          origin,
        });
        this.#act("unban", b, null, origin);
      }
      this.#fleet?.onChange("unban", bans, origin);
    });
  }

  /**
   * After a refused operation: true when the guard repaired a flushed firewall from the tracker
   * (which already holds the operation's outcome), so the operation took effect; else logged.
   */
  async #repaired(what: string, e: unknown, count: number): Promise<boolean> {
    const error = e instanceof Error ? e.message : String(e);
    const repaired = (await this.#o.onFirewallFailure?.().catch(() => false)) ?? false;
    if (repaired) {
      this.#o.logger.warn(`${what} until the flushed firewall was repaired; now in force`, {
        error,
        count,
      });
    } else this.#o.logger.error(what, { error, count });
    return repaired;
  }

  /** Runs firewall operations one at a time, in order; a failure does not block later ones. */
  #enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(op);
    this.#queue = run.catch(() => {});
    return run;
  }

  /**
   * {@link #enqueue} for an operation that adds the entries of `bans`: they are in flight from now
   * until it has finished, then landed for the guard's reading (`reading()`).
   */
  #enqueueBans(bans: readonly BanDecision[], op: () => Promise<void>): Promise<void> {
    const keys = bans.map((b) => entryKey({ ip: b.ip, prefix: b.prefix, scope: this.#scope(b) }));
    for (const k of keys) this.#inFlight.set(k, (this.#inFlight.get(k) ?? 0) + 1);
    return this.#enqueue(op).finally(() => {
      for (const k of keys) {
        const n = this.#inFlight.get(k)! - 1;
        if (n === 0) this.#inFlight.delete(k);
        else this.#inFlight.set(k, n);
        if (this.#landed !== null && this.#landed.size <= MAX_LANDED) this.#landed.add(k);
      }
    });
  }
}

/**
 * What `ignoreself` compares: the address, or for IPv6 in a jail counting by prefix its network
 * (the jail would ban the whole network, the host's own address with it).
 */
function selfKey(ip: string, ipv6Prefix: number): string {
  return ipv6Prefix < 128 && ip.includes(":") ? networkOf(ip, ipv6Prefix) : ip;
}

/** The `list` row of a ban. */
function banInfo(b: BanDecision, now: number): BanInfo {
  return {
    ip: b.ip,
    jail: b.jail,
    banned_at: new Date(b.bannedAt).toISOString(),
    expires_at: b.expiresAt === null ? null : new Date(b.expiresAt).toISOString(),
    remaining_s: b.expiresAt === null ? null : Math.max(0, Math.ceil((b.expiresAt - now) / 1000)),
    ban_count: b.banCount,
    prefix: b.prefix,
  };
}

/** Adds `t` to the min-heap `heap[0, n)` (it becomes `heap[0, n + 1)`). */
function minHeapPush(heap: Float64Array, n: number, t: number): void {
  let i = n;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= t) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = t;
}

/** Replaces the smallest time of the min-heap `heap[0, n)` with `t`. */
function minHeapReplaceTop(heap: Float64Array, n: number, t: number): void {
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && heap[r]! < heap[l]! ? r : l;
    if (heap[c]! >= t) break;
    heap[i] = heap[c]!;
    i = c;
  }
  heap[i] = t;
}

/**
 * Why a reload cannot apply `next`'s `[fleet]`, or null when it is the running one: the link is
 * started once, with the daemon (its permissions, its share of the memory ceiling and the
 * address table's size are fixed at start). The stream's `max_age`, derived from the jails'
 * ban times, is not compared: a reload that changes a `bantime` keeps the running link's.
 */
function fleetReloadRefusal(
  running: Config["fleet"],
  next: Config["fleet"],
): string | null {
  const section = (f: Config["fleet"]) => f === null ? null : JSON.stringify({ ...f, maxAgeMs: 0 });
  if (section(running) === section(next)) return null;
  const what = running === null ? "added" : next === null ? "removed" : "changed";
  return `[fleet] ${what}: changes to [fleet] apply at the next start, not at reload; restart ` +
    "the daemon to apply them (systemctl restart fail2zig)";
}
