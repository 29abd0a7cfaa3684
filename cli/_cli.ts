/** Shared command-line helpers: exit codes, usage errors, flag parsing. @module */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Process exit codes of every command (see docs/interfaces.md). */
export const Exit = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  UNREACHABLE: 3,
} as const;
export type ExitCode = (typeof Exit)[keyof typeof Exit];

/** Thrown for bad command lines; the dispatcher prints it with the usage and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The program version, shared by `version`, `client version` and `status`. */
export const VERSION = "0.1.0";

/** Default configuration path. */
export const DEFAULT_CONFIG = "/etc/fail2zig/config.toml";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parsed flags: values by long name, and the positional arguments. */
export interface Flags {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/**
 * Parses flags strictly (unknown flags are usage errors) and always accepts `--help`.
 * Returns `null` when `--help` was given, after printing `usage` on stdout.
 */
export function parseFlags(args: string[], options: Options, usage: string): Flags | null {
  let parsed: Flags;
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    }) as unknown as Flags;
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (parsed.values["help"]) {
    console.log(usage);
    return null;
  }
  return parsed;
}

/**
 * Revokes every permission a command does not need, so that a bug in it cannot use them.
 * `keep` names the permissions to leave granted.
 */
export async function revokeExcept(keep: readonly Deno.PermissionName[]): Promise<void> {
  const all: Deno.PermissionName[] = ["read", "write", "net", "env", "sys", "ffi", "run"];
  for (const name of all) {
    if (!keep.includes(name)) await Deno.permissions.revoke({ name } as Deno.PermissionDescriptor);
  }
}
