/**
 * `fail2zig client`: talks to a running daemon over its control socket. Keeps only read (the
 * config), env (`FAIL2ZIG_SOCKET`) and ffi (the `AF_UNIX` socket); every other permission is
 * revoked first, env once read, and read too once the socket path is known.
 * @module
 */
import {
  DEFAULT_CONFIG,
  Exit,
  type ExitCode,
  parseFlags,
  revokeExcept,
  UsageError,
  VERSION,
} from "./_cli.ts";
import {
  ConfigError,
  formatDuration,
  formatIssue,
  parseConfig,
  parseDuration,
  readConfigText,
  socketPathOf,
} from "../src/config/mod.ts";
import {
  DEFAULT_SOCKET_PATH,
  IpcClient,
  IpcConnectError,
  IpcProtocolError,
  MAX_HISTORY_RECORDS,
  MAX_REQUEST_IPS,
  type Reply,
} from "../src/ipc/mod.ts";

/** The `--help` text (also the command's section of fail2zig(8)). */
export const USAGE =
  `usage: fail2zig client [--socket PATH | --config PATH] [--output table|json] CMD

commands:
  status                          the daemon's state
  status JAIL                     one jail's counters
  jails                           configured jails
  list [--jail J] [--ip IP]       active bans (of one jail, covering one address)
  banned IP…                      which jails ban each address
  ban IP --jail J [--duration D]  ban an address (D: seconds, "1h30m" or "permanent";
                                  default: the jail's bantime)
  unban IP… [--jail J]            lift bans (in every jail unless --jail)
  unban --all                     lift every ban
  ignore add ADDR|CIDR [--jail J] never count or ban it (every jail unless --jail); lifts its
                                  bans; kept in the state file across restarts
  ignore del ADDR|CIDR [--jail J] remove an entry that ignore add made
  ignore list [--jail J]          entries made by ignore add (with --jail: also the config's)
  jail stop J                     lift the jail's bans and stop counting (until start or reload)
  jail start J                    count again
  history IP [--limit N]          the address's bans and unbans from the audit log (and its
                                  rotated segments): the newest N (default and most
                                  ${MAX_HISTORY_RECORDS}), newest last
  reload                          re-read the config (validated first; on error nothing changes)
  version                         the daemon's version
  ping                            check that the daemon answers

fail2ban-client's forms, also accepted (the same requests as the commands above):
  set JAIL banip IP               ban IP --jail JAIL
  set JAIL unbanip IP…            unban IP… --jail JAIL
  set JAIL addignoreip ADDR       ignore add ADDR --jail JAIL (delignoreip: ignore del)
  get JAIL banned                 list --jail JAIL (also get JAIL banip)
  get JAIL ignoreip               ignore list --jail JAIL
  stop JAIL, start JAIL           jail stop JAIL, jail start JAIL
  banned                          list (every active ban)

options:
  --socket PATH    control socket; else $FAIL2ZIG_SOCKET, else socket_path of the config (read
                   even when the config does not validate), else ${DEFAULT_SOCKET_PATH}
  --config PATH    read socket_path from this config (default ${DEFAULT_CONFIG})
  --output FORMAT  table (default) or json: the reply object, one line; errors as
                   {"error":{"code","message"}} on stdout

exit codes: 0 ok, 1 the daemon said no, 2 usage, 3 daemon unreachable or refused`;

/** The client's commands (first words), for shell completion; each appears in `USAGE`. */
export const CLIENT_COMMANDS = [
  "status",
  "jails",
  "list",
  "banned",
  "ban",
  "unban",
  "ignore",
  "jail",
  "history",
  "reload",
  "version",
  "ping",
  "set",
  "get",
  "stop",
  "start",
] as const;

/** Client-side error codes under `--output json` (beside the daemon's reply codes). */
export type ClientErrorCode = "usage" | "unreachable" | "config";

