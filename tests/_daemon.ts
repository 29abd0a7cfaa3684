/**
 * Test harness: starts the real daemon (`mod.ts daemon` under the `daemon` permission set, exactly
 * as `deno task fail2zig` runs it) on a private temp config, and collects its records.
 * @module
 */
import { join } from "node:path";
import { daemonRunArgs } from "../scripts/_daemon_argv.ts";
import { IpcClient } from "../src/ipc/mod.ts";
import { decodeState, type StateData } from "../src/state/mod.ts";
import type { Netns } from "./_netns.ts";
import { waitUntil } from "./_wait.ts";
import { fileURLToPath } from "node:url";

/** Project root. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** How long `stop()` waits for the daemon to exit before killing it and failing. */
export const STOP_WAIT_MS = 15_000;

/** A JSON record printed by the daemon (stdout: ban records; stderr: operational log). */
export type DaemonRecord = Record<string, unknown>;

/** A running daemon with its collected records. */
export interface RunningDaemon {
  readonly dir: string;
  readonly config: string;
  readonly process: Deno.ChildProcess;
  /** Ban/unban records (stdout), in order. */
  readonly out: DaemonRecord[];
  /** Operational records (stderr), in order. */
  readonly err: DaemonRecord[];
  /** Non-JSON output lines, for diagnostics. */
  readonly raw: string[];
  /** Resolves when a record satisfying `pred` has arrived (stdout or stderr). */
  waitFor(pred: (r: DaemonRecord) => boolean, timeoutMs?: number): Promise<DaemonRecord>;
  /** Sends SIGTERM (or the given signal) and waits for the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

/**
 * Test-only hooks read from the test process's environment (never the daemon's):
 * `FAIL2ZIG_TEST_SECCOMP=enforce|log|off` runs every daemon of `startDaemon` with that `[global]
 * seccomp` (added to its config where the config does not set it; `privateGlobal` adds it too, so
 * configs rewritten for a reload keep it), and `FAIL2ZIG_TEST_STRACE=DIR` runs each under
 * `strace -D -f -c`, one syscall summary per daemon in DIR (scripts/seccomp_trace.ts).
 */
export const TEST_SECCOMP = Deno.env.get("FAIL2ZIG_TEST_SECCOMP") ?? "";
const TEST_STRACE = Deno.env.get("FAIL2ZIG_TEST_STRACE") ?? "";

/** The config text with `seccomp = TEST_SECCOMP` in `[global]`, unless it sets seccomp itself. */
export function withTestSeccomp(toml: string): string {
  const line = seccompHookLine(toml);
  if (line === "") return toml;
  const at = /^\[global\][ \t]*(#.*)?\n/m.exec(toml);
  if (at === null) return `[global]\n${line}${toml}`;
  const end = at.index + at[0].length;
  return toml.slice(0, end) + line + toml.slice(end);
}

/** The hook's `seccomp = …` line for a config that does not set seccomp itself, else "". */
function seccompHookLine(toml: string): string {
  return TEST_SECCOMP === "" || /^\s*seccomp\s*=/m.test(toml)
    ? ""
    : `seccomp = "${TEST_SECCOMP}"\n`;
}

/** `strace` in front of the daemon when `FAIL2ZIG_TEST_STRACE` is set (`-D`: same PID). */
function tracePrefix(): string[] {
  if (TEST_STRACE === "") return [];
  const out = join(TEST_STRACE, `trace-${Date.now()}-${crypto.randomUUID().slice(0, 8)}.txt`);
  return ["strace", "-D", "-f", "-c", "-U", "name,calls", "-o", out];
}

/** Writes `toml` as `config.toml` in a new temp dir (mode 0644) and returns both paths. */
export async function makeConfig(
  toml: (dir: string) => string,
): Promise<{ dir: string; config: string }> {
  const dir = await Deno.makeTempDir({ prefix: "fail2zig-test-" });
  const config = join(dir, "config.toml");
  await Deno.writeTextFile(config, toml(dir));
  await Deno.chmod(config, 0o644);
  return { dir, config };
}

/** A `[global]` section that keeps every path inside `dir` and the firewall log-only. */
export function privateGlobal(dir: string, extra = ""): string {
  return `[global]
socket_path = "${join(dir, "fail2zig.sock")}"
state_file = "${join(dir, "state.bin")}"
audit_log = "${join(dir, "audit.log")}"
metrics_bind = ""
firewall = "log-only"
${seccompHookLine(extra)}${extra}
`;
}

/**
 * A `[jails.sshd]` section tailing `DIR/auth.log`; `settings` are its other keys, one per line.
 */
export function sshdJail(
  dir: string,
  settings = 'maxretry = 5\nfindtime = "10m"\nbantime = "10m"',
): string {
  return `[jails.sshd]
filter = "sshd"
logpath = "${join(dir, "auth.log")}"
${settings}
`;
}

/**
 * The i-th address of a flood: three in four IPv4, one in four IPv6, all distinct for
 * i < 2^26, never loopback or private.
 */
export function floodIp(i: number): string {
  return i % 4 === 0
    ? `2001:db8:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`
    : `${11 + (i >>> 22)}.${(i >>> 14) & 255}.${(i >>> 6) & 255}.${(i & 63) + 1}`;
}

/** One control-socket request; throws unless the reply is `ok`. */
export async function request(
  socket: string,
  cmd: Record<string, unknown>,
): Promise<Record<string, number>> {
  const c = await IpcClient.connect(socket);
  try {
    const r = await c.request(cmd);
    if (!r.ok) throw new Error(`${JSON.stringify(cmd)} failed: ${JSON.stringify(r)}`);
    return r as unknown as Record<string, number>;
  } finally {
    c.close();
  }
}

/**
 * The `Vm*`, `RssAnon` and `RssFile` lines of `/proc/PID/status`, in bytes (through `cat`: Deno
 * gates /proc behind --allow-all).
 */
export async function procStatus(pid: number): Promise<Record<string, number>> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stderr: "null" })
    .output();
  const result: Record<string, number> = {};
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const m = /^(Vm\w+|RssAnon|RssFile):\s+(\d+) kB/.exec(line);
    if (m) result[m[1]!] = Number(m[2]) * 1024;
  }
  return result;
}

