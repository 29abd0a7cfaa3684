/**
 * The daemon's own figures for the standard `process_*` metric series, from the runtime and
 * libc (the metrics module itself touches no Deno API).
 * @module
 */
import { cpuSeconds, openFdCount } from "../ffi/mod.ts";
import type { ProcessSamplers } from "../metrics/mod.ts";

/** Samplers of this process: CPU time, RSS, open descriptors, start time. */
export function processSamplers(): ProcessSamplers {
  return {
    cpuSeconds,
    residentBytes: () => Deno.memoryUsage().rss,
    openFds: openFdCount,
    startTimeSeconds: performance.timeOrigin / 1000,
  };
}
