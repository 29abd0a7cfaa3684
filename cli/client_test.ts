import { deepEqual, equal, match, ok } from "node:assert/strict";
import { CLIENT_COMMANDS, renderTable, USAGE } from "./client.ts";
import { FakeController, startIpcServer } from "../src/ipc/mod.ts";
import { fail2zig } from "../tests/_daemon.ts";

Deno.test("the client says when a list or an unban --all reply was truncated", () => {
  const ban = {
    ip: "203.0.113.9",
    jail: "sshd",
    banned_at: "2026-11-25T12:00:00.000Z",
    expires_at: null,
    remaining_s: null,
    ban_count: 1,
    prefix: 32,
  };
  const list = renderTable("list", { bans: [ban], truncated: true, total: 62686 });
  equal(list.split("\n")[0], "62686 active; the newest 1 are listed");
  equal(renderTable("list", { bans: [ban] }).startsWith("ADDRESS"), true);
  equal(
    renderTable("unban_all", {
      unbanned: [{ ip: "203.0.113.9", jail: "sshd" }],
      truncated: true,
      total: 5,
    }),
    "5 unbanned; the first 1 are listed\nunbanned 203.0.113.9 (sshd)",
  );
  equal(renderTable("unban_all", { unbanned: [] }), "nothing to unban");
});

