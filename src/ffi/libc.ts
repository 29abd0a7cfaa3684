/**
 * The one `Deno.dlopen` of libc. Every FFI user in the project (netlink here, AF_UNIX sockets for
 * IPC) extends `LIBC_SYMBOLS` with the symbols it needs instead of opening libc again.
 *
 * Blocking rule: a call that can wait on the outside world (`poll`, `accept4`, a blocking `recv`)
 * is declared `nonblocking: true` so that it runs on a helper thread and returns a Promise; the
 * event loop never stalls on the kernel. Calls that only queue or copy data (`sendto` on netlink,
 * `recv` with `MSG_DONTWAIT`) stay synchronous so that `errno` can be read right after them, on the
 * same thread (errno is thread-local: it is meaningless after a `nonblocking` call).
 * @module
 */

/** Symbols taken from libc. Add new ones here (small edits), keep them sorted by purpose. */
export const LIBC_SYMBOLS = {
  // sockets
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  // waiting (runs on a helper thread)
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  // directories (counting open descriptors)
  opendir: { parameters: ["buffer"], result: "pointer" },
  readdir: { parameters: ["pointer"], result: "pointer" },
  closedir: { parameters: ["pointer"], result: "i32" },
  // this process: its command line, replacing it, stat without Deno's read check (process.ts)
  open: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  // seccomp (src/seccomp): no_new_privs, then the raw syscall (glibc has no wrapper for it)
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  syscall: { parameters: ["i64", "u64", "u64", "u64", "u64", "u64"], result: "i64" },
  // resource usage
  getrusage: { parameters: ["i32", "buffer"], result: "i32" },
  // memory
  mallopt: { parameters: ["i32", "i32"], result: "i32" },
  madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  // errors
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded library's symbols. */
export type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof LIBC_SYMBOLS> | null = null;

/** Opens libc once (needs `--allow-ffi`) and returns its symbols. */
export function libc(): Libc {
  if (lib === null) lib = Deno.dlopen("libc.so.6", LIBC_SYMBOLS);
  return lib.symbols;
}

/**
 * The calling thread's `errno`. Valid only right after a synchronous libc call that failed
 * (never after a `nonblocking` one).
 */
export function errno(): number {
  const p = libc().__errno_location();
  if (p === null) return 0;
  return new Deno.UnsafePointerView(p).getInt32(0);
}

/** The C library's text for an errno, e.g. "Operation not permitted". */
export function strerror(code: number): string {
  const p = libc().strerror(code);
  return p === null ? `errno ${code}` : Deno.UnsafePointerView.getCString(p);
}

/** `mallopt` parameter: the most malloc arenas (glibc's `M_ARENA_MAX`). */
const M_ARENA_MAX = -8;

/**
 * Makes every thread created from now on share glibc's existing malloc arenas instead of getting
 * its own (as `MALLOC_ARENA_MAX=1` would, set before start). Each new arena holds freed memory of
 * its own thread; sharing them keeps several MiB of resident memory off the daemon's ceiling.
 * Returns false when libc refused.
 */
export function shareMallocArenas(): boolean {
  return libc().mallopt(M_ARENA_MAX, 1) === 1;
}

/**
 * Open file descriptors of this process: the entries of `/proc/self/fd`, read through libc
 * (Deno itself gates `/proc/self` behind --allow-all), less `.`, `..` and the one the listing
 * holds. Null when the directory cannot be opened (no procfs).
 */
export function openFdCount(): number | null {
  const c = libc();
  const dir = c.opendir(new TextEncoder().encode("/proc/self/fd\0"));
  if (dir === null) return null;
  let n = 0;
  try {
    while (c.readdir(dir) !== null) n++;
  } finally {
    c.closedir(dir);
  }
  return Math.max(0, n - 3);
}

/** `struct rusage` bytes on 64-bit Linux (two `timeval`s, then 14 longs). */
const RUSAGE_BYTES = 144;

/** User plus system CPU time of this process in seconds (`getrusage(RUSAGE_SELF)`), or 0. */
export function cpuSeconds(): number {
  const buf = new Uint8Array(RUSAGE_BYTES);
  if (libc().getrusage(0, buf) !== 0) return 0;
  const v = new DataView(buf.buffer);
  const tv = (at: number) =>
    Number(v.getBigInt64(at, true)) + Number(v.getBigInt64(at + 8, true)) / 1e6;
  return tv(0) + tv(16);
}

/** errno values the project branches on (Linux, all architectures Deno runs on). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  EMSGSIZE: 90,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  ENOBUFS: 105,
  ETIMEDOUT: 110,
} as const;
