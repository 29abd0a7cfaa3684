/**
 * The ipset backend: two kernel sets with per-entry timeouts and comments, matched by one DROP
 * rule per family at the top of INPUT (so it needs iptables/ip6tables as well as ipset):
 *
 * ```
 * ipset create fail2zig-v4 hash:ip  family inet  timeout 0 comment maxelem 262144
 * ipset create fail2zig-v6 hash:net family inet6 timeout 0 comment maxelem 262144
 * iptables  -I INPUT 1 -m set --match-set fail2zig-v4 src -j DROP
 * ip6tables -I INPUT 1 -m set --match-set fail2zig-v6 src -j DROP
 * ```
 *
 * `hash:net` for IPv6 holds single addresses and prefixes alike. Bans and unbans of one call go
 * through one `ipset restore -exist` run (re-adding an entry updates its timeout; deleting an
 * absent one is not an error). ipset counts timeouts in whole seconds: a timeout is rounded up,
 * and capped at `IPSET_MAX_TIMEOUT_S` (≈ 24.8 days) — the daemon's own unban at expiry covers
 * longer bans. Permanent = `timeout 0`.
 * @module
 */
import {
  type BanEntry,
  type FirewallBackend,
  FirewallError,
  type FirewallHealth,
} from "./backend.ts";
import { entryTarget, safeComment, type Target } from "./_addr.ts";
import { runTool, runToolOk } from "./_command.ts";
import { Mutex } from "./_mutex.ts";

/** Largest timeout ipset accepts, in seconds. */
export const IPSET_MAX_TIMEOUT_S = 2147483;
/** Capacity of each set; `ipset add` fails past it (the ban is reported as failed). */
export const IPSET_MAX_ELEMENTS = 262144;

/** Options of `IpsetBackend`. */
export interface IpsetOptions {
  /** Path of the `ipset` program. @default "/usr/sbin/ipset" */
  ipset?: string;
  /** Path of the `iptables` program. @default "/usr/sbin/iptables" */
  iptables?: string;
  /** Path of the `ip6tables` program. @default "/usr/sbin/ip6tables" */
  ip6tables?: string;
  /** Name of the IPv4 set. @default "fail2zig-v4" */
  set4?: string;
  /** Name of the IPv6 set. @default "fail2zig-v6" */
  set6?: string;
}

/** Bans as entries of two ipset sets. */
export class IpsetBackend implements FirewallBackend {
  readonly name = "ipset";
  #ipset: string;
  #ipt: Record<4 | 6, string>;
  #set: Record<4 | 6, string>;
  #lock = new Mutex();

