/** `fail2zig audit verify [FILE]`: checks the audit log's hash chain. Keeps read only. @module */
import { Exit, parseFlags, revokeExcept, UsageError } from "./_cli.ts";
import { DEFAULT_AUDIT_LOG, verifyAuditLog } from "../src/audit/mod.ts";

/** The `--help` text (also the command's section of fail2zig(8)). */
export const USAGE = `usage: fail2zig audit verify [FILE]

Checks the hash chain of the audit log (default ${DEFAULT_AUDIT_LOG}) and reports the first
broken link. Exit 0 when the chain holds, 1 when it is broken or the file cannot be read.
Records removed from the end cannot be seen here: compare the last seq and hash printed with
the AUDIT_SEQ/AUDIT_HASH fields the journal received.`;

/** Verifies the chain; prints `OK …` or `BROKEN at line N: reason`. */
export async function main(args: string[]): Promise<number> {
  await revokeExcept(["read"]);
  const flags = parseFlags(args, {}, USAGE);
  if (flags === null) return Exit.OK;
  if (flags.positionals.length > 1) throw new UsageError("audit verify takes at most one FILE");
  const path = flags.positionals[0] ?? DEFAULT_AUDIT_LOG;
  let result;
  try {
    result = await verifyAuditLog(path);
  } catch (e) {
    console.error(`fail2zig audit verify: cannot read ${path}: ${(e as Error).message}`);
    return Exit.FAILED;
  }
  if (!result.ok) {
    console.log(
      `BROKEN at line ${result.line}: ${result.reason} (${result.records} records before it are intact)`,
    );
    return Exit.FAILED;
  }
  console.log(
    result.records === 0
      ? `OK: ${path} holds no records`
      : `OK: ${result.records} records, last seq ${result.lastSeq}, last hash ${result.lastHash}`,
  );
  return Exit.OK;
}
