/**
 * fail2ban `failregex`/`ignoreregex` → fail2zig pattern language (docs/filters.md), for the common
 * subset; anything else is refused with the reason, and the importer then quotes the regex.
 *
 * | fail2ban                                   | pattern                                       |
 * | ------------------------------------------ | --------------------------------------------- |
 * | `^%(__prefix_line)s` (`\s*` before it too) | stripped; the filter gets `prefix = "syslog"` |
 * | `<HOST>` `<ADDR>` `<IP4>` `<IP6>`          | `<HOST>` (either family)                      |
 * | `<F-USER>…</F-USER>`, `F-ALT_USER`, `F-ID` | the tags dropped, the content translated      |
 * | `.*` `.+` (and lazy `*?` `+?`)             | `<*>`                                         |
 * | `\S+` / `\d+` / `\w+`                      | `<WORD>` / `<NUM>` / `<NAME>`                 |
 * | `\s` `\s+` / `\s*`                         | one space / `{ \|}`                           |
 * | `(?:a\|b)` `(a\|b)` `(?P<n>a\|b)`, `x?`    | `{a\|b}`; a `?` adds an empty alternative     |
 * | `\.` `\[` `\(` … (escaped punctuation)     | the character                                 |
 * | `^` `$`                                    | anchors; without them `<*>` is added          |
 * | other `%(name)s`                           | the filter's own definition, then translated  |
 *
 * fail2ban searches the regex anywhere in the line (after the date); a fail2zig pattern matches
 * the whole message, so an unanchored side gets `<*>` — beside a token (`<HOST>` at the very
 * end, say), where `<*>` may not touch it, `{| <*>}` (any text after a space) and a note. A
 * repeated negated class (`[^"]*`, `[^\]]+`) becomes `<*>` (looser) and `\b` is dropped.
 * fail2ban's lower-case tags (`<mdre-<mode>>`) are looked up like `%(name)s`. Refused:
 * lookaround, backreferences, other character classes, a single `.` or `\S`, repetition counts `{n,m}`, `*`/`+` on a group or a literal, inline
 * flags, `<F-NOFAIL>` and the other tags that change fail2ban's verdict, `<SUBNET>`.
 * @module
 */

/** What `translateRegex` made of one regex. */
export type RegexTranslation =
  | {
    readonly ok: true;
    readonly pattern: string;
    /** The regex used `%(__prefix_line)s`: the message after a syslog prefix. */
    readonly syslog: boolean;
    /** Where the pattern is looser or stricter than the regex. */
    readonly notes: string[];
  }
  | { readonly ok: false; readonly reason: string };

class Refused extends Error {}

/** Characters the pattern language treats specially (written with a backslash). */
const SPECIAL = new Set(["<", "{", "}", "|", "\\"]);
/** fail2ban tags whose content is matched as written. */
const KEPT_TAGS = new Set(["USER", "ALT_USER", "ALT_USER1", "ID", "ALT_ID"]);
/** Regex escapes of a token class, by letter, and what `+`, `*` and nothing make of them. */
const CLASS_ESCAPES: Readonly<Record<string, { plus: string; star: string; one?: string }>> = {
  S: { plus: "<WORD>", star: "{<WORD>|}" },
  d: { plus: "<NUM>", star: "{<NUM>|}" },
  w: { plus: "<NAME>", star: "{<NAME>|}" },
  s: { plus: " ", star: "{ |}", one: " " },
};
/** Character classes that are a token. */
const CLASSES: ReadonlyArray<[RegExp, string]> = [
  [/^\[\^ \]\+/, "<WORD>"],
  [/^\[\^\\s\]\+/, "<WORD>"],
  [/^\[0-9\]\+/, "<NUM>"],
  [/^\[\\d\]\+/, "<NUM>"],
];
/** The deepest group nesting translated. */
const MAX_DEPTH = 16;

class Translator {
  pos = 0;
  readonly notes = new Set<string>();
  constructor(readonly re: string) {}

  /** Alternatives up to `)` or the end. */
  alternatives(depth: number): string[] {
    if (depth > MAX_DEPTH) throw new Refused(`groups nested deeper than ${MAX_DEPTH}`);
    const alts = [this.sequence(depth)];
    while (this.re[this.pos] === "|") {
      this.pos++;
      alts.push(this.sequence(depth));
    }
    return alts;
  }

