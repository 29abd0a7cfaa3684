/**
 * `FirewallGuard`: keeps what the kernel enforces equal to what the daemon believes while it runs.
 * An operator's `nft flush ruleset` (the first line of Debian's /etc/nftables.conf), `iptables -F`
 * / `-X` or `ipset flush` removes fail2zig's scaffold or its entries without telling anyone; the
 * guard notices and puts everything back.
 *
 * Every `GUARD_INTERVAL_MS`, and at once after a ban or unban the kernel refused
 * (`recover()`), it runs the backend's `check()` — one read of the kernel, not one per ban.
 * The firewall needs repair when the check finds the scaffold missing or altered, or (backends
 * that count their entries) when, on two checks in a row, a set reads empty while bans of it that
 * are not about to expire are active — all of them (`ipset flush`) or one of them (one family's,
 * one scope's: `nft flush set`, `iptables -F` in one family) — or the sets hold fewer entries than
 * those bans need (`nft delete element`, `ipset del`, `iptables -D` of one ban). Bans the
 * {@link BanQueue} says may not be in the kernel yet (queued, being added, or added during the
 * reading) are not counted, so a deletion is noticed under a steady stream of bans too. A
 * repair calls `init()` (idempotent: it re-installs what is missing) unless the check found the
 * scaffold intact (only the sets emptied), re-adds every active ban with its remaining timeout,
 * removes again the bans lifted while it ran, and checks once more; only then is it a success
 * (`onRepaired`). A repair that fails reports degraded (`onDegraded(true)`)
 * and is retried with a backoff doubling from one interval to `GUARD_MAX_BACKOFF_MS`; the next
 * success clears degraded.
 * @module
 */
import { networkOf } from "../net/mod.ts";
import {
  type BanEntry,
  entryGroup,
  entryKey,
  type FirewallBackend,
  type FirewallHealth,
} from "./backend.ts";

/** How often the guard checks the kernel. */
export const GUARD_INTERVAL_MS = 250;
/** Longest wait between two repair attempts while they fail. */
export const GUARD_MAX_BACKOFF_MS = 4000;
/** Bans re-added per backend call during a repair. */
export const REPAIR_BATCH = 4096;
/** A ban this close to its expiry may already have left the kernel: it proves nothing. */
const EXPIRY_SLACK_MS = 1500;
/** Consecutive readings with entries missing (a set empty, or too few) that call for repair. */
const EMPTY_READINGS = 2;

/**
 * How many entries the active bans that `counted` accepts take in the kernel: one per family,
 * scope and block, none for a block inside any active ban's shorter IPv6 prefix in the same set
 * (the nftables interval set stores only the wider one).
 */
function kernelEntries(active: Iterable<BanEntry>, counted: (b: BanEntry) => boolean): number {
  const bans: BanEntry[] = [];
  const wide = new Set<string>();
  const prefixes = new Set<number>();
  for (const b of active) {
    if (counted(b)) bans.push(b);
    if (b.ip.includes(":") && b.prefix < 128) {
      wide.add(entryKey(b));
      prefixes.add(b.prefix);
    }
  }
  const shorter = [...prefixes];
  const seen = new Set<string>();
  for (const b of bans) {
    const covered = b.ip.includes(":") &&
      shorter.some((p) =>
        p < b.prefix && wide.has(entryKey({ ...b, ip: networkOf(b.ip, p), prefix: p }))
      );
    if (!covered) seen.add(entryKey(b));
  }
  return seen.size;
}

/** What a successful repair did. */
export interface RepairReport {
  /** What the check found (e.g. `table inet fail2zig or its chain input is missing`). */
  readonly problem: string;
  /** Active bans re-added. */
  readonly bans: number;
  /** Duration of the repair in ms. */
  readonly ms: number;
}

/**
 * Whoever queues bans for the backend (the engine), asked at each kernel reading which bans the
 * reading may lack without anyone having deleted them.
 */