/** Runs one client command; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const json = wantsJson(args);
  try {
    return await run(args, json);
  } catch (e) {
    if (e instanceof UsageError && json) return fail(true, "usage", e.message, Exit.USAGE);
    throw e;
  }
}

async function run(args: string[], json: boolean): Promise<number> {
  await revokeExcept(["read", "ffi", "env"]);
  const fromEnv = Deno.env.get(SOCKET_ENV) ?? "";
  await Deno.permissions.revoke({ name: "env" });
  const flags = parseFlags(args, {
    socket: { type: "string" },
    config: { type: "string" },
    output: { type: "string" },
    jail: { type: "string" },
    duration: { type: "string" },
    ip: { type: "string" },
    all: { type: "boolean" },
    limit: { type: "string" },
  }, USAGE);
  if (flags === null) return Exit.OK;
  const v = flags.values;
  const output = (v.output as string | undefined) ?? "table";
  if (output !== "table" && output !== "json") {
    throw new UsageError(`--output must be table or json, found ${output}`);
  }
  if (v.socket !== undefined && v.config !== undefined) {
    throw new UsageError("give --socket or --config, not both");
  }
  const native = nativeForm(flags.positionals, v.jail as string | undefined);
  const request = buildRequest(native.pos, {
    jail: native.jail,
    duration: v.duration as string | undefined,
    ip: v.ip as string | undefined,
    all: v.all === true,
    limit: v.limit as string | undefined,
  });

  const found = await resolveSocket(
    v.socket as string | undefined,
    fromEnv,
    v.config as
      | string
      | undefined,
  );
  if ("error" in found) return fail(json, "config", found.error, Exit.FAILED);
  if (found.warning !== undefined) console.error(`fail2zig client: warning: ${found.warning}`);
  await Deno.permissions.revoke({ name: "read" }); // from here on: the socket only (ffi)

  let reply: Reply;
  let client: IpcClient | null = null;
  try {
    client = await IpcClient.connect(found.path);
    reply = await client.request(request);
  } catch (e) {
    if (e instanceof IpcConnectError || e instanceof IpcProtocolError) {
      return fail(json, "unreachable", e.message, Exit.UNREACHABLE);
    }
    throw e;
  } finally {
    client?.close();
  }

  if (!reply.ok) {
    if (reply.code === "unauthorized") {
      return fail(
        json,
        reply.code,
        `not authorised by the daemon: ${reply.error}`,
        Exit.UNREACHABLE,
      );
    }
    return fail(json, reply.code, reply.error, Exit.FAILED, `${reply.code}: `);
  }
  const { ok: _ok, ...body } = reply;
  if (output === "json") {
    console.log(JSON.stringify(body));
  } else {
    console.log(renderTable(request.cmd, body));
  }
  return Exit.OK;
}

/** Environment variable naming the control socket (after `--socket`, before the config). */
export const SOCKET_ENV = "FAIL2ZIG_SOCKET";

/** True when the command line asks for JSON output (looked at before flags are parsed). */
function wantsJson(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--") return false;
    if (args[i] === "--output=json" || (args[i] === "--output" && args[i + 1] === "json")) {
      return true;
    }
  }
  return false;
}

/**
 * Reports an error: `{"error":{"code","message"}}` on stdout under `--output json`, else
 * `fail2zig client: PREFIXmessage` on stderr (control characters escaped); returns `exit`.
 */
function fail(
  json: boolean,
  code: string,
  message: string,
  exit: ExitCode,
  prefix = "",
): ExitCode {
  if (json) console.log(JSON.stringify({ error: { code, message } }));
  else console.error(`fail2zig client: ${prefix}${clean(message).replaceAll("\\x0a", "\n")}`);
  return exit;
}

interface Request {
  v: 1;
  cmd: string;
  [field: string]: unknown;
}

type Option = "jail" | "duration" | "all" | "ip" | "limit";

/** fail2ban-client's `set JAIL KEY …` and `get JAIL KEY` forms: the native command words. */
const FAIL2BAN_KEYS: Record<"set" | "get", Record<string, string[]>> = {
  set: {
    banip: ["ban"],
    unbanip: ["unban"],
    addignoreip: ["ignore", "add"],
    delignoreip: ["ignore", "del"],
  },
  get: { banned: ["list"], banip: ["list"], ignoreip: ["ignore", "list"] },
};

