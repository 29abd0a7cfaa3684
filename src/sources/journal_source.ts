/**
 * Journal source: records of the systemd journal that satisfy `journal_match`, read through a
 * `journalctl -o export --follow` child (why a child and not `sd_journal` over FFI: see
 * `docs/sources.md`).
 *
 * Stages, in order:
 * 1. start: with a saved cursor, follow after it; else for `readFrom = "end"` ask journalctl for
 *    the cursor of the newest matching record (so that everything after `start()` resolves is
 *    delivered), for `"start"` follow from the first record.
 * 2. read: stdout chunks → export parser (bounded) → records re-checked against the matches →
 *    `IDENT[PID]: MESSAGE` lines (control characters escaped as `#ooo`, as rsyslog does) with
 *    the record's own `__REALTIME_TIMESTAMP` as its time → one batch per chunk whose position is
 *    the cursor of the chunk's last record → awaited by the sink. While the sink is busy nothing
 *    is read, the pipe fills and journalctl blocks: back-pressure, bounded memory.
 * 3. a child that dies while following is restarted after {@link RESTART_DELAY_MS} from the last
 *    acknowledged cursor.
 *
 * Needs run permission for the journalctl binary only (the main thread, or a Worker with
 * `run: ["/usr/bin/journalctl"]` and nothing else); it reads no file itself.
 * @module
 */
import { ExportParser, type ExportRecord } from "./_export_parser.ts";
import { JournalMatch } from "./_journal_match.ts";
import { DEFAULT_LINE_MAX_BYTES } from "./file_source.ts";
import type { DropInfo, LineSink, LogSource, SourceStats } from "./log_source.ts";
import type { JournalPosition, SourcePosition } from "./position.ts";

/** The journalctl binary (the daemon's run permission names exactly this path). */
export const JOURNALCTL = "/usr/bin/journalctl";
/** Wait before restarting a journalctl child that exited while following. */
export const RESTART_DELAY_MS = 1000;
/** Longest cursor accepted from a saved position. */
export const CURSOR_MAX_CHARS = 512;
/** Bytes of journalctl's stderr kept per run, for the warning when it fails. */
const STDERR_KEEP_BYTES = 2048;

/** Options of {@link JournalSource}. */
export interface JournalSourceOptions {
  /** `FIELD=value` rules (`journal_match`). */
  readonly match: readonly string[];
  /** Positions from the state file; the one whose key is this source's key is used. @default [] */
  readonly saved?: readonly SourcePosition[];
  /** Explicit cursor to resume after; overrides `saved`. */
  readonly cursor?: string;
  /** Where to start without a cursor. @default "end" */
  readonly readFrom?: "end" | "start";
  /** Journal directory (`journalctl --directory`); the system journal when absent. */
  readonly directory?: string;
  /** Keep following for new records; false reads what exists and ends. @default true */
  readonly follow?: boolean;
  /** journalctl binary. @default "/usr/bin/journalctl" */
  readonly journalctl?: string;
  /** Longest line delivered, in UTF-8 bytes; longer records are dropped. @default 4096 */
  readonly lineMaxBytes?: number;
  /** `"program"`: `IDENT[PID]: MESSAGE`; `"message"`: `MESSAGE` alone. @default "program" */
  readonly lineFormat?: "program" | "message";
  /** Called for each dropped record. */
  readonly onDrop?: (drop: DropInfo) => void;
  /** Called with a message when journalctl fails or is restarted. */
  readonly onWarning?: (message: string) => void;
}

// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f]/g;
const SHOWN_FIELDS = ["MESSAGE", "SYSLOG_IDENTIFIER", "SYSLOG_PID", "_PID", "_COMM"];
const ALWAYS_FIELDS = ["__CURSOR", "__REALTIME_TIMESTAMP"];
/** Longest kept value of a field other than MESSAGE (identifier, pid, unit, cursor). */
const SMALL_FIELD_BYTES = 1024;

/** Reads matching journal records; see the module documentation. */
export class JournalSource implements LogSource {
  /** Identifies this source in positions and batches: matches and directory. */
  readonly key: string;
  readonly #match: JournalMatch;
  readonly #opts: JournalSourceOptions;
  readonly #cap: number;
  readonly #decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  readonly #encoder = new TextEncoder();
  #cursor: string | null;
  #child: Deno.ChildProcess | null = null;
  #reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  #sink: LineSink | null = null;
  #started = false;
  #stopped = false;
  #run: Promise<void> = Promise.resolve();
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #wakeRestart: (() => void) | null = null;
  readonly #stats: SourceStats = { lines: 0, dropped: 0, rotations: 0, truncations: 0 };
  readonly #done: PromiseWithResolvers<void> = Promise.withResolvers<void>();

