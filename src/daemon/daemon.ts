/**
 * The daemon's lifecycle, in order: load and validate the config (nothing else happens before
 * it is known good) → logger → state file → firewall backend (fail-closed) → tracker, restored
 * from the state and reconciled with the backend → control socket, metrics → parser Worker →
 * run until SIGTERM/SIGINT (SIGHUP reloads) → tear down in reverse order, saving the state last.
 * @module
 */
import {
  type Config,
  ConfigError,
  type ConfigIssue,
  formatIssue,
  loadConfig,
  RUNTIME_PEAK_MB,
} from "../config/mod.ts";
import { type FirewallBackend, selectBackend } from "../firewall/mod.ts";
import { createLogSink, LineSink, Logger } from "../log/mod.ts";
import { AuditLog, Auditor } from "../audit/mod.ts";
import { createDaemonMetrics, type MetricsServer, startMetricsServer } from "../metrics/mod.ts";
import { parentDir, StateStore } from "../state/mod.ts";
import { shareMallocArenas } from "../ffi/mod.ts";
import { decodePosition, encodePosition, JournalSource, positionKey } from "../sources/mod.ts";
import {
  ControlError,
  notifyReady,
  notifyReloading,
  notifyStopping,
  startIpcServer,
} from "../ipc/mod.ts";
import { fileSourceReadPaths, type SourcePosition } from "../sources/mod.ts";
import {
  type BanDecision,
  SystemClock,
  Tracker,
  trackerBudgetFor,
  trackerCapacityFor,
} from "../tracker/mod.ts";
import { Engine } from "./engine.ts";
import { processSamplers } from "./_process.ts";
import type { StartMessage, WorkerJail, WorkerMessage } from "./_protocol.ts";

/**
 * V8 flags of the daemon (both isolates): old space capped at 12 MiB (the main isolate's live data
 * is about 6 MiB) so that garbage is collected long before the memory ceiling, young generation
 * kept small, heaps grown less eagerly (`--optimize-for-size`), and no TurboFan: Maglev's code is
 * as fast on this work (the parser Worker's CPU per line is unchanged in `bench:throughput`, the
 * tracker's ≈ 15 % higher in the 2M-address flood) while TurboFan's compilations cost 5–10 MiB
 * at the peak and, in each of `filter test`'s threads, 20–40 ms of start-up. Every way of
 * starting the daemon passes them (deno.json tasks, `deno compile`, the test harness, the demo).
 * See docs/interfaces.md, "Memory ceiling".
 */
export const DAEMON_V8_FLAGS =
  "--max-old-space-size=12,--max-semi-space-size=1,--optimize-for-size,--no-turbofan";
/** Bans re-added to the firewall per call after a restore (bounded memory for huge states). */
export const RESTORE_BATCH = 4096;
/** A stop that takes longer than this (a stuck peer, a hung kernel call) ends the process anyway. */
export const STOP_TIMEOUT_MS = 10_000;
/** Interval of the ban expiry check. */
export const EXPIRY_TICK_MS = 250;
/** Version reported by `status`, `version`. */
export const VERSION = "0.1.0";

/** Options of {@link runDaemon}. */
export interface DaemonOptions {
  readonly configPath: string;
}

