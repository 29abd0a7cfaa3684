import { deepEqual, equal, match, ok } from "node:assert/strict";
import { StateStore } from "../src/state/mod.ts";

import { fail2zig, ROOT } from "../tests/_daemon.ts";

/** `fail2zig import-fail2ban ARGS`. */
const importCli = (...args: string[]) => fail2zig(["import-fail2ban", ...args]);

Deno.test("import-fail2ban prints the translated config, warnings on stderr, and exits 0", async () => {
  const r = await importCli("fixtures/fail2ban/debian");
  equal(r.code, 0);
  equal(r.stdout, await Deno.readTextFile(`${ROOT}fixtures/fail2ban/debian.expected.toml`));
  match(
    r.stderr,
    /^fail2zig import-fail2ban: warning: \[DEFAULT\] ignoreip: skipped "trusted\.example\.com"/m,
  );
  match(r.stderr, /^fail2zig import-fail2ban: 6 jails imported, 1 commented out$/m);
});

Deno.test("import-fail2ban output passes config check", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fail2zig-import-" });
  try {
    const r = await importCli("fixtures/fail2ban/debian");
    await Deno.writeTextFile(`${dir}/config.toml`, r.stdout);
    const check = await fail2zig(["config", "check", "--config", `${dir}/config.toml`]);
    // Not root-owned when the tests run unprivileged: the permission check is not what is tested.
    // Log files this machine lacks only warn: the importer writes missing_logpath = "warn".
    const errors = check.stderr.split("\n").filter((l) =>
      /:\d+:\d+: /.test(l) && !/: warning: /.test(l)
    );
    deepEqual(errors, [], check.stderr);
    if (Deno.uid() === 0) deepEqual([check.code, check.stdout], [0, "OK (6 jails)\n"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("import-fail2ban exits 1 when the directory has no jail.conf or is not a directory", async () => {
  const file = await importCli("mod.ts");
  deepEqual([file.code, file.stdout], [1, ""]);
  match(file.stderr, /mod\.ts: expected a fail2ban directory with jail\.conf, found none/);
  const r = await importCli("fixtures/fail2ban/no-jail-conf");
  deepEqual(r, {
    code: 1,
    stdout: "",
    stderr:
      "fail2zig import-fail2ban: fixtures/fail2ban/no-jail-conf: expected a fail2ban directory with jail.conf, found none\n",
  });
});

Deno.test("import-fail2ban exits 2 for an unknown flag or a second directory", async () => {
  const flag = await importCli("--frobnicate");
  equal(flag.code, 2);
  match(flag.stderr, /unknown option '--frobnicate'.*see 'fail2zig import-fail2ban --help'/is);
  const two = await importCli("a", "b");
  equal(two.code, 2);
  match(two.stderr, /expected at most one directory, found 2 arguments/);
  const help = await importCli("--help");
  equal(help.code, 0);
  match(help.stdout, /^usage: fail2zig import-fail2ban \[DIR\]/);
});

Deno.test("import-fail2ban keeps only read permission", async () => {
  // Runs the command in-process under the daemon permission set, then asks Deno what is left.
  const probe = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "-P=daemon",
      `import { main } from "./cli/import_fail2ban.ts";
       await main(["fixtures/fail2ban/no-jail-conf"]);
       const s = await Promise.all(["read", "write", "net", "env", "run", "ffi", "sys"].map(async (name) =>
         name + "=" + (await Deno.permissions.query({ name })).state));
       console.log(s.join(" "));`,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(
    new TextDecoder().decode(probe.stdout).trim(),
    "read=granted write=prompt net=prompt env=prompt run=prompt ffi=prompt sys=prompt",
  );
});

/** fail2ban 1.0.2's schema of the tables `--bans` reads (server/database.py, version 4). */
const FAIL2BAN_SCHEMA = `
CREATE TABLE IF NOT EXISTS fail2banDb(version INTEGER);
CREATE TABLE IF NOT EXISTS jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS jails_name ON jails(name);
CREATE TABLE IF NOT EXISTS bips(ip TEXT NOT NULL, jail TEXT NOT NULL, timeofban INTEGER NOT NULL, bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON, PRIMARY KEY(ip, jail), FOREIGN KEY(jail) REFERENCES jails(name) );
CREATE INDEX IF NOT EXISTS bips_timeofban ON bips(timeofban);
CREATE INDEX IF NOT EXISTS bips_ip ON bips(ip);
INSERT INTO fail2banDb(version) VALUES (4);`;

/** A fail2ban database with `rows` (ip, jail, timeofban s, bantime s, bancount) in `bips`. */
async function fail2banDb(path: string, rows: [string, string, number, number, number][]) {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(path);
  db.exec(FAIL2BAN_SCHEMA);
  for (const jail of new Set(rows.map((r) => r[1]))) {
    db.prepare("INSERT INTO jails(name) VALUES (?)").run(jail);
  }
  const ins = db.prepare("INSERT INTO bips VALUES (?, ?, ?, ?, ?, ?)");
  for (const r of rows) ins.run(...r, '{"matches": ["x"], "failures": 5}');
  db.close();
}

async function withBansSetup(fn: (dir: string, db: string, config: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "fail2zig-bans-" });
  try {
    const now = Math.floor(Date.now() / 1000);
    await fail2banDb(`${dir}/fail2ban.sqlite3`, [
      ["203.0.113.7", "sshd", now - 60, 600, 1], // active
      ["203.0.113.8", "sshd", now - 7200, 600, 2], // ended an hour ago
      ["198.51.100.9", "sshd", now - 86_400, -1, 3], // permanent
      ["2001:db8:1:2::5", "nginx-http-auth", now - 10, 3600, 1], // IPv6, jail keyed by /64
      ["192.0.2.44", "my.app", now - 5, 100, 1], // renamed by the importer to my-app
      ["192.0.2.45", "postfix", now - 5, 100, 1], // no fail2zig jail
    ]);
    await Deno.writeTextFile(
      `${dir}/config.toml`,
      `[global]
socket_path = "${dir}/f.sock"
state_file = "${dir}/state/state.bin"
[jails.sshd]
filter = "sshd"
logpath = ["${dir}/auth.log"]
[jails.nginx-http-auth]
filter = "nginx-http-auth"
logpath = ["${dir}/error.log"]
ipv6_prefix = 64
[jails.my-app]
filter = "sshd"
logpath = ["${dir}/auth.log"]
[jails.postfix]
filter = "postfix"
logpath = ["${dir}/mail.log"]
enabled = false
`,
    );
    await Deno.chmod(`${dir}/config.toml`, 0o600);
    await fn(dir, `${dir}/fail2ban.sqlite3`, `${dir}/config.toml`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("import-fail2ban --bans carries active and permanent bans into the state file, jails mapped", async () => {
  await withBansSetup(async (dir, db, config) => {
    const before = Date.now();
    const r = await importCli("--bans", db, "--config", config);
    equal(r.code, 0, r.stderr);
    match(
      r.stderr,
      /: 4 active bans \(1 permanent\) written to .*state\.bin; 1 ended bans skipped$/m,
    );
    match(
      r.stderr,
      /warning: 1 bans left out: no enabled fail2zig jail for fail2ban jail "postfix"/,
    );
    const loaded = new StateStore(`${dir}/state/state.bin`, {
      saveIntervalMs: 0,
      collect: () => ({ savedAt: 0, bans: [], history: [], failures: [], positions: [] }),
    }).load();
    if (loaded.status !== "loaded") throw new Error(JSON.stringify(loaded));
    const bans = [...loaded.state.bans].map((b) => ({
      jail: b.jail,
      ip: b.ip,
      prefix: b.prefix,
      permanent: b.expiresAt === null,
      banCount: b.banCount,
    })).sort((a, b) => a.ip.localeCompare(b.ip));
    deepEqual(bans, [
      { jail: "my-app", ip: "192.0.2.44", prefix: 32, permanent: false, banCount: 1 },
      { jail: "sshd", ip: "198.51.100.9", prefix: 32, permanent: true, banCount: 3 },
      { jail: "nginx-http-auth", ip: "2001:db8:1:2::", prefix: 64, permanent: false, banCount: 1 },
      { jail: "sshd", ip: "203.0.113.7", prefix: 32, permanent: false, banCount: 1 },
    ]);
    const ssh = [...loaded.state.bans].find((b) => b.ip === "203.0.113.7")!;
    // fail2ban's seconds: banned 60 s ago for 600 s.
    ok(Math.abs(ssh.expiresAt! - ssh.bannedAt - 600_000) === 0);
    ok(ssh.expiresAt! > before && ssh.expiresAt! <= before + 541_000, String(ssh.expiresAt));
    equal(Deno.statSync(`${dir}/state/state.bin`).mode! & 0o777, 0o600);
  });
});

Deno.test("import-fail2ban --bans refuses an existing state file without --force, and a running daemon", async () => {
  await withBansSetup(async (dir, db, config) => {
    await Deno.mkdir(`${dir}/state`);
    await Deno.writeTextFile(`${dir}/state/state.bin`, "not a state file");
    const r = await importCli("--bans", db, "--config", config);
    deepEqual([r.code, r.stdout], [1, ""]);
    match(r.stderr, /state\.bin exists: --force keeps its records .*; nothing written/);
    equal(await Deno.readTextFile(`${dir}/state/state.bin`), "not a state file");

    // A daemon answering on the socket: refused even with --force (it would overwrite the file).
    const listener = Deno.listen({ transport: "unix", path: `${dir}/f.sock` });
    const accepted = (async () => {
      for await (const c of listener) c.close();
    })();
    try {
      const busy = await importCli("--bans", db, "--config", config, "--force");
      equal(busy.code, 1);
      match(busy.stderr, /a fail2zig daemon answers on .*f\.sock: stop it first/);
    } finally {
      listener.close();
      await accepted.catch(() => {});
    }

    // --force: the unreadable file is moved aside, the bans are written.
    const forced = await importCli("--bans", db, "--config", config, "--force");
    equal(forced.code, 0, forced.stderr);
    match(forced.stderr, /4 active bans/);
    match(forced.stderr, /not written: the existing state file: .*moved to .*state\.bin\.corrupt/);
    // Again with --force: the bans already there are kept, not doubled.
    const again = await importCli("--bans", db, "--config", config, "--force");
    match(again.stderr, /written to .*state\.bin beside its records/);
    const loaded = new StateStore(`${dir}/state/state.bin`, {
      saveIntervalMs: 0,
      collect: () => ({ savedAt: 0, bans: [], history: [], failures: [], positions: [] }),
    }).load();
    equal(loaded.status === "loaded" ? [...loaded.state.bans].length : -1, 4);
  });
});

Deno.test("import-fail2ban --bans exits 1 for a file that is not a fail2ban database", async () => {
  await withBansSetup(async (dir, _db, config) => {
    const { DatabaseSync } = await import("node:sqlite");
    const other = new DatabaseSync(`${dir}/other.db`);
    other.exec("CREATE TABLE t(a)");
    other.close();
    const r = await importCli("--bans", `${dir}/other.db`, "--config", config);
    equal(r.code, 1);
    match(r.stderr, /other\.db: expected a fail2ban database with a bips table/);
    ok(!(await Deno.stat(`${dir}/state`).then(() => true, () => false)), "state dir created");
    const missing = await importCli("--bans", `${dir}/none.sqlite3`, "--config", config);
    equal(missing.code, 1);
    match(missing.stderr, /none\.sqlite3: .*unable to open/);
    const flag = await importCli("--force");
    equal(flag.code, 2);
    match(flag.stderr, /--config and --force go with --bans/);
  });
});

Deno.test("import-fail2ban --bans keeps read and write, and drops net once the sockets are probed", async () => {
  await withBansSetup(async (_dir, db, config) => {
    const probe = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "-P=daemon",
        `import { main } from "./cli/import_fail2ban.ts";
         const code = await main(["--bans", ${JSON.stringify(db)}, "--config", ${
          JSON.stringify(config)
        }]);
         const s = await Promise.all(["read", "write", "net", "env", "run", "ffi", "sys"].map(async (name) =>
           name + "=" + (await Deno.permissions.query({ name })).state));
         console.log(code, s.join(" "));`,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    // sys reads "denied": loading node:sqlite starts Deno's Node layer, which asks for it (and
    // is refused: the import does not need it).
    equal(
      new TextDecoder().decode(probe.stdout).trim(),
      "0 read=granted write=granted net=prompt env=prompt run=prompt ffi=prompt sys=denied",
    );
  });
});
