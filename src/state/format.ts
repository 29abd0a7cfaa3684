/**
 * The state file format (version 2), pure: bytes in, records out. Layout in docs/state.md.
 *
 *   header (24 bytes) · records (type u8, length u32, payload) · END record · CRC32 (u32)
 *
 * All integers little-endian; times are f64 ms since the epoch. The CRC32 (IEEE) trails the file
 * and covers every byte before it, header included, so the file can be written as a stream.
 * Decoding validates everything (checksum, structure, every value) before it yields a record:
 * a file is used whole or not at all.
 *
 * Versions: a file of an older version that the decoder still reads (`STATE_VERSIONS_READ`) is
 * migrated, never discarded: version 1 is version 2 without the AUDIT record (the audit chain's
 * head), so it decodes with `audit: null`. The encoder can still write version 1 (fixtures).
 * @module
 */
import { crc32 } from "../hash/mod.ts";
import { cidrError, formatIp, maskBytes, parseCidr, parseIp } from "../net/mod.ts";
import type {
  StateAuditHead,
  StateBan,
  StateData,
  StateFailures,
  StateHistory,
  StateIgnore,
  StateInput,
  StatePosition,
} from "./types.ts";

/** "F2ZS". */
export const STATE_MAGIC = 0x535a3246;
/** Format version written. */
export const STATE_VERSION = 2;
/** Format versions read (older ones are migrated on load). */
export const STATE_VERSIONS_READ: readonly number[] = [1, 2];
/** Header bytes. */
export const STATE_HEADER_BYTES = 24;
/** Files larger than this are refused (decode) and never written (encode throws). */
export const MAX_STATE_BYTES = 256 * 1024 * 1024;
/** Most failure times per failure record. */
export const MAX_FAILURE_TIMES = 1000;
/** Longest position key, UTF-8 bytes. */
export const MAX_POSITION_KEY_BYTES = 4096;
/** Longest position payload. */
export const MAX_POSITION_DATA_BYTES = 64 * 1024;
/** Longest jail name, UTF-8 bytes. */
export const MAX_JAIL_NAME_BYTES = 255;
/** Earliest time accepted (2000-01-01): anything before it, or after `MAX_TIME_MS`, is impossible. */
export const MIN_TIME_MS = 946_684_800_000;
/** Latest time accepted (2100-01-01). */
export const MAX_TIME_MS = 4_102_444_800_000;
/** Size of the chunks handed to the sink while encoding. */
const CHUNK_BYTES = 64 * 1024;

const REC_JAIL = 1;
const REC_BAN = 2;
const REC_HISTORY = 3;
const REC_FAILURES = 4;
const REC_POSITION = 5;
const REC_IGNORE = 6;
/** Version 2: the audit chain's head (next seq, last hash). */
const REC_AUDIT = 7;
const AUDIT_HASH_BYTES = 32;
/** Jail id of an IGNORE record that applies to every jail. */
const EVERY_JAIL = 0xffff;
const REC_END = 0xff;
const REC_HEAD = 5;
const FLAG_PERMANENT = 1;

/** Result of decoding: the records, or why the file was refused. */
export type DecodeResult<T> = { readonly ok: true; readonly state: T } | {
  readonly ok: false;
  readonly reason: string;
};

// ---- encoding ----

