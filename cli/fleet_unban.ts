/** `fail2zig fleet unban --origin HOST`: lifts a (compromised) host's bans fleet-wide. @module */
import { DEFAULT_CONFIG, Exit, parseFlags, UsageError } from "./_cli.ts";
import { ConfigError, FLEET_NAME_PATTERN, loadConfig } from "../src/config/mod.ts";

/** The `--help` text (also the command's section of fail2zig(8)). */
export const USAGE =
  `usage: fail2zig fleet unban --origin HOST [--config PATH] [--user U --password P | --creds FILE]

Lifts every ban the host HOST published to the fleet: reads the last record of each of its
subjects in the stream of [fleet] (url, stream, tls_ca of the config, default ${DEFAULT_CONFIG})
and publishes an unban record on each subject that holds a ban. Every daemon then lifts its
fleet ban of the address unless another host still bans it. Run it with the fleet's admin
credentials (--user/--password or --creds; default: the config's user/password, token or creds,
as the daemon connects), after removing HOST's user from the NATS servers (docs/fleet.md,
"Revoking a compromised host").
Prints how many subjects were read and how many bans lifted; exit 0, or 1 on an error.`;

/** Runs the command. */
export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    origin: { type: "string" },
    config: { type: "string" },
    user: { type: "string" },
    password: { type: "string" },
    creds: { type: "string" },
  }, USAGE);
  if (flags === null) return Exit.OK;
  const v = flags.values as Record<string, string | undefined>;
  if (v.origin === undefined || !FLEET_NAME_PATTERN.test(v.origin)) {
    throw new UsageError("--origin HOST is required (1 to 64 of A-Z a-z 0-9 _ -)");
  }
  if ((v.user === undefined) !== (v.password === undefined)) {
    throw new UsageError("--user and --password go together");
  }
  let config;
  try {
    config = await loadConfig(v.config ?? DEFAULT_CONFIG, { checkLogpaths: false });
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(String(e));
      return Exit.FAILED;
    }
    throw e;
  }
  if (config.fleet === null) {
    console.error(`fail2zig fleet unban: ${config.path} has no [fleet] section`);
    return Exit.FAILED;
  }
  // Without --user/--creds: the config's own credentials (user/password, token or creds), as the
  // daemon's link connects; the flags replace them all.
  const own = v.user === undefined && v.creds === undefined;
  const auth = own
    ? config.fleet
    : { user: v.user ?? "", password: v.password ?? "", token: "", creds: v.creds ?? "" };
  const { revokeOrigin } = await import("../src/fleet/mod.ts");
  try {
    const r = await revokeOrigin(config.fleet, v.origin, auth);
    console.log(`${v.origin}: ${r.read} subjects read, ${r.unbanned} bans lifted fleet-wide`);
    return Exit.OK;
  } catch (e) {
    console.error(`fail2zig fleet unban: ${e instanceof Error ? e.message : e}`);
    return Exit.FAILED;
  }
}
