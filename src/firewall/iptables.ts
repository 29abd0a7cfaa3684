/**
 * The iptables backend: `iptables` / `ip6tables` (on Debian these are iptables-nft) with one chain
 * per family, jumped to first from INPUT:
 *
 * ```
 * -A INPUT -j fail2zig
 * -A fail2zig -s 203.0.113.5/32 -m comment --comment fail2zig:sshd:1764082800000 -j DROP
 * ```
 *
 * A ban of a jail with `port`/`protocol` is one rule per protocol, limited to the ports, with the
 * scope id at the end of the comment (how `list()` reads the scope back):
 *
 * ```
 * -A fail2zig -s 203.0.113.5/32 -p tcp -m multiport --dports 22,2222 -m comment --comment fail2zig:sshd:1764082800000:tcp.22_2222 -j DROP
 * ```
 *
 * iptables has no timeouts, so the expiry time (ms since the epoch, or `permanent`) and the jail
 * live in the rule comment: `list()` reads them back after a restart, and a timer in the backend
 * removes each rule when it expires (`list()` never reports an expired rule, even before the
 * timer ran). Each call reads the chains with `iptables -S` and writes every change of a family
 * in one `iptables-restore --noflush` transaction (so a repair after a flush is a handful of tool
 * runs, not one per rule); still a fallback, not a fast path.
 * @module
 */
import type { BanEntry, FirewallBackend, FirewallHealth } from "./backend.ts";
import { entryTarget, safeComment, type Target } from "./_addr.ts";
import { restoreFilter, runTool, runToolOk } from "./_command.ts";
import { Mutex } from "./_mutex.ts";
import { type PortScope, scopeFromId } from "../config/mod.ts";

/** Options of `IptablesBackend`. */
export interface IptablesOptions {
  /**
   * Path of the `iptables` program; its `-restore` beside it (`/usr/sbin/iptables-restore`)
   * applies the changes. @default "/usr/sbin/iptables"
   */
  iptables?: string;
  /** Path of the `ip6tables` program, likewise. @default "/usr/sbin/ip6tables" */
  ip6tables?: string;
  /** Chain name (≤ 28 characters). @default "fail2zig" */
  chain?: string;
  /** Clock, ms since the epoch. @default Date.now */
  now?: () => number;
}

const COMMENT_PREFIX = "fail2zig";
const PERMANENT = "permanent";
/** Longest single wait of the expiry timer (setTimeout's limit is 2^31-1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Rule {
  readonly family: 4 | 6;
  readonly source: string;
  readonly prefix: number;
  readonly jail: string;
  /** ms since the epoch; null = permanent. */
  readonly expiresAt: number | null;
  /** The ban's scope (from the comment); null: all traffic. */
  readonly scope: PortScope | null;
  /** The rule's arguments after `-A CHAIN`, as `iptables -S` prints them. */
  readonly spec: string[];
}

/** Bans as DROP rules in a dedicated chain of iptables and ip6tables. */
export class IptablesBackend implements FirewallBackend {
  readonly name: string = "iptables";
  #bin: Record<4 | 6, string>;
  #chain: string;
  #now: () => number;
  #lock = new Mutex();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #open = false;