/** Accumulates bytes into fixed chunks, keeping the running CRC. */
class ChunkWriter {
  #buf = new Uint8Array(CHUNK_BYTES);
  #view = new DataView(this.#buf.buffer);
  #pos = 0;
  #crc = 0;
  #total = 0;
  readonly #sink: (chunk: Uint8Array) => void;
  constructor(sink: (chunk: Uint8Array) => void) {
    this.#sink = sink;
  }
  get total(): number {
    return this.#total + this.#pos;
  }
  get crc(): number {
    return crc32(this.#buf.subarray(0, this.#pos), this.#crc);
  }
  #room(n: number): void {
    if (this.#pos + n > CHUNK_BYTES) this.flush();
  }
  flush(): void {
    if (this.#pos === 0) return;
    const chunk = this.#buf.subarray(0, this.#pos);
    this.#crc = crc32(chunk, this.#crc);
    this.#total += this.#pos;
    this.#sink(chunk);
    this.#pos = 0;
    if (this.#total > MAX_STATE_BYTES) {
      throw new RangeError(`state exceeds ${MAX_STATE_BYTES} bytes`);
    }
  }
  u8(v: number): void {
    this.#room(1);
    this.#view.setUint8(this.#pos, v);
    this.#pos += 1;
  }
  u16(v: number): void {
    this.#room(2);
    this.#view.setUint16(this.#pos, v, true);
    this.#pos += 2;
  }
  u32(v: number): void {
    this.#room(4);
    this.#view.setUint32(this.#pos, v, true);
    this.#pos += 4;
  }
  f64(v: number): void {
    this.#room(8);
    this.#view.setFloat64(this.#pos, v, true);
    this.#pos += 8;
  }
  bytes(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) {
      if (this.#pos === CHUNK_BYTES) this.flush();
      const n = Math.min(b.length - off, CHUNK_BYTES - this.#pos);
      this.#buf.set(b.subarray(off, off + n), this.#pos);
      this.#pos += n;
      off += n;
    }
  }
}

const encoder = new TextEncoder();

function timeOk(t: number): boolean {
  return t >= MIN_TIME_MS && t <= MAX_TIME_MS;
}

/**
 * Why an address (family 4 or 6, network-order bytes) under `prefix` is impossible in a state
 * file, or `null`. One rule for both directions: the encoder never writes what the decoder
 * refuses. `bytes` must have host bits clear.
 */
function addressProblem(fam: number, prefix: number, b: Uint8Array, a: number): string | null {
  const n = fam === 4 ? 4 : fam === 6 ? 16 : 0;
  if (n === 0) return `impossible address family ${fam}`;
  if (fam === 4 ? prefix !== 32 : !(prefix >= 16 && prefix <= 128)) {
    return `impossible prefix /${prefix} for IPv${fam}`;
  }
  let mapped = fam === 6;
  let zeroHead = true; // every byte but the last is 0
  for (let k = 0; k < n; k++) {
    const v = b[a + k]!;
    if (fam === 6 && k < 12 && v !== (k < 10 ? 0 : 0xff)) mapped = false;
    if (k < n - 1 && v !== 0) zeroHead = false;
    const kept = prefix - 8 * k;
    if (kept < 8 && (v & (kept <= 0 ? 0xff : 0xff >> kept)) !== 0) {
      return `host bits set under /${prefix}`;
    }
  }
  if (mapped) return "v4-mapped address stored as IPv6";
  const last = b[a + n - 1]!;
  if (fam === 4 ? b[a] === 127 || (zeroHead && last === 0) : zeroHead && last <= 1) {
    return "never-bannable address";
  }
  return null;
}

/** Network-order address bytes of a record (its `addr`, or `ip` parsed and masked), or a reason. */
function recordAddress(
  r: { readonly ip: string; readonly prefix: number; readonly addr?: Uint8Array },
): Uint8Array | string {
  let b: Uint8Array;
  if (r.addr !== undefined) {
    b = r.addr;
  } else {
    const p = parseIp(r.ip);
    if (p === null) return `not an IP address: ${JSON.stringify(r.ip)}`;
    if (!Number.isInteger(r.prefix) || r.prefix < 0 || r.prefix > p.bytes.length * 8) {
      return `impossible prefix /${r.prefix} for ${r.ip}`;
    }
    b = maskBytes(p.bytes, r.prefix);
  }
  return addressProblem(b.length === 4 ? 4 : b.length === 16 ? 6 : 0, r.prefix, b, 0) ?? b;
}

/** Options of `encodeStateTo`. */
export interface EncodeOptions {
  /**
   * Called for each record left out because the decoder would refuse it (an impossible address,
   * prefix, time or count, an over-long key…). Writing the rest keeps the file loadable.
   */
  readonly onSkip?: (what: string, reason: string) => void;
  /**
   * Format version to write: `STATE_VERSION`, or 1 (without the audit head; for the fixture of
   * the older format). @default STATE_VERSION
   */
  readonly version?: 1 | 2;
}

/** Why an audit head cannot be stored, or null. */
function auditProblem(a: StateAuditHead): string | null {
  if (!Number.isSafeInteger(a.seq) || a.seq < 0) return `impossible audit seq ${a.seq}`;
  if (!/^[0-9a-f]{64}$/.test(a.prev)) return "audit hash of 64 hex digits expected";
  return null;
}

/**
 * Streams the encoded state to `sink` in chunks of at most 64 KiB (each chunk is only valid
 * during the call: write or copy it). Iterables are consumed once, synchronously. Records the
 * decoder would refuse are skipped (see `EncodeOptions.onSkip`), so a written file always loads.
 * @returns total bytes written
 * @throws RangeError when `savedAt` is not a time between 2000 and 2100, or the state would
 *   exceed `MAX_STATE_BYTES`
 */
export function encodeStateTo(
  input: StateInput,
  sink: (chunk: Uint8Array) => void,
  options: EncodeOptions = {},
): number {
  if (!timeOk(input.savedAt)) {
    throw new RangeError(`expected a save time between 2000 and 2100, found ${input.savedAt}`);
  }
  const skip = options.onSkip ?? (() => {});
  const version = options.version ?? STATE_VERSION;
  const w = new ChunkWriter(sink);
  writeHeader(w, version, input.savedAt);
  let records = 0;
  const jails = new Map<string, number>();
  /** The jail's id, declaring it first; -1 when the name cannot be stored. */
  const jailId = (name: string): number => {
    let id = jails.get(name);
    if (id !== undefined) return id;
    const bytes = encoder.encode(name);
    if (bytes.length === 0 || bytes.length > MAX_JAIL_NAME_BYTES || jails.size >= EVERY_JAIL) {
      return -1;
    }
    id = jails.size;
    jails.set(name, id);
    w.u8(REC_JAIL);
    w.u32(2 + bytes.length);
    w.u16(id);
    w.bytes(bytes);
    records++;
    return id;
  };
  const head = (type: number, len: number) => {
    w.u8(type);
    w.u32(len);
    records++;
  };
  const addr = (jail: number, a: Uint8Array, prefix: number) => {
    w.u16(jail);
    w.u8(a.length === 4 ? 4 : 6);
    w.u8(prefix);
    w.bytes(a);
  };
  /** Address and jail id of a record, or null after reporting why it is skipped. */
  const prepare = (
    what: string,
    r: { readonly jail: string; readonly ip: string; readonly prefix: number; addr?: Uint8Array },
    problem: string | null,
  ): [Uint8Array, number] | null => {
    const a = recordAddress(r);
    const reason = typeof a === "string" ? a : problem;
    if (reason !== null) {
      skip(`${what} ${r.ip} in ${r.jail}`, reason);
      return null;
    }
    const id = jailId(r.jail);
    if (id < 0) {
      skip(`${what} ${r.ip}`, `jail name of 1..${MAX_JAIL_NAME_BYTES} bytes expected`);
      return null;
    }
    return [a as Uint8Array, id];
  };
  for (const b of input.bans) {
    const problem = !timeOk(b.bannedAt)
      ? `impossible ban time ${b.bannedAt}`
      : b.expiresAt !== null && !(b.expiresAt > b.bannedAt && b.expiresAt <= MAX_TIME_MS)
      ? `impossible expiry ${b.expiresAt}`
      : !(b.banCount >= 1)
      ? `impossible ban count ${b.banCount}`
      : null;
    const ok = prepare("ban", b, problem);
    if (ok === null) continue;
    const [a, id] = ok;
    head(REC_BAN, 4 + a.length + 1 + 8 + 8 + 4);
    addr(id, a, b.prefix);
    w.u8(b.expiresAt === null ? FLAG_PERMANENT : 0);
    w.f64(b.bannedAt);
    w.f64(b.expiresAt ?? 0);
    w.u32(Math.min(0xffffffff, b.banCount));
  }
  for (const h of input.history) {
    const problem = !timeOk(h.lastBanAt)
      ? `impossible last ban time ${h.lastBanAt}`
      : !(h.banCount >= 1)
      ? `impossible ban count ${h.banCount}`
      : null;
    const ok = prepare("history", h, problem);
    if (ok === null) continue;
    const [a, id] = ok;
    head(REC_HISTORY, 4 + a.length + 4 + 8);
    addr(id, a, h.prefix);
    w.u32(Math.min(0xffffffff, h.banCount));
    w.f64(h.lastBanAt);
  }
  for (const f of input.failures) {
    const times = f.times.slice(-MAX_FAILURE_TIMES);
    if (times.length === 0) continue;
    const problem = times.every((t, i) => timeOk(t) && (i === 0 || t >= times[i - 1]!))
      ? null
      : "failure times out of range or out of order";
    const ok = prepare("failures", f, problem);
    if (ok === null) continue;
    const [a, id] = ok;
    head(REC_FAILURES, 4 + a.length + 2 + 8 * times.length);
    addr(id, a, f.prefix);
    w.u16(times.length);
    for (const t of times) w.f64(t);
  }
  writeExtras(w, input, version, head, jailId, skip);
  w.u8(REC_END);
  w.u32(4);
  w.u32(records);
  const crc = w.crc;
  w.u32(crc);
  w.flush();
  return w.total;
}

/** The 24-byte header: magic, version, header length, flags 0, save time, reserved 0. */
function writeHeader(w: ChunkWriter, version: number, savedAt: number): void {
  w.u32(STATE_MAGIC);
  w.u16(version);
  w.u16(STATE_HEADER_BYTES);
  w.u32(0);
  w.f64(savedAt);
  w.u32(0);
}

/**
 * The encoder's records that carry no address (positions, runtime ignore entries, the audit
 * head), written through `head` (type and length, counted) and `jailId`.
 */
function writeExtras(
  w: ChunkWriter,
  input: StateInput,
  version: number,
  head: (type: number, len: number) => void,
  jailId: (name: string) => number,
  skip: (what: string, reason: string) => void,
): void {
  const keys = new Set<string>();
  for (const p of input.positions) {
    const key = encoder.encode(p.key);
    if (key.length === 0 || key.length > MAX_POSITION_KEY_BYTES || keys.has(p.key)) {
      skip(`position ${JSON.stringify(p.key.slice(0, 64))}`, "empty, too long or repeated key");
      continue;
    }
    if (p.data.length > MAX_POSITION_DATA_BYTES) {
      skip(
        `position ${JSON.stringify(p.key.slice(0, 64))}`,
        `data over ${MAX_POSITION_DATA_BYTES} bytes`,
      );
      continue;
    }
    keys.add(p.key);
    head(REC_POSITION, 2 + key.length + 4 + p.data.length);
    w.u16(key.length);
    w.bytes(key);
    w.u32(p.data.length);
    w.bytes(p.data);
  }
  for (const i of input.ignores ?? []) {
    const cidr = cidrError(i.cidr) === null ? parseCidr(i.cidr) : null;
    const id = i.jail === null ? EVERY_JAIL : jailId(i.jail);
    if (cidr === null || id < 0) {
      skip(`ignore ${i.cidr}`, cidr === null ? "not an address or CIDR" : "impossible jail name");
      continue;
    }
    const a = cidr.ip.bytes;
    head(REC_IGNORE, 2 + 1 + 1 + a.length);
    w.u16(id);
    w.u8(cidr.ip.family);
    w.u8(cidr.prefixLen);
    w.bytes(a);
  }
  const audit = input.audit ?? null;
  if (audit !== null) {
    const problem = version < 2 ? "version 1 has no audit record" : auditProblem(audit);
    if (problem !== null) skip("audit head", problem);
    else {
      head(REC_AUDIT, 8 + AUDIT_HASH_BYTES);
      w.f64(audit.seq);
      for (let i = 0; i < AUDIT_HASH_BYTES; i++) {
        w.u8(parseInt(audit.prev.slice(2 * i, 2 * i + 2), 16));
      }
    }
  }
}

/** Encodes the whole state into one buffer (small states and tests; see `encodeStateTo`). */
export function encodeState(input: StateInput, options: EncodeOptions = {}): Uint8Array {
  const chunks: Uint8Array[] = [];
  const total = encodeStateTo(input, (c) => chunks.push(c.slice()), options);
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

// ---- decoding ----

class Reject extends Error {}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function fail(message: string): never {
  throw new Reject(message);
}

function checkTime(t: number, what: string, at: number): void {
  if (!(t >= MIN_TIME_MS && t <= MAX_TIME_MS)) {
    fail(`impossible ${what} ${t} in the record at byte ${at} (expected ms between 2000 and 2100)`);
  }
}

type Item =
  | { readonly kind: "ban"; readonly value: StateBan }
  | { readonly kind: "history"; readonly value: StateHistory }
  | { readonly kind: "failures"; readonly value: StateFailures }
  | { readonly kind: "position"; readonly value: StatePosition }
  | { readonly kind: "ignore"; readonly value: StateIgnore }
  | { readonly kind: "audit"; readonly value: StateAuditHead };

/** Walks the records of a framed file, validating every value; throws `Reject`. */
function* walk(bytes: Uint8Array, want: Item["kind"] | null): Generator<Item, number> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  let audits = 0;
  const savedAt = view.getFloat64(12, true);
  checkTime(savedAt, "save time", 12);
  const jails = new Map<number, string>();
  const names = new Set<string>();
  const keys = new Set<string>();
  const end = bytes.length - 4;
  let pos = STATE_HEADER_BYTES;
  let records = 0;
  for (;;) {
    if (pos + REC_HEAD > end) fail(`truncated record header at byte ${pos}`);
    const at = pos;
    const type = bytes[pos]!;
    const len = view.getUint32(pos + 1, true);
    pos += REC_HEAD;
    if (len > end - pos) fail(`record at byte ${at} claims ${len} bytes, only ${end - pos} remain`);
    const stop = pos + len;
    if (type === REC_END) {
      checkEnd(view, pos, len, records, end - stop);
      return savedAt;
    }
    records++;
    const jailOf = (): string => {
      const id = view.getUint16(pos, true);
      const name = jails.get(id);
      if (name === undefined) fail(`record at byte ${at} refers to undeclared jail ${id}`);
      return name;
    };
    /** Validates the address fields in place; formats the address only when `emit`. */
    const address = (emit: boolean): { ip: string; prefix: number } => {
      const fam = bytes[pos + 2]!;
      const prefix = bytes[pos + 3]!;
      const n = fam === 4 ? 4 : 16;
      if (fam === 4 || fam === 6) {
        if (pos + 4 + n > stop) fail(`record at byte ${at} too short for its address`);
      }
      const problem = addressProblem(fam, prefix, bytes, pos + 4);
      if (problem !== null) fail(`${problem} at byte ${at}`);
      const a = pos + 4;
      pos += 4 + n;
      if (!emit) return { ip: "", prefix };
      return { ip: formatIp({ family: fam as 4 | 6, bytes: bytes.slice(a, a + n) }), prefix };
    };
    const need = (n: number) => {
      if (stop - pos !== n) {
        fail(`record of type ${type} at byte ${at} has ${stop - pos} bytes left, expected ${n}`);
      }
    };
    switch (type) {
      case REC_JAIL:
        readJail({ bytes, view, pos, len, stop, at }, jails, names);
        break;
      case REC_BAN: {
        const jail = jailOf();
        const { ip, prefix } = address(want === "ban");
        need(1 + 8 + 8 + 4);
        const fields = readBanFields(bytes, view, pos, at);
        if (want === "ban") yield { kind: "ban", value: { jail, ip, prefix, ...fields } };
        break;
      }
      case REC_HISTORY: {
        const jail = jailOf();
        const { ip, prefix } = address(want === "history");
        need(4 + 8);
        const banCount = view.getUint32(pos, true);
        const lastBanAt = view.getFloat64(pos + 4, true);
        if (banCount < 1) fail(`history with a ban count of 0 at byte ${at}`);
        checkTime(lastBanAt, "last ban time", at);
        if (want === "history") {
          yield { kind: "history", value: { jail, ip, prefix, banCount, lastBanAt } };
        }
        break;
      }
      case REC_FAILURES: {
        const jail = jailOf();
        const { ip, prefix } = address(want === "failures");
        if (stop - pos < 2) fail(`failure record too short at byte ${at}`);
        const n = view.getUint16(pos, true);
        pos += 2;
        if (n < 1 || n > MAX_FAILURE_TIMES) fail(`impossible failure count ${n} at byte ${at}`);
        need(8 * n);
        const times: number[] = [];
        let prev = -Infinity;
        for (let i = 0; i < n; i++) {
          const t = view.getFloat64(pos + 8 * i, true);
          checkTime(t, "failure time", at);
          if (t < prev) fail(`failure times out of order at byte ${at}`);
          prev = t;
          if (want === "failures") times.push(t);
        }
        if (want === "failures") yield { kind: "failures", value: { jail, ip, prefix, times } };
        break;
      }
      case REC_POSITION: {
        const v = readPosition({ bytes, view, pos, len, stop, at }, keys, want === "position");
        if (v !== null) yield { kind: "position", value: v };
        break;
      }
      case REC_IGNORE: {
        const v = readIgnore({ bytes, view, pos, len, stop, at }, jails);
        if (want === "ignore") yield { kind: "ignore", value: v };
        break;
      }
      case REC_AUDIT: {
        if (version < 2) fail(`unknown record type ${type} at byte ${at}`);
        if (++audits > 1) fail(`a second audit record at byte ${at}`);
        const v = readAudit({ bytes, view, pos, len, stop, at }, want === "audit");
        if (v !== null) yield { kind: "audit", value: v };
        break;
      }
      default:
        fail(`unknown record type ${type} at byte ${at}`);
    }
    pos = stop;
  }
}

/** Where one record lies: its payload is `bytes[pos, stop)` (`len` bytes); `at` is its header. */
interface RecordAt {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly pos: number;
  readonly len: number;
  readonly stop: number;
  readonly at: number;
}

/** Checks the END record: 4 bytes, the count of the records before it, nothing after it. */
function checkEnd(view: DataView, pos: number, len: number, records: number, after: number): void {
  if (len !== 4) fail(`end record of ${len} bytes (expected 4)`);
  const count = view.getUint32(pos, true);
  if (count !== records) fail(`end record counts ${count} records, found ${records}`);
  if (after !== 0) fail(`${after} bytes after the end record`);
}

/** Validates a JAIL record and declares it in `jails`/`names` (ids and names unique). */
function readJail(r: RecordAt, jails: Map<number, string>, names: Set<string>): void {
  const { bytes, view, pos, len, stop, at } = r;
  if (len < 3 || len > 2 + MAX_JAIL_NAME_BYTES) fail(`jail record of ${len} bytes at byte ${at}`);
  const id = view.getUint16(pos, true);
  let name: string;
  try {
    name = utf8.decode(bytes.subarray(pos + 2, stop));
  } catch {
    fail(`jail name is not UTF-8 at byte ${at}`);
  }
  if (jails.has(id) || names.has(name)) {
    fail(`jail ${JSON.stringify(name)} declared twice at byte ${at}`);
  }
  jails.set(id, name);
  names.add(name);
}

/** Validates the fields of a BAN record after its address (21 bytes at `pos`). */
function readBanFields(
  bytes: Uint8Array,
  view: DataView,
  pos: number,
  at: number,
): { bannedAt: number; expiresAt: number | null; banCount: number } {
  const flags = bytes[pos]!;
  const bannedAt = view.getFloat64(pos + 1, true);
  const exp = view.getFloat64(pos + 9, true);
  const banCount = view.getUint32(pos + 17, true);
  if (flags > FLAG_PERMANENT) fail(`unknown ban flags ${flags} at byte ${at}`);
  checkTime(bannedAt, "ban time", at);
  const permanent = flags === FLAG_PERMANENT;
  if (permanent ? exp !== 0 : !(exp > bannedAt && exp <= MAX_TIME_MS)) {
    fail(`impossible expiry ${exp} for a ban made at ${bannedAt} (byte ${at})`);
  }
  if (banCount < 1) fail(`ban with a ban count of 0 at byte ${at}`);
  return { bannedAt, expiresAt: permanent ? null : exp, banCount };
}

/** Validates a POSITION record (its key unique in `keys`); the record when `emit`. */
function readPosition(r: RecordAt, keys: Set<string>, emit: boolean): StatePosition | null {
  const { bytes, view, pos, len, at } = r;
  if (len < 6) fail(`position record too short at byte ${at}`);
  const klen = view.getUint16(pos, true);
  if (klen < 1 || klen > MAX_POSITION_KEY_BYTES || 2 + klen + 4 > len) {
    fail(`impossible position key length ${klen} at byte ${at}`);
  }
  const dlen = view.getUint32(pos + 2 + klen, true);
  if (dlen > MAX_POSITION_DATA_BYTES || 2 + klen + 4 + dlen !== len) {
    fail(`impossible position data length ${dlen} at byte ${at}`);
  }
  let key: string;
  try {
    key = utf8.decode(bytes.subarray(pos + 2, pos + 2 + klen));
  } catch {
    fail(`position key is not UTF-8 at byte ${at}`);
  }
  if (keys.has(key)) fail(`position key ${JSON.stringify(key)} appears twice`);
  keys.add(key);
  const start = pos + 2 + klen + 4;
  return emit ? { key, data: bytes.slice(start, start + dlen) } : null;
}

/** Validates and reads an IGNORE record (`jails`: the ids declared so far). */
function readIgnore(r: RecordAt, jails: ReadonlyMap<number, string>): StateIgnore {
  const { bytes, view, pos, len, stop, at } = r;
  if (len !== 2 + 1 + 1 + 4 && len !== 2 + 1 + 1 + 16) {
    fail(`ignore record of ${len} bytes at byte ${at}`);
  }
  const id = view.getUint16(pos, true);
  const jail = id === EVERY_JAIL ? null : jails.get(id);
  if (jail === undefined) fail(`record at byte ${at} refers to undeclared jail ${id}`);
  const fam = bytes[pos + 2]!;
  const prefix = bytes[pos + 3]!;
  if (len !== (fam === 4 ? 8 : fam === 6 ? 20 : 0)) {
    fail(`impossible family ${fam} in the ignore record at byte ${at}`);
  }
  const ip = formatIp({ family: fam as 4 | 6, bytes: bytes.slice(pos + 4, stop) });
  const cidr = `${ip}/${prefix}`;
  const problem = cidrError(cidr);
  if (problem !== null) fail(`impossible ignore entry at byte ${at}: ${problem}`);
  return { cidr: prefix === (fam === 4 ? 32 : 128) ? ip : cidr, jail };
}

/** Validates an AUDIT record (version 2); the head when `emit`. */
function readAudit(r: RecordAt, emit: boolean): StateAuditHead | null {
  const { bytes, view, pos, len, at } = r;
  if (len !== 8 + AUDIT_HASH_BYTES) fail(`audit record of ${len} bytes at byte ${at}`);
  const seq = view.getFloat64(pos, true);
  if (!Number.isSafeInteger(seq) || seq < 0) fail(`impossible audit seq ${seq} at byte ${at}`);
  if (!emit) return null;
  let prev = "";
  for (let i = 0; i < AUDIT_HASH_BYTES; i++) {
    prev += bytes[pos + 8 + i]!.toString(16).padStart(2, "0");
  }
  return { seq, prev };
}

/** Checks magic, version, header and checksum; throws `Reject`. */
function checkFrame(bytes: Uint8Array): void {
  if (bytes.length < STATE_HEADER_BYTES + REC_HEAD + 4 + 4) {
    fail(`truncated: ${bytes.length} bytes is shorter than an empty state file`);
  }
  if (bytes.length > MAX_STATE_BYTES) {
    fail(`${bytes.length} bytes is larger than ${MAX_STATE_BYTES}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== STATE_MAGIC) fail(`not a fail2zig state file (magic 0x${magic.toString(16)})`);
  const stored = view.getUint32(bytes.length - 4, true);
  const actual = crc32(bytes.subarray(0, bytes.length - 4));
  if (stored !== actual) {
    fail(
      `checksum mismatch (stored 0x${stored.toString(16)}, computed 0x${
        actual.toString(16)
      }): truncated or corrupt`,
    );
  }
  const version = view.getUint16(4, true);
  if (!STATE_VERSIONS_READ.includes(version)) {
    fail(`unsupported version ${version} (expected ${STATE_VERSIONS_READ.join(" or ")})`);
  }
  const headerLen = view.getUint16(6, true);
  if (headerLen !== STATE_HEADER_BYTES) fail(`unexpected header length ${headerLen}`);
  if (view.getUint32(8, true) !== 0 || view.getUint32(20, true) !== 0) fail("unknown header flags");
}

/**
 * Verifies `bytes` completely, then gives lazy views of its records: each iterable walks the
 * buffer again and yields one record at a time, so a large file is never held as objects.
 * Keep `bytes` unchanged while iterating.
 */
export function openState(bytes: Uint8Array): DecodeResult<StateInput> {
  let savedAt: number;
  try {
    checkFrame(bytes);
    const it = walk(bytes, null);
    let r = it.next();
    while (!r.done) r = it.next();
    savedAt = r.value;
  } catch (err) {
    if (err instanceof Reject) return { ok: false, reason: err.message };
    throw err;
  }
  function lazy<T>(kind: Item["kind"], pick: (item: Item) => T | undefined): Iterable<T> {
    return {
      *[Symbol.iterator](): Generator<T, void> {
        for (const item of walk(bytes, kind)) {
          const v = pick(item);
          if (v !== undefined) yield v;
        }
      },
    };
  }
  let audit: StateAuditHead | null = null; // version 1 (migrated): none
  for (const item of walk(bytes, "audit")) if (item.kind === "audit") audit = item.value;
  return {
    ok: true,
    state: {
      savedAt,
      audit,
      bans: lazy("ban", (i) => (i.kind === "ban" ? i.value : undefined)),
      history: lazy("history", (i) => (i.kind === "history" ? i.value : undefined)),
      failures: lazy("failures", (i) => (i.kind === "failures" ? i.value : undefined)),
      positions: lazy("position", (i) => (i.kind === "position" ? i.value : undefined)),
      ignores: lazy("ignore", (i) => (i.kind === "ignore" ? i.value : undefined)),
    },
  };
}

/** Verifies and decodes `bytes` into arrays, or says why the file must be discarded. */
export function decodeState(bytes: Uint8Array): DecodeResult<StateData> {
  const opened = openState(bytes);
  if (!opened.ok) return opened;
  const s = opened.state;
  return {
    ok: true,
    state: {
      savedAt: s.savedAt,
      audit: s.audit ?? null,
      bans: [...s.bans],
      history: [...s.history],
      failures: [...s.failures],
      positions: [...s.positions],
      ignores: [...(s.ignores ?? [])],
    },
  };
}
