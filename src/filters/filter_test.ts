import { equal, ok, throws } from "node:assert/strict";
import { compilePattern } from "./_pattern.ts";
import {
  builtinFilterNames,
  compileUserFilter,
  exceedsLineCap,
  filterDisagreements,
  filterModes,
  getFilter,
  LineKind,
  PatternError,
} from "./mod.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

function patternError(text: string): PatternError {
  try {
    compilePattern(text);
  } catch (e) {
    if (e instanceof PatternError) return e;
    throw e;
  }
  throw new Error(`compiled: ${text}`);
}

Deno.test("compilePattern() rejects patterns it could not match in linear time, with the column", () => {
  const cases: [string, number, RegExp][] = [
    ["from <HOST> port <NUM> <HOST>", 24, /second one/],
    ["from <FOO>", 6, /expected one of .*found <FOO>/],
    ["a {b|c", 3, /expected '}'/],
    ["user <*><HOST> port", 9, /between <\*> and <HOST>/],
    ["user <WORD>: <HOST>", 6, /cannot contain, found ":"/],
    ["<NUM><HEX> <HOST>", 6, /overlap/],
    ["Failed password for <*>", 23, /exactly one <HOST>/],
    ["x <*><*> <HOST>", 6, /<\*><\*>/],
    ["<*> from:<HOST>", 10, /text before <HOST> to end with/],
    [`from <HOST> ${"x".repeat(4085)}`, 4096, /at most 4096 characters, found 4097/],
  ];
  for (const [text, column, message] of cases) {
    const e = patternError(text);
    equal(e.column, column, text);
    ok(message.test(e.reason), `${text}: ${e.reason}`);
  }
  equal(compilePattern(`from <HOST> ${"x".repeat(4084)}`).length, 1); // 4096: the limit itself
});

Deno.test("compileUserFilter() reports which pattern failed", () => {
  try {
    compileUserFilter({
      name: "app",
      patterns: ["bad login from <HOST>"],
      ignorePatterns: ["ok", "x {"],
      prefix: "syslog",
    });
    throw new Error("compiled");
  } catch (e) {
    ok(e instanceof PatternError);
    equal(e.list, "ignore_patterns");
    equal(e.patternIndex, 1);
    equal(e.column, 3);
  }
});

Deno.test("a user filter matches its patterns, honours ignore patterns and its prefix setting", () => {
  const f = compileUserFilter({
    name: "app",
    patterns: ["login failed for <*> from <HOST>{| port <NUM>}"],
    ignorePatterns: ["login failed for trusted<*>"],
    prefix: "syslog",
  });
  equal(f.match("Nov 24 12:00:00 h app[1]: login failed for bob from 1.2.3.4", NOW)?.ip, "1.2.3.4");
  equal(f.match("login failed for bob from 1.2.3.4 from 5.6.7.8 port 9", NOW)?.ip, "5.6.7.8");
  equal(f.match("login failed for trusted from 1.2.3.4", NOW), null);
  const raw = compileUserFilter({
    name: "raw",
    patterns: ["<HOST> denied"],
    ignorePatterns: [],
    prefix: "none",
  });
  equal(raw.match("1.2.3.4 denied", NOW)?.ip, "1.2.3.4");
  equal(raw.match("1.2.3.4 denied", NOW)?.time, null);
  equal(raw.match("Nov 24 12:00:00 h app: 1.2.3.4 denied", NOW), null);
});

Deno.test("a middle address placed twice with different addresses is ambiguous: no match", () => {
  const f = compileUserFilter({
    name: "amb",
    patterns: ["<*> client: <HOST>, server: <*>"],
    ignorePatterns: [],
    prefix: "none",
  });
  equal(f.match("x client: 1.2.3.4, server: y", NOW)?.ip, "1.2.3.4");
  equal(f.match("x client: 1.2.3.4, server: y client: 1.2.3.4, server: z", NOW)?.ip, "1.2.3.4");
  equal(f.match("x client: 1.2.3.4, server: y client: 5.6.7.8, server: z", NOW), null);
});

Deno.test("two patterns that split one address differently (IPv6 and a port) make the line ambiguous", () => {
  // `2001:db8::1:4242` is an address, and `2001:db8::1` with port 4242: whichever pattern comes
  // first, the other reading is seen and the line counts for neither
  for (const patterns of [["x <HOST> y", "x <HOST>:<NUM> y"], ["x <HOST>:<NUM> y", "x <HOST> y"]]) {
    const f = compileUserFilter({ name: "split", patterns, ignorePatterns: [], prefix: "none" });
    equal(f.match("x 2001:db8::1:4242 y", NOW), null, patterns.join(" + "));
    equal(f.lastKind, LineKind.AMBIGUOUS);
    equal(f.match("x 2001:db8::1:abcd:12345 y", NOW)?.ip, "2001:db8::1:abcd", patterns.join(" + "));
    equal(f.match("x 192.0.2.1:4242 y", NOW)?.ip, "192.0.2.1");
  }
});

