/**
 * Netlink over libc: a socket that sends requests with sequence numbers and `NLM_F_ACK`, waits for
 * one answer per request without stalling the event loop, and turns kernel refusals into
 * `NetlinkError` (errno + the operation that failed). Also the byte-level helpers to write and read
 * netlink messages and attributes.
 *
 * Receiving: the kernel answers a netlink request inside `sendto()` itself (nfnetlink batches are
 * committed synchronously, and each `recv` of a dump fills the next chunk), so answers are
 * normally queued when `sendto` returns. `recv` is therefore called with `MSG_DONTWAIT` on the main
 * thread (errno readable), and only when nothing is queued yet does the socket wait, with `poll`
 * on a helper thread and a timeout.
 * @module
 */
import { Errno, errno, libc, strerror } from "./libc.ts";

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const POLLIN = 0x1;

/** Netlink protocol numbers used by the project. */
export const NETLINK_NETFILTER = 12;

/** Message flags (linux/netlink.h). */
export const NLM_F = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  ECHO: 0x8,
  ROOT: 0x100,
  MATCH: 0x200,
  DUMP: 0x300,
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  /** In an error message: the original request was cut (NETLINK_CAP_ACK). */
  CAPPED: 0x100,
  /** In an error message: extended-ack TLVs follow. */
  ACK_TLVS: 0x200,
} as const;

/** Control message types. */
export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;

const NLMSGERR_ATTR_MSG = 1;
const NLA_TYPE_MASK = 0x3fff;
/** `nlattr` flag marking a nested attribute. */
export const NLA_F_NESTED = 0x8000;

/** Socket buffer sizes asked for (with CAP_NET_ADMIN the FORCE variants lift the sysctl cap). */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** One `recv` reads at most this much; netlink datagrams are far smaller (≤ 32 KiB dumps). */
const RECV_BUFFER_BYTES = 256 * 1024;
/** How long to wait for the kernel's answer when none is queued yet. */
export const REPLY_TIMEOUT_MS = 5000;

/** The kernel (or the socket layer) refused a netlink operation. */
export class NetlinkError extends Error {
  /** Always `"NetlinkError"`. */
  override name = "NetlinkError";
  /** Positive errno, e.g. 1 for EPERM. */
  readonly errno: number;
  /** What was being done, e.g. "socket", "sendto", "NEWSETELEM banned_ipv4". */
  readonly operation: string;
  /** The kernel's extended-ack text, when it sent one. */
  readonly detail: string | undefined;
  /** The C library's text for the errno, plus the kernel's detail when present. */
  readonly reason: string;
  /** An error for `operation` that failed with errno `code`, with the kernel's `detail` if any. */
  constructor(operation: string, code: number, detail?: string) {
    const reason = `${strerror(code)}${detail ? `: ${detail}` : ""}`;
    super(`netlink ${operation} failed: ${reason} (errno ${code})`);
    this.reason = reason;
    this.errno = code;
    this.operation = operation;
    this.detail = detail;
  }
}

/** A parsed netlink message. */
export interface NlMessage {
  /** Message type (`NLMSG.*`, or a subsystem's type). */
  readonly type: number;
  /** `NLM_F.*` flags. */
  readonly flags: number;
  /** Sequence number, echoed by the kernel in its answer. */
  readonly seq: number;
  /** Port id of the sender (0 for the kernel). */
  readonly pid: number;
  /** Bytes after the 16-byte header. */
  readonly payload: Uint8Array;
}

/** A parsed attribute (type without the NESTED / BYTEORDER bits). */
export interface NlAttr {
  /** Attribute type. */
  readonly type: number;
  /** The attribute's payload, without header or padding. */
  readonly data: Uint8Array;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * Appends netlink messages and attributes into one growing buffer. Multi-byte integers in
 * netlink headers are host order (little-endian on every platform this runs on); nf_tables
 * attribute values are big-endian, hence `u32be`/`u64be`.
 */
export class MessageWriter {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  #len = 0;
  #msgStart = -1;
  #nests: number[] = [];

  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }

  /** The finished bytes (a copy-free view). */
  bytes(): Uint8Array {
    if (this.#msgStart !== -1 || this.#nests.length) {
      throw new Error("MessageWriter.bytes(): a message or nest is still open");
    }
    return this.#buf.subarray(0, this.#len);
  }

  #reserve(n: number): void {
    const need = this.#len + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  #pad(): void {
    const target = align4(this.#len);
    this.#reserve(target - this.#len);
    this.#buf.fill(0, this.#len, target);
    this.#len = target;
  }

