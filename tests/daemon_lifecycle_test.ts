/**
 * The daemon's start and stop as an operator sees them, with the real nftables backend inside a
 * network namespace: a start that fails at a later stage (metrics port taken, state directory
 * that cannot be created, audit log that cannot be opened) unwinds everything it did — no
 * `inet fail2zig` table, no socket — and prints one line naming the cause; a second daemon on the
 * socket of a live one is refused before it touches the firewall; bans that reached the kernel
 * but not the state file (`kill -9` right after a ban) are read back at the next start. Root only.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  makeConfig,
  nsClient,
  privateGlobal,
  ROOT,
  type RunningDaemon,
  startDaemon,
} from "./_daemon.ts";
import { DENO, isRoot, Netns, startTcpListener, uniqueName } from "./_netns.ts";

const opts = { ignore: !isRoot, sanitizeResources: false, sanitizeOps: false } as const;

/**
 * A config with the nftables backend and every path inside `dir`; `set` replaces or adds
 * `[global]` keys (`key = value` lines).
 */
function nftConfig(dir: string, set: Record<string, string> = {}): string {
  let global = privateGlobal(dir).replace('firewall = "log-only"', 'firewall = "nftables"');
  for (const [key, value] of Object.entries(set)) {
    const line = new RegExp(`^${key} = .*$`, "m");
    global = line.test(global)
      ? global.replace(line, `${key} = ${value}`)
      : `${global}${key} = ${value}\n`;
  }
  return `${global}
[jails.sshd]
filter = "sshd"
logpath = "${join(dir, "auth.log")}"
maxretry = 3
bantime = "1h"
`;
}

/** Runs `fail2zig daemon --config CONFIG` in `ns` to its exit (bounded by `timeout 60`). */
async function runDaemonToExit(ns: Netns, config: string) {
  return await ns.exec([
    "timeout",
    "60",
    DENO,
    "run",
    "-q",
    `--config=${join(ROOT, "deno.json")}`,
    "-P=daemon",
    join(ROOT, "mod.ts"),
    "daemon",
    "--config",
    config,
  ]);
}

/** Asserts the shape of a refused start: exit 1, one error line naming `cause`, no stack trace. */
function assertOneLineFailure(
  r: { code: number; stdout: string; stderr: string },
  cause: RegExp,
): void {
  assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.ok(
    lines.every((l) => l.startsWith("{")),
    `only JSON records, no stack trace: ${r.stderr}`,
  );
  const errors = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((x) =>
    x["level"] === "error"
  );
  assert.equal(errors.length, 1, `exactly one error line: ${r.stderr}`);
  assert.match(JSON.stringify(errors[0]), cause);
  assert.ok(!lines.some((l) => /"msg":"ready"/.test(l)), "never reported ready");
}

async function assertNothingLeft(ns: Netns, dir: string): Promise<void> {
  assert.doesNotMatch(await ns.execOk(["nft", "list", "ruleset"]), /fail2zig/, "no table left");
  await assert.rejects(Deno.lstat(join(dir, "fail2zig.sock")), "no socket file left");
}

