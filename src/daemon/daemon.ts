/**
 * The daemon's lifecycle as one sequence of steps, each registered for undo as it succeeds:
 * control socket checked free (a live daemon on it refuses this start before the firewall is
 * touched) → state file, restored into the tracker → audit log → firewall backend (fail-closed)
 * → kernel entries read back and merged (union) → engine → bans re-added to the firewall →
 * control socket, metrics → parser → expiry timer. What can fail without the firewall comes
 * before it, so such a failure never touches the kernel. A step that fails unwinds the steps before it
 * in reverse (no scaffold, no socket, nothing half open) and `Daemon.start` throws a
 * `StartError` whose message is one line; `stop()` is the same unwinding, the state saved last
 * before the scaffold goes. The parts come in as `DaemonDeps`: `cli/daemon.ts` builds the real
 * ones, tests can build fakes.
 * @module
 */
import type { Config } from "../config/mod.ts";
import { type FirewallBackend, FirewallGuard } from "../firewall/mod.ts";
import type { Logger } from "../log/mod.ts";
import { type AuditLog, Auditor, type ChainHead, readAuditHistory } from "../audit/mod.ts";
import { createDaemonMetrics, type DaemonMetrics, type ProcessSamplers } from "../metrics/mod.ts";
import type { StateKeeper, StateStoreOptions } from "../state/mod.ts";
import type { StateBan } from "../state/mod.ts";
import { decodePosition, encodePosition, JournalSource, positionKey } from "../sources/mod.ts";
import { fileSourceReadPaths, type SourcePosition } from "../sources/mod.ts";
import type { Controller } from "../ipc/mod.ts";
import {
  type BanDecision,
  type Clock,
  Tracker,
  trackerBudgetFor,
  trackerCapacityFor,
} from "../tracker/mod.ts";
import { runtimePeakMb } from "../config/mod.ts";
import { type AuditEvent, Engine } from "./engine.ts";
import { ActionRunner } from "../actions/mod.ts";
import { hostAddresses } from "./_host.ts";
import { processSamplers } from "./_process.ts";
import { parseWorkerMessage, type StartMessage, type WorkerMessage } from "./_protocol.ts";
import { journalGroups, journalLines, parserJails } from "./_matcher.ts";
import { SourceSet } from "./source_set.ts";

/**
 * Old space of each of the daemon's isolates, MiB. The main isolate's live heap is about 7 MiB
 * idle (mostly its modules' source text and code), 8 MiB during a flood and 10 MiB while it
 * builds the reply of a `list` of a full table (tests/daemon_flood_test.ts reads it from V8's
 * `--trace-gc-nvp`); at 12 MiB the ban-flood daemon sometimes died of "Reached heap limit" on
 * a loaded machine. The flood test keeps {@link HEAP_MARGIN_MB} free above the largest live heap.
 */
export const OLD_SPACE_MB = 16;
/** Old space that stays free above the main isolate's largest live heap in the flood test. */
export const HEAP_MARGIN_MB = 3;

/**
 * V8 flags of the daemon (both isolates): old space capped at {@link OLD_SPACE_MB} so that
 * garbage is collected long before the memory ceiling, young generation kept small, heaps grown
 * less eagerly (`--optimize-for-size`), and no TurboFan: Maglev's code is as fast on this work
 * (the parser Worker's CPU per line is unchanged in `bench:throughput`, the tracker's ≈ 15 %
 * higher in the 2M-address flood) while TurboFan's compilations cost 5–10 MiB at the peak and,
 * in each of `filter test`'s threads, 20–40 ms of start-up. Every way of starting the daemon
 * passes them (deno.json tasks, `deno compile`, the test harness, the demo). See
 * docs/interfaces.md, "Memory ceiling".
 */
export const DAEMON_V8_FLAGS =
  `--max-old-space-size=${OLD_SPACE_MB},--max-semi-space-size=1,--optimize-for-size,--no-turbofan`;
/** Bans re-added to the firewall per call after a restore (bounded memory for huge states). */
export const RESTORE_BATCH = 4096;
/** A stop that takes longer than this (a stuck peer, a hung kernel call) ends the process anyway. */
export const STOP_TIMEOUT_MS = 10_000;
/** Interval of the ban expiry check. */
export const EXPIRY_TICK_MS = 250;
/** Version reported by `status`, `version`. */
export const VERSION = "0.1.0";
/** How long a parser host's stop may take before its Worker is terminated. */
export const PARSER_STOP_MS = 2000;

