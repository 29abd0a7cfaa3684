/**
 * Symlinked `logpath`s (threat model: anyone who can drop a symlink into a watched log directory
 * must not take the daemon offline). The parser Worker's read permission must cover where links
 * lead; a link that cannot be followed disables that one file with a warning.
 */
import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { makeConfig, privateGlobal, type RunningDaemon, startDaemon } from "./_daemon.ts";

function failLines(ip: string, n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) {
    out += `${new Date().toISOString()} web1 sshd[${
      1000 + i
    }]: Failed password for root from ${ip} port ${40000 + i} ssh2\n`;
  }
  return out;
}

function jail(name: string, logpath: string, extra = ""): string {
  return `[jails.${name}]
filter = "sshd"
logpath = "${logpath}"
maxretry = 2
findtime = "10m"
bantime = "10m"
${extra}
`;
}

const banOf = (ip: string) => (r: Record<string, unknown>) =>
  r["event"] === "ban" && r["ip"] === ip;

async function stopAndClean(daemon: RunningDaemon, ...dirs: string[]): Promise<void> {
  equal(await daemon.stop(), 0, "SIGTERM stops the daemon cleanly");
  for (const d of dirs) await Deno.remove(d, { recursive: true });
}

Deno.test("a logpath that is a symlink to a file in another directory is read: the daemon starts and bans from it", async () => {
  const elsewhere = await Deno.makeTempDir({ prefix: "fail2zig-target-" });
  const target = join(elsewhere, "real.log");
  await Deno.writeTextFile(target, "");
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d)}\n${jail("sshd", join(d, "auth.log"))}\n${
      jail("glob", join(d, "g", "*.log"))
    }\n${jail("dirs", join(d, "svc", "*", "*.log"))}`
  );
  await Deno.symlink(target, join(dir, "auth.log"));
  // A glob whose directory is itself a link to another place, holding a link to the target too.
  await Deno.mkdir(join(elsewhere, "gdir"));
  await Deno.writeTextFile(join(elsewhere, "gdir", "app.log"), "");
  await Deno.symlink(join(elsewhere, "gdir"), join(dir, "g"));
  // A glob over directories, one of which is a link to a directory elsewhere.
  await Deno.mkdir(join(elsewhere, "adir"));
  await Deno.writeTextFile(join(elsewhere, "adir", "app.log"), "");
  await Deno.mkdir(join(dir, "svc"));
  await Deno.symlink(join(elsewhere, "adir"), join(dir, "svc", "a"));
  const daemon = await startDaemon(dir, config);
  try {
    await Deno.writeTextFile(join(elsewhere, "adir", "app.log"), failLines("192.0.2.6", 2), {
      append: true,
    });
    equal((await daemon.waitFor(banOf("192.0.2.6")))["jail"], "dirs");
    // A file that appears later in the linked directory, under a name the glob matches.
    await Deno.writeTextFile(join(elsewhere, "adir", "new.log"), failLines("192.0.2.5", 2));
    equal((await daemon.waitFor(banOf("192.0.2.5")))["jail"], "dirs");
    await Deno.writeTextFile(target, failLines("192.0.2.7", 2), { append: true });
    await daemon.waitFor(banOf("192.0.2.7"));
    await Deno.writeTextFile(join(elsewhere, "gdir", "app.log"), failLines("192.0.2.8", 2), {
      append: true,
    });
    const ban = await daemon.waitFor(banOf("192.0.2.8"));
    equal(ban["jail"], "glob");
    ok(
      !daemon.err.some((r) => String(r["msg"]).includes("cannot open")),
      JSON.stringify(daemon.err),
    );
  } finally {
    await stopAndClean(daemon, dir, elsewhere);
  }
});

Deno.test("a dangling or looping logpath link, or one appearing later, only warns: the other jails work", async () => {
  const elsewhere = await Deno.makeTempDir({ prefix: "fail2zig-target-" });
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d)}\n${jail("dangling", join(d, "gone.log"))}\n${
      jail("loop", join(d, "loop.log"))
    }\n${jail("glob", join(d, "logs", "*.log"))}\n${jail("sshd", join(d, "auth.log"))}`
  );
  await Deno.symlink(join(elsewhere, "missing.log"), join(dir, "gone.log"));
  await Deno.symlink(join(dir, "loop.log"), join(dir, "loop.log"));
  await Deno.mkdir(join(dir, "logs"));
  await Deno.writeTextFile(join(dir, "logs", "ok.log"), "");
  await Deno.writeTextFile(join(dir, "auth.log"), "");
  const daemon = await startDaemon(dir, config);
  try {
    const warned = daemon.err.filter((r) => r["msg"] === "config warning").map((r) => r["issue"]);
    equal(warned.length, 2, JSON.stringify(daemon.err));
    ok(warned.every((w) => String(w).includes("is a symlink that cannot be resolved")));
    // A link dropped into the watched glob directory after start, to a file the Worker may not
    // read: that one file is skipped with a warning, the rest goes on.
    const secret = join(elsewhere, "secret.log");
    await Deno.writeTextFile(secret, failLines("192.0.2.66", 2));
    await Deno.symlink(secret, join(dir, "logs", "evil.log"));
    const warning = await daemon.waitFor((r) =>
      String(r["msg"]).startsWith(`file source: cannot open ${join(dir, "logs", "evil.log")}`)
    );
    equal(warning["level"], "warn");
    await Deno.writeTextFile(join(dir, "auth.log"), failLines("192.0.2.9", 2), { append: true });
    await daemon.waitFor(banOf("192.0.2.9"));
    await Deno.writeTextFile(join(dir, "logs", "ok.log"), failLines("192.0.2.10", 2), {
      append: true,
    });
    await daemon.waitFor(banOf("192.0.2.10"));
    ok(!daemon.out.some(banOf("192.0.2.66")), "nothing read from where the Worker may not read");
  } finally {
    await stopAndClean(daemon, dir, elsewhere);
  }
});
