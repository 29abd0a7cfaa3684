/**
 * `AF_UNIX` sockets through libc: stream sockets for the control socket (with `SO_PEERCRED` and
 * `SO_PEERGROUPS`, which Deno's own unix listener cannot give) and datagram sockets for journald
 * and `sd_notify`.
 *
 * This file opens libc by itself (its own `Deno.dlopen` handle, independent of `libc.ts`) and
 * follows the same blocking rule: every descriptor is `O_NONBLOCK`, the data calls (`accept4`,
 * `recv`, `send`, `sendto`) are synchronous and never wait, so `errno` is read on the same thread
 * right after them; waiting happens only in `poll`, declared `nonblocking: true`, which runs on a
 * helper thread and returns a Promise. The event loop therefore never stalls on a peer.
 *
 * The library is opened lazily, on first use: importing this module needs no permission.
 * @module
 */

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "pointer", "pointer", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  umask: { parameters: ["u32"], result: "u32" },
  geteuid: { parameters: [], result: "u32" },
  getgrnam: { parameters: ["buffer"], result: "pointer" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
} as const satisfies Deno.ForeignLibraryInterface;

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;

function c(): Symbols {
  if (lib === null) lib = Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
const SO_PEERGROUPS = 59;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
/** `sizeof(sun_path)` on Linux; one byte is kept for the terminating NUL. */
const SUN_PATH_MAX = 108;
/** Upper bound on supplementary groups read with `SO_PEERGROUPS` (Linux NGROUPS_MAX). */
const PEER_GROUPS_MAX = 65536;

/** poll(2) event bits. */
export const Poll = { IN: 0x001, OUT: 0x004, ERR: 0x008, HUP: 0x010, NVAL: 0x020 } as const;

/** errno values this module and its callers branch on (Linux). */
export const UnixErrno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EAGAIN: 11,
  EACCES: 13,
  EINVAL: 22,
  EPIPE: 32,
  ERANGE: 34,
  ENOTSOCK: 88,
  EMSGSIZE: 90,
  ENOBUFS: 105,
  ECONNRESET: 104,
  ENOTCONN: 107,
  ECONNREFUSED: 111,
} as const;

const ERRNO_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(UnixErrno).map(([k, v]) => [v, k]),
);

/** A failed libc call: carries the errno, its symbolic name and the call that failed. */
export class ErrnoError extends Error {
  /** Always `"ErrnoError"`. */
  override name = "ErrnoError";
  /** The numeric errno. */
  readonly errno: number;
  /** Symbolic name such as `ECONNREFUSED`, or `E<number>` when not in `UnixErrno`. */
  readonly code: string;
  /** The libc function that failed. */
  readonly syscall: string;
  /** An error for `syscall` that failed with `errno`; `detail` (e.g. a path) goes into the message. */
  constructor(syscall: string, errno: number, detail = "") {
    super(`${syscall}${detail ? ` ${detail}` : ""}: ${strerror(errno)} (errno ${errno})`);
    this.errno = errno;
    this.code = ERRNO_NAMES[errno] ?? `E${errno}`;
    this.syscall = syscall;
  }
}

function errno(): number {
  const p = c().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32(0);
}

function strerror(code: number): string {
  const p = c().strerror(code);
  return p === null ? `errno ${code}` : Deno.UnsafePointerView.getCString(p);
}

/**
 * Encodes a `sockaddr_un`. A path starting with `@` names the abstract namespace (as systemd
 * writes `NOTIFY_SOCKET`). Throws when the path does not fit `sun_path`.
 */
export function sockaddrUn(path: string): Uint8Array {
  const abstract = path.startsWith("@");
  const name = new TextEncoder().encode(abstract ? path.slice(1) : path);
  const room = SUN_PATH_MAX - 1; // the NUL terminator, or the abstract namespace's leading NUL
  if (name.length === 0 || name.length > room || (!abstract && name.includes(0))) {
    throw new RangeError(
      `expected a socket path of 1..${room} bytes without NUL, found ${name.length} bytes: ${path}`,
    );
  }
  const len = 2 + (abstract ? 1 + name.length : name.length + 1);
  const addr = new Uint8Array(len);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(name, abstract ? 3 : 2);
  return addr;
}