/** The first line of an error's message (a start failure is reported in one line). */
export function oneLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return (m.split("\n").find((l) => l.trim() !== "") ?? m).trim();
}

/** A start step failed; `stage` names it, `message` is `STAGE: cause` on one line. */
export class StartError extends Error {
  /** Always `StartError`. */
  override name = "StartError";
  /** A failure of `stage` because of `reason`, reported under `summary`. */
  constructor(
    /** The step that failed, e.g. `state file`, `metrics_bind 127.0.0.1:9191`. */
    readonly stage: string,
    /** What happened, one line. */
    readonly reason: string,
    /** The operator's summary (the record's `msg`). */
    readonly summary = "start failed; everything it had started was undone",
  ) {
    super(`${stage}: ${reason}`);
  }
}

/** Undo steps, run in reverse order of registration; a failing step is logged and skipped. */
export class UndoStack {
  readonly #steps: { what: string; undo: () => unknown }[] = [];
  /** Registers `undo` for a step that succeeded. */
  push(what: string, undo: () => unknown): void {
    this.#steps.push({ what, undo });
  }
  /** Runs every step, newest first; never throws. */
  async unwind(logger: Logger): Promise<void> {
    for (let s = this.#steps.pop(); s !== undefined; s = this.#steps.pop()) {
      try {
        await s.undo();
      } catch (e) {
        logger.warn("undoing a step failed; going on", { step: s.what, error: oneLine(e) });
      }
    }
  }
}

/** Runs a start step; any failure becomes a `StartError` of `stage`. */
async function step<T>(stage: string, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw e instanceof StartError ? e : new StartError(stage, oneLine(e));
  }
}

/** Something started that `stop()` closes. */
export interface Closable {
  /** Stops it and releases what it holds. */
  close(): Promise<void> | void;
}

/** What a parser host gets from the daemon. */
export interface ParserContext {
  /** Takes the matched batches (and advances their sources' positions). */
  readonly engine: Engine;
  /** The read positions: a start resumes from them, a stopped source seeds its last ones. */
  readonly sources: SourceSet;
  /** Operational log. */
  readonly logger: Logger;
  /** Counts dropped lines. */
  readonly metrics: DaemonMetrics;
  /** The daemon's time (an in-process parser completes partial timestamps with it). */
  readonly clock: Clock;
}

/** Reads the log sources, matches their lines and hands the batches to the engine. */
export interface ParserHost {
  /** Starts reading `config`'s sources from `saved`; resolves once watching (or fatal). */
  start(config: Config, saved: readonly SourcePosition[]): Promise<void>;
  /**
   * Stops, then starts again with a reloaded config from the `SourceSet`'s positions as they are
   * after the stop (does not wait for ready).
   */
  restart(config: Config): Promise<void>;
  /** Stops reading; the `SourceSet` has its last positions afterwards. */
  stop(): Promise<void>;
  /** Resolves with a message when the parser failed and the daemon must stop. */
  readonly fatal: Promise<string>;
}

/** The parts of a daemon; `cli/daemon.ts` builds the real ones. */
export interface DaemonDeps {
  /** The validated configuration. */
  readonly config: Config;
  /** Operational log (the start failure is reported by the caller). */
  readonly logger: Logger;
  /** Time of the tracker, the state file and the kernel read-back. */
  readonly clock: Clock;
  /**
   * Checks that the control socket at `path` is free, removing a stale one; throws when a live
   * process answers on it. Runs before anything else, the firewall included.
   */
  readonly claimSocket: (path: string) => void;
  /** Selects and initialises the firewall backend (fail-closed: throws when none works). */
  readonly backend: (config: Config) => Promise<{ backend: FirewallBackend; degraded: boolean }>;
  /**
   * Opens the state store (the state file, its directory created; a `MemoryStateStore` in
   * tests); `load()` is called by the daemon.
   */
  readonly store: (config: Config, options: StateStoreOptions) => Promise<StateKeeper>;
  /** Opens the audit log; null when it is disabled. */
  readonly audit: (config: Config, saved: ChainHead | null) => Promise<AuditLog | null>;
  /** Loads the configuration again (`reload`, SIGHUP); throws `ControlError` when invalid. */
  readonly reloadConfig: () => Promise<Config>;
  /** Builds the parser host (sources and matching). */
  readonly parser: (ctx: ParserContext) => ParserHost;
  /** Opens the control socket for `controller`. */
  readonly control: (config: Config, controller: Controller) => Promise<Closable>;
  /** Opens the metrics listener (`metrics_bind`); null when disabled. */
  readonly metrics: (config: Config, render: () => string) => Closable | null;
  /** The host's own addresses (`ignoreself`), read at start and reload. @default interfaces' */
  readonly selfAddresses?: () => readonly string[];
  /** Resident memory in bytes (status, metrics). @default Deno.memoryUsage().rss */
  readonly memoryBytes?: () => number;
  /**
   * The figures of the `process_*` metric series (a test that runs with no permission gives
   * fixed ones). @default this process's, read through libc
   */
  readonly process?: ProcessSamplers;
}

