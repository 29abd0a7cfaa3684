import { deepEqual, equal, ok } from "node:assert/strict";
import {
  ConfigError,
  FLEET_JAIL,
  FLEET_RUNTIME_MB,
  parseConfig,
  RUNTIME_PEAK_MB,
  runtimePeakMb,
} from "./mod.ts";

const SSHD = '[jails.sshd]\nfilter = "sshd"\nlogpath = "/var/log/auth.log"\nbantime = "2h"\n';

function errorsOf(text: string): string[] {
  try {
    parseConfig(text, "c.toml");
  } catch (e) {
    if (e instanceof ConfigError) return e.errors.map((x) => `${x.line}:${x.column}: ${x.message}`);
    throw e;
  }
  return [];
}

Deno.test("a config without [fleet] has no fleet and no fleet jail", () => {
  const c = parseConfig(SSHD, "c.toml");
  equal(c.fleet, null);
  deepEqual(c.jails.map((j) => j.name), ["sshd"]);
});

Deno.test("[fleet] with only url gets the defaults and the reserved jail fleet at the end", () => {
  const c = parseConfig(`${SSHD}[fleet]\nurl = "nats://10.0.0.5"\n`, "c.toml");
  const f = c.fleet!;
  deepEqual(f.urls, [{ scheme: "nats", host: "10.0.0.5", port: 4222 }]);
  equal(f.name, null);
  equal(f.share, null);
  equal(f.accept, true);
  equal(f.stream, "FAIL2ZIG_BANS");
  equal(f.maxRate, 100);
  equal(f.ipv6Prefix, 64);
  equal(f.maxAgeMs, 2 * 3600_000); // the longest finite bantime
  const jail = c.jails.at(-1)!;
  equal(jail.name, FLEET_JAIL);
  equal(jail.source, "fleet");
  equal(jail.ignoreself, true);
  deepEqual(jail.ignoreip, ["127.0.0.0/8", "::1"]);
  equal(jail.ipv6Prefix, 64);
});

Deno.test("[fleet] max_age is one week when no jail has a finite bantime, else the longest", () => {
  const perm = '[jails.a]\nfilter = "sshd"\nlogpath = "/x"\nbantime = "permanent"\n';
  const c = parseConfig(`${perm}[fleet]\nurl = "nats://h"\n`, "c.toml");
  equal(c.fleet!.maxAgeMs, 7 * 86400_000);
  const inc = '[jails.a]\nfilter = "sshd"\nlogpath = "/x"\nbantime = "1h"\n' +
    'bantime_increment = { enabled = true, max = "30d" }\n';
  equal(parseConfig(`${inc}[fleet]\nurl = "nats://h"\n`, "c.toml").fleet!.maxAgeMs, 30 * 86400_000);
});

Deno.test("[fleet] reads every key", () => {
  const c = parseConfig(
    `${SSHD}[defaults]\nignoreip = ["10.9.0.0/16"]\n[fleet]\n` +
      'url = ["tls://nats1.example:4443", "nats://[2001:db8::1]:4222"]\nname = "web_1"\n' +
      'creds = "/etc/fail2zig/fleet.creds"\ntls_ca = "/etc/ssl/ca.pem"\n' +
      'tls_cert = "/etc/c.pem"\ntls_key = "/etc/k.pem"\nshare = ["sshd", "manual"]\n' +
      'accept = false\nstream = "BANS"\nmax_rate = 5\nipv6_prefix = 56\n',
    "c.toml",
  );
  const f = c.fleet!;
  deepEqual(f.urls, [
    { scheme: "tls", host: "nats1.example", port: 4443 },
    { scheme: "nats", host: "2001:db8::1", port: 4222 },
  ]);
  equal(f.name, "web_1");
  equal(f.creds, "/etc/fail2zig/fleet.creds");
  deepEqual([f.tlsCa, f.tlsCert, f.tlsKey], ["/etc/ssl/ca.pem", "/etc/c.pem", "/etc/k.pem"]);
  deepEqual(f.share, ["sshd", "manual"]);
  equal(f.accept, false);
  equal(f.stream, "BANS");
  equal(f.maxRate, 5);
  equal(f.ipv6Prefix, 56);
  ok(!c.jails.some((j) => j.name === FLEET_JAIL), "accept = false: no fleet jail");
});

