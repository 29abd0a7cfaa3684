/**
 * Who may use the control socket, shown with real accounts: an unprivileged user created for
 * the test is refused (by the file modes, and by SO_PEERCRED when the modes are opened up), a
 * member of the admin group is accepted whether the group is primary or supplementary. The
 * client runs as that user from a world-readable copy of the program. Also: the `fail2zig
 * client` command line end to end (exit codes, JSON output, --config).
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { FakeController, type IpcServer, startIpcServer } from "../src/ipc/mod.ts";

const isRoot = Deno.uid() === 0;
const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

async function sh(cmd: string, args: string[]): Promise<Out> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const d = new TextDecoder();
  return { code: o.code, stdout: d.decode(o.stdout), stderr: d.decode(o.stderr) };
}

async function must(cmd: string, args: string[]): Promise<string> {
  const o = await sh(cmd, args);
  if (o.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${o.code}: ${o.stderr}`);
  return o.stdout;
}

/** Runs `fail2zig client ARGS` from `app` with `deno`, as `user` (via setpriv) or as ourselves. */
async function client(
  ctx: { deno: string; app: string; home: string },
  args: string[],
  user?: { name: string; gid: number },
): Promise<Out> {
  const run = [
    ctx.deno,
    "run",
    "-q",
    "--no-lock",
    "-P=daemon",
    `${ctx.app}/mod.ts`,
    "client",
    ...args,
  ];
  const argv = user === undefined
    ? run
    : ["/usr/bin/setpriv", `--reuid=${user.name}`, `--regid=${user.gid}`, "--init-groups", ...run];
  const o = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    cwd: ctx.app,
    clearEnv: true,
    env: {
      PATH: "/usr/bin:/bin",
      HOME: ctx.home,
      DENO_DIR: `${ctx.home}/deno`,
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: o.code, stdout: d.decode(o.stdout), stderr: d.decode(o.stderr) };
}

