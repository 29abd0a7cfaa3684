import { deepEqual, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import { FLEET_RUNTIME_MB, parseConfig } from "../config/mod.ts";
import {
  actionPrograms,
  daemonPermissions,
  FLEET_HEAP_MB,
  narrowedArgv,
  narrowedEnv,
  networkEndpoints,
  permissionFlags,
  RUNTIME_READ,
  ungranted,
  withOldSpaceRaised,
} from "./mod.ts";

const ARGV = [
  "node_modules/deno/deno",
  "run",
  "-q",
  "--v8-flags=--max-old-space-size=12",
  "-P=daemon",
  "--cpu-prof",
  "mod.ts",
  "daemon",
  "--config",
  "c.toml",
];

Deno.test("narrowedArgv() keeps runtime flags and main module, replaces every permission flag", () => {
  deepEqual(
    narrowedArgv(ARGV, 3, { flags: ["--allow-read=/x"], scriptArgs: ["daemon", "--config", "/c"] }),
    [
      "node_modules/deno/deno",
      "run",
      "-q",
      "--v8-flags=--max-old-space-size=12",
      "--cpu-prof",
      "--allow-read=/x",
      "mod.ts",
      "daemon",
      "--config",
      "/c",
    ],
  );
  const broad = ["deno", "run", "-A", "--allow-net", "--deny-env=X", "-P", "daemon", "-Ptest"];
  deepEqual(
    narrowedArgv([...broad, "mod.ts", "daemon"], 1, { flags: [], scriptArgs: ["daemon"] }),
    ["deno", "run", "mod.ts", "daemon"],
  );
});

Deno.test("withOldSpaceRaised() raises only the old-space cap of --v8-flags, within the fleet's room", () => {
  deepEqual(
    withOldSpaceRaised(
      [
        "deno",
        "run",
        "--v8-flags=--max-old-space-size=12,--no-turbofan",
        "mod.ts",
        "--max-old-space-size=12",
      ],
      FLEET_HEAP_MB,
    ),
    [
      "deno",
      "run",
      `--v8-flags=--max-old-space-size=${12 + FLEET_HEAP_MB},--no-turbofan`,
      "mod.ts",
      "--max-old-space-size=12",
    ],
  );
  deepEqual(withOldSpaceRaised(["deno", "run", "--v8-flags=--no-turbofan"], 8), [
    "deno",
    "run",
    "--v8-flags=--no-turbofan",
  ]);
  ok(FLEET_HEAP_MB <= FLEET_RUNTIME_MB);
});

Deno.test("narrowedArgv() refuses a command line that is not 'deno run'", () => {
  throws(() => narrowedArgv(["fail2zig", "daemon"], 1, { flags: [], scriptArgs: [] }), RangeError);
});

Deno.test("permissionFlags() grants each non-empty list once and refuses a comma in a path", () => {
  const set = {
    read: ["/a", "/b"],
    write: [],
    net: ["127.0.0.1:9100"],
    env: ["NOTIFY_SOCKET"],
    sys: ["uid"],
    run: [],
    ffi: true,
  };
  deepEqual(permissionFlags(set), [
    "--allow-read=/a,/b",
    "--allow-net=127.0.0.1:9100",
    "--allow-env=NOTIFY_SOCKET",
    "--allow-sys=uid",
    "--allow-ffi",
  ]);
  throws(() => permissionFlags({ ...set, read: ["/a,b"] }), /comma/);
});

Deno.test("daemonPermissions() grants the config's paths only, and run per firewall choice and journald", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "auth.log"), "");
    const text = (firewall: string, extra = "") =>
      `[global]\nsocket_path = "/run/f2z/s.sock"\nstate_file = "/var/lib/f2z/state.bin"\n` +
      `audit_log = "/var/log/f2z/audit.log"\nmetrics_bind = "[::1]:9100"\nfirewall = "${firewall}"\n` +
      `[jails.sshd]\nfilter = "sshd"\nlogpath = "${join(dir, "*.log")}"\n${extra}`;
    const set = daemonPermissions(parseConfig(text("nftables"), "/etc/f2z.toml"), {
      configPath: "/etc/f2z.toml",
    });
    deepEqual(set.read, [
      "/etc/f2z.toml",
      "/var/lib/f2z",
      "/run/f2z",
      "/var/log/f2z",
      ...RUNTIME_READ,
      dir,
    ]);
    deepEqual(set.write, ["/var/lib/f2z", "/run/f2z", "/var/log/f2z"]);
    deepEqual(set.net, ["[::1]:9100"]);
    deepEqual(set.run, []);
    ok(set.ffi);
    const iptables = daemonPermissions(parseConfig(text("iptables"), "/c"), { configPath: "/c" });
    deepEqual(iptables.run, [
      "/usr/sbin/iptables",
      "/usr/sbin/ip6tables",
      "/usr/sbin/iptables-restore",
      "/usr/sbin/ip6tables-restore",
    ]);
    const journal = parseConfig(
      text(
        "log-only",
        '[jails.j]\nfilter = "sshd"\nsource = "journald"\njournal_match = ["_COMM=sshd"]\n',
      ),
      "/c",
    );
    deepEqual(daemonPermissions(journal, { configPath: "/c" }).run, ["/usr/bin/journalctl"]);
    deepEqual(networkEndpoints(parseConfig(text("auto").replace('"[::1]:9100"', '""'), "/c")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ungranted() is empty for what this process holds (refusals: tests/daemon_permissions_test.ts, reload)", () => {
  deepEqual(
    ungranted({ read: ["/etc"], write: [], net: [], env: [], sys: ["uid"], run: [], ffi: true }),
    [],
  );
});

