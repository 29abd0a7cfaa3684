import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { ConfigError, parseConfig } from "./mod.ts";

/** Errors of `text` as `LINE:COL: message` (the path is always "c.toml" here). */
function errorsOf(text: string): string[] {
  try {
    parseConfig(text, "c.toml");
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const err of e.errors) equal(err.path, "c.toml");
      return e.errors.map((x) => `${x.line}:${x.column}: ${x.message}`);
    }
    throw e;
  }
  return [];
}

/** [what is wrong, config text, every expected error]. */
const MALFORMED: [string, string, string[]][] = [
  [
    "a TOML syntax error (unterminated string)",
    '[jails.sshd]\nfilter = "sshd\nlogpath = "/var/log/auth.log"\n',
    ["2:15: invalid TOML: control characters are not allowed in strings"],
  ],
  [
    "a duplicate key in a jail",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nfilter = "sshd"\n',
    ["4:1: duplicate key jails.sshd.filter (first defined at 2:1)"],
  ],
  [
    "a duplicate table",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\n\n[jails.sshd]\nmaxretry = 3\n',
    ["5:8: duplicate table [jails.sshd] (first defined at 1:8)"],
  ],
  [
    "a header repeating a table made by dotted keys",
    '[jails]\nsshd.filter = "sshd"\nsshd.logpath = "/x"\n[jails.sshd]\n',
    ["4:8: duplicate key: [jails.sshd] redefines a table defined by dotted keys at 2:1"],
  ],
  [
    "a dotted key extending a table made by a header",
    '[jails.sshd]\nfilter = "sshd"\n[jails]\nsshd.logpath = "/x"\n',
    ["4:1: duplicate key: jails.sshd extends a table defined at 1:8 with a dotted key"],
  ],
  [
    "a duplicate key inside an inline table",
    "[defaults]\nbantime_increment = { enabled = true, enabled = false }\n",
    ["2:39: duplicate key defaults.bantime_increment.enabled (first defined at 2:23)"],
  ],
  [
    "every duplicate in the file",
    '[global]\nlog_level = "info"\nlog_level = "debug"\n[defaults]\nmaxretry = 3\nmaxretry = 4\n',
    [
      "3:1: duplicate key global.log_level (first defined at 2:1)",
      "6:1: duplicate key defaults.maxretry (first defined at 5:1)",
    ],
  ],
  [
    "an unknown top-level table",
    '[jail.sshd]\nfilter = "sshd"\n',
    ["1:2: jail: unknown table; did you mean jails?"],
  ],
  [
    "a jail key at the top level",
    'bantime = "1h"\n',
    ["1:1: bantime: unknown key (bantime belongs in [defaults] or [jails.NAME])"],
  ],
  [
    "[global] that is not a table",
    "global = 1\n",
    ["1:10: global: expected a table, found integer 1"],
  ],
  [
    "a misspelt [global] key",
    '[global]\nlog_levle = "debug"\n',
    ["2:1: global.log_levle: unknown key; did you mean log_level?"],
  ],
  [
    "a relative socket_path",
    '[global]\nsocket_path = "run/fail2zig.sock"\n',
    ['2:15: global.socket_path: expected an absolute path (starting with /), found "run/fail2zig.sock"'],
  ],
  [
    "a socket_path longer than sun_path",
    '[global]\nsocket_path = "/ssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss"\n',
    ["2:15: global.socket_path: path is 111 bytes long; at most 107 are allowed"],
  ],
  [
    "an audit_log that is not a string",
    "[global]\naudit_log = false\n",
    ["2:13: global.audit_log: expected a string, found boolean false"],
  ],
  [
    "an IPv6 metrics_bind without brackets",
    '[global]\nmetrics_bind = "::1:9100"\n',
    ['2:16: global.metrics_bind: expected "host:port" such as "127.0.0.1:9191" or "[::1]:9191", or "" to disable, found "::1:9100" (an IPv6 address needs brackets: [::1]:9191)'],
  ],
  [
    "a DNS name in metrics_bind",
    '[global]\nmetrics_bind = "localhost:9100"\n',
    ['2:16: global.metrics_bind: expected an IPv4 address, found "localhost" (DNS names are not allowed)'],
  ],
  [
    "a metrics_bind port out of range",
    '[global]\nmetrics_bind = "127.0.0.1:70000"\n',
    ["2:16: global.metrics_bind: port must be between 1 and 65535, found 70000"],
  ],
  [
    "a metrics_bind without a port",
    '[global]\nmetrics_bind = "127.0.0.1"\n',
    ['2:16: global.metrics_bind: expected "host:port" such as "127.0.0.1:9191" or "[::1]:9191", or "" to disable, found "127.0.0.1"'],
  ],
  [
    "an unknown log_level",
    '[global]\nlog_level = "verbose"\n',
    ['2:13: global.log_level: expected one of "debug", "info", "warn", "error", found string "verbose"'],
  ],
  [
    "a misspelt firewall",
    '[global]\nfirewall = "nftable"\n',
    ['2:12: global.firewall: expected one of "auto", "nftables", "iptables", "ipset", "log-only", found string "nftable"; did you mean "nftables"?'],
  ],
  [
    "an unknown on_no_backend",
    '[global]\non_no_backend = "ignore"\n',
    ['2:17: global.on_no_backend: expected one of "fail-closed", "log-only", found string "ignore"'],
  ],
  [
    "an unknown seccomp mode",
    '[global]\nseccomp = "strict"\n',
    ['2:11: global.seccomp: expected one of "enforce", "log", "off", found string "strict"'],
  ],
  [
    "a seccomp mode that is not a string",
    "[global]\nseccomp = true\n",
    ['2:11: global.seccomp: expected one of "enforce", "log", "off", found boolean true'],
  ],
  [
    "memory_ceiling_mb below the runtime's need",
    "[global]\nmemory_ceiling_mb = 32\n",
    [
      "2:21: global.memory_ceiling_mb: must be at least 88 (the runtime with its parser Worker peaks at about 86 MiB before the address table), found 32",
    ],
  ],
  [
    "memory_ceiling_mb above the maximum",
    "[global]\nmemory_ceiling_mb = 100000\n",
    ["2:21: global.memory_ceiling_mb: must be between 88 and 65536, found 100000"],
  ],
  [
    "memory_ceiling_mb as a string",
    '[global]\nmemory_ceiling_mb = "96"\n',
    ['2:21: global.memory_ceiling_mb: expected an integer, found string "96"'],
  ],
  [
    "an unknown eviction policy",
    '[global]\neviction = "drop-oldest"\n',
    ['2:12: global.eviction: expected one of "evict-oldest", "deny-new", "log-and-drop", found string "drop-oldest"'],
  ],
  [
    "line_max_bytes below 256",
    "[global]\nline_max_bytes = 100\n",
    ["2:18: global.line_max_bytes: must be between 256 and 65536, found 100"],
  ],
  [
    "save_interval below 10ms",
    '[global]\nsave_interval = "5ms"\n',
    ["2:17: global.save_interval: must be between 10ms and 1h, found 5ms"],
  ],
  [
    "a fractional duration",
    '[global]\nsave_interval = "1.5s"\n',
    ['2:17: global.save_interval: bad duration "1.5s": fractions are not allowed; use smaller units such as "1m30s"'],
  ],
  [
    "a sub-second bantime",
    '[defaults]\nbantime = "100ms"\n',
    ['2:11: defaults.bantime: bad duration "100ms": sub-second units (ms) are not allowed here'],
  ],
  [
    "findtime above one week",
    '[defaults]\nfindtime = "2w"\n',
    ["2:12: defaults.findtime: must be between 1s and 1w, found 2w"],
  ],
  [
    "maxretry 0",
    "[defaults]\nmaxretry = 0\n",
    ["2:12: defaults.maxretry: must be between 1 and 1000, found 0"],
  ],
  [
    "a CIDR prefix too long",
    '[defaults]\nignoreip = ["127.0.0.0/8", "10.0.0.0/33"]\n',
    ['2:28: defaults.ignoreip[1]: expected a prefix length 0..32 after "/", found "33"'],
  ],
  [
    "a CIDR with host bits set",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nignoreip = ["10.1.2.3/8"]\n',
    [
      '4:13: jails.sshd.ignoreip[0]: expected the network address of "10.1.2.3/8" with host bits clear, found 10.1.2.3; the network is 10.0.0.0/8',
    ],
  ],
  [
    "a DNS name in ignoreip",
    '[defaults]\nignoreip = [\n  "::1",\n  "gw.example.com",\n]\n',
    [
      '4:3: defaults.ignoreip[1]: expected an IP address or CIDR such as "192.0.2.0/24" or "2001:db8::/32", found "gw.example.com" (DNS names are not allowed)',
    ],
  ],
  [
    "ignoreip as a single string",
    '[defaults]\nignoreip = "127.0.0.1"\n',
    ['2:12: defaults.ignoreip: expected an array of strings, found string "127.0.0.1"'],
  ],
  [
    "ipv6_prefix below 16",
    "[defaults]\nipv6_prefix = 8\n",
    ["2:15: defaults.ipv6_prefix: must be between 16 and 128, found 8"],
  ],
  [
    "a jail-only key in [defaults]",
    '[defaults]\nlogpath = "/var/log/auth.log"\n',
    ["2:1: defaults.logpath: unknown key (logpath belongs in [jails.NAME])"],
  ],
  [
    "a misspelt bantime_increment key",
    '[defaults.bantime_increment]\nenabled = true\nmaxx = "1w"\n',
    ["3:1: defaults.bantime_increment.maxx: unknown key; did you mean max?"],
  ],
  [
    "bantime_increment.factor 0",
    "[defaults.bantime_increment]\nfactor = 0\n",
    ["2:10: defaults.bantime_increment.factor: must be greater than 0 and at most 1000, found 0"],
  ],
  [
    "an unknown bantime_increment.formula",
    '[defaults.bantime_increment]\nformula = "quadratic"\n',
    ['2:11: defaults.bantime_increment.formula: expected one of "linear", "exponential", found string "quadratic"'],
  ],
  [
    "bantime_increment.max shorter than bantime",
    '[defaults]\nbantime = "1d"\n[defaults.bantime_increment]\nenabled = true\nmax = "1h"\n',
    ["2:11: defaults.bantime: bantime_increment.max (1h) is shorter than bantime (1d)"],
  ],
  [
    "bantime_increment.jitter permanent",
    '[defaults.bantime_increment]\njitter = "permanent"\n',
    ['2:10: defaults.bantime_increment.jitter: bad duration "permanent": "permanent" is only allowed for bantime'],
  ],
  [
    "a misspelt bantime in a jail",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/var/log/auth.log"\nbantme = "1h"\n',
    ["4:1: jails.sshd.bantme: unknown key; did you mean bantime?"],
  ],
  [
    "a duration missing its last unit",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nbantime = "1h30"\n',
    ['4:11: jails.sshd.bantime: bad duration "1h30": missing unit after 30 (use s, m, h, d or w)'],
  ],
  [
    "bantime 0",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nbantime = 0\n',
    ["4:11: jails.sshd.bantime: must be at least 1s, found 0s"],
  ],
  [
    "a negative bantime",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nbantime = -5\n',
    ["4:11: jails.sshd.bantime: a duration must not be negative, found -5"],
  ],
  [
    "a float bantime",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nbantime = 1.5\n',
    ['4:11: jails.sshd.bantime: expected a duration (whole seconds or a string such as "1h30m"), found float 1.5'],
  ],
  [
    "findtime permanent",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nfindtime = "permanent"\n',
    ['4:12: jails.sshd.findtime: bad duration "permanent": "permanent" is only allowed for bantime'],
  ],
  [
    "units in the wrong order",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nfindtime = "30m1h"\n',
    ['4:12: jails.sshd.findtime: bad duration "30m1h": units must go from largest to smallest, each at most once'],
  ],
  [
    "an unknown unit",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nbantime = "5y"\n',
    ["4:11: jails.sshd.bantime: bad duration \"5y\": unknown unit 'y' (use s, m, h, d or w)"],
  ],
  [
    "maxretry written as a float",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nmaxretry = 5.0\n',
    ["4:12: jails.sshd.maxretry: expected an integer, found float 5.0"],
  ],
  [
    "maxretry as a string",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nmaxretry = "5"\n',
    ['4:12: jails.sshd.maxretry: expected an integer, found string "5"'],
  ],
  [
    "enabled as a string",
    '[jails.sshd]\nenabled = "yes"\nfilter = "sshd"\nlogpath = "/x"\n',
    ['2:11: jails.sshd.enabled: expected true or false, found string "yes"'],
  ],
  [
    "a jail without a filter",
    '[jails.sshd]\nlogpath = "/var/log/auth.log"\n',
    ["1:8: jails.sshd: missing required key filter"],
  ],
  [
    "an unknown filter",
    '[jails.sshd]\nfilter = "sshdd"\nlogpath = "/x"\n',
    ['2:10: jails.sshd.filter: unknown filter "sshdd"; did you mean "sshd"?'],
  ],
  [
    "an unknown mode",
    '[jails.sshd]\nfilter = "sshd"\nmode = "aggresive"\nlogpath = "/x"\n',
    ['3:8: jails.sshd.mode: filter sshd has no mode "aggresive"; expected one of "normal", "ddos", "extra", "aggressive"'],
  ],
  [
    "an unknown source",
    '[jails.sshd]\nfilter = "sshd"\nsource = "syslog"\n',
    ['3:10: jails.sshd.source: expected one of "file", "journald", "bans", found string "syslog"'],
  ],
  [
    "a file jail without logpath",
    '[jails.sshd]\nfilter = "sshd"\n',
    ['1:8: jails.sshd: missing required key logpath (source = "file" reads log files)'],
  ],
  [
    "a relative path in logpath",
    '[jails.web]\nfilter = "nginx-http-auth"\nlogpath = ["/var/log/nginx/error.log", "nginx/*.log"]\n',
    ['3:40: jails.web.logpath[1]: expected an absolute path (starting with /), found "nginx/*.log"'],
  ],
  [
    "an empty logpath",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = []\n',
    ["3:11: jails.sshd.logpath: must not be empty"],
  ],
  [
    "a journald jail without journal_match",
    '[jails.sshd]\nfilter = "sshd"\nsource = "journald"\n',
    ['1:8: jails.sshd: missing required key journal_match (source = "journald" needs FIELD=value matches)'],
  ],
  [
    "a journald jail with logpath",
    '[jails.sshd]\nfilter = "sshd"\nsource = "journald"\njournal_match = ["_SYSTEMD_UNIT=ssh.service"]\nlogpath = "/var/log/auth.log"\n',
    ['5:1: jails.sshd.logpath: not used with source = "journald"; remove it'],
  ],
  [
    "a lower-case journal_match field",
    '[jails.sshd]\nfilter = "sshd"\nsource = "journald"\njournal_match = ["_SYSTEMD_UNIT=ssh.service", "unit=ssh"]\n',
    ['4:47: jails.sshd.journal_match[1]: expected FIELD=value with an upper-case field name such as "_SYSTEMD_UNIT=ssh.service", found "unit=ssh"'],
  ],
  [
    "a bans jail with a filter",
    '[jails.recidive]\nsource = "bans"\nfilter = "recidive"\n',
    ['3:1: jails.recidive.filter: not used with source = "bans"; remove it'],
  ],
  [
    "an unknown read_from",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nread_from = "beginning"\n',
    ['4:13: jails.sshd.read_from: expected one of "end", "start", found string "beginning"'],
  ],
  [
    "a bad jail name",
    '[jails."ssh d"]\nfilter = "sshd"\nlogpath = "/x"\n',
    ['1:8: jails."ssh d": bad jail name: expected 1 to 24 letters, digits, "-" or "_" starting with a letter or digit, found "ssh d"'],
  ],
  [
    "a jail that is not a table",
    "[jails]\nsshd = 5\n",
    ["2:8: jails.sshd: expected a table, found integer 5"],
  ],
  [
    "a user filter without patterns",
    '[filters.myapp]\nprefix = "none"\n',
    ["1:10: filters.myapp: missing required key patterns"],
  ],
  [
    "a user filter pattern that is not a string",
    '[filters.myapp]\npatterns = ["auth failure from <HOST>", 42]\n',
    ["2:41: filters.myapp.patterns[1]: expected a string, found integer 42"],
  ],
  [
    "a user filter shadowing a built-in",
    '[filters.sshd]\npatterns = ["x <HOST>"]\n',
    ["1:10: filters.sshd: a user filter must not shadow the built-in filter sshd; rename it"],
  ],
  [
    "an unknown user filter prefix",
    '[filters.myapp]\npatterns = ["x <HOST>"]\nprefix = "rfc5424"\n',
    ['3:10: filters.myapp.prefix: expected one of "syslog", "none", found string "rfc5424"'],
  ],
  [
    "several problems in one file",
    '[global]\nlog_level = "loud"\n\n[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nmaxretry = 0\nbantime = "1h30"\n',
    [
      '2:13: global.log_level: expected one of "debug", "info", "warn", "error", found string "loud"',
      "7:12: jails.sshd.maxretry: must be between 1 and 1000, found 0",
      '8:11: jails.sshd.bantime: bad duration "1h30": missing unit after 30 (use s, m, h, d or w)',
    ],
  ],
  [
    "a typo in a file with CRLF line ends and a tab",
    '[jails.sshd]\r\nfilter = "sshd"\r\nlogpath = "/x"\r\n\tbantme = 1\r\n',
    ["4:2: jails.sshd.bantme: unknown key; did you mean bantime?"],
  ],
  [
    "jails written as an array of tables",
    '[[jails]]\nfilter = "sshd"\n',
    ["1:3: jails: expected a table, found an array"],
  ],
  [
    "a misspelt key inside an inline table",
    '[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\nbantime_increment = { enabled = true, factr = 2 }\n',
    ["4:39: jails.sshd.bantime_increment.factr: unknown key; did you mean factor?"],
  ],
  [
    "an integer key written in float notation",
    "[global]\nline_max_bytes = 4096 # ok\nmemory_ceiling_mb = 1e2\n",
    ["3:21: global.memory_ceiling_mb: expected an integer, found float 1e2"],
  ],
  [
    "user filter patterns that do not compile, at their column inside the TOML string",
    `[filters.myapp]
patterns = [
  "auth failure from <HOST>",
  "bad \\"user\\" <USR> from <HOST>",
  'no host here',
]
ignore_patterns = ["from <HOST> {a|b"]
[jails.app]
filter = "myapp"
logpath = "/var/log/app.log"
`,
    [
      "4:17: filters.myapp.patterns[1]: expected one of <HOST> <ADDR> <*> <NUM> <HEX> <NAME> <HOSTNAME> <SID> <WORD> <USER>, found <USR>",
      "5:15: filters.myapp.patterns[2]: expected exactly one <HOST> (or <ADDR>) for the source address, found none",
      "7:33: filters.myapp.ignore_patterns[0]: expected '}' to close this '{', found the end",
    ],
  ],
  [
    "a bad pattern in a multi-line string",
    '[filters.x]\npatterns = ["""\nmulti <HOST> <BAD>"""]\n',
    [
      "3:14: filters.x.patterns[0]: expected one of <HOST> <ADDR> <*> <NUM> <HEX> <NAME> <HOSTNAME> <SID> <WORD> <USER>, found <BAD>",
    ],
  ],
  [
    "two adjacent wildcards in a pattern",
    '[filters.x]\npatterns = ["<HOST> <*><*> x"]\n',
    ["2:24: filters.x.patterns[0]: expected text or a token between two <*>, found <*><*>"],
  ],
  [
    "a duplicate key together with other mistakes (all reported)",
    '[global]\nlog_level = "info"\nlog_level = [\n  "debug",\n]\nfirewall = "nft"\n',
    [
      "3:1: duplicate key global.log_level (first defined at 2:1)",
      '6:12: global.firewall: expected one of "auto", "nftables", "iptables", "ipset", "log-only", found string "nft"',
    ],
  ],
];