  /** A backend driving the programs of `options`; nothing runs before `init()`. */
  constructor(options: IptablesOptions = {}) {
    this.#bin = {
      4: options.iptables ?? "/usr/sbin/iptables",
      6: options.ip6tables ?? "/usr/sbin/ip6tables",
    };
    this.#chain = options.chain ?? "fail2zig";
    this.#now = options.now ?? Date.now;
  }

  #run(op: string, family: 4 | 6, args: string[]) {
    return runTool(this.name, op, this.#bin[family], ["-w", ...args]);
  }

  #runOk(op: string, family: 4 | 6, args: string[]) {
    return runToolOk(this.name, op, this.#bin[family], ["-w", ...args]);
  }

  /** `iptables -S` lines of family `f`: the whole filter table, or `chain` only. */
  async #lines(op: string, f: 4 | 6, chain?: string): Promise<string[]> {
    const r = await this.#runOk(op, f, chain === undefined ? ["-S"] : ["-S", chain]);
    return r.stdout.split("\n").map((l) => l.trim());
  }

  /** Applies each family's commands in one `iptables-restore` transaction per family. */
  async #apply(op: string, commands: Record<4 | 6, string[]>): Promise<void> {
    await Promise.all(
      ([4, 6] as const).map((f) => restoreFilter(this.name, op, this.#bin[f], commands[f])),
    );
  }

  /**
   * Creates the chains and the INPUT jumps that are missing; existing chains keep their ban rules
   * (crash recovery) and lose the expired ones and the rules `check()` calls altered (the guard's
   * repair then re-adds those bans). One `iptables -S` and at most one `iptables-restore` per
   * family.
   */
  init(): Promise<void> {
    return this.#lock.run(async () => {
      const now = this.#now();
      const live = await Promise.all(([4, 6] as const).map(async (f) => {
        const lines = await this.#lines("init", f);
        const commands: string[] = [];
        if (!lines.includes(`-N ${this.#chain}`)) commands.push(`-N ${this.#chain}`);
        if (!lines.includes(`-A INPUT -j ${this.#chain}`)) {
          commands.push(`-I INPUT 1 -j ${this.#chain}`);
        }
        const { rules, altered } = this.#read(f, lines);
        // Altered rules by number, last first (their text may not survive a round trip).
        for (const n of altered.map((a) => a.n).reverse()) commands.push(`-D ${this.#chain} ${n}`);
        const expired = rules.filter((r) => r.expiresAt !== null && r.expiresAt <= now);
        commands.push(...expired.map((r) => this.#line("-D", r.spec)));
        await restoreFilter(this.name, "init", this.#bin[f], commands);
        return rules.filter((r) => !expired.includes(r));
      }));
      this.#open = true;
      this.#schedule(live.flat());
    });
  }

  /**
   * One `iptables -S` run per family (the whole filter table, both run together): the chain must
   * exist, INPUT must jump to it, and every rule in it must be one this backend writes, whole: a
   * ban rule whose source, protocol, ports or target differ from what its comment says (a port
   * changed by hand), a rule without such a comment, or a scope missing one of its protocols'
   * rules is altered. `entries` counts the unexpired ban rules of both chains.
   */
  check(): Promise<FirewallHealth> {
    return this.#lock.run(async () => {
      const now = this.#now();
      const problems: string[] = [];
      let entries = 0;
      const groups = new Set<string>();
      const tables = await Promise.all(([4, 6] as const).map((f) => this.#lines("check", f)));
      for (const f of [4, 6] as const) {
        const lines = tables[f === 4 ? 0 : 1]!;
        if (!lines.includes(`-N ${this.#chain}`)) {
          problems.push(`chain ${this.#chain} of ${this.#bin[f]} is missing`);
        } else if (!lines.includes(`-A INPUT -j ${this.#chain}`)) {
          problems.push(`INPUT of ${this.#bin[f]} does not jump to ${this.#chain}`);
        }
        const { rules, altered } = this.#read(f, lines);
        if (altered.length > 0) {
          problems.push(
            `${altered.length} rule(s) of ${this.#chain} in ${this.#bin[f]} altered: ${
              altered[0]!.line
            }`,
          );
        }
        // A scope with tcp and udp is two rules of one ban: count bans, and miss no protocol.
        const bans = new Map<
          string,
          { rules: number; want: number; live: boolean; scope: string }
        >();
        for (const r of rules) {
          const k = `${scopeId(r)} ${r.source}/${r.prefix}`;
          const b = bans.get(k) ??
            { rules: 0, want: r.scope?.protocols.length ?? 1, live: false, scope: scopeId(r) };
          b.rules++;
          b.live ||= r.expiresAt === null || r.expiresAt > now;
          bans.set(k, b);
        }
        for (const [k, b] of bans) {
          if (b.live) entries++, groups.add(`${f} ${b.scope}`);
          if (b.rules !== b.want) {
            problems.push(`ban ${k} has ${b.rules} rule(s) in ${this.#bin[f]}, expected ${b.want}`);
          }
        }
      }
      return { ok: problems.length === 0, problem: problems.join("; "), entries, groups };
    });
  }

  /**
   * The chain's rules in `iptables -S` lines: the ban rules as this backend writes them, and the
   * other lines of the chain (altered by hand or foreign) with their rule numbers.
   */
  #read(
    family: 4 | 6,
    lines: readonly string[],
  ): { rules: Rule[]; altered: { n: number; line: string }[] } {
    const rules: Rule[] = [];
    const altered: { n: number; line: string }[] = [];
    let n = 0;
    for (const line of lines) {
      const words = line.split(/\s+/);
      if (words[0] !== "-A" || words[1] !== this.#chain) continue;
      n++;
      const r = parseRule(family, this.#chain, line);
      if (r !== null && isCanonical(r)) rules.push(r);
      else altered.push({ n, line });
    }
    return { rules, altered };
  }

  /** A restore command on the chain: `-A CHAIN spec…` or `-D CHAIN spec…`. */
  #line(command: "-A" | "-D", spec: readonly string[]): string {
    return `${command} ${this.#chain} ${spec.join(" ")}`;
  }

  #comment(e: BanEntry): string {
    const exp = e.timeoutMs === null ? PERMANENT : String(Math.round(this.#now() + e.timeoutMs));
    const scope = e.scope === undefined ? "" : `:${e.scope.id}`;
    return `${COMMENT_PREFIX}:${safeComment(e.jail)}:${exp}${scope}`;
  }

  #targets(op: string, entries: readonly BanEntry[]): [Target, BanEntry][] {
    return entries.map((e) => [entryTarget(this.name, op, e), e]);
  }

  /**
   * Appends each entry's DROP rules, replacing the rules of the same block (address and scope); of
   * two entries for one block in a call the later wins, as a later call would. One
   * `iptables-restore` per family.
   */
  ban(entries: readonly BanEntry[]): Promise<void> {
    return this.#lock.run(async () => {
      const want = new Map<string, [Target, BanEntry]>();
      for (const [t, e] of this.#targets("ban", entries)) {
        want.set(`${t.family} ${e.scope?.id ?? ""} ${t.key}`, [t, e]);
      }
      if (want.size === 0) return;
      const existing = await this.#rules("ban");
      const commands: Record<4 | 6, string[]> = { 4: [], 6: [] };
      const kept: Rule[] = [];
      for (const r of existing) {
        if (want.has(ruleKey(r))) commands[r.family].push(this.#line("-D", r.spec));
        else kept.push(r);
      }
      for (const [t, e] of want.values()) {
        for (const spec of ruleSpecs(t.key, e.scope ?? null, this.#comment(e))) {
          const line = this.#line("-A", spec);
          commands[t.family].push(line);
          kept.push(parseRule(t.family, this.#chain, line)!);
        }
      }
      await this.#apply("ban", commands);
      this.#schedule(kept);
    });
  }

  /** Deletes the rules of the entries (one `iptables-restore` per family); absent ones are ignored. */
  unban(entries: readonly BanEntry[]): Promise<void> {
    return this.#lock.run(async () => {
      const keys = new Set(
        this.#targets("unban", entries).map(([t, e]) =>
          `${t.family} ${e.scope?.id ?? ""} ${t.key}`
        ),
      );
      if (keys.size === 0) return;
      await this.#delete("unban", (await this.#rules("unban")).filter((r) => keys.has(ruleKey(r))));
    });
  }

  /** Deletes the ban rules of scopes not in `scopes` (iptables has no per-scope sets). */
  retainScopes(scopes: readonly PortScope[]): Promise<void> {
    return this.#lock.run(async () => {
      const keep = new Set(scopes.map((s) => s.id));
      const rules = await this.#rules("retain");
      await this.#delete("retain", rules.filter((r) => r.scope !== null && !keep.has(r.scope.id)));
    });
  }

  /** Deletes `rules` by their text, one `iptables-restore` per family. */
  #delete(op: string, rules: readonly Rule[]): Promise<void> {
    const commands: Record<4 | 6, string[]> = { 4: [], 6: [] };
    for (const r of rules) commands[r.family].push(this.#line("-D", r.spec));
    return this.#apply(op, commands);
  }

  /** Rules present and not expired, with remaining time from their comments. */
  list(): Promise<BanEntry[]> {
    return this.#lock.run(async () => {
      const now = this.#now();
      // A scope with tcp and udp is two rules of one ban.
      const seen = new Set<string>();
      const out: BanEntry[] = [];
      for (const r of await this.#rules("list")) {
        if (r.expiresAt !== null && r.expiresAt <= now) continue;
        const key = ruleKey(r);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({
          ip: r.source,
          prefix: r.prefix,
          timeoutMs: r.expiresAt === null ? null : r.expiresAt - now,
          jail: r.jail,
          ...(r.scope === null ? {} : { scope: r.scope }),
        });
      }
      return out;
    });
  }

  /** The ban rules of both chains (`iptables -S CHAIN` per family, run together). */
  async #rules(op: string): Promise<Rule[]> {
    const out: Rule[] = [];
    const chains = await Promise.all(([4, 6] as const).map((f) => this.#lines(op, f, this.#chain)));
    ([4, 6] as const).forEach((f, i) => {
      for (const line of chains[i]!) {
        const rule = parseRule(f, this.#chain, line);
        if (rule) out.push(rule);
      }
    });
    return out;
  }

  async #sweep(op: string): Promise<void> {
    const now = this.#now();
    const rules = await this.#rules(op);
    const live = (r: Rule) => r.expiresAt === null || r.expiresAt > now;
    await this.#delete(op, rules.filter((r) => !live(r)));
    this.#schedule(rules.filter(live));
  }

  #schedule(rules: Rule[]): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#open) return;
    let next = Infinity;
    for (const r of rules) if (r.expiresAt !== null && r.expiresAt < next) next = r.expiresAt;
    if (next === Infinity) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, next - this.#now()));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#lock.run(() => this.#sweep("expire")).catch(() => {
        // A failed sweep is retried at the next ban/list; list() already hides expired rules.
      });
    }, wait);
  }

  /** Removes the INPUT jumps and the chains (clean stop; see docs/architecture.md). */
  close(): Promise<void> {
    return this.#lock.run(async () => {
      this.#open = false;
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      for (const f of [4, 6] as const) {
        for (let i = 0; i < 16; i++) {
          const r = await this.#run("close", f, ["-D", "INPUT", "-j", this.#chain]);
          if (r.code !== 0) break;
        }
        const flush = await this.#run("close", f, ["-F", this.#chain]);
        if (flush.code !== 0) continue; // chain absent
        await this.#runOk("close", f, ["-X", this.#chain]);
      }
    });
  }
}

