/**
 * Shared command-line helpers: exit codes, usage errors, flag parsing.
 *
 * Flags are parsed here rather than with `node:util`'s `parseArgs`: importing any `node:` module
 * starts Deno's Node compatibility layer, about 6 MiB of resident memory in a daemon that must fit
 * under `memory_ceiling_mb` (docs/interfaces.md, "Memory ceiling").
 * @module
 */

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

/** A flag: a string that takes a value, or a boolean that takes none; `short` is one letter. */
export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
}

/** Parsed flags: values by long name, and the positional arguments. */
export interface Flags {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses flags strictly and always accepts `--help`/`-h`. Accepts `--name value`,
 * `--name=value`, `-n value` and `-nvalue` for strings, `--name` and `-n` for booleans, and `--`
 * before positionals that start with a dash. An unknown flag, a missing value, a value given to a
 * boolean or a repeated flag is a `UsageError`. Returns `null` when `--help` was given, after
 * printing `usage` on stdout.
 */
export function parseFlags(
  args: readonly string[],
  options: Record<string, FlagSpec>,
  usage: string,
): Flags | null {
  const specs: Record<string, FlagSpec> = { ...options, help: { type: "boolean", short: "h" } };
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.short !== undefined) byShort.set(spec.short, name);
  }
  const values: Flags["values"] = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg === "-" || !arg.startsWith("-")) {
      positionals.push(arg);
      continue;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      if (!Object.hasOwn(specs, name)) throw new UsageError(`unknown option '--${name}'`);
    } else {
      name = byShort.get(arg[1]!);
      if (name === undefined) throw new UsageError(`unknown option '-${arg[1]}'`);
      inline = arg.length > 2 ? arg.slice(2) : undefined;
    }
    const spec = specs[name]!;
    if (Object.hasOwn(values, name)) throw new UsageError(`option '--${name}' given twice`);
    if (spec.type === "boolean") {
      if (inline !== undefined) {
        throw new UsageError(`option '--${name}' takes no value, found '${inline}'`);
      }
      values[name] = true;
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new UsageError(`option '--${name}' needs a value`);
    values[name] = value;
  }
  if (values["help"]) {
    console.log(usage);
    return null;
  }
  return { values, positionals };
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
