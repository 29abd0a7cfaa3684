/** Tracker: fixed-capacity failure table, ban policy, clock seam. @module */
export * from "./tracker.ts";
export * from "./clock.ts";
export * from "./policy.ts";
