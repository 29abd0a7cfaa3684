/**
 * Target `audit`: bytes as an audit log file, read by `verifyAuditLog` (`fail2zig audit verify`)
 * and `readAuditHistory` (`fail2zig client history`). Neither may throw on any content. A chain
 * written by `formatAuditRecord` must verify with its record count; whatever verifies must hold
 * only lines whose hash, recomputed here with node:crypto, is the SHA-256 of the record without
 * it, each linked to the one before; the history returns at most `max` records, all of the
 * address asked for (or of a prefix covering it).
 * @module
 */
import fc from "fast-check";
import { createHash } from "node:crypto";
import {
  formatAuditRecord,
  GENESIS_HASH,
  readAuditHistory,
  verifyAuditLog,
} from "../../../src/audit/mod.ts";
import { canonicalIp, networkOf } from "../../../src/net/mod.ts";
import { mutatedBytes } from "../_input.ts";
import { expect, type Target } from "../_target.ts";

/**
 * One input: the file's bytes, the address asked for, the records when written untouched, and
 * whether one character of a written chain's values was changed (then it must not verify).
 */
export interface AuditInput {
  bytes: Uint8Array;
  ip: string;
  chain: number | null;
  tampered?: boolean;
}

const enc = new TextEncoder();
const IPS = ["203.0.113.7", "2001:db8::7", "203.0.113.0/24", "2001:db8::/32", "198.51.100.1"];
const event = fc.record({
  event: fc.constantFrom("ban", "unban", "audit_segment", "audit_gap", "reload"),
  ip: fc.oneof(fc.constantFrom(...IPS), fc.string({ maxLength: 6 })),
  jail: fc.string({ maxLength: 8 }),
  reason: fc.string({ maxLength: 12 }),
  durationS: fc.oneof(fc.nat(), fc.constant(null)),
}, { requiredKeys: ["event"] });

const chain = fc.array(event, { maxLength: 6 }).map((events) => {
  let prev = GENESIS_HASH;
  let text = "";
  events.forEach((e, seq) => {
    const r = formatAuditRecord(e, { seq, prev, ts: new Date(1_767_225_600_000 + seq) });
    text += r.line + "\n";
    prev = r.hash;
  });
  return { bytes: enc.encode(text), chain: events.length };
});
/** A written chain of at least one record with one letter of a value turned into another. */
const tampered = fc.tuple(chain, fc.nat(), fc.constantFrom("x", "Z", "0")).map(([c, k, ch]) => {
  const text = new TextDecoder().decode(c.bytes);
  const at = [...text.matchAll(/"(?:ts|event|jail|reason)":"([^"\\]+)"/g)]
    .flatMap((m) => [...m[1]!].map((_, i) => m.index! + m[0].indexOf(":") + 2 + i))
    .filter((i) => text[i] !== ch);
  if (at.length === 0) return null;
  const i = at[k % at.length]!;
  return {
    bytes: enc.encode(text.slice(0, i) + ch + text.slice(i + 1)),
    chain: null,
    tampered: true,
  };
}).filter((x) => x !== null);
const ask = fc.constantFrom("203.0.113.7", "2001:db8::7", "198.51.100.1");

let dir: string | null = null;

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Each line's own hash and link, checked without src/audit. */
function chainProblem(text: string): string | null {
  let prev: string | null = null;
  for (const line of text.split("\n").slice(0, -1)) {
    const m = /^(.*),"hash":"([0-9a-f]{64})"\}$/.exec(line);
    if (m === null) return "a line without a final hash";
    if (sha256(m[1] + "}") !== m[2]) return "a hash that is not the record's";
    const rec = JSON.parse(line);
    if (prev !== null && rec.prev !== prev && rec.event !== "audit_gap") return "a broken link";
    prev = m[2]!;
  }
  return null;
}

function covers(field: unknown, canon: string): boolean {
  if (typeof field !== "string") return false;
  if (canonicalIp(field) === canon) return true;
  const [net, len] = field.split("/");
  if (len === undefined || canonicalIp(net!) === null) return false;
  try {
    return networkOf(canon, Number(len)) === canonicalIp(net!);
  } catch {
    return false; // a prefix length the address's family does not have
  }
}

/** The `audit` target. */
export const auditTarget: Target<AuditInput> = {
  name: "audit",
  modules: ["src/audit/chain.ts", "src/audit/history.ts"],
  runs: 600,
  timeoutMs: 2000,
  arbitrary: (corpus) => {
    const bases = fc.oneof(
      chain.map((c) => c.bytes),
      ...(corpus.length ? [fc.constantFrom(...corpus.map((c) => c.bytes))] : []),
    );
    return fc.oneof(
      fc.tuple(chain, ask).map(([c, ip]) => ({ ...c, ip })),
      fc.tuple(tampered, ask).map(([c, ip]) => ({ ...c!, ip })),
      fc.tuple(mutatedBytes(bases, 3), ask).map(([bytes, ip]) => ({ bytes, ip, chain: null })),
    );
  },
  async check(input) {
    dir ??= await Deno.makeTempDir({ prefix: "fuzz-audit-" });
    const path = `${dir}/audit.log`;
    await Deno.writeFile(path, input.bytes);
    const v = await verifyAuditLog(path);
    if (input.tampered === true) {
      expect(!v.ok, () => `a chain with a value changed verifies: ${JSON.stringify(v)}`);
    }
    if (input.chain !== null) {
      expect(v.ok && v.records === input.chain, () => `a written chain: ${JSON.stringify(v)}`);
    }
    if (v.ok) {
      const text = new TextDecoder().decode(input.bytes);
      const why = chainProblem(text);
      expect(why === null, () => `verified a log with ${why}`);
    } else {
      expect(v.reason.length > 0 && v.line >= 1, () => `refusal without reason or line`);
    }
    const h = await readAuditHistory(path, input.ip, 3);
    const canon = canonicalIp(input.ip)!;
    expect(h.records.length <= 3 && h.total >= h.records.length, () => "history over its max");
    for (const r of h.records) {
      expect(covers(r.ip, canon), () => `history of ${canon} holds a record of ${r.ip}`);
    }
  },
  async close() {
    if (dir !== null) await Deno.remove(dir, { recursive: true });
    dir = null;
  },
};
