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
 * A jail with `port`/`protocol` bans into its scope's own two sets, `fail2zig-v4-HASH` and
 * `fail2zig-v6-HASH` (HASH = CRC-32 of the scope id, in hex: set names are at most 31 characters),
 * matched by one rule per family and protocol that names the ports:
 *
 * ```
 * iptables -I INPUT 1 -p tcp -m multiport --dports 22,2222 -m set --match-set fail2zig-v4-HASH src -j DROP
 * ```
 *
 * The config's scopes are installed by `init()`; a scope first seen in a ban is installed then.
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
import { restoreFilter, runTool, runToolOk } from "./_command.ts";
import { Mutex } from "./_mutex.ts";
import type { PortScope } from "../config/mod.ts";
import { crc32 } from "../hash/mod.ts";

/** Largest timeout ipset accepts, in seconds. */
export const IPSET_MAX_TIMEOUT_S = 2147483;
/** Capacity of each set; `ipset add` fails past it (the ban is reported as failed). */
export const IPSET_MAX_ELEMENTS = 262144;

/** Options of `IpsetBackend`. */
export interface IpsetOptions {
  /** Path of the `ipset` program. @default "/usr/sbin/ipset" */
  ipset?: string;
  /**
   * Path of the `iptables` program; its `-restore` beside it (`/usr/sbin/iptables-restore`)
   * applies the rule changes. @default "/usr/sbin/iptables"
   */
  iptables?: string;
  /** Path of the `ip6tables` program, likewise. @default "/usr/sbin/ip6tables" */
  ip6tables?: string;
  /** Name of the IPv4 set. @default "fail2zig-v4" */
  set4?: string;
  /** Name of the IPv6 set. @default "fail2zig-v6" */
  set6?: string;
  /** Port scopes to install from the start (the config's), so `list()` reads their sets. */
  scopes?: readonly PortScope[];
}

/** One pair of sets and the rules that match them. */
interface SetPair {
  readonly scope: PortScope | null;
  readonly set: Record<4 | 6, string>;
}

/** Bans as entries of two ipset sets. */
export class IpsetBackend implements FirewallBackend {
  readonly name = "ipset";
  #ipset: string;
  #ipt: Record<4 | 6, string>;
  #set: Record<4 | 6, string>;
  #lock = new Mutex();
  /** By scope id; "" is the unscoped pair, always first. */
  #pairs = new Map<string, SetPair>();

