/**
 * fail2ban's active bans → fail2zig state records (`import-fail2ban --bans`).
 *
 * fail2ban keeps one row per (address, jail) in the `bips` table of its sqlite database
 * (`ip, jail, timeofban, bantime, bancount, data`; times in seconds, `bantime` -1 for a permanent
 * ban). A row is active when `bantime <= -1` or `timeofban + bantime` is later than now, the
 * test fail2ban's own `getCurrentBans` makes on restart. Each active row becomes a `StateBan` of
 * the fail2zig jail with the same name, or with the name `import-fail2ban` gave the jail when it
 * renamed it (`jailNameFor`). Rows of a jail with no enabled counterpart in the fail2zig config
 * are left out and counted (the daemon skips bans of unknown jails at restore anyway, and such a
 * ban would have no jail to expire, renew or lift it under). `data` (matches, failures) is not
 * carried: fail2zig's state holds no match texts.
 * @module
 */

import type { StateBan } from "../state/mod.ts";
import { isNeverBannable, networkOf, parseIp } from "../net/mod.ts";
import { jailNameFor } from "./import.ts";

/** fail2ban's default database. */
export const DEFAULT_FAIL2BAN_DB = "/var/lib/fail2ban/fail2ban.sqlite3";

/** One row of fail2ban's `bips` table. */
export interface Fail2banBanRow {
  /** The banned address, as fail2ban stored it. */
  readonly ip: string;
  /** The fail2ban jail that banned it. */
  readonly jail: string;
  /** Seconds since the epoch. */
  readonly timeofban: number;
  /** Seconds; ≤ -1 for a permanent ban. */
  readonly bantime: number;
  /** How many times fail2ban banned the address. */
  readonly bancount: number;
}

/** A fail2zig jail a ban may go to. */
export interface TargetJail {
  /** The jail's name. */
  readonly name: string;
  /** The jail's `ipv6_prefix`: IPv6 bans are keyed by that network, as the tracker keys them. */
  readonly ipv6Prefix: number;
}

/** What `convertBans` made of the rows. */
export interface ConvertedBans {
  /** The bans that still run, as state records for the fail2zig jails. */
  readonly bans: StateBan[];
  /** Rows whose ban had already ended. */
  readonly expired: number;
  /** Active rows left out, by reason (`no fail2zig jail "x"`, `invalid address`, …), counted. */
  readonly leftOut: ReadonlyMap<string, number>;
}

/** Maps fail2ban jail names to fail2zig jails: the same name, else the importer's renamed one. */
export function targetFor(
  jail: string,
  jails: ReadonlyMap<string, TargetJail>,
): TargetJail | undefined {
  return jails.get(jail) ?? jails.get(jailNameFor(jail));
}

/** Converts `bips` rows into state bans (see the module doc); `nowMs` decides what is active. */
export function convertBans(
  rows: Iterable<Fail2banBanRow>,
  jails: ReadonlyMap<string, TargetJail>,
  nowMs: number,
): ConvertedBans {
  const byKey = new Map<string, StateBan>();
  const leftOut = new Map<string, number>();
  const count = (reason: string) => leftOut.set(reason, (leftOut.get(reason) ?? 0) + 1);
  let expired = 0;
  for (const row of rows) {
    const permanent = row.bantime <= -1;
    const bannedAt = row.timeofban * 1000;
    const expiresAt = permanent ? null : (row.timeofban + row.bantime) * 1000;
    if (!Number.isFinite(bannedAt) || (expiresAt !== null && !Number.isFinite(expiresAt))) {
      count("invalid time");
      continue;
    }
    if (expiresAt !== null && expiresAt <= nowMs) {
      expired++;
      continue;
    }
    const target = targetFor(row.jail, jails);
    if (target === undefined) {
      count(`no enabled fail2zig jail for fail2ban jail ${JSON.stringify(row.jail)}`);
      continue;
    }
    const ip = parseIp(String(row.ip).trim());
    if (ip === null || isNeverBannable(ip)) {
      count("not a bannable address");
      continue;
    }
    const prefix = ip.family === 4 ? 32 : target.ipv6Prefix;
    const ban: StateBan = {
      jail: target.name,
      ip: networkOf(ip, prefix),
      prefix,
      bannedAt,
      expiresAt,
      banCount: Math.max(1, Math.trunc(Number(row.bancount) || 1)),
    };
    // Two fail2ban jails renamed to one, or two addresses of one IPv6 network: the longer ban.
    keepLonger(byKey, ban);
  }
  return { bans: [...byKey.values()], expired, leftOut };
}

/**
 * Adds `ban` to `bans` (keyed by jail and address/prefix) unless a ban there lasts as long or
 * longer; `mergeBans` and `convertBans` share it.
 */
function keepLonger(bans: Map<string, StateBan>, ban: StateBan): void {
  const key = `${ban.jail} ${ban.ip}/${ban.prefix}`;
  const had = bans.get(key);
  const longer = had === undefined ||
    (had.expiresAt !== null && (ban.expiresAt === null || ban.expiresAt > had.expiresAt));
  if (longer) bans.set(key, ban);
}

/** The bans of a state file already there with the imported ones: the longer of two wins. */
export function mergeBans(
  existing: Iterable<StateBan>,
  imported: Iterable<StateBan>,
): StateBan[] {
  const bans = new Map<string, StateBan>();
  for (const b of existing) keepLonger(bans, b);
  for (const b of imported) keepLonger(bans, b);
  return [...bans.values()];
}

/**
 * Reads every row of the `bips` table with Deno's built-in `node:sqlite`, opened read-only (read
 * permission only). Loaded on demand: importing a `node:` module starts Deno's Node layer.
 * @throws Error naming the file when it is not a fail2ban database (no `bips` table)
 */
export async function readFail2banBans(path: string): Promise<Fail2banBanRow[]> {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const table = db.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'bips'",
    )
      .get();
    if (table === undefined) {
      throw new Error(
        `${path}: expected a fail2ban database with a bips table (fail2ban 0.11 or later)`,
      );
    }
    const rows = db.prepare("SELECT ip, jail, timeofban, bantime, bancount FROM bips").all();
    return rows.map((r) => ({
      ip: String(r["ip"]),
      jail: String(r["jail"]),
      timeofban: Number(r["timeofban"]),
      bantime: Number(r["bantime"]),
      bancount: Number(r["bancount"]),
    }));
  } finally {
    db.close();
  }
}
