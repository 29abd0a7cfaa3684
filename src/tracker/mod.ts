/** Tracker: fixed-capacity failure table, ban policy, clock seam. @module */
export * from "./tracker.ts";
export * from "./clock.ts";
export * from "./policy.ts";
/** The config types the tracker is built from (owned by `src/config`). */
export type {
  BantimeIncrement,
  EvictionPolicy,
  JailConfig,
  PortScope,
  Protocol,
  SourceKind,
} from "../config/mod.ts";
/** The state records a tracker snapshot is made of (owned by `src/state`). */
export type { StateBan, StateFailures, StateHistory, StateIgnore } from "../state/mod.ts";
export { MAX_RUNTIME_IGNORE, type RuntimeIgnoreEntry } from "./_ignore.ts";