export interface BanQueue {
  /**
   * Called right before a kernel read. Returns, for that reading, whether the entry of a ban may
   * be absent from it: a ban of that entry is queued or being added, or was added since this call.
   * A later call ends the previous reading (one guard reads at a time).
   */
  reading(): (entry: BanEntry) => boolean;
}

/** Options of {@link FirewallGuard}. */
export interface FirewallGuardOptions {
  /** The backend whose layout is checked and repaired. */
  readonly backend: FirewallBackend;
  /**
   * The bans the kernel must hold, with their remaining timeouts. Iterated synchronously (a
   * repair copies it before its first await), so a live view of the tracker is fine.
   */
  readonly activeBans: () => Iterable<BanEntry>;
  /**
   * The queue of bans on their way to the backend; without one every active ban is expected in
   * the kernel at every reading (the guard alone adds bans).
   */
  readonly queue?: BanQueue;
  /** Time between two checks, ms. @default GUARD_INTERVAL_MS */
  readonly intervalMs?: number;
  /** Clock for the backoff, ms. @default Date.now */
  readonly now?: () => number;
  /** A repair succeeded (count it, log it). */
  readonly onRepaired?: (report: RepairReport) => void;
  /** A repair attempt failed; it is retried after `retryInMs`. */
  readonly onRepairFailed?: (problem: string, error: string, retryInMs: number) => void;
  /** Degraded changed: true while the firewall is known broken and repair fails. */
  readonly onDegraded?: (degraded: boolean) => void;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function key(e: BanEntry): string {
  return `${e.ip}/${e.prefix}`;
}

/** Checks the backend's invariant periodically and after failures; repairs it when broken. */
export class FirewallGuard {
  #o: FirewallGuardOptions;
  #interval: number;
  #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #started = false;
  #stopped = false;
  #running: Promise<void> | null = null;
  #again = false;
  #empty = 0;
  /** The problem a failed repair left (retried until a repair succeeds); "" when none. */
  #pending = "";
  #nextAttempt = 0;
  #backoff: number;
  #degraded = false;
  #repairs = 0;

  /** A guard over `options.backend`; it checks nothing until `start()` or `tick()`. */
  constructor(options: FirewallGuardOptions) {
    this.#o = options;
    this.#interval = options.intervalMs ?? GUARD_INTERVAL_MS;
    this.#now = options.now ?? Date.now;
    this.#backoff = this.#interval;
  }

  /** True while a repair is needed and failing. */
  get degraded(): boolean {
    return this.#degraded;
  }

  /** Successful repairs so far. */
  get repairs(): number {
    return this.#repairs;
  }

  /** Starts the periodic check. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#arm();
  }

  /** Stops the checks and waits for one that is running; no timer is left behind. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /**
   * A ban or unban failed: checks now (or right after the check that is running) and resolves
   * true when that found the firewall broken and repaired it (every active ban re-added).
   */
  async recover(): Promise<boolean> {
    const before = this.#repairs;
    await this.tick();
    return this.#repairs > before;
  }

  /**
   * One check and, when needed, a repair; resolves when done (tests drive the guard with it).
   * Does nothing once stopped (the backend may be closing).
   */
  tick(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running !== null) {
      this.#again = true;
      return this.#running;
    }
    const run = (async () => {
      do {
        this.#again = false;
        await this.#cycle();
      } while (this.#again && !this.#stopped);
    })();
    this.#running = run.finally(() => this.#running = null);
    return this.#running;
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.tick().catch(() => {}).finally(() => this.#arm());
    }, this.#interval);
  }

  async #cycle(): Promise<void> {
    const { problem: found, scaffoldOk } = await this.#problem();
    const problem = found || this.#pending;
    if (problem === "") return;
    const now = this.#now();
    if (this.#pending !== "" && now < this.#nextAttempt) return;
    const started = now;
    try {
      const bans = await this.#repair(scaffoldOk);
      this.#pending = "";
      this.#backoff = this.#interval;
      this.#empty = 0;
      this.#repairs++;
      this.#setDegraded(false);
      this.#o.onRepaired?.({ problem, bans, ms: Math.max(0, this.#now() - started) });
    } catch (e) {
      this.#pending = problem;
      const wait = this.#backoff;
      this.#nextAttempt = this.#now() + wait;
      this.#backoff = Math.min(GUARD_MAX_BACKOFF_MS, this.#backoff * 2);
      this.#setDegraded(true);
      this.#o.onRepairFailed?.(problem, message(e), wait);
    }
  }

