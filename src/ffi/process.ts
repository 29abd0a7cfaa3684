/**
 * This process seen from the kernel, for the launcher's narrowing step (docs/permissions.md):
 * its own command line, replacing its image with a narrowed one (`execve`: same PID, so systemd's
 * main process, signals and `NOTIFY_SOCKET` stay as they are), and the owner and mode of a path
 * (`statx`), which Deno grants only with read permission on the whole tree below it.
 * @module
 */
import { errno, libc, strerror } from "./libc.ts";

/** `open` flags: read only, close on exec. */
const O_RDONLY_CLOEXEC = 0o2000000;
/** `statx` dirfd meaning "relative to the working directory". */
const AT_FDCWD = -100;
/** `statx` mask: type, mode, owner, group (`STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID`). */
const STATX_OWNER_MODE = 0x1 | 0x2 | 0x8 | 0x10;
/** Longest command line read from `/proc/self/cmdline`. */
const MAX_CMDLINE_BYTES = 1 << 20;

function cString(text: string): Uint8Array {
  if (text.includes("\0")) throw new RangeError(`expected text without NUL, found ${text}`);
  return new TextEncoder().encode(text + "\0");
}

/** Fails with the C library's text for the current errno, naming the call and `detail`. */
function fail(call: string, detail: string): never {
  const code = errno();
  throw new Error(`${call} ${detail}: ${strerror(code)} (errno ${code})`);
}

/**
 * This process's argv as the kernel keeps it (`/proc/self/cmdline`, through libc: Deno gates
 * `/proc/self` behind --allow-all). Throws when procfs cannot be read.
 */
export function ownCommandLine(): string[] {
  const c = libc();
  const fd = c.open(cString("/proc/self/cmdline"), O_RDONLY_CLOEXEC);
  if (fd < 0) fail("open", "/proc/self/cmdline");
  const buf = new Uint8Array(MAX_CMDLINE_BYTES);
  let len = 0;
  try {
    for (;;) {
      const n = Number(c.read(fd, buf.subarray(len), BigInt(buf.length - len)));
      if (n < 0) fail("read", "/proc/self/cmdline");
      if (n === 0 || len + n === buf.length) break;
      len += n;
    }
  } finally {
    c.close(fd);
  }
  const text = new TextDecoder().decode(buf.subarray(0, len));
  return text.endsWith("\0") ? text.slice(0, -1).split("\0") : text.split("\0");
}

/**
 * Replaces this process's image with `path` run as `argv` in `env` (`execve(2)`); returns only
 * by throwing, when the kernel refused. Every thread ends; descriptors without close-on-exec
 * (stdin, stdout, stderr) stay open.
 */
export function execve(path: string, argv: readonly string[], env: Record<string, string>): never {
  const strings = [...argv, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].map(cString);
  const pointers = strings.map((s) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(s))));
  const argvArray = new BigUint64Array([...pointers.slice(0, argv.length), 0n]);
  const envArray = new BigUint64Array([...pointers.slice(argv.length), 0n]);
  libc().execve(cString(path), new Uint8Array(argvArray.buffer), new Uint8Array(envArray.buffer));
  strings.length = 0; // kept alive until here: the arrays point into them
  fail("execve", path);
}

/** Owner, group and mode of a path, following symlinks, as `Deno.statSync` reports them. */
export interface PathOwner {
  /** `st_mode`: type and permission bits. */
  readonly mode: number;
  /** Owner's user id. */
  readonly uid: number;
  /** Group id. */
  readonly gid: number;
}

/**
 * The owner and mode of `path` (`statx(2)`, following symlinks) without Deno's read check: Deno
 * grants `stat` of a directory only with read permission on everything below it. Throws when the
 * path cannot be reached.
 */
export function pathOwner(path: string): PathOwner {
  const buf = new Uint8Array(256); // struct statx
  if (libc().statx(AT_FDCWD, cString(path), 0, STATX_OWNER_MODE, buf) !== 0) fail("statx", path);
  const v = new DataView(buf.buffer);
  return { uid: v.getUint32(20, true), gid: v.getUint32(24, true), mode: v.getUint16(28, true) };
}
