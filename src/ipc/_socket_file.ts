/**
 * The control socket's place in the file system: its directory (created 0750 root:group), the
 * probe that tells a live socket (never unlinked) from a stale one (replaced), the bind under a
 * tight umask, the final owner and mode, and the check of both after binding.
 * @module
 */
import {
  bindUnix,
  closeFd,
  connectUnix,
  effectiveUid,
  ErrnoError,
  setUmask,
  UnixErrno,
  unixSocket,
} from "../ffi/mod.ts";

/** Mode of a directory the server creates for its socket. */
export const SOCKET_DIR_MODE = 0o750;
/** Socket mode when the admin group exists. */
export const SOCKET_MODE_GROUP = 0o660;
/** Socket mode when it does not (root only). */
export const SOCKET_MODE_OWNER = 0o600;

/** Thrown when another process serves the socket already. */
export class SocketInUseError extends Error {
  /** Always `"SocketInUseError"`. */
  override name = "SocketInUseError";
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

function octal(mode: number): string {
  return "0" + (mode & 0o7777).toString(8);
}

/**
 * Makes sure the socket's directory exists and is safe: created as 0750 owned by this uid with
 * group `gid` when missing; when present it must be a directory owned by root or this uid and,
 * unless sticky (like /tmp), writable by its owner only. Returns warnings to log.
 */
export function prepareSocketDir(path: string, gid: number | null): string[] {
  const dir = dirname(path);
  const warnings: string[] = [];
  let info: Deno.FileInfo | null = null;
  try {
    info = Deno.lstatSync(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (info === null) {
    Deno.mkdirSync(dir, { recursive: true, mode: SOCKET_DIR_MODE });
    Deno.chmodSync(dir, SOCKET_DIR_MODE);
    if (gid !== null) {
      try {
        Deno.chownSync(dir, null, gid);
      } catch (e) {
        warnings.push(`cannot give ${dir} to gid ${gid} (${(e as Error).message})`);
      }
    }
    return warnings;
  }
  if (!info.isDirectory) {
    throw new Error(`expected ${dir} to be a directory for the control socket, found another kind`);
  }
  const mode = info.mode ?? 0;
  const euid = effectiveUid();
  if (info.uid !== 0 && info.uid !== euid) {
    throw new Error(`expected ${dir} to be owned by root or uid ${euid}, found uid ${info.uid}`);
  }
  if ((mode & 0o022) !== 0 && (mode & 0o1000) === 0) {
    throw new Error(
      `expected ${dir} to be writable by its owner only (0750), found mode ${octal(mode)}`,
    );
  }
  if (gid !== null && info.gid !== gid && (mode & 0o001) === 0) {
    warnings.push(
      `${dir} (mode ${octal(mode)}, gid ${info.gid}) cannot be traversed by the admin group ` +
        `(gid ${gid}); its members will get "permission denied"`,
    );
  }
  return warnings;
}

/**
 * Looks at what sits at `path`. Nothing: fine. A socket that accepts a connection: throws
 * `SocketInUseError` and leaves it alone. A socket that refuses: stale, removed. Anything else
 * (a file, a link): throws, removed by nobody.
 */
export function clearStaleSocket(path: string): "none" | "replaced" {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "none";
    throw e;
  }
  if (!info.isSocket) {
    throw new Error(`expected ${path} to be absent or a socket, found another kind of file`);
  }
  const fd = unixSocket("stream");
  try {
    // Connected, or "backlog full" (EAGAIN): someone is listening.
    connectUnix(fd, path);
    throw new SocketInUseError(`${path} is served by a running process; not replacing it`);
  } catch (e) {
    if (!(e instanceof ErrnoError) || e.errno !== UnixErrno.ECONNREFUSED) throw e;
  } finally {
    closeFd(fd);
  }
  Deno.removeSync(path);
  return "replaced";
}

/** What `bindSocketFile` produced. */
export interface BoundSocket {
  fd: number;
  /** Identity of the file, to unlink only our own socket at close. */
  dev: number;
  ino: number;
  mode: number;
  gid: number;
  /** Problems that weakened the setup without stopping it. */
  warnings: string[];
}

/**
 * Creates a stream socket bound at `path` (which must be free), with mode 0660 and group `gid`,
 * or 0600 when `gid` is null, then checks the result with lstat. Does not listen yet.
 */
export function bindSocketFile(path: string, gid: number | null): BoundSocket {
  const fd = unixSocket("stream");
  let bound = false;
  try {
    const old = setUmask(0o177); // born 0600: no window where others can connect
    try {
      bindUnix(fd, path);
      bound = true;
    } finally {
      setUmask(old);
    }
    const warnings: string[] = [];
    let want = SOCKET_MODE_OWNER;
    if (gid !== null) {
      try {
        Deno.chownSync(path, null, gid);
        want = SOCKET_MODE_GROUP;
      } catch (e) {
        warnings.push(
          `cannot give ${path} to gid ${gid} (${(e as Error).message}); mode 0600, root only`,
        );
        gid = null;
      }
    }
    Deno.chmodSync(path, want);
    const info = Deno.lstatSync(path);
    const mode = (info.mode ?? 0) & 0o7777;
    if (!info.isSocket || mode !== want || (gid !== null && info.gid !== gid)) {
      throw new Error(
        `expected ${path} to be a socket with mode ${octal(want)}${
          gid === null ? "" : ` and gid ${gid}`
        }, found mode ${octal(mode)} gid ${info.gid}`,
      );
    }
    return { fd, dev: info.dev, ino: info.ino ?? 0, mode, gid: info.gid ?? 0, warnings };
  } catch (e) {
    closeFd(fd);
    if (bound) {
      try {
        Deno.removeSync(path);
      } catch {
        // nothing to undo
      }
    }
    throw e;
  }
}

/** Removes `path` if it is still the socket we bound (same device and inode). */
export function removeOwnSocket(path: string, bound: BoundSocket): void {
  try {
    const info = Deno.lstatSync(path);
    if (info.isSocket && info.dev === bound.dev && (info.ino ?? 0) === bound.ino) {
      Deno.removeSync(path);
    }
  } catch {
    // already gone
  }
}