/** Creates a nonblocking, close-on-exec `AF_UNIX` socket. */
export function unixSocket(type: "stream" | "dgram"): number {
  const fd = c().socket(
    AF_UNIX,
    (type === "stream" ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
    0,
  );
  if (fd < 0) throw new ErrnoError("socket", errno());
  return fd;
}

/** Binds `fd` to `path` (the file is created with mode 0777 & ~umask). */
export function bindUnix(fd: number, path: string): void {
  const addr = sockaddrUn(path);
  if (c().bind(fd, addr, addr.length) !== 0) throw new ErrnoError("bind", errno(), path);
}

/** Marks a bound stream socket as listening with the given backlog. */
export function listenUnix(fd: number, backlog: number): void {
  if (c().listen(fd, backlog) !== 0) throw new ErrnoError("listen", errno());
}

/**
 * Starts connecting `fd` to `path`. Returns `true` when connected, `false` when the listener's
 * backlog is full (`EAGAIN`: retry later); throws `ErrnoError` otherwise (`ENOENT`,
 * `ECONNREFUSED`, `EACCES`…).
 */
export function connectUnix(fd: number, path: string): boolean {
  const addr = sockaddrUn(path);
  if (c().connect(fd, addr, addr.length) === 0) return true;
  const e = errno();
  if (e === UnixErrno.EAGAIN) return false;
  throw new ErrnoError("connect", e, path);
}

/** Accepts one pending connection (nonblocking, close-on-exec); `null` when none is pending. */
export function acceptUnix(fd: number): number | null {
  const cfd = c().accept4(fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (cfd >= 0) return cfd;
  const e = errno();
  if (e === UnixErrno.EAGAIN || e === UnixErrno.EINTR) return null;
  throw new ErrnoError("accept4", e);
}

/**
 * Receives into `buf` without waiting. Returns the byte count (0 at end of stream) or `null`
 * when nothing is available yet.
 */
export function recvSome(fd: number, buf: Uint8Array): number | null {
  const n = Number(c().recv(fd, buf, BigInt(buf.length), MSG_DONTWAIT));
  if (n >= 0) return n;
  const e = errno();
  if (e === UnixErrno.EAGAIN || e === UnixErrno.EINTR) return null;
  throw new ErrnoError("recv", e);
}

/**
 * Sends as much of `buf` as the socket takes without waiting (never raises SIGPIPE). Returns
 * the byte count, or `null` when the send buffer is full.
 */
export function sendSome(fd: number, buf: Uint8Array): number | null {
  const n = Number(c().send(fd, buf, BigInt(buf.length), MSG_DONTWAIT | MSG_NOSIGNAL));
  if (n >= 0) return n;
  const e = errno();
  if (e === UnixErrno.EAGAIN || e === UnixErrno.EINTR) return null;
  throw new ErrnoError("send", e);
}

/** Sends one datagram to `path` from an unbound datagram socket. Throws `ErrnoError` on failure. */
export function sendDatagram(fd: number, buf: Uint8Array, path: string): void {
  const addr = sockaddrUn(path);
  const n = Number(
    c().sendto(fd, buf, BigInt(buf.length), MSG_DONTWAIT | MSG_NOSIGNAL, addr, addr.length),
  );
  if (n < 0) throw new ErrnoError("sendto", errno(), path);
}

/**
 * Waits on a helper thread until `fd` has one of `events` (see `Poll`), or `timeoutMs` passes.
 * Returns the `revents` bits, 0 on timeout (and on `EINTR`, which the caller treats as a
 * timeout). Does not block the event loop.
 */
export async function pollFd(fd: number, events: number, timeoutMs: number): Promise<number> {
  const pfd = new Uint8Array(8);
  const view = new DataView(pfd.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, events, true);
  const n = await c().poll(pfd, 1n, Math.max(0, Math.floor(timeoutMs)));
  if (n <= 0) return 0;
  return view.getUint16(6, true);
}

/** Credentials of the peer of a connected `AF_UNIX` socket, as the kernel recorded them. */
export interface PeerCred {
  /** Process id of the peer. */
  pid: number;
  /** Effective user id of the peer. */
  uid: number;
  /** Effective group id of the peer. */
  gid: number;
}

/** Reads `SO_PEERCRED`. */
export function peerCred(fd: number): PeerCred {
  const buf = new Uint8Array(12);
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, 12, true);
  if (c().getsockopt(fd, SOL_SOCKET, SO_PEERCRED, buf, len) !== 0) {
    throw new ErrnoError("getsockopt(SO_PEERCRED)", errno());
  }
  const v = new DataView(buf.buffer);
  return { pid: v.getInt32(0, true), uid: v.getUint32(4, true), gid: v.getUint32(8, true) };
}

/** Reads `SO_PEERGROUPS`: the peer's supplementary group ids when it connected. */
export function peerGroups(fd: number): number[] {
  let cap = 64;
  for (;;) {
    const buf = new Uint8Array(cap * 4);
    const len = new Uint8Array(4);
    const lenView = new DataView(len.buffer);
    lenView.setUint32(0, buf.length, true);
    if (c().getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, buf, len) === 0) {
      const n = Math.min(lenView.getUint32(0, true), buf.length) / 4;
      const v = new DataView(buf.buffer);
      return Array.from({ length: n }, (_, i) => v.getUint32(i * 4, true));
    }
    const e = errno();
    const need = lenView.getUint32(0, true) / 4;
    if (e !== UnixErrno.ERANGE || need <= cap || need > PEER_GROUPS_MAX) {
      throw new ErrnoError("getsockopt(SO_PEERGROUPS)", e);
    }
    cap = need;
  }
}

