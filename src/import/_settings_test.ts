import { deepEqual, equal, match } from "node:assert/strict";
import { IniTree, parseIni } from "./_ini.ts";
import { parseBool, translateFormula, translateIgnoreip, translateSettings } from "./_settings.ts";

function settings(text: string, section = "j") {
  const t = new IniTree();
  t.merge(parseIni(text, "x"));
  const out: Record<string, string> = {};
  const notes: string[] = [];
  for (const s of translateSettings(t, section).values()) {
    for (const [k, v] of s.pairs) out[k] = v;
    notes.push(...s.notes.map((n) => `${n.level}: ${n.text}`));
  }
  return { out, notes };
}

Deno.test("translateSettings() turns fail2ban times into fail2zig durations", () => {
  const { out, notes } = settings("[j]\nbantime = 1d12h\nfindtime = 600\nmaxretry = 3\n");
  deepEqual(out, { bantime: '"1d12h"', findtime: '"10m"', maxretry: "3" });
  deepEqual(notes, []);
  equal(settings("[j]\nbantime = -1\n").out.bantime, '"permanent"');
});

Deno.test("translateSettings() clamps values to fail2zig's ranges, saying so", () => {
  const { out, notes } = settings("[j]\nbantime = 0\nfindtime = 1mo\nmaxretry = 5000\n");
  deepEqual(out, { bantime: '"1s"', findtime: '"1w"', maxretry: "1000" });
  equal(notes.length, 3);
  match(notes[1]!, /findtime 1mo is outside fail2zig's range 1s\.\.1w; set to 1w/);
  equal(settings("[j]\nbantime = 1.5s\n").out.bantime, '"2s"');
});

Deno.test("translateSettings() leaves out what it cannot read, with a warning", () => {
  const { out, notes } = settings("[j]\nbantime = 1h*2\nmaxretry = lots\nfindtime = %(nope)s\n");
  deepEqual(out, {});
  equal(notes.length, 3);
  match(notes.join("\n"), /bantime not imported: unexpected '\*2'/);
  match(notes.join("\n"), /maxretry not imported: expected an integer, found "lots"/);
  match(notes.join("\n"), /findtime not imported: .*%\(nope\)s is not defined/);
});

Deno.test("translateSettings() maps the bantime.* family onto bantime_increment keys", () => {
  const { out } = settings(
    "[j]\nbantime.increment = on\nbantime.maxtime = 2w\nbantime.rndtime = 30s\nbantime.overalljails = 1\nbantime.factor = 1\n",
  );
  deepEqual(out, {
    enabled: "true",
    formula: '"exponential"',
    factor: "2",
    max: '"2w"',
    jitter: '"30s"',
    overall: "true",
  });
});

Deno.test("translateFormula() maps fail2ban's two documented formulas and warns about others", () => {
  const exp = "ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)";
  deepEqual(translateFormula({ formula: exp, factor: "1" }).pairs, [["formula", '"exponential"'], [
    "factor",
    "2.7183",
  ]]);
  deepEqual(translateFormula({ factor: "1" }), {
    pairs: [["formula", '"exponential"'], ["factor", "2"]],
    notes: [],
  });
  match(translateFormula({ factor: "3" }).notes[0]!.text, /multiplies every repeated ban by 3/);
  match(
    translateFormula({ formula: "ban.Time * 10" }).notes[0]!.text,
    /only fail2ban's two documented formulas/,
  );
  match(
    translateFormula({ multipliers: "1 5 30 60" }).notes[0]!.text,
    /bantime\.multipliers \(1 5 30 60\) not imported/,
  );
  deepEqual(translateFormula({}), { pairs: [], notes: [] });
});

Deno.test("translateIgnoreip() keeps IPs and CIDRs (host bits cleared) and skips DNS names", () => {
  const r = translateIgnoreip(
    "127.0.0.1/8 ::1, 192.168.1.7/24,10.0.0.0/255.255.0.0 gw.example.net 2001:DB8::/32 bad/99",
  );
  deepEqual(r.cidrs, ["127.0.0.0/8", "::1", "192.168.1.0/24", "10.0.0.0/16", "2001:db8::/32"]);
  equal(r.notes.length, 2);
  match(r.notes[0]!.text, /skipped "gw\.example\.net", a DNS name \(fail2zig never resolves names/);
  match(r.notes[1]!.text, /skipped "bad\/99", not an IP address or CIDR/);
  deepEqual(translateIgnoreip("10.0.0.1 10.0.0.1/32 10.0.0.1").cidrs, ["10.0.0.1", "10.0.0.1/32"]);
});

Deno.test("parseBool() reads Python's booleans only", () => {
  deepEqual(["true", "Yes", "1", "on", "false", "NO", "0", "off", "maybe"].map(parseBool), [
    true,
    true,
    true,
    true,
    false,
    false,
    false,
    false,
    undefined,
  ]);
});
