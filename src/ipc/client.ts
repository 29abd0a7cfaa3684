/**
 * The control socket client: connects through FFI (so that errors keep their errno: no socket,
 * refused, permission denied), sends framed requests and reads framed replies. Every wait is a
 * `poll` on a helper thread, so a server in the same process keeps running (tests rely on it).
 * @module
 */
import {
  closeFd,
  connectUnix,
  ErrnoError,
  Poll,
  pollFd,
  recvSome,
  sendSome,
  UnixErrno,
  unixSocket,
} from "../ffi/mod.ts";
import { encodeFrame, FrameDecoder, MAX_REPLY_BYTES } from "./frame.ts";
import { ERROR_CODES, type ErrorCode } from "./protocol.ts";

/** Default time to wait for a connection (the listener's backlog may be full). */
export const CONNECT_TIMEOUT_MS = 5000;
/** Default time to wait for a reply (`reload` may take a while). */
export const REPLY_TIMEOUT_MS = 120_000;
/** Pause between connection attempts while the backlog is full. */
const CONNECT_RETRY_MS = 10;

/** Why a connection failed. */
export type ConnectFailure = "no_socket" | "refused" | "permission_denied" | "timeout" | "other";

/** The daemon could not be reached. `reason` says why; the message names the path. */
export class IpcConnectError extends Error {
  /** Always `"IpcConnectError"`. */
  override name = "IpcConnectError";
  /** Why the connection failed. */
  readonly reason: ConnectFailure;
  /** A failure for `reason`; `message` names the socket path. */
  constructor(reason: ConnectFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** The daemon answered something that is not a valid reply, or hung up without one. */
export class IpcProtocolError extends Error {
  /** Always `"IpcProtocolError"`. */
  override name = "IpcProtocolError";
}

/** A reply as received: `{"ok":true,…}` or `{"ok":false,"code","error"}`. */
export type Reply =
  | ({ ok: true } & Record<string, unknown>)
  | { ok: false; code: ErrorCode; error: string };

function describeConnect(path: string, e: ErrnoError): IpcConnectError {
  switch (e.errno) {
    case UnixErrno.ENOENT:
      return new IpcConnectError(
        "no_socket",
        `no socket at ${path} (is the daemon running? is socket_path right?)`,
      );
    case UnixErrno.ECONNREFUSED:
      return new IpcConnectError(
        "refused",
        `connection refused at ${path} (stale socket: the daemon is not running)`,
      );
    case UnixErrno.EACCES:
    case UnixErrno.EPERM:
      return new IpcConnectError(
        "permission_denied",
        `permission denied on ${path} (run as root or as a member of the fail2zig group)`,
      );
    default:
      return new IpcConnectError("other", `cannot connect to ${path}: ${e.message}`);
  }
}

/** Options of `IpcClient.connect`. */
export interface ConnectOptions {
  /** How long to wait for the connection. @default CONNECT_TIMEOUT_MS */
  timeoutMs?: number;
}

/** One connection to the control socket. Requests on it are answered in order. */
export class IpcClient {
  #fd: number;
  #decoder = new FrameDecoder(MAX_REPLY_BYTES);
  #chunk = new Uint8Array(64 * 1024);
  #closed = false;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Connects to `path`. Throws `IpcConnectError`. */
  static async connect(path: string, options: ConnectOptions = {}): Promise<IpcClient> {
    const deadline = Date.now() + (options.timeoutMs ?? CONNECT_TIMEOUT_MS);
    let fd: number;
    try {
      fd = unixSocket("stream");
    } catch (e) {
      throw new IpcConnectError("other", `cannot create a socket: ${(e as Error).message}`);
    }
    try {
      for (;;) {
        if (connectUnix(fd, path)) return new IpcClient(fd);
        if (Date.now() >= deadline) {
          throw new IpcConnectError("timeout", `daemon at ${path} did not accept the connection`);
        }
        await new Promise((r) => setTimeout(r, CONNECT_RETRY_MS));
      }
    } catch (e) {
      closeFd(fd);
      if (e instanceof ErrnoError) throw describeConnect(path, e);
      if (e instanceof RangeError) throw new IpcConnectError("other", e.message);
      throw e;
    }
  }

  /** Sends `request` and returns the daemon's reply. */
  async request(request: object, timeoutMs: number = REPLY_TIMEOUT_MS): Promise<Reply> {
    await this.send(encodeFrame(request));
    return await this.receive(timeoutMs);
  }

  /**
   * Writes raw bytes (a frame, or anything for tests). A peer that hung up is not an error
   * here: it may have left a reply (`unauthorized`) that `receive()` will read.
   */
  async send(bytes: Uint8Array, timeoutMs: number = REPLY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let off = 0;
    while (off < bytes.length) {
      let n: number | null;
      try {
        n = sendSome(this.#fd, bytes.subarray(off));
      } catch (e) {
        if (
          e instanceof ErrnoError &&
          (e.errno === UnixErrno.EPIPE || e.errno === UnixErrno.ECONNRESET)
        ) return;
        throw e;
      }
      if (n !== null) {
        off += n;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new IpcProtocolError("daemon did not take the request in time");
      await pollFd(this.#fd, Poll.OUT, Math.min(left, 1000));
    }
  }

  /** Reads the next reply frame. Throws `IpcProtocolError` on hang-up, timeout or bad reply. */
  async receive(timeoutMs: number = REPLY_TIMEOUT_MS): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.#decoder.next();
      if (frame !== null) {
        if (frame.kind === "too_large") {
          throw new IpcProtocolError(
            `expected a reply of at most ${MAX_REPLY_BYTES} bytes, found ${frame.length}`,
          );
        }
        return parseReply(frame.text);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new IpcProtocolError(`no reply within ${timeoutMs} ms`);
      const ev = await pollFd(this.#fd, Poll.IN, Math.min(left, 1000));
      if (ev === 0) continue;
      let n: number | null;
      try {
        n = recvSome(this.#fd, this.#chunk);
      } catch (e) {
        if (e instanceof ErrnoError && e.errno === UnixErrno.ECONNRESET) n = 0;
        else throw e;
      }
      if (n === null) continue;
      if (n === 0) throw new IpcProtocolError("the daemon closed the connection without a reply");
      this.#decoder.push(this.#chunk.subarray(0, n));
    }
  }

  /** Closes the connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFd(this.#fd);
  }
}

function parseReply(text: string | null): Reply {
  if (text === null) throw new IpcProtocolError("expected a UTF-8 reply, found invalid UTF-8");
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new IpcProtocolError("expected a JSON reply, found invalid JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new IpcProtocolError("expected a JSON object reply");
  }
  const r = v as Record<string, unknown>;
  if (r.ok === true) return r as Reply;
  if (
    r.ok === false && typeof r.code === "string" && typeof r.error === "string" &&
    (ERROR_CODES as readonly string[]).includes(r.code)
  ) {
    return { ok: false, code: r.code as ErrorCode, error: r.error };
  }
  throw new IpcProtocolError(
    `expected {"ok":true,…} or {"ok":false,"code","error"}, found ${text.slice(0, 200)}`,
  );
}