/**
 * Rewrites fail2ban-client's forms (`set JAIL banip IP`, `get JAIL banned`, `stop JAIL`, a bare
 * `banned`, …) into the native command, so an administrator's habits and scripts keep working and
 * both spellings are checked and sent by the same code. `stop` and `start` without a jail are
 * fail2ban's server commands, which systemd does here.
 */
function nativeForm(
  pos: string[],
  jail: string | undefined,
): { pos: string[]; jail: string | undefined } {
  const [cmd, ...rest] = pos;
  if (cmd === "banned" && rest.length === 0) return { pos: ["list"], jail };
  if (cmd === "stop" || cmd === "start") {
    if (rest.length === 0) {
      throw new UsageError(
        `'${cmd}' needs a JAIL; the daemon itself is started and stopped by systemctl ${cmd} fail2zig`,
      );
    }
    return { pos: ["jail", cmd, ...rest], jail };
  }
  if (cmd !== "set" && cmd !== "get") return { pos, jail };
  const [name, key, ...args] = rest;
  const keys = FAIL2BAN_KEYS[cmd];
  const words = key !== undefined && Object.hasOwn(keys, key) ? keys[key] : undefined;
  if (name === undefined || words === undefined) {
    throw new UsageError(
      `'${cmd} JAIL KEY' takes KEY ${Object.keys(keys).join(", ")}` +
        (key === undefined ? "" : `, found ${key}`) +
        "; the rest of fail2ban-client's settings are the config's (docs/migration.md)",
    );
  }
  if (jail !== undefined) throw new UsageError(`'${cmd}' names the jail already; drop --jail`);
  return { pos: [...words, ...args], jail: name };
}

