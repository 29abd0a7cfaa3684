/**
 * Ban settings of one fail2ban section (jail or `[DEFAULT]`) → fail2zig keys as TOML text:
 * `bantime`, `findtime`, `maxretry`, `ignoreip`, `bantime.*` → `bantime_increment`. Each logical
 * setting is translated on its own so that a jail can emit only what differs from `[defaults]`.
 * @module
 */

import { formatDuration } from "../config/mod.ts";
import { canonicalIp, networkOf, parseCidr, parseIp } from "../net/mod.ts";
import { type IniTree, tryGet } from "./_ini.ts";
import { parseFail2banTime } from "./_time.ts";

/** fail2zig's limits that an imported value is clamped to (see docs/interfaces.md). */
export const LIMITS = {
  minSeconds: 1,
  maxSeconds: 520 * 7 * 86_400,
  maxFindtimeSeconds: 7 * 86_400,
  maxretry: [1, 1000],
  factor: 1000,
  ignoreip: 4096,
} as const;

/**
 * A remark about a translation: `warn` is also printed on stderr, `info` only commented,
 * `dropped` (something left out) printed and commented as `not imported: …`.
 */
export interface Note {
  readonly level: "warn" | "info" | "dropped";
  readonly text: string;
}

/** One translated setting: TOML `key = value` pairs (none when nothing is emitted) and notes. */
export interface Setting {
  readonly pairs: ReadonlyArray<readonly [key: string, value: string]>;
  readonly notes: readonly Note[];
}

/** Logical settings, in output order. Keys under `bantime_increment.` go into that table. */
export const SETTING_NAMES = [
  "bantime",
  "findtime",
  "maxretry",
  "ignoreip",
  "increment.enabled",
  "increment.formula",
  "increment.max",
  "increment.jitter",
  "increment.overall",
] as const;
/** One of `SETTING_NAMES`. */
export type SettingName = (typeof SETTING_NAMES)[number];

/** fail2ban's two documented `bantime.formula` shapes (white space ignored). */
const FORMULA_SHIFT = "ban.Time*(1<<(ban.Countifban.Count<20else20))*banFactor";
const FORMULA_EXP = "ban.Time*math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)";

/** Translates every ban setting of `section` (its own keys, falling back to `[DEFAULT]`). */
export function translateSettings(tree: IniTree, section: string): Map<SettingName, Setting> {
  const out = new Map<SettingName, Setting>();
  const read = (key: string): { value?: string; notes: Note[] } => {
    const r = tryGet(tree, section, key);
    return r.error === undefined
      ? { ...(r.value === undefined ? {} : { value: r.value }), notes: [] }
      : { notes: [{ level: "warn", text: `${key} not imported: ${r.error}` }] };
  };
  const put = (name: SettingName, pairs: Setting["pairs"], notes: Note[]) =>
    out.set(name, { pairs, notes });

  // bantime: a negative time is permanent to fail2ban.
  {
    const r = read("bantime");
    if (r.value !== undefined) {
      const t = timeSetting("bantime", r.value, { permanent: true });
      put("bantime", t.value === undefined ? [] : [["bantime", t.value]], [...r.notes, ...t.notes]);
    } else put("bantime", [], r.notes);
  }
  {
    const r = read("findtime");
    if (r.value !== undefined) {
      const t = timeSetting("findtime", r.value, { max: LIMITS.maxFindtimeSeconds });
      put("findtime", t.value === undefined ? [] : [["findtime", t.value]], [
        ...r.notes,
        ...t.notes,
      ]);
    } else put("findtime", [], r.notes);
  }
  {
    const r = read("maxretry");
    const notes = [...r.notes];
    const pairs: Array<[string, string]> = [];
    if (r.value !== undefined) {
      if (!/^[+-]?\d+$/.test(r.value)) {
        notes.push({
          level: "warn",
          text: `maxretry not imported: expected an integer, found ${JSON.stringify(r.value)}`,
        });
      } else {
        const [lo, hi] = LIMITS.maxretry;
        const n = Number(r.value);
        const v = Math.min(hi, Math.max(lo, n));
        if (v !== n) {
          notes.push({ level: "warn", text: `maxretry ${n} is outside ${lo}..${hi}; set to ${v}` });
        }
        pairs.push(["maxretry", String(v)]);
      }
    }
    put("maxretry", pairs, notes);
  }
  {
    const r = read("ignoreip");
    if (r.value !== undefined) {
      const t = translateIgnoreip(r.value);
      put("ignoreip", [["ignoreip", `[${t.cidrs.map((c) => JSON.stringify(c)).join(", ")}]`]], [
        ...r.notes,
        ...t.notes,
      ]);
    } else put("ignoreip", [], r.notes);
  }
  // bantime.increment and friends.
  {
    const r = read("bantime.increment");
    const notes = [...r.notes];
    const pairs: Array<[string, string]> = [];
    if (r.value !== undefined) {
      const b = parseBool(r.value);
      if (b === undefined) notes.push(badBool("bantime.increment", r.value));
      else pairs.push(["enabled", String(b)]);
    }
    put("increment.enabled", pairs, notes);
  }
  {
    const formula = read("bantime.formula");
    const factor = read("bantime.factor");
    const multipliers = read("bantime.multipliers");
    const t = translateFormula({
      formula: formula.value,
      factor: factor.value,
      multipliers: multipliers.value,
    });
    put("increment.formula", t.pairs, [
      ...formula.notes,
      ...factor.notes,
      ...multipliers.notes,
      ...t.notes,
    ]);
  }
  for (
    const [name, key, out_] of [["increment.max", "bantime.maxtime", "max"], [
      "increment.jitter",
      "bantime.rndtime",
      "jitter",
    ]] as const
  ) {
    const r = read(key);
    if (r.value !== undefined) {
      const t = timeSetting(key, r.value, { zero: name === "increment.jitter" });
      put(name, t.value === undefined ? [] : [[out_, t.value]], [...r.notes, ...t.notes]);
    } else put(name, [], r.notes);
  }
  {
    const r = read("bantime.overalljails");
    const notes = [...r.notes];
    const pairs: Array<[string, string]> = [];
    if (r.value !== undefined) {
      const b = parseBool(r.value);
      if (b === undefined) notes.push(badBool("bantime.overalljails", r.value));
      else pairs.push(["overall", String(b)]);
    }
    put("increment.overall", pairs, notes);
  }
  return out;
}

