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
 * The whole of `/proc/self/NAME`, read through libc (Deno gates `/proc/self` behind --allow-all),
 * at most `max` bytes. Throws when procfs cannot be read.
 */
function readSelf(name: string, max: number): Uint8Array {
  const path = `/proc/self/${name}`;
  const c = libc();
  const fd = c.open(cString(path), O_RDONLY_CLOEXEC);
  if (fd < 0) fail("open", path);
  let buf = new Uint8Array(Math.min(max, 1 << 16));
  let len = 0;
  try {
    for (;;) {
      if (len === buf.length) {
        if (len === max) break;
        const next = new Uint8Array(Math.min(max, 2 * len));
        next.set(buf);
        buf = next;
      }
      const n = Number(c.read(fd, buf.subarray(len), BigInt(buf.length - len)));
      if (n < 0) fail("read", path);
      if (n === 0) break;
      len += n;
    }
  } finally {
    c.close(fd);
  }
  return buf.subarray(0, len);
}

/**
 * This process's argv as the kernel keeps it (`/proc/self/cmdline`). Throws when procfs cannot be
 * read.
 */
export function ownCommandLine(): string[] {
  const text = new TextDecoder().decode(readSelf("cmdline", MAX_CMDLINE_BYTES));
  return text.endsWith("\0") ? text.slice(0, -1).split("\0") : text.split("\0");
}

/** Longest `/proc/self/smaps` read. */
const MAX_SMAPS_BYTES = 16 << 20;
/** `madvise` advice: drop the range's page-table entries (`MADV_DONTNEED`). */
const MADV_DONTNEED = 4;

/** A mapping of `/proc/self/smaps` whose pages can be dropped and read back from its file. */
export interface CleanMapping {
  /** First address. */
  readonly start: bigint;
  /** One past the last address. */
  readonly end: bigint;
  /** Resident bytes (`Rss:`). */
  readonly rss: number;
}

/**
 * The mappings of `file` in `smaps` text that hold nothing but the file's own pages: not
 * writable, and no page of them copied on write (`Anonymous: 0 kB`; the relocated, then
 * write-protected `RELRO` part of an executable has such copies and is left out).
 */
export function cleanMappings(smaps: string, file: string): CleanMapping[] {
  const out: CleanMapping[] = [];
  let cur: { start: bigint; end: bigint; ok: boolean; rss: number; anon: number } | null = null;
  const flush = () => {
    if (cur !== null && cur.ok && cur.anon === 0) {
      out.push({ start: cur.start, end: cur.end, rss: cur.rss });
    }
  };
  for (const line of smaps.split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s+(.*)$/.exec(line);
    if (head !== null) {
      flush();
      cur = {
        start: BigInt(`0x${head[1]}`),
        end: BigInt(`0x${head[2]}`),
        ok: head[4] === file && !head[3]!.includes("w"),
        rss: 0,
        anon: -1,
      };
      continue;
    }
    const field = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (field === null || cur === null) continue;
    if (field[1] === "Rss") cur.rss = Number(field[2]) * 1024;
    else cur.anon = Number(field[2]);
  }
  flush();
  return out;
}

/**
 * Drops this process's page-table entries for the clean mappings of its own executable
 * ({@link cleanMappings}; `madvise(MADV_DONTNEED)`): the pages stay in the page cache, and the
 * ones still used are mapped again by the next access to them (a minor fault), so resident
 * memory keeps only the part of the runtime's code and read-only data that is used from then on.
 * Returns the resident bytes the mappings had before; throws when procfs cannot be read.
 */
export function releaseExecutablePages(): number {
  const smaps = new TextDecoder().decode(readSelf("smaps", MAX_SMAPS_BYTES));
  const c = libc();
  let released = 0;
  for (const m of cleanMappings(smaps, Deno.execPath())) {
    const p = Deno.UnsafePointer.create(m.start);
    if (c.madvise(p, m.end - m.start, MADV_DONTNEED) !== 0) fail("madvise", "the executable");
    released += m.rss;
  }
  return released;
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
