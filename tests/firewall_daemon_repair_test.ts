/**
 * The daemon's firewall guard as an operator meets it: the real daemon with the nftables backend
 * in a network namespace holds bans; `nft flush ruleset` (the first line of Debian's
 * /etc/nftables.conf) is run inside the namespace; every ban is back in the kernel within one
 * second (with one asked for right after the flush), the repair is logged and counted in
 * `fail2zig_firewall_repairs_total`, status is not degraded, and a new ban works. Root only.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type ClientResult,
  makeConfig,
  nsClient,
  privateGlobal,
  type RunningDaemon,
  sshdJail,
  startDaemon,
} from "./_daemon.ts";
import { isRoot, Netns, uniqueName } from "./_netns.ts";
import { pollFor } from "./_wait.ts";

const METRICS_PORT = 9188;

/** A daemon with the nftables backend in its own network namespace, and how to reach it. */
interface Rig {
  readonly ns: Netns;
  readonly dir: string;
  /** Starts the daemon (again, after a kill); the rig stops the last one started. */
  start(): Promise<RunningDaemon>;
  /** `fail2zig client … ARGS` inside the namespace. */
  client(...args: string[]): Promise<ClientResult>;
  /** What the backend holds, as its own tool lists it (`KERNEL_READ`), inside the namespace. */
  kernel(): Promise<string>;
}

/** What `Rig.kernel()` reads for each backend. */
const KERNEL_READ: Record<Backend, string> = {
  nftables: "nft list table inet fail2zig",
  iptables: "iptables -w -S; ip6tables -w -S",
  ipset: "ipset list",
};
type Backend = "nftables" | "iptables" | "ipset";

/**
 * Runs `fn` with a rig (`firewall`, default nftables; metrics on `metricsBind`,
 * `sshdJail(dir, jailKeys)`), then cleans up.
 */
async function withRig(
  tag: string,
  toml: { metricsBind?: string; jailKeys?: string; firewall?: Backend },
  fn: (rig: Rig) => Promise<void>,
): Promise<void> {
  const ns = await Netns.create(uniqueName(tag));
  const firewall = toml.firewall ?? "nftables";
  const { dir, config } = await makeConfig((d) =>
    `${
      privateGlobal(d).replace('firewall = "log-only"', `firewall = "${firewall}"`)
        .replace('metrics_bind = ""', `metrics_bind = "${toml.metricsBind ?? ""}"`)
    }\n${sshdJail(d, toml.jailKeys)}`
  );
  await Deno.writeTextFile(join(dir, "auth.log"), "");
  const sock = join(dir, "fail2zig.sock");
  let d: RunningDaemon | null = null;
  try {
    await fn({
      ns,
      dir,
      start: async () => d = await startDaemon(dir, config, { prefix: ns.prefix() }),
      client: (...args) => nsClient(ns, sock, ...args),
      kernel: async () => (await ns.exec(["sh", "-c", KERNEL_READ[firewall]])).stdout,
    });
  } finally {
    await (d as RunningDaemon | null)?.stop("SIGKILL");
    await ns.destroy();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  ignore: !isRoot,
  sanitizeResources: false,
  sanitizeOps: false,
  name: "daemon: after `nft flush ruleset` every ban is back within 1 s, counted, logged, " +
    "not degraded",
  fn: () =>
    withRig(
      "rep-daemon",
      { metricsBind: `127.0.0.1:${METRICS_PORT}` },
      async ({ ns, start, client, kernel }) => {
        const daemon = await start();
        for (const ip of ["203.0.113.50", "2001:db8:5::50"]) {
          const r = await client("ban", ip, "--jail", "sshd", "--duration", "2h");
          assert.equal(r.code, 0, r.err);
        }
        assert.match(await kernel(), /203\.0\.113\.50[\s\S]*2001:db8:5::50/);

        await ns.execOk(["nft", "flush", "ruleset"]);
        await pollFor(
          async () => {
            const k = await kernel();
            return k.includes("203.0.113.50") && k.includes("2001:db8:5::50") ? k : null;
          },
          "both bans back in the kernel",
          { timeoutMs: 1000, stepMs: 20 },
        );
        await daemon.waitFor((r) => /scaffold and bans re-installed/.test(String(r["msg"])), 2000);
        const metric = await pollFor(
          async () => {
            const r = await ns.exec(["curl", "-s", `http://127.0.0.1:${METRICS_PORT}/metrics`]);
            const m = /^fail2zig_firewall_repairs_total (\d+)$/m.exec(r.stdout);
            return m ? Number(m[1]) : null;
          },
          "the metrics endpoint",
          { timeoutMs: 2000, stepMs: 20 },
        );
        assert.equal(metric, 1);
        const st = await client("status");
        assert.equal(st.json?.["degraded"], false);

        const again = await client("ban", "198.51.100.9", "--jail", "sshd", "--duration", "1h");
        assert.equal(again.code, 0, again.err);
        assert.match(await kernel(), /198\.51\.100\.9/);
        assert.equal(await daemon.stop(), 0);
        assert.doesNotMatch((await ns.exec(["nft", "list", "ruleset"])).stdout, /fail2zig/);
      },
    ),
});