for (const [what, text, expected] of MALFORMED) {
  Deno.test(`parseConfig() rejects ${what} with its line, column and message`, () => {
    ok(expected.length > 0);
    deepEqual(errorsOf(text), expected);
  });
}

Deno.test("the malformed-config table has at least 40 distinct configs", () => {
  ok(new Set(MALFORMED.map(([, text]) => text)).size >= 40);
});

Deno.test("ConfigError.toString() prints one PATH:LINE:COL: message per line", () => {
  const text = '[global]\nlog_level = "x"\nfirewall = 1\n';
  throws(() => parseConfig(text, "/etc/f.toml"), (err: unknown) => {
    ok(err instanceof ConfigError);
    equal(
      err.toString(),
      '/etc/f.toml:2:13: global.log_level: expected one of "debug", "info", "warn", "error", found string "x"\n' +
        '/etc/f.toml:3:12: global.firewall: expected one of "auto", "nftables", "iptables", "ipset", "log-only", found integer 1',
    );
    return true;
  });
});

Deno.test("parseConfig() counts columns in characters, not UTF-16 units", () => {
  deepEqual(errorsOf('[jails.a]\nfilter = "sshd"\nlogpath = ["/😀", "rel"]\n'), [
    '3:18: jails.a.logpath[1]: expected an absolute path (starting with /), found "rel"',
  ]);
});

