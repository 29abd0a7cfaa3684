/**
 * The control socket server. Stages, in order:
 *   1. socket file: directory 0750, stale socket replaced (a live one is never touched), bind,
 *      mode 0660 root:group (0600 and a warning without the group), listen with a small backlog;
 *   2. accept loop: `poll` on a helper thread, then nonblocking `accept4`;
 *   3. admission: `SO_PEERCRED` uid 0 (or this process's uid), or the admin group as primary or
 *      supplementary group (`SO_PEERGROUPS`); others get `unauthorized` and are closed; past
 *      `maxClients` a peer gets `rate_limited` and is closed;
 *   4. per connection: frames read with `poll` + nonblocking `recv`; a request over 64 KiB gets
 *      `too_large` and the connection is closed; each request takes a token from its uid's
 *      bucket (`rate_limited` when empty, and the connection is not read again until a token is
 *      due); the request is validated, handed to the `Controller`, and answered with a code.
 * Nothing here waits on the event loop: every wait is a `poll` on a helper thread or a timer.
 * @module
 */
import type { Logger } from "../log/mod.ts";
import {
  acceptUnix,
  closeFd,
  effectiveUid,
  groupId,
  listenUnix,
  type PeerCred,
  peerCred,
  peerGroups,
  Poll,
  pollFd,
  recvSome,
  sendSome,
  shutdownFd,
} from "../ffi/mod.ts";
import {
  encodeFrame,
  FrameDecoder,
  FrameTooLargeError,
  MAX_REPLY_BYTES,
  MAX_REQUEST_BYTES,
} from "./frame.ts";
import {
  ControlError,
  type Controller,
  type ErrorReply,
  errorReply,
  parseRequest,
  type Request,
} from "./protocol.ts";
import { TokenBucket } from "./rate_limit.ts";
import {
  bindSocketFile,
  type BoundSocket,
  clearStaleSocket,
  prepareSocketDir,
  removeOwnSocket,
} from "./_socket_file.ts";

/** Default control socket path. */
export const DEFAULT_SOCKET_PATH = "/run/fail2zig/fail2zig.sock";
/** Default admin group. */
export const DEFAULT_ADMIN_GROUP = "fail2zig";

/** Limits of the control server; each says what happens when reached. */
export interface IpcLimits {
  /** Connections served at once; one more is answered `rate_limited` and closed. @default 32 */
  maxClients: number;
  /** `listen()` backlog; past it the kernel makes connecting clients wait. @default 16 */
  backlog: number;
  /** Largest request body; past it: `too_large`, then close. @default 65536 */
  maxRequestBytes: number;
  /** A connection without a complete request for this long is closed. @default 60000 */
  idleTimeoutMs: number;
  /** A reply not fully taken by the peer within this time closes the connection. @default 10000 */
  sendTimeoutMs: number;
  /** Requests per second per peer uid (token refill). @default 20 */
  ratePerSecond: number;
  /** Burst of requests per peer uid (bucket size). @default 40 */
  rateBurst: number;
  /**
   * New connections accepted per second, all peers together; past it the accept loop pauses
   * and connecting clients wait in the kernel's backlog (bounds the work of a reconnect flood).
   * @default 500
   */
  acceptsPerSecond: number;
}

/** The defaults of `IpcLimits`. */
export const DEFAULT_IPC_LIMITS: Readonly<IpcLimits> = Object.freeze({
  maxClients: 32,
  backlog: 16,
  maxRequestBytes: MAX_REQUEST_BYTES,
  idleTimeoutMs: 60_000,
  sendTimeoutMs: 10_000,
  ratePerSecond: 20,
  rateBurst: 40,
  acceptsPerSecond: 500,
});

/** Longest single `poll` wait; bounds how long `close()` can take if a wakeup is missed. */
const POLL_SLICE_MS = 1000;
/** Connections accepted per wakeup of the accept loop before polling again. */
const ACCEPT_BATCH = 64;
/** At most one "refused peer" log record per this interval (the rest are counted). */
const DENIAL_LOG_INTERVAL_MS = 1000;
/** Longest pause of a rate-limited connection before its next read. */
const MAX_THROTTLE_MS = 1000;

/** Options of `startIpcServer`. */
export interface IpcServerOptions {
  /** Socket path. @default DEFAULT_SOCKET_PATH */
  path?: string;
  /** The daemon's request handler. */
  controller: Controller;
  /** Admin group whose members may connect. @default "fail2zig" */
  group?: string;
  /** Version string for the `version` command. */
  version: string;
  /** Operational logger (warnings, refused peers, handler failures). */
  logger?: Logger;
  /** Overrides of `DEFAULT_IPC_LIMITS`. */
  limits?: Partial<IpcLimits>;
}