  sequence(depth: number): string {
    let out = "";
    for (;;) {
      const c = this.re[this.pos];
      if (c === undefined || c === "|" || c === ")") return out;
      out += this.item(depth);
    }
  }

  item(depth: number): string {
    const re = this.re;
    const c = re[this.pos]!;
    const rest = re.slice(this.pos);
    if (c === "^" || c === "$") throw new Refused(`${c} inside the expression`);
    if (c === "<") return this.tag(rest);
    if (c === "(") return this.group(depth);
    if (c === "[") {
      for (const [m, token] of CLASSES) {
        const hit = m.exec(rest);
        if (hit !== null) {
          this.pos += hit[0].length;
          this.lazy();
          return token;
        }
      }
      // Any other negated class, repeated: a skip (looser: it also takes the excluded characters).
      const negated = /^\[\^(?:\\.|[^\]\\])+\][*+]/.exec(rest);
      if (negated !== null) {
        this.pos += negated[0].length;
        this.lazy();
        this.notes.add(`${negated[0]} becomes <*>, which also takes what it excludes`);
        return "<*>";
      }
      throw new Refused(`character class ${JSON.stringify(/^\[\^?\]?[^\]]*\]?/.exec(rest)![0])}`);
    }
    if (c === ".") {
      const q = re[this.pos + 1];
      if (q !== "*" && q !== "+") throw new Refused("a single . (any one character)");
      if (q === "+") this.notes.add(".+ becomes <*>, which also matches nothing");
      this.pos += 2;
      this.lazy();
      return "<*>";
    }
    if (c === "\\") return this.escape();
    if ("*+?{".includes(c)) throw new Refused(`the repetition ${JSON.stringify(c)}`);
    this.pos++;
    return this.literal(c);
  }

  /** `<HOST>`-like tags, `<F-…>` capture tags, or a literal `<`. */
  tag(rest: string): string {
    const m = /^<(\/?)([A-Z][A-Z0-9_-]*)>/.exec(rest);
    if (m === null) {
      this.pos++;
      return this.literal("<");
    }
    this.pos += m[0].length;
    const [, close, name] = m as unknown as [string, string, string];
    if (["HOST", "ADDR", "IP4", "IP6"].includes(name) && close === "") {
      if (name === "IP4" || name === "IP6") {
        this.notes.add(`<${name}> becomes <HOST> (either family)`);
      }
      return "<HOST>";
    }
    if (name.startsWith("F-") && KEPT_TAGS.has(name.slice(2))) return "";
    throw new Refused(`the tag <${close}${name}>`);
  }

  group(depth: number): string {
    const head = /^\((\?:|\?P<\w+>|\?<\w+>)?/.exec(this.re.slice(this.pos))![0];
    const after = this.re.slice(this.pos + head.length);
    if (head === "(" && after.startsWith("?")) {
      if (/^\?<?[=!]/.test(after)) throw new Refused("lookaround (?=, (?!, (?<=, (?<!)");
      if (after.startsWith("?P=")) throw new Refused("a backreference (?P=name)");
      throw new Refused(`the group ${JSON.stringify(this.re.slice(this.pos, this.pos + 4))}`);
    }
    this.pos += head.length;
    const alts = this.alternatives(depth + 1);
    if (this.re[this.pos] !== ")") throw new Refused("an unclosed (");
    this.pos++;
    const q = this.re[this.pos];
    if (q === "?") {
      this.pos++;
      this.lazy();
      if (!alts.includes("")) alts.push("");
    } else if (q === "*" || q === "+" || q === "{") {
      throw new Refused(`a repeated group (${q})`);
    }
    return alts.length === 1 ? alts[0]! : `{${alts.join("|")}}`;
  }

  escape(): string {
    const e = this.re[this.pos + 1];
    if (e === undefined) throw new Refused("a trailing backslash");
    this.pos += 2;
    const cls = Object.hasOwn(CLASS_ESCAPES, e) ? CLASS_ESCAPES[e] : undefined;
    if (cls !== undefined) {
      const q = this.re[this.pos];
      if (e === "w") this.notes.add("\\w+ becomes <NAME>, which also takes . and -");
      if (e === "s" && q !== "*") this.notes.add("\\s and \\s+ become one space");
      if (q === "+" || q === "*") {
        this.pos++;
        this.lazy();
        return q === "+" ? cls.plus : cls.star;
      }
      if (cls.one !== undefined) return cls.one;
      throw new Refused(`a single \\${e}`);
    }
    if (/[0-9]/.test(e)) throw new Refused(`a backreference \\${e}`);
    if (e === "b") {
      this.notes.add("\\b (a word boundary) dropped");
      return "";
    }
    if (/[A-Za-z]/.test(e)) throw new Refused(`the escape \\${e}`);
    return this.literal(e);
  }

  /** A literal character, and a `?` after it (optional). */
  literal(c: string): string {
    const text = SPECIAL.has(c) ? `\\${c}` : c;
    const q = this.re[this.pos];
    if (q === "?") {
      this.pos++;
      return `{${text}|}`;
    }
    if (q === "*" || q === "+" || q === "{") {
      throw new Refused(`${JSON.stringify(c + q)} (a repeated character)`);
    }
    return text;
  }

  /** Skips the `?` of a lazy quantifier (the pattern language has no greediness). */
  lazy(): void {
    if (this.re[this.pos] === "?") this.pos++;
  }
}