// ---- valid configs ----

const SSHD = '[jails.sshd]\nfilter = "sshd"\nlogpath = "/var/log/auth.log"\n';

function isDeepFrozen(v: unknown): boolean {
  if (typeof v !== "object" || v === null) return true;
  return Object.isFrozen(v) && Object.values(v).every(isDeepFrozen);
}

Deno.test("parseConfig() accepts an empty config: documented defaults, no jails", () => {
  const config = parseConfig("", "/etc/fail2zig/config.toml");
  deepEqual(config, {
    path: "/etc/fail2zig/config.toml",
    global: {
      socketPath: "/run/fail2zig/fail2zig.sock",
      stateFile: "/var/lib/fail2zig/state.bin",
      auditLog: "/var/lib/fail2zig/audit.log",
      auditMaxMb: 0,
      journalDirectory: "",
      metricsBind: { hostname: "127.0.0.1", port: 9191 },
      logLevel: "info",
      firewall: "auto",
      onNoBackend: "fail-closed",
      seccomp: "enforce",
      memoryCeilingMb: 128,
      eviction: "evict-oldest",
      lineMaxBytes: 4096,
      saveIntervalMs: 100,
    },
    jails: [],
    filters: [],
    fleet: null,
    actions: [],
  });
});

Deno.test("parseConfig() returns a deeply frozen config", () => {
  const config = parseConfig(SSHD, "c.toml");
  ok(isDeepFrozen(config));
  throws(() => {
    (config.jails[0] as { maxretry: number }).maxretry = 1;
  }, TypeError);
  throws(() => {
    (config.jails[0]!.ignoreip as string[]).push("0.0.0.0/0");
  }, TypeError);
});