  /** Validates the matches (throws `SyntaxError`) and picks the saved cursor; spawns nothing. */
  constructor(options: JournalSourceOptions) {
    this.#match = new JournalMatch(options.match);
    this.#opts = options;
    this.#cap = options.lineMaxBytes ?? DEFAULT_LINE_MAX_BYTES;
    this.key = journalKey(options.match, options.directory);
    let cursor = options.cursor ?? null;
    if (cursor === null) {
      for (const p of options.saved ?? []) {
        if (p.kind === "journal" && p.key === this.key) cursor = p.cursor;
      }
    }
    if (cursor !== null && !validCursor(cursor)) {
      options.onWarning?.(`journal source: ignoring a malformed saved cursor`);
      cursor = null;
    }
    this.#cursor = cursor;
    this.#done.promise.catch(() => {});
  }

  /** Resolves when the source has stopped; rejects with the error that stopped it. */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /** Opens the inputs and starts delivering to `sink` (see `LogSource.start`). */
  async start(sink: LineSink): Promise<void> {
    if (this.#started) {
      throw new Error("expected a JournalSource to be started once, found a second start()");
    }
    this.#started = true;
    this.#sink = sink;
    let fromStart = this.#opts.readFrom === "start";
    if (this.#cursor === null && !fromStart) {
      // The newest matching record now: following after it delivers exactly what comes later.
      const newest = await this.#newestCursor();
      this.#cursor = newest.cursor;
      // No matching record yet: follow from the first one that comes. The query failed: follow
      // from the end (`--lines=0`), the best guess without a cursor.
      fromStart = newest.ok && newest.cursor === null;
    }
    if (this.#stopped) return; // stop() came while we asked for the newest cursor
    this.#spawn(fromStart);
    this.#run = this.#loop(fromStart);
  }

  /** Stops reading and releases every handle once the batch in flight settled; idempotent. */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      clearTimeout(this.#restartTimer);
      this.#wakeRestart?.();
      this.#kill();
    }
    await this.#run;
    this.#done.resolve();
  }

  /** Positions after the last settled batch, plus saved positions of inputs not open now. */
  positions(): SourcePosition[] {
    return this.#cursor === null ? [] : [this.#position(this.#cursor)];
  }