/** A fail2ban time as a fail2zig duration string, clamped to fail2zig's range with a note. */
function timeSetting(
  key: string,
  text: string,
  opts: { permanent?: boolean; max?: number; zero?: boolean },
): { value?: string; notes: Note[] } {
  const t = parseFail2banTime(text);
  if (!t.ok) return { notes: [{ level: "warn", text: `${key} not imported: ${t.reason}` }] };
  if (t.seconds < 0) {
    if (opts.permanent) return { value: '"permanent"', notes: [] };
    return {
      notes: [{ level: "warn", text: `${key} not imported: negative (${text}) has no meaning` }],
    };
  }
  const notes: Note[] = [];
  let s = Math.round(t.seconds);
  if (s !== t.seconds) {
    notes.push({
      level: "info",
      text: `${key} ${text} rounded to ${s} s (fail2zig counts whole seconds)`,
    });
  }
  const min = opts.zero ? 0 : LIMITS.minSeconds;
  const max = opts.max ?? LIMITS.maxSeconds;
  if (s < min || s > max) {
    const clamped = Math.min(max, Math.max(min, s));
    notes.push({
      level: "warn",
      text: `${key} ${text} is outside fail2zig's range ${formatDuration(min * 1000)}..${
        formatDuration(max * 1000)
      }; set to ${formatDuration(clamped * 1000)}`,
    });
    s = clamped;
  }
  return { value: JSON.stringify(formatDuration(s * 1000)), notes };
}

/**
 * fail2ban's `bantime.formula`/`bantime.factor`/`bantime.multipliers` → fail2zig's
 * `formula`/`factor`. fail2ban applies the formula only to repeated bans (n ≥ 1 previous bans),
 * as fail2zig does, so: the default shift formula `ban.Time·2^n·banFactor` is fail2zig's
 * `exponential` with factor 2 (exact when banFactor is 1); the documented `math.exp` formula
 * `ban.Time·e^(n·banFactor)` is `exponential` with factor e^banFactor. Other formulas and
 * multiplier lists have no equivalent and are left out with a warning.
 */
