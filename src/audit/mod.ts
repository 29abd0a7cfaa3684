/** Audit trail: hash-chained audit log, its verifier, and the `Auditor` (journal + chain). @module */
export {
  appendAudit,
  AUDIT_LOG_MODE,
  AUDIT_SEGMENTS_KEPT,
  AuditLog,
  DEFAULT_AUDIT_LOG,
  formatAuditRecord,
  GAP_EVENT,
  GENESIS_HASH,
  MAX_AUDIT_FIELD,
  MAX_AUDIT_LINE,
  SEGMENT_EVENT,
  verifyAuditLog,
} from "./chain.ts";
export type {
  AppendedRecord,
  AuditBody,
  AuditEvent,
  AuditGap,
  AuditLogOptions,
  AuditVerifyResult,
  ChainHead,
} from "./chain.ts";
export { Auditor } from "./auditor.ts";
export { readAuditHistory } from "./history.ts";
export type { AuditHistory } from "./history.ts";
/** The logger an `Auditor` writes to and the types it names (owned by `src/log`). */
export type { Fields, Logger, LogLevel } from "../log/mod.ts";
export type { AuditorOptions, AuditRecordInput } from "./auditor.ts";
