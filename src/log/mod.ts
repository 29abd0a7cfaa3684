/** Structured operational logging. @module */
export { LineSink, Logger } from "./logger.ts";
export type { Fields, LogSink } from "./logger.ts";