/** A started daemon. */
export class Daemon {
  /** The controller the control socket serves (status, bans, reload). */
  readonly engine: Engine;
  /** The firewall backend in use. */
  readonly backend: FirewallBackend;
  /** True when nothing enforces bans (log-only). */
  readonly degraded: boolean;
  /** Resolves with a message when a part failed at run time and the daemon must stop. */
  readonly fatal: Promise<string>;
  readonly #undo: UndoStack;
  readonly #store: StateKeeper;
  readonly #logger: Logger;
  #stopping: Promise<void> | null = null;

  private constructor(parts: {
    engine: Engine;
    backend: FirewallBackend;
    degraded: boolean;
    fatal: Promise<string>;
    undo: UndoStack;
    store: StateKeeper;
    logger: Logger;
  }) {
    this.engine = parts.engine;
    this.backend = parts.backend;
    this.degraded = parts.degraded;
    this.fatal = parts.fatal;
    this.#undo = parts.undo;
    this.#store = parts.store;
    this.#logger = parts.logger;
  }

  /**
   * Starts every part in order; a failure undoes what was started, in reverse, and throws a
   * `StartError` (message on one line).
   */
  static async start(deps: DaemonDeps): Promise<Daemon> {
    const undo = new UndoStack();
    try {
      return await Daemon.#build(deps, undo);
    } catch (e) {
      await undo.unwind(deps.logger);
      throw e instanceof StartError ? e : new StartError("start", oneLine(e));
    }
  }

  /** Stops every part in reverse order of start (the same unwinding as a failed start). */
  stop(): Promise<void> {
    return this.#stopping ??= this.#undo.unwind(this.#logger);
  }

  /** Writes the state file now (the stop watchdog's last act). */
  flushState(): Promise<void> {
    return this.#store.flush();
  }

