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
  actionPrograms,
  Daemon,
  type DaemonDeps,
  daemonPermissions,
  FLEET_HEAP_MB,
  narrowedArgv,
  narrowedEnv,
  oneLine,
  permissionFlags,
  StartError,
  STOP_TIMEOUT_MS,
  ungranted,
  VERSION,
  withOldSpaceRaised,
  WorkerParserHost,
} from "../src/daemon/mod.ts";
import { selectBackend } from "../src/firewall/mod.ts";
import { createLogSink, LineSink, Logger } from "../src/log/mod.ts";
import { AuditLog } from "../src/audit/mod.ts";
import { startMetricsServer } from "../src/metrics/mod.ts";
import { parentDir, StateStore } from "../src/state/mod.ts";
import {
  execve,
  ownCommandLine,
  releaseExecutablePages,
  shareMallocArenas,
} from "../src/ffi/mod.ts";
import { resolve } from "node:path";
import {
  clearStaleSocket,
  ControlError,
  notifyReady,
  notifyReloading,
  notifyStopping,
  startIpcServer,
} from "../src/ipc/mod.ts";
import { SystemClock } from "../src/tracker/mod.ts";
import { installSeccomp } from "../src/seccomp/mod.ts";

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
  if (broadlyGranted() && !Deno.build.standalone) return narrowAndExec(configPath, config);
  shareMallocArenas(); // before the Worker and the I/O threads start (docs/interfaces.md)
  const logger = new Logger(config.global.logLevel, [createLogSink()]);
  releaseStartupPages(logger, "modules loaded"); // the loader's and transpiler's code
  for (const w of warnings) logger.warn("config warning", { issue: formatIssue(w) });
  logPermissions(configPath, config, logger);
  let daemon: Daemon;
  const sandbox = { exec: true };
  try {
    daemon = await Daemon.start(realDeps(configPath, config, logger, sandbox));
  } catch (e) {
    const err = e instanceof StartError ? e : new StartError("start", oneLine(e));
    logger.error(err.summary, { stage: err.stage, error: err.reason });
    return Exit.FAILED;
  }
  try {
    // After every thread exists (TSYNC covers them), before readiness is reported.
    const exec = needsExec(config, daemon.backend.name);
    confine(config, exec, logger);
    sandbox.exec = exec || config.global.seccomp !== "enforce"; // log and off never refuse it
  } catch (e) {
    const err = e instanceof StartError ? e : new StartError("seccomp", oneLine(e));
    logger.error(err.summary, { stage: err.stage, error: err.reason });
    await daemon.stop();
    return Exit.FAILED;
  }
  return await runUntilStopped(daemon, config, logger);
}

/**
 * Unmaps the pages of the runtime's executable that start-up touched ({@link releaseExecutablePages},
 * docs/performance.md): resident memory then holds only the code the daemon goes on running. A
 * procfs that cannot be read costs only that memory, so it is a debug record, not a failure.
 */
function releaseStartupPages(logger: Logger, after: string): void {
  try {
    const mib = releaseExecutablePages() / 1048576;
    logger.debug("executable pages released", { after, mib: Math.round(mib * 10) / 10 });
  } catch (e) {
    logger.warn("executable pages not released", { after, error: oneLine(e) });
  }
}

/**
 * Whether the daemon replaces a process image: a command-line firewall backend (anything but
 * nftables and log-only), or programs the config runs ({@link runsPrograms}). Seccomp cannot
 * match execve's path, so without them execve and execveat are refused outright.
 */
export function needsExec(config: Config, backend: string): boolean {
  return runsPrograms(config) || !["nftables", "log-only"].includes(backend);
}

/** Whether `config` runs programs besides the firewall: journalctl, `exec` actions. */
function runsPrograms(config: Config): boolean {
  const journal = config.jails.some((j) => j.enabled && j.source === "journald");
  return journal || actionPrograms(config).length > 0;
}

/**
 * Why a reloaded config cannot run under the filter installed at start: it runs programs
 * (journalctl, exec actions) and `execWorks` is false (`enforce` denied execve). Null when it can.
 * Under the narrowed permissions the run grant refuses such a reload first; this covers the
 * compiled executable, which keeps its embedded grant.
 */
export function execRefusal(execWorks: boolean, next: Config): string | null {
  if (execWorks || !runsPrograms(next)) return null;
  return "the new configuration runs programs (journalctl, exec actions), which the seccomp filter installed at start refuses (execve); restart the daemon to apply it (systemctl restart fail2zig)";
}

/**
 * Installs the syscall filter of `[global] seccomp` (docs/seccomp.md) and logs what it did.
 * Under `enforce` a filter that cannot be installed (the kernel refuses, an architecture without
 * a syscall table, a self-check call not refused) fails the start; under `log` it is a warning.
 * `arch`: the architecture whose syscall table is used (tests give one without a table).
 */
