/**
 * Helpers for driving a live daemon's log sources: the real `client` command, sshd failure
 * lines with a chosen address, and readers for the daemon's ban/audit and "lines dropped"
 * records. Shared by `daemon_sources_test.ts` and `bench/latency.ts`.
 * @module
 */
import { client, type DaemonRecord } from "./_daemon.ts";

/** The counters of `client status JAIL` that the source tests check. */
export interface JailCounts {
  readonly lines: number;
  readonly failures: number;
}

/** `client status JAIL` → `{lines, failures}`; throws with the client's stderr on failure. */
export async function jailCounts(socket: string, jail: string): Promise<JailCounts> {
  const r = await client(socket, "status", jail);
  if (r.code !== 0 || r.json === null) {
    throw new Error(
      `client status ${jail}: expected exit 0 with JSON, found ${r.code}: ${
        JSON.stringify(r.json)
      } ${r.err}`,
    );
  }
  return {
    lines: r.json["lines_total"] as number,
    failures: r.json["failures_total"] as number,
  };
}

/** One sshd failure line (syslog shape with an ISO timestamp of now) from `ip`. */
export function failLine(ip: string, i = 0): string {
  return `${new Date().toISOString()} web1 sshd[${1000 + (i % 1000)}]: Failed password for root ` +
    `from ${ip} port ${40000 + (i % 20000)} ssh2\n`;
}

/** `n` failure lines from `ip`. */
export function failLines(ip: string, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += failLine(ip, i);
  return s;
}

/** Appends text (or bytes) to `path`, creating it. */
export function append(path: string, data: string | Uint8Array): void {
  const f = Deno.openSync(path, { append: true, create: true });
  try {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    let off = 0;
    while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
  } finally {
    f.close();
  }
}

/** New bans decided by this process: its audit records, as sorted `"jail ip"` strings. */
export function auditBans(err: readonly DaemonRecord[]): string[] {
  return err.filter((r) => r["fail2zig_event"] === "ban")
    .map((r) => `${r["jail"]} ${r["ip"]}`)
    .sort();
}

/** Sum of the counts of the daemon's "lines dropped" warnings (reason `line_too_long`). */
export function droppedLines(err: readonly DaemonRecord[]): number {
  return err.filter((r) => r["msg"] === "lines dropped" && r["reason"] === "line_too_long")
    .reduce((n, r) => n + (r["count"] as number), 0);
}

/** Promise-based sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