  /** A backend driving the programs of `options`; nothing runs before `init()`. */
  constructor(options: IpsetOptions = {}) {
    this.#ipset = options.ipset ?? "/usr/sbin/ipset";
    this.#ipt = {
      4: options.iptables ?? "/usr/sbin/iptables",
      6: options.ip6tables ?? "/usr/sbin/ip6tables",
    };
    this.#set = { 4: options.set4 ?? "fail2zig-v4", 6: options.set6 ?? "fail2zig-v6" };
  }

  #match(f: 4 | 6): string[] {
    return ["INPUT", "-m", "set", "--match-set", this.#set[f], "src", "-j", "DROP"];
  }

  /** Creates both sets (kept with their entries when they exist) and the two DROP rules. */
  init(): Promise<void> {
    return this.#lock.run(async () => {
      for (const f of [4, 6] as const) {
        await runToolOk(this.name, "init", this.#ipset, [
          "create",
          this.#set[f],
          f === 4 ? "hash:ip" : "hash:net",
          "family",
          f === 4 ? "inet" : "inet6",
          "timeout",
          "0",
          "comment",
          "maxelem",
          String(IPSET_MAX_ELEMENTS),
          "-exist",
        ]);
      }
      for (const f of [4, 6] as const) {
        const has = await runTool(this.name, "init", this.#ipt[f], ["-w", "-C", ...this.#match(f)]);
        if (has.code !== 0) {
          const [chain, ...rest] = this.#match(f);
          await runToolOk(this.name, "init", this.#ipt[f], ["-w", "-I", chain!, "1", ...rest]);
        }
      }
    });
  }

  /**
   * `ipset list -t` (headers of every set, one run) and `iptables -C` of each DROP rule, run
   * together: both sets must exist with their type and family, and both rules be in INPUT.
   * `entries` is the sum of the sets' "Number of entries".
   */
  check(): Promise<FirewallHealth> {
    return this.#lock.run(async () => {
      const [sets, ...rules] = await Promise.all([
        runToolOk(this.name, "check", this.#ipset, ["list", "-t"]),
        ...([4, 6] as const).map((f) =>
          runTool(this.name, "check", this.#ipt[f], ["-w", "-C", ...this.#match(f)])
        ),
      ]);
      const headers = parseSetHeaders(sets.stdout);
      const problems: string[] = [];
      let entries = 0;
      for (const f of [4, 6] as const) {
        const h = headers.get(this.#set[f]);
        const type = f === 4 ? "hash:ip" : "hash:net";
        const family = f === 4 ? "inet" : "inet6";
        if (h === undefined) problems.push(`set ${this.#set[f]} is missing`);
        else if (h.type !== type || h.family !== family) {
          problems.push(`set ${this.#set[f]} is ${h.type} ${h.family}, expected ${type} ${family}`);
        } else entries += h.entries;
        if (rules[f === 4 ? 0 : 1]!.code !== 0) {
          problems.push(`INPUT of ${this.#ipt[f]} has no DROP rule for ${this.#set[f]}`);
        }
      }
      return { ok: problems.length === 0, problem: problems.join("; "), entries };
    });
  }

  #targets(op: string, entries: readonly BanEntry[]): [Target, BanEntry][] {
    return entries.map((e) => [entryTarget(this.name, op, e), e]);
  }

  #member(t: Target): string {
    return t.family === 4 || t.prefix === 128 ? t.key.slice(0, t.key.lastIndexOf("/")) : t.key;
  }

  /** Adds every entry in one `ipset restore` run. */
  ban(entries: readonly BanEntry[]): Promise<void> {
    return this.#lock.run(async () => {
      const lines = this.#targets("ban", entries).map(([t, e]) => {
        const secs = e.timeoutMs === null
          ? 0
          : Math.min(IPSET_MAX_TIMEOUT_S, Math.max(1, Math.ceil(e.timeoutMs / 1000)));
        return `add ${this.#set[t.family]} ${this.#member(t)} timeout ${secs} comment "${
          safeComment(e.jail)
        }"`;
      });
      if (lines.length === 0) return;
      await runToolOk(
        this.name,
        "ban",
        this.#ipset,
        ["restore", "-exist"],
        lines.join("\n") + "\n",
      );
    });
  }

  /** Deletes every entry in one `ipset restore -exist` run; absent ones are ignored. */
  unban(entries: readonly BanEntry[]): Promise<void> {
    return this.#lock.run(async () => {
      const lines = this.#targets("unban", entries).map(([t]) =>
        `del ${this.#set[t.family]} ${this.#member(t)}`
      );
      if (lines.length === 0) return;
      await runToolOk(
        this.name,
        "unban",
        this.#ipset,
        ["restore", "-exist"],
        lines.join("\n") + "\n",
      );
    });
  }

  /** Entries of both sets with remaining time (whole seconds) and jail comment. */
  list(): Promise<BanEntry[]> {
    return this.#lock.run(async () => {
      const out: BanEntry[] = [];
      for (const f of [4, 6] as const) {
        const r = await runToolOk(this.name, "list", this.#ipset, ["save", this.#set[f]]);
        for (const line of r.stdout.split("\n")) {
          const m = /^add \S+ ([0-9a-fA-F:.]+)(?:\/(\d+))? timeout (\d+)(?: comment "([^"]*)")?/
            .exec(
              line.trim(),
            );
          if (!m) continue;
          const secs = Number(m[3]);
          out.push({
            ip: m[1]!,
            prefix: m[2] !== undefined ? Number(m[2]) : f === 4 ? 32 : 128,
            timeoutMs: secs === 0 ? null : secs * 1000,
            jail: m[4] ?? "",
          });
        }
      }
      return out;
    });
  }

  /** Removes the DROP rules, then destroys the sets (clean stop; see docs/architecture.md). */
  close(): Promise<void> {
    return this.#lock.run(async () => {
      for (const f of [4, 6] as const) {
        for (let i = 0; i < 16; i++) {
          const r = await runTool(this.name, "close", this.#ipt[f], [
            "-w",
            "-D",
            ...this.#match(f),
          ]);
          if (r.code !== 0) break;
        }
      }
      for (const f of [4, 6] as const) {
        const r = await runTool(this.name, "close", this.#ipset, ["destroy", this.#set[f]]);
        if (r.code !== 0 && !/does not exist/i.test(r.stderr)) {
          throw new FirewallError(
            this.name,
            "close",
            `expected to destroy set ${this.#set[f]}: ${r.stderr.trim()}`,
          );
        }
      }
    });
  }
}

/** Name → type, family and entry count from `ipset list -t`. */
function parseSetHeaders(
  text: string,
): Map<string, { type: string; family: string; entries: number }> {
  const out = new Map<string, { type: string; family: string; entries: number }>();
  let cur: { type: string; family: string; entries: number } | null = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === "Name") {
      cur = { type: "", family: "", entries: 0 };
      out.set(value, cur);
    } else if (cur === null) continue;
    else if (key === "Type") cur.type = value;
    else if (key === "Header") cur.family = /\bfamily (\S+)/.exec(value)?.[1] ?? "";
    else if (key === "Number of entries") cur.entries = Number(value);
  }
  return out;
}
