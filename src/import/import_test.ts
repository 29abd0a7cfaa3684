import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ConfigError, parseConfig } from "../config/mod.ts";
import { compileUserFilter } from "../filters/mod.ts";
import {
  denoFileReader,
  type FileReader,
  importFail2ban,
  memoryFileReader,
  NoJailConfError,
} from "./mod.ts";

const FIXTURES = fileURLToPath(new URL("../../fixtures/fail2ban", import.meta.url));
/** How the expected output names the fixture directory (the CLI test runs from the root). */
const FIXTURE_LABEL = "fixtures/fail2ban/debian";

Deno.test("importFail2ban() translates the Debian fixture tree exactly as expected", async () => {
  const dir = `${FIXTURES}/debian`;
  const r = await importFail2ban(dir, { reader: denoFileReader() });
  const expected = await Deno.readTextFile(`${FIXTURES}/debian.expected.toml`);
  equal(r.toml.replaceAll(dir, FIXTURE_LABEL), expected);
  deepEqual(r.imported, [
    "sshd",
    "nginx-http-auth",
    "postfix",
    "recidive",
    "sshd-journal",
    "myapp",
  ]);
  deepEqual(r.skipped.map((s) => s.name), ["apache-badbots"]);
  deepEqual(r.files.map((f) => f.slice(dir.length + 1)), [
    "fail2ban.conf",
    "fail2ban.local",
    "paths-common.conf",
    "paths-debian.conf",
    "jail.conf",
    "jail.d/defaults-debian.conf",
    "jail.local",
    "jail.d/zz-local.local",
  ]);
  ok(
    r.warnings.some((w) =>
      /^\[DEFAULT\] ignoreip: skipped "trusted\.example\.com", a DNS name/.test(w)
    ),
  );
  ok(r.warnings.some((w) => /^\[apache-badbots\] not imported: fail2ban filter "apache-/.test(w)));
});

Deno.test("importFail2ban() output for the fixture passes the config loader with the same meaning", async () => {
  const r = await importFail2ban(`${FIXTURES}/debian`, { reader: denoFileReader() });
  const config = parseConfig(r.toml, "imported.toml");
  const jail = (name: string) => config.jails.find((j) => j.name === name)!;
  deepEqual(config.jails.map((j) => j.name), r.imported);
  const H = 3_600_000;
  // sshd: jail.d/*.local (4) beats jail.local (6); known/ignoreip extends [DEFAULT]'s list.
  deepEqual(
    { mode: jail("sshd").mode, maxretry: jail("sshd").maxretry, bantime: jail("sshd").bantimeMs },
    { mode: "aggressive", maxretry: 4, bantime: H },
  );
  deepEqual(jail("sshd").ignoreip, [
    "127.0.0.0/8",
    "::1",
    "192.168.1.0/24",
    "10.0.0.5",
    "203.0.113.7",
  ]);
  deepEqual(jail("sshd").logpath, ["/var/log/auth.log"]);
  deepEqual(jail("nginx-http-auth").logpath, [
    "/var/log/nginx/*error.log",
    "/srv/www/logs/error.log",
  ]);
  deepEqual(jail("nginx-http-auth").bantimeIncrement, {
    enabled: true,
    formula: "exponential",
    factor: 1.6487,
    maxMs: 5 * 7 * 24 * H,
    jitterMs: 300_000,
    overall: true,
  });
  deepEqual(
    {
      source: jail("postfix").source,
      match: jail("postfix").journalMatch,
      bantime: jail("postfix").bantimeMs,
    },
    {
      source: "journald",
      match: ["_SYSTEMD_UNIT=postfix.service", "_SYSTEMD_UNIT=postfix@-.service"],
      bantime: 36 * H,
    },
  );
  deepEqual(
    {
      source: jail("recidive").source,
      bantime: jail("recidive").bantimeMs,
      findtime: jail("recidive").findtimeMs,
      maxretry: jail("recidive").maxretry,
    },
    { source: "bans", bantime: null, findtime: 24 * H, maxretry: 3 },
  );
  equal(jail("sshd-journal").findtimeMs, 2 * H);
  deepEqual(jail("sshd-journal").journalMatch, [
    "_SYSTEMD_UNIT=sshd.service",
    "_SYSTEMD_UNIT=ssh.service",
  ]);
});

/** Debian's real configuration is required, not skipped when absent (.ci/run installs it). */
function needRealFail2ban(): void {
  ok(
    existsSync("/etc/fail2ban/jail.conf"),
    "expected Debian's /etc/fail2ban/jail.conf: apt-get install fail2ban (as .ci/run does)",
  );
}

Deno.test("importFail2ban() imports the real /etc/fail2ban into a config the loader accepts", async () => {
  needRealFail2ban();
  const r = await importFail2ban("/etc/fail2ban", { reader: denoFileReader() });
  const config = parseConfig(r.toml, "imported.toml");
  equal(config.jails.length, r.imported.length);
  ok(r.files.includes("/etc/fail2ban/jail.conf"));
});

for (const backend of ["auto", "systemd"]) {
  Deno.test(
    `importFail2ban() with every jail of the real jail.conf enabled (backend ${backend}) stays valid`,
    async () => {
      needRealFail2ban();
      // The real tree plus one more jail.d/*.local, read last, that enables everything.
      const real = denoFileReader();
      const extra = "/etc/fail2ban/jail.d/~all-enabled.local";
      const reader: FileReader = {
        read: (path, max) =>
          path === extra
            ? Promise.resolve(`[DEFAULT]\nenabled = true\nbackend = ${backend}\n`)
            : real.read(path, max),
        list: async (
          dir,
        ) => [
          ...await real.list(dir),
          ...(dir === "/etc/fail2ban/jail.d" ? ["~all-enabled.local"] : []),
        ],
      };
      const r = await importFail2ban("/etc/fail2ban", { reader });
      const config = parseConfig(r.toml, "imported.toml");
      deepEqual(config.jails.map((j) => j.name), r.imported);
      for (const name of ["sshd", "nginx-http-auth", "postfix", "dovecot", "recidive"]) {
        ok(r.imported.includes(name), name);
      }
      ok(r.skipped.length > 20);
      // Filters without a built-in whose regexes translate come along as [filters.NAME].
      const translated = config.filters.map((f) => f.name);
      ok(translated.length >= 3, translated.join(" "));
      for (const f of translated) equal(config.jails.find((j) => j.filter === f)?.filter, f);
      const sources = new Set(
        config.jails.filter((j) => j.name !== "recidive").map((j) => j.source),
      );
      deepEqual([...sources], [backend === "systemd" ? "journald" : "file"]);
    },
  );
}

Deno.test("importFail2ban() translates Debian's apache-badbots, whose agent list is 2,206 characters", async () => {
  needRealFail2ban();
  const real = denoFileReader();
  const extra = "/etc/fail2ban/jail.d/~badbots.local";
  const reader: FileReader = {
    read: (path, max) =>
      path === extra ? Promise.resolve("[apache-badbots]\nenabled = true\n") : real.read(path, max),
    list: async (dir) => [
      ...await real.list(dir),
      ...(dir === "/etc/fail2ban/jail.d" ? ["~badbots.local"] : []),
    ],
  };
  const r = await importFail2ban("/etc/fail2ban", { reader });
  const bots = parseConfig(r.toml, "imported.toml").filters.find((f) =>
    f.name === "apache-badbots"
  );
  ok(bots, r.toml);
  ok(bots.patterns[0]!.length > 2048, `${bots.patterns[0]!.length}`);
  const f = compileUserFilter(bots);
  const now = Date.UTC(2026, 10, 24, 13);
  const line = (ip: string, agent: string) =>
    `${ip} - - [24/Nov/2026:12:26:41 +0000] "GET /index.html HTTP/1.1" 200 512 "-" "${agent}"`;
  for (const agent of ["EmailSiphon", "Mozilla/5.0 Jorgee", "Jorgee", "SSurf15a 11 "]) {
    equal(f.match(line("203.0.113.5", agent), now)?.ip, "203.0.113.5", agent);
  }
  for (
    const agent of ["Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", "EmailSiphon2", "xJorgee"]
  ) {
    equal(f.match(line("203.0.113.5", agent), now), null, agent);
  }
  // the request is the client's text: an address planted in it is not the one read
  const planted = line("203.0.113.5", "EmailSiphon").replace("/index.html", "/198.51.100.7 - x");
  equal(f.match(planted, now)?.ip, "203.0.113.5");
});

Deno.test("importFail2ban() refuses a directory without jail.conf", async () => {
  await rejects(
    importFail2ban(`${FIXTURES}/no-jail-conf`, { reader: denoFileReader() }),
    (e) =>
      e instanceof NoJailConfError &&
      /expected a fail2ban directory with jail\.conf/.test(e.message),
  );
  await rejects(
    importFail2ban("/nonexistent-dir", { reader: memoryFileReader({}) }),
    NoJailConfError,
  );
});

/** Imports a hand-made tree; its output must pass the config loader, whatever the test checks. */
async function translate(files: Record<string, string>) {
  const r = await importFail2ban("/f2b", {
    reader: memoryFileReader(
      Object.fromEntries(Object.entries(files).map(([k, v]) => [`/f2b/${k}`, v])),
    ),
  });
  parseConfig(r.toml, "imported.toml");
  return r;
}

Deno.test("importFail2ban() leaves out disabled jails and comments out what it cannot translate", async () => {
  const r = await translate({
    "jail.conf": [
      "[DEFAULT]",
      "enabled = false",
      "filter = %(__name__)s",
      "[sshd]",
      "enabled = true",
      "logpath = relative/auth.log",
      "[vsftpd]",
      "enabled = true",
      "backend = gamin-ish",
      "logpath = /var/log/vsftpd.log",
      "[proftpd]",
      "enabled = true",
      "logpath = %(missing)s",
      "[dovecot]",
      "logpath = /var/log/mail.log",
      "[apache-auth]",
      "enabled = maybe",
    ].join("\n"),
  });
  deepEqual(r.imported, []);
  deepEqual(r.skipped, [
    { name: "sshd", reason: 'logpath "relative/auth.log" is not absolute' },
    { name: "vsftpd", reason: 'backend "gamin-ish" is not supported (file backends or systemd)' },
    {
      name: "proftpd",
      reason: "logpath: [proftpd] logpath: %(missing)s is not defined in [proftpd] or [DEFAULT]",
    },
  ]);
  match(
    r.toml,
    /^# \[jails\.sshd\]\n# not imported: logpath "relative\/auth\.log" is not absolute\n# filter = "sshd"$/m,
  );
  ok(!r.toml.includes("jails.dovecot"));
  ok(r.warnings.includes('[apache-auth] left out: enabled expected true/false, found "maybe"'));
  parseConfig(r.toml, "x");
});

Deno.test("importFail2ban() maps a head logpath to read_from = start and notes backend options", async () => {
  const r = await translate({
    "jail.conf":
      "[sshd]\nenabled = true\nfilter = sshd\nbackend = polling\nlogpath = /var/log/auth.log head\n" +
      "[dovecot]\nenabled = true\nfilter = dovecot\nbackend = systemd[journalpath=/run/log/x]\n",
  });
  const config = parseConfig(r.toml, "x");
  deepEqual(config.jails.map((j) => [j.name, j.source, j.readFrom, j.logpath]), [
    ["sshd", "file", "start", ["/var/log/auth.log"]],
    ["dovecot", "journald", "end", []],
  ]);
  deepEqual(r.warnings, ["[dovecot] backend options [journalpath=/run/log/x] not imported"]);
});

Deno.test("importFail2ban() reads the journal for a backend-auto jail whose log file does not exist on the host", async () => {
  const present = new Set(["/var/log/nginx/error.log"]);
  const r = await importFail2ban("/f2b", {
    reader: memoryFileReader({
      "/f2b/jail.conf": [
        "[sshd]\nenabled = true\nfilter = sshd\nlogpath = /var/log/auth.log\n",
        "[postfix]\nenabled = true\nfilter = postfix\nbackend = polling\nlogpath = /var/log/mail.log\n",
        "[nginx-http-auth]\nenabled = true\nfilter = nginx-http-auth\nlogpath = /var/log/nginx/error.log\n",
        "[dovecot]\nenabled = true\nfilter = dovecot\nlogpath = /var/log/dovecot*.log\n",
      ].join(""),
    }),
    logExists: (p) => Promise.resolve(present.has(p)),
  });
  const jails = parseConfig(r.toml, "x").jails.map((j) => [j.name, j.source, j.logpath]);
  deepEqual(jails, [
    ["sshd", "journald", []],
    ["postfix", "file", ["/var/log/mail.log"]], // polling is asked for by name: kept
    ["nginx-http-auth", "file", ["/var/log/nginx/error.log"]],
    ["dovecot", "file", ["/var/log/dovecot*.log"]], // a glob may match later
  ]);
  match(
    r.warnings.join("\n"),
    /\[sshd\] logpath \/var\/log\/auth\.log does not exist on this host/,
  );
  // Without logExists (a tree from another host) the logpath is kept.
  const other = await translate({
    "jail.conf": "[sshd]\nenabled = true\nfilter = sshd\nlogpath = /var/log/auth.log\n",
  });
  deepEqual(parseConfig(other.toml, "x").jails.map((j) => j.source), ["file"]);
});

Deno.test("importFail2ban() renames jails whose names fail2zig does not accept", async () => {
  const r = await translate({
    "jail.conf": "[sshd.custom]\nenabled = true\nfilter = sshd\nlogpath = /var/log/auth.log\n" +
      "[sshd-custom]\nenabled = true\nfilter = sshd\nlogpath = /var/log/auth.log\n" +
      "[a-very-long-jail-name-for-sshd-logs]\nenabled = true\nfilter = sshd\nlogpath = /var/log/auth.log\n",
  });
  deepEqual(r.imported, ["sshd-custom", "sshd-custom-2", "a-very-long-jail-name-fo"]);
  match(r.warnings[0]!, /fail2ban jail \[sshd\.custom\] renamed to sshd-custom/);
  equal(parseConfig(r.toml, "x").jails.length, 3);
});

Deno.test("importFail2ban() uses [DEFAULT] backend = systemd and the filter file's journalmatch", async () => {
  const r = await translate({
    "jail.conf":
      "[DEFAULT]\nbackend = systemd\nfilter = %(__name__)s\n[dovecot]\nenabled = true\n[nginx-botsearch]\nenabled = true\n",
    "filter.d/dovecot.conf":
      "[Definition]\nfailregex = x\n[Init]\njournalmatch = _SYSTEMD_UNIT=dovecot.service\n",
  });
  const config = parseConfig(r.toml, "x");
  deepEqual(config.jails.map((j) => [j.name, j.source, j.journalMatch]), [
    ["dovecot", "journald", ["_SYSTEMD_UNIT=dovecot.service"]],
    ["nginx-botsearch", "journald", ["_SYSTEMD_UNIT=nginx.service"]],
  ]);
  match(
    r.toml,
    /note: journal_match: the units of fail2zig's nginx-botsearch service \(no journalmatch found\)/,
  );
});

Deno.test("importFail2ban() lifts bantime_increment.max to a bantime above fail2zig's 1w default", async () => {
  const r = await translate({
    "jail.conf":
      "[DEFAULT]\nbantime.increment = true\n[sshd]\nenabled = true\nlogpath = /var/log/auth.log\n" +
      "filter = sshd\nbantime = 2w\n",
  });
  const [jail] = parseConfig(r.toml, "x").jails;
  equal(jail?.bantimeIncrement.maxMs, 14 * 86_400_000);
});

Deno.test("importFail2ban() comments out a jail the config loader rejects, with its message", async () => {
  // A loader whose postfix filter lacks the "auth" mode (as an older one did).
  const check = (toml: string) => {
    const problems = toml.includes('\nmode = "auth"')
      ? ['jails.x.mode: filter postfix has no mode "auth"']
      : [];
    return [...problems, ...loaderProblems(toml.replaceAll('\nmode = "auth"', ""))];
  };
  const r = await importFail2ban("/f2b", {
    reader: memoryFileReader({
      "/f2b/jail.conf":
        "[postfix-sasl]\nenabled = true\nfilter = postfix[mode=auth]\nlogpath = /var/log/mail.log\n" +
        "[sshd]\nenabled = true\nfilter = sshd\nlogpath = /var/log/auth.log\n",
    }),
    check,
  });
  deepEqual(r.imported, ["sshd"]);
  deepEqual(r.skipped, [{
    name: "postfix-sasl",
    reason: 'fail2zig config check rejects it: jails.x.mode: filter postfix has no mode "auth"',
  }]);
  match(r.toml, /^# \[jails\.postfix-sasl\]\n# not imported: fail2zig config check rejects it/m);
  parseConfig(r.toml, "x");
});

Deno.test("importFail2ban() leaves out a [DEFAULT] value the loader rejects, keeping the rest", async () => {
  const r = await translate({
    "jail.conf":
      "[DEFAULT]\nbantime = 1w\nmaxretry = 2\nbantime.increment = true\nbantime.maxtime = 1h\n" +
      "[sshd]\nenabled = true\nfilter = sshd\nlogpath = /var/log/auth.log\n",
  });
  const config = parseConfig(r.toml, "x");
  deepEqual(
    [
      config.jails[0]?.bantimeMs,
      config.jails[0]?.maxretry,
      config.jails[0]?.bantimeIncrement.maxMs,
    ],
    [7 * 86_400_000, 2, 7 * 86_400_000],
  );
  ok(
    r.warnings.some((w) =>
      /^\[DEFAULT\] left out: defaults\.bantime: bantime_increment\.max \(1h\)/.test(w)
    ),
  );
});

function loaderProblems(toml: string): string[] {
  try {
    parseConfig(toml, "x");
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.errors.map((i) => i.message);
  }
}

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("importFail2ban() quotes each failregex and ignoreregex of a filter it cannot translate, with the reason", async () => {
  const r = await translate({
    "jail.conf":
      "[DEFAULT]\nfilter = %(__name__)s\n[odd]\nenabled = true\nlogpath = /var/log/odd.log\n",
    "filter.d/odd.conf":
      "[Definition]\nfailregex = ^(?<=x)bad from <HOST>$\n  ^(\\w)\\1 from <HOST>$\nignoreregex = ^[a-z]+ ok$\n",
  });
  const lines = r.toml.split("\n");
  const at = lines.indexOf("# [jails.odd]");
  const quoted = lines.slice(at).filter((l) => l.includes("untranslated "));
  deepEqual(quoted, [
    "# note: untranslated failregex[0] of filter.d/odd.conf: '^(?<=x)bad from <HOST>$' — lookaround (?=, (?!, (?<=, (?<!)",
    "# note: untranslated failregex[1] of filter.d/odd.conf: '^(\\w)\\1 from <HOST>$' — a single \\w",
    "# note: untranslated ignoreregex[0] of filter.d/odd.conf: '^[a-z]+ ok$' — character class \"[a-z]\"",
  ]);
  deepEqual(r.skipped.map((s) => s.name), ["odd"]);
  // The one without a filter file says so instead.
  const d = await importFail2ban(`${FIXTURES}/debian`, { reader: denoFileReader() });
  equal(d.toml.includes("filter.d/apache-badbots.conf not found: no regexes to quote"), true);
});

Deno.test("importFail2ban() translates a custom filter into [filters.NAME] that matches what fail2ban's regex matches", async () => {
  const r = await translate({
    "jail.conf":
      "[DEFAULT]\nfilter = %(__name__)s\n[webapp]\nenabled = true\nlogpath = /var/log/webapp.log\n" +
      "[portal]\nenabled = true\nfilter = portal[realm=staff]\nlogpath = /var/log/portal.log\n",
    "filter.d/common.conf":
      "[DEFAULT]\n__prefix_line = \\s*(?:\\S+ )?(?:%(_daemon)s)(?:\\[\\d+\\])?: \n",
    "filter.d/webapp.conf": [
      "[INCLUDES]",
      "before = common.conf",
      "[Definition]",
      "_daemon = webapp",
      "failregex = ^%(__prefix_line)sauth(?:entication)? failure for <F-USER>\\S+</F-USER> from <HOST>(?: port \\d+)?$",
      "            ^%(__prefix_line)s(?:bad|invalid) token from <ADDR>",
      "            ^%(__prefix_line)sblocked (?=now) <HOST>$",
      "ignoreregex = ^%(__prefix_line)s.*from <HOST> \\(monitor\\)$",
    ].join("\n"),
    "filter.d/portal.conf": [
      "[Definition]",
      'failregex = ^<HOST> - \\S+ \\[.*\\] "POST /%(realm)s/login\\.php HTTP/1\\.[01]" 401',
      '            ^<HOST> - .* "POST /%(realm)s/login HTTP/\\d+\\.\\d+" 40(?:1|3)',
    ].join("\n"),
  });
  deepEqual(r.imported, ["webapp", "portal"]);
  const config = parseConfig(r.toml, "x");
  const web = config.filters.find((f) => f.name === "webapp")!;
  deepEqual(web, {
    name: "webapp",
    patterns: [
      "auth{entication|} failure for <WORD> from <HOST>{ port <NUM>|}",
      "{bad|invalid} token from <HOST>{| <*>}",
    ],
    ignorePatterns: ["<*>from <HOST> (monitor)"],
    prefix: "syslog",
  });
  ok(r.warnings.some((w) => /\[webapp\] \[filters\.webapp\] lacks failregex\[2\]/.test(w)));
  match(r.toml, /untranslated failregex\[2\] of filter\.d\/webapp\.conf: .* — lookaround/);
  match(r.toml, /fail2ban also required the program "webapp" \(_daemon\)/);
  equal(config.jails.find((j) => j.name === "webapp")?.filter, "webapp");

  // The lines fail2ban's regexes match (and its ignoreregex excludes) give the same verdicts.
  const now = Date.UTC(2026, 10, 24, 13);
  const f = compileUserFilter(web);
  const ts = "Nov 24 12:26:41 host webapp[42]: ";
  equal(
    f.match(`${ts}authentication failure for bob from 203.0.113.5 port 2222`, now)?.ip,
    "203.0.113.5",
  );
  equal(f.match(`${ts}auth failure for eve from 2001:db8::7`, now)?.ip, "2001:db8::7");
  equal(f.match(`${ts}invalid token from 198.51.100.3 (session 9)`, now)?.ip, "198.51.100.3");
  equal(f.match(`${ts}login ok for bob from 203.0.113.5`, now), null);
  equal(f.match(`${ts}auth failure for bob from 203.0.113.5 (monitor)`, now), null);

  // No __prefix_line, a %(realm)s filter option, anchored at the start: prefix "none".
  const portal = config.filters.find((f) => f.name === "portal")!;
  equal(portal.prefix, "none");
  deepEqual(portal.patterns.length, 1, r.toml);
  const p = compileUserFilter(portal);
  const line =
    '192.0.2.9 - alice [24/Nov/2026:12:26:41 +0000] "POST /staff/login HTTP/2.0" 403 512';
  match(
    r.toml,
    /untranslated failregex\[0\] of filter\.d\/portal\.conf: .* — character class "\[01\]"/,
  );
  equal(p.match(line, now)?.ip, "192.0.2.9");
  equal(p.match(line.replace(" 403 ", " 401 "), now)?.ip, "192.0.2.9");
  equal(p.match(line.replace(" 403 ", " 200 "), now), null);
  equal(p.match(line.replace("/staff/", "/guest/"), now), null);
});

Deno.test("importFail2ban() carries a banaction's port and protocol over as the jail's", async () => {
  const jail = (name: string, action: string, extra = "") =>
    `[${name}]\nenabled = true\nfilter = sshd\nlogpath = /var/log/auth.log\naction = ${action}\n${extra}`;
  const r = await translate({
    "jail.conf": [
      jail("a", 'iptables-multiport[port="ssh,2222,8000:8100", protocol="tcp"]'),
      jail("b", 'nftables[type=multiport, port="53", protocol="udp"]'),
      jail("c", "iptables-allports[protocol=tcp]"),
      jail("d", 'nftables[type=allports, port="ssh"]'),
      jail("e", 'iptables[port="0:65535", protocol="all"]'),
      jail("f", 'iptables[port="ssh,gopher"]'),
      jail("g", 'iptables[port="1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16"]'),
      jail("h", 'iptables[port="ssh", protocol="icmp"]'),
    ].join(""),
  });
  const config = parseConfig(r.toml, "x");
  deepEqual(config.jails.map((j) => [j.name, j.scope?.id ?? "all"]), [
    ["a", "tcp.22_2222_8000-8100"],
    ["b", "udp.53"],
    ["c", "all"],
    ["d", "all"],
    ["e", "all"],
    ["f", "all"],
    ["g", "all"],
    ["h", "all"],
  ]);
  match(r.toml, /^port = \["ssh", 2222, "8000:8100"\]$/m);
  ok(r.warnings.some((w) => w.startsWith('[f] port "gopher" of iptables: unknown service name')));
  ok(r.warnings.some((w) => /^\[g\] 16 ports of iptables: fail2zig takes at most 15/.test(w)));
  ok(r.warnings.some((w) => w.startsWith('[h] protocol "icmp" of iptables')));
});

Deno.test("importFail2ban() maps mail actions to one smtp action and custom action.d commands to exec where faithful", async () => {
  const r = await translate({
    "jail.conf": [
      "[DEFAULT]\nfilter = sshd\nlogpath = /var/log/auth.log\nenabled = true\n",
      '[a]\naction = iptables[port=ssh]\n  sendmail-whois[dest="sec@example.org", sender="f2b@host.example"]\n',
      '[b]\naction = mail[dest="sec@example.org", sender="f2b@host.example"]\n  notify[topic=ops]\n',
      "[c]\naction = started\n  piped\n  relative\n  gone\n  jailtag\n",
      '[d]\naction = sendmail[dest="not an address"]\n',
    ].join(""),
    "action.d/notify.conf":
      "[Definition]\nactionban = /usr/bin/notify-send --topic <topic> <ip> <name>\n[Init]\ntopic = x\ntimeout = 5\n",
    "action.d/started.conf": "[Definition]\nactionstart = /bin/true\nactionban = /bin/true <ip>\n",
    "action.d/piped.conf": "[Definition]\nactionban = /bin/echo <ip> | /usr/bin/logger\n",
    "action.d/relative.conf": "[Definition]\nactionban = logger <ip>\n",
    "action.d/jailtag.conf": "[Definition]\nactionban = /bin/echo --ip=<ip>\n",
  });
  const config = parseConfig(r.toml, "x");
  deepEqual(
    config.actions.map((a) =>
      a.type === "smtp" ? [a.name, a.from, a.to] : [a.name, a.onBan, a.timeoutMs]
    ),
    [
      ["mail", "f2b@host.example", ["sec@example.org"]],
      ["notify", ["/usr/bin/notify-send", "--topic", "ops", "{ip}", "{jail}"], 5000],
    ],
  );
  deepEqual(config.jails.map((j) => [j.name, j.actions]), [
    ["a", ["mail"]],
    ["b", ["mail", "notify"]],
    ["c", []],
    ["d", []],
  ]);
  const dropped = r.warnings.filter((w) => w.includes("not imported: action"));
  deepEqual(dropped, [
    "[c] not imported: action started (action.d/started.conf): actionstart is not empty (fail2zig runs commands on ban and unban only)",
    "[c] not imported: action piped (action.d/piped.conf): actionban: needs a shell (fail2zig runs an argv, no shell): |",
    '[c] not imported: action relative (action.d/relative.conf): actionban: program "logger" is not an absolute path',
    "[c] not imported: action gone (action.d/gone.conf): file not found",
    '[c] not imported: action jailtag (action.d/jailtag.conf): <ip> inside "--ip=<ip>": fail2zig substitutes whole arguments only',
    '[d] not imported: action sendmail: "not" is not a plain mail address',
  ]);
  match(r.toml, /^# not imported: action gone \(action\.d\/gone\.conf\): file not found$/m);
});
