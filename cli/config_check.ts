/** `fail2zig config check [--config PATH]`. @module */
import { DEFAULT_CONFIG, Exit, parseFlags, revokeExcept, UsageError } from "./_cli.ts";
import {
  ConfigError,
  DEFAULT_UNIT_DIR,
  formatIssue,
  loadConfig,
  MEMORY_MAX_MARGIN_MB,
  memoryMaxWarning,
  UNIT_NAME,
  unitMemoryMax,
} from "../src/config/mod.ts";

/** The `--help` text (also the command's section of fail2zig(8)). */
export const USAGE = `usage: fail2zig config check [--config PATH] [--unit-dir DIR]

Validates the config file (default ${DEFAULT_CONFIG}): syntax, every key, file permissions, and
each enabled jail's logpath on disk (a literal path that does not exist is an error, or a
warning with missing_logpath = "warn"; a glob that matches no file yet is a warning).
Prints "OK (N jails)" (N counts every jail defined, enabled or not; ", fleet" follows when
[fleet] is set) and exits 0, or prints every problem as PATH:LINE:COL: message on stderr and
exits 1. Warnings go to stderr as
PATH:LINE:COL: warning: message and do not change the exit code.
When the systemd unit is installed (DIR/${UNIT_NAME}, DIR/${UNIT_NAME}.d/*.conf; DIR defaults to
${DEFAULT_UNIT_DIR}), a warning also says when its MemoryMax is not memory_ceiling_mb +
${MEMORY_MAX_MARGIN_MB} MiB, the value scripts/install.sh writes.`;

/** Checks a config file; returns 0 when valid, 1 when not. */
export async function main(args: string[]): Promise<number> {
  await revokeExcept(["read"]);
  const flags = parseFlags(args, {
    config: { type: "string", short: "c" },
    "unit-dir": { type: "string" },
  }, USAGE);
  if (flags === null) return Exit.OK;
  if (flags.positionals.length > 0) {
    throw new UsageError(`unexpected argument '${flags.positionals[0]}'`);
  }
  const path = flags.values["config"];
  if (path === "") throw new UsageError("--config needs a path");
  const unitDir = flags.values["unit-dir"];
  if (unitDir === "") throw new UsageError("--unit-dir needs a directory");
  try {
    const config = await loadConfig(typeof path === "string" ? path : DEFAULT_CONFIG, {
      onWarning: (w) => console.error(formatIssue({ ...w, message: `warning: ${w.message}` })),
    });
    const dir = typeof unitDir === "string" ? unitDir : DEFAULT_UNIT_DIR;
    let unit: string | null;
    try {
      unit = memoryMaxWarning(unitMemoryMax(dir), config.global.memoryCeilingMb);
    } catch (e) {
      unit = `${dir}/${UNIT_NAME}: warning: cannot read the unit's MemoryMax: ${
        e instanceof Error ? e.message : String(e)
      }`;
    }
    if (unit !== null) console.error(unit);
    const defined = config.jails.filter((j) => j.source !== "fleet").length;
    console.log(`OK (${defined} jails${config.fleet === null ? "" : ", fleet"})`);
    return Exit.OK;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.toString());
    return Exit.FAILED;
  }
}