Deno.test("a jail gets the documented defaults when neither it nor [defaults] sets a key", () => {
  deepEqual(parseConfig(SSHD, "c.toml").jails, [{
    name: "sshd",
    enabled: true,
    filter: "sshd",
    mode: "normal",
    source: "file",
    logpath: ["/var/log/auth.log"],
    readFrom: "end",
    journalMatch: [],
    bantimeMs: 600_000,
    findtimeMs: 600_000,
    maxretry: 5,
    ignoreip: ["127.0.0.0/8", "::1"],
    ipv6Prefix: 128,
    ignoreself: true,
    missingLogpath: "error",
    scope: null,
    actions: [],
    bantimeIncrement: {
      enabled: false,
      formula: "exponential",
      factor: 2,
      maxMs: 604_800_000,
      jitterMs: 0,
      overall: false,
    },
  }]);
});

Deno.test("[defaults] apply to every jail; a jail's own keys win and its ignoreip replaces", () => {
  const config = parseConfig(
    `[defaults]
bantime = "2h"
maxretry = 4
ignoreip = ["10.0.0.0/8"]
[defaults.bantime_increment]
enabled = true
factor = 3
[jails.a]
filter = "sshd"
logpath = "/a"
ignoreip = ["192.0.2.1"]
bantime_increment = { formula = "linear" }
[jails.b]
filter = "sshd"
logpath = "/b"
maxretry = 9
ignoreip = []
`,
    "c.toml",
  );
  const [a, b] = config.jails;
  equal(a!.bantimeMs, 7_200_000);
  equal(a!.maxretry, 4);
  deepEqual(a!.ignoreip, ["192.0.2.1"]);
  deepEqual(a!.bantimeIncrement, {
    enabled: true,
    formula: "linear",
    factor: 3,
    maxMs: 604_800_000,
    jitterMs: 0,
    overall: false,
  });
  equal(b!.maxretry, 9);
  deepEqual(b!.ignoreip, []);
  equal(b!.bantimeIncrement.formula, "exponential");
});

