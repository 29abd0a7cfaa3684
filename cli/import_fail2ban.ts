/** `fail2zig import-fail2ban [DIR]`. @module */
import { Exit, parseFlags, revokeExcept, UsageError } from "./_cli.ts";
import { denoFileReader, importFail2ban } from "../src/import/mod.ts";

/** Where fail2ban keeps its configuration. */
const DEFAULT_DIR = "/etc/fail2ban";

/** The `--help` text (also the command's section of fail2zig(8)). */
export const USAGE = `usage: fail2zig import-fail2ban [DIR]

Reads the fail2ban configuration in DIR (default ${DEFAULT_DIR}): jail.conf, jail.d/*.conf,
jail.local, jail.d/*.local and the files they include, in fail2ban's order. Prints a fail2zig
config on stdout: [defaults] from [DEFAULT], one [jails.NAME] per enabled jail; jails that cannot
be imported (an unknown filter, say) are written commented out with the reason. Warnings go to
stderr. Exits 0, or 1 when DIR holds no jail.conf. Save the output and check it with
'fail2zig config check --config FILE'.`;

/** Prints the translated config; returns 0, or 1 when the directory has no jail.conf. */
export async function main(args: string[]): Promise<number> {
  await revokeExcept(["read"]);
  const flags = parseFlags(args, {}, USAGE);
  if (flags === null) return Exit.OK;
  if (flags.positionals.length > 1) {
    throw new UsageError(
      `expected at most one directory, found ${flags.positionals.length} arguments`,
    );
  }
  const dir = flags.positionals[0] ?? DEFAULT_DIR;
  if (dir === "") throw new UsageError("DIR must not be empty");
  try {
    const result = await importFail2ban(dir, { reader: denoFileReader() });
    for (const w of result.warnings) console.error(`fail2zig import-fail2ban: warning: ${w}`);
    await writeAll(result.toml);
    console.error(
      `fail2zig import-fail2ban: ${result.imported.length} jails imported, ${result.skipped.length} commented out`,
    );
    return Exit.OK;
  } catch (e) {
    // A missing jail.conf (NoJailConfError), an unreadable or oversized file: say which, exit 1.
    if (e instanceof Error) {
      console.error(`fail2zig import-fail2ban: ${e.message}`);
      return Exit.FAILED;
    }
    throw e;
  }
}

async function writeAll(text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  for (let off = 0; off < bytes.length;) off += await Deno.stdout.write(bytes.subarray(off));
}
