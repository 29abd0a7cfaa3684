/**
 * fail2zig — one executable, several commands. This file only dispatches; each command lives in
 * `cli/` and exports `main(args): Promise<number>` returning an exit code.
 * @module
 */
import { Exit, UsageError } from "./cli/_cli.ts";

/** A command: its summary and its module (loaded when it runs). */
export type Command = {
  summary: string;
  load: () => Promise<{ main(args: string[]): Promise<number> }>;
};

/** Every command by name, with its one-line summary (also the command list of fail2zig(8)). */
export const COMMANDS: Record<string, Command> = {
  "daemon": { summary: "run the daemon in the foreground", load: () => import("./cli/daemon.ts") },
  "client": { summary: "talk to a running daemon", load: () => import("./cli/client.ts") },
  "config check": {
    summary: "validate a config file",
    load: () => import("./cli/config_check.ts"),
  },
  "filter test": {
    summary: "run a filter over a log offline",
    load: () => import("./cli/filter_tester.ts"),
  },
  "import-fail2ban": {
    summary: "translate a fail2ban config",
    load: () => import("./cli/import_fail2ban.ts"),
  },
  "audit verify": {
    summary: "check the audit log's hash chain",
    load: () => import("./cli/audit_verify.ts"),
  },
  "fleet unban": {
    summary: "lift a host's bans fleet-wide",
    load: () => import("./cli/fleet_unban.ts"),
  },
  "version": { summary: "print the version", load: () => import("./cli/version.ts") },
};

/** The top-level `--help` text. */
export const USAGE = `usage: fail2zig COMMAND [ARGS…]   (fail2zig COMMAND --help for details)

commands:
${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(16)} ${c.summary}`).join("\n")}`;

/** Finds the command named by the first one or two words and runs it; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    console.log(USAGE);
    return first === undefined ? Exit.USAGE : Exit.OK;
  }
  const two = `${first} ${second ?? ""}`;
  const name = two in COMMANDS ? two : first in COMMANDS ? first : undefined;
  if (name === undefined) {
    const hint = Object.keys(COMMANDS).find((n) => n.startsWith(`${first} `));
    console.error(`fail2zig: unknown command '${hint ? two.trim() : first}'\n\n${USAGE}`);
    return Exit.USAGE;
  }
  const rest = argv.slice(name.split(" ").length);
  try {
    return await (await COMMANDS[name]!.load()).main(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`fail2zig ${name}: ${e.message} (see 'fail2zig ${name} --help')`);
      return Exit.USAGE;
    }
    throw e;
  }
}

if (import.meta.main) {
  Deno.exitCode = await run(Deno.args);
}