  /** A backend driving the programs of `options`; nothing runs before `init()`. */
  constructor(options: IpsetOptions = {}) {
    this.#ipset = options.ipset ?? "/usr/sbin/ipset";
    this.#ipt = {
      4: options.iptables ?? "/usr/sbin/iptables",
      6: options.ip6tables ?? "/usr/sbin/ip6tables",
    };
    this.#set = { 4: options.set4 ?? "fail2zig-v4", 6: options.set6 ?? "fail2zig-v6" };
    this.#pairs.set("", { scope: null, set: this.#set });
    for (const sc of options.scopes ?? []) this.#register(sc);
  }

  #register(scope: PortScope): boolean {
    if (this.#pairs.has(scope.id)) return false;
    const tag = crc32(new TextEncoder().encode(scope.id)).toString(16).padStart(8, "0");
    this.#pairs.set(scope.id, {
      scope,
      set: { 4: `${this.#set[4]}-${tag}`, 6: `${this.#set[6]}-${tag}` },
    });
    return true;
  }

  /** The DROP rules of a pair in one family (after `-C`/`-D`/`-I`, from the chain on). */
  #matches(pair: SetPair, f: 4 | 6): string[][] {
    const set = ["-m", "set", "--match-set", pair.set[f], "src", "-j", "DROP"];
    if (pair.scope === null) return [["INPUT", ...set]];
    const ports = pair.scope.ports.map(([a, b]) => a === b ? String(a) : `${a}:${b}`).join(",");
    return pair.scope.protocols.map((p) => [
      "INPUT",
      "-p",
      p,
      ...(ports === "" ? [] : ["-m", "multiport", "--dports", ports]),
      ...set,
    ]);
  }

  /** Every pair's DROP rules: [family, rule]. */
  #allMatches(): [4 | 6, string[]][] {
    return [...this.#pairs.values()].flatMap((pair) =>
      ([4, 6] as const).flatMap((f) =>
        this.#matches(pair, f).map((m) => [f, m] as [4 | 6, string[]])
      )
    );
  }

  /**
   * Creates every pair's sets (kept with their entries when they exist) and DROP rules, and
   * deletes the INPUT rules on these sets that are not the pairs' (altered, see `check()`).
   */
  init(): Promise<void> {
    return this.#lock.run(() => this.#install("init"));
  }

  /**
   * One `ipset restore -exist` creates the sets that are missing while `iptables -S INPUT` reads
   * each family's rules (all three run together); then, per family whose rules differ from the
   * pairs' (`#compare`, as `check()` reads them), one `iptables-restore` deletes the altered ones
   * and inserts the missing ones.
   */
  async #install(op: string): Promise<void> {
    const creates = [...this.#pairs.values()].flatMap((pair) =>
      ([4, 6] as const).map((f) =>
        `create ${pair.set[f]} ${f === 4 ? "hash:ip family inet" : "hash:net family inet6"} ` +
        `timeout 0 comment maxelem ${IPSET_MAX_ELEMENTS}`
      )
    );
    const [, in4, in6] = await Promise.all([
      runToolOk(this.name, op, this.#ipset, ["restore", "-exist"], creates.join("\n") + "\n"),
      this.#input(op, 4),
      this.#input(op, 6),
    ]);
    await Promise.all(([[4, in4], [6, in6]] as const).map(async ([f, lines]) => {
      const { missing, extra } = this.#compare(f, lines);
      // By number, last first (a line's text may not survive a round trip through the tool).
      const commands = [...extra.keys()].sort((a, b) => b - a).map((n) => `-D INPUT ${n}`);
      for (const m of missing) commands.push(m.replace(/^-A INPUT /, "-I INPUT 1 "));
      await restoreFilter(this.name, op, this.#ipt[f], commands);
    }));
  }

  /** INPUT's rules in `iptables -S INPUT` lines (line n is rule number n). */
  async #input(op: string, f: 4 | 6): Promise<string[]> {
    const r = await runToolOk(this.name, op, this.#ipt[f], ["-w", "-S", "INPUT"]);
    return r.stdout.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("-A INPUT "));
  }

  /**
   * INPUT's rules of family `f` against the pairs' DROP rules: the expected ones missing, and the
   * numbers of the rules that match one of this backend's sets but are not expected (altered by
   * hand, duplicated, or a scope's left from an earlier run).
   */
  #compare(f: 4 | 6, lines: readonly string[]): { missing: string[]; extra: Map<number, string> } {
    const want = new Map<string, number>();
    for (const pair of this.#pairs.values()) {
      for (const m of this.#matches(pair, f)) want.set(`-A ${m.join(" ")}`, 1);
    }
    const extra = new Map<number, string>();
    lines.forEach((line, i) => {
      const set = /--match-set (\S+) /.exec(line)?.[1];
      if (set === undefined || !this.#isOurs(set)) return;
      if (want.get(line) === 1) want.set(line, 0);
      else extra.set(i + 1, line);
    });
    return { missing: [...want].filter(([, n]) => n === 1).map(([l]) => l), extra };
  }

  /** A set name this backend creates (its pairs', or a scope's of an earlier run). */
  #isOurs(set: string): boolean {
    return ([4, 6] as const).some((f) => {
      const base = this.#set[f];
      return set === base ||
        (set.startsWith(`${base}-`) && /^[0-9a-f]{8}$/.test(set.slice(base.length + 1)));
    });
  }

  /**
   * `ipset list -t` (headers of every set) and `iptables -S INPUT` per family, run together: every
   * pair's sets must exist with their type and family, and INPUT hold exactly the pairs' DROP
   * rules among the rules that match these sets (a rule whose port or protocol was changed by
   * hand is altered; a repair deletes it and inserts the right one). `entries` is the sum of the
   * sets' "Number of entries".
   */
  check(): Promise<FirewallHealth> {
    return this.#lock.run(async () => {
      const [sets, in4, in6] = await Promise.all([
        runToolOk(this.name, "check", this.#ipset, ["list", "-t"]),
        this.#input("check", 4),
        this.#input("check", 6),
      ]);
      const headers = parseSetHeaders(sets.stdout);
      const problems: string[] = [];
      let entries = 0;
      const groups = new Set<string>();
      for (const pair of this.#pairs.values()) {
        for (const f of [4, 6] as const) {
          const name = pair.set[f];
          const h = headers.get(name);
          const type = f === 4 ? "hash:ip" : "hash:net";
          const family = f === 4 ? "inet" : "inet6";
          if (h === undefined) problems.push(`set ${name} is missing`);
          else if (h.type !== type || h.family !== family) {
            problems.push(`set ${name} is ${h.type} ${h.family}, expected ${type} ${family}`);
          } else {
            entries += h.entries;
            if (h.entries > 0) groups.add(`${f} ${pair.scope?.id ?? ""}`);
          }
        }
      }
      for (const [f, lines] of [[4, in4], [6, in6]] as const) {
        const { missing, extra } = this.#compare(f, lines);
        for (const m of missing) problems.push(`INPUT of ${this.#ipt[f]} lacks \`${m.slice(9)}\``);
        if (extra.size > 0) {
          const first = [...extra.values()][0]!;
          problems.push(`INPUT of ${this.#ipt[f]} has ${extra.size} altered rule(s): \`${first}\``);
        }
      }
      return { ok: problems.length === 0, problem: problems.join("; "), entries, groups };
    });
  }

  #targets(op: string, entries: readonly BanEntry[]): [Target, BanEntry][] {
    return entries.map((e) => [entryTarget(this.name, op, e), e]);
  }

  #member(t: Target): string {
    return t.family === 4 || t.prefix === 128 ? t.key.slice(0, t.key.lastIndexOf("/")) : t.key;
  }

  /** The set an entry goes to; undefined when its scope is not installed. */
  #setOf(t: Target, e: BanEntry): string | undefined {
    return this.#pairs.get(e.scope?.id ?? "")?.set[t.family];
  }

  /** Adds every entry in one `ipset restore` run (a new scope's sets and rules first). */
  ban(entries: readonly BanEntry[]): Promise<void> {
    return this.#lock.run(async () => {
      let fresh = false;
      for (const e of entries) if (e.scope !== undefined && this.#register(e.scope)) fresh = true;
      if (fresh) await this.#install("ban");
      const lines = this.#targets("ban", entries).map(([t, e]) => {
        const secs = e.timeoutMs === null
          ? 0
          : Math.min(IPSET_MAX_TIMEOUT_S, Math.max(1, Math.ceil(e.timeoutMs / 1000)));
        return `add ${this.#setOf(t, e)} ${this.#member(t)} timeout ${secs} comment "${
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
      const lines = this.#targets("unban", entries).flatMap(([t, e]) => {
        const set = this.#setOf(t, e);
        return set === undefined ? [] : [`del ${set} ${this.#member(t)}`];
      });
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
      for (const pair of this.#pairs.values()) {
        for (const f of [4, 6] as const) {
          out.push(...await this.#listSet(pair, f));
        }
      }
      return out;
    });
  }

  async #listSet(pair: SetPair, f: 4 | 6): Promise<BanEntry[]> {
    const out: BanEntry[] = [];
    const r = await runToolOk(this.name, "list", this.#ipset, ["save", pair.set[f]]);
    for (const line of r.stdout.split("\n")) {
      const m = /^add \S+ ([0-9a-fA-F:.]+)(?:\/(\d+))? timeout (\d+)(?: comment "([^"]*)")?/
        .exec(line.trim());
      if (!m) continue;
      const secs = Number(m[3]);
      out.push({
        ip: m[1]!,
        prefix: m[2] !== undefined ? Number(m[2]) : f === 4 ? 32 : 128,
        timeoutMs: secs === 0 ? null : secs * 1000,
        jail: m[4] ?? "",
        ...(pair.scope === null ? {} : { scope: pair.scope }),
      });
    }
    return out;
  }

  /**
   * Deletes the DROP rules of the scopes not in `scopes`, then destroys their sets (with their
   * entries).
   */
  retainScopes(scopes: readonly PortScope[]): Promise<void> {
    return this.#lock.run(async () => {
      const keep = new Set(scopes.map((s) => s.id));
      const gone = [...this.#pairs].filter(([id]) => id !== "" && !keep.has(id));
      for (const [id] of gone) this.#pairs.delete(id);
      await this.#remove(gone.map(([, pair]) => pair), "retain");
    });
  }

  /** Removes the DROP rules, then destroys the sets (clean stop; see docs/architecture.md). */
  close(): Promise<void> {
    return this.#lock.run(() => this.#remove([...this.#pairs.values()], "close"));
  }

  /** Deletes the pairs' DROP rules, then destroys their sets. */
  async #remove(pairs: readonly SetPair[], op: string): Promise<void> {
    for (const pair of pairs) {
      for (const f of [4, 6] as const) {
        for (const match of this.#matches(pair, f)) {
          for (let i = 0; i < 16; i++) {
            const r = await runTool(this.name, op, this.#ipt[f], ["-w", "-D", ...match]);
            if (r.code !== 0) break;
          }
        }
      }
    }
    for (const pair of pairs) {
      for (const f of [4, 6] as const) {
        const r = await runTool(this.name, op, this.#ipset, ["destroy", pair.set[f]]);
        if (r.code !== 0 && !/does not exist/i.test(r.stderr)) {
          throw new FirewallError(
            this.name,
            op,
            `expected to destroy set ${pair.set[f]}: ${r.stderr.trim()}`,
          );
        }
      }
    }
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
