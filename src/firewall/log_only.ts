/**
 * The `log-only` backend: nothing in the kernel, a structured JSON record per ban and unban on
 * stdout (journald keeps stdout of a unit). Operators choose it explicitly, or it is what runs,
 * marked degraded, when `on_no_backend = "log-only"` and no kernel backend works.
 * @module
 */
import type { BanEntry, FirewallBackend } from "./backend.ts";

/** Something that takes whole byte chunks synchronously (`Deno.stdout` by default). */
export interface SyncWriter {
  writeSync(p: Uint8Array): number;
}

/** Records bans instead of applying them; keeps the set so `list()` answers like a real backend. */
export class LogOnlyBackend implements FirewallBackend {
  readonly name = "log-only";
  #out: SyncWriter;
  #enc = new TextEncoder();
  /** Entry and its expiry (ms since the epoch, null = permanent), so list() ages like a kernel set. */
  #bans = new Map<string, { entry: BanEntry; expiresAt: number | null }>();

  constructor(out: SyncWriter = Deno.stdout) {
    this.#out = out;
  }

  init(): Promise<void> {
    return Promise.resolve();
  }

  ban(entries: readonly BanEntry[]): Promise<void> {
    for (const e of entries) {
      this.#bans.set(`${e.ip}/${e.prefix}`, {
        entry: e,
        expiresAt: e.timeoutMs === null ? null : Date.now() + e.timeoutMs,
      });
      this.#record("ban", e);
    }
    return Promise.resolve();
  }

  unban(entries: readonly BanEntry[]): Promise<void> {
    for (const e of entries) {
      if (this.#bans.delete(`${e.ip}/${e.prefix}`)) this.#record("unban", e);
    }
    return Promise.resolve();
  }

  list(): Promise<BanEntry[]> {
    const now = Date.now();
    const out: BanEntry[] = [];
    for (const [k, { entry, expiresAt }] of this.#bans) {
      if (expiresAt !== null && expiresAt <= now) this.#bans.delete(k);
      else out.push({ ...entry, timeoutMs: expiresAt === null ? null : expiresAt - now });
    }
    return Promise.resolve(out);
  }

  close(): Promise<void> {
    this.#bans.clear();
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