/**
 * Runs `fail2zig ARGS` from source as its own process, as a user would (`deno run -P=daemon
 * mod.ts …`, in the project root), feeding `stdin` when given; `env` is added to the inherited
 * environment (a variable set to `""` is removed).
 */
export async function fail2zig(
  args: readonly string[],
  stdin?: string,
  opts: { env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const extra = opts.env ?? {};
  const inherited = Deno.env.toObject();
  for (const [k, v] of Object.entries(extra)) {
    if (v === "") delete inherited[k];
    else inherited[k] = v;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", `--config=${join(ROOT, "deno.json")}`, "-P=daemon", "mod.ts", ...args],
    cwd: ROOT,
    clearEnv: true,
    env: { ...inherited, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Starts the daemon on `config` and waits for its `ready` record. */
export async function startDaemon(
  dir: string,
  config: string,
  opts: {
    args?: string[];
    /** Runtime flags before the main module, e.g. `["--preload", FILE]`. @default [] */
    runFlags?: readonly string[];
    env?: Record<string, string>;
    readyTimeoutMs?: number;
    /**
     * Argv run in front of deno, e.g. `["ip", "netns", "exec", NS]` to start the daemon inside a
     * network namespace (the wrapper must exec deno, so signals reach the daemon). @default []
     */
    prefix?: readonly string[];
  } = {},
): Promise<RunningDaemon> {
  if (TEST_SECCOMP !== "") {
    const text = await Deno.readTextFile(config);
    const hooked = withTestSeccomp(text);
    if (hooked !== text) await Deno.writeTextFile(config, hooked);
  }
  const prefix = [...(opts.prefix ?? []), ...tracePrefix()];
  const process = new Deno.Command(prefix[0] ?? Deno.execPath(), {
    args: [
      ...(prefix.length > 0 ? [...prefix.slice(1), Deno.execPath()] : []),
      ...daemonRunArgs(config, opts.runFlags),
      ...(opts.args ?? []),
    ],
    stdout: "piped",
    stderr: "piped",
    env: opts.env ?? {},
  }).spawn();
  const out: DaemonRecord[] = [];
  const err: DaemonRecord[] = [];
  const raw: string[] = [];
  const waiters = new Set<
    { pred: (r: DaemonRecord) => boolean; resolve: (r: DaemonRecord) => void }
  >();
  const deliver = (into: DaemonRecord[]) => (line: string) => {
    let rec: DaemonRecord;
    try {
      rec = JSON.parse(line);
    } catch {
      raw.push(line);
      return;
    }
    into.push(rec);
    for (const w of waiters) {
      if (w.pred(rec)) {
        waiters.delete(w);
        w.resolve(rec);
      }
    }
  };
  const pumps = Promise.all([
    pump(process.stdout, deliver(out)),
    pump(process.stderr, deliver(err)),
  ]);
  let exited = false;
  const status = process.status.then(async (s) => {
    exited = true;
    await pumps;
    return s;
  });
  const waitFor = (
    pred: (r: DaemonRecord) => boolean,
    timeoutMs = 10_000,
  ): Promise<DaemonRecord> => {
    const seen = [...out, ...err].find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (r: DaemonRecord) => (clearTimeout(timer), resolve(r)) };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(
          new Error(
            `timed out waiting for a daemon record; stderr: ${JSON.stringify(err.slice(-5))} raw: ${
              raw.slice(-5).join(" | ")
            }`,
          ),
        );
      }, timeoutMs);
      waiters.add(w);
      status.then(() => {
        if (waiters.delete(w)) {
          clearTimeout(timer);
          reject(
            new Error(
              `daemon exited; stderr: ${JSON.stringify(err.slice(-5))} raw: ${
                raw.slice(-5).join(" | ")
              }`,
            ),
          );
        }
      });
    });
  };
  const daemon: RunningDaemon = {
    dir,
    config,
    process,
    out,
    err,
    raw,
    waitFor,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!exited) {
        try {
          process.kill(signal);
        } catch { /* already gone */ }
      }
      // A daemon that does not stop must fail the test, not hang the suite.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), STOP_WAIT_MS));
      const first = await Promise.race([status, late]);
      clearTimeout(timer);
      if (first === "late") {
        try {
          process.kill("SIGKILL");
        } catch { /* already gone */ }
        await status;
        throw new Error(
          `daemon did not stop within ${STOP_WAIT_MS} ms of ${signal}; stderr: ${
            JSON.stringify(err.slice(-5))
          }`,
        );
      }
      return first.code;
    },
  };
  try {
    await waitFor((r) => r["msg"] === "ready", opts.readyTimeoutMs ?? 15_000);
  } catch (e) {
    await daemon.stop("SIGKILL");
    throw e;
  }
  return daemon;
}