/** Counters the server keeps (for tests and metrics). */
export interface IpcStats {
  /** Connections accepted. */
  accepted: number;
  /** Connections refused because the peer is neither root nor in the admin group. */
  refusedUnauthorized: number;
  /** Connections refused past the connection cap. */
  refusedBusy: number;
  /** Requests handled (those refused with `rate_limited` not included). */
  requests: number;
  /** Requests refused with `rate_limited`. */
  rateLimited: number;
  /** Requests answered with an error code. */
  errors: number;
  /** Connections open now. */
  clients: number;
  /** Times the accept loop paused at `acceptsPerSecond`. */
  acceptPauses: number;
}

interface Connection {
  fd: number;
  cred: PeerCred;
}

/**
 * A running control server. Create with `startIpcServer`; `close()` stops accepting, wakes and
 * ends every connection, waits for in-flight requests and removes the socket file.
 */
export class IpcServer {
  readonly #path: string;
  readonly #controller: Controller;
  readonly #version: string;
  readonly #logger: Logger | undefined;
  readonly #limits: IpcLimits;
  readonly #gid: number | null;
  readonly #euid: number;
  readonly #bound: BoundSocket;
  readonly #conns = new Set<Connection>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #buckets = new Map<number, TokenBucket>();
  readonly #sleepers = new Set<() => void>();
  #closing = false;
  #closed: Promise<void> | null = null;
  #acceptLoop: Promise<void>;
  #lastDenialLog = 0;
  #suppressedDenials = 0;
  #stats: IpcStats = {
    accepted: 0,
    refusedUnauthorized: 0,
    refusedBusy: 0,
    requests: 0,
    rateLimited: 0,
    errors: 0,
    clients: 0,
    acceptPauses: 0,
  };

  /** Use `startIpcServer`. */
  constructor(
    bound: BoundSocket,
    init: { path: string; gid: number | null; limits: IpcLimits; options: IpcServerOptions },
  ) {
    this.#bound = bound;
    this.#path = init.path;
    this.#gid = init.gid;
    this.#limits = init.limits;
    this.#controller = init.options.controller;
    this.#version = init.options.version;
    this.#logger = init.options.logger;
    this.#euid = effectiveUid();
    this.#acceptLoop = this.#accept();
  }

  /** The socket path. */
  get path(): string {
    return this.#path;
  }

  /** The socket file's mode as checked after binding (0660 or 0600). */
  get socketMode(): number {
    return this.#bound.mode;
  }

  /** A snapshot of the counters. */
  stats(): IpcStats {
    return { ...this.#stats, clients: this.#conns.size };
  }

  /** Stops the server; resolves when every connection is closed and the socket file removed. */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#closing = true;
    shutdownFd(this.#bound.fd);
    for (const c of this.#conns) shutdownFd(c.fd);
    for (const wake of this.#sleepers) wake();
    this.#closed = (async () => {
      await this.#acceptLoop;
      while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
      // The file first: once the descriptor is closed, a new server may bind the same path.
      removeOwnSocket(this.#path, this.#bound);
      closeFd(this.#bound.fd);
    })();
    return this.#closed;
  }

  async #accept(): Promise<void> {
    const lfd = this.#bound.fd;
    const accepts = new TokenBucket({
      ratePerSecond: this.#limits.acceptsPerSecond,
      burst: Math.max(1, Math.ceil(this.#limits.acceptsPerSecond / 5)),
    });
    while (!this.#closing) {
      const wait = accepts.msUntilToken(Date.now());
      if (wait > 0) {
        this.#stats.acceptPauses++;
        await this.#sleep(wait);
        continue;
      }
      const ev = await pollFd(lfd, Poll.IN, POLL_SLICE_MS);
      if (this.#closing) break;
      if (ev === 0) continue;
      for (let i = 0; i < ACCEPT_BATCH && accepts.msUntilToken(Date.now()) === 0; i++) {
        let cfd: number | null;
        try {
          cfd = acceptUnix(lfd);
        } catch (e) {
          // EMFILE and friends: say so and back off instead of spinning.
          this.#logger?.warn("control socket accept failed", { error: (e as Error).message });
          await this.#sleep(100);
          break;
        }
        if (cfd === null) break;
        accepts.take(Date.now());
        this.#admit(cfd);
      }
    }
  }

  #admit(fd: number): void {
    let cred: PeerCred;
    let groups: number[] = [];
    try {
      cred = peerCred(fd);
      if (!this.#privileged(cred) && cred.gid !== this.#gid && this.#gid !== null) {
        groups = peerGroups(fd);
      }
    } catch (e) {
      this.#logger?.warn("cannot read control peer credentials", { error: (e as Error).message });
      closeFd(fd);
      return;
    }
    if (!this.#authorised(cred, groups)) {
      this.#stats.refusedUnauthorized++;
      this.#logDenial(cred);
      this.#refuse(
        fd,
        errorReply(
          "unauthorized",
          `uid ${cred.uid} is not root and not in group ${
            this.#gid === null ? "(none)" : this.#gid
          }`,
        ),
      );
      return;
    }
    if (this.#conns.size >= this.#limits.maxClients) {
      this.#stats.refusedBusy++;
      this.#refuse(
        fd,
        errorReply("rate_limited", `too many control connections (${this.#limits.maxClients})`),
      );
      return;
    }
    this.#stats.accepted++;
    const conn: Connection = { fd, cred };
    this.#conns.add(conn);
    const task = this.#serve(conn).finally(() => {
      this.#conns.delete(conn);
      closeFd(fd);
      this.#tasks.delete(task);
    });
    this.#tasks.add(task);
  }

  #privileged(cred: PeerCred): boolean {
    return cred.uid === 0 || cred.uid === this.#euid;
  }

  #authorised(cred: PeerCred, groups: number[]): boolean {
    if (this.#privileged(cred)) return true;
    if (this.#gid === null) return false;
    return cred.gid === this.#gid || groups.includes(this.#gid);
  }

  #logDenial(cred: PeerCred): void {
    const now = Date.now();
    if (now - this.#lastDenialLog < DENIAL_LOG_INTERVAL_MS) {
      this.#suppressedDenials++;
      return;
    }
    this.#logger?.warn("refused control connection from unauthorised peer", {
      uid: cred.uid,
      gid: cred.gid,
      pid: cred.pid,
      suppressed: this.#suppressedDenials,
    });
    this.#lastDenialLog = now;
    this.#suppressedDenials = 0;
  }

  /** Best effort: one small reply into the (empty) send buffer, then close. */
  #refuse(fd: number, reply: ErrorReply): void {
    try {
      sendSome(fd, encodeFrame(reply));
    } catch {
      // the peer left already
    }
    closeFd(fd);
  }

  async #serve(conn: Connection): Promise<void> {
    const { fd } = conn;
    const decoder = new FrameDecoder(this.#limits.maxRequestBytes);
    const chunk = new Uint8Array(64 * 1024);
    let deadline = Date.now() + this.#limits.idleTimeoutMs;
    while (!this.#closing) {
      // Answer every complete frame before reading more (bounds the decoder's buffer).
      for (let frame = decoder.next(); frame !== null; frame = decoder.next()) {
        if (frame.kind === "too_large") {
          this.#stats.errors++;
          await this.#send(
            fd,
            errorReply(
              "too_large",
              `expected a request of at most ${this.#limits.maxRequestBytes} bytes, found a frame of ${frame.length} bytes`,
            ),
          );
          return;
        }
        const bucket = this.#bucket(conn.cred.uid);
        if (!bucket.take(Date.now())) {
          this.#stats.rateLimited++;
          const wait = Math.min(MAX_THROTTLE_MS, bucket.msUntilToken(Date.now()));
          const sent = await this.#send(
            fd,
            errorReply(
              "rate_limited",
              `more than ${this.#limits.ratePerSecond} requests per second; retry in ${wait} ms`,
            ),
          );
          if (!sent) return;
          await this.#sleep(wait); // do not read this peer again before a token is due
          if (this.#closing) return;
        } else {
          this.#stats.requests++;
          const reply = await this.#dispatch(frame.text);
          if (!reply.ok) this.#stats.errors++;
          if (!(await this.#send(fd, reply))) return;
        }
        deadline = Date.now() + this.#limits.idleTimeoutMs;
      }
      const left = deadline - Date.now();
      if (left <= 0) return; // idle: no complete request in time
      const ev = await pollFd(fd, Poll.IN, Math.min(left, POLL_SLICE_MS));
      if (this.#closing) return;
      if (ev === 0) continue;
      let n: number | null;
      try {
        n = recvSome(fd, chunk);
      } catch {
        return;
      }
      if (n === null) continue;
      if (n === 0) return; // peer closed
      decoder.push(chunk.subarray(0, n));
    }
  }

  #bucket(uid: number): TokenBucket {
    let b = this.#buckets.get(uid);
    if (b === undefined) {
      b = new TokenBucket({
        ratePerSecond: this.#limits.ratePerSecond,
        burst: this.#limits.rateBurst,
      });
      this.#buckets.set(uid, b);
    }
    return b;
  }

  async #dispatch(text: string | null): Promise<{ ok: boolean }> {
    const parsed = parseRequest(text);
    if (!parsed.ok) return parsed;
    try {
      const body = await this.#call(parsed.request);
      return Object.assign({ ok: true }, body, { ok: true });
    } catch (e) {
      if (e instanceof ControlError) return errorReply(e.code, e.message);
      const message = e instanceof Error ? e.message : String(e);
      this.#logger?.error("control request failed", { cmd: parsed.request.cmd, error: message });
      return errorReply("internal", `internal error: ${message}`);
    }
  }

  #call(r: Request): Promise<object> {
    const c = this.#controller;
    switch (r.cmd) {
      case "ping":
        return Promise.resolve({ pong: true });
      case "version":
        return Promise.resolve({ version: this.#version });
      case "status":
        return c.status();
      case "status_jail":
        return c.statusJail(r.jail);
      case "jails":
        return c.jails();
      case "list":
        return r.ip === undefined
          ? (r.jail === undefined ? c.list() : c.list(r.jail))
          : c.list(r.jail, r.ip);
      case "banned":
        return c.banned(r.ips);
      case "ban":
        return "duration_s" in r ? c.ban(r.ip, r.jail, r.duration_s) : c.ban(r.ip, r.jail);
      case "unban": {
        const what = r.ips ?? r.ip!;
        return r.jail === undefined ? c.unban(what) : c.unban(what, r.jail);
      }
      case "unban_all":
        return c.unbanAll();
      case "ignore_add":
        return r.jail === undefined ? c.ignoreAdd(r.cidr) : c.ignoreAdd(r.cidr, r.jail);
      case "ignore_del":
        return r.jail === undefined ? c.ignoreDel(r.cidr) : c.ignoreDel(r.cidr, r.jail);
      case "ignore_list":
        return r.jail === undefined ? c.ignoreList() : c.ignoreList(r.jail);
      case "jail_stop":
        return c.jailStop(r.jail);
      case "jail_start":
        return c.jailStart(r.jail);
      case "reload":
        return c.reload();
      case "history":
        return r.limit === undefined ? c.history(r.ip) : c.history(r.ip, r.limit);
    }
  }

  /** Sends one reply; false when the peer is gone or too slow to take it. */
  async #send(fd: number, reply: object): Promise<boolean> {
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(reply, MAX_REPLY_BYTES);
    } catch (e) {
      if (!(e instanceof FrameTooLargeError)) throw e;
      bytes = encodeFrame(errorReply("internal", `reply too large: ${e.message}`));
    }
    const deadline = Date.now() + this.#limits.sendTimeoutMs;
    let off = 0;
    while (off < bytes.length) {
      let n: number | null;
      try {
        n = sendSome(fd, bytes.subarray(off));
      } catch {
        return false;
      }
      if (n !== null) {
        off += n;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.#closing) return false;
      await pollFd(fd, Poll.OUT, Math.min(left, POLL_SLICE_MS));
    }
    return true;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }
}

/**
 * Creates the control socket and starts serving it. Throws `SocketInUseError` when a live
 * server owns the path, and an `Error` naming the problem when the directory is unsafe.
 */
export async function startIpcServer(options: IpcServerOptions): Promise<IpcServer> {
  const path = options.path ?? DEFAULT_SOCKET_PATH;
  const limits: IpcLimits = { ...DEFAULT_IPC_LIMITS, ...options.limits };
  const groupName = options.group ?? DEFAULT_ADMIN_GROUP;
  const gid = groupId(groupName);
  if (gid === null) {
    options.logger?.warn(
      `group ${groupName} does not exist: control socket ${path} is root-only (mode 0600)`,
      { group: groupName },
    );
  }
  for (const w of prepareSocketDir(path, gid)) options.logger?.warn(w, { path });
  clearStaleSocket(path);
  const bound = bindSocketFile(path, gid);
  for (const w of bound.warnings) options.logger?.warn(w, { path });
  try {
    listenUnix(bound.fd, limits.backlog);
  } catch (e) {
    removeOwnSocket(path, bound);
    closeFd(bound.fd);
    throw e;
  }
  await Promise.resolve();
  return new IpcServer(bound, { path, gid: bound.mode === 0o660 ? gid : null, limits, options });
}