  /** Counters of this source. */
  stats(): SourceStats {
    return { ...this.#stats };
  }

  // ---- child process -------------------------------------------------------------------------

  #args(fromStart: boolean, follow: boolean): string[] {
    const fields = [...new Set([...SHOWN_FIELDS, ...this.#match.fields])];
    const args = [
      "--no-pager",
      "--quiet",
      "--output=export",
      `--output-fields=${fields.join(",")}`,
    ];
    if (this.#opts.directory !== undefined) args.push(`--directory=${this.#opts.directory}`);
    if (follow) args.push("--follow");
    if (this.#cursor !== null) args.push(`--after-cursor=${this.#cursor}`, "--no-tail");
    else if (fromStart) args.push("--no-tail");
    else args.push("--lines=0");
    return [...args, ...this.#match.args];
  }

  #command(args: string[]): Deno.Command {
    return new Deno.Command(this.#opts.journalctl ?? JOURNALCTL, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      clearEnv: true,
      env: { SYSTEMD_COLORS: "0", SYSTEMD_PAGER: "", LC_ALL: "C.UTF-8" },
    });
  }

  async #newestCursor(): Promise<{ ok: boolean; cursor: string | null }> {
    const args = ["--no-pager", "--quiet", "--output=export", "--output-fields=_PID", "--lines=1"];
    if (this.#opts.directory !== undefined) args.push(`--directory=${this.#opts.directory}`);
    const out = await this.#command([...args, ...this.#match.args]).output();
    if (!out.success) {
      this.#warn(`journalctl failed to read the newest record: ${tail(out.stderr)}`);
      return { ok: false, cursor: null };
    }
    const records: ExportRecord[] = [];
    new ExportParser(["__CURSOR"], SMALL_FIELD_BYTES).push(out.stdout, records);
    const last = records.at(-1)?.fields.get("__CURSOR")?.[0];
    return { ok: true, cursor: last === undefined ? null : this.#decoder.decode(last) };
  }

  #spawn(fromStart: boolean): void {
    const follow = this.#opts.follow ?? true;
    this.#child = this.#command(this.#args(fromStart, follow)).spawn();
    this.#reader = this.#child.stdout.getReader();
  }

  #kill(): void {
    try {
      this.#child?.kill("SIGTERM");
    } catch { /* already exited */ }
  }

  // ---- reading -------------------------------------------------------------------------------

  async #loop(fromStart: boolean): Promise<void> {
    const follow = this.#opts.follow ?? true;
    try {
      for (;;) {
        const child = this.#child!;
        const stderr = collect(child.stderr);
        const delivered = await this.#readAll(this.#reader!);
        const status = await child.status;
        const errText = await stderr;
        this.#child = null;
        if (this.#stopped) return;
        if (!status.success) {
          if (!delivered && this.#cursor !== null && /cursor/i.test(errText)) {
            this.#warn(`journalctl rejected the saved cursor; starting at the end: ${errText}`);
            const newest = await this.#newestCursor();
            this.#cursor = newest.cursor;
            fromStart = newest.ok && newest.cursor === null;
          } else this.#warn(`journalctl exited with ${status.code}: ${errText}`);
          if (!follow) {
            throw new Error(
              `expected journalctl to succeed, found exit ${status.code}: ${errText}`,
            );
          }
        } else if (!follow) {
          this.#stopped = true;
          this.#done.resolve();
          return;
        }
        await new Promise<void>((resolve) => {
          this.#wakeRestart = resolve;
          this.#restartTimer = setTimeout(resolve, RESTART_DELAY_MS);
        });
        if (this.#stopped) return;
        this.#spawn(fromStart);
      }
    } catch (e) {
      this.#stopped = true;
      this.#kill();
      this.#done.reject(e);
    } finally {
      this.#child = null;
    }
  }

  /** Reads one child's stdout to its end; returns true when a record was delivered. */
  async #readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<boolean> {
    const keep = [...new Set([...SHOWN_FIELDS, ...this.#match.fields, ...ALWAYS_FIELDS])];
    const parser = new ExportParser(keep, Math.max(this.#cap, SMALL_FIELD_BYTES));
    let delivered = false;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.#stopped) return delivered;
        const records: ExportRecord[] = [];
        parser.push(value, records);
        if (records.length > 0) {
          await this.#deliver(records);
          delivered = true;
        }
      }
    } finally {
      reader.releaseLock();
      this.#reader = null;
    }
  }

  async #deliver(records: ExportRecord[]): Promise<void> {
    const lines: string[] = [];
    const times: (number | null)[] = [];
    let cursor: string | null = null;
    for (const r of records) {
      const c = r.fields.get("__CURSOR")?.[0];
      if (c !== undefined) cursor = this.#decoder.decode(c);
      if (!this.#match.test(r.fields)) continue;
      if (r.oversize.includes("MESSAGE")) {
        this.#drop();
        continue;
      }
      const message = r.fields.get("MESSAGE")?.[0];
      if (message === undefined) continue;
      const line = this.#format(r.fields, message);
      if (line.length > this.#cap / 3 && this.#encoder.encode(line).length > this.#cap) {
        this.#drop();
        continue;
      }
      lines.push(line);
      times.push(realtime(r.fields.get("__REALTIME_TIMESTAMP")?.[0]));
    }
    if (cursor === null) return;
    const position = this.#position(cursor);
    await this.#sink!({ source: this.key, lines, times, position, positions: [position] });
    this.#stats.lines += lines.length;
    this.#cursor = cursor;
  }

  #format(fields: ReadonlyMap<string, Uint8Array[]>, message: Uint8Array): string {
    const msg = escapeControls(this.#decoder.decode(message));
    if (this.#opts.lineFormat === "message") return msg;
    const identBytes = fields.get("SYSLOG_IDENTIFIER")?.[0] ?? fields.get("_COMM")?.[0];
    if (identBytes === undefined) return msg;
    const pidBytes = fields.get("SYSLOG_PID")?.[0] ?? fields.get("_PID")?.[0];
    const ident = escapeControls(this.#decoder.decode(identBytes));
    const pid = pidBytes === undefined ? "" : escapeControls(this.#decoder.decode(pidBytes));
    return pid === "" ? `${ident}: ${msg}` : `${ident}[${pid}]: ${msg}`;
  }

  #drop(): void {
    this.#stats.dropped++;
    this.#opts.onDrop?.({ source: this.key, reason: "record_too_large" });
  }

  #position(cursor: string): JournalPosition {
    return { kind: "journal", key: this.key, cursor };
  }

  #warn(message: string): void {
    this.#opts.onWarning?.(`journal source ${this.key}: ${message}`);
  }
}

/** The key a journal source with these matches and directory files its position under. */
export function journalKey(match: readonly string[], directory?: string): string {
  return `journal:${directory ?? ""}:${[...match].sort().join(" ")}`;
}

/**
 * Escapes C0 control characters except tab, and DEL, as `#ooo` (octal), as rsyslog does for
 * lines it writes to files: a journal message holding a newline stays one line and cannot pose
 * as a second record.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => `#${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

function realtime(bytes: Uint8Array | undefined): number | null {
  if (bytes === undefined || bytes.length === 0 || bytes.length > 20) return null;
  let us = 0;
  for (const b of bytes) {
    if (b < 48 || b > 57) return null;
    us = us * 10 + (b - 48);
  }
  return Number.isSafeInteger(us) ? Math.floor(us / 1000) : null;
}

function validCursor(cursor: string): boolean {
  // deno-lint-ignore no-control-regex
  return cursor.length > 0 && cursor.length <= CURSOR_MAX_CHARS && !/[\x00-\x1f]/.test(cursor);
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  const keep: Uint8Array[] = [];
  let kept = 0;
  for await (const chunk of stream) {
    if (kept < STDERR_KEEP_BYTES) {
      keep.push(chunk.subarray(0, STDERR_KEEP_BYTES - kept));
      kept += Math.min(chunk.length, STDERR_KEEP_BYTES - kept);
    }
  }
  return tail(concat(keep));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function tail(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes).trim().split("\n").slice(-3).join(" / ").slice(0, 500);
}