/** A start failing at a later stage, in a fresh namespace; `prepare` breaks something first. */
function failedStartTest(
  name: string,
  cause: RegExp,
  prepare: (
    ns: Netns,
    dir: string,
  ) => Promise<{ set: Record<string, string>; cleanup?: () => Promise<void> }>,
): void {
  Deno.test({
    ...opts,
    name,
    fn: async () => {
      const ns = await Netns.create(uniqueName("failstart"));
      const dir = await Deno.makeTempDir({ prefix: "fail2zig-test-" });
      let cleanup: (() => Promise<void>) | undefined;
      try {
        await Deno.writeTextFile(join(dir, "auth.log"), "");
        const p = await prepare(ns, dir);
        cleanup = p.cleanup;
        const config = join(dir, "config.toml");
        await Deno.writeTextFile(config, nftConfig(dir, p.set));
        await Deno.chmod(config, 0o644);
        const r = await runDaemonToExit(ns, config);
        assertOneLineFailure(r, cause);
        await assertNothingLeft(ns, dir);
      } finally {
        await cleanup?.();
        await ns.destroy();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

failedStartTest(
  "a start with the metrics port taken exits 1 with one line naming it and leaves no table and no socket",
  /metrics.*127\.0\.0\.1:9190.*(in use|AddrInUse)/i,
  async (ns) => {
    const l = await startTcpListener(ns, 9190);
    return { set: { metrics_bind: '"127.0.0.1:9190"' }, cleanup: l.close };
  },
);

failedStartTest(
  "a start whose state directory cannot be created exits 1 with one line naming it and leaves no table and no socket",
  /state.*not-a-dir/,
  async (_ns, dir) => {
    await Deno.writeTextFile(join(dir, "not-a-dir"), "a regular file\n");
    return { set: { state_file: `"${join(dir, "not-a-dir", "state.bin")}"` } };
  },
);

failedStartTest(
  "a start whose audit log cannot be opened exits 1 with one line naming it and leaves no table and no socket",
  /audit.*audit-dir/,
  async (_ns, dir) => {
    await Deno.mkdir(join(dir, "audit-dir"));
    return { set: { audit_log: `"${join(dir, "audit-dir")}"` } };
  },
);

failedStartTest(
  "a start whose control socket directory cannot be created exits 1 with one line naming it and leaves no table",
  /control socket.*not-a-dir/,
  async (_ns, dir) => {
    await Deno.writeTextFile(join(dir, "not-a-dir"), "a regular file\n");
    return { set: { socket_path: `"${join(dir, "not-a-dir", "fail2zig.sock")}"` } };
  },
);

Deno.test({
  ...opts,
  name:
    "a second daemon on the socket of a live one is refused before it touches the firewall; the live one is untouched",
  fn: async () => {
    const ns = await Netns.create(uniqueName("second"));
    const { dir, config } = await makeConfig((d) => nftConfig(d));
    let live: RunningDaemon | null = null;
    try {
      await Deno.writeTextFile(join(dir, "auth.log"), "");
      live = await startDaemon(dir, config, { prefix: ns.prefix() });
      const sock = join(dir, "fail2zig.sock");
      assert.equal((await nsClient(ns, sock, "ban", "198.51.100.7", "--jail", "sshd")).code, 0);
      const table = async () =>
        (await ns.execOk(["nft", "-a", "list", "table", "inet", "fail2zig"]))
          .replace(/ expires \S+/g, "");
      const before = await table();
      assert.match(before, /198\.51\.100\.7/);

      const r = await runDaemonToExit(ns, config);
      assertOneLineFailure(r, /fail2zig\.sock.*(running|in use)/);
      assert.ok(!/fw_probe_failed|backend/.test(r.stderr), `no backend was tried: ${r.stderr}`);

      const after = await table();
      assert.equal(after, before, "table, chain, rules (handles) and elements unchanged");
      const list = await nsClient(ns, sock, "list");
      assert.equal(list.code, 0, list.err);
      assert.deepEqual(
        (list.json?.["bans"] as { ip: string }[]).map((b) => b.ip),
        ["198.51.100.7"],
      );
      assert.equal(await live.stop(), 0);
      live = null;
    } finally {
      await live?.stop("SIGKILL").catch(() => {});
      await ns.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Everything the kernel shows of the daemon's firewall, in the backend's own tool. */
async function kernelListing(ns: Netns, backend: string): Promise<string> {
  if (backend === "nftables") return await ns.execOk(["nft", "list", "ruleset"]);
  if (backend === "iptables") return await ns.execOk(["iptables", "-S"]);
  return await ns.execOk(["ipset", "list"]);
}

for (const backend of ["nftables", "iptables", "ipset"]) {
  Deno.test({
    ...opts,
    name:
      `${backend}: a ban that reached the kernel before kill -9 is listed after the restart and can be lifted`,
    fn: async () => {
      const ns = await Netns.create(uniqueName("leftover"));
      // A save interval far longer than the test: the state file never sees the ban.
      const { dir, config } = await makeConfig((d) =>
        nftConfig(d, { save_interval: '"1h"', firewall: `"${backend}"` })
      );
      let daemon: RunningDaemon | null = null;
      try {
        await Deno.writeTextFile(join(dir, "auth.log"), "");
        daemon = await startDaemon(dir, config, { prefix: ns.prefix() });
        const sock = join(dir, "fail2zig.sock");
        const ban = await nsClient(ns, sock, "ban", "198.51.100.9", "--jail", "sshd");
        assert.equal(ban.code, 0, ban.err);
        assert.match(await kernelListing(ns, backend), /198\.51\.100\.9/);
        await daemon.stop("SIGKILL");
        daemon = null;

        daemon = await startDaemon(dir, config, { prefix: ns.prefix() });
        const list = await nsClient(ns, sock, "list");
        assert.equal(list.code, 0, list.err);
        const bans = list.json?.["bans"] as { ip: string; jail: string; remaining_s: number }[];
        assert.deepEqual(bans.map((b) => [b.ip, b.jail]), [["198.51.100.9", "sshd"]]);
        assert.ok(
          bans[0]!.remaining_s > 3000 && bans[0]!.remaining_s <= 3600,
          `the kernel's timeout: ${bans[0]!.remaining_s}`,
        );
        const unban = await nsClient(ns, sock, "unban", "198.51.100.9");
        assert.equal(unban.code, 0, unban.err);
        assert.doesNotMatch(
          await kernelListing(ns, backend),
          /198\.51\.100\.9/,
          "the kernel entry is gone",
        );
        assert.equal(await daemon.stop(), 0);
        daemon = null;
      } finally {
        await daemon?.stop("SIGKILL").catch(() => {});
        await ns.destroy();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
