/**
 * `JournaldSink`: log records as native-protocol datagrams to journald's socket, with the
 * standard fields (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER) plus one field per record field. A
 * record journald does not take (socket gone, queue full, too big) goes to the fallback sink
 * (stderr lines by default), so nothing is lost silently. `createLogSink()` picks journald when
 * its socket exists, else stderr lines.
 * @module
 */
import type { LogLevel } from "./logger.ts";
import { closeFd, sendDatagram, unixSocket } from "../ffi/mod.ts";
import { encodeJournalEntry, journalFieldName } from "./journal_protocol.ts";
import { type Fields, LineSink, type LogSink } from "./logger.ts";

/** journald's native protocol socket. */
export const JOURNAL_SOCKET = "/run/systemd/journal/socket";
/** Longest value sent in one field; longer values are cut and marked. */
export const MAX_JOURNAL_VALUE = 16 * 1024;

/** syslog priorities of each level. */
export const PRIORITY: Readonly<Record<LogLevel, number>> = {
  debug: 7,
  info: 6,
  warn: 4,
  error: 3,
};

/** Options of `JournaldSink`. */
export interface JournaldSinkOptions {
  /** Path of journald's native socket. @default JOURNAL_SOCKET */
  socketPath?: string;
  /** `SYSLOG_IDENTIFIER`. @default "fail2zig" */
  identifier?: string;
  /** Where a record goes when journald does not take it. @default a `LineSink` on stderr */
  fallback?: LogSink;
}

function cut(v: string): string {
  return v.length <= MAX_JOURNAL_VALUE
    ? v
    : `${v.slice(0, MAX_JOURNAL_VALUE)}…[cut ${v.length - MAX_JOURNAL_VALUE} chars]`;
}

/** Builds the journal fields of one record (exported for tests and the audit trail). */
export function journalFields(
  level: LogLevel,
  message: string,
  fields: Fields,
  identifier = "fail2zig",
): [string, string][] {
  const out: [string, string][] = [
    ["MESSAGE", cut(message)],
    ["PRIORITY", String(PRIORITY[level])],
    ["SYSLOG_IDENTIFIER", identifier],
  ];
  const reserved = new Set(out.map(([k]) => k));
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const name = journalFieldName(key);
    if (reserved.has(name)) continue;
    reserved.add(name);
    out.push([name, cut(typeof value === "string" ? value : JSON.stringify(value) ?? "null")]);
  }
  return out;
}

/** Sends each record to journald as one native-protocol datagram. */
export class JournaldSink implements LogSink {
  #path: string;
  #identifier: string;
  #fallback: LogSink;
  #fd: number | null = null;
  #failures = 0;

  /** A sink sending to `options.socketPath`, falling back to stderr lines while it cannot. */
  constructor(options: JournaldSinkOptions = {}) {
    this.#path = options.socketPath ?? JOURNAL_SOCKET;
    this.#identifier = options.identifier ?? "fail2zig";
    this.#fallback = options.fallback ?? new LineSink();
  }

  /** Records that went to the fallback sink. */
  get failures(): number {
    return this.#failures;
  }

  /** Sends one record as a journal entry (stderr line when journald is unreachable). */
  write(level: LogLevel, message: string, fields: Fields): void {
    try {
      if (this.#fd === null) this.#fd = unixSocket("dgram");
      sendDatagram(
        this.#fd,
        encodeJournalEntry(journalFields(level, message, fields, this.#identifier)),
        this.#path,
      );
    } catch (e) {
      this.#failures++;
      this.#fallback.write(level, message, {
        ...fields,
        journal_error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  /** Releases the socket. */
  close(): void {
    if (this.#fd !== null) closeFd(this.#fd);
    this.#fd = null;
  }
}

/** Options of `createLogSink`. */
export interface CreateLogSinkOptions {
  /** Path of journald's native socket. @default JOURNAL_SOCKET */
  journalSocket?: string;
  /** `SYSLOG_IDENTIFIER` of the entries. @default "fail2zig" */
  identifier?: string;
}

/**
 * journald when its socket exists (and FFI is allowed), else JSON lines on stderr. The choice
 * is made once, at start.
 */
export function createLogSink(options: CreateLogSinkOptions = {}): LogSink {
  const path = options.journalSocket ?? JOURNAL_SOCKET;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return new LineSink();
    if (!Deno.lstatSync(path).isSocket) return new LineSink();
    const sink = new JournaldSink({
      socketPath: path,
      identifier: options.identifier ?? "fail2zig",
    });
    return sink;
  } catch {
    return new LineSink();
  }
}
