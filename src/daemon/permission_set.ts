/**
 * The daemon's least permission set, computed from its validated config (docs/permissions.md):
 * what `fail2zig daemon` re-executes itself under before it opens anything.
 *
 * Stages, in order: the set for a config (`daemonPermissions`) → the `deno run` flags that grant
 * it (`permissionFlags`) → the runtime's own argv with its permission flags replaced by those
 * (`narrowedArgv`); at reload, what a new config would need beyond the grant (`ungranted`).
 * @module
 */
import type { Config } from "../config/mod.ts";
import { JOURNALCTL } from "../sources/mod.ts";
import { fileSourceReadPaths } from "../sources/mod.ts";
import { JOURNAL_SOCKET } from "../log/mod.ts";
import { parentDir } from "../state/mod.ts";
import { parserJails } from "./_matcher.ts";

/** What the daemon may touch; every list is exact paths, hosts or names, never "all". */
export interface PermissionSet {
  /** Paths it may read (a directory covers everything below it). */
  readonly read: readonly string[];
  /** Paths it may write. */
  readonly write: readonly string[];
  /** `host:port` it may listen on or connect to. */
  readonly net: readonly string[];
  /** Environment variables it may read. */
  readonly env: readonly string[];
  /** `Deno` system-information calls it may make. */
  readonly sys: readonly string[];
  /** Programs it may run. */
  readonly run: readonly string[];
  /** Whether it may load native libraries (always: netlink, Unix sockets, journald). */
  readonly ffi: boolean;
}

/** Options of {@link daemonPermissions}. */
export interface DaemonPermissionOptions {
  /** The config file as given on the command line. */
  readonly configPath: string;
  /**
   * What the runtime itself reads besides the config's paths (the parser Worker's module file,
   * journald's socket). @default RUNTIME_READ
   */
  readonly runtimeRead?: readonly string[];
}

/**
 * What the runtime reads whatever the config: the daemon's own sources, `src/` (`new Worker`
 * checks read permission on the parser Worker's module and on every module it imports; the main
 * thread's imports need none), and journald's socket (`createLogSink` looks at it).
 */
export const RUNTIME_READ: readonly string[] = [
  decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, ""),
  JOURNAL_SOCKET,
];

/** Environment the daemon reads: systemd's notification socket (`sd_notify`). */
export const DAEMON_ENV: readonly string[] = ["NOTIFY_SOCKET"];

/**
 * System calls through `Deno` the daemon makes: its uid and gid (config and state ownership
 * checks) and the interface addresses (`ignoreself`).
 */
export const DAEMON_SYS: readonly string[] = ["uid", "gid", "networkInterfaces"];

/** iptables and ip6tables, with the `-restore` each applies its changes through. */
const IPTABLES_PROGRAMS = [
  "/usr/sbin/iptables",
  "/usr/sbin/ip6tables",
  "/usr/sbin/iptables-restore",
  "/usr/sbin/ip6tables-restore",
];
/** Programs of the command-line firewall backends (`firewall = "auto"` may fall back to them). */
const FIREWALL_PROGRAMS: Record<Config["global"]["firewall"], readonly string[]> = {
  "auto": [...IPTABLES_PROGRAMS, "/usr/sbin/ipset"],
  "iptables": IPTABLES_PROGRAMS,
  "ipset": ["/usr/sbin/ipset", ...IPTABLES_PROGRAMS],
  "nftables": [],
  "log-only": [],
};

/**
 * Every network endpoint the daemon listens on or connects to through Deno, as `host:port`: the
 * metrics listener, with `[fleet]` each of its `url` servers, and the SMTP server of each smtp
 * action. (The control socket and journald are Unix sockets opened through libc, which no Deno
 * permission covers.) A new endpoint is added here only.
 */