function scopeId(r: Rule): string {
  return r.scope?.id ?? "";
}

/** A ban's block: family, scope and source, as `ban()` and `unban()` key their entries. */
function ruleKey(r: Rule): string {
  return `${r.family} ${scopeId(r)} ${r.source}/${r.prefix}`;
}

/**
 * The arguments after `-A CHAIN` of a ban's rules, as `iptables -S` prints them back: one rule per
 * protocol of the scope (one for all traffic without a scope).
 */
function ruleSpecs(source: string, scope: PortScope | null, comment: string): string[][] {
  const tail = ["-m", "comment", "--comment", comment, "-j", "DROP"];
  if (scope === null) return [["-s", source, ...tail]];
  const ports = scope.ports.map(([a, b]) => a === b ? String(a) : `${a}:${b}`).join(",");
  return scope.protocols.map((p) => [
    "-s",
    source,
    "-p",
    p,
    ...(ports === "" ? [] : ["-m", "multiport", "--dports", ports]),
    ...tail,
  ]);
}

/** The rule is exactly one `ban()` writes for its source, scope and comment. */
function isCanonical(r: Rule): boolean {
  const comment = r.spec[r.spec.indexOf("--comment") + 1] ?? "";
  const words = r.spec.join(" ");
  return ruleSpecs(`${r.source}/${r.prefix}`, r.scope, comment).some((w) => w.join(" ") === words);
}

