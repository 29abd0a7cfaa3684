/**
 * An in-memory `Controller` for tests of the control plane: a few jails, a ban table, and a log
 * of every call. Behaves like the daemon on the reply shapes and the error codes.
 * @module
 */
import {
  type BanInfo,
  type BannedReply,
  type BanReply,
  ControlError,
  type Controller,
  type HistoryRecord,
  type HistoryReply,
  type IgnoreAddReply,
  type IgnoreDelReply,
  type IgnoreEntry,
  type IgnoreListReply,
  type JailRunReply,
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
  #ignore: IgnoreEntry[] = [];
  #stopped = new Set<string>();
  #history: HistoryRecord[] = [];
  #started: number;

  /** A controller with `options.jails` (default `sshd`, `nginx`) and no bans. */
  constructor(options: FakeControllerOptions = {}) {
    this.#jails = options.jails ?? ["sshd", "nginx"];
    this.#bantimeS = options.bantimeS === undefined ? 600 : options.bantimeS;
    this.#now = options.now ?? Date.now;
    this.#started = this.#now();
  }

  #jail(name: string): void {
    if (!this.#jails.includes(name)) throw new ControlError("not_found", `no jail named ${name}`);
  }

  /** Answers `status` from the fake's own state. */
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

  /** Answers `status_jail`; `not_found` for an unknown jail. */
  statusJail(jail: string): Promise<JailStatusReply> {
    this.calls.push(["statusJail", jail]);
    this.#jail(jail);
    const active = [...this.#bans.values()].filter((b) => b.jail === jail).length;
    return Promise.resolve({
      jail,
      filter: jail,
      sources: [`/var/log/${jail}.log`],
      lines_total: 0,
      ambiguous_total: 0,
      failures_total: 0,
      currently_failed: 0,
      bans_total: active,
      active_bans: active,
      stopped: this.#stopped.has(jail),
      ports: "all",
    });
  }

  /** Answers `jails`. */
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
        stopped: this.#stopped.has(name),
      })),
    });
  }

  list(jail?: string, ip?: string): Promise<ListReply> {
    this.calls.push(
      ip !== undefined ? ["list", jail, ip] : jail === undefined ? ["list"] : [
        "list",
        jail,
      ],
    );
    if (jail !== undefined) this.#jail(jail);
    const bans = [...this.#bans.values()]
      .filter((b) => (jail === undefined || b.jail === jail) && (ip === undefined || b.ip === ip))
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
    this.#record({ event: "ban", ip, jail, duration_s: d, reason: "client", origin: "client" });
    return Promise.resolve({ ip, jail, duration_s: d });
  }

  /** Answers `banned`. */
  banned(ips: readonly string[]): Promise<BannedReply> {
    this.calls.push(["banned", ...ips]);
    return Promise.resolve({
      banned: ips.map((ip) => ({
        ip,
        jails: [...this.#bans.values()].filter((b) => b.ip === ip).map((b) => b.jail),
      })),
    });
  }

  unban(ip: string | readonly string[], jail?: string): Promise<UnbanReply> {
    this.calls.push(jail === undefined ? ["unban", ip] : ["unban", ip, jail]);
    if (jail !== undefined) this.#jail(jail);
    const ips = typeof ip === "string" ? [ip] : ip;
    const unbanned: { ip: string; jail: string }[] = [];
    const missed: string[] = [];
    for (const one of ips) {
      const before = unbanned.length;
      for (const [k, b] of this.#bans) {
        if (b.ip === one && (jail === undefined || b.jail === jail)) {
          this.#bans.delete(k);
          unbanned.push({ ip: one, jail: b.jail });
          this.#record({ event: "unban", ip: one, jail: b.jail, reason: "client" });
        }
      }
      if (unbanned.length === before) missed.push(one);
    }
    if (unbanned.length === 0) throw new ControlError("not_found", `${ips.join(", ")} not banned`);
    return Promise.resolve(
      typeof ip === "string" ? { unbanned } : { unbanned, not_banned: missed },
    );
  }

  /** Answers `ignore_add`: adds the entry and lifts the bans it covers. */
  ignoreAdd(cidr: string, jail?: string): Promise<IgnoreAddReply> {
    this.calls.push(["ignoreAdd", cidr, jail]);
    if (jail !== undefined) this.#jail(jail);
    const entry = { cidr, jail: jail ?? null };
    this.#ignore.push(entry);
    const unbanned: { ip: string; jail: string }[] = [];
    for (const [k, b] of this.#bans) {
      if (b.ip === cidr && (jail === undefined || b.jail === jail)) {
        this.#bans.delete(k);
        unbanned.push({ ip: b.ip, jail: b.jail });
      }
    }
    return Promise.resolve({ ignore: entry, unbanned });
  }

  /** Answers `ignore_del`; `not_found` when there is no such entry. */
  ignoreDel(cidr: string, jail?: string): Promise<IgnoreDelReply> {
    this.calls.push(["ignoreDel", cidr, jail]);
    const i = this.#ignore.findIndex((e) => e.cidr === cidr && e.jail === (jail ?? null));
    if (i < 0) throw new ControlError("not_found", `${cidr} is not in the runtime ignore list`);
    const [entry] = this.#ignore.splice(i, 1);
    return Promise.resolve({ ignore: entry! });
  }

  /** Answers `ignore_list`. */
  ignoreList(jail?: string): Promise<IgnoreListReply> {
    this.calls.push(jail === undefined ? ["ignoreList"] : ["ignoreList", jail]);
    if (jail !== undefined) this.#jail(jail);
    return Promise.resolve({
      ignore: this.#ignore
        .filter((e) => jail === undefined || e.jail === null || e.jail === jail)
        .map((e) => ({ ...e, source: "runtime" as const })),
    });
  }

  /** Answers `jail_stop`: lifts the jail's bans and marks it stopped. */
  jailStop(jail: string): Promise<JailRunReply> {
    this.calls.push(["jailStop", jail]);
    this.#jail(jail);
    this.#stopped.add(jail);
    const unbanned: { ip: string; jail: string }[] = [];
    for (const [k, b] of this.#bans) {
      if (b.jail === jail) {
        this.#bans.delete(k);
        unbanned.push({ ip: b.ip, jail });
      }
    }
    return Promise.resolve({ jail, stopped: true, unbanned });
  }

  /** Answers `jail_start`. */
  jailStart(jail: string): Promise<JailRunReply> {
    this.calls.push(["jailStart", jail]);
    this.#jail(jail);
    this.#stopped.delete(jail);
    return Promise.resolve({ jail, stopped: false });
  }

  /** Answers `unban_all`. */
  unbanAll(): Promise<UnbanReply> {
    this.calls.push(["unbanAll"]);
    const unbanned = [...this.#bans.values()].map((b) => ({ ip: b.ip, jail: b.jail }));
    this.#bans.clear();
    return Promise.resolve({ unbanned });
  }

  history(ip: string, limit?: number): Promise<HistoryReply> {
    this.calls.push(limit === undefined ? ["history", ip] : ["history", ip, limit]);
    const all = this.#history.filter((r) => r.ip === ip);
    const records = limit === undefined ? all : all.slice(-limit);
    return Promise.resolve(
      records.length < all.length
        ? { ip, records, truncated: true, total: all.length }
        : { ip, records },
    );
  }

  #record(r: Omit<HistoryRecord, "seq" | "ts">): void {
    const ts = new Date(this.#now()).toISOString();
    this.#history.push({ seq: this.#history.length, ts, ...r });
  }

  /** Answers `reload`; `invalid_config` when `reloadError` is set. */
  reload(): Promise<ReloadReply> {
    this.calls.push(["reload"]);
    if (this.reloadError !== null) {
      return Promise.reject(new ControlError("invalid_config", this.reloadError));
    }
    return Promise.resolve({ reloaded: true, jails: [...this.#jails] });
  }
}