/** A definition used inside a regex: refused when it holds several regexes (lines). */
function oneRegex(ref: string, value: string): string {
  const v = value.trim();
  if (v.includes("\n")) throw new Refused(`${ref} expands to several regexes`);
  return v;
}

/**
 * Translates one regex. `lookup` gives the filter's own definitions for `%(name)s` references
 * (already interpolated), or undefined.
 */
export function translateRegex(
  regex: string,
  lookup: (name: string) => string | undefined = () => undefined,
): RegexTranslation {
  let re = regex.trim();
  const prefix = /^\^?(?:\\s\*)?%\(__prefix_line\)s/.exec(re);
  const syslog = prefix !== null;
  if (syslog) re = "^" + re.slice(prefix[0].length);
  try {
    return translateBody(re, syslog, lookup);
  } catch (e) {
    if (e instanceof Refused) return { ok: false, reason: e.message };
    throw e;
  }
}

function translateBody(
  regex: string,
  syslog: boolean,
  lookup: (name: string) => string | undefined,
): RegexTranslation {
  let re = regex;
  for (let round = 0; round < 8 && /%\(|<[a-z_][\w-]*>/.test(re); round++) {
    re = re.replace(/%\((\w+)\)s/g, (all, name: string) => {
      const v = lookup(name);
      if (v === undefined) throw new Refused(`${all} is not defined in the filter`);
      return oneRegex(all, v);
    }).replace(/<([a-z_][\w-]*)>/g, (all, name: string) => {
      const v = lookup(name);
      return v === undefined ? all : oneRegex(all, v);
    });
  }
  {
    if (re.includes("%(")) throw new Refused("%(…)s references nested too deep");
    const start = re.startsWith("^");
    const end = re.endsWith("$") && !re.endsWith("\\$");
    const t = new Translator(re.slice(start ? 1 : 0, end ? -1 : undefined));
    const alts = t.alternatives(0);
    if (t.pos !== t.re.length) throw new Refused("an unmatched )");
    let body = alts.length === 1 ? alts[0]! : `{${alts.join("|")}}`;
    // `<*>` may not touch a token: beside one, the skip is only allowed after a space.
    if (!start) {
      if (/^<[A-Z]+>/.test(body)) {
        body = `{<*> |}${body}`;
        t.notes.add("text before the first token is matched up to a space");
      } else body = `<*>${body}`;
    }
    if (!end) {
      if (/<[A-Z]+>$/.test(body)) {
        body = `${body}{| <*>}`;
        t.notes.add("text after the last token is matched from a space");
      } else body = `${body}<*>`;
    }
    body = body.replace(/(?:<\*>)+/g, "<*>");
    return { ok: true, pattern: body, syslog, notes: [...t.notes] };
  }
}
