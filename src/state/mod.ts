/** Durable state: versioned binary format with CRC32, atomic group-committed store. @module */
export type * from "./types.ts";
export * from "./format.ts";
export * from "./store.ts";
export * from "./memory_store.ts";