Deno.test("durations compile to milliseconds: strings, integer seconds, permanent", () => {
  const config = parseConfig(
    `[global]
save_interval = "1s250ms"
[jails.a]
filter = "sshd"
logpath = "/a"
bantime = "1h30m"
findtime = 90
[jails.b]
filter = "sshd"
logpath = "/b"
bantime = "permanent"
findtime = "1w"
bantime_increment = { max = "2w1d", jitter = 0 }
`,
    "c.toml",
  );
  equal(config.global.saveIntervalMs, 1250);
  equal(config.jails[0]!.bantimeMs, 5_400_000);
  equal(config.jails[0]!.findtimeMs, 90_000);
  equal(config.jails[1]!.bantimeMs, null);
  equal(config.jails[1]!.findtimeMs, 604_800_000);
  equal(config.jails[1]!.bantimeIncrement.maxMs, 15 * 86_400_000);
});

Deno.test("a recidive jail with source bans gets its own defaults unless it sets them", () => {
  const config = parseConfig(
    `[defaults]
bantime = "1h"
findtime = "5m"
maxretry = 3
[jails.recidive]
source = "bans"
[jails.r2]
source = "bans"
`,
    "c.toml",
  );
  const [recidive, other] = config.jails;
  deepEqual(
    [recidive!.bantimeMs, recidive!.findtimeMs, recidive!.maxretry, recidive!.filter],
    [604_800_000, 86_400_000, 5, ""],
  );
  deepEqual([other!.bantimeMs, other!.findtimeMs, other!.maxretry], [3_600_000, 300_000, 3]);
  const own = parseConfig('[jails.recidive]\nsource = "bans"\nmaxretry = 2\n', "c.toml");
  deepEqual([own.jails[0]!.maxretry, own.jails[0]!.bantimeMs], [2, 604_800_000]);
});