/** Maps the command line to a request; throws `UsageError` for anything off. */
function buildRequest(
  pos: string[],
  opt: {
    jail: string | undefined;
    duration: string | undefined;
    ip: string | undefined;
    all: boolean;
    limit: string | undefined;
  },
): Request {
  const [cmd, ...rest] = pos;
  const only = (allowed: Option[]) => {
    for (const k of ["jail", "duration", "all", "ip", "limit"] as const) {
      if (!allowed.includes(k) && (k === "all" ? opt.all : opt[k] !== undefined)) {
        throw new UsageError(`--${k} does not apply to '${cmd}'`);
      }
    }
  };
  const args = (n: number, what: string) => {
    if (rest.length !== n) {
      throw new UsageError(
        `'${cmd}' takes ${n === 0 ? "no arguments" : what}, found ${rest.length} argument(s)`,
      );
    }
  };
  const someIps = () => {
    if (rest.length === 0) throw new UsageError(`'${cmd}' needs at least one IP`);
    if (rest.length > MAX_REQUEST_IPS) {
      throw new UsageError(`'${cmd}' takes at most ${MAX_REQUEST_IPS} IPs, found ${rest.length}`);
    }
  };
  const withJail = (req: Request): Request =>
    opt.jail === undefined ? req : { ...req, jail: opt.jail };
  switch (cmd) {
    case undefined:
      throw new UsageError("missing command");
    case "status":
      only([]);
      if (rest.length === 0) return { v: 1, cmd: "status" };
      args(1, "at most one argument (JAIL)");
      return { v: 1, cmd: "status_jail", jail: rest[0] };
    case "jails":
    case "reload":
    case "version":
    case "ping":
      only([]);
      args(0, "");
      return { v: 1, cmd };
    case "list":
      only(["jail", "ip"]);
      args(0, "");
      return withJail(opt.ip === undefined ? { v: 1, cmd } : { v: 1, cmd, ip: opt.ip });
    case "banned":
      only([]);
      someIps();
      return { v: 1, cmd, ips: rest };
    case "ban": {
      only(["jail", "duration"]);
      args(1, "one argument (IP)");
      if (opt.jail === undefined) throw new UsageError("'ban' needs --jail J");
      const req: Request = { v: 1, cmd, ip: rest[0], jail: opt.jail };
      if (opt.duration !== undefined) req.duration_s = parseDurationArg(opt.duration);
      return req;
    }
    case "unban":
      only(["jail", "all"]);
      if (opt.all) {
        if (opt.jail !== undefined) throw new UsageError("--all and --jail exclude each other");
        args(0, "");
        return { v: 1, cmd: "unban_all" };
      }
      if (rest.length === 0) throw new UsageError("'unban' needs one or more IPs, or --all");
      someIps();
      return withJail(rest.length === 1 ? { v: 1, cmd, ip: rest[0] } : { v: 1, cmd, ips: rest });
    case "ignore": {
      const [sub, ...addr] = rest;
      if (sub === "list") {
        only(["jail"]);
        if (addr.length !== 0) throw new UsageError("'ignore list' takes no arguments");
        return withJail({ v: 1, cmd: "ignore_list" });
      }
      if (sub !== "add" && sub !== "del") {
        throw new UsageError(`'ignore' takes add, del or list, found ${sub ?? "nothing"}`);
      }
      only(["jail"]);
      if (addr.length !== 1) {
        throw new UsageError(`'ignore ${sub}' takes one ADDR or CIDR, found ${addr.length}`);
      }
      return withJail({ v: 1, cmd: `ignore_${sub}`, cidr: addr[0] });
    }
    case "jail": {
      const [sub, ...names] = rest;
      if (sub !== "stop" && sub !== "start") {
        throw new UsageError(`'jail' takes stop or start, found ${sub ?? "nothing"}`);
      }
      only([]);
      if (names.length !== 1) {
        throw new UsageError(`'jail ${sub}' takes one JAIL, found ${names.length}`);
      }
      return { v: 1, cmd: `jail_${sub}`, jail: names[0] };
    }
    case "history": {
      only(["limit"]);
      args(1, "one argument (IP)");
      const req: Request = { v: 1, cmd, ip: rest[0] };
      if (opt.limit !== undefined) {
        if (!/^[1-9]\d*$/.test(opt.limit) || Number(opt.limit) > MAX_HISTORY_RECORDS) {
          throw new UsageError(`--limit must be 1..${MAX_HISTORY_RECORDS}, found ${opt.limit}`);
        }
        req.limit = Number(opt.limit);
      }
      return req;
    }
    default:
      throw new UsageError(`unknown client command '${cmd}'`);
  }
}

/** `--duration`: whole seconds, number+unit groups, or "permanent" (null). */
function parseDurationArg(text: string): number | null {
  if (/^\d+$/.test(text)) {
    const s = Number(text);
    if (s < 1) throw new UsageError(`--duration must be at least 1 second, found ${text}`);
    return s;
  }
  const r = parseDuration(text, { permanent: true });
  if (!r.ok) throw new UsageError(`--duration ${text}: ${r.reason}`);
  if (r.ms === null) return null;
  if (r.ms < 1000) throw new UsageError(`--duration must be at least 1s, found ${text}`);
  return Math.floor(r.ms / 1000);
}

/**
 * The control socket: `--socket`, else `$FAIL2ZIG_SOCKET`, else the config's `socket_path` —
 * read leniently, so that a config that does not validate (a bad edit) still yields it — else
 * the default. An explicit `--config` that cannot be read is an error; the default config may be
 * absent or unreadable to this user (the default socket then, with a warning when it exists).
 */