export function networkEndpoints(config: Config): string[] {
  const out: string[] = [];
  const bind = config.global.metricsBind;
  if (bind !== null) {
    const host = bind.hostname.includes(":") ? `[${bind.hostname}]` : bind.hostname;
    out.push(`${host}:${bind.port}`);
  }
  for (const u of config.fleet?.urls ?? []) {
    out.push(`${u.host.includes(":") ? `[${u.host}]` : u.host}:${u.port}`);
  }
  for (const a of config.actions) {
    if (a.type !== "smtp") continue;
    const host = a.server.hostname.includes(":") ? `[${a.server.hostname}]` : a.server.hostname;
    out.push(`${host}:${a.server.port}`);
  }
  return unique(out);
}

/** The programs of the exec actions (`on_ban[0]`, `on_unban[0]`): each may run, nothing else. */
export function actionPrograms(config: Config): string[] {
  return unique(
    config.actions.flatMap((a) =>
      a.type === "exec" ? [a.onBan[0], a.onUnban[0]].filter((p) => p !== undefined) : []
    ),
  );
}

/** The files `[fleet]` reads (credentials, TLS), and `hostname` for its default name. */
function fleetNeeds(config: Config): { read: string[]; sys: string[] } {
  const f = config.fleet;
  if (f === null) return { read: [], sys: [] };
  return {
    read: [f.creds, f.tlsCa, f.tlsCert, f.tlsKey].filter((p) => p !== ""),
    sys: f.name === null ? ["hostname"] : [],
  };
}

/**
 * The least permission set the daemon needs for `config`: read its config, its log paths (and
 * where their directories and links lead, `fileSourceReadPaths`), its state, audit and socket
 * directories and `runtimeRead`; write only the state, audit and socket directories; listen only
 * on {@link networkEndpoints}; run only the firewall programs its `firewall` choice may use,
 * journalctl when a jail reads the journal, and the exec actions' programs
 * ({@link actionPrograms}). Needs read permission on those paths (it resolves
 * links), so it runs before narrowing and, at reload, sees only what is granted.
 */