/** `shutdown(fd, SHUT_RDWR)`: wakes any `poll` on it. Errors are ignored. */
export function shutdownFd(fd: number): void {
  c().shutdown(fd, 2);
}

/** Closes a descriptor. Errors are ignored (Linux frees the descriptor even on `EINTR`). */
export function closeFd(fd: number): void {
  c().close(fd);
}

/** Sets the process umask and returns the previous one. */
export function setUmask(mask: number): number {
  return c().umask(mask);
}

/** The effective uid of this process. */
export function effectiveUid(): number {
  return c().geteuid();
}

/** Looks a group up through NSS (`getgrnam`); its gid, or `null` when there is no such group. */
export function groupId(name: string): number | null {
  const cname = new TextEncoder().encode(name + "\0");
  const p = c().getgrnam(cname);
  if (p === null) return null;
  // struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; … } on LP64.
  return new Deno.UnsafePointerView(p).getUint32(16);
}

/** `CLOCK_MONOTONIC` in microseconds (what systemd expects in `MONOTONIC_USEC`). */
export function monotonicUsec(): bigint {
  const ts = new BigInt64Array(2); // struct timespec { time_t tv_sec; long tv_nsec; } on LP64
  const CLOCK_MONOTONIC = 1;
  if (c().clock_gettime(CLOCK_MONOTONIC, new Uint8Array(ts.buffer)) !== 0) {
    throw new ErrnoError("clock_gettime", errno());
  }
  return ts[0]! * 1_000_000n + ts[1]! / 1000n;
}

/** A bound `AF_UNIX` datagram socket that receives (journald and `sd_notify` stand-ins in tests). */
export interface DatagramListener {
  /** The bound path (`@name` for the abstract namespace). */
  readonly path: string;
  /** The next datagram, or null after `timeoutMs` without one. Waits on a helper thread. */
  receive(timeoutMs: number): Promise<Uint8Array | null>;
  /** Closes the socket and removes its file. */
  close(): void;
}

/** Largest datagram `DatagramListener.receive` returns whole. */
const MAX_DATAGRAM = 512 * 1024;

/** Binds a datagram socket at `path` (a file path, or `@name` in the abstract namespace). */
export function bindDatagramListener(path: string): DatagramListener {
  const fd = unixSocket("dgram");
  try {
    bindUnix(fd, path);
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  const buf = new Uint8Array(MAX_DATAGRAM);
  let closed = false;
  return {
    path,
    async receive(timeoutMs: number): Promise<Uint8Array | null> {
      const deadline = Date.now() + timeoutMs;
      while (!closed) {
        const n = recvSome(fd, buf);
        if (n !== null) return buf.slice(0, n);
        const left = deadline - Date.now();
        if (left <= 0) return null;
        await pollFd(fd, Poll.IN, Math.min(left, 1000));
      }
      return null;
    },
    close(): void {
      if (closed) return;
      closed = true;
      closeFd(fd);
      if (!path.startsWith("@")) {
        try {
          Deno.removeSync(path);
        } catch {
          // gone already
        }
      }
    },
  };
}
