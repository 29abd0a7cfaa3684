/**
 * Log sources: files tailed through inotify (rotation-proof, resumable) and the systemd journal,
 * both behind the {@link LogSource} seam, plus an in-memory fake. See `docs/sources.md`.
 * @module
 */
export {
  CHUNK_BYTES,
  DEFAULT_LINE_MAX_BYTES,
  FileSource,
  fileSourceReadPaths,
  logpathState,
  MAX_OPEN_FILES,
  MAX_WATCHED_DIRS,
  RECHECK_MS,
  ROTATE_GRACE_MS,
  TURN_CHUNKS,
} from "./file_source.ts";
export type { FileSourceOptions, LogpathState } from "./file_source.ts";
export type {
  DropInfo,
  DropReason,
  LineBatch,
  LineSink,
  LogSource,
  SourceStats,
} from "./log_source.ts";
export {
  decodePosition,
  encodePosition,
  fingerprint,
  FINGERPRINT_BYTES,
  POSITION_MAX_BYTES,
  positionKey,
  positionSource,
  validatePosition,
} from "./position.ts";
export type { FileMark, FilePosition, JournalPosition, SourcePosition } from "./position.ts";
export {
  CURSOR_MAX_CHARS,
  escapeControls,
  JOURNALCTL,
  journalKey,
  JournalSource,
  RESTART_DELAY_MS,
} from "./journal_source.ts";
export type { JournalSourceOptions } from "./journal_source.ts";
export { MEMORY_BATCH_LINES, MemoryLog, MemorySource } from "./memory_source.ts";
export type { MemorySourceOptions } from "./memory_source.ts";