async function resolveSocket(
  flag: string | undefined,
  env: string,
  configFlag: string | undefined,
): Promise<{ path: string; warning?: string } | { error: string }> {
  if (flag !== undefined) return { path: flag };
  if (env !== "") return { path: env };
  const path = configFlag ?? DEFAULT_CONFIG;
  if (configFlag === undefined) {
    try {
      Deno.statSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return { path: DEFAULT_SOCKET_PATH };
    }
  }
  let text: string;
  try {
    text = await readConfigText(path);
  } catch (e) {
    const why = (e as Error).message;
    if (configFlag !== undefined) return { error: `cannot take socket_path from ${path}:\n${why}` };
    return { path: DEFAULT_SOCKET_PATH, warning: `${why}; using ${DEFAULT_SOCKET_PATH}` };
  }
  try {
    return { path: parseConfig(text, path).global.socketPath };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const socket = socketPathOf(text) ?? DEFAULT_SOCKET_PATH;
    const first = e.errors[0];
    const more = e.errors.length > 1 ? ` (and ${e.errors.length - 1} more)` : "";
    return {
      path: socket,
      warning: `${path} does not validate: ${first ? formatIssue(first) : e.message}${more}; ` +
        `using socket ${socket} (fail2zig config check shows every problem)`,
    };
  }
}

// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;