async function pump(
  stream: ReadableStream<Uint8Array>,
  each: (line: string) => void,
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let nl;
    while ((nl = rest.indexOf("\n")) >= 0) {
      each(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  }
  if (rest) each(rest);
}

/** Runs gen-logs.mjs (vendored copy) and returns the log text and its ground truth. */
export async function generateLog(
  opts: { service: string; lines: number; seed: number; dir: string; span?: number },
): Promise<{ path: string; truth: { mustBan: string[]; neverBan: string[]; decoys: string[] } }> {
  const path = join(opts.dir, `gen-${opts.service}-${opts.seed}.log`);
  const truthPath = `${path}.truth.json`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "--allow-read",
      `--allow-write=${opts.dir}`,
      join(ROOT, "fixtures", "gen-logs.mjs"),
      "--service",
      opts.service,
      "--lines",
      String(opts.lines),
      "--seed",
      String(opts.seed),
      "--format",
      "iso",
      "--span",
      String(opts.span ?? 300),
      "--out",
      path,
      "--truth",
      truthPath,
    ],
    cwd: ROOT,
  }).output();
  if (!r.success) throw new Error(`gen-logs failed: ${new TextDecoder().decode(r.stderr)}`);
  return { path, truth: JSON.parse(await Deno.readTextFile(truthPath)) };
}

/** Appends text to a file in chunks of `linesPerChunk` lines with `pauseMs` between them. */
export async function appendSlowly(
  target: string,
  text: string,
  linesPerChunk = 200,
  pauseMs = 20,
): Promise<void> {
  const lines = text.split("\n").filter((l) => l.length > 0);
  const file = await Deno.open(target, { append: true, create: true });
  try {
    for (let i = 0; i < lines.length; i += linesPerChunk) {
      await file.write(
        new TextEncoder().encode(lines.slice(i, i + linesPerChunk).join("\n") + "\n"),
      );
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  } finally {
    file.close();
  }
}

/** What `fail2zig client --output json …` answered. */
export interface ClientResult {
  readonly code: number;
  /** The reply object printed on stdout, or null when nothing was printed. */
  readonly json: Record<string, unknown> | null;
  readonly err: string;
}

/** The command line of `fail2zig client --socket SOCKET --output json ARGS…` (run it anywhere). */
export function clientCommand(socket: string, args: readonly string[]): string[] {
  return [
    Deno.execPath(),
    "run",
    "-q",
    `--config=${join(ROOT, "deno.json")}`,
    "-P=daemon",
    join(ROOT, "mod.ts"),
    "client",
    "--socket",
    socket,
    "--output",
    "json",
    ...args,
  ];
}

/** Reads a client run's outcome from its exit code and output. */
export function clientResult(code: number, stdout: string, stderr: string): ClientResult {
  const out = stdout.trim();
  return { code, json: out ? JSON.parse(out) : null, err: stderr };
}

/** Runs `fail2zig client --socket SOCKET --output json ARGS…` here. */
export async function client(socket: string, ...args: string[]): Promise<ClientResult> {
  const [cmd, ...rest] = clientCommand(socket, args);
  const r = await new Deno.Command(cmd!, { args: rest, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return clientResult(r.code, dec.decode(r.stdout), dec.decode(r.stderr));
}

/** `fail2zig client --socket SOCKET --output json ARGS…` inside the network namespace `ns`. */
export async function nsClient(
  ns: Netns,
  socket: string,
  ...args: string[]
): Promise<ClientResult> {
  const r = await ns.exec(clientCommand(socket, args));
  return clientResult(r.code, r.stdout, r.stderr);
}

/**
 * Waits until the state file `path` decodes and `pred` holds of it (a save is announced by no
 * record): what a `kill -9` from then on cannot lose.
 */
export async function waitForSaved(
  path: string,
  what: string,
  pred: (state: StateData) => boolean,
): Promise<void> {
  await waitUntil(async () => {
    const bytes = await Deno.readFile(path).catch(() => null);
    const state = bytes === null ? null : decodeState(bytes);
    return state?.ok === true && pred(state.state);
  }, `${what} in ${path}`);
}

/** `waitForSaved` of a ban of `ip`. */
export function waitForSavedBan(path: string, ip: string): Promise<void> {
  return waitForSaved(path, `a saved ban of ${ip}`, (s) => s.bans.some((b) => b.ip === ip));
}