export function translateFormula(
  input: {
    formula?: string | undefined;
    factor?: string | undefined;
    multipliers?: string | undefined;
  },
): Setting {
  const notes: Note[] = [];
  if (
    input.formula === undefined && input.factor === undefined && input.multipliers === undefined
  ) {
    return { pairs: [], notes };
  }
  if (input.multipliers !== undefined && input.multipliers.trim() !== "") {
    notes.push({
      level: "warn",
      text:
        `bantime.multipliers (${input.multipliers.trim()}) not imported: fail2zig has only the linear and exponential formulas; using exponential, factor 2`,
    });
    return { pairs: [["formula", '"exponential"'], ["factor", "2"]], notes };
  }
  let banFactor = 1;
  if (input.factor !== undefined) {
    const f = Number(input.factor.trim());
    if (!/^\s*\d+(\.\d+)?\s*$/.test(input.factor) || !(f > 0)) {
      notes.push({
        level: "warn",
        text: `bantime.factor not imported: expected a positive number, found ${
          JSON.stringify(input.factor)
        }`,
      });
    } else banFactor = f;
  }
  const shape = (input.formula ?? FORMULA_SHIFT).replace(/\s+/g, "");
  if (shape === FORMULA_SHIFT) {
    if (banFactor !== 1) {
      notes.push({
        level: "warn",
        text:
          `bantime.factor ${banFactor} with fail2ban's default formula multiplies every repeated ban by ${banFactor}; fail2zig's exponential formula (bantime·2^n) has no such constant, so it is left out`,
      });
    }
    return { pairs: [["formula", '"exponential"'], ["factor", "2"]], notes };
  }
  if (shape === FORMULA_EXP) {
    const factor = Math.round(Math.exp(banFactor) * 10_000) / 10_000;
    if (!(factor <= LIMITS.factor)) {
      notes.push({
        level: "warn",
        text:
          `bantime.formula: e^${banFactor} exceeds fail2zig's largest factor ${LIMITS.factor}; using ${LIMITS.factor}`,
      });
      return { pairs: [["formula", '"exponential"'], ["factor", String(LIMITS.factor)]], notes };
    }
    return { pairs: [["formula", '"exponential"'], ["factor", String(factor)]], notes };
  }
  notes.push({
    level: "warn",
    text: `bantime.formula ${
      JSON.stringify(input.formula)
    } not imported: only fail2ban's two documented formulas map to fail2zig (exponential); using exponential, factor 2`,
  });
  return { pairs: [["formula", '"exponential"'], ["factor", "2"]], notes };
}

/**
 * fail2ban's `ignoreip` (space or comma separated IPs, CIDRs, `IP/dotted.mask`, DNS names) →
 * canonical fail2zig CIDRs. DNS names and anything else are skipped with a note: fail2zig never
 * resolves names. Host bits in a CIDR are cleared, as fail2ban does.
 */
export function translateIgnoreip(text: string): { cidrs: string[]; notes: Note[] } {
  const cidrs: string[] = [];
  const notes: Note[] = [];
  for (const word of text.split(/[\s,]+/).filter((w) => w !== "")) {
    const c = toCidr(word);
    if (c === null) {
      const dns = /^(?=.*[a-zA-Z])[a-zA-Z0-9_.-]+$/.test(word) && !word.includes("/");
      notes.push({
        level: "warn",
        text: dns
          ? `ignoreip: skipped ${
            JSON.stringify(word)
          }, a DNS name (fail2zig never resolves names; add its addresses)`
          : `ignoreip: skipped ${JSON.stringify(word)}, not an IP address or CIDR`,
      });
    } else if (!cidrs.includes(c)) {
      if (cidrs.length >= LIMITS.ignoreip) {
        notes.push({
          level: "warn",
          text: `ignoreip: more than ${LIMITS.ignoreip} entries; the rest skipped`,
        });
        break;
      }
      cidrs.push(c);
    }
  }
  return { cidrs, notes };
}

/** `IP`, `IP/LEN` (host bits cleared) or `IPv4/dotted.mask` → canonical text, or null. */
function toCidr(word: string): string | null {
  const slash = word.indexOf("/");
  if (slash < 0) {
    return canonicalIp(word);
  }
  const addr = word.slice(0, slash);
  let lenText = word.slice(slash + 1);
  const ip = parseIp(addr);
  if (ip === null) return null;
  if (ip.family === 4 && /^\d+\.\d+\.\d+\.\d+$/.test(lenText)) {
    const mask = lenText.split(".").map(Number);
    if (mask.some((o) => o > 255)) return null;
    const bits = mask.map((o) => o.toString(2).padStart(8, "0")).join("");
    if (!/^1*0*$/.test(bits)) return null;
    lenText = String(bits.indexOf("0") < 0 ? 32 : bits.indexOf("0"));
  }
  if (!/^\d{1,3}$/.test(lenText)) return null;
  const len = Number(lenText);
  if (len > (ip.family === 4 ? 32 : 128)) return null;
  const net = `${networkOf(ip, len)}/${len}`;
  return parseCidr(net) === null ? null : net;
}

/** Python's `ConfigParser` booleans: 1/yes/true/on and 0/no/false/off, any case. */
export function parseBool(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (["1", "yes", "true", "on"].includes(t)) return true;
  if (["0", "no", "false", "off"].includes(t)) return false;
  return undefined;
}

function badBool(key: string, value: string): Note {
  return {
    level: "warn",
    text: `${key} not imported: expected true/false, yes/no, on/off or 1/0, found ${
      JSON.stringify(value)
    }`,
  };
}