/** Parses one `iptables -S CHAIN` line written by this backend; null for anything else. */
function parseRule(family: 4 | 6, chain: string, line: string): Rule | null {
  const words = line.trim().split(/\s+/);
  if (words[0] !== "-A" || words[1] !== chain) return null;
  // iptables-nft quotes the comment; our comments hold no spaces or quotes, so unquote tokens.
  const spec = words.slice(2).map((w) => w.replace(/^"(.*)"$/, "$1"));
  const s = spec.indexOf("-s");
  const c = spec.indexOf("--comment");
  if (s === -1 || c === -1) return null;
  const src = spec[s + 1] ?? "";
  const comment = spec[c + 1] ?? "";
  const m = /^fail2zig:([A-Za-z0-9_.-]*):(permanent|\d+)(?::([a-z_]+\.[0-9a-z_-]+))?$/.exec(
    comment,
  );
  const slash = src.lastIndexOf("/");
  if (!m || slash === -1) return null;
  const scope = m[3] === undefined ? null : scopeFromId(m[3]);
  if (m[3] !== undefined && scope === null) return null;
  return {
    family,
    source: src.slice(0, slash),
    prefix: Number(src.slice(slash + 1)),
    jail: m[1]!,
    expiresAt: m[2] === PERMANENT ? null : Number(m[2]),
    scope,
    spec,
  };
}
