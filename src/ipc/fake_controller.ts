/**
 * An in-memory `Controller` for tests of the control plane: a few jails, a ban table, and a log
 * of every call. Behaves like the daemon on the reply shapes and the error codes.
 * @module
 */
import {
  type BanInfo,
  type BanReply,
  ControlError,
  type Controller,
  type JailsReply,
  type JailStatusReply,
  type ListReply,
  type ReloadReply,
  type StatusReply,
  type UnbanReply,
} from "./protocol.ts";

/** Options of `FakeController`. */
export interface FakeControllerOptions {
  /** Jail names. @default ["sshd", "nginx"] */
  jails?: string[];
  /** Jail bantime in seconds (null: permanent). @default 600 */
  bantimeS?: number | null;
  /** Time source (ms). @default Date.now */
  now?: () => number;
}

/** A `Controller` over in-memory state that records each call in `calls`. */
export class FakeController implements Controller {
  /** Every call as `[method, ...args]`, in order. */
  readonly calls: unknown[][] = [];
  /** What the next `reload()` does: succeed, or throw `invalid_config` with this message. */
  reloadError: string | null = null;
  #jails: string[];
  #bantimeS: number | null;
  #now: () => number;
  #bans = new Map<string, BanInfo>();
  #started: number;

  constructor(options: FakeControllerOptions = {}) {
    this.#jails = options.jails ?? ["sshd", "nginx"];
    this.#bantimeS = options.bantimeS === undefined ? 600 : options.bantimeS;
    this.#now = options.now ?? Date.now;
    this.#started = this.#now();
  }

  #jail(name: string): void {
    if (!this.#jails.includes(name)) throw new ControlError("not_found", `no jail named ${name}`);
  }

  status(): Promise<StatusReply> {
    this.calls.push(["status"]);
    return Promise.resolve({
      version: "fake",
      uptime_s: Math.floor((this.#now() - this.#started) / 1000),
      backend: "memory",
      degraded: false,
      memory_bytes: 1 << 20,
      tracked: 0,
      active_bans: this.#bans.size,
      jails: [...this.#jails],
    });
  }

  statusJail(jail: string): Promise<JailStatusReply> {
    this.calls.push(["statusJail", jail]);
    this.#jail(jail);
    const active = [...this.#bans.values()].filter((b) => b.jail === jail).length;
    return Promise.resolve({
      jail,
      filter: jail,
      sources: [`/var/log/${jail}.log`],
      lines_total: 0,
      failures_total: 0,
      currently_failed: 0,
      bans_total: active,
      active_bans: active,
    });
  }

  jails(): Promise<JailsReply> {
    this.calls.push(["jails"]);
    return Promise.resolve({
      jails: this.#jails.map((name) => ({
        name,
        enabled: true,
        filter: name,
        maxretry: 5,
        findtime_s: 600,
        bantime_s: this.#bantimeS,
        active_bans: [...this.#bans.values()].filter((b) => b.jail === name).length,
      })),
    });
  }

  list(jail?: string): Promise<ListReply> {
    this.calls.push(jail === undefined ? ["list"] : ["list", jail]);
    if (jail !== undefined) this.#jail(jail);
    const bans = [...this.#bans.values()]
      .filter((b) => jail === undefined || b.jail === jail)
      .sort((a, b) => a.banned_at.localeCompare(b.banned_at));
    return Promise.resolve({ bans });
  }

  ban(ip: string, jail: string, durationS?: number | null): Promise<BanReply> {
    this.calls.push(durationS === undefined ? ["ban", ip, jail] : ["ban", ip, jail, durationS]);
    this.#jail(jail);
    if (!/^[0-9a-f.:]+$/i.test(ip)) throw new ControlError("bad_request", `bad address ${ip}`);
    const d = durationS === undefined ? this.#bantimeS : durationS;
    const now = this.#now();
    this.#bans.set(`${jail} ${ip}`, {
      ip,
      jail,
      banned_at: new Date(now).toISOString(),
      expires_at: d === null ? null : new Date(now + d * 1000).toISOString(),
      remaining_s: d,
      ban_count: 1,
      prefix: ip.includes(":") ? 128 : 32,
    });
    return Promise.resolve({ ip, jail, duration_s: d });
  }

  unban(ip: string, jail?: string): Promise<UnbanReply> {
    this.calls.push(jail === undefined ? ["unban", ip] : ["unban", ip, jail]);
    if (jail !== undefined) this.#jail(jail);
    const unbanned: { ip: string; jail: string }[] = [];
    for (const [k, b] of this.#bans) {
      if (b.ip === ip && (jail === undefined || b.jail === jail)) {
        this.#bans.delete(k);
        unbanned.push({ ip, jail: b.jail });
      }
    }
    if (unbanned.length === 0) throw new ControlError("not_found", `${ip} is not banned`);
    return Promise.resolve({ unbanned });
  }

  unbanAll(): Promise<UnbanReply> {
    this.calls.push(["unbanAll"]);
    const unbanned = [...this.#bans.values()].map((b) => ({ ip: b.ip, jail: b.jail }));
    this.#bans.clear();
    return Promise.resolve({ unbanned });
  }

  reload(): Promise<ReloadReply> {
    this.calls.push(["reload"]);
    if (this.reloadError !== null) {
      return Promise.reject(new ControlError("invalid_config", this.reloadError));
    }
    return Promise.resolve({ reloaded: true, jails: [...this.#jails] });
  }
}
