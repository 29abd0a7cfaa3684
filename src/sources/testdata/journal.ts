/**
 * Builds real journal files for tests: entries → journal export format → `systemd-journal-remote
 * --output=DIR/remote.journal` (Debian package systemd-journal-remote). Running it again on the
 * same output appends, which is how follow-mode tests add records after a source started.
 * @module
 */

/** The journal-remote binary (Debian's path; /lib is /usr/lib on merged-/usr systems). */
export const JOURNAL_REMOTE = "/usr/lib/systemd/systemd-journal-remote";

/** One journal record to write. */
export interface Entry {
  readonly message: string | Uint8Array;
  /** `__REALTIME_TIMESTAMP` in microseconds. */
  readonly timeUs: number;
  readonly unit?: string;
  readonly ident?: string;
  readonly pid?: number;
  readonly fields?: Readonly<Record<string, string>>;
}

const BOOT = "0123456789abcdef0123456789abcdef";
const enc = new TextEncoder();

/** Serialises entries in journal export format (MESSAGE as a binary field when it must be). */
export function exportFormat(entries: readonly Entry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const text = (name: string, value: string) => parts.push(enc.encode(`${name}=${value}\n`));
  for (const e of entries) {
    text("__REALTIME_TIMESTAMP", String(e.timeUs));
    text("__MONOTONIC_TIMESTAMP", String(e.timeUs - 1_700_000_000_000_000));
    text("_BOOT_ID", BOOT);
    text("_HOSTNAME", "testhost");
    if (e.unit !== undefined) text("_SYSTEMD_UNIT", e.unit);
    if (e.ident !== undefined) text("SYSLOG_IDENTIFIER", e.ident);
    if (e.pid !== undefined) text("_PID", String(e.pid));
    for (const [k, v] of Object.entries(e.fields ?? {})) text(k, v);
    const msg = typeof e.message === "string" ? enc.encode(e.message) : e.message;
    if (msg.includes(10) || msg.some((b) => b < 32 || b >= 127)) {
      const len = new Uint8Array(8);
      new DataView(len.buffer).setUint32(0, msg.length, true);
      parts.push(enc.encode("MESSAGE\n"), len, msg, enc.encode("\n"));
    } else text("MESSAGE", new TextDecoder().decode(msg));
    parts.push(enc.encode("\n"));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Appends entries to the journal file `DIR/remote.journal` (created on first use). */
export async function appendJournal(dir: string, entries: readonly Entry[]): Promise<void> {
  const input = await Deno.makeTempFile({ dir, suffix: ".export" });
  try {
    await Deno.writeFile(input, exportFormat(entries));
    const out = await new Deno.Command(JOURNAL_REMOTE, {
      args: [`--output=${dir}/remote.journal`, input],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`systemd-journal-remote failed: ${new TextDecoder().decode(out.stderr)}`);
    }
  } finally {
    await Deno.remove(input);
  }
}