export function daemonPermissions(config: Config, opts: DaemonPermissionOptions): PermissionSet {
  const g = config.global;
  const dirs = [parentDir(g.stateFile), parentDir(g.socketPath)];
  if (g.auditLog !== "") dirs.push(parentDir(g.auditLog));
  const read = [opts.configPath, ...dirs, ...(opts.runtimeRead ?? RUNTIME_READ)];
  try {
    const real = Deno.realPathSync(opts.configPath);
    if (real !== opts.configPath) read.push(real);
  } catch { /* not granted (a reload): the path as given is what was granted */ }
  read.push(
    ...fileSourceReadPaths(
      parserJails(config).filter((j) => config.jails[j.index]!.source === "file").flatMap((j) =>
        j.logpath
      ),
    ),
  );
  const journal = config.jails.some((j) => j.enabled && j.source === "journald");
  const fleet = fleetNeeds(config);
  read.push(...fleet.read);
  return {
    read: unique(read),
    write: unique(dirs),
    net: networkEndpoints(config),
    env: [...DAEMON_ENV],
    sys: [...DAEMON_SYS, ...fleet.sys],
    run: unique([
      ...FIREWALL_PROGRAMS[g.firewall],
      ...(journal ? [JOURNALCTL] : []),
      ...actionPrograms(config),
    ]),
    ffi: true,
  };
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

/**
 * The `deno run` flags granting exactly `set`: one `--allow-NAME=a,b` per non-empty list, and
 * `--allow-ffi`. A list that is empty grants nothing (no flag). Throws on a path containing a
 * comma, which the flag syntax cannot carry.
 */
export function permissionFlags(set: PermissionSet): string[] {
  const flags: string[] = [];
  for (const name of ["read", "write", "net", "env", "sys", "run"] as const) {
    const list = set[name];
    if (list.length === 0) continue;
    const bad = list.find((v) => v.includes(",") || v === "");
    if (bad !== undefined) {
      throw new RangeError(`cannot grant ${name} on '${bad}': a comma or an empty entry`);
    }
    flags.push(`--allow-${name}=${list.join(",")}`);
  }
  if (set.ffi) flags.push("--allow-ffi");
  return flags;
}

/** Whether a runtime argument grants or denies permissions (and so is replaced). */
function isPermissionFlag(arg: string): boolean {
  return /^(-A|--allow-all|-P|--permission-set|--(allow|deny)-[a-z-]+)(=.*)?$/.test(arg) ||
    /^-P./.test(arg);
}

/**
 * The argv that runs the same runtime, with the same runtime flags, on the same main module with
 * `scriptArgs`, but granted only `flags`: `argv` is the process's own command line
 * (`/proc/self/cmdline`), whose last `argsCount` entries are the script's arguments and the one
 * before them the main module. Its permission flags (`-P=…`, `-A`, `--allow-…`, `--deny-…`) are
 * dropped, `flags` go before the main module.
 */
export function narrowedArgv(
  argv: readonly string[],
  argsCount: number,
  opts: { flags: readonly string[]; scriptArgs: readonly string[] },
): string[] {
  const script = argv.length - argsCount - 1;
  if (script < 2 || argv[1] !== "run") {
    throw new RangeError(
      `expected 'deno run … MODULE ${argsCount} arguments', found ${JSON.stringify(argv)}`,
    );
  }
  const runtime: string[] = [];
  const before = argv.slice(2, script);
  for (let i = 0; i < before.length; i++) {
    const arg = before[i]!;
    if (arg === "-P" || arg === "--permission-set") {
      i++; // its value is the next argument
      continue;
    }
    if (!isPermissionFlag(arg)) runtime.push(arg);
  }
  return [argv[0]!, "run", ...runtime, ...opts.flags, argv[script]!, ...opts.scriptArgs];
}

/** Old space added with `[fleet]`: within the `FLEET_RUNTIME_MB` its client is given. */
export const FLEET_HEAP_MB = 16;

/**
 * `argv` with the old-space cap of its `--v8-flags=` (`--max-old-space-size=N`) raised by `mb`
 * MiB; unchanged when it sets none. The fleet's NATS client needs heap beyond the old space the
 * daemon's live data leaves room for (a daemon reconnecting and replaying the stream died of
 * "Reached heap limit" at 12), and its room is already reserved beside the table
 * (`FLEET_RUNTIME_MB`).
 */
export function withOldSpaceRaised(argv: readonly string[], mb: number): string[] {
  return argv.map((arg) =>
    arg.startsWith("--v8-flags=")
      ? arg.replace(
        /--max-old-space-size=(\d+)/,
        (_, n: string) => `--max-old-space-size=${Number(n) + mb}`,
      )
      : arg
  );
}

/**
 * The environment of the narrowing re-exec: `env` with `MALLOC_ARENA_MAX=1`, so that glibc gives
 * the new image's threads (tokio's, V8's, the Worker's) one shared malloc arena from their start;
 * `shareMallocArenas()` can only do that for threads created after it runs. Measured idle VmRSS
 * of a one-jail daemon: 76.1 MiB without, 72.6–73.1 with (docs/performance.md).
 */
export function narrowedEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return { ...env, MALLOC_ARENA_MAX: "1" };
}

/**
 * What `set` asks for that this process was not granted (`Deno.permissions.querySync`), as
 * `NAME PATH` lines; empty when everything is granted.
 */
export function ungranted(set: PermissionSet): string[] {
  const out: string[] = [];
  const ask = (desc: Deno.PermissionDescriptor, label: string) => {
    if (Deno.permissions.querySync(desc).state !== "granted") out.push(label);
  };
  for (const path of set.read) ask({ name: "read", path }, `read ${path}`);
  for (const path of set.write) ask({ name: "write", path }, `write ${path}`);
  for (const host of set.net) ask({ name: "net", host }, `net ${host}`);
  for (const variable of set.env) ask({ name: "env", variable }, `env ${variable}`);
  for (const kind of set.sys) {
    ask(
      { name: "sys", kind: kind as NonNullable<Deno.SysPermissionDescriptor["kind"]> },
      `sys ${kind}`,
    );
  }
  for (const command of set.run) ask({ name: "run", command }, `run ${command}`);
  if (set.ffi) ask({ name: "ffi" }, "ffi");
  return out;
}