Deno.test("compile-time agreement: no built-in filter's patterns disagree on a line its service writes", () => {
  for (const name of builtinFilterNames()) {
    for (const mode of filterModes(name)!) equal(filterDisagreements(name, mode).join("\n"), "");
  }
});

Deno.test("compile-time agreement: a user filter whose patterns can place the address differently is reported", () => {
  const users = (name: string, patterns: string[]) => [
    { name, patterns, ignorePatterns: [], prefix: "none" as const },
  ];
  // Apache 2.2's element has no port, 2.4's always has one: a filter allowing both reads
  // `[client 2001:db8::1:4242]` two ways
  const both = filterDisagreements(
    "both",
    "normal",
    users("both", ["[client {<HOST>|<HOST>:<NUM>}] x"]),
  );
  equal(both.length, 1);
  ok(both[0]!.includes("ambiguous: [client 2001:db8::1:4242] x"), both[0]);
  const one = users("one", ["[client <HOST>:<NUM>] x", "[client [<HOST>]:<NUM>] x"]);
  equal(filterDisagreements("one", "normal", one).length, 0);
  // an optional tail that can also be read as part of the free text does not disagree: the
  // address is the same either way
  const tail = users("tail", ["login for <*> from <HOST>{| port <NUM>}"]);
  equal(filterDisagreements("tail", "normal", tail).length, 0);
});

Deno.test("times: RFC 3164 year never in the future, RFC 3339 offsets, clamped to now, null without", () => {
  const f = getFilter("sshd", "normal");
  const tail = "sshd[1]: Failed password for root from 1.2.3.4 port 22 ssh2";
  const at = (line: string) => f.match(line, NOW)?.time;
  // Nov 25 12:00 UTC "now": a Dec 31 line belongs to the previous year
  equal(new Date(at(`Dec 31 23:59:59 h ${tail}`)!).getFullYear(), 2025);
  equal(at(`2026-11-24T12:26:41.771471+02:00 h ${tail}`), Date.UTC(2026, 10, 24, 10, 26, 41, 771));
  equal(at(`2026-11-24T12:26:41Z h ${tail}`), Date.UTC(2026, 10, 24, 12, 26, 41));
  equal(at(`2026-11-24T12:26:41+0000 h ${tail}`), Date.UTC(2026, 10, 24, 12, 26, 41));
  equal(at(`2027-01-01T00:00:00Z h ${tail}`), NOW);
  equal(at(tail), null);
  equal(at(tail.slice(tail.indexOf(" ") + 1)), null);
});

Deno.test("exceedsLineCap() counts UTF-8 bytes", () => {
  equal(exceedsLineCap("a".repeat(4096), 4096), false);
  equal(exceedsLineCap("a".repeat(4097), 4096), true);
  equal(exceedsLineCap("é".repeat(2048), 4096), false);
  equal(exceedsLineCap("é".repeat(2049), 4096), true);
});

Deno.test("filterModes() and getFilter() know the built-ins and refuse unknown names and modes", () => {
  equal(filterModes("nope"), undefined);
  ok(filterModes("sshd")!.includes("aggressive"));
  equal(
    filterModes("x", [{ name: "x", patterns: [], ignorePatterns: [], prefix: "none" }])![0],
    "normal",
  );
  throws(() => getFilter("nope", "normal"), RangeError);
  throws(() => getFilter("sshd", "paranoid"), /modes normal, ddos, extra, aggressive/);
  for (const name of ["sshd", "nginx-http-auth", "nginx-limit-req", "nginx-botsearch"]) {
    ok(getFilter(name, "normal").patterns.length > 0);
  }
});

Deno.test("ambiguousLines counts the lines an instance found ambiguous, and only those", () => {
  const f = getFilter("nginx-http-auth", "normal");
  const real =
    '2026/01/01 00:00:00 [error] 1#1: *1 user "a": password mismatch, client: 1.2.3.4, server: s, request: "GET / HTTP/1.1", host: "h"';
  // the user name repeats the record's structure with another address: two readings disagree
  const planted =
    '2026/01/01 00:00:00 [error] 1#1: *1 user "a": password mismatch, client: 6.6.6.6, server: s, request: "GET / HTTP/1.1", host: "h"": password mismatch, client: 1.2.3.4, server: s, request: "GET / HTTP/1.1", host: "h"';
  equal(f.match(real, 0)?.ip, "1.2.3.4");
  equal(f.ambiguousLines, 0);
  equal(f.match(planted, 0), null);
  equal(f.lastKind, LineKind.AMBIGUOUS);
  equal(f.match("unrelated line", 0), null);
  equal(f.match(planted, 0), null);
  equal(f.ambiguousLines, 2);
});

