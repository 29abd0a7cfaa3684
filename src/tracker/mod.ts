/** Tracker: fixed-capacity failure table, ban policy, clock seam. @module */
export * from "./tracker.ts";
export * from "./clock.ts";
export * from "./policy.ts";
export { MAX_RUNTIME_IGNORE, type RuntimeIgnoreEntry } from "./_ignore.ts";