export function confine(
  config: Config,
  exec: boolean,
  logger: Logger,
  arch: string = Deno.build.arch,
): void {
  const mode = config.global.seccomp;
  const summary =
    'seccomp = enforce and the filter cannot be installed; refusing to run unconfined (set [global] seccomp = "log" to run without it)';
  let r;
  try {
    r = installSeccomp(mode, { exec, arch });
  } catch (e) {
    if (mode === "enforce") throw new StartError("seccomp", oneLine(e), summary);
    logger.warn("seccomp filter not installed; running without it", { error: oneLine(e) });
    return;
  }
  if (r.installed) {
    const { syscalls, check } = r;
    logger.info("seccomp filter installed", { mode, syscalls, exec, check });
  } else if (mode === "enforce") {
    throw new StartError("seccomp", r.reason, summary);
  } else if (mode === "log") {
    logger.warn("seccomp filter not installed; running without it", { reason: r.reason });
  } else {
    logger.info("seccomp filter off", { reason: r.reason });
  }
}

/** Whether this process may read every path (`-P=daemon`, `-A`): it has not been narrowed yet. */
function broadlyGranted(): boolean {
  return Deno.permissions.querySync({ name: "read" }).state === "granted";
}

/**
 * The launcher step (docs/permissions.md): replaces this process (`execve`, same PID) with the
 * same runtime, runtime flags and main module, granted only what `config` needs; the new image
 * finds no global read grant and runs the daemon. Returns only when the kernel refused.
 */
function narrowAndExec(configPath: string, config: Config): number {
  const absolute = resolve(configPath);
  const set = daemonPermissions(config, { configPath: absolute });
  const narrowed = narrowedArgv(ownCommandLine(), Deno.args.length, {
    flags: permissionFlags(set),
    scriptArgs: ["daemon", "--config", absolute],
  });
  const argv = config.fleet === null ? narrowed : withOldSpaceRaised(narrowed, FLEET_HEAP_MB);
  try {
    execve(Deno.execPath(), argv, narrowedEnv(Deno.env.toObject()));
  } catch (e) {
    console.error(`fail2zig daemon: cannot narrow its permissions: ${oneLine(e)}`);
  }
  return Exit.FAILED;
}

/**
 * Logs the permission set this process runs under; warns when it is broader (a compiled
 * executable keeps the set it was compiled with) or narrower than the config needs.
 */
function logPermissions(configPath: string, config: Config, logger: Logger): void {
  const set = daemonPermissions(config, { configPath });
  if (broadlyGranted()) {
    logger.warn("permissions not narrowed: a compiled executable runs under its embedded set", {
      wanted: permissionFlags(set).join(" "),
    });
    return;
  }
  const missing = ungranted(set);
  if (missing.length > 0) logger.warn("permissions narrower than the config needs", { missing });
  logger.info("permissions narrowed", { flags: permissionFlags(set).join(" ") });
}

/** The real parts: kernel firewall, state file, audit log, control socket, metrics, Worker. */
export function realDeps(
  configPath: string,
  config: Config,
  logger: Logger,
  /** Whether execve works under the seccomp filter (set once it is installed). */
  sandbox: { readonly exec: boolean },
): DaemonDeps {
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
          scopes: cfg.jails.flatMap((j) => j.scope === null ? [] : [j.scope]),
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
      let next: Config;
      try {
        // Without the logpath check first: a path outside the grant would read as missing.
        refuseUngranted(await loadConfig(configPath, { checkLogpaths: false }));
        next = await loadConfig(configPath, {
          onWarning: (w) => logger.warn("config warning", { issue: formatIssue(w) }),
        });
      } catch (e) {
        if (e instanceof ControlError) throw e;
        throw new ControlError("invalid_config", e instanceof Error ? e.message : String(e));
      }
      refuseUngranted(next);
      const refusal = execRefusal(sandbox.exec, next);
      if (refusal !== null) throw new ControlError("invalid_config", refusal);
      if (next.global.seccomp !== config.global.seccomp) {
        logger.warn("seccomp changes apply at the next start; the installed filter stays", {
          running: config.global.seccomp,
          configured: next.global.seccomp,
        });
      }
      return next;
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

/**
 * Refuses a reloaded config that needs a permission this process was not started with (a new
 * log path outside the granted ones, a new metrics address, journalctl): the permission set
 * cannot grow after start, so the daemon must be restarted to apply it.
 */
function refuseUngranted(next: Config): void {
  const missing = ungranted(daemonPermissions(next, { configPath: next.path }));
  if (missing.length === 0) return;
  throw new ControlError(
    "invalid_config",
    `the new configuration needs permissions the daemon was not started with (${
      missing.join("; ")
    }); restart the daemon to apply it (systemctl restart fail2zig)`,
  );
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
  releaseStartupPages(logger, "started"); // the start-up's code: what runs from now on comes back
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
