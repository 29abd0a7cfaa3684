/**
 * A fail2ban jail's `action` lines → fail2zig: the firewall banaction's `port`/`protocol` become
 * the jail's `port`/`protocol` (nothing for `type=allports` or an `-allports` action: the ban
 * drops all traffic); `sendmail-…` and `mail-…` become one `[actions.NAME]` of `type = "smtp"`;
 * another `action.d/NAME.conf` becomes `type = "exec"` when it can be carried over faithfully (only
 * `actionban`/`actionunban`, each one command with an absolute program and no shell syntax, its
 * tags `<ip>`, `<name>`, `<bantime>` whole words, other tags known values); else a
 * `not imported` note names the action and why.
 * @module
 */
import { MAX_PORT_ITEMS, parsePortItem, portItems } from "../config/mod.ts";
import { type IniTree, InterpolationError, readFiles } from "./_ini.ts";
import { parseFilterSpec } from "./_filters.ts";
import type { Note } from "./_settings.ts";
import type { FileReader } from "./fs.ts";

/** One `[actions.NAME]` to write. */
export interface ImportedAction {
  /** Its name (made unique by the caller's `define`). */
  readonly name: string;
  /** `key = value` lines of its table. */
  readonly lines: readonly string[];
}

/** What a jail's `action` becomes. */
export interface ActionImport {
  /** `port`/`protocol` pairs of the jail (none: all traffic). */
  readonly pairs: Array<[string, string]>;
  /** Actions the jail lists (defined through `define`). */
  readonly actions: string[];
  /** Remarks; `dropped` ones render as `# not imported: …`. */
  readonly notes: Note[];
}

/** fail2ban's firewall banactions (their ban is fail2zig's own firewall ban). */
const FIREWALL =
  /^(nftables|iptables|ip6tables|ipset|firewallcmd|ufw|shorewall|pf|bsd-ipfw|ipfw|npf|route|hostsdeny|apf|nftables-common|iptables-common)(-|$)/;
