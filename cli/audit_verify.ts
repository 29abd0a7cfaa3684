/** `fail2zig audit verify [FILE…]`: checks the audit log's hash chain. Keeps read only. @module */
import { Exit, parseFlags, revokeExcept } from "./_cli.ts";
import { DEFAULT_AUDIT_LOG, GAP_EVENT, SEGMENT_EVENT, verifyAuditLog } from "../src/audit/mod.ts";

/** The `--help` text (also the command's section of fail2zig(8)). */
export const USAGE = `usage: fail2zig audit verify [FILE…]

Checks the hash chain of the audit log (default ${DEFAULT_AUDIT_LOG}) and reports the first
broken link. A rotated segment (audit_max_mb, or logrotate) verifies on its own: its first
record (event ${SEGMENT_EVENT}) names the last hash of the segment before. Given several FILEs,
oldest first (e.g. audit.log.2 audit.log.1 audit.log), each must also continue the one before.
A record of event ${GAP_EVENT} declares lost records: the file was deleted or replaced while the
daemon ran, or found missing, emptied or behind the state file's chain head at start; each is
reported as GAP (unless it is the first record and the FILE given before it continues into it).
A segment whose predecessor is not given is reported with a note: its earlier records are not
checked.
Exit 0 when the chain holds, 1 when it is broken, has a gap, or a file cannot be read.
Records removed from the end cannot be seen here: compare the last seq and hash printed with
the AUDIT_SEQ/AUDIT_HASH fields the journal received.`;

/** Verifies each file's chain and their links; prints `OK …` or `BROKEN …` per file. */
export async function main(args: string[]): Promise<number> {
  await revokeExcept(["read"]);
  const flags = parseFlags(args, {}, USAGE);
  if (flags === null) return Exit.OK;
  const paths = flags.positionals.length > 0 ? flags.positionals : [DEFAULT_AUDIT_LOG];
  const label = (p: string) => (paths.length > 1 ? `${p}: ` : "");
  let before: { path: string; seq: number | null; hash: string } | null = null;
  let code: number = Exit.OK;
  for (const path of paths) {
    let result;
    try {
      result = await verifyAuditLog(path);
    } catch (e) {
      console.error(`fail2zig audit verify: cannot read ${path}: ${(e as Error).message}`);
      return Exit.FAILED;
    }
    if (!result.ok) {
      console.log(
        `${
          label(path)
        }BROKEN at line ${result.line}: ${result.reason} (${result.records} records before it are intact)`,
      );
      code = Exit.FAILED;
      before = null;
      continue;
    }
    let continued = false;
    if (before !== null && result.firstSeq !== null && before.seq !== null) {
      continued = result.startPrev === before.hash && result.firstSeq === before.seq + 1;
      if (!continued) {
        console.log(
          `${label(path)}BROKEN at line 1: does not continue ${before.path} (expected seq ${
            before.seq + 1
          } after ${before.hash}, found seq ${result.firstSeq} after ${result.startPrev})`,
        );
        code = Exit.FAILED;
      }
    }
    for (const g of result.gaps) {
      if (g.line === 1 && continued) continue; // the file before holds what it declares lost
      console.log(
        `${label(path)}GAP at line ${g.line}: records before seq ${g.seq} are missing: ${g.reason}`,
      );
      code = Exit.FAILED;
    }
    const from = result.firstSeq !== null && result.firstSeq > 0
      ? `, a segment from seq ${result.firstSeq} after ${result.startPrev}`
      : "";
    if (!continued && result.firstEvent === SEGMENT_EVENT && result.firstSeq !== null) {
      console.log(
        `${label(path)}note: records before seq ${result.firstSeq} are in an earlier segment, ` +
          "not checked here (give the segments oldest first to check them)",
      );
    }
    console.log(
      result.records === 0
        ? `${label(path)}OK: ${path} holds no records`
        : `${
          label(path)
        }OK: ${result.records} records, last seq ${result.lastSeq}, last hash ${result.lastHash}${from}`,
    );
    before = result.records === 0 ? before : { path, seq: result.lastSeq, hash: result.lastHash };
  }
  return code;
}
