/** `fail2zig daemon`. @module */
import { DEFAULT_CONFIG, Exit, parseFlags, UsageError } from "./_cli.ts";
import { runDaemon } from "../src/daemon/mod.ts";

/** The `--help` text (also the command's section of fail2zig(8)). */
export const USAGE = `usage: fail2zig daemon [--config PATH] [--foreground]

Runs the daemon in the foreground (systemd supervises it; --foreground is accepted for habit).
  --config PATH   configuration file (default ${DEFAULT_CONFIG})`;

/** Runs the daemon until SIGTERM/SIGINT. */
export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    { config: { type: "string" }, foreground: { type: "boolean" } },
    USAGE,
  );
  if (flags === null) return Exit.OK;
  if (flags.positionals.length > 0) {
    throw new UsageError(`unexpected argument '${flags.positionals[0]}'`);
  }
  return await runDaemon({
    configPath: (flags.values["config"] as string | undefined) ?? DEFAULT_CONFIG,
  });
}