Deno.test({
  ignore: !isRoot,
  sanitizeResources: false,
  sanitizeOps: false,
  name: "daemon: a port-scoped jail's bans come back after `nft flush ruleset` and are read " +
    "back from the kernel after a crash that lost the state file",
  fn: () =>
    withRig(
      "rep-scope",
      { jailKeys: 'maxretry = 5\nport = ["ssh", 2222]' },
      async ({ ns, dir, start, client, kernel }) => {
        const scoped = /set banned_ipv4_tcp\.22_2222 \{[^}]*elements = \{ 203\.0\.113\.60 /;
        const first = await start();
        const r = await client("ban", "203.0.113.60", "--jail", "sshd", "--duration", "2h");
        assert.equal(r.code, 0, r.err);
        assert.match(await kernel(), scoped);
        assert.match(await kernel(), /tcp dport 2222 ip saddr @banned_ipv4_tcp\.22_2222 drop/);
        await ns.execOk(["nft", "flush", "ruleset"]);
        await pollFor(async () => scoped.test(await kernel()) ? true : null, "the scoped ban", {
          timeoutMs: 1000,
          stepMs: 20,
        });
        // A crash that loses the state file: only the kernel still holds the ban.
        await first.stop("SIGKILL");
        await Deno.remove(join(dir, "state.bin")).catch(() => {});
        const second = await start();
        const list = await client("list");
        const bans = (list.json?.["bans"] ?? []) as Record<string, unknown>[];
        assert.deepEqual(bans.map((b) => [b["ip"], b["jail"]]), [["203.0.113.60", "sshd"]]);
        assert.match(await kernel(), scoped);
        assert.equal(await second.stop(), 0);
      },
    ),
});

for (
  const [firewall, flush] of [
    ["iptables", "iptables -w -F && iptables -w -X && ip6tables -w -F && ip6tables -w -X"],
    ["ipset", "ipset flush"],
  ] as const
) {
  Deno.test({
    ignore: !isRoot,
    sanitizeResources: false,
    sanitizeOps: false,
    name: `daemon: ${firewall}: after \`${flush.split(" && ")[0]}\` every ban is back, ` +
      "counted, logged, not degraded",
    fn: () =>
      withRig(
        `rep-d-${firewall}`,
        { metricsBind: `127.0.0.1:${METRICS_PORT}`, firewall },
        async ({ ns, start, client, kernel }) => {
          const daemon = await start();
          for (const ip of ["203.0.113.50", "2001:db8:5::50"]) {
            const r = await client("ban", ip, "--jail", "sshd", "--duration", "2h");
            assert.equal(r.code, 0, r.err);
          }
          const both = (k: string) => k.includes("203.0.113.50") && k.includes("2001:db8:5::50");
          assert.ok(both(await kernel()), await kernel());
          await ns.execOk(["sh", "-c", flush]);
          assert.ok(!both(await kernel()), "the flush removed a ban");
          // The one-second bound is tests/firewall_repair_test.ts's; here: the daemon's wiring.
          await pollFor(async () => both(await kernel()) ? true : null, "both bans back", {
            timeoutMs: 5000,
            stepMs: 20,
          });
          await daemon.waitFor(
            (r) => /scaffold and bans re-installed/.test(String(r["msg"])),
            5000,
          );
          const metric = await pollFor(
            async () => {
              const r = await ns.exec(["curl", "-s", `http://127.0.0.1:${METRICS_PORT}/metrics`]);
              const m = /^fail2zig_firewall_repairs_total (\d+)$/m.exec(r.stdout);
              return m && Number(m[1]) > 0 ? Number(m[1]) : null;
            },
            "a repair counted",
            { timeoutMs: 5000, stepMs: 20 },
          );
          assert.equal(metric, 1);
          assert.equal((await client("status")).json?.["degraded"], false);
          const again = await client("ban", "198.51.100.9", "--jail", "sshd", "--duration", "1h");
          assert.equal(again.code, 0, again.err);
          assert.match(await kernel(), /198\.51\.100\.9/);
          assert.equal(await daemon.stop(), 0);
        },
      ),
  });
}