  static async #build(deps: DaemonDeps, undo: UndoStack): Promise<Daemon> {
    const { config, logger, clock } = deps;
    await step("control socket", () => deps.claimSocket(config.global.socketPath));
    // What can fail without the firewall comes first: such a failure never touches the kernel.
    const tracker = newTracker(config, clock, logger);
    const sources = new SourceSet();
    let auditLog: AuditLog | null = null;
    const store = await step("state file", () =>
      deps.store(config, {
        saveIntervalMs: config.global.saveIntervalMs,
        collect: () => ({
          savedAt: clock.now(),
          audit: auditLog?.head ?? null, // the chain goes on from it after a restart
          ...tracker.snapshot(),
          positions: sources.positions().map((p) => ({
            key: positionKey(p),
            data: encodePosition(p),
          })),
        }),
        // Reported once, then at most once a minute with the count (a full disk fails every retry).
        onError: (e, f) =>
          logger.error("state save failed; retrying", {
            error: oneLine(e),
            failures: f.failures,
            consecutive: f.consecutive,
          }),
        onFailing: (failing, n) => {
          if (!failing) logger.info("state save works again", { failed_saves: n });
        },
      }));
    const { saved, audit } = await step("state file", () => restoreState(store, tracker, logger));
    const log = auditLog = await step("audit log", () => deps.audit(config, audit));
    if (log !== null) undo.push("audit log", () => log.close());
    const sel = await step("firewall", () => deps.backend(config));
    undo.push("firewall", () => sel.backend.close());
    // Saved before the scaffold goes (a crash in between loses nothing).
    undo.push("state file", () => store.close());
    const kernel = await step("firewall read-back", () => sel.backend.list());
    if (adoptKernelBans(tracker, config, kernel, clock.now(), logger) > 0) store.scheduleSave();
    // degraded for every reason, read at each scrape: log-only, a failing firewall repair, saves
    const metrics = newMetrics(config, tracker, () => e.degraded, deps);
    let parser: ParserHost | null = null;
    let guard: FirewallGuard | null = null;
    const actions = new ActionRunner({
      actions: config.actions,
      logger,
      onOutcome: (action, result) => metrics.actionRuns.inc({ action, result }),
    });
    const e = new Engine({
      config,
      tracker,
      sources,
      backend: sel.backend,
      degraded: () => sel.degraded || (guard?.degraded ?? false),
      isDegraded: () => store.failing, // the state file is not kept while saves fail
      onFirewallFailure: () => guard?.recover() ?? Promise.resolve(false),
      clock,
      logger,
      version: VERSION,
      audit: auditSink(new Auditor({ logger, log })),
      ...(log === null
        ? {}
        : { history: (ip: string, max: number) => readAuditHistory(log.path, ip, max) }),
      metrics,
      changed: () => store.scheduleSave(),
      memoryBytes: deps.memoryBytes ?? (() => Deno.memoryUsage().rss),
      selfAddresses: deps.selfAddresses ?? (() => hostAddresses()),
      reloadConfig: deps.reloadConfig,
      onReloaded: (next) => {
        actions.reconfigure(next.actions);
        return parser?.restart(next) ?? Promise.resolve();
      },
      actions: (names, event) => actions.dispatch(names, event),
    });
    sources.seed(saved);
    // Reverse order: the engine settles (its last unbans queued), then the actions stop.
    undo.push("actions", () => actions.stop());
    undo.push("engine", () => e.settle());
    await step("firewall", () => reAddBans(tracker, e));
    const g = guard = newGuard(sel, e, metrics, logger);
    g.start();
    undo.push("firewall guard", () => g.stop()); // before the scaffold goes
    if (config.fleet !== null) {
      // Loaded only now: a daemon without [fleet] loads neither this code nor the NATS client.
      const fleetConfig = config.fleet;
      const { startFleet } = await step("fleet", () => import("../fleet/mod.ts"));
      const f = startFleet({ config: fleetConfig, engine: e, logger, registry: metrics.registry });
      undo.push("fleet", () => f.close());
    }
    const ipc = await step("control socket", () => deps.control(config, e));
    undo.push("control socket", () => ipc.close());
    const bind = config.global.metricsBind;
    if (bind !== null) {
      const where = bind.hostname.includes(":") ? `[${bind.hostname}]` : bind.hostname;
      const m = await step(
        `metrics_bind ${where}:${bind.port}`,
        () => deps.metrics(config, () => metrics.render()),
      );
      if (m !== null) undo.push("metrics", () => m.close());
    }
    const p = parser = deps.parser({ engine: e, sources, logger, metrics, clock });
    undo.push("parser", () => p.stop());
    await step("parser", () => p.start(config, saved));
    const expiry = setInterval(() => e.expireDue().catch(() => {}), EXPIRY_TICK_MS);
    undo.push("expiry", () => clearInterval(expiry));
    return new Daemon({
      engine: e,
      backend: sel.backend,
      degraded: sel.degraded,
      fatal: p.fatal,
      undo,
      store,
      logger,
    });
  }
}

function newTracker(config: Config, clock: Clock, logger: Logger): Tracker {
  // The address table gets what the ceiling leaves above the runtime's measured peak (with the
  // fleet's client when [fleet] is set).
  const budget = trackerBudgetFor(config.global.memoryCeilingMb, runtimePeakMb(config));
  return new Tracker({
    jails: config.jails,
    capacity: trackerCapacityFor(budget),
    eviction: config.global.eviction,
    clock,
    onDropBurst: (b) =>
      logger.warn("tracker full: new addresses dropped", {
        dropped: b.dropped,
        total: b.totalDropped,
      }),
    // The kernel keeps each with its timeout; `list`, `unban` and the state file no longer see it.
    onBanHandOff: (b) =>
      logger.warn("tracker full of bans: bans handed off to the kernel", {
        handed_off: b.dropped,
        total: b.totalDropped,
      }),
  });
}