/** Escapes control characters so that nothing the daemon echoes can drive the terminal. */
function clean(text: unknown): string {
  return String(text).replace(
    CONTROL_CHARS,
    (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

function seconds(s: unknown): string {
  if (s === null) return "permanent";
  return typeof s === "number" ? formatDuration(s * 1000) : clean(s);
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return [line(headers), ...rows.map(line)].join("\n");
}

function pairs(entries: [string, unknown][]): string {
  const w = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${(k + ":").padEnd(w + 1)} ${clean(v)}`).join("\n");
}

function rows(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
}

/** A first line saying the reply lists only `shown` of its `total` entries, or "". */
function truncatedNote(b: Record<string, unknown>, shown: number, what: string): string {
  return b.truncated === true ? `${clean(b.total)} ${what} ${shown} are listed\n` : "";
}

/** One line per lifted ban of `b.unbanned` (with the truncation note), or `none`. */
function unbannedLines(b: Record<string, unknown>, none: string): string {
  const un = rows(b.unbanned);
  if (un.length === 0) return none;
  return truncatedNote(b, un.length, "unbanned; the first") +
    un.map((u) => `unbanned ${clean(u.ip)} (${clean(u.jail)})`).join("\n");
}

/** The `history` reply as a table, newest last. */
function historyTable(b: Record<string, unknown>): string {
  const recs = rows(b.records);
  if (recs.length === 0) return `no audit records of ${clean(b.ip)}`;
  return truncatedNote(b, recs.length, "records; the newest") + table(
    ["TIME", "EVENT", "ADDRESS", "JAIL", "DURATION", "REASON", "ORIGIN"],
    recs.map((r) => [
      clean(r.ts),
      clean(r.event),
      clean(r.ip ?? ""),
      clean(r.jail ?? ""),
      r.event === "ban" && r.duration_s !== undefined ? seconds(r.duration_s) : "",
      clean(r.reason ?? ""),
      clean(r.origin ?? ""),
    ]),
  );
}

/** The `status` line of the fleet link: state, server, outbox and counters. */
function fleetLine(f: Record<string, unknown>): [string, unknown] {
  return [
    "fleet",
    `${clean(f.state)} ${clean(f.server)} as ${clean(f.name)}; outbox ${clean(f.outbox)} ` +
    `(${clean(f.outbox_dropped)} dropped), published ${clean(f.published)}, received ` +
    `${clean(f.received)}, applied ${clean(f.applied)}, rejected ${clean(f.dropped)}`,
  ];
}

/** Human rendering of a reply body for a terminal. */
export function renderTable(cmd: string, b: Record<string, unknown>): string {
  switch (cmd) {
    case "status":
      return pairs([
        ["version", b.version],
        ["uptime", seconds(b.uptime_s)],
        ["backend", b.backend],
        ["degraded", b.degraded ? "YES" : "no"],
        ["memory", `${Math.round(Number(b.memory_bytes) / 1048576)} MiB`],
        ["tracked", b.tracked],
        ["active bans", b.active_bans],
        ["jails", Array.isArray(b.jails) ? b.jails.join(", ") : ""],
        ...(typeof b.fleet === "object" && b.fleet !== null
          ? [fleetLine(b.fleet as Record<string, unknown>)]
          : []),
      ]);
    case "status_jail":
      return pairs([
        ["jail", b.jail],
        ["filter", b.filter],
        ["sources", Array.isArray(b.sources) ? b.sources.join(", ") : ""],
        ["lines", b.lines_total],
        ["ambiguous lines", b.ambiguous_total],
        ["failures", b.failures_total],
        ["currently failed", b.currently_failed],
        ["bans", b.bans_total],
        ["active bans", b.active_bans],
        ["stopped", b.stopped === true ? "YES (client jail start J resumes)" : "no"],
        ["ports", b.ports],
      ]);
    case "jails":
      return table(
        ["JAIL", "ENABLED", "FILTER", "MAXRETRY", "FINDTIME", "BANTIME", "ACTIVE"],
        rows(b.jails).map((j) => [
          clean(j.name),
          !j.enabled ? "no" : j.stopped === true ? "stopped" : "yes",
          clean(j.filter),
          clean(j.maxretry),
          seconds(j.findtime_s),
          seconds(j.bantime_s),
          clean(j.active_bans),
        ]),
      );
    case "list": {
      const bans = rows(b.bans);
      if (bans.length === 0) return "no active bans";
      return truncatedNote(b, bans.length, "active; the newest") + table(
        ["ADDRESS", "JAIL", "BANNED AT", "EXPIRES AT", "REMAINING", "BANS"],
        bans.map((x) => [
          clean(x.prefix === 32 || x.prefix === 128 ? x.ip : `${x.ip}/${x.prefix}`),
          clean(typeof x.origin === "string" ? `${x.jail} (${x.origin})` : x.jail),
          clean(x.banned_at),
          x.expires_at === null ? "never" : clean(x.expires_at),
          seconds(x.remaining_s),
          clean(x.ban_count),
        ]),
      );
    }
    case "ban":
      return `banned ${clean(b.ip)} in ${clean(b.jail)} ${
        b.duration_s === null ? "permanently" : `for ${seconds(b.duration_s)}`
      }`;
    case "unban":
    case "unban_all": {
      const missed = Array.isArray(b.not_banned) && b.not_banned.length > 0
        ? `\nnot banned: ${b.not_banned.map(clean).join(", ")}`
        : "";
      return unbannedLines(b, "nothing to unban") + missed;
    }
    case "banned":
      return table(
        ["ADDRESS", "BANNED IN"],
        rows(b.banned).map((x) => [
          clean(x.ip),
          Array.isArray(x.jails) && x.jails.length > 0
            ? x.jails.map(clean).join(", ")
            : "(not banned)",
        ]),
      );
    case "ignore_add":
    case "ignore_del": {
      const e = (b.ignore ?? {}) as Record<string, unknown>;
      const where = e.jail === null || e.jail === undefined
        ? "in every jail"
        : `in jail ${clean(e.jail)}`;
      if (cmd === "ignore_del") return `no longer ignoring ${clean(e.cidr)} ${where}`;
      return `ignoring ${clean(e.cidr)} ${where}\n${unbannedLines(b, "no bans to lift")}`;
    }
    case "ignore_list": {
      const list = rows(b.ignore);
      if (list.length === 0) return "no ignore entries";
      return table(
        ["ADDRESS/CIDR", "JAIL", "SOURCE"],
        list.map((e) => [
          clean(e.cidr),
          e.jail === null ? "(every jail)" : clean(e.jail),
          clean(e.source),
        ]),
      );
    }
    case "jail_stop":
      return `stopped jail ${clean(b.jail)}\n${unbannedLines(b, "no bans to lift")}`;
    case "jail_start":
      return `started jail ${clean(b.jail)}`;
    case "history":
      return historyTable(b);
    case "reload":
      return `reloaded; jails: ${Array.isArray(b.jails) ? clean(b.jails.join(", ")) : ""}`;
    case "version":
      return `daemon: fail2zig ${clean(b.version)}\nclient: fail2zig ${VERSION}`;
    case "ping":
      return "pong";
    default:
      return clean(JSON.stringify(b));
  }
}