/** The texts `{a|b}` groups of a pattern expand to (groups without nesting). */
function expanded(text: string): string[] {
  const m = /\{([^{}]*)\}/.exec(text);
  if (!m) return [text];
  return m[1]!.split("|").flatMap((o) =>
    expanded(text.slice(0, m.index) + o + text.slice(m.index + m[0].length))
  );
}

Deno.test("a group of plain texts is matched as one step, exactly as its expansion would be", () => {
  const cases: [string, number][] = [
    // [pattern, its variants]: a set in the first segment, one in the last, one after another set
    ["a {xy|xz|q} <HOST> end", 1],
    ["<HOST> x<*> tail {ab|cd|e}", 1],
    ["<HOST> said {no|yes} {now|then}<*>", 1],
    // an empty option stays one, the other texts are one set; a text that another starts is dealt
    // into a set of its own; the same text twice is one; a text with a blank the end would trim
    ["<HOST> said {|no|yes} {now|then}<*>", 2],
    ["<HOST> said {no|nope|yes|nay} x", 2],
    ["<HOST> said {no|yes|no} x", 1],
    ["<HOST> x {ab |cd|ef}", 2],
    // a set before a group whose options start with text (or are empty), or inside a group
    ["<HOST> said {no|yes}{| now| then} end", 2],
    ["<HOST> {a {b|c}|d} end", 2],
    ["x {ab|cd}{<NUM>|z} <HOST>", 4], // a token may follow: expanded
    ["{ab|cd} <HOST>", 2], // no text before it: expanded
    ["<HOST> x<*>{ab|cd}{| end}", 4],
    // expanded: one text begins another; one ends another where it is read right to left; a set
    // would end a segment placed rightmost (its last op leads the search)
    ["<*> for {ro|root} from <HOST> x", 2],
    ["<HOST> x<*> tail {ab|b}", 2],
    ["<*> from <HOST> via <*> port {1|2}<*> end", 2],
  ];
  const rnd = (() => {
    let x = 0x5e7;
    return () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
  })();
  const words = [
    "a ",
    "xy",
    "xz",
    "q",
    " end",
    "x",
    " tail ",
    "ab",
    "cd",
    "e",
    "b",
    " said ",
    "no",
    "yes",
    " now",
    " then",
    " for ",
    "ro",
    "root",
    " from ",
    " via ",
    " port ",
    "1",
    "2",
    " ",
    "nope",
    "nay",
    " x ",
    "ab ",
    "ef",
    "a ",
    "c",
    "d",
    "z",
    "42",
  ];
  const hosts = ["192.0.2.1", "192.0.2.7", "2001:db8::1"];
  for (const [pattern, count] of cases) {
    equal(compilePattern(pattern).length, count, pattern);
    const set = compileUserFilter({
      name: "s",
      patterns: [pattern],
      ignorePatterns: [],
      prefix: "none",
    });
    const texts = expanded(pattern);
    const each = compileUserFilter({
      name: "e",
      patterns: texts,
      ignorePatterns: [],
      prefix: "none",
    });
    const lines = texts.flatMap((t) =>
      hosts.map((h) => t.replaceAll("<HOST>", h).replaceAll("<*>", "w").replaceAll("<NUM>", "42"))
    );
    for (let i = 0; i < 3000; i++) {
      let s = "";
      const n = 2 + Math.floor(rnd() * 9);
      for (let k = 0; k < n; k++) {
        s += rnd() < 0.2
          ? hosts[Math.floor(rnd() * hosts.length)]
          : words[Math.floor(rnd() * words.length)];
      }
      lines.push(s, lines[Math.floor(rnd() * texts.length * hosts.length)]! + s);
    }
    let matched = 0;
    for (const line of lines) {
      const a = set.match(line, NOW)?.ip ?? null, b = each.match(line, NOW)?.ip ?? null;
      equal(`${a} ${set.lastKind}`, `${b} ${each.lastKind}`, `${pattern}: ${line}`);
      if (a !== null) matched++;
    }
    ok(matched >= texts.length * hosts.length, `${pattern}: ${matched} lines matched`);
  }
  // no variant per text: a group of 300 texts counts once against the 256 combinations
  const many = Array.from({ length: 300 }, (_, i) => `t${i}x`);
  equal(compilePattern(`user {${many.join("|")}} from <HOST>`).length, 1);
  const f = compileUserFilter({
    name: "m",
    patterns: [`user {${many.join("|")}} from <HOST>`],
    ignorePatterns: [],
    prefix: "none",
  });
  equal(f.match("user t217x from 192.0.2.9", NOW)?.ip, "192.0.2.9");
  equal(f.match("user t2173x from 192.0.2.9", NOW), null);
});