/** Loads the state file into the tracker; returns the saved read positions and audit chain head. */
function restoreState(
  store: StateKeeper,
  tracker: Tracker,
  logger: Logger,
): { saved: SourcePosition[]; audit: ChainHead | null } {
  const loaded = store.load();
  const saved: SourcePosition[] = [];
  if (loaded.status === "discarded") {
    logger.warn("state file discarded; starting empty", {
      reason: loaded.reason,
      moved_to: loaded.movedTo,
    });
  } else if (loaded.status === "loaded") {
    const r = tracker.restore(loaded.state, { listRestored: false });
    for (const p of loaded.state.positions) {
      try {
        saved.push(decodePosition(p.data));
      } catch (e) {
        logger.warn("state file: unreadable read position ignored", {
          key: p.key,
          error: String(e),
        });
      }
    }
    logger.info("state restored", {
      bans: tracker.stats().activeBans,
      expired: r.expired,
      skipped: r.skipped,
      positions: saved.length,
    });
  }
  return { saved, audit: loaded.status === "loaded" ? loaded.state.audit ?? null : null };
}

/**
 * Takes the union of the kernel's entries and the restored state: an entry in our table that no
 * restored ban covers (a ban that reached the kernel after the last save before a crash) becomes
 * a ban in the tracker with the kernel's remaining timeout. Its jail is the one the entry names
 * (the element comment, the rule comment) when that jail exists, else the first enabled jail (else
 * the first jail); its start time is now, its ban count 1 (the state knew nothing of it). Entries
 * whose timeout ran out are never listed by the backends; those the tracker refuses (no jail, a
 * full table) are counted as skipped and stay in the kernel until their timeout.
 * @returns the number of bans adopted
 */
export function adoptKernelBans(
  tracker: Tracker,
  config: Config,
  entries: readonly {
    ip: string;
    prefix: number;
    timeoutMs: number | null;
    jail: string;
  }[],
  now: number,
  logger: Logger,
): number {
  const fallback = (config.jails.find((j) => j.enabled) ?? config.jails[0])?.name;
  const bans: StateBan[] = [];
  for (const k of entries) {
    if (k.timeoutMs !== null && k.timeoutMs <= 0) continue;
    if (tracker.isBanned(k.ip, k.prefix)) continue;
    const jail = tracker.jailIndex(k.jail) >= 0 ? k.jail : fallback;
    if (jail === undefined) continue;
    bans.push({
      jail,
      ip: k.ip,
      prefix: k.prefix,
      bannedAt: now,
      expiresAt: k.timeoutMs === null ? null : now + k.timeoutMs,
      banCount: 1,
    });
  }
  if (bans.length === 0) return 0;
  const r = tracker.restore({ bans }, { listRestored: false });
  logger.info("kernel bans unknown to the state file adopted", {
    adopted: bans.length - r.skipped,
    skipped: r.skipped,
  });
  return bans.length - r.skipped;
}

/**
 * Re-adds every active ban of the tracker to the firewall, in bounded batches: the table's, and
 * those a full table kept in its hand-off list.
 */
async function reAddBans(tracker: Tracker, engine: Engine): Promise<void> {
  let batch: BanDecision[] = [];
  for (const b of tracker.eachEnforcedBan()) {
    batch.push(b);
    if (batch.length === RESTORE_BATCH) {
      await engine.restore(batch);
      batch = [];
    }
  }
  await engine.restore(batch);
}

function newMetrics(
  config: Config,
  tracker: Tracker,
  degraded: () => boolean,
  deps: Pick<DaemonDeps, "memoryBytes" | "process">,
): DaemonMetrics {
  const metrics = createDaemonMetrics({
    memoryBytes: deps.memoryBytes ?? (() => Deno.memoryUsage().rss),
    trackerEntries: () => tracker.stats().tracked,
    build: { version: VERSION, deno: Deno.version.deno, v8: Deno.version.v8 },
    process: deps.process ?? processSamplers(),
  });
  let evictionsSeen = 0;
  let dropsSeen = 0;
  metrics.registry.onCollect(() => {
    metrics.degraded.set({}, degraded() ? 1 : 0);
    const s = tracker.stats();
    metrics.evictions.inc({}, s.evictions - evictionsSeen);
    metrics.linesDropped.inc({ reason: "table_full" }, s.drops - dropsSeen);
    evictionsSeen = s.evictions;
    dropsSeen = s.drops;
    for (const j of s.jails) metrics.activeBans.set({ jail: j.jail }, j.activeBans);
  });
  for (const j of config.jails) metrics.addJail(j.name);
  return metrics;
}

