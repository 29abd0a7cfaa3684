/**
 * fail2ban's server settings (`fail2ban.conf`, `fail2ban.d/`, `fail2ban.local`: `[Definition]`
 * over `[DEFAULT]`) and the jails' default `banaction` → fail2zig's `[global]`.
 *
 * - `loglevel` → `log_level`: CRITICAL and ERROR → `error`, WARNING and NOTICE → `warn`, INFO →
 *   `info`, DEBUG, TRACEDEBUG and HEAVYDEBUG → `debug`; a number by Python's logging levels.
 * - `banaction` (jail.conf's `[DEFAULT]`) → `firewall`: `nftables*` → `nftables`,
 *   `iptables-ipset*` → `ipset`. Debian's stock `iptables-multiport` is left to `auto` (nftables
 *   first; on Debian 12 iptables is iptables-nft, the same kernel tables), with a note saying how
 *   to keep iptables; any other banaction (firewalld, ufw, …) has no fail2zig backend: a warning.
 * - `logtarget`, `socket` and `dbfile`/`dbpurgeage` have fail2zig counterparts that are not the
 *   same thing (the journal or stderr; `socket_path`; `state_file`, `audit_log` and
 *   `import-fail2ban --bans`): a note each, nothing written.
 * @module
 */

import { DEFAULT_SECTION, type IniTree, tryGet } from "./_ini.ts";
import type { Note } from "./_settings.ts";

/** fail2ban's level names → fail2zig's `log_level`. */
const LEVELS: Record<string, string> = {
  CRITICAL: "error",
  FATAL: "error",
  ERROR: "error",
  WARNING: "warn",
  WARN: "warn",
  NOTICE: "warn",
  INFO: "info",
  DEBUG: "debug",
  TRACEDEBUG: "debug",
  HEAVYDEBUG: "debug",
};

/** `[global]` as TOML pairs and the notes that explain them. */
export interface GlobalSettings {
  readonly pairs: Array<[string, string]>;
  readonly notes: Note[];
}

/** `log_level` for a fail2ban `loglevel` (a name or a Python logging number), or null. */
export function logLevelFor(value: string): string | null {
  const v = value.trim().toUpperCase();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    return n >= 40 ? "error" : n >= 25 ? "warn" : n >= 20 ? "info" : "debug";
  }
  return LEVELS[v] ?? null;
}

/** `firewall` for a fail2ban banaction (its action name, options dropped), or null for `auto`. */
export function firewallFor(banaction: string): string | null {
  const name = banaction.trim().replace(/\[.*$/s, "");
  if (/^nftables(?:-|$)/.test(name)) return "nftables";
  if (/^iptables-ipset(?:-|$)/.test(name)) return "ipset";
  return null;
}

function read(tree: IniTree, section: string, key: string, notes: Note[]): string | undefined {
  const r = tryGet(tree, section, key);
  if (r.error !== undefined) notes.push({ level: "warn", text: `${key}: ${r.error}` });
  return r.value;
}

/** Translates `server` (the fail2ban.* tree) and the default banaction of `jails`. */
export function translateGlobal(server: IniTree, jails: IniTree): GlobalSettings {
  const pairs: Array<[string, string]> = [];
  const notes: Note[] = [];
  const level = read(server, "Definition", "loglevel", notes);
  if (level !== undefined && level !== "") {
    const mapped = logLevelFor(level);
    if (mapped === null) {
      notes.push({
        level: "warn",
        text: `loglevel = ${level}: not a fail2ban level; left at info`,
      });
    } else {
      pairs.push(["log_level", `"${mapped}"`]);
      if (mapped === "debug") {
        notes.push({
          level: "info",
          text: `loglevel = ${level}: log_level = "debug" logs the lines' content (user names, ` +
            `requests); "info" redacts it`,
        });
      } else if (mapped !== level.toLowerCase()) {
        notes.push({ level: "info", text: `loglevel = ${level} → log_level = "${mapped}"` });
      }
    }
  }
  const banaction = read(jails, DEFAULT_SECTION, "banaction", notes);
  if (banaction !== undefined && banaction !== "") {
    const firewall = firewallFor(banaction);
    if (firewall !== null) pairs.push(["firewall", `"${firewall}"`]);
    else if (/^iptables(?:-|$)/.test(banaction)) {
      notes.push({
        level: "info",
        text: `banaction = ${banaction}: firewall = "auto" bans through nftables where it is ` +
          `present (Debian 12's iptables is iptables-nft); set firewall = "iptables" to keep ` +
          `iptables rules`,
      });
    } else {
      notes.push({
        level: "warn",
        text: `banaction = ${banaction} has no fail2zig backend: firewall = "auto" bans in ` +
          `fail2zig's own nftables table (or iptables, or ipset)`,
      });
    }
  }
  const set = (key: string) => {
    const v = read(server, "Definition", key, notes);
    return v === undefined || v === "" ? null : v;
  };
  const target = set("logtarget");
  if (target !== null) {
    notes.push({
      level: "info",
      text: `logtarget = ${target}: fail2zig logs to the journal under systemd, else to stderr`,
    });
  }
  const socket = set("socket");
  if (socket !== null) {
    notes.push({
      level: "info",
      text: `socket = ${socket}: fail2zig's control socket is socket_path (default ` +
        `/run/fail2zig/fail2zig.sock); fail2zig client also takes fail2ban-client's set/get forms`,
    });
  }
  const db = set("dbfile");
  if (db !== null && db.toLowerCase() !== ":memory:" && db.toLowerCase() !== "none") {
    notes.push({
      level: "info",
      text: `dbfile = ${db}: carry its active bans with import-fail2ban --bans (fail2ban ` +
        `stopped); fail2zig keeps bans in state_file and their history in audit_log`,
    });
  }
  return { pairs, notes };
}
