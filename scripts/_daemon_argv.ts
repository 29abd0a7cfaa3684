/** How the daemon is started from source, shared by the demo, the test harness and the benches. */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DAEMON_V8_FLAGS } from "../src/daemon/mod.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * `deno run` arguments that start `mod.ts daemon --config CONFIG` as `deno task fail2zig` does:
 * the project's deno.json, the daemon's V8 flags and the `daemon` permission set. `runFlags` go
 * to `deno run` (e.g. `--cpu-prof`).
 */
export function daemonRunArgs(config: string, runFlags: readonly string[] = []): string[] {
  return [
    "run",
    "-q",
    `--config=${join(ROOT, "deno.json")}`,
    `--v8-flags=${DAEMON_V8_FLAGS}`,
    ...runFlags,
    "-P=daemon",
    join(ROOT, "mod.ts"),
    "daemon",
    "--config",
    config,
  ];
}
