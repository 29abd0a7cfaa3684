/** The `log-only` backend: a structured record per ban and unban, nothing in the kernel. @module */
import type { Logger } from "../log/mod.ts";
import type { BanEntry, FirewallBackend } from "./backend.ts";

/** Records bans instead of applying them; keeps the set so `list()` answers like a real backend. */
export class LogOnlyBackend implements FirewallBackend {
  readonly name = "log-only";
  #log: Logger;
  #bans = new Map<string, BanEntry>();
  constructor(log: Logger) {
    this.#log = log;
  }
  init(): Promise<void> {
    return Promise.resolve();
  }
  ban(entries: readonly BanEntry[]): Promise<void> {
    for (const e of entries) {
      this.#bans.set(`${e.ip}/${e.prefix}`, e);
      this.#log.info("firewall ban (log-only)", {
        event: "fw_ban",
        ip: e.ip,
        prefix: e.prefix,
        jail: e.jail,
        timeout_s: e.timeoutMs === null ? null : Math.round(e.timeoutMs / 1000),
      });
    }
    return Promise.resolve();
  }
  unban(entries: readonly BanEntry[]): Promise<void> {
    for (const e of entries) {
      if (this.#bans.delete(`${e.ip}/${e.prefix}`)) {
        this.#log.info("firewall unban (log-only)", {
          event: "fw_unban",
          ip: e.ip,
          prefix: e.prefix,
          jail: e.jail,
        });
      }
    }
    return Promise.resolve();
  }
  list(): Promise<BanEntry[]> {
    return Promise.resolve([...this.#bans.values()]);
  }
  close(): Promise<void> {
    this.#bans.clear();
    return Promise.resolve();
  }
}