/** fail2ban's mail actions. */
const MAIL = /^(sendmail|mail)(-|$)/;
/** fail2ban run-time tags → fail2zig placeholders. */
const TAGS: Readonly<Record<string, string>> = {
  ip: "{ip}",
  name: "{jail}",
  bantime: "{duration_s}",
};
/** Characters a shell would interpret: a command holding one cannot run as an argv. */
const SHELL = /[|&;<>()$`\\"'*?[\]{}~#!\n]/;

/**
 * Translates the jail's `action` setting; `define(base, lines)` records an `[actions.NAME]` and
 * returns the name it got (equal tables share one).
 */
export async function translateActions(
  tree: IniTree,
  section: string,
  ctx: { root: string; reader: FileReader; define: (base: string, lines: string[]) => string },
): Promise<ActionImport> {
  const out: ActionImport = { pairs: [], actions: [], notes: [] };
  let text: string | undefined;
  try {
    text = tree.get(section, "action");
  } catch (e) {
    if (!(e instanceof InterpolationError)) throw e;
    out.notes.push({ level: "dropped", text: `action: ${e.message}` });
    return out;
  }
  let firewall = false;
  for (const line of splitActions(text ?? "")) {
    const spec = parseFilterSpec(line);
    if (spec === null) {
      out.notes.push({
        level: "dropped",
        text: `action ${JSON.stringify(line)}: not NAME[options]`,
      });
      continue;
    }
    const name = spec.name.toLowerCase();
    if (FIREWALL.test(name)) {
      if (firewall) {
        out.notes.push({
          level: "info",
          text: `action ${spec.name}: a second firewall action; fail2zig bans once`,
        });
        continue;
      }
      firewall = true;
      scope(spec.name, spec.options, out);
    } else if (MAIL.test(name)) mail(spec.name, spec.options, out, ctx.define);
    else await custom(spec.name, spec.options, out, ctx);
  }
  return out;
}

/** `action` holds one action per line (continuation lines of the INI value). */
function splitActions(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let depth = 0;
  for (const line of text.split("\n")) {
    cur = cur === "" ? line.trim() : `${cur} ${line.trim()}`;
    for (const ch of line) depth += ch === "[" ? 1 : ch === "]" ? -1 : 0;
    if (depth <= 0 && cur !== "") {
      out.push(cur);
      cur = "";
      depth = 0;
    }
  }
  if (cur !== "") out.push(cur);
  return out;
}

/** The firewall action's ports and protocol → the jail's `port` and `protocol`. */
function scope(name: string, opts: ReadonlyMap<string, string>, out: ActionImport): void {
  if (/-allports$/.test(name.toLowerCase()) || opts.get("type") === "allports") return;
  const protocol = (opts.get("protocol") ?? "tcp").toLowerCase();
  const portText = opts.get("port") ?? "";
  if (!["tcp", "udp", "all"].includes(protocol)) {
    out.notes.push({
      level: "warn",
      text: `protocol ${
        JSON.stringify(protocol)
      } of ${name}: fail2zig bans all traffic of the address instead`,
    });
    return;
  }
  const items: string[] = [];
  for (const raw of portText.split(/[,\s]+/).filter((p) => p !== "")) {
    const r = parsePortItem(/^\d+$/.test(raw) ? Number(raw) : raw);
    if (!r.ok) {
      out.notes.push({
        level: "warn",
        text: `port ${
          JSON.stringify(raw)
        } of ${name}: ${r.reason}; fail2zig bans all ports instead`,
      });
      return;
    }
    if (r.range === null) return; // every port
    items.push(/^\d+$/.test(raw) ? raw : JSON.stringify(raw));
  }
  if (items.length === 0) return;
  const ranges = portText.split(/[,\s]+/).filter((p) => p !== "").map((p) => {
    const r = parsePortItem(/^\d+$/.test(p) ? Number(p) : p);
    return r.ok && r.range !== null ? r.range : ([0, 0] as const);
  });
  if (portItems(ranges) > MAX_PORT_ITEMS) {
    out.notes.push({
      level: "warn",
      text:
        `${items.length} ports of ${name}: fail2zig takes at most ${MAX_PORT_ITEMS} (a range counts two); it bans all ports instead`,
    });
    return;
  }
  out.pairs.push(["port", `[${items.join(", ")}]`]);
  if (protocol !== "tcp") out.pairs.push(["protocol", JSON.stringify(protocol)]);
}

/** A `sendmail-…` or `mail-…` action → an smtp action to its `dest` from its `sender`. */
function mail(
  name: string,
  opts: ReadonlyMap<string, string>,
  out: ActionImport,
  define: (base: string, lines: string[]) => string,
): void {
  const dest = (opts.get("dest") ?? "root@localhost").split(/[,\s]+/).filter((d) => d !== "");
  let sender = opts.get("sender") ?? "fail2ban@localhost";
  if (sender.includes("<fq-hostname>")) {
    sender = sender.replace("<fq-hostname>", "localhost");
    out.notes.push({
      level: "warn",
      text:
        `${name}: sender's <fq-hostname> (filled in by fail2ban at run time) written as localhost; edit from`,
    });
  }
  const address = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}$/;
  const bad = [sender, ...dest].find((a) => !address.test(a));
  if (bad !== undefined) {
    out.notes.push({
      level: "dropped",
      text: `action ${name}: ${JSON.stringify(bad)} is not a plain mail address`,
    });
    return;
  }
  const extra = /whois|lines|matches|buffered|geoip/.exec(name.toLowerCase());
  if (extra !== null) {
    out.notes.push({
      level: "info",
      text:
        `${name}: fail2zig's mail says address, jail, duration and origin (no whois, log lines or batching)`,
    });
  }
  out.actions.push(define("mail", [
    'type = "smtp"',
    `from = ${JSON.stringify(sender)}`,
    `to = [${dest.map((d) => JSON.stringify(d)).join(", ")}]`,
  ]));
}