Deno.test("metrics_bind accepts host:port, [v6]:port and the empty string", () => {
  const bind = (s: string) =>
    parseConfig(`[global]\nmetrics_bind = ${JSON.stringify(s)}\n`, "c.toml").global.metricsBind;
  deepEqual(bind("0.0.0.0:9100"), { hostname: "0.0.0.0", port: 9100 });
  deepEqual(bind("[::1]:9200"), { hostname: "::1", port: 9200 });
  deepEqual(bind("[2001:DB8::0001]:1"), { hostname: "2001:db8::1", port: 1 });
  equal(bind(""), null);
});

Deno.test("ignoreip entries are canonicalised; a bare address stays bare", () => {
  const config = parseConfig(
    SSHD + 'ignoreip = ["2001:DB8::/32", "::0001", "::ffff:192.0.2.1", "192.0.2.0/24"]\n',
    "c.toml",
  );
  deepEqual(config.jails[0]!.ignoreip, ["2001:db8::/32", "::1", "192.0.2.1", "192.0.2.0/24"]);
});

Deno.test("jails keep file order, even names that look like numbers", () => {
  const config = parseConfig(
    '[jails.b]\nsource = "bans"\n[jails.10]\nsource = "bans"\n[jails.a]\nsource = "bans"\n',
    "c.toml",
  );
  deepEqual(config.jails.map((j) => j.name), ["b", "10", "a"]);
});