/** Kernel truth while running: a flushed or altered ruleset is re-installed with every ban. */
function newGuard(
  sel: { backend: FirewallBackend; degraded: boolean },
  engine: Engine,
  metrics: DaemonMetrics,
  logger: Logger,
): FirewallGuard {
  return new FirewallGuard({
    backend: sel.backend,
    activeBans: () => engine.activeEntries(),
    queue: engine,
    onRepaired: (r) => {
      metrics.firewallRepairs.inc();
      logger.warn("firewall ruleset was flushed or altered; scaffold and bans re-installed", {
        problem: r.problem,
        bans: r.bans,
        ms: r.ms,
      });
    },
    onRepairFailed: (problem, error, retryInMs) =>
      logger.error("firewall ruleset is broken and cannot be repaired; bans are not enforced", {
        problem,
        error,
        retry_in_ms: retryInMs,
      }),
  });
}

function auditSink(auditor: Auditor): (ev: AuditEvent) => void {
  return (ev) =>
    auditor.record({
      event: ev.event,
      ip: ev.prefix === 32 || ev.prefix === 128 ? ev.ip : `${ev.ip}/${ev.prefix}`,
      jail: ev.jail,
      ...(ev.event === "ban"
        ? { durationS: ev.durationMs === null ? null : ev.durationMs / 1000 }
        : {}),
      reason: ev.reason,
      origin: ev.origin,
    });
}

/** Options of {@link WorkerParserHost}. */
export interface WorkerParserHostOptions {
  /**
   * The Worker's module (a test gives one that posts crafted messages).
   * @default the daemon's parser_worker.ts
   */
  readonly workerUrl?: URL;
}

/**
 * The parser host of the real daemon: file sources and matching in a Worker whose read
 * permission covers the configured log paths only; journal sources as `journalctl` children on
 * the main thread, their lines matched in the Worker.
 */
export class WorkerParserHost implements ParserHost {
  readonly fatal: Promise<string>;
  readonly #ctx: ParserContext;
  readonly #workerUrl: URL;
  #fatal: (message: string) => void = () => {};
  #worker: Worker | null = null;
  #workerStopped: ((positions: SourcePosition[]) => void) | null = null;
  #firstReady: (() => void) | null = null;
  readonly #journalPending = new Map<number, { position: SourcePosition; done: () => void }>();
  #journalSeq = 0;
  #journals: JournalSource[] = [];

