/**
 * The `log-only` backend: nothing in the kernel, a structured JSON record per ban and unban on
 * stdout (journald keeps stdout of a unit). Operators choose it explicitly, or it is what runs,
 * marked degraded, when `on_no_backend = "log-only"` and no kernel backend works.
 *
 * It holds nothing per ban: a kernel backend's set lives in the kernel, and a JavaScript copy here
 * would grow with the tracker's table while V8's old space is capped at 16 MiB whatever
 * `memory_ceiling_mb` says (a flood of 44,000 banned addresses exhausted the heap when this kept a
 * `Map`). The tracker is the list of bans (`client list`); `list()` says what the kernel holds:
 * nothing.
 * @module
 */
import type { BanEntry, FirewallBackend, FirewallHealth } from "./backend.ts";

/** Something that takes whole byte chunks synchronously (`Deno.stdout` by default). */
export interface SyncWriter {
  /** Writes some of `p`; returns how many bytes were written. */
  writeSync(p: Uint8Array): number;
}

/** Records bans and unbans instead of applying them. */
export class LogOnlyBackend implements FirewallBackend {
  readonly name = "log-only";
  #out: SyncWriter;
  #enc = new TextEncoder();

  /** A backend writing one line per ban and unban to `out`. */
  constructor(out: SyncWriter = Deno.stdout) {
    this.#out = out;
  }

  init(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing to lose: always ok (the daemon reports log-only as degraded anyway). */
  check(): Promise<FirewallHealth> {
    return Promise.resolve({ ok: true, problem: "" });
  }

  ban(entries: readonly BanEntry[]): Promise<void> {
    for (const e of entries) this.#record("ban", e);
    return Promise.resolve();
  }

  unban(entries: readonly BanEntry[]): Promise<void> {
    for (const e of entries) this.#record("unban", e);
    return Promise.resolve();
  }

  /** Nothing is in a kernel: nothing to remove. */
  retainScopes(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing is in a kernel. */
  list(): Promise<BanEntry[]> {
    return Promise.resolve([]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #record(event: "ban" | "unban", e: BanEntry): void {
    const timeout = e.timeoutMs === null ? null : Math.round(e.timeoutMs / 1000);
    const line = JSON.stringify({
      ts: new Date().toISOString(),
      event,
      backend: "log-only",
      ip: e.ip,
      prefix: e.prefix,
      jail: e.jail,
      ...(event === "ban" ? { timeout_s: timeout } : {}),
    });
    const bytes = this.#enc.encode(line + "\n");
    let off = 0;
    while (off < bytes.length) off += this.#out.writeSync(bytes.subarray(off));
  }
}
