import { deepEqual, equal, ok } from "node:assert/strict";
import { ConfigError, describeScope, parseConfig, scopeFromId, SERVICES } from "./mod.ts";

const JAIL = '[jails.sshd]\nfilter = "sshd"\nlogpath = "/var/log/auth.log"\n';

function scopeOf(keys: string) {
  return parseConfig(JAIL + keys, "c.toml").jails[0]!.scope;
}

function errorsOf(keys: string): string[] {
  try {
    parseConfig(JAIL + keys, "c.toml");
  } catch (e) {
    if (e instanceof ConfigError) return e.errors.map((x) => `${x.line}:${x.column}: ${x.message}`);
    throw e;
  }
  return [];
}

Deno.test("a jail without port or protocol has no scope: its bans drop all traffic", () => {
  equal(scopeOf(""), null);
  equal(scopeOf('port = "all"\nprotocol = "all"\n'), null);
  equal(scopeOf('port = "0:65535"\nprotocol = "all"\n'), null);
});

Deno.test("port takes numbers, service names, ranges; protocol defaults to tcp", () => {
  deepEqual(scopeOf('port = ["ssh", 2222, "1000:2000", "1500:2500"]\n'), {
    id: "tcp.22_1000-2500",
    protocols: ["tcp"],
    ports: [[22, 22], [1000, 2500]],
  });
  equal(scopeOf('port = ["2222", "ssh", 2222]\n')!.id, "tcp.22_2222");
  equal(scopeOf('port = "domain"\nprotocol = "all"\n')!.id, "tcp_udp.53");
  equal(scopeOf('port = 53\nprotocol = "udp"\n')!.id, "udp.53");
  equal(scopeOf('protocol = "udp"\n')!.id, "udp.all");
  equal(scopeOf('port = "all"\n')!.id, "tcp.all");
  equal(
    describeScope(scopeOf('port = ["smtp", 465, "submission", "8000:8100"]\n')),
    "tcp 25,465,587,8000:8100",
  );
  equal(describeScope(null), "all");
});

Deno.test("port and protocol errors carry the file, line, column and what was expected", () => {
  const many = Array.from({ length: 16 }, (_, i) => 100 + 2 * i).join(", ");
  const cases: [string, string][] = [
    [
      'port = ["ssh", "sshh"]\n',
      `4:16: jails.sshd.port[1]: unknown service name "sshh"; write its port number (known names: ${
        Object.keys(SERVICES).join(", ")
      })`,
    ],
    [
      'port = "ssh,2222"\n',
      '4:8: jails.sshd.port: expected one port per list item, found "ssh,2222" (write ["ssh", "2222"])',
    ],
    ["port = 70000\n", "4:8: jails.sshd.port: a port must be between 1 and 65535, found 70000"],
    [
      'port = "2000:1000"\n',
      '4:8: jails.sshd.port: expected a range FROM:TO of ports 1..65535 with FROM ≤ TO, found "2000:1000"',
    ],
    [
      "port = [22.5]\n",
      '4:9: jails.sshd.port[0]: expected a port (integer or string such as "ssh"), found float 22.5',
    ],
    ['port = ["all", 22]\n', '4:8: jails.sshd.port: "all" covers every port; list it alone'],
    ["port = []\n", '4:8: jails.sshd.port: must not be empty (write "all" for every port)'],
    [
      'port = 22\nprotocol = "icmp"\n',
      '5:12: jails.sshd.protocol: expected one of "tcp", "udp", "all", found string "icmp"',
    ],
    [
      `port = [${many}]\n`,
      "4:8: jails.sshd.port: lists 16 ports (a range counts as two); at most 15 are allowed" +
      " (iptables' multiport limit): use ranges or a second jail",
    ],
  ];
  for (const [keys, error] of cases) deepEqual(errorsOf(keys), [error], keys);
});

Deno.test("scopeFromId() reads back every id a scope has, and nothing else", () => {
  for (
    const keys of [
      'port = ["ssh", "1000:2000"]\n',
      'protocol = "udp"\n',
      'port = 53\nprotocol = "all"\n',
    ]
  ) {
    const scope = scopeOf(keys)!;
    deepEqual(scopeFromId(scope.id), scope);
  }
  for (
    const bad of ["", "tcp", "icmp.22", "tcp.22_", "tcp.0", "tcp.70000", "tcp.20-10", "tcp.22_22"]
  ) {
    equal(scopeFromId(bad), null, bad);
  }
});

Deno.test({
  name: "the built-in service names mean what this host's /etc/services says",
  ignore: (() => {
    try {
      Deno.statSync("/etc/services");
      return false;
    } catch {
      return true;
    }
  })(),
  fn: () => {
    const ports = new Map<string, Set<number>>();
    for (const line of Deno.readTextFileSync("/etc/services").split("\n")) {
      const [name, portProto, ...aliases] = line.replace(/#.*/, "").trim().split(/\s+/);
      const port = Number(portProto?.split("/")[0]);
      if (!name || !Number.isInteger(port)) continue;
      for (const n of [name, ...aliases]) {
        if (!ports.has(n)) ports.set(n, new Set());
        ports.get(n)!.add(port);
      }
    }
    for (const [name, port] of Object.entries(SERVICES)) {
      ok(
        ports.get(name)?.has(port),
        `${name} = ${port}, /etc/services: ${[...ports.get(name) ?? []]}`,
      );
    }
  },
});