  /** Nothing runs until `start()`. */
  constructor(ctx: ParserContext, options: WorkerParserHostOptions = {}) {
    this.#ctx = ctx;
    this.#workerUrl = options.workerUrl ?? new URL("./parser_worker.ts", import.meta.url);
    this.fatal = new Promise<string>((r) => this.#fatal = r);
  }

  async start(config: Config, saved: readonly SourcePosition[]): Promise<void> {
    const ready = new Promise<void>((r) => this.#firstReady = r);
    this.#worker = this.#spawnWorker(config, saved);
    await Promise.race([ready, this.fatal]);
    await this.#startJournals(config, saved);
  }

  async restart(config: Config): Promise<void> {
    await this.stop();
    // Read after the stop: the Worker's and the journals' last positions are in the set now.
    this.#worker = this.#spawnWorker(config, this.#ctx.sources.positions());
    await this.#startJournals(config, this.#ctx.sources.positions());
  }

  async stop(): Promise<void> {
    await this.#stopJournals();
    await this.#stopWorker();
  }

  #spawnWorker(cfg: Config, saved: readonly SourcePosition[]): Worker | null {
    const jails = parserJails(cfg);
    if (jails.length === 0) {
      this.#firstReady?.();
      return null;
    }
    const readPaths = fileSourceReadPaths(jails.flatMap((j) => j.logpath));
    const w = new Worker(this.#workerUrl, {
      type: "module",
      deno: {
        permissions: {
          read: readPaths,
          write: false,
          net: false,
          ffi: false,
          run: false,
          env: false,
          sys: false,
          import: false,
        },
      },
    });
    w.onmessage = (e: MessageEvent<unknown>) => {
      const parsed = parseWorkerMessage(e.data, cfg.jails.length);
      if (!parsed.ok) return this.#rejectWorkerMessage(w, parsed);
      try {
        this.#onWorkerMessage(w, parsed.message);
      } catch (err) {
        const m = parsed.message;
        this.#rejectWorkerMessage(w, {
          reason: err instanceof Error ? err.message : String(err),
          credit: m.type === "batch" && m.id === undefined,
          ...(m.type === "batch" && m.id !== undefined ? { id: m.id } : {}),
        });
      }
    };
    w.onerror = (e) => {
      e.preventDefault();
      this.#fatal(`parser worker failed: ${e.message}`);
    };
    const start: StartMessage = {
      type: "start",
      jails,
      userFilters: cfg.filters,
      lineMaxBytes: cfg.global.lineMaxBytes,
      saved,
    };
    w.postMessage(start);
    return w;
  }

  #rejectsUnlogged = 0;
  #rejectLoggedAt = -Infinity;
  /** Drops a Worker message that failed its check: counted, logged at most once a second. */
  #rejectWorkerMessage(w: Worker, r: { reason: string; credit?: boolean; id?: number }): void {
    const { logger, metrics } = this.#ctx;
    metrics.workerMessagesRejected.inc();
    if (r.credit === true) w.postMessage({ type: "ack" });
    if (r.id !== undefined) {
      this.#journalPending.get(r.id)?.done();
      this.#journalPending.delete(r.id);
    }
    this.#rejectsUnlogged++;
    if (Date.now() - this.#rejectLoggedAt < 1000) return;
    logger.warn("parser worker message rejected", {
      reason: r.reason,
      count: this.#rejectsUnlogged,
    });
    this.#rejectLoggedAt = Date.now();
    this.#rejectsUnlogged = 0;
  }

  #onWorkerMessage(w: Worker, msg: WorkerMessage): void {
    const { engine, logger, metrics } = this.#ctx;
    switch (msg.type) {
      case "batch": {
        if (msg.id === undefined) {
          engine.applyBatch(msg, msg.sentAt).catch(() => {}).finally(() =>
            w.postMessage({ type: "ack" })
          );
          break;
        }
        const pending = this.#journalPending.get(msg.id);
        this.#journalPending.delete(msg.id);
        if (pending === undefined) break;
        engine.applyBatch({ ...msg, positions: [pending.position] }, msg.sentAt).catch(() => {})
          .finally(pending.done);
        break;
      }
      case "ready":
        logger.debug("parser worker watching", { paths: msg.readPaths });
        this.#firstReady?.();
        break;
      case "dropped":
        metrics.linesDropped.inc({ reason: "too_long" }, msg.count);
        logger.warn("lines dropped", { reason: msg.reason, count: msg.count });
        break;
      case "warning":
        logger.warn(msg.message);
        break;
      case "fatal":
        this.#fatal(msg.message);
        break;
      case "stopped":
        this.#ctx.sources.seed(msg.positions);
        this.#workerStopped?.(msg.positions);
        break;
    }
  }

  async #startJournals(cfg: Config, saved: readonly SourcePosition[]): Promise<void> {
    const { logger, metrics } = this.#ctx;
    for (const g of journalGroups(cfg)) {
      const source = new JournalSource({
        match: g.match,
        saved,
        readFrom: g.readFrom,
        lineMaxBytes: cfg.global.lineMaxBytes,
        ...(cfg.global.journalDirectory === "" ? {} : { directory: cfg.global.journalDirectory }),
        onDrop: () => metrics.linesDropped.inc({ reason: "too_long" }),
        onWarning: (message) => logger.warn(message),
      });
      this.#journals.push(source);
      await source.start((batch) =>
        new Promise<void>((done) => {
          const w = this.#worker;
          if (w === null) return done();
          const id = ++this.#journalSeq;
          this.#journalPending.set(id, { position: batch.position, done });
          w.postMessage({
            type: "lines",
            id,
            jails: g.jails,
            ...journalLines(batch),
          });
        })
      );
      source.done.catch((e) => logger.error("journal source stopped", { error: oneLine(e) }));
    }
  }

  async #stopJournals(): Promise<void> {
    const all = this.#journals;
    this.#journals = [];
    await Promise.all(all.map(async (s) => {
      const stopped = s.stop();
      for (const p of this.#journalPending.values()) p.done();
      this.#journalPending.clear();
      await stopped;
      this.#ctx.sources.seed(s.positions());
    }));
  }

  async #stopWorker(): Promise<void> {
    const w = this.#worker;
    if (w === null) return;
    this.#worker = null;
    const stopped = new Promise<unknown>((r) => this.#workerStopped = r);
    w.postMessage({ type: "stop" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([stopped, new Promise((r) => timer = setTimeout(r, PARSER_STOP_MS))]);
    clearTimeout(timer);
    w.terminate();
  }
}