Deno.test({
  name:
    "control socket refuses an unprivileged user and admits fail2zig-group members (primary and supplementary)",
  ignore: !isRoot, // creates users and groups, runs the client as them
  fn: async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const group = `f2zg${tag}`;
    const users = { outsider: `f2zo${tag}`, primary: `f2zp${tag}`, supplementary: `f2zs${tag}` };
    const created: string[] = [];
    let groupMade = false;
    let server: IpcServer | null = null;
    const root = await Deno.makeTempDir({ prefix: "f2z-auth-" });
    try {
      await Deno.chmod(root, 0o755);
      await must("groupadd", [group]);
      groupMade = true;
      await must("useradd", ["-M", "-N", "-g", "users", "-s", "/usr/sbin/nologin", users.outsider]);
      created.push(users.outsider);
      await must("useradd", ["-M", "-N", "-g", group, "-s", "/usr/sbin/nologin", users.primary]);
      created.push(users.primary);
      await must("useradd", [
        "-M",
        "-N",
        "-g",
        "users",
        "-G",
        group,
        "-s",
        "/usr/sbin/nologin",
        users.supplementary,
      ]);
      created.push(users.supplementary);
      const gid = Number((await must("getent", ["group", group])).split(":")[2]);

      // A world-readable copy of the program: the checkout may sit under a private home.
      const app = `${root}/app`;
      await Deno.mkdir(app);
      await must("sh", [
        "-c",
        `tar -C '${REPO}' --exclude=./.git --exclude=./node_modules/deno ` +
        `--exclude=./node_modules/@deno --exclude=./node_modules/.bin -cf - . | tar -C '${app}' -xf -`,
      ]);
      await must("chmod", ["-R", "a+rX", app]);
      await Deno.mkdir(`${root}/bin`);
      const deno = `${root}/bin/deno`;
      await Deno.copyFile(Deno.execPath(), deno);
      await Deno.chmod(deno, 0o755);

      server = await startIpcServer({
        path: `${root}/run/fail2zig.sock`,
        controller: new FakeController(),
        version: "auth-test",
        group,
      });
      const sock = server.path;
      // Modes as documented: directory 0750 and socket 0660, both group `group`.
      const dirInfo = Deno.lstatSync(`${root}/run`);
      equal((dirInfo.mode ?? 0) & 0o7777, 0o750);
      equal(dirInfo.gid, gid);
      const sockInfo = Deno.lstatSync(sock);
      equal((sockInfo.mode ?? 0) & 0o7777, 0o660);
      equal(sockInfo.gid, gid);
      equal(sockInfo.uid, 0);

      const as = async (name: string, args: string[]): Promise<Out> => {
        const home = `${root}/home-${name}`;
        await Deno.mkdir(home);
        await must("chown", [`${name}:`, home]);
        const id = Number((await must("id", ["-g", name])).trim());
        const o = await client({ deno, app, home }, args, { name, gid: id });
        await Deno.remove(home, { recursive: true });
        return o;
      };

      // 1. The outsider cannot even reach the socket (directory 0750, socket 0660).
      const denied = await as(users.outsider, ["--socket", sock, "ping"]);
      equal(denied.code, 3, denied.stderr);
      match(denied.stderr, /permission denied/);
      equal(server.stats().accepted, 0);

      // 2. With the modes opened up by mistake, SO_PEERCRED still refuses the outsider.
      await Deno.chmod(`${root}/run`, 0o755);
      await Deno.chmod(sock, 0o666);
      const refused = await as(users.outsider, ["--socket", sock, "status"]);
      equal(refused.code, 3, refused.stderr);
      match(refused.stderr, /not authorised/);
      equal(refused.stdout, "");
      equal(server.stats().refusedUnauthorized, 1);
      await Deno.chmod(`${root}/run`, 0o750);
      await Deno.chmod(sock, 0o660);

      // 3. Members of the group are admitted, primary or supplementary.
      const prim = await as(users.primary, ["--socket", sock, "ping"]);
      equal(prim.code, 0, prim.stderr);
      equal(prim.stdout.trim(), "pong");
      const supp = await as(users.supplementary, ["--socket", sock, "--output", "json", "version"]);
      equal(supp.code, 0, supp.stderr);
      deepEqual(JSON.parse(supp.stdout), { version: "auth-test" });
      equal(server.stats().refusedUnauthorized, 1);
      ok(server.stats().accepted >= 2);
    } finally {
      await server?.close();
      for (const u of created) await sh("userdel", [u]);
      if (groupMade) await sh("groupdel", [group]);
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("fail2zig client: exit codes, tables, JSON and --config", async () => {
  const root = await Deno.makeTempDir({ prefix: "f2z-cli-" });
  const ctx = { deno: Deno.execPath(), app: REPO, home: root };
  // Same DENO_DIR as the test runner: the module graph is cached already.
  const denoDir = Deno.env.get("DENO_DIR");
  const home = Deno.env.get("HOME") ?? root;
  const run = (args: string[]) =>
    new Deno.Command(ctx.deno, {
      args: ["run", "-q", "-P=daemon", `${REPO}/mod.ts`, "client", ...args],
      cwd: REPO,
      env: { NO_COLOR: "1", HOME: home, ...(denoDir ? { DENO_DIR: denoDir } : {}) },
      stdout: "piped",
      stderr: "piped",
    }).output().then((o) => ({
      code: o.code,
      stdout: new TextDecoder().decode(o.stdout),
      stderr: new TextDecoder().decode(o.stderr),
    }));
  const path = `${root}/run/fail2zig.sock`;
  const server = await startIpcServer({
    path,
    controller: new FakeController(),
    version: "cli-test",
    group: "f2z-no-such-group",
  });
  try {
    // No daemon at a path: exit 3 saying so.
    const none = await run(["--socket", `${root}/nothing.sock`, "ping"]);
    equal(none.code, 3);
    match(none.stderr, /no socket at/);
    // Usage errors: exit 2.
    equal((await run(["--socket", path, "ban", "192.0.2.1"])).code, 2); // no --jail
    equal((await run(["--socket", path, "list", "extra"])).code, 2);
    equal((await run(["--socket", path, "--output", "xml", "ping"])).code, 2);
    equal((await run(["--socket", path, "--config", "/x", "ping"])).code, 2);
    equal(
      (await run(["--socket", path, "ban", "192.0.2.1", "--jail", "sshd", "--duration", "1x"]))
        .code,
      2,
    );

    const ban = await run([
      "--socket",
      path,
      "ban",
      "192.0.2.1",
      "--jail",
      "sshd",
      "--duration",
      "1h30m",
    ]);
    equal(ban.code, 0, ban.stderr);
    equal(ban.stdout.trim(), "banned 192.0.2.1 in sshd for 1h30m");
    const list = await run(["--socket", path, "--output", "json", "list"]);
    equal(list.code, 0);
    const bans = JSON.parse(list.stdout).bans;
    equal(bans.length, 1);
    equal(bans[0].remaining_s, 5400);
    const table = await run(["--socket", path, "list"]);
    match(table.stdout, /^ADDRESS\s+JAIL\s+BANNED AT/);
    match(table.stdout, /192\.0\.2\.1\s+sshd/);
    // The daemon said no: exit 1 with its code.
    const unknown = await run(["--socket", path, "status", "nope"]);
    equal(unknown.code, 1);
    match(unknown.stderr, /not_found: no jail named nope/);

    // --config: socket_path taken from the config file.
    const cfg = `${root}/config.toml`;
    await Deno.writeTextFile(cfg, `[global]\nsocket_path = "${path}"\n`);
    await Deno.chmod(cfg, 0o644);
    const viaCfg = await run(["--config", cfg, "ping"]);
    equal(viaCfg.code, 0, viaCfg.stderr);
    equal(viaCfg.stdout.trim(), "pong");
    // A config that does not validate still yields its socket_path (cli/client_test.ts has more).
    await Deno.writeTextFile(cfg, `[global]\nsocket_path = "${path}"\nsocket_pth = 1\n`);
    const badCfg = await run(["--config", cfg, "ping"]);
    equal(badCfg.code, 0, badCfg.stderr);
    match(badCfg.stderr, /socket_pth/);
  } finally {
    await server.close();
    await Deno.remove(root, { recursive: true });
  }
});