/** A control socket served by the fake controller in a temp dir, for the client's subprocess. */
async function withFakeDaemon(
  fn: (ctx: { dir: string; path: string; controller: FakeController }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "f2z-client-" });
  const path = `${dir}/run/fail2zig.sock`;
  const controller = new FakeController();
  const server = await startIpcServer({
    path,
    controller,
    version: "t",
    group: "f2z-no-such-group",
  });
  try {
    await fn({ dir, path, controller });
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const client = (args: string[], env: Record<string, string> = {}) =>
  fail2zig(["client", ...args], undefined, { env: { FAIL2ZIG_SOCKET: "", ...env } });

Deno.test("the client takes its socket from --socket, then FAIL2ZIG_SOCKET, then the config, then the default", async () => {
  await withFakeDaemon(async ({ dir, path }) => {
    const viaEnv = await client(["ping"], { FAIL2ZIG_SOCKET: path });
    equal(viaEnv.code, 0, viaEnv.stderr);
    equal(viaEnv.stdout, "pong\n");
    const flagWins = await client(["--socket", path, "ping"], {
      FAIL2ZIG_SOCKET: `${dir}/elsewhere.sock`,
    });
    equal(flagWins.code, 0, flagWins.stderr);
    const envWins = await client(["--config", `${dir}/missing.toml`, "ping"], {
      FAIL2ZIG_SOCKET: path,
    });
    equal(envWins.code, 0, envWins.stderr);
    // A config that does not validate (a bad edit) still names the socket: the admin gets in.
    const cfg = `${dir}/config.toml`;
    await Deno.writeTextFile(
      cfg,
      `[global]\nsocket_path = "${path}"\nmemory_ceiling_mb = 1\n[jails.sshd]\nfilter = "sshd"\n`,
    );
    await Deno.chmod(cfg, 0o644);
    const invalid = await client(["--config", cfg, "ping"]);
    equal(invalid.code, 0, invalid.stderr);
    equal(invalid.stdout, "pong\n");
    match(invalid.stderr, /does not validate: .*memory_ceiling_mb/);
    match(invalid.stderr, new RegExp(`using socket ${path}`));
    // Not even TOML any more: the socket_path line of [global] is still read.
    await Deno.writeTextFile(cfg, `[global]\nsocket_path = "${path}"\nfirewall = "auto\n`);
    const broken = await client(["--config", cfg, "unban", "192.0.2.1"]);
    equal(broken.code, 1, broken.stderr); // reached the daemon, which has no such ban
    match(broken.stderr, /not_found/);
    // No socket_path at all: the default socket, and the warning says so.
    await Deno.writeTextFile(cfg, `[global]\nsocket_pth = "${path}"\n`);
    const typo = await client(["--config", cfg, "ping"]);
    match(typo.stderr, /socket_pth/);
    match(typo.stderr, /using socket \/run\/fail2zig\/fail2zig\.sock/);
  });
});

Deno.test("under --output json every client error is {error:{code,message}} on stdout with its exit code", async () => {
  await withFakeDaemon(async ({ dir, path }) => {
    const cases: [string[], number, string][] = [
      [["--socket", path, "--output", "json", "list", "extra"], 2, "usage"],
      [["--output=json", "--socket", path, "frobnicate"], 2, "usage"],
      [["--socket", `${dir}/none.sock`, "--output", "json", "ping"], 3, "unreachable"],
      [["--socket", path, "--output", "json", "status", "nope"], 1, "not_found"],
      [["--socket", path, "--output", "json", "unban", "192.0.2.1"], 1, "not_found"],
      [["--config", `${dir}/missing.toml`, "--output", "json", "ping"], 1, "config"],
    ];
    for (const [args, exit, code] of cases) {
      const r = await client(args);
      equal(r.code, exit, `${args.join(" ")}: ${r.stdout} ${r.stderr}`);
      const body = JSON.parse(r.stdout);
      deepEqual(Object.keys(body), ["error"]);
      equal(body.error.code, code, r.stdout);
      equal(typeof body.error.message, "string");
      ok(body.error.message.length > 0);
      equal(r.stderr, "", `${args.join(" ")} wrote to stderr: ${r.stderr}`);
    }
    const table = await client(["--socket", path, "status", "nope"]);
    equal(table.stdout, "");
    match(table.stderr, /not_found: no jail named nope/);
  });
});

Deno.test("the everyday client commands send the documented requests and print their replies", async () => {
  await withFakeDaemon(async ({ path, controller }) => {
    const ok0 = async (...args: string[]) => {
      const r = await client(["--socket", path, ...args]);
      equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    await ok0("ban", "192.0.2.1", "--jail", "sshd");
    await ok0("ban", "192.0.2.1", "--jail", "nginx");
    await ok0("ban", "192.0.2.2", "--jail", "sshd");
    match(
      await ok0("banned", "192.0.2.1", "192.0.2.9"),
      /192\.0\.2\.1\s+sshd, nginx\n192\.0\.2\.9\s+\(not banned\)/,
    );
    match(await ok0("list", "--ip", "192.0.2.1", "--jail", "nginx"), /192\.0\.2\.1\s+nginx/);
    const un = await ok0("unban", "192.0.2.1", "192.0.2.2", "192.0.2.3");
    equal(
      un,
      "unbanned 192.0.2.1 (sshd)\nunbanned 192.0.2.1 (nginx)\nunbanned 192.0.2.2 (sshd)\n" +
        "not banned: 192.0.2.3\n",
    );
    equal(
      await ok0("ignore", "add", "10.0.0.0/8"),
      "ignoring 10.0.0.0/8 in every jail\nno bans to lift\n",
    );
    await ok0("ignore", "add", "192.0.2.7", "--jail", "sshd");
    match(
      await ok0("ignore", "list", "--jail", "sshd"),
      /10\.0\.0\.0\/8\s+\(every jail\)\s+runtime\n192\.0\.2\.7\s+sshd\s+runtime/,
    );
    equal(
      await ok0("ignore", "del", "10.0.0.0/8"),
      "no longer ignoring 10.0.0.0/8 in every jail\n",
    );
    equal(await ok0("jail", "stop", "sshd"), "stopped jail sshd\nno bans to lift\n");
    match(await ok0("jails"), /sshd\s+stopped/);
    equal(await ok0("jail", "start", "sshd"), "started jail sshd\n");
    const json = JSON.parse(await ok0("--output", "json", "banned", "192.0.2.1"));
    deepEqual(json, { banned: [{ ip: "192.0.2.1", jails: [] }] });
    deepEqual(controller.calls.slice(3), [
      ["banned", "192.0.2.1", "192.0.2.9"],
      ["list", "nginx", "192.0.2.1"],
      ["unban", ["192.0.2.1", "192.0.2.2", "192.0.2.3"]],
      ["ignoreAdd", "10.0.0.0/8", undefined],
      ["ignoreAdd", "192.0.2.7", "sshd"],
      ["ignoreList", "sshd"],
      ["ignoreDel", "10.0.0.0/8", undefined],
      ["jailStop", "sshd"],
      ["jails"],
      ["jailStart", "sshd"],
      ["banned", "192.0.2.1"],
    ]);
    for (
      const bad of ["banned --duration 1h", "ignore add", "ignore flush", "jail stop", "unban"].map(
        (form) => form.split(" "),
      )
    ) {
      equal((await client(["--socket", path, ...bad])).code, 2, bad.join(" "));
    }
  });
});

Deno.test("fail2ban-client's forms send what the native commands send", async () => {
  await withFakeDaemon(async ({ path, controller }) => {
    const run = (args: string[]) => client(["--socket", path, ...args]);
    await run(["ban", "192.0.2.3", "--jail", "sshd"]);
    const pairs = [
      ["set sshd banip 192.0.2.1", "ban 192.0.2.1 --jail sshd"],
      ["get sshd banned", "list --jail sshd"],
      ["get sshd banip", "list --jail sshd"],
      ["banned", "list"],
      ["set sshd unbanip 192.0.2.1 192.0.2.2", "unban 192.0.2.1 192.0.2.2 --jail sshd"],
      ["set sshd addignoreip 192.0.2.7", "ignore add 192.0.2.7 --jail sshd"],
      ["get sshd ignoreip", "ignore list --jail sshd"],
      ["set sshd delignoreip 192.0.2.7", "ignore del 192.0.2.7 --jail sshd"],
      ["stop sshd", "jail stop sshd"],
      ["start sshd", "jail start sshd"],
    ].map(([theirs, ours]) => [theirs!.split(" "), ours!.split(" ")] as const);
    const banBoth = async (args: string[]) => {
      if (args.includes("unbanip") || args[0] === "unban") {
        for (const ip of ["192.0.2.1", "192.0.2.2"]) await run(["ban", ip, "--jail", "sshd"]);
      }
    };
    for (const [theirs, ours] of pairs) {
      await banBoth(theirs);
      const a = await run(theirs);
      const callA = controller.calls.at(-1);
      await banBoth(ours);
      const b = await run(ours);
      equal(a.code, 0, `${theirs.join(" ")}: ${a.stderr}`);
      equal(b.code, 0, `${ours.join(" ")}: ${b.stderr}`);
      deepEqual(callA, controller.calls.at(-1), theirs.join(" "));
      if (theirs[0] === "get" || theirs[0] === "banned") {
        equal(a.stdout, b.stdout, theirs.join(" "));
      }
    }
    const calls = controller.calls.length;
    for (
      const bad of [
        "set sshd bantime 600",
        "get sshd maxretry",
        "set sshd __proto__ 192.0.2.1",
        "set sshd",
        "get",
        "set sshd banip 192.0.2.1 192.0.2.2",
        "get sshd banned --jail nginx",
        "start",
      ].map((form) => form.split(" "))
    ) {
      const r = await run(bad);
      equal(r.code, 2, `${bad.join(" ")}: ${r.stderr}`);
    }
    match((await run(["stop"])).stderr, /systemctl stop fail2zig/);
    equal(controller.calls.length, calls, "a refused form sends nothing");
  });
});

Deno.test("client history sends the address and --limit, and says when records were cut", async () => {
  await withFakeDaemon(async ({ path, controller }) => {
    const run = (...args: string[]) => client(["--socket", path, ...args]);
    equal((await run("ban", "192.0.2.4", "--jail", "sshd")).code, 0);
    equal((await run("unban", "192.0.2.4")).code, 0);
    const r = await run("history", "192.0.2.4", "--limit", "1");
    equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    equal(lines[0], "2 records; the newest 1 are listed");
    match(lines[2]!, /unban\s+192\.0\.2\.4\s+sshd\s+client$/);
    deepEqual(controller.calls.at(-1), ["history", "192.0.2.4", 1]);
    for (
      const bad of [
        ["history"],
        ["history", "192.0.2.4", "--limit", "0"],
        [
          "history",
          "192.0.2.4",
          "--limit",
          "1001",
        ],
        ["history", "192.0.2.4", "--jail", "sshd"],
        ["list", "--limit", "3"],
      ]
    ) {
      equal((await run(...bad)).code, 2, bad.join(" "));
    }
  });
  equal(renderTable("history", { ip: "192.0.2.9", records: [] }), "no audit records of 192.0.2.9");
});

/** The leading keywords of a command form: `jail stop JAIL` → ["jail", "stop"]. */
function keywords(form: string): string[] {
  const words = form.trim().split(/\s+/);
  const end = words.findIndex((w) => !/^[a-z][a-z_]*$/.test(w));
  return end < 0 ? words : words.slice(0, end);
}

Deno.test("every fail2zig client command the admin guides name is one the client's usage lists", async () => {
  let doc = "";
  for (const guide of ["migration", "quickstart", "operations"]) {
    doc += await Deno.readTextFile(new URL(`../docs/${guide}.md`, import.meta.url));
  }
  const usage = USAGE.slice(USAGE.indexOf("commands:"), USAGE.indexOf("options:"));
  const known = usage.split("\n").filter((l) => /^ {2}[a-z]/.test(l)).map((l) =>
    keywords(l.trim().split(/ {2,}/)[0]!).join(" ")
  );
  const named = [
    ...doc.matchAll(/`fail2zig client ([a-z][^`]*)`/g),
    ...doc.matchAll(/^ {4}fail2zig client ([a-z].*?)(?: {2,}#.*)?$/gm), // code blocks
  ].map((m) => m[1]!);
  ok(named.length >= 20, `only ${named.length} commands found`);
  for (const form of named) {
    const words = keywords(form);
    ok(CLIENT_COMMANDS.includes(words[0] as (typeof CLIENT_COMMANDS)[number]), form);
    // a known command, then its arguments (a jail name such as sshd may look like a keyword)
    const listed = known.some((k) => `${words.join(" ")} `.startsWith(`${k} `));
    ok(listed, `${form}: not in the usage (${known.join(", ")})`);
    for (const flag of form.match(/--[a-z]+/g) ?? []) ok(USAGE.includes(flag), `${form}: ${flag}`);
  }
});

Deno.test("renderTable shows the fleet line of status and the origin of a fleet ban in list", () => {
  const status = renderTable("status", {
    version: "0.1.0",
    uptime_s: 5,
    backend: "nftables",
    degraded: false,
    memory_bytes: 0,
    tracked: 1,
    active_bans: 1,
    jails: ["sshd", "fleet"],
    fleet: {
      name: "web1",
      state: "connected",
      server: "10.0.0.5:4222",
      outbox: 0,
      outbox_dropped: 2,
      published: 7,
      received: 9,
      applied: 3,
      dropped: 1,
    },
  });
  match(
    status,
    /^fleet: +connected 10\.0\.0\.5:4222 as web1; outbox 0 \(2 dropped\), published 7, received 9, applied 3, rejected 1$/m,
  );
  const list = renderTable("list", {
    bans: [{
      ip: "203.0.113.7",
      jail: "fleet",
      origin: "web2",
      banned_at: "2026-12-04T21:00:00.000Z",
      expires_at: null,
      remaining_s: null,
      ban_count: 1,
      prefix: 32,
    }],
  });
  match(list, /203\.0\.113\.7 +fleet \(web2\) /);
});
