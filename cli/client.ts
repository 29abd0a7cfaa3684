/**
 * `fail2zig client`: talks to a running daemon over its control socket. Keeps only read (the
 * config) and ffi (the `AF_UNIX` socket); every other permission is revoked first, and read too
 * once the socket path is known.
 * @module
 */
import { Exit, parseFlags, revokeExcept, UsageError, VERSION } from "./_cli.ts";
import { formatDuration, loadConfig, parseDuration } from "../src/config/mod.ts";
import {
  DEFAULT_SOCKET_PATH,
  IpcClient,
  IpcConnectError,
  IpcProtocolError,
  type Reply,
} from "../src/ipc/mod.ts";

const USAGE = `usage: fail2zig client [--socket PATH | --config PATH] [--output table|json] CMD

commands:
  status                          the daemon's state
  status JAIL                     one jail's counters
  jails                           configured jails
  list [--jail J]                 active bans
  ban IP --jail J [--duration D]  ban an address (D: seconds, "1h30m" or "permanent";
                                  default: the jail's bantime)
  unban IP [--jail J]             lift a ban (in every jail unless --jail)
  unban --all                     lift every ban
  reload                          re-read the config (validated first; on error nothing changes)
  version                         the daemon's version
  ping                            check that the daemon answers

options:
  --socket PATH    control socket (default: socket_path of the config, else ${DEFAULT_SOCKET_PATH})
  --config PATH    read socket_path from this config (default /etc/fail2zig/config.toml)
  --output FORMAT  table (default) or json: the reply object, one line

exit codes: 0 ok, 1 the daemon said no, 2 usage, 3 daemon unreachable or refused`;

const DEFAULT_CONFIG_PATH = "/etc/fail2zig/config.toml";

/** Runs one client command; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  await revokeExcept(["read", "ffi"]);
  const flags = parseFlags(args, {
    socket: { type: "string" },
    config: { type: "string" },
    output: { type: "string" },
    jail: { type: "string" },
    duration: { type: "string" },
    all: { type: "boolean" },
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
  const request = buildRequest(flags.positionals, {
    jail: v.jail as string | undefined,
    duration: v.duration as string | undefined,
    all: v.all === true,
  });

  let socketPath: string;
  if (typeof v.socket === "string") {
    socketPath = v.socket;
  } else {
    const found = await socketFromConfig(v.config as string | undefined);
    if (typeof found !== "string") {
      console.error(`fail2zig client: ${found.error}`);
      return Exit.FAILED;
    }
    socketPath = found;
  }
  await Deno.permissions.revoke({ name: "read" }); // from here on: the socket only (ffi)

  let reply: Reply;
  let client: IpcClient | null = null;
  try {
    client = await IpcClient.connect(socketPath);
    reply = await client.request(request);
  } catch (e) {
    if (e instanceof IpcConnectError) {
      console.error(`fail2zig client: ${e.message}`);
      return Exit.UNREACHABLE;
    }
    if (e instanceof IpcProtocolError) {
      console.error(`fail2zig client: ${e.message}`);
      return Exit.UNREACHABLE;
    }
    throw e;
  } finally {
    client?.close();
  }

  if (!reply.ok) {
    if (reply.code === "unauthorized") {
      console.error(`fail2zig client: not authorised by the daemon: ${clean(reply.error)}`);
      return Exit.UNREACHABLE;
    }
    console.error(`fail2zig client: ${reply.code}: ${clean(reply.error)}`);
    return Exit.FAILED;
  }
  const { ok: _ok, ...body } = reply;
  if (output === "json") {
    console.log(JSON.stringify(body));
  } else {
    console.log(renderTable(request.cmd, body));
  }
  return Exit.OK;
}

interface Request {
  v: 1;
  cmd: string;
  [field: string]: unknown;
}

/** Maps the command line to a request; throws `UsageError` for anything off. */
function buildRequest(
  pos: string[],
  opt: { jail: string | undefined; duration: string | undefined; all: boolean },
): Request {
  const [cmd, ...rest] = pos;
  const only = (allowed: ("jail" | "duration" | "all")[]) => {
    for (const k of ["jail", "duration", "all"] as const) {
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
      only(["jail"]);
      args(0, "");
      return opt.jail === undefined ? { v: 1, cmd } : { v: 1, cmd, jail: opt.jail };
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
      args(1, "one argument (IP), or --all");
      return opt.jail === undefined
        ? { v: 1, cmd, ip: rest[0] }
        : { v: 1, cmd, ip: rest[0], jail: opt.jail };
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

/** The socket path from `--config`, or from the default config when it is readable. */
async function socketFromConfig(path: string | undefined): Promise<string | { error: string }> {
  if (path === undefined) {
    try {
      Deno.statSync(DEFAULT_CONFIG_PATH);
    } catch {
      return DEFAULT_SOCKET_PATH; // no default config: the default socket
    }
    try {
      return (await loadConfig(DEFAULT_CONFIG_PATH)).global.socketPath;
    } catch {
      return DEFAULT_SOCKET_PATH; // unreadable by this user (or invalid): the default socket
    }
  }
  try {
    return (await loadConfig(path)).global.socketPath;
  } catch (e) {
    return { error: `cannot take socket_path from ${path}:\n${(e as Error).message}` };
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
      ]);
    case "status_jail":
      return pairs([
        ["jail", b.jail],
        ["filter", b.filter],
        ["sources", Array.isArray(b.sources) ? b.sources.join(", ") : ""],
        ["lines", b.lines_total],
        ["failures", b.failures_total],
        ["currently failed", b.currently_failed],
        ["bans", b.bans_total],
        ["active bans", b.active_bans],
      ]);
    case "jails":
      return table(
        ["JAIL", "ENABLED", "FILTER", "MAXRETRY", "FINDTIME", "BANTIME", "ACTIVE"],
        rows(b.jails).map((j) => [
          clean(j.name),
          j.enabled ? "yes" : "no",
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
          clean(x.jail),
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
      const un = rows(b.unbanned);
      if (un.length === 0) return "nothing to unban";
      return truncatedNote(b, un.length, "unbanned; the first") +
        un.map((u) => `unbanned ${clean(u.ip)} (${clean(u.jail)})`).join("\n");
    }
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
