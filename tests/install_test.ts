/**
 * `scripts/install.sh` into a temporary root (`--root`): the tree it makes, the installed program
 * running from there, the man pages rendering, the bash completion completing, the unit passing
 * `systemd-analyze verify`, an upgrade keeping the config, `--uninstall`, `--dry-run` and
 * `--binary`. Root only (the config is chowned to the fail2zig group); CI runs as root.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { makeConfig, privateGlobal, ROOT, sshdJail } from "./_daemon.ts";
import { COMMANDS } from "../mod.ts";
import { CONFIG_KEYS } from "../src/config/mod.ts";

const isRoot = Deno.uid() === 0;
const PREFIX = "/usr/local";

async function sh(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

const install = (...args: string[]) => sh("bash", [join(ROOT, "scripts/install.sh"), ...args]);

/** Fails unless `cmd` is installed: checked, never skipped (.ci/run installs `pkg`). */
function need(cmd: string, pkg: string): void {
  const found = ["/usr/bin", "/bin", "/usr/sbin"].some((d) => {
    try {
      Deno.statSync(`${d}/${cmd}`);
      return true;
    } catch {
      return false;
    }
  });
  ok(found, `expected ${cmd}: apt-get install ${pkg} (as .ci/run does)`);
}

/** A temporary root with the /etc/group and /etc/passwd that groupadd --prefix needs. */
async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "f2z-install-" });
  try {
    await Deno.mkdir(`${root}/etc`);
    await Deno.writeTextFile(`${root}/etc/group`, "root:x:0:\n");
    await Deno.writeTextFile(`${root}/etc/passwd`, "root:x:0:0:root:/root:/bin/sh\n");
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function mode(path: string): number {
  return Deno.statSync(path).mode! & 0o7777;
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The installed wrapper's daemon narrows itself (docs/permissions.md): its first record names
 * the computed flags, reading the installed sources (`LIB/src`), not the checkout's.
 */
async function installedDaemonNarrows(bin: string, lib: string): Promise<void> {
  const { dir, config } = await makeConfig((d) => `${privateGlobal(d)}\n${sshdJail(d)}`);
  await Deno.writeTextFile(join(dir, "auth.log"), "");
  const daemon = new Deno.Command(bin, {
    args: ["daemon", "--config", config],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    let first = "";
    for await (const chunk of daemon.stderr.pipeThrough(new TextDecoderStream())) {
      first += chunk;
      if (first.includes("\n")) break;
    }
    const rec = JSON.parse(first.slice(0, first.indexOf("\n")));
    equal(rec.msg, "permissions narrowed", first);
    match(rec.flags, new RegExp(`^--allow-read=[^ ]*${lib}/src[, ]`));
    ok(!rec.flags.includes(join(ROOT, "src")), rec.flags);
  } finally {
    daemon.kill("SIGTERM");
    await daemon.status;
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "install.sh installs into a root: program, group-readable config, unit, pages, completion",
  ignore: !isRoot,
  fn: async () => {
    await withRoot(async (root) => {
      const r = await install("--root", root);
      equal(r.code, 0, r.out + r.err);
      const bin = `${root}${PREFIX}/bin/fail2zig`;
      const lib = `${root}${PREFIX}/lib/fail2zig`;
      const etc = `${root}/etc`;

      // The checkout with its pinned runtime, and a wrapper that runs it from where it lies.
      equal(mode(bin), 0o755);
      match(await Deno.readTextFile(bin), /^#!\/bin\/sh\n/);
      equal(mode(`${lib}/deno`), 0o755);
      ok(exists(`${lib}/mod.ts`) && exists(`${lib}/node_modules/smol-toml/package.json`));
      ok(!exists(`${lib}/src/config/parse_test.ts`), "tests are not installed");
      // Every runtime package is there: the fleet module loads its NATS client from the copy.
      const fleet = await sh(`${lib}/deno`, ["run", "-q", "-A", `${lib}/src/fleet/mod.ts`]);
      deepEqual(fleet, { code: 0, out: "", err: "" });
      deepEqual(await sh(bin, ["version"]), { code: 0, out: "fail2zig 0.1.0\n", err: "" });
      const check = await sh(bin, ["config", "check", "--config", `${etc}/fail2zig/config.toml`]);
      deepEqual(check, { code: 0, out: "OK (1 jails)\n", err: "" });
      await installedDaemonNarrows(bin, lib);

      // The group, and the config readable by it (so its members' clients find socket_path).
      const group = await Deno.readTextFile(`${etc}/group`);
      const gid = Number(/^fail2zig:x:(\d+):/m.exec(group)?.[1]);
      ok(gid > 0, group);
      const cfg = Deno.statSync(`${etc}/fail2zig/config.toml`);
      deepEqual([cfg.mode! & 0o777, cfg.uid, cfg.gid], [0o640, 0, gid]);

      // The unit follows nftables and gets MemoryMax from the config's ceiling.
      const unit = await Deno.readTextFile(`${etc}/systemd/system/fail2zig.service`);
      match(unit, /^PartOf=nftables\.service$/m);
      match(unit, /^After=.*\bnftables\.service\b/m);
      match(unit, /^ExecStart=\/usr\/local\/bin\/fail2zig daemon /m);
      match(unit, /^Documentation=man:fail2zig\(8\) man:fail2zig\.toml\(5\) /m);
      const dropIn = `${etc}/systemd/system/fail2zig.service.d/memory.conf`;
      match(await Deno.readTextFile(dropIn), /^\[Service\]\nMemoryMax=160M$/m);
      ok(exists(`${root}${PREFIX}/share/doc/fail2zig/interfaces.md`), "Documentation= target");
      // The terms of what is installed travel with it: Deno's and every runtime package's.
      const licenses = `${root}${PREFIX}/share/doc/fail2zig/licenses`;
      for (const pkg of ["deno", "smol-toml", "@nats-io/jetstream", "tweetnacl"]) {
        const text = await Deno.readTextFile(`${licenses}/${pkg}/LICENSE`);
        equal(text, await Deno.readTextFile(join(ROOT, "node_modules", pkg, "LICENSE")), pkg);
        equal(mode(`${licenses}/${pkg}/LICENSE`), 0o644);
      }
      ok(exists(`${etc}/logrotate.d/fail2zig`));

      // The man pages render without warnings and carry every command's --help, every key.
      const page8 = `${root}${PREFIX}/share/man/man8/fail2zig.8`;
      const page5 = `${root}${PREFIX}/share/man/man5/fail2zig.toml.5`;
      for (const page of [page8, page5]) {
        const lint = await sh("groff", ["-man", "-ww", "-z", page]);
        deepEqual([lint.code, lint.err], [0, ""], page);
      }
      const man8 = await sh("man", ["-l", page8], { MANWIDTH: "200", PATH: "/usr/bin:/bin" });
      equal(man8.code, 0, man8.err);
      match(man8.out, /^FAIL2ZIG\(8\)/);
      for (const name of Object.keys(COMMANDS)) {
        const help = await sh(bin, [...name.split(" "), "--help"]);
        for (const line of help.out.split("\n").filter((l) => l.trim() !== "")) {
          ok(
            man8.out.includes(line.trim()),
            `fail2zig(8) lacks "${line.trim()}" of ${name} --help`,
          );
        }
      }
      const man5 = await sh("man", ["-l", page5], { MANWIDTH: "200", PATH: "/usr/bin:/bin" });
      equal(man5.code, 0, man5.err);
      for (const key of Object.values(CONFIG_KEYS).flat()) {
        ok(new RegExp(`^ {7}${key} \\(`, "m").test(man5.out), `fail2zig.toml(5) lacks ${key}`);
      }

      // The bash completion loads and completes commands, client commands and flags.
      const completion = `${root}${PREFIX}/share/bash-completion/completions/fail2zig`;
      const complete = async (...words: string[]) => {
        const script = `source ${completion}; COMP_WORDS=(${
          words.map((w) => `'${w}'`).join(" ")
        }); ` +
          `COMP_CWORD=${words.length - 1}; _fail2zig; echo "\${COMPREPLY[*]}"`;
        const c = await sh("bash", ["--norc", "-c", script]);
        equal(c.err, "");
        return c.out.trim();
      };
      equal(await complete("fail2zig", "cl"), "client");
      equal(await complete("fail2zig", "client", "ig"), "ignore");
      equal(await complete("fail2zig", "client", "--out"), "--output");
      equal(await complete("fail2zig", "config", "ch"), "check");
      equal(await complete("fail2zig", "config", "check", "--con"), "--config");

      // zsh and fish completions, installed where those shells look (checked when installed).
      const zshComp = `${root}${PREFIX}/share/zsh/site-functions/_fail2zig`;
      const fishComp = `${root}${PREFIX}/share/fish/vendor_completions.d/fail2zig.fish`;
      match(await Deno.readTextFile(zshComp), /^#compdef fail2zig\n/);
      match(await Deno.readTextFile(fishComp), /^complete -c fail2zig /m);
      need("zsh", "zsh");
      // compadd stubbed: the offers before zsh's own prefix filtering.
      const zsh = async (current: number, ...words: string[]) => {
        const script = `compadd() { [[ $1 == -- ]] && shift; print -r -- "$@"; }; ` +
          `words=(${words.map((w) => `'${w}'`).join(" ")}); CURRENT=${current}; ` +
          `source ${zshComp}`;
        const c = await sh("zsh", ["-f", "-c", script]);
        equal(c.err, "");
        return c.out.trim().split(" ");
      };
      ok((await zsh(2, "fail2zig", "cl")).includes("client"));
      ok((await zsh(3, "fail2zig", "client", "ig")).includes("ignore"));
      ok((await zsh(3, "fail2zig", "client", "--out")).includes("--output"));
      deepEqual(await zsh(3, "fail2zig", "config", "ch"), ["check"]);
      ok((await zsh(4, "fail2zig", "import-fail2ban", "--bans", "--")).includes("--force"));
      need("fish", "fish");
      const fish = async (line: string) => {
        const c = await sh("fish", ["-N", "-c", `source ${fishComp}; complete -C '${line}'`]);
        equal(c.err, "");
        return c.out.split("\n").map((l) => l.split("\t")[0]).filter((l) => l !== "");
      };
      deepEqual(await fish("fail2zig cl"), ["client"]);
      deepEqual(await fish("fail2zig client ig"), ["ignore"]);
      deepEqual(await fish("fail2zig config ch"), ["check"]);
      deepEqual(await fish("fail2zig config check --con"), ["--config"]);

      need("systemd-analyze", "systemd");
      // verify --root resolves everything inside the root: give it systemd's own units.
      await Deno.mkdir(`${root}/usr/lib/systemd`, { recursive: true });
      await sh("cp", ["-a", "/usr/lib/systemd/system", `${root}/usr/lib/systemd/`]);
      await Deno.mkdir(`${root}/bin`, { recursive: true });
      await Deno.copyFile("/bin/kill", `${root}/bin/kill`);
      const v = await sh("systemd-analyze", [
        "verify",
        "--man=no",
        `--root=${root}`,
        "/etc/systemd/system/fail2zig.service",
      ]);
      deepEqual([v.code, v.err], [0, ""], v.err);

      // An upgrade keeps the config and follows its ceiling.
      const edited = (await Deno.readTextFile(`${etc}/fail2zig/config.toml`)).replace(
        "# memory_ceiling_mb = 128",
        "memory_ceiling_mb = 256",
      );
      await Deno.writeTextFile(`${etc}/fail2zig/config.toml`, edited);
      const again = await install("--root", root);
      equal(again.code, 0, again.out + again.err);
      match(again.out, /keeping .*\/etc\/fail2zig\/config\.toml/);
      equal(await Deno.readTextFile(`${etc}/fail2zig/config.toml`), edited);
      match(await Deno.readTextFile(dropIn), /^MemoryMax=288M$/m);

      // Uninstall removes the program and what goes with it; config, state and group stay.
      await Deno.mkdir(`${root}/var/lib/fail2zig`, { recursive: true });
      await Deno.writeTextFile(`${root}/var/lib/fail2zig/state.bin`, "state");
      const un = await install("--root", root, "--uninstall");
      equal(un.code, 0, un.out + un.err);
      const gone = [bin, lib, page8, page5, completion, zshComp, fishComp, dropIn];
      for (
        const g of [...gone, `${etc}/logrotate.d/fail2zig`, `${root}${PREFIX}/share/doc/fail2zig`]
      ) {
        ok(!exists(g), `${g} is still there`);
      }
      ok(!exists(`${etc}/systemd/system/fail2zig.service`));
      equal(await Deno.readTextFile(`${etc}/fail2zig/config.toml`), edited);
      match(await Deno.readTextFile(`${etc}/group`), /^fail2zig:/m);
      equal(await Deno.readTextFile(`${root}/var/lib/fail2zig/state.bin`), "state");
    });
  },
});

Deno.test({
  name: "install.sh --dry-run changes nothing and --binary installs a compiled executable instead",
  ignore: !isRoot,
  fn: async () => {
    await withRoot(async (root) => {
      const dry = await install("--root", root, "--dry-run");
      equal(dry.code, 0, dry.err);
      match(dry.out, /^\+ groupadd --prefix .* --system fail2zig$/m);
      match(dry.out, /^\+ install -m 0640 -o 0 -g fail2zig .*packaging\/config\.toml /m);
      deepEqual([...Deno.readDirSync(`${root}/etc`)].map((e) => e.name).sort(), [
        "group",
        "passwd",
      ]);
      deepEqual([...Deno.readDirSync(root)].map((e) => e.name), ["etc"]);

      const exe = `${root}/fail2zig-compiled`;
      await Deno.writeTextFile(exe, '#!/bin/sh\necho compiled fail2zig "$@"\n');
      await Deno.chmod(exe, 0o755);
      const r = await install("--root", root, "--prefix", "/opt/f2z", "--binary", exe);
      equal(r.code, 0, r.out + r.err);
      const bin = `${root}/opt/f2z/bin/fail2zig`;
      equal(await Deno.readTextFile(bin), await Deno.readTextFile(exe));
      equal(mode(bin), 0o755);
      ok(!exists(`${root}/opt/f2z/lib/fail2zig`), "no checkout copy next to an executable");
      const unit = await Deno.readTextFile(`${root}/etc/systemd/system/fail2zig.service`);
      match(unit, /^ExecStart=\/opt\/f2z\/bin\/fail2zig daemon /m);
      ok(!unit.includes("/usr/local/"), unit);
    });
  },
});

Deno.test({
  name:
    "install.sh over a running daemon restarts it once the new program takes the config, else leaves it running",
  ignore: !isRoot,
  fn: async () => {
    await withRoot(async (root) => {
      // The program: the checkout's own CLI; systemctl: a recorder whose unit is active while
      // the file `active` exists.
      const exe = `${root}/fail2zig-checkout`;
      await Deno.writeTextFile(
        exe,
        `#!/bin/sh\nexec ${ROOT}/node_modules/deno/deno run -q -A ${ROOT}/mod.ts "$@"\n`,
      );
      const calls = `${root}/systemctl.log`;
      const systemctl = `${root}/systemctl`;
      await Deno.writeTextFile(
        systemctl,
        `#!/bin/sh\necho "$*" >>${calls}\n` +
          `if [ "$1" = is-active ]; then exec test -e ${root}/active; fi\n`,
      );
      for (const f of [exe, systemctl]) await Deno.chmod(f, 0o755);
      const upgrade = async (...extra: string[]) => {
        await Deno.writeTextFile(calls, "");
        const r = await sh(
          "bash",
          [join(ROOT, "scripts/install.sh"), "--root", root, "--binary", exe, ...extra],
          { SYSTEMCTL: systemctl },
        );
        return { ...r, calls: (await Deno.readTextFile(calls)).trim().split("\n") };
      };

      const fresh = await upgrade();
      equal(fresh.code, 0, fresh.out + fresh.err);
      deepEqual(fresh.calls, ["daemon-reload", "is-active --quiet fail2zig.service"]);
      match(fresh.out, /systemctl enable --now fail2zig/);

      await Deno.writeTextFile(`${root}/active`, "");
      const running = await upgrade();
      equal(running.code, 0, running.out + running.err);
      deepEqual(running.calls, [
        "daemon-reload",
        "is-active --quiet fail2zig.service",
        "try-restart fail2zig.service",
      ]);
      match(running.out, /restarted the running fail2zig\.service on the new program/);

      // A config the new program refuses: named with its line, the daemon left as it runs.
      const config = `${root}/etc/fail2zig/config.toml`;
      await Deno.writeTextFile(config, "[global]\n", { append: true });
      const refused = await upgrade();
      equal(refused.code, 1, refused.out + refused.err);
      deepEqual(refused.calls, ["daemon-reload", "is-active --quiet fail2zig.service"]);
      match(refused.err, new RegExp(`${config}:\\d+:\\d+: duplicate table \\[global\\]`));
      match(refused.out + refused.err, /NOT restarted: the new program refuses/);

      const un = await upgrade("--uninstall");
      equal(un.code, 0, un.out + un.err);
      deepEqual(un.calls, ["disable --now fail2zig.service", "daemon-reload"]);
    });
  },
});
