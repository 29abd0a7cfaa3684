/**
 * Checksums and digests the daemon needs synchronously (state file CRC, audit chain), without
 * the memory cost of the Node compatibility modules. Pure code, no `Deno.*`.
 * @module
 */
export { crc32 } from "./crc32.ts";
export { sha256, sha256Hex } from "./sha256.ts";