  /** Starts a message: writes the 16-byte `nlmsghdr` (length patched by `endMessage`). */
  beginMessage(type: number, flags: number, seq: number): void {
    if (this.#msgStart !== -1) throw new Error("beginMessage(): previous message not ended");
    this.#pad();
    this.#reserve(16);
    this.#msgStart = this.#len;
    const v = this.#view;
    v.setUint32(this.#len, 0, true);
    v.setUint16(this.#len + 4, type, true);
    v.setUint16(this.#len + 6, flags, true);
    v.setUint32(this.#len + 8, seq >>> 0, true);
    v.setUint32(this.#len + 12, 0, true);
    this.#len += 16;
  }

  /** Ends the open message and patches its length. */
  endMessage(): void {
    if (this.#msgStart === -1) throw new Error("endMessage(): no open message");
    if (this.#nests.length) throw new Error("endMessage(): a nest is still open");
    this.#pad();
    this.#view.setUint32(this.#msgStart, this.#len - this.#msgStart, true);
    this.#msgStart = -1;
  }

  /** Raw bytes (family headers). */
  raw(data: Uint8Array): void {
    this.#reserve(data.length);
    this.#buf.set(data, this.#len);
    this.#len += data.length;
  }

  /** The 4-byte `nfgenmsg`: family, version 0, resource id (big-endian). */
  nfgenmsg(family: number, resId = 0): void {
    this.raw(Uint8Array.of(family, 0, (resId >> 8) & 0xff, resId & 0xff));
  }

  /** An attribute with raw bytes. */
  attr(type: number, data: Uint8Array): void {
    this.#pad();
    const len = 4 + data.length;
    if (len > 0xffff) throw new RangeError(`netlink attribute ${type} too long: ${len} bytes`);
    this.#reserve(len);
    this.#view.setUint16(this.#len, len, true);
    this.#view.setUint16(this.#len + 2, type, true);
    this.#buf.set(data, this.#len + 4);
    this.#len += len;
  }

  /** A NUL-terminated string attribute. */
  str(type: number, s: string): void {
    const enc = new TextEncoder().encode(s);
    const data = new Uint8Array(enc.length + 1);
    data.set(enc);
    this.attr(type, data);
  }

  /** A big-endian u32 attribute. */
  u32be(type: number, v: number): void {
    const d = new Uint8Array(4);
    new DataView(d.buffer).setUint32(0, v >>> 0, false);
    this.attr(type, d);
  }

  /** A big-endian u64 attribute. */
  u64be(type: number, v: bigint): void {
    const d = new Uint8Array(8);
    new DataView(d.buffer).setBigUint64(0, v, false);
    this.attr(type, d);
  }

  /** Opens a nested attribute; close it with `endNest()`. */
  beginNest(type: number): void {
    this.#pad();
    this.#reserve(4);
    this.#nests.push(this.#len);
    this.#view.setUint16(this.#len + 2, type | NLA_F_NESTED, true);
    this.#len += 4;
  }

  /** Closes the innermost nested attribute. */
  endNest(): void {
    const start = this.#nests.pop();
    if (start === undefined) throw new Error("endNest(): no open nest");
    const len = this.#len - start;
    if (len > 0xffff) throw new RangeError(`netlink nested attribute too long: ${len} bytes`);
    this.#view.setUint16(start, len, true);
    this.#pad();
  }

  /** Writes a nested attribute whose body `fill` writes. */
  nest(type: number, fill: () => void): void {
    this.beginNest(type);
    fill();
    this.endNest();
  }
}

/** Splits a datagram into messages; malformed lengths end the walk with an error. */
export function parseMessages(buf: Uint8Array): NlMessage[] {
  const out: NlMessage[] = [];
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + 16 <= buf.length) {
    const len = v.getUint32(off, true);
    if (len < 16 || off + len > buf.length) {
      throw new NetlinkError("recv", Errno.EINVAL, `malformed message length ${len} at ${off}`);
    }
    out.push({
      type: v.getUint16(off + 4, true),
      flags: v.getUint16(off + 6, true),
      seq: v.getUint32(off + 8, true),
      pid: v.getUint32(off + 12, true),
      payload: buf.subarray(off + 16, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** Reads the attributes in `buf` (from `offset`), in order; repeated types are kept. */
export function parseAttrs(buf: Uint8Array, offset = 0): NlAttr[] {
  const out: NlAttr[] = [];
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = offset;
  while (off + 4 <= buf.length) {
    const len = v.getUint16(off, true);
    if (len < 4 || off + len > buf.length) break;
    out.push({
      type: v.getUint16(off + 2, true) & NLA_TYPE_MASK,
      data: buf.subarray(off + 4, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** The first attribute of `type`, or undefined. */
export function findAttr(attrs: readonly NlAttr[], type: number): Uint8Array | undefined {
  for (const a of attrs) if (a.type === type) return a.data;
  return undefined;
}

/** Big-endian u32 / u64 / string readers for attribute payloads. */
export function readU32be(d: Uint8Array): number {
  return new DataView(d.buffer, d.byteOffset, d.byteLength).getUint32(0, false);
}
/** Big-endian u64 attribute payload. */
export function readU64be(d: Uint8Array): bigint {
  return new DataView(d.buffer, d.byteOffset, d.byteLength).getBigUint64(0, false);
}
/** NUL-terminated string attribute payload. */
export function readStr(d: Uint8Array): string {
  const end = d.indexOf(0);
  return new TextDecoder().decode(end === -1 ? d : d.subarray(0, end));
}

/** Errno and extended-ack text of an NLMSG_ERROR message (errno 0 = acknowledgement). */
export function parseError(msg: NlMessage): { errno: number; ackedSeq: number; detail?: string } {
  const p = msg.payload;
  if (p.length < 4 + 16) {
    throw new NetlinkError("recv", Errno.EINVAL, `short NLMSG_ERROR (${p.length} bytes)`);
  }
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const code = -v.getInt32(0, true);
  const ackedSeq = v.getUint32(4 + 8, true);
  let detail: string | undefined;
  if (msg.flags & NLM_F.ACK_TLVS) {
    const origLen = v.getUint32(4, true);
    const tlvStart = 4 + (msg.flags & NLM_F.CAPPED ? 16 : align4(origLen));
    const msgAttr = findAttr(parseAttrs(p, tlvStart), NLMSGERR_ATTR_MSG);
    if (msgAttr) detail = readStr(msgAttr);
  }
  return detail === undefined ? { errno: code, ackedSeq } : { errno: code, ackedSeq, detail };
}

/** Options of `NetlinkSocket.open`. */
export interface NetlinkSocketOptions {
  /** How long to wait for an answer that is not queued yet. @default REPLY_TIMEOUT_MS */
  replyTimeoutMs?: number;
}

/** One netlink socket. Not safe for concurrent requests: callers serialise (see `Mutex`). */
export class NetlinkSocket {
  #fd: number;
  #seq: number;
  #timeout: number;
  #rbuf = new Uint8Array(RECV_BUFFER_BYTES);
  #addr = new Uint8Array(12);

  private constructor(fd: number, timeoutMs: number) {
    this.#fd = fd;
    this.#timeout = timeoutMs;
    this.#seq = (Math.floor(Date.now() / 1000) & 0x3fffffff) >>> 0;
    new DataView(this.#addr.buffer).setUint16(0, AF_NETLINK, true);
  }

  /** Opens and binds a netlink socket; throws `NetlinkError` ("socket"/"bind"). */
  static open(protocol: number, options: NetlinkSocketOptions = {}): NetlinkSocket {
    const c = libc();
    const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) throw new NetlinkError("socket", errno());
    const sock = new NetlinkSocket(fd, options.replyTimeoutMs ?? REPLY_TIMEOUT_MS);
    if (c.bind(fd, sock.#addr, 12) < 0) {
      const e = errno();
      c.close(fd);
      throw new NetlinkError("bind", e);
    }
    sock.#setInt(SOL_NETLINK, NETLINK_EXT_ACK, 1);
    sock.#setInt(SOL_NETLINK, NETLINK_CAP_ACK, 1);
    if (!sock.#setInt(SOL_SOCKET, SO_SNDBUFFORCE, SOCKET_BUFFER_BYTES)) {
      sock.#setInt(SOL_SOCKET, SO_SNDBUF, SOCKET_BUFFER_BYTES);
    }
    if (!sock.#setInt(SOL_SOCKET, SO_RCVBUFFORCE, SOCKET_BUFFER_BYTES)) {
      sock.#setInt(SOL_SOCKET, SO_RCVBUF, SOCKET_BUFFER_BYTES);
    }
    return sock;
  }

  #setInt(level: number, name: number, value: number): boolean {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, value, true);
    return libc().setsockopt(this.#fd, level, name, b, 4) === 0;
  }

  /** A fresh sequence number. */
  nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0;
    if (this.#seq === 0) this.#seq = 1;
    return this.#seq;
  }

  /** Sends one datagram (one message or a whole batch) to the kernel. */
  send(bytes: Uint8Array, operation: string): void {
    if (this.#fd < 0) throw new NetlinkError(operation, Errno.EBADF, "socket is closed");
    const n = Number(libc().sendto(this.#fd, bytes, BigInt(bytes.length), 0, this.#addr, 12));
    if (n < 0) throw new NetlinkError(`${operation} (sendto)`, errno());
    if (n !== bytes.length) {
      throw new NetlinkError(
        `${operation} (sendto)`,
        Errno.EMSGSIZE,
        `sent ${n} of ${bytes.length} bytes`,
      );
    }
  }

  /** Receives one datagram's messages, waiting up to the reply timeout. */
  async receive(operation: string): Promise<NlMessage[]> {
    const deadline = Date.now() + this.#timeout;
    for (;;) {
      const got = this.receiveNow(operation);
      if (got !== null) return got;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new NetlinkError(
          operation,
          Errno.ETIMEDOUT,
          `no answer from the kernel in ${this.#timeout} ms`,
        );
      }
      await this.#waitReadable(left);
    }
  }

  /** Receives one queued datagram without waiting; null when nothing is queued. */
  receiveNow(operation: string): NlMessage[] | null {
    if (this.#fd < 0) throw new NetlinkError(operation, Errno.EBADF, "socket is closed");
    const n = Number(
      libc().recv(this.#fd, this.#rbuf, BigInt(this.#rbuf.length), MSG_DONTWAIT | MSG_TRUNC),
    );
    if (n < 0) {
      const e = errno();
      if (e === Errno.EAGAIN || e === Errno.EINTR) return null;
      throw new NetlinkError(
        `${operation} (recv)`,
        e,
        e === Errno.ENOBUFS ? "answers were lost" : undefined,
      );
    }
    if (n > this.#rbuf.length) {
      throw new NetlinkError(
        `${operation} (recv)`,
        Errno.EMSGSIZE,
        `datagram of ${n} bytes truncated`,
      );
    }
    return parseMessages(this.#rbuf.slice(0, n));
  }

  async #waitReadable(timeoutMs: number): Promise<void> {
    const pfd = new Uint8Array(8);
    const v = new DataView(pfd.buffer);
    v.setInt32(0, this.#fd, true);
    v.setInt16(4, POLLIN, true);
    await libc().poll(pfd, 1n, Math.max(1, Math.min(timeoutMs, 2 ** 31 - 1)));
  }

  /**
   * Sends `bytes` (requests carrying `NLM_F_ACK` with the sequence numbers in `expected`, each
   * mapped to a label for errors) and waits until every one is acknowledged or refused. Non-ack
   * answers (e.g. NLM_F_ECHO copies) are returned. The first refusal is thrown as a
   * `NetlinkError` after the remaining answers are drained, so the socket stays in step.
   * `optional` seqs need no answer, but a refusal of one fails the request: nfnetlink refuses a
   * whole batch (e.g. EPERM without CAP_NET_ADMIN) by answering its BATCH_BEGIN message only.
   */
  async request(
    bytes: Uint8Array,
    expected: ReadonlyMap<number, string>,
    optional: ReadonlyMap<number, string> = new Map(),
  ): Promise<NlMessage[]> {
    const firstLabel = expected.values().next().value ?? "request";
    this.send(bytes, firstLabel);
    const pending = new Set(expected.keys());
    const answers: NlMessage[] = [];
    let failure: NetlinkError | null = null;
    while (pending.size > 0) {
      let batch: NlMessage[] | null;
      if (failure !== null) {
        // After a refusal the kernel has already queued everything it will send for this batch.
        batch = this.receiveNow(firstLabel);
        if (batch === null) break;
      } else {
        batch = await this.receive(firstLabel);
      }
      for (const m of batch) {
        if (m.type === NLMSG.ERROR) {
          const e = parseError(m);
          const seq = m.seq !== 0 ? m.seq : e.ackedSeq;
          const label = expected.get(seq) ?? optional.get(seq);
          if (label === undefined) continue;
          pending.delete(seq);
          if (e.errno !== 0 && failure === null) {
            failure = new NetlinkError(label, e.errno, e.detail);
          }
        } else if (expected.has(m.seq)) {
          answers.push(m);
        }
      }
    }
    if (failure !== null) throw failure;
    return answers;
  }

  /**
   * Sends one dump request (`NLM_F_DUMP`, sequence `seq`) and collects every answer up to
   * NLMSG_DONE; an error (in NLMSG_ERROR or carried by NLMSG_DONE) is thrown.
   */
  async dump(bytes: Uint8Array, seq: number, operation: string): Promise<NlMessage[]> {
    this.send(bytes, operation);
    const out: NlMessage[] = [];
    for (;;) {
      const batch = await this.receive(operation);
      for (const m of batch) {
        if (m.seq !== seq) continue;
        if (m.type === NLMSG.DONE) {
          const code = m.payload.length >= 4
            ? -new DataView(m.payload.buffer, m.payload.byteOffset, 4).getInt32(0, true)
            : 0;
          if (code !== 0) throw new NetlinkError(operation, code);
          // A trailing ACK some kernels send after DONE is ignored by the next request (old seq).
          return out;
        }
        if (m.type === NLMSG.ERROR) {
          const e = parseError(m);
          if (e.errno !== 0) throw new NetlinkError(operation, e.errno, e.detail);
          continue;
        }
        out.push(m);
      }
    }
  }

  /** Closes the socket (idempotent). */
  close(): void {
    if (this.#fd < 0) return;
    libc().close(this.#fd);
    this.#fd = -1;
  }
}
