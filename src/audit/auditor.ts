/**
 * `Auditor`: one call per ban or unban writes the structured record to the operational log
 * (journald's native protocol, or a JSON line on stderr) and appends it to the hash-chained
 * audit file. The log record carries the chain position (`AUDIT_SEQ`, `AUDIT_HASH`) so that the
 * journal holds an independent copy of the chain head. Log content (`line`) is shown at debug
 * level only (the logger redacts it otherwise) and never stored in the audit file.
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { AppendedRecord, AuditEvent, AuditLog } from "./chain.ts";

/** An audit event plus the triggering log line (debug only, never in the audit file). */
export interface AuditRecordInput extends AuditEvent {
  /** The log line that triggered the event; logged at debug level only, never written to the file. */
  line?: string;
}

/** Options of `Auditor`. */
export interface AuditorOptions {
  /** Where the structured record goes (journald or stderr). */
  logger: Logger;
  /** The hash-chained file; null when `audit_log = ""`. */
  log: AuditLog | null;
}

function summary(e: AuditEvent): string {
  const parts = [e.event];
  if (e.ip !== undefined) parts.push(e.ip);
  if (e.jail !== undefined) parts.push(`in ${e.jail}`);
  if (e.durationS !== undefined) {
    parts.push(e.durationS === null ? "permanently" : `for ${e.durationS}s`);
  }
  return parts.join(" ") + (e.reason ? `: ${e.reason}` : "");
}

/** Writes audit records to the log and the chain. Never throws: a failure is itself logged. */
export class Auditor {
  #logger: Logger;
  #log: AuditLog | null;

  /** An auditor writing to `options.logger` and, unless null, `options.log`. */
  constructor(options: AuditorOptions) {
    this.#logger = options.logger;
    this.#log = options.log;
    const notice = this.#log?.openNotice ?? null;
    if (notice !== null) {
      this.#logger.warn("audit log: records lost", { path: this.#log?.path, notice });
    }
  }

  /** Records one event; returns the chain record, or null without a chain (or on failure). */
  record(input: AuditRecordInput): AppendedRecord | null {
    const { line, ...event } = input;
    let appended: AppendedRecord | null = null;
    let chainError: string | undefined;
    if (this.#log !== null) {
      try {
        appended = this.#log.append(event);
      } catch (e) {
        chainError = e instanceof Error ? e.message : String(e);
      }
    }
    this.#logger.audit(summary(event), {
      fail2zig_event: event.event,
      ip: event.ip,
      jail: event.jail,
      duration: event.durationS === undefined
        ? undefined
        : event.durationS === null
        ? "permanent"
        : String(event.durationS),
      reason: event.reason,
      origin: event.origin,
      line,
      audit_seq: appended?.seq,
      audit_hash: appended?.hash,
      audit_error: chainError,
    });
    if (appended?.notice !== undefined) {
      this.#logger.warn("audit log deleted, moved or replaced; reopened", {
        path: this.#log?.path,
        notice: appended.notice,
      });
    }
    if (chainError !== undefined) {
      this.#logger.error("audit log append failed", { path: this.#log?.path, error: chainError });
    }
    return appended;
  }
}