  /** What is wrong now ("" when nothing), and whether the check found the scaffold intact. */
  async #problem(): Promise<{ problem: string; scaffoldOk: boolean }> {
    let health: FirewallHealth;
    const inFlight = this.#reading();
    try {
      health = await this.#o.backend.check();
    } catch (e) {
      return { problem: `the check failed: ${message(e)}`, scaffoldOk: false };
    }
    if (!health.ok) {
      return { problem: health.problem || "the scaffold is altered", scaffoldOk: false };
    }
    const empty = this.#missing(health, inFlight);
    if (empty === "") {
      this.#empty = 0;
      return { problem: "", scaffoldOk: true };
    }
    this.#empty++;
    return { problem: this.#empty >= EMPTY_READINGS ? empty : "", scaffoldOk: true };
  }

  /** The queue's view of the reading about to be made (nothing in flight without a queue). */
  #reading(): (entry: BanEntry) => boolean {
    return this.#o.queue?.reading() ?? (() => false);
  }

  /**
   * What `health` shows missing that active bans not about to expire and not `inFlight` must fill:
   * every set empty, the set of one group empty (`health.groups`), or fewer entries than those
   * bans take; "" when nothing or unknown.
   */
  #missing(health: FirewallHealth, inFlight: (entry: BanEntry) => boolean): string {
    if (health.entries === undefined) return "";
    const counted = (b: BanEntry) =>
      (b.timeoutMs === null || b.timeoutMs >= EXPIRY_SLACK_MS) && !inFlight(b);
    let must = 0;
    for (const b of this.#o.activeBans()) {
      if (!counted(b)) continue;
      if (health.entries === 0) return "the ban sets are empty while bans are active";
      const g = entryGroup(b);
      if (health.groups !== undefined && !health.groups.has(g)) {
        const [family, scope] = g.split(" ");
        return `the IPv${family} set${scope ? ` of scope ${scope}` : ""} is empty while ` +
          `bans of it are active`;
      }
      must++;
    }
    // Fewer entries than bans: entries were deleted, unless bans share an entry or a ban's
    // prefix covers another's (counted once).
    if (health.entries >= must) return "";
    const entries = kernelEntries(this.#o.activeBans(), counted);
    return health.entries < entries
      ? `${entries - health.entries} of ${entries} ban entries are missing from the sets`
      : "";
  }

  /**
   * Re-installs the scaffold (unless the check just found it intact) and re-adds every active ban;
   * returns how many.
   */
  async #repair(scaffoldOk: boolean): Promise<number> {
    const b = this.#o.backend;
    if (!scaffoldOk) await b.init();
    const bans = [...this.#o.activeBans()];
    for (let i = 0; i < bans.length; i += REPAIR_BATCH) {
      await b.ban(bans.slice(i, i + REPAIR_BATCH));
    }
    // Bans lifted while the repair ran were re-added from the copy: lift them again.
    const still = new Set<string>();
    for (const e of this.#o.activeBans()) still.add(key(e));
    const lifted = bans.filter((e) => !still.has(key(e)));
    if (lifted.length > 0) await b.unban(lifted);
    const inFlight = this.#reading();
    const after = await b.check();
    if (!after.ok) throw new Error(`still broken after re-installing: ${after.problem}`);
    const empty = this.#missing(after, inFlight);
    if (empty !== "") throw new Error(`after re-adding the bans ${empty}`);
    return bans.length;
  }

  #setDegraded(d: boolean): void {
    if (d === this.#degraded) return;
    this.#degraded = d;
    this.#o.onDegraded?.(d);
  }
}