Deno.test("[fleet] errors carry line:column and say what was expected", () => {
  const cases: [string, string[]][] = [
    ["[fleet]\n", ['1:2: fleet: missing required key url (such as "nats://10.0.0.5:4222")']],
    [
      '[fleet]\nurl = "http://x:1"\n',
      ['2:7: fleet.url: expected nats://HOST:PORT or tls://HOST:PORT, found "http://x:1"'],
    ],
    [
      '[fleet]\nurl = "nats://x:70000"\n',
      ['2:7: fleet.url: expected nats://HOST:PORT or tls://HOST:PORT, found "nats://x:70000"'],
    ],
    [
      '[fleet]\nurl = "nats://x"\nname = "web.1"\n',
      ['3:8: fleet.name: expected 1 to 64 letters, digits, "-" or "_", found "web.1"'],
    ],
    [
      '[fleet]\nurl = "nats://x"\nuser = "a"\n',
      ["3:1: fleet.user: user and password go together; set both"],
    ],
    [
      '[fleet]\nurl = "nats://x"\nuser = "a"\npassword = "b"\ntoken = "t"\n',
      ["1:2: fleet: set one of user/password, token or creds, not several"],
    ],
    [
      '[fleet]\nurl = "nats://x"\nshare = ["ssdh"]\n',
      ['3:10: fleet.share[0]: no jail named "ssdh" (or "manual" for client bans); did you mean "sshd"?'],
    ],
    [
      '[fleet]\nurl = "nats://x"\nmax_rate = 0\n',
      ["3:12: fleet.max_rate: must be between 1 and 100000, found 0"],
    ],
    ['[fleet]\nurl = "nats://x"\nurls = 1\n', ["3:1: fleet.urls: unknown key; did you mean url?"]],
    [
      '[fleet]\nurl = "nats://x"\ncreds = "fleet.creds"\n',
      ['3:9: fleet.creds: expected an absolute path (starting with /), found "fleet.creds"'],
    ],
  ];
  for (const [text, expected] of cases) {
    deepEqual(
      errorsOf(SSHD + text).map((e) => e.replace(/^\d+/, (l) => String(Number(l) - 4))),
      expected,
      text,
    );
  }
});

Deno.test("the jail names fleet and manual are reserved", () => {
  deepEqual(errorsOf('[jails.fleet]\nfilter = "sshd"\nlogpath = "/x"\n'), [
    "1:8: jails.fleet: the jail name fleet is reserved (the jail of the bans received from [fleet]); rename it",
  ]);
  deepEqual(errorsOf('[jails.manual]\nfilter = "sshd"\nlogpath = "/x"\n'), [
    "1:8: jails.manual: the jail name manual is reserved (the [fleet] share keyword for client bans); rename it",
  ]);
});

Deno.test('source = "fleet" cannot be written by hand', () => {
  const errs = errorsOf('[jails.a]\nsource = "fleet"\n');
  ok(errs.some((e) => e.startsWith("2:10: jails.a.source: expected one of")), errs.join("\n"));
});

Deno.test("[fleet] raises the runtime's peak the address table is sized above, and the ceiling's floor", () => {
  const plain = parseConfig(SSHD, "c.toml");
  const fleet = parseConfig(`${SSHD}[fleet]\nurl = "nats://h"\n`, "c.toml");
  equal(runtimePeakMb(plain), RUNTIME_PEAK_MB);
  equal(runtimePeakMb(fleet), RUNTIME_PEAK_MB + FLEET_RUNTIME_MB);
  const low = `[global]\nmemory_ceiling_mb = ${RUNTIME_PEAK_MB + 10}\n${SSHD}`;
  equal(parseConfig(low, "c.toml").fleet, null, "enough without [fleet]");
  deepEqual(errorsOf(`${low}[fleet]\nurl = "nats://h"\n`), [
    `2:21: global.memory_ceiling_mb: must be at least ${
      RUNTIME_PEAK_MB + FLEET_RUNTIME_MB + 2
    } with [fleet] (its client adds about ${FLEET_RUNTIME_MB} MiB to the runtime's ${RUNTIME_PEAK_MB}), found ${
      RUNTIME_PEAK_MB + 10
    }`,
  ]);
});