Deno.test("daemonPermissions() grants exactly the actions' programs and SMTP servers, nothing without actions", () => {
  const base = `[global]\nmetrics_bind = ""\nfirewall = "nftables"\n`;
  const none = daemonPermissions(parseConfig(base, "/c"), { configPath: "/c" });
  deepEqual([none.run, none.net], [[], []]);
  const config = parseConfig(
    base +
      `[actions.report]\ntype = "exec"\non_ban = ["/usr/local/bin/report", "{ip}"]\n` +
      `on_unban = ["/usr/local/bin/unreport", "{ip}"]\n` +
      `[actions.cloud]\ntype = "exec"\non_ban = ["/usr/local/bin/report", "--cloud", "{ip}"]\n` +
      `[actions.mail]\ntype = "smtp"\nfrom = "f2z@example.org"\nto = "root@example.org"\n` +
      `[actions.relay]\ntype = "smtp"\nserver = "[::1]:2525"\nfrom = "f2z@example.org"\n` +
      `to = ["a@example.org"]\n`,
    "/c",
  );
  const set = daemonPermissions(config, { configPath: "/c" });
  deepEqual(set.run, ["/usr/local/bin/report", "/usr/local/bin/unreport"]);
  deepEqual(set.net, ["127.0.0.1:25", "[::1]:2525"]);
  deepEqual(actionPrograms(config), set.run);
});

Deno.test("daemonPermissions() with [fleet]: net to each url, read of creds and TLS files, sys hostname for the default name", () => {
  const base = '[global]\nmetrics_bind = ""\nstate_file = "/var/lib/f/state.bin"\n';
  const named = parseConfig(
    `${base}[fleet]\nurl = ["nats://10.0.0.5", "tls://[2001:db8::5]:4443"]\nname = "web1"\n` +
      'creds = "/etc/f/fleet.creds"\ntls_ca = "/etc/f/ca.pem"\n',
    "/c",
  );
  deepEqual(networkEndpoints(named), ["10.0.0.5:4222", "[2001:db8::5]:4443"]);
  const set = daemonPermissions(named, { configPath: "/c", runtimeRead: [] });
  ok(set.read.includes("/etc/f/fleet.creds") && set.read.includes("/etc/f/ca.pem"));
  ok(!set.sys.includes("hostname"), "a set name needs no hostname");
  const unnamed = parseConfig(`${base}[fleet]\nurl = "nats://10.0.0.5"\n`, "/c");
  ok(daemonPermissions(unnamed, { configPath: "/c", runtimeRead: [] }).sys.includes("hostname"));
  const none = parseConfig(base, "/c");
  deepEqual(networkEndpoints(none), []);
  ok(!daemonPermissions(none, { configPath: "/c", runtimeRead: [] }).sys.includes("hostname"));
});

Deno.test("narrowedEnv() keeps the environment and gives the new image one malloc arena", () => {
  deepEqual(narrowedEnv({ PATH: "/bin", MALLOC_ARENA_MAX: "8" }), {
    PATH: "/bin",
    MALLOC_ARENA_MAX: "1",
  });
  deepEqual(narrowedEnv({}), { MALLOC_ARENA_MAX: "1" });
});
