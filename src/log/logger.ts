/**
 * Structured operational logger. Records are one JSON object per line on stderr by default;
 * the control-plane work adds a journald sink (native protocol) behind the same `LogSink` seam.
 * @module
 */
import type { LogLevel } from "../config/types.ts";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Fields of a record; values must be JSON-serialisable. */
export type Fields = Record<string, unknown>;

/** Where records go. */
export interface LogSink {
  write(level: LogLevel, message: string, fields: Fields): void;
}

/** Writes `{"ts","level","msg",…fields}` lines to a stream (stderr unless given). */
export class LineSink implements LogSink {
  #out: { writeSync(p: Uint8Array): number };
  #enc = new TextEncoder();
  constructor(out: { writeSync(p: Uint8Array): number } = Deno.stderr) {
    this.#out = out;
  }
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
  constructor(level: LogLevel = "info", sinks: LogSink[] = [new LineSink()]) {
    this.#min = RANK[level];
    this.#sinks = sinks;
  }
  /** True when debug records are kept (log content may be shown only then). */
  get debugEnabled(): boolean {
    return this.#min === 0;
  }
  setLevel(level: LogLevel): void {
    this.#min = RANK[level];
  }
  log(level: LogLevel, message: string, fields: Fields = {}): void {
    if (RANK[level] < this.#min) return;
    for (const s of this.#sinks) s.write(level, message, fields);
  }
  debug(message: string, fields?: Fields): void {
    this.log("debug", message, fields);
  }
  info(message: string, fields?: Fields): void {
    this.log("info", message, fields);
  }
  warn(message: string, fields?: Fields): void {
    this.log("warn", message, fields);
  }
  error(message: string, fields?: Fields): void {
    this.log("error", message, fields);
  }
}
