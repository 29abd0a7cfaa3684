/**
 * The ban history of one address, read from the audit log and its rotated segments (`PATH.9`
 * oldest … `PATH.1`, then `PATH`). Streaming and bounded: at most `max` records are kept (the
 * newest), whatever the size of the files, so that the daemon's capped heap is never at risk.
 * @module
 */
import { AUDIT_SEGMENTS_KEPT, type AuditBody, MAX_AUDIT_LINE } from "./chain.ts";
import { canonicalIp, networkOf, parseCidr } from "../net/mod.ts";

/** What `readAuditHistory` found. */
export interface AuditHistory {
  /** The newest `max` records of the address, oldest first (without `prev`/`hash`). */
  records: AuditBody[];
  /** Records of the address in all the segments read (more than `records` when cut). */
  total: number;
  /** Segment files read (the log itself and the rotated ones that exist). */
  segments: number;
}

const IP_KEY = '"ip":"';

/**
 * True when a record's `ip` field (an address, or `ADDR/LEN` for a prefix ban) is the address
 * `canon` (canonical text) or covers it.
 */
function covers(field: string, canon: string): boolean {
  if (field === canon) return true;
  if (!field.includes("/")) return false;
  const cidr = parseCidr(field);
  if (cidr === null || (cidr.ip.family === 6) !== canon.includes(":")) return false;
  const net = field.slice(0, field.indexOf("/"));
  return networkOf(canon, cidr.prefixLen) === (canonicalIp(net) ?? net);
}

/** The `ip` field of a record line, or null (the first `"ip":"` is the key: see below). */
function ipField(line: string): string | null {
  // Inside a JSON string every quote is escaped, so the unescaped `"ip":"` can only be the key;
  // `ip` comes before the free-text fields (reason, origin) in every record.
  const at = line.indexOf(IP_KEY);
  if (at < 0) return null;
  const from = at + IP_KEY.length;
  const to = line.indexOf('"', from);
  return to < 0 ? null : line.slice(from, to);
}

/** Calls `onLine` for each complete line of `file` (longer than `MAX_AUDIT_LINE`: skipped). */
async function eachLine(file: Deno.FsFile, onLine: (line: string) => void): Promise<void> {
  const dec = new TextDecoder();
  const buf = new Uint8Array(64 * 1024);
  let pending = new Uint8Array(0);
  let skipping = false;
  for (;;) {
    const n = await file.read(buf);
    if (n === null) return; // an incomplete last line (no newline) is not a record yet
    const data = new Uint8Array(pending.length + n);
    data.set(pending);
    data.set(buf.subarray(0, n), pending.length);
    let from = 0;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, from)) {
      if (!skipping) onLine(dec.decode(data.subarray(from, nl)));
      skipping = false;
      from = nl + 1;
    }
    pending = data.slice(from);
    if (pending.length > MAX_AUDIT_LINE) {
      skipping = true; // no writer makes such a line; drop it up to its newline
      pending = new Uint8Array(0);
    }
  }
}

/** Opens the segments that exist, oldest first; synchronously, so no rotation runs between. */
function openSegments(path: string): Deno.FsFile[] {
  const files: Deno.FsFile[] = [];
  for (let n = AUDIT_SEGMENTS_KEPT; n >= 0; n--) {
    try {
      files.push(Deno.openSync(n === 0 ? path : `${path}.${n}`, { read: true }));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        for (const f of files) f.close();
        throw e;
      }
    }
  }
  return files;
}

/**
 * The records of address `ip` (canonical or not; a record of a prefix ban covering it counts) in
 * the audit log at `path` and its rotated segments: the newest `max`, oldest first. The files are
 * opened together before any is read, so a rotation by the daemon meanwhile neither hides nor
 * repeats a segment; records appended after that are not seen. Throws `TypeError` for a bad
 * address, and when the files exist but cannot be read.
 */
export async function readAuditHistory(
  path: string,
  ip: string,
  max: number,
): Promise<AuditHistory> {
  const canon = canonicalIp(ip);
  if (canon === null) throw new TypeError(`expected an IP address, found ${JSON.stringify(ip)}`);
  const files = openSegments(path);
  const ring: AuditBody[] = [];
  let total = 0;
  try {
    for (const file of files) {
      await eachLine(file, (line) => {
        const field = ipField(line);
        if (field === null || !covers(field, canon)) return;
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line);
        } catch {
          return; // a damaged line: `audit verify` reports it
        }
        // two records run together (a lost newline) parse as one object whose `ip` is the last
        // key's: the record must be of the address whose key was found
        if (rec === null || typeof rec !== "object" || rec.ip !== field) return;
        const { prev: _p, hash: _h, ...body } = rec;
        if (max > 0) ring[total % max] = body as unknown as AuditBody;
        total++;
      });
    }
  } finally {
    for (const f of files) f.close();
  }
  const start = total > max ? total % max : 0;
  const records = [...ring.slice(start), ...ring.slice(0, start)];
  return { records, total, segments: files.length };
}
