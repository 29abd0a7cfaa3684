/**
 * Structured operational logger. Records are one JSON object per line on stderr by default;
 * the control-plane work adds a journald sink (native protocol) behind the same `LogSink` seam.
 * @module
 */
/** Operational log verbosity, lowest first (`[global] log_level` sets the lowest logged). */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * Fields that carry log content (attacker-controlled text). Below debug level their values are
 * replaced by `[redacted: N chars]`; at debug they are shown.
 */
export const LOG_CONTENT_FIELDS: readonly string[] = ["line"];

/** Fields of a record; values must be JSON-serialisable. */
export type Fields = Record<string, unknown>;

/** Where records go. */
export interface LogSink {
  /** Writes one record; must not throw. */
  write(level: LogLevel, message: string, fields: Fields): void;
}

/** Writes `{"ts","level","msg",…fields}` lines to a stream (stderr unless given). */
export class LineSink implements LogSink {
  #out: { writeSync(p: Uint8Array): number };
  #enc = new TextEncoder();
  /** A sink writing to `out`. */
  constructor(out: { writeSync(p: Uint8Array): number } = Deno.stderr) {
    this.#out = out;
  }
  /** Writes one record as a JSON line. */
  write(level: LogLevel, message: string, fields: Fields): void {
    const line = JSON.stringify({ ts: new Date().toISOString(), level, msg: message, ...fields });
    const bytes = this.#enc.encode(line + "\n");
    let off = 0;
    while (off < bytes.length) off += this.#out.writeSync(bytes.subarray(off));
  }
}

/** A leveled logger over one or more sinks. */
export class Logger {
  #min: number;
  #sinks: LogSink[];
  /** A logger passing records at `level` and above to every sink. */
  constructor(level: LogLevel = "info", sinks: LogSink[] = [new LineSink()]) {
    this.#min = RANK[level];
    this.#sinks = sinks;
  }
  /** True when debug records are kept (log content may be shown only then). */
  get debugEnabled(): boolean {
    return this.#min === 0;
  }
  /** Changes the lowest level passed on (e.g. on reload). */
  setLevel(level: LogLevel): void {
    this.#min = RANK[level];
  }
  /** Passes one record to every sink when `level` is at or above the logger's level. */
  log(level: LogLevel, message: string, fields: Fields = {}): void {
    if (RANK[level] < this.#min) return;
    this.#emit(level, message, fields);
  }
  /**
   * Writes an audit record at info level whatever the threshold (a ban must always be
   * traceable); log content in it is still redacted below debug.
   */
  audit(message: string, fields: Fields = {}): void {
    this.#emit("info", message, fields);
  }
  #emit(level: LogLevel, message: string, fields: Fields): void {
    let out = fields;
    if (this.#min > 0) {
      for (const key of LOG_CONTENT_FIELDS) {
        const v = out[key];
        if (v === undefined) continue;
        if (out === fields) out = { ...fields };
        out[key] = `[redacted: ${String(v).length} chars]`;
      }
    }
    for (const s of this.#sinks) s.write(level, message, out);
  }
  /** Logs at `debug` level. */
  debug(message: string, fields?: Fields): void {
    this.log("debug", message, fields);
  }
  /** Logs at `info` level. */
  info(message: string, fields?: Fields): void {
    this.log("info", message, fields);
  }
  /** Logs at `warn` level. */
  warn(message: string, fields?: Fields): void {
    this.log("warn", message, fields);
  }
  /** Logs at `error` level. */
  error(message: string, fields?: Fields): void {
    this.log("error", message, fields);
  }
}
