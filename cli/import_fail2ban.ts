/** `fail2zig import-fail2ban [DIR]` and `fail2zig import-fail2ban --bans [DB]`. @module */
import { DEFAULT_CONFIG, Exit, parseFlags, revokeExcept, UsageError } from "./_cli.ts";
import {
  convertBans,
  DEFAULT_FAIL2BAN_DB,
  denoFileReader,
  importFail2ban,
  mergeBans,
  readFail2banBans,
  type TargetJail,
} from "../src/import/mod.ts";
import { ConfigError, formatIssue, loadConfig } from "../src/config/mod.ts";
import { parentDir, type StateBan, type StateInput, StateStore } from "../src/state/mod.ts";

/** Where fail2ban keeps its configuration. */
const DEFAULT_DIR = "/etc/fail2ban";

/** The `--help` text (also the command's section of fail2zig(8)). */
export const USAGE = `usage: fail2zig import-fail2ban [DIR]
       fail2zig import-fail2ban --bans [DB] [--config FILE] [--force]

Reads the fail2ban configuration in DIR (default ${DEFAULT_DIR}): jail.conf, jail.d/*.conf,
jail.local, jail.d/*.local and the files they include, in fail2ban's order. Prints a fail2zig
config on stdout: [defaults] from [DEFAULT], one [jails.NAME] per enabled jail; jails that cannot
be imported (an unknown filter, say) are written commented out with the reason. Warnings go to
stderr. When DIR is this host's own (the default), a jail with backend = auto whose every log
file is absent here reads the journal instead, as Debian's sshd_backend = systemd does; another
DIR may describe another host and keeps its logpaths. Exits 0, or 1 when DIR holds no jail.conf.
Save the output and check it with 'fail2zig config check --config FILE'.

With --bans, carries fail2ban's active bans from its database DB (default
${DEFAULT_FAIL2BAN_DB}, the bips table) into the state file of the fail2zig config
(--config, default ${DEFAULT_CONFIG}), for the daemon to restore when it starts. Stop fail2ban
first (systemctl stop fail2ban: bans it makes later are not carried), install the imported config,
then run this before starting fail2zig. Ended bans are skipped, permanent ones stay permanent; a
ban goes to the enabled fail2zig jail of the same name (or the name the import gave the jail), and
bans of fail2ban jails without one are left out and counted. Refuses while a fail2zig daemon
answers on the config's socket_path, and refuses an existing state file unless --force, which
keeps its records and adds the imported bans. Exits 0, or 1 when nothing was written.`;

/** Whether `path` exists on this host (a log file the imported config would read). */
async function logExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false;
    throw e;
  }
}

/** Prints the translated config; returns 0, or 1 when the directory has no jail.conf. */
export async function main(args: string[]): Promise<number> {
  const bans = args.includes("--bans");
  // --bans: net only to probe the control sockets (Deno counts a Unix connect as net); revoked
  // right after the probe.
  await revokeExcept(bans ? ["read", "write", "net"] : ["read"]);
  const flags = parseFlags(args, {
    bans: { type: "boolean" },
    config: { type: "string", short: "c" },
    force: { type: "boolean" },
  }, USAGE);
  if (flags === null) return Exit.OK;
  if (flags.values["bans"]) return await importBans(flags.positionals, flags.values);
  if (flags.values["config"] !== undefined || flags.values["force"]) {
    throw new UsageError("--config and --force go with --bans");
  }
  if (flags.positionals.length > 1) {
    throw new UsageError(
      `expected at most one directory, found ${flags.positionals.length} arguments`,
    );
  }
  const dir = flags.positionals[0] ?? DEFAULT_DIR;
  if (dir === "") throw new UsageError("DIR must not be empty");
  try {
    const own = dir.replace(/(.)\/+$/, "$1") === DEFAULT_DIR;
    const result = await importFail2ban(dir, {
      reader: denoFileReader(),
      ...(own ? { logExists } : {}),
    });
    for (const w of result.warnings) console.error(`fail2zig import-fail2ban: warning: ${w}`);
    await writeAll(result.toml);
    console.error(
      `fail2zig import-fail2ban: ${result.imported.length} jails imported, ${result.skipped.length} commented out`,
    );
    return Exit.OK;
  } catch (e) {
    // A missing jail.conf (NoJailConfError), an unreadable or oversized file: say which, exit 1.
    if (e instanceof Error) {
      console.error(`fail2zig import-fail2ban: ${e.message}`);
      return Exit.FAILED;
    }
    throw e;
  }
}

