/**
 * `fail2zig daemon`: loads the config (nothing else happens before it is known good), builds the
 * real parts of the daemon (`DaemonDeps`), starts it, and runs until SIGTERM/SIGINT (SIGHUP
 * reloads) or a fatal error; then stops it under a watchdog. A start that fails prints one line
 * naming the cause and exits 1 (docs/interfaces.md, "Exit codes").
 * @module
 */
import { DEFAULT_CONFIG, Exit, parseFlags, UsageError } from "./_cli.ts";
import {
  type Config,
  ConfigError,
  type ConfigIssue,
  formatIssue,
  loadConfig,
} from "../src/config/mod.ts";
import {
  Daemon,
  type DaemonDeps,
  oneLine,
  StartError,
  STOP_TIMEOUT_MS,
  VERSION,
  WorkerParserHost,
} from "../src/daemon/mod.ts";
import { selectBackend } from "../src/firewall/mod.ts";
import { createLogSink, LineSink, Logger } from "../src/log/mod.ts";
import { AuditLog } from "../src/audit/mod.ts";
import { startMetricsServer } from "../src/metrics/mod.ts";
import { parentDir, StateStore } from "../src/state/mod.ts";
import { shareMallocArenas } from "../src/ffi/mod.ts";
import {
  clearStaleSocket,
  ControlError,
  notifyReady,
  notifyReloading,
  notifyStopping,
  startIpcServer,
} from "../src/ipc/mod.ts";
import { SystemClock } from "../src/tracker/mod.ts";

/** The `--help` text (also the command's section of fail2zig(8)). */
export const USAGE = `usage: fail2zig daemon [--config PATH] [--foreground]

Runs the daemon in the foreground (systemd supervises it; --foreground is accepted for habit).
  --config PATH   configuration file (default ${DEFAULT_CONFIG})`;

/** Runs the daemon until SIGTERM/SIGINT. */
export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    { config: { type: "string" }, foreground: { type: "boolean" } },
    USAGE,
  );
  if (flags === null) return Exit.OK;
  if (flags.positionals.length > 0) {
    throw new UsageError(`unexpected argument '${flags.positionals[0]}'`);
  }
  const configPath = (flags.values["config"] as string | undefined) ?? DEFAULT_CONFIG;
  shareMallocArenas(); // before the Worker and the I/O threads start (docs/interfaces.md)
  const boot = new Logger("info", [new LineSink()]);
  let config: Config;
  const warnings: ConfigIssue[] = []; // logged once the configured logger exists
  try {
    config = await loadConfig(configPath, { onWarning: (w) => warnings.push(w) });
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.toString());
      boot.error("invalid configuration; nothing was started");
      return Exit.FAILED;
    }
    throw e;
  }
  const logger = new Logger(config.global.logLevel, [createLogSink()]);
  for (const w of warnings) logger.warn("config warning", { issue: formatIssue(w) });
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(realDeps(configPath, config, logger));
  } catch (e) {
    const err = e instanceof StartError ? e : new StartError("start", oneLine(e));
    logger.error(err.summary, { stage: err.stage, error: err.reason });
    return Exit.FAILED;
  }
  return await runUntilStopped(daemon, config, logger);
}

/** The real parts: kernel firewall, state file, audit log, control socket, metrics, Worker. */
export function realDeps(configPath: string, config: Config, logger: Logger): DaemonDeps {
  return {
    config,
    logger,
    clock: new SystemClock(),
    claimSocket: (path) => void clearStaleSocket(path),
    backend: async (cfg) => {
      try {
        return await selectBackend({
          choice: cfg.global.firewall,
          onNoBackend: cfg.global.onNoBackend,
          ipv6Interval: cfg.jails.some((j) => j.ipv6Prefix < 128),
          logger,
        });
      } catch (e) {
        throw new StartError(
          "firewall",
          oneLine(e),
          "no firewall backend works; refusing to run without one (fail-closed)",
        );
      }
    },
    store: async (cfg, options) => {
      await Deno.mkdir(parentDir(cfg.global.stateFile), { recursive: true, mode: 0o700 });
      return new StateStore(cfg.global.stateFile, options);
    },
    audit: async (cfg, saved) => {
      if (cfg.global.auditLog === "") return null;
      await Deno.mkdir(parentDir(cfg.global.auditLog), { recursive: true, mode: 0o700 });
      return AuditLog.open(cfg.global.auditLog, {
        maxBytes: cfg.global.auditMaxMb * 1024 * 1024,
        saved, // the chain goes on from the head the state file kept
      });
    },
    reloadConfig: async () => {
      try {
        return await loadConfig(configPath, {
          onWarning: (w) => logger.warn("config warning", { issue: formatIssue(w) }),
        });
      } catch (e) {
        throw new ControlError("invalid_config", e instanceof Error ? e.message : String(e));
      }
    },
    parser: (ctx) => new WorkerParserHost(ctx),
    control: (cfg, controller) =>
      startIpcServer({ path: cfg.global.socketPath, controller, version: VERSION, logger }),
    metrics: (cfg, render) =>
      cfg.global.metricsBind === null
        ? null
        : startMetricsServer({ ...cfg.global.metricsBind, render }),
  };
}

/** Serves until a stop signal or a fatal error, then stops (a watchdog ends a stop that hangs). */
async function runUntilStopped(daemon: Daemon, config: Config, logger: Logger): Promise<number> {
  const stop = new Promise<string>((resolve) => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      Deno.addSignalListener(sig, () => resolve(sig));
    }
  });
  const onHup = () => {
    notifyReloading();
    daemon.engine.reload().then(
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
  logger.info("ready", {
    backend: daemon.backend.name,
    degraded: daemon.degraded,
    jails: config.jails.map((j) => j.name),
  });
  notifyReady();
  const why = await Promise.race([stop, daemon.fatal.then((m) => `fatal: ${m}`)]);

  const watchdog = setTimeout(() => {
    logger.error("stop did not finish in time; exiting", { timeout_ms: STOP_TIMEOUT_MS });
    setTimeout(() => Deno.exit(Exit.FAILED), STOP_TIMEOUT_MS); // a flush that hangs too
    daemon.flushState().finally(() => Deno.exit(Exit.FAILED));
  }, STOP_TIMEOUT_MS);
  notifyStopping();
  logger.info("stopping", { reason: why });
  Deno.removeSignalListener("SIGHUP", onHup);
  await daemon.stop();
  clearTimeout(watchdog);
  logger.info("stopped");
  return why.startsWith("fatal") ? Exit.FAILED : Exit.OK;
}