Deno.test("a disabled jail is still validated and counted", () => {
  const config = parseConfig(SSHD + "enabled = false\n", "c.toml");
  equal(config.jails.length, 1);
  equal(config.jails[0]!.enabled, false);
  deepEqual(errorsOf('[jails.x]\nenabled = false\nfilter = "nope"\nlogpath = "/x"\n'), [
    '3:10: jails.x.filter: unknown filter "nope" (built-in: sshd, nginx-http-auth, nginx-limit-req, nginx-botsearch, postfix, dovecot, proftpd, vsftpd, apache-auth, recidive; or define [filters.nope])',
  ]);
});

Deno.test("the example config shows every key and compiles to the values it documents", async () => {
  const path = new URL("../../fixtures/config/example.toml", import.meta.url);
  const text = await Deno.readTextFile(path);
  const config = parseConfig(text, "example.toml");
  deepEqual(config.global, {
    socketPath: "/run/fail2zig/fail2zig.sock",
    stateFile: "/var/lib/fail2zig/state.bin",
    auditLog: "/var/lib/fail2zig/audit.log",
    auditMaxMb: 0,
    journalDirectory: "",
    metricsBind: { hostname: "::1", port: 9191 },
    logLevel: "info",
    firewall: "auto",
    onNoBackend: "fail-closed",
    seccomp: "enforce",
    memoryCeilingMb: 160,
    eviction: "evict-oldest",
    lineMaxBytes: 4096,
    saveIntervalMs: 250,
  });
  deepEqual(config.jails.map((j) => [j.name, j.enabled, j.source, j.filter, j.mode]), [
    ["sshd", true, "file", "sshd", "aggressive"],
    ["postfix", true, "journald", "postfix", "normal"],
    ["myapp", false, "file", "myapp", "normal"],
    ["recidive", true, "bans", "", ""],
    ["fleet", true, "fleet", "", ""],
  ]);
  const [sshd, postfix, myapp, recidive] = config.jails;
  deepEqual(sshd!.logpath, ["/var/log/auth.log", "/var/log/secure*"]);
  deepEqual(config.jails.map((j) => j.missingLogpath), [
    "warn",
    "error",
    "error",
    "error",
    "error",
  ]);
  deepEqual([sshd!.bantimeMs, sshd!.findtimeMs, sshd!.maxretry, sshd!.ipv6Prefix], [
    3_600_000,
    600_000,
    3,
    64,
  ]);
  deepEqual(sshd!.ignoreip, ["127.0.0.0/8", "::1", "192.0.2.0/24"]);
  deepEqual(config.jails.map((j) => j.scope?.id ?? null), ["tcp.22_2222", null, null, null, null]);
  equal(sshd!.ignoreself, true);
  deepEqual(sshd!.bantimeIncrement, {
    enabled: true,
    formula: "exponential",
    factor: 2,
    maxMs: 604_800_000,
    jitterMs: 30_000,
    overall: false,
  });
  deepEqual(postfix!.journalMatch, [
    "_SYSTEMD_UNIT=postfix@-.service",
    "SYSLOG_IDENTIFIER=postfix/smtpd",
  ]);
  deepEqual(postfix!.ignoreip, ["10.0.0.0/8"]);
  deepEqual([postfix!.bantimeIncrement.formula, postfix!.bantimeIncrement.factor], ["linear", 1]);
  equal(myapp!.bantimeMs, 600_000);
  deepEqual([recidive!.bantimeMs, recidive!.findtimeMs, recidive!.maxretry], [
    null,
    86_400_000,
    5,
  ]);
  deepEqual(config.filters, [{
    name: "myapp",
    patterns: ["login failed for user <USER> from <HOST>"],
    ignorePatterns: ["from <HOST> \\(health check\\)"],
    prefix: "syslog",
  }]);
  // Every documented key appears in the example.
  const docs = await Deno.readTextFile(new URL("../../docs/interfaces.md", import.meta.url));
  const keys = [...docs.matchAll(/^\| [a-z_.A-Z, ]+\| `([a-z_]+)`/gm)].map((m) => m[1]!);
  ok(keys.length >= 30, `found only ${keys.length} keys in docs/interfaces.md`);
  // [fleet] takes one way of authenticating: the others are shown commented out.
  const alternatives = ["user", "password", "token"];
  for (const key of keys) {
    const lead = alternatives.includes(key) ? "(?:# )?" : "";
    ok(new RegExp(`^${lead}\\[?[a-z.]*${key}\\b`, "m").test(text), key);
  }
});

