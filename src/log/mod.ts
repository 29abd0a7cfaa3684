/** Structured operational logging: stderr lines or journald (native protocol). @module */
export { LineSink, LOG_CONTENT_FIELDS, Logger } from "./logger.ts";
export type { Fields, LogLevel, LogSink } from "./logger.ts";
export {
  createLogSink,
  JOURNAL_SOCKET,
  JournaldSink,
  journalFields,
  MAX_JOURNAL_VALUE,
  PRIORITY,
} from "./journald.ts";
export type { CreateLogSinkOptions, JournaldSinkOptions } from "./journald.ts";
export {
  decodeJournalEntry,
  encodeJournalEntry,
  isJournalFieldName,
  journalFieldName,
  MAX_FIELD_NAME,
} from "./journal_protocol.ts";
