/** `loadConfig(path)`: read, check permissions, parse, validate, check logpaths. @module */
import type { Config } from "./types.ts";
import { ConfigError, type ConfigIssue } from "./errors.ts";
import { checkConfigDirPermissions, checkConfigPermissions } from "./permissions.ts";
import { parseConfig } from "./parse.ts";
import { checkLogpaths } from "./_logpaths.ts";
import { checkActionPrograms } from "./_programs.ts";
import { locate } from "./_locate.ts";
import { filterWarnings, pathOwner } from "./_deps.ts";

/** Largest config file accepted (bytes). */
export const MAX_CONFIG_BYTES = 1 << 20;

/** Options of `loadConfig`. */
export interface LoadOptions {
  /**
   * Refuse a config not owned by root or group-writable by a non-root group (a world-writable
   * config is always refused). @default true when the process runs as root
   */
  checkOwnership?: boolean;
  /**
   * Check each enabled file jail's `logpath` on disk: a literal path that does not exist is an
   * error (with `missing_logpath = "warn"` a warning), a glob that matches nothing a warning; and
   * each exec action's program (missing or not executable: a warning).
   * @default true
   */
  checkLogpaths?: boolean;
  /**
   * Receives each warning (positions as for errors), also when the logpath check then fails.
   * @default warnings are dropped
   */
  onWarning?: (warning: ConfigIssue) => void;
}

/**
 * Reads the config at `path` (one open: the permissions checked are those of the bytes read),
 * refuses unsafe permissions, and returns the deep-frozen compiled `Config`. Throws
 * `ConfigError` for every problem: unreadable file, permissions, syntax, schema.
 */
export async function loadConfig(path: string, opts: LoadOptions = {}): Promise<Config> {
  const text = await readConfigText(path, opts);
  const config = parseConfig(text, path);
  if (opts.onWarning && config.filters.length > 0) {
    for (const w of filterWarnings(config, locate(text))) opts.onWarning(w);
  }
  if (opts.checkLogpaths === false) return config;
  const layout = locate(text);
  const { errors, warnings } = checkLogpaths(config, layout);
  for (const w of [...warnings, ...checkActionPrograms(config, layout)]) opts.onWarning?.(w);
  if (errors.length > 0) throw new ConfigError(errors);
  return config;
}

/**
 * Reads the config file's text with the checks of `loadConfig` (permissions, size, UTF-8) but
 * does not validate it. Throws `ConfigError` for an unreadable, unsafe, oversize or non-UTF-8
 * file.
 */
export async function readConfigText(path: string, opts: LoadOptions = {}): Promise<string> {
  const whole = (message: string): ConfigError =>
    new ConfigError([{ path, line: 0, column: 0, message }]);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw whole(`cannot read the config file: ${reason(e)}`);
  }
  let bytes: Uint8Array;
  try {
    const stat = await file.stat();
    if (!stat.isFile) throw whole("the config path is not a regular file");
    const asRoot = opts.checkOwnership ?? runningAsRoot();
    const refusals: ConfigIssue[] = [
      ...checkConfigPermissions(path, stat, asRoot),
      ...directoryRefusals(path, asRoot),
    ];
    if (refusals.length > 0) throw new ConfigError(refusals);
    if (stat.size > MAX_CONFIG_BYTES) {
      throw whole(`the config file is ${stat.size} bytes; at most ${MAX_CONFIG_BYTES} are allowed`);
    }
    bytes = await readAll(file);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw whole(`cannot read the config file: ${reason(e)}`);
  } finally {
    file.close();
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw whole("the config file is not valid UTF-8");
  }
}

/**
 * The refusals of every directory above the config: those holding `path` as given and those
 * holding the file it resolves to (a writable directory on either way could replace it). An
 * absolute `path` is walked as written (each directory's status follows links, so a linked
 * directory is checked where it leads and the one holding the link too); the daemon, narrowed to
 * its own files (docs/permissions.md), may neither resolve nor stat a directory through Deno.
 */
function directoryRefusals(path: string, asRoot: boolean): ConfigIssue[] {
  const dirs = new Set<string>();
  for (const p of [path, Deno.realPathSync(path)]) {
    const slash = p.lastIndexOf("/");
    let dir = slash === 0
      ? "/"
      : p.startsWith("/")
      ? p.slice(0, slash)
      : Deno.realPathSync(slash < 0 ? "." : p.slice(0, slash));
    for (;;) {
      dirs.add(dir);
      if (dir === "/") break;
      dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
    }
  }
  return [...dirs].flatMap((d) => checkConfigDirPermissions(path, d, dirStatus(d), asRoot));
}

/**
 * A directory's owner and mode: through Deno where this process may read it (`config check`
 * keeps read only), else from the kernel (the narrowed daemon, which may not read `/`).
 */
function dirStatus(dir: string): { mode: number | null; uid: number | null; gid: number | null } {
  try {
    return Deno.statSync(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotCapable)) throw e;
    return pathOwner(dir);
  }
}

async function readAll(file: Deno.FsFile): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) break;
    total += n;
    if (total > MAX_CONFIG_BYTES) {
      throw new Error(`the file grew past ${MAX_CONFIG_BYTES} bytes while being read`);
    }
    chunks.push(buf.slice(0, n));
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function reason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "it is a directory";
  return e instanceof Error ? e.message : String(e);
}

/**
 * Whether this process runs as root. Uses `Deno.uid()` when the `sys` permission is granted,
 * else the owner of `/proc/self` (read permission only, e.g. in `config check`); when neither
 * works it answers true, so that the stricter checks apply.
 */
export function runningAsRoot(): boolean {
  try {
    const uid = Deno.uid();
    if (uid !== null) return uid === 0;
  } catch {
    // sys permission revoked: fall through.
  }
  try {
    return Deno.statSync("/proc/self").uid === 0;
  } catch {
    return true;
  }
}
