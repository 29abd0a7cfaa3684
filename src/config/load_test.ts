import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { ConfigError, loadConfig } from "./mod.ts";

const isRoot = Deno.uid() === 0;
const NOBODY = 65534;
/** A valid config whose logpath exists everywhere (the on-disk check is tested below). */
const VALID = '[jails.sshd]\nfilter = "sshd"\nlogpath = "/etc/passwd"\n';

/** Runs `fn` with a fresh temp dir holding `config.toml` = `text`; always removes the dir. */
async function withConfig(text: string | Uint8Array, fn: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "fail2zig-config-" });
  try {
    const path = `${dir}/config.toml`;
    if (typeof text === "string") await Deno.writeTextFile(path, text);
    else await Deno.writeFile(path, text);
    await Deno.chmod(path, 0o644);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The messages of the ConfigError that `p` rejects with. */
async function refusal(p: Promise<unknown>): Promise<string[]> {
  let out: string[] = [];
  await rejects(p, (e: unknown) => {
    ok(e instanceof ConfigError, String(e));
    out = e.errors.map((i) => (i.line === 0 ? i.message : `${i.line}:${i.column}: ${i.message}`));
    return true;
  });
  return out;
}

Deno.test("loadConfig() reads, validates and freezes a real file", async () => {
  await withConfig(VALID, async (path) => {
    const config = await loadConfig(path);
    equal(config.path, path);
    deepEqual(config.jails.map((j) => j.name), ["sshd"]);
    ok(Object.isFrozen(config.jails[0]));
  });
});

Deno.test("loadConfig() reports positions from a real file", async () => {
  await withConfig(VALID + "bantme = 5\n", async (path) => {
    deepEqual(await refusal(loadConfig(path)), [
      "4:1: jails.sshd.bantme: unknown key; did you mean bantime?",
    ]);
  });
});

Deno.test("loadConfig() refuses a missing file, a directory and invalid UTF-8", async () => {
  deepEqual(await refusal(loadConfig("/nonexistent/fail2zig.toml")), [
    "cannot read the config file: no such file",
  ]);
  const dir = await Deno.makeTempDir({ prefix: "fail2zig-config-" });
  try {
    deepEqual(await refusal(loadConfig(dir, { checkOwnership: false })), [
      "the config path is not a regular file",
    ]);
  } finally {
    await Deno.remove(dir);
  }
  await withConfig(new Uint8Array([0x61, 0x3d, 0x22, 0xff, 0x22, 0x0a]), async (path) => {
    deepEqual(await refusal(loadConfig(path)), ["the config file is not valid UTF-8"]);
  });
});

Deno.test("loadConfig() refuses a really world-writable config file", async () => {
  await withConfig(VALID, async (path) => {
    await Deno.chmod(path, 0o666);
    deepEqual(await refusal(loadConfig(path, { checkOwnership: false })), [
      `refusing a world-writable config (mode 0666): any local user could disable jails or unban addresses; fix: chmod o-w ${path}`,
    ]);
  });
});

Deno.test({
  name: "loadConfig() as root refuses a config group-writable by a non-root group",
  ignore: !isRoot, // chown to another group needs root
  fn: async () => {
    await withConfig(VALID, async (path) => {
      await Deno.chown(path, 0, NOBODY);
      await Deno.chmod(path, 0o664);
      deepEqual(await refusal(loadConfig(path)), [
        `refusing a config writable by group ${NOBODY} (mode 0664): members of that group could disable jails or unban addresses; fix: chmod g-w ${path} (or chown root:root ${path})`,
      ]);
      await Deno.chown(path, 0, 0); // group root may write: accepted
      equal((await loadConfig(path)).jails.length, 1);
    });
  },
});

Deno.test({
  name: "loadConfig() as root refuses a config owned by another user",
  ignore: !isRoot, // chown to another user needs root
  fn: async () => {
    await withConfig(VALID, async (path) => {
      await Deno.chown(path, NOBODY, 0);
      deepEqual(await refusal(loadConfig(path)), [
        `refusing a config owned by uid ${NOBODY} while running as root: that user could disable jails or unban addresses; fix: chown root:root ${path}`,
      ]);
      // The refusal is decided before parsing: even a broken file gets only the refusal.
      await Deno.writeTextFile(path, "[[[");
      equal((await refusal(loadConfig(path))).length, 1);
      // An unprivileged daemon would not check ownership.
      await Deno.writeTextFile(path, VALID);
      equal((await loadConfig(path, { checkOwnership: false })).jails.length, 1);
    });
  },
});

Deno.test("loadConfig() refuses a literal logpath that does not exist, at its position", async () => {
  await withConfig("", async (path) => {
    const dir = path.slice(0, path.lastIndexOf("/"));
    await Deno.writeTextFile(`${dir}/there.log`, "");
    await Deno.writeTextFile(
      path,
      `[jails.a]\nfilter = "sshd"\nlogpath = "${dir}/gone.log"\n` +
        `[jails.b]\nfilter = "sshd"\nlogpath = ["${dir}/there.log", "${dir}/typo.log"]\n` +
        `[jails.off]\nenabled = false\nfilter = "sshd"\nlogpath = "${dir}/also-gone.log"\n`,
    );
    const why = await refusal(loadConfig(path));
    equal(why.length, 2, why.join("\n"));
    ok(why[0]!.startsWith(`3:11: jails.a.logpath: ${dir}/gone.log does not exist`), why[0]);
    ok(why[0]!.includes('missing_logpath = "warn"'), why[0]);
    const col = `logpath = ["${dir}/there.log", `.length + 1;
    ok(why[1]!.startsWith(`6:${col}: jails.b.logpath[1]: ${dir}/typo.log does not exist`), why[1]);
    // The check can be skipped (and the parse alone never touches the disk).
    equal((await loadConfig(path, { checkLogpaths: false })).jails.length, 3);
  });
});

Deno.test('loadConfig() only warns for missing_logpath = "warn" and for a glob that matches nothing yet', async () => {
  await withConfig("", async (path) => {
    const dir = path.slice(0, path.lastIndexOf("/"));
    await Deno.writeTextFile(`${dir}/web-1.log`, "");
    await Deno.writeTextFile(
      path,
      `[defaults]\nmissing_logpath = "warn"\n` +
        `[jails.a]\nfilter = "sshd"\nlogpath = "${dir}/later.log"\n` +
        `[jails.b]\nfilter = "sshd"\nmissing_logpath = "error"\n` +
        `logpath = ["${dir}/web-*.log", "${dir}/none-*.log"]\n`,
    );
    const warnings: string[] = [];
    const config = await loadConfig(path, {
      onWarning: (w) => warnings.push(`${w.line}:${w.column}: ${w.message}`),
    });
    deepEqual(config.jails.map((j) => j.missingLogpath), ["warn", "error"]);
    equal(warnings.length, 2, warnings.join("\n"));
    ok(warnings[0]!.startsWith(`5:11: jails.a.logpath: ${dir}/later.log does not exist; `));
    ok(warnings[1]!.includes(`jails.b.logpath[1]: ${dir}/none-*.log matches no file yet`));
  });
});

Deno.test("missing_logpath is refused for jails that read no files", async () => {
  await withConfig(
    '[jails.j]\nfilter = "sshd"\nsource = "journald"\njournal_match = ["_COMM=sshd"]\n' +
      'missing_logpath = "warn"\n[jails.r]\nsource = "bans"\nmissing_logpath = "nope"\n',
    async (path) => {
      deepEqual(await refusal(loadConfig(path)), [
        '5:1: jails.j.missing_logpath: not used with source = "journald"; remove it',
        '8:1: jails.r.missing_logpath: not used with source = "bans"; remove it',
        '8:19: jails.r.missing_logpath: expected one of "error", "warn", found string "nope"',
      ]);
    },
  );
});

Deno.test("loadConfig() refuses a 0644 config in a world-writable directory, or below one, unless root-owned and sticky", async () => {
  await withConfig(VALID, async (path) => {
    const dir = path.slice(0, path.lastIndexOf("/"));
    await Deno.chmod(dir, 0o777);
    deepEqual(await refusal(loadConfig(path, { checkOwnership: false })), [
      `refusing a config in a world-writable directory ${dir} (mode 0777, not sticky and root-owned): any local user could replace it; fix: chmod o-w ${dir}`,
    ]);
    // One level down, in a safe directory: the open one above could still swap the directory.
    await Deno.mkdir(`${dir}/sub`, { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/sub/config.toml`, VALID, { mode: 0o644 });
    const below = await refusal(loadConfig(`${dir}/sub/config.toml`, { checkOwnership: false }));
    ok(below.length === 1 && below[0]!.includes(`world-writable directory ${dir} `), below[0]);
    // Reached through a symlink in a safe directory, the file's real directory still counts.
    const safe = await Deno.makeTempDir({ prefix: "fail2zig-link-" });
    try {
      await Deno.symlink(path, `${safe}/config.toml`);
      equal(
        (await refusal(loadConfig(`${safe}/config.toml`, { checkOwnership: false }))).length,
        1,
      );
    } finally {
      await Deno.remove(safe, { recursive: true });
    }
    if (isRoot) {
      await Deno.chmod(dir, 0o1777); // root-owned and sticky, as /tmp
      equal((await loadConfig(path)).jails.length, 1);
    }
    await Deno.chmod(dir, 0o700);
  });
});

Deno.test({
  name: "loadConfig() as root refuses a config in a directory owned by another user",
  ignore: !isRoot,
  fn: async () => {
    await withConfig(VALID, async (path) => {
      const dir = path.slice(0, path.lastIndexOf("/"));
      await Deno.chown(dir, NOBODY, 0);
      deepEqual(await refusal(loadConfig(path)), [
        `refusing a config in directory ${dir}, owned by uid ${NOBODY} while running as root: that user could replace it; fix: chown root ${dir}`,
      ]);
    });
  },
});

Deno.test("loadConfig() warns for an exec action whose program is missing, not a file or not executable", async () => {
  await withConfig("", async (path) => {
    const dir = path.slice(0, path.lastIndexOf("/"));
    await Deno.writeTextFile(`${dir}/plain.sh`, "#!/bin/sh\n");
    await Deno.chmod(`${dir}/plain.sh`, 0o644);
    await Deno.writeTextFile(
      path,
      `[actions.a]\ntype = "exec"\non_ban = ["${dir}/gone"]\non_unban = ["${dir}/plain.sh"]\n` +
        `[actions.b]\ntype = "exec"\non_ban = ["${dir}"]\n` +
        `[actions.c]\ntype = "exec"\non_ban = ["/bin/true"]\n`,
    );
    const warnings: string[] = [];
    await loadConfig(path, {
      onWarning: (w) => warnings.push(`${w.line}:${w.column}: ${w.message}`),
    });
    deepEqual(warnings, [
      `3:11: actions.a.on_ban[0]: ${dir}/gone does not exist; every run of the action fails`,
      `4:13: actions.a.on_unban[0]: ${dir}/plain.sh is not executable; every run of the action fails`,
      `7:11: actions.b.on_ban[0]: ${dir} is not a file; every run of the action fails`,
    ]);
  });
});

Deno.test("loadConfig() warns about a user filter whose patterns disagree on a line the service could write", async () => {
  await withConfig("", async (path) => {
    const dir = path.slice(0, path.lastIndexOf("/"));
    await Deno.writeTextFile(`${dir}/web.log`, "");
    await Deno.writeTextFile(
      path,
      `[filters.web]\npatterns = ["[client <HOST>] x", "[client <HOST>:<NUM>] x"]\n` +
        `[filters.ok]\npatterns = ["[client <HOST>:<NUM>] x"]\n` +
        `[jails.web]\nfilter = "web"\nlogpath = "${dir}/web.log"\n`,
    );
    const warnings: string[] = [];
    await loadConfig(path, {
      onWarning: (w) => warnings.push(`${w.line}:${w.column}: ${w.message}`),
    });
    // `[client 2001:db8::1:4242] x` is 2001:db8::1:4242 to the first, 2001:db8::1 to the second
    equal(warnings.length, 1, warnings.join("\n"));
    ok(
      warnings[0]!.startsWith("2:34: filters.web.patterns[1]: the patterns disagree"),
      warnings[0],
    );
    ok(warnings[0]!.includes("[client 2001:db8::1:4242] x"), warnings[0]);
  });
});