async function writeAll(text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  for (let off = 0; off < bytes.length;) off += await Deno.stdout.write(bytes.subarray(off));
}

const say = (text: string) => console.error(`fail2zig import-fail2ban: ${text}`);

/** `--bans [DB]`: fail2ban's active bans into the config's state file. */
async function importBans(
  positionals: string[],
  values: Record<string, string | boolean | undefined>,
): Promise<number> {
  if (positionals.length > 1) {
    throw new UsageError(`expected at most one database, found ${positionals.length} arguments`);
  }
  const db = positionals[0] ?? DEFAULT_FAIL2BAN_DB;
  const configPath = String(values["config"] ?? DEFAULT_CONFIG);
  if (db === "" || configPath === "") throw new UsageError("DB and --config must not be empty");
  let config;
  try {
    config = await loadConfig(configPath, { checkLogpaths: false });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const issue of e.errors) console.error(formatIssue(issue));
    say(`${configPath}: not a valid config: nothing written`);
    return Exit.FAILED;
  }
  const { socketPath, stateFile } = config.global;
  if (await answers(socketPath)) {
    say(
      `a fail2zig daemon answers on ${socketPath}: stop it first (it rewrites ${stateFile}); nothing written`,
    );
    return Exit.FAILED;
  }
  if (!values["force"] && await exists(stateFile)) {
    say(
      `${stateFile} exists: --force keeps its records and adds the imported bans; nothing written`,
    );
    return Exit.FAILED;
  }
  if (await answers("/run/fail2ban/fail2ban.sock")) {
    say("warning: fail2ban is running: bans it makes from now on are not carried; stop it first");
  }
  await Deno.permissions.revoke({ name: "net" });
  let rows;
  try {
    rows = await readFail2banBans(db);
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    say(`${db}: ${e.message.startsWith(db) ? e.message.slice(db.length + 2) : e.message}`);
    return Exit.FAILED;
  }
  const jails = new Map<string, TargetJail>(
    config.jails.filter((j) => j.enabled).map((j) => [j.name, j]),
  );
  const now = Date.now();
  const converted = convertBans(rows, jails, now);
  const written = await writeBans(stateFile, converted.bans, now);
  const permanent = converted.bans.filter((b) => b.expiresAt === null).length;
  say(
    `${converted.bans.length} active bans (${permanent} permanent) written to ${stateFile}` +
      `${written.kept ? " beside its records" : ""}; ${converted.expired} ended bans skipped`,
  );
  for (const [reason, n] of converted.leftOut) say(`warning: ${n} bans left out: ${reason}`);
  for (const s of written.skipped) say(`warning: not written: ${s}`);
  return Exit.OK;
}

/** True when something accepts connections on the Unix socket `path`. */
async function answers(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) throw e; // a probe that cannot run proves nothing
    return false; // no socket, nobody listening, or not ours to reach
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Writes the bans with the state store (atomic, mode 0600), after the records of the state file
 * already there (`--force`); an existing ban of the same jail and address is kept unless the
 * imported one lasts longer. Creates the state directory (0700) when missing.
 */
async function writeBans(
  path: string,
  bans: readonly StateBan[],
  now: number,
): Promise<{ kept: boolean; skipped: string[] }> {
  await Deno.mkdir(parentDir(path), { recursive: true, mode: 0o700 });
  const skipped: string[] = [];
  const store = new StateStore(path, {
    saveIntervalMs: 0,
    collect: () => state,
    onError: () => {},
  });
  const loaded = store.load();
  if (loaded.status === "discarded") {
    skipped.push(`the existing state file: ${loaded.reason} (moved to ${loaded.movedTo ?? "-"})`);
  }
  const old = loaded.status === "loaded" ? loaded.state : undefined;
  const state: StateInput = {
    savedAt: now,
    bans: mergeBans(old?.bans ?? [], bans),
    history: old?.history ?? [],
    failures: old?.failures ?? [],
    positions: old?.positions ?? [],
    ignores: old?.ignores ?? [],
  };
  store.scheduleSave();
  await store.close();
  return { kept: old !== undefined, skipped };
}