Deno.test("ignoreself is on by default, set in [defaults] or per jail, and a boolean", () => {
  const config = parseConfig(
    `[defaults]
ignoreself = false
[jails.a]
filter = "sshd"
logpath = "/a"
[jails.b]
filter = "sshd"
logpath = "/b"
ignoreself = true
`,
    "c.toml",
  );
  deepEqual(config.jails.map((j) => j.ignoreself), [false, true]);
  equal(
    parseConfig(`[jails.a]\nfilter = "sshd"\nlogpath = "/a"\n`, "c.toml").jails[0]!.ignoreself,
    true,
  );
  const errors = errorsOf(`[jails.a]\nfilter = "sshd"\nlogpath = "/a"\nignoreself = "no"\n`);
  equal(errors.length, 1);
  ok(errors[0]!.includes("jails.a.ignoreself"), errors[0]);
  deepEqual(errorsOf(`[global]\nignoreself = false\n`).length, 1, "a jail key, not [global]'s");
});

Deno.test("[actions.NAME] compiles exec and smtp actions with their defaults; jails refer to them", () => {
  const config = parseConfig(
    `[actions.report]
type = "exec"
on_ban = ["/usr/local/bin/report", "--ip", "{ip}", "{jail}", "{duration_s}", "{origin}"]
timeout = "2s"
queue = 10
[actions.mail]
type = "smtp"
from = "fail2zig@host.example"
to = "root@host.example"
[jails.sshd]
filter = "sshd"
logpath = "/var/log/auth.log"
actions = ["report", "mail"]
`,
    "c.toml",
  );
  deepEqual(config.actions, [
    {
      name: "report",
      type: "exec",
      onBan: ["/usr/local/bin/report", "--ip", "{ip}", "{jail}", "{duration_s}", "{origin}"],
      onUnban: [],
      timeoutMs: 2000,
      queue: 10,
    },
    {
      name: "mail",
      type: "smtp",
      server: { hostname: "127.0.0.1", port: 25 },
      from: "fail2zig@host.example",
      to: ["root@host.example"],
      timeoutMs: 10_000,
      queue: 1000,
    },
  ]);
  deepEqual(config.jails[0]!.actions, ["report", "mail"]);
  deepEqual(parseConfig("", "c.toml").actions, []);
});

Deno.test("[actions.NAME] errors carry line, column and what was expected", () => {
  deepEqual(
    errorsOf(`[actions.a]
type = "exec"
on_ban = ["report", "{ip}"]
[actions.b]
type = "exec"
on_ban = ["/bin/x", "--ip={ip}"]
server = "127.0.0.1:25"
[actions.c]
type = "smtp"
from = "root"
to = ["a@b.example", "x\\r\\nBcc: y@z"]
on_ban = ["/bin/x"]
[actions.d]
type = "ftp"
[actions.e]
type = "smtp"
server = "mail.example.org:25"
from = "a@b.example"
to = "c@d.example"
[actions.f]
type = "exec"
[actions.g]
type = "exec"
on_ban = []
on_unban = []
[jails.sshd]
filter = "sshd"
logpath = "/x"
actions = ["a", "mial"]
`),
    [
      '3:11: actions.a.on_ban[0]: expected the program as an absolute path, found "report"',
      '6:21: actions.b.on_ban[1]: a placeholder must be a whole argument, one of {ip}, {prefix}, {jail}, {duration_s}, {origin}; found "--ip={ip}" (no shell runs: join text in the program instead)',
      '7:1: actions.b.server: not used with type = "exec"; remove it',
      '10:8: actions.c.from: expected a mail address such as "root@localhost", found "root"',
      '11:22: actions.c.to[1]: expected a mail address such as "root@localhost", found "x\\r\\nBcc: y@z"',
      '12:1: actions.c.on_ban: not used with type = "smtp"; remove it',
      '14:8: actions.d.type: expected one of "exec", "smtp", found string "ftp"',
      '17:10: actions.e.server: expected an IPv4 address, found "mail.example.org" (DNS names are not allowed)',
      "20:10: actions.f: missing required key on_ban or on_unban (an argv array)",
      "22:10: actions.g: on_ban and on_unban are both empty: the action would run nothing",
      '29:17: jails.sshd.actions[1]: unknown action "mial" (define [actions.mial])',
    ],
  );
});