/** An `action.d/NAME.conf` action → an exec action, or why it cannot be one. */
async function custom(
  name: string,
  opts: ReadonlyMap<string, string>,
  out: ActionImport,
  ctx: { root: string; reader: FileReader; define: (base: string, lines: string[]) => string },
): Promise<void> {
  const drop = (why: string) =>
    out.notes.push({ level: "dropped", text: `action ${name} (action.d/${name}.conf): ${why}` });
  if (!/^[\w.-]+$/.test(name)) return void drop("not a file name");
  const tree = await readFiles([`${ctx.root}/action.d/${name}.conf`], ctx.reader);
  if (tree.files.length === 0) return void drop("file not found");
  const get = (key: string): string => {
    try {
      return (tree.get("Definition", key, opts) ?? "").trim();
    } catch (e) {
      if (e instanceof InterpolationError) throw new Error(`${key}: ${e.message}`);
      throw e;
    }
  };
  try {
    for (const key of ["actionstart", "actionstop", "actioncheck", "actionflush"]) {
      if (get(key) !== "") {
        return void drop(`${key} is not empty (fail2zig runs commands on ban and unban only)`);
      }
    }
    const ban = argv(get("actionban"), tree, opts);
    if (typeof ban === "string") return void drop(`actionban: ${ban}`);
    const unbanText = get("actionunban");
    const unban = unbanText === "" ? [] : argv(unbanText, tree, opts);
    if (typeof unban === "string") return void drop(`actionunban: ${unban}`);
    const list = (a: string[]) => `[${a.map((x) => JSON.stringify(x)).join(", ")}]`;
    out.actions.push(ctx.define(name, [
      'type = "exec"',
      ...(ban.length > 0 ? [`on_ban = ${list(ban)}`] : []),
      ...(unban.length > 0 ? [`on_unban = ${list(unban)}`] : []),
      `timeout = "${timeoutOf(tree, opts)}"`,
    ]));
  } catch (e) {
    drop(e instanceof Error ? e.message : String(e));
  }
}

function timeoutOf(tree: IniTree, opts: ReadonlyMap<string, string>): string {
  const t = Number(opts.get("timeout") ?? tree.get("Init", "timeout") ?? 60);
  return `${Number.isInteger(t) && t >= 1 && t <= 600 ? t : 60}s`;
}

/** One command → its argv with placeholders, or why it is not one plain command. */
function argv(text: string, tree: IniTree, opts: ReadonlyMap<string, string>): string[] | string {
  if (text === "") return [];
  if (text.includes("\n")) return "several commands";
  const words = text.split(/\s+/).filter((w) => w !== "");
  const out: string[] = [];
  for (const w of words) {
    const tag = /^<([\w-]+)>$/.exec(w)?.[1];
    if (tag !== undefined && Object.hasOwn(TAGS, tag)) {
      out.push(TAGS[tag]!);
      continue;
    }
    if (SHELL.test(w.replace(/<[\w-]+>/g, ""))) {
      return `needs a shell (fail2zig runs an argv, no shell): ${w}`;
    }
    // Static tags ([Init] values or the action's options) are filled in as fail2ban does.
    const filled = w.replace(/<([\w-]+)>/g, (m, t: string) => {
      if (Object.hasOwn(TAGS, t)) {
        throw new Error(
          `${m} inside ${JSON.stringify(w)}: fail2zig substitutes whole arguments only`,
        );
      }
      const v = opts.get(t.toLowerCase()) ?? initValue(tree, t);
      if (v === undefined) throw new Error(`tag ${m} has no fail2zig equivalent`);
      return v;
    });
    if (filled.includes("{") || SHELL.test(filled)) {
      return `needs a shell (fail2zig runs an argv, no shell): ${w}`;
    }
    out.push(filled);
  }
  if (!out[0]!.startsWith("/")) return `program ${JSON.stringify(out[0])} is not an absolute path`;
  return out;
}

function initValue(tree: IniTree, tag: string): string | undefined {
  try {
    return tree.get("Init", tag)?.trim();
  } catch {
    return undefined;
  }
}
