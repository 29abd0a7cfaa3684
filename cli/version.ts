/** `fail2zig version`. @module */
import { Exit, parseFlags, revokeExcept, UsageError, VERSION } from "./_cli.ts";

/** The `--help` text (also the command's section of fail2zig(8)). */
export const USAGE = "usage: fail2zig version\n\nPrints the program version.";

/** Prints `fail2zig VERSION`. */
export async function main(args: string[]): Promise<number> {
  await revokeExcept([]);
  const flags = parseFlags(args, {}, USAGE);
  if (flags === null) return Exit.OK;
  if (flags.positionals.length > 0) throw new UsageError("version takes no arguments");
  console.log(`fail2zig ${VERSION}`);
  return Exit.OK;
}
