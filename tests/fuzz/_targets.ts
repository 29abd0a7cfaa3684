/** Every fuzz target, by name (docs/fuzzing.md). @module */
import type { Target } from "./_target.ts";
import { auditTarget } from "./targets/audit.ts";
import { configTomlTarget } from "./targets/config_toml.ts";
import { filtersTarget } from "./targets/filters.ts";
import { fleetRecordTarget } from "./targets/fleet_record.ts";
import { ipcFramesTarget, ipcRequestsTarget } from "./targets/ipc.ts";
import { journalExportTarget } from "./targets/journal_export.ts";
import { metricsHttpTarget } from "./targets/metrics_http.ts";
import { stateTarget } from "./targets/state.ts";
import { workerMessagesTarget } from "./targets/worker_messages.ts";
import { SELFTEST_TARGETS } from "./targets/_selftest.ts";

/**
 * The targets, in the order the test runs them; with `FUZZ_SELFTEST=1` also the planted ones of
 * `targets/_selftest.ts` (scripts/fuzz_test.ts).
 */
export const TARGETS: readonly Target<never>[] = [
  filtersTarget,
  journalExportTarget,
  ipcFramesTarget,
  ipcRequestsTarget,
  workerMessagesTarget,
  stateTarget,
  auditTarget,
  metricsHttpTarget,
  configTomlTarget,
  fleetRecordTarget,
  ...(Deno.env.get("FUZZ_SELFTEST") === "1" ? SELFTEST_TARGETS : []),
] as unknown as Target<never>[];

/** The target called `name`, or undefined. */
export function target(name: string): Target<unknown> | undefined {
  return TARGETS.find((t) => t.name === name) as Target<unknown> | undefined;
}
