import { deepEqual } from "node:assert/strict";
import { translateRegex } from "./_regex.ts";

const ok = (re: string, lookup?: (n: string) => string | undefined) => {
  const t = translateRegex(re, lookup);
  return t.ok ? [t.pattern, t.syslog] : t.reason;
};

Deno.test("translateRegex() maps the common subset into the pattern language", () => {
  deepEqual(ok("^%(__prefix_line)sLogin failed for \\S+ from <HOST>(?: port \\d+)?$"), [
    "Login failed for <WORD> from <HOST>{ port <NUM>|}",
    true,
  ]);
  deepEqual(ok("^\\s*%(__prefix_line)sbad user <F-USER>.+</F-USER> from <ADDR>\\s*$"), [
    "bad user <*> from <HOST>{ |}",
    true,
  ]);
  deepEqual(ok('^<HOST> .*"(GET|POST) /wp-login\\.php'), [
    '<HOST> <*>"{GET|POST} /wp-login.php<*>',
    false,
  ]);
  deepEqual(ok("client <IP4>:\\d+ denied"), ["<*>client <HOST>:<NUM> denied<*>", false]);
  deepEqual(ok("from <HOST>"), ["<*>from <HOST>{| <*>}", false]);
  deepEqual(ok("<HOST> blocked$"), ["{<*> |}<HOST> blocked", false]);
  deepEqual(ok("^key \\w+ (?P<n>x|y)? id\\d* .*?end$"), [
    "key <NAME> {x|y|} id{<NUM>|} <*>end",
    false,
  ]);
  deepEqual(ok("^x\\{1\\} <HOST> \\| \\\\ <z$"), ["x\\{1\\} <HOST> \\| \\\\ \\<z", false]);
  deepEqual(ok("^colou?r <HOST>$"), ["colo{u|}r <HOST>", false]);
  deepEqual(ok("^%(_user)s from <HOST>$", (n) => (n === "_user" ? "user \\S+" : undefined)), [
    "user <WORD> from <HOST>",
    false,
  ]);
});

Deno.test("translateRegex() makes a repeated negated class a skip, drops \\b, looks up fail2ban's <tags>", () => {
  deepEqual(ok('^user "[^"]*" from <HOST>$'), ['user "<*>" from <HOST>', false]);
  deepEqual(ok("^\\[[^\\]]+\\] \\bfrom <HOST>$"), ["[<*>] from <HOST>", false]);
  const defs: Record<string, string> = { mode: "normal", "re-normal": "bad \\S+", many: "a\nb" };
  deepEqual(ok("^<re-<mode>> from <HOST>$", (n) => defs[n]), ["bad <WORD> from <HOST>", false]);
  deepEqual(ok("^%(many)s <HOST>$", (n) => defs[n]), "%(many)s expands to several regexes");
  const t = translateRegex('^x [^"]+ <HOST>$');
  deepEqual(t.ok ? t.notes : [], ['[^"]+ becomes <*>, which also takes what it excludes']);
});

Deno.test("translateRegex() refuses what it cannot map, and says why", () => {
  deepEqual(ok("^(?!root)\\S+ from <HOST>$"), "lookaround (?=, (?!, (?<=, (?<!)");
  deepEqual(ok("^(?<=x) <HOST>$"), "lookaround (?=, (?!, (?<=, (?<!)");
  deepEqual(ok("^(\\S+) again \\1 <HOST>$"), "a backreference \\1");
  deepEqual(ok("^(?P<u>\\S+) (?P=u) <HOST>$"), "a backreference (?P=name)");
  deepEqual(ok("^[a-z]+ <HOST>$"), 'character class "[a-z]"');
  deepEqual(ok("^a.b <HOST>$"), "a single . (any one character)");
  deepEqual(ok("^x{2,3} <HOST>$"), '"x{" (a repeated character)');
  deepEqual(ok("^(ab)+ <HOST>$"), "a repeated group (+)");
  deepEqual(ok("^(?i)x <HOST>$"), 'the group "(?i)"');
  deepEqual(ok("^x <HOST><F-NOFAIL>y</F-NOFAIL>$"), "the tag <F-NOFAIL>");
  deepEqual(ok("^%(missing)s <HOST>$"), "%(missing)s is not defined in the filter");
  deepEqual(ok("^x \\Bword <HOST>$"), "the escape \\B");
  deepEqual(ok("^x (a <HOST>$"), "an unclosed (");
  deepEqual(ok("^x a) <HOST>$"), "an unmatched )");
});