/** Runs until a stop signal; returns the process exit code. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  shareMallocArenas(); // before the Worker and the I/O threads start (docs/interfaces.md)
  const boot = new Logger("info", [new LineSink()]);
  let config: Config;
  const warnings: ConfigIssue[] = []; // logged once the configured logger exists
  try {
    config = await loadConfig(opts.configPath, { onWarning: (w) => warnings.push(w) });
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.toString());
      boot.error("invalid configuration; nothing was started");
      return 1;
    }
    throw e;
  }
  const logger = new Logger(config.global.logLevel, [createLogSink()]);
  for (const w of warnings) logger.warn("config warning", { issue: formatIssue(w) });
  const clock = new SystemClock();

  let backend: FirewallBackend;
  let degraded = false;
  try {
    const sel = await selectBackend({
      choice: config.global.firewall,
      onNoBackend: config.global.onNoBackend,
      ipv6Interval: config.jails.some((j) => j.ipv6Prefix < 128),
      logger,
    });
    backend = sel.backend;
    degraded = sel.degraded;
  } catch (e) {
    logger.error("no firewall backend works; refusing to run without one (fail-closed)", {
      error: e instanceof Error ? e.message : String(e),
    });
    return 1;
  }

  // The address table gets what the ceiling leaves above the runtime's measured peak.
  const budget = trackerBudgetFor(config.global.memoryCeilingMb, RUNTIME_PEAK_MB);
  const tracker = new Tracker({
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

  // ---- state file: verified, restored into the tracker ----
  let engineRef: Engine | null = null;
  let auditLog: AuditLog | null = null;
  await Deno.mkdir(parentDir(config.global.stateFile), { recursive: true, mode: 0o700 });
  const store = new StateStore(config.global.stateFile, {
    saveIntervalMs: config.global.saveIntervalMs,
    collect: () => ({
      savedAt: clock.now(),
      audit: auditLog?.head ?? null, // the chain goes on from it after a restart
      ...tracker.snapshot(),
      positions: (engineRef?.positions() ?? []).map((p) => ({
        key: positionKey(p),
        data: encodePosition(p),
      })),
    }),
    // Reported once, then at most once a minute with the count (a full disk fails every retry).
    onError: (e, f) =>
      logger.error("state save failed; retrying", {
        error: e instanceof Error ? e.message : String(e),
        failures: f.failures,
        consecutive: f.consecutive,
      }),
    onFailing: (failing, n) => {
      if (!failing) logger.info("state save works again", { failed_saves: n });
    },
  });
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

  // ---- audit trail and metrics ----
  if (config.global.auditLog !== "") {
    await Deno.mkdir(parentDir(config.global.auditLog), { recursive: true, mode: 0o700 });
    auditLog = AuditLog.open(config.global.auditLog, {
      maxBytes: config.global.auditMaxMb * 1024 * 1024,
      saved: loaded.status === "loaded" ? loaded.state.audit ?? null : null,
    });
  }
  const auditor = new Auditor({ logger, log: auditLog });
  const metrics = createDaemonMetrics({
    memoryBytes: () => Deno.memoryUsage().rss,
    trackerEntries: () => tracker.stats().tracked,
    build: { version: VERSION, deno: Deno.version.deno, v8: Deno.version.v8 },
    process: processSamplers(),
  });
  metrics.degraded.set({}, degraded ? 1 : 0);
  let evictionsSeen = 0;
  let dropsSeen = 0;
  metrics.registry.onCollect(() => {
    metrics.degraded.set({}, degraded || store.failing ? 1 : 0); // saves failing: degraded too
    const s = tracker.stats();
    metrics.evictions.inc({}, s.evictions - evictionsSeen);
    metrics.linesDropped.inc({ reason: "table_full" }, s.drops - dropsSeen);
    evictionsSeen = s.evictions;
    dropsSeen = s.drops;
    for (const j of s.jails) metrics.activeBans.set({ jail: j.jail }, j.activeBans);
  });
  for (const j of config.jails) metrics.addJail(j.name);

  let worker: Worker | null = null;
  const engine: Engine = new Engine({
    config,
    tracker,
    backend,
    degraded,
    isDegraded: () => store.failing, // the state file is not kept while saves fail
    clock,
    logger,
    version: VERSION,
    audit: (ev) =>
      auditor.record({
        event: ev.event,
        ip: ev.prefix === 32 || ev.prefix === 128 ? ev.ip : `${ev.ip}/${ev.prefix}`,
        jail: ev.jail,
        ...(ev.event === "ban"
          ? { durationS: ev.durationMs === null ? null : ev.durationMs / 1000 }
          : {}),
        reason: ev.reason,
        origin: ev.origin,
      }),
    metrics,
    changed: () => store.scheduleSave(),
    memoryBytes: () => Deno.memoryUsage().rss,
    reloadConfig: async () => {
      try {
        return await loadConfig(opts.configPath, {
          onWarning: (w) => logger.warn("config warning", { issue: formatIssue(w) }),
        });
      } catch (e) {
        throw new ControlError("invalid_config", e instanceof Error ? e.message : String(e));
      }
    },
    onReloaded: async (next) => {
      await stopJournals();
      await stopWorker();
      worker = spawnWorker(next, engine.positions());
      await startJournals(next, engine.positions());
    },
  });
  engineRef = engine;
  engine.seedPositions(saved);

  // ---- parser Worker ----
  let workerStopped: ((positions: SourcePosition[]) => void) | null = null;
  let fatal: ((message: string) => void) | null = null;
  const fatalSeen = new Promise<string>((r) => fatal = r);
  let firstReady: (() => void) | null = null;
  const workerReady = new Promise<void>((r) => firstReady = r);

  function spawnWorker(cfg: Config, saved: SourcePosition[]): Worker | null {
    const jails: WorkerJail[] = cfg.jails.flatMap((j, index) =>
      j.enabled && j.source !== "bans"
        ? [{ index, filter: j.filter, mode: j.mode, logpath: j.logpath, readFrom: j.readFrom }]
        : []
    );
    if (jails.length === 0) {
      firstReady?.();
      return null;
    }
    const readPaths = fileSourceReadPaths(jails.flatMap((j) => j.logpath));
    const w = new Worker(new URL("./parser_worker.ts", import.meta.url), {
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
    w.onmessage = (e: MessageEvent<WorkerMessage>) => {
      const msg = e.data;
      switch (msg.type) {
        case "batch": {
          if (msg.id === undefined) {
            engine.applyBatch(msg, msg.sentAt).catch(() => {}).finally(() =>
              w.postMessage({ type: "ack" })
            );
            break;
          }
          const pending = journalPending.get(msg.id);
          journalPending.delete(msg.id);
          if (pending === undefined) break;
          engine.applyBatch({ ...msg, positions: [pending.position] }, msg.sentAt).catch(() => {})
            .finally(pending.done);
          break;
        }
        case "ready":
          logger.debug("parser worker watching", { paths: msg.readPaths });
          firstReady?.();
          break;
        case "dropped":
          metrics.linesDropped.inc({ reason: "too_long" }, msg.count);
          logger.warn("lines dropped", { reason: msg.reason, count: msg.count });
          break;
        case "warning":
          logger.warn(msg.message);
          break;
        case "fatal":
          fatal?.(msg.message);
          break;
        case "stopped":
          engine.seedPositions(msg.positions);
          workerStopped?.(msg.positions);
          break;
      }
    };
    w.onerror = (e) => {
      e.preventDefault();
      fatal?.(`parser worker failed: ${e.message}`);
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

  // ---- journal sources: journalctl children on the main thread, lines matched in the Worker ----
  const journalPending = new Map<number, { position: SourcePosition; done: () => void }>();
  let journalSeq = 0;
  let journals: JournalSource[] = [];

  async function startJournals(cfg: Config, saved: readonly SourcePosition[]): Promise<void> {
    const groups = new Map<
      string,
      { match: readonly string[]; readFrom: "end" | "start"; jails: number[] }
    >();
    cfg.jails.forEach((j, index) => {
      if (!j.enabled || j.source !== "journald") return;
      const key = [...j.journalMatch].sort().join(" ");
      const g = groups.get(key) ?? { match: j.journalMatch, readFrom: j.readFrom, jails: [] };
      g.jails.push(index);
      groups.set(key, g);
    });
    for (const g of groups.values()) {
      const source = new JournalSource({
        match: g.match,
        saved,
        readFrom: g.readFrom,
        lineMaxBytes: cfg.global.lineMaxBytes,
        ...(cfg.global.journalDirectory === "" ? {} : { directory: cfg.global.journalDirectory }),
        onDrop: () => metrics.linesDropped.inc({ reason: "too_long" }),
        onWarning: (message) => logger.warn(message),
      });
      journals.push(source);
      await source.start((batch) =>
        new Promise<void>((done) => {
          const w = worker;
          if (w === null) return done();
          const id = ++journalSeq;
          journalPending.set(id, { position: batch.position, done });
          w.postMessage({
            type: "lines",
            id,
            jails: g.jails,
            lines: batch.lines,
            times: batch.times ?? batch.lines.map(() => null),
            origin: batch.position.kind === "journal"
              ? `journal:${batch.position.cursor}`
              : batch.source,
          });
        })
      );
      source.done.catch((e) =>
        logger.error("journal source stopped", {
          error: e instanceof Error ? e.message : String(e),
        })
      );
    }
  }

  async function stopJournals(): Promise<void> {
    const all = journals;
    journals = [];
    await Promise.all(all.map(async (s) => {
      const stopped = s.stop();
      for (const p of journalPending.values()) p.done();
      journalPending.clear();
      await stopped;
      engine.seedPositions(s.positions());
    }));
  }

  async function stopWorker(): Promise<void> {
    const w = worker;
    if (w === null) return;
    worker = null;
    const stopped = new Promise<unknown>((r) => workerStopped = r);
    w.postMessage({ type: "stop" });
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 2000))]);
    w.terminate();
  }

  // ---- start ----
  if (loaded.status === "loaded") {
    let batch: BanDecision[] = [];
    for (const b of tracker.eachActiveBan()) {
      batch.push(b);
      if (batch.length === RESTORE_BATCH) {
        await engine.restore(batch);
        batch = [];
      }
    }
    await engine.restore(batch);
  }
  const ipc = await startIpcServer({
    path: config.global.socketPath,
    controller: engine,
    version: VERSION,
    logger,
  });
  let metricsServer: MetricsServer | null = null;
  if (config.global.metricsBind !== null) {
    metricsServer = startMetricsServer({
      ...config.global.metricsBind,
      render: () => metrics.render(),
    });
  }
  worker = spawnWorker(config, saved);
  await Promise.race([workerReady, fatalSeen]);
  await startJournals(config, saved);
  const expiry = setInterval(() => engine.expireDue().catch(() => {}), EXPIRY_TICK_MS);

  // ---- run until a signal or a fatal error ----
  const stop = new Promise<string>((resolve) => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      Deno.addSignalListener(sig, () => resolve(sig));
    }
  });
  const onHup = () => {
    notifyReloading();
    engine.reload().then(
      () => notifyReady(),
      (e) => {
        logger.error("reload refused; the running configuration is unchanged", {
          error: e instanceof Error ? e.message : String(e),
        });
        notifyReady();
      },
    );
  };
  Deno.addSignalListener("SIGHUP", onHup);
  logger.info("ready", { backend: backend.name, degraded, jails: config.jails.map((j) => j.name) });
  notifyReady();
  const why = await Promise.race([stop, fatalSeen.then((m) => `fatal: ${m}`)]);

  // ---- tear down in reverse order (a watchdog ends a stop that hangs) ----
  const watchdog = setTimeout(() => {
    logger.error("stop did not finish in time; exiting", { timeout_ms: STOP_TIMEOUT_MS });
    setTimeout(() => Deno.exit(1), STOP_TIMEOUT_MS); // a flush that hangs too
    store.flush().finally(() => Deno.exit(1));
  }, STOP_TIMEOUT_MS);
  notifyStopping();
  logger.info("stopping", { reason: why });
  Deno.removeSignalListener("SIGHUP", onHup);
  clearInterval(expiry);
  await stopJournals();
  await stopWorker();
  await metricsServer?.close();
  await ipc.close();
  await engine.settle();
  await store.close();
  auditLog?.close();
  await backend.close();
  clearTimeout(watchdog);
  logger.info("stopped");
  return why.startsWith("fatal") ? 1 : 0;
}
