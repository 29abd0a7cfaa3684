/**
 * Bans really drop packets: for nftables, iptables and ipset, IPv4 and IPv6, a server namespace
 * with a TCP listener and the backend (driver process under the daemon's permission set), an
 * attacker and a bystander on the same bridge. Root only (CI runs as root).
 */
import assert from "node:assert/strict";
import { makeScope } from "../src/config/mod.ts";
import { type DriverConfig, RemoteBackend } from "./_fw_remote.ts";
import { canConnect, createLan, isRoot, startTcpListener } from "./_netns.ts";
import { waitUntil } from "./_wait.ts";

const PORT = 2222;
const EXPIRY_MS = 2000;

function trafficTest(label: string, config: DriverConfig): void {
  Deno.test({
    name:
      `${label}: a banned attacker cannot connect, a bystander can, unban and expiry restore access`,
    ignore: !isRoot,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async (t) => {
      const lan = await createLan(config.kind.slice(0, 4));
      let fw: RemoteBackend | null = null;
      try {
        await startTcpListener(lan.server, PORT);
        fw = RemoteBackend.start(lan.server, config);
        await fw.init();
        const { server4, server6, attacker4, attacker6 } = lan.addr;
        const attackerReaches = async () =>
          (await canConnect(lan.attacker, server4, PORT)) &&
          (await canConnect(lan.attacker, server6, PORT));
        const attackerBlocked = async () =>
          !(await canConnect(lan.attacker, server4, PORT)) &&
          !(await canConnect(lan.attacker, server6, PORT));

        await t.step("before any ban both clients connect over IPv4 and IPv6", async () => {
          assert.ok(await attackerReaches(), "attacker reaches the server");
          assert.ok(await canConnect(lan.bystander, server4, PORT));
          assert.ok(await canConnect(lan.bystander, server6, PORT));
        });

        await t.step(
          "after the ban the attacker's connects time out, the bystander's do not",
          async () => {
            await fw!.ban([
              { ip: attacker4, prefix: 32, timeoutMs: 600_000, jail: "sshd" },
              { ip: attacker6, prefix: 128, timeoutMs: 600_000, jail: "sshd" },
            ]);
            assert.ok(await attackerBlocked(), "attacker dropped on IPv4 and IPv6");
            assert.ok(await canConnect(lan.bystander, server4, PORT), "bystander IPv4");
            assert.ok(await canConnect(lan.bystander, server6, PORT), "bystander IPv6");
          },
        );

        await t.step("unban restores the attacker's access", async () => {
          await fw!.unban([
            { ip: attacker4, prefix: 32, timeoutMs: null, jail: "sshd" },
            { ip: attacker6, prefix: 128, timeoutMs: null, jail: "sshd" },
          ]);
          assert.ok(await attackerReaches(), "attacker reaches the server again");
        });

        await t.step("a ban with a short timeout drops, then expires on time", async () => {
          const t0 = performance.now();
          await fw!.ban([
            { ip: attacker4, prefix: 32, timeoutMs: EXPIRY_MS, jail: "sshd" },
            { ip: attacker6, prefix: 128, timeoutMs: EXPIRY_MS, jail: "sshd" },
          ]);
          assert.ok(
            !(await canConnect(lan.attacker, server4, PORT, 500)),
            "dropped right after the ban",
          );
          await waitUntil(
            async () =>
              (await canConnect(lan.attacker, server4, PORT, 300)) &&
              (await canConnect(lan.attacker, server6, PORT, 300)),
            "access back within 4 s of the timeout",
            { timeoutMs: EXPIRY_MS + 4000, stepMs: 100 },
          );
          const sinceBan = performance.now() - t0;
          assert.ok(
            sinceBan >= EXPIRY_MS - 100,
            `not before its timeout (${Math.round(sinceBan)} ms)`,
          );
        });

        await t.step("close() removes the scaffold from the kernel", async () => {
          await fw!.close();
          const nft = await lan.server.execOk(["nft", "list", "ruleset"]);
          assert.doesNotMatch(nft, /fail2zig/, "no fail2zig object left in the ruleset");
          const sets = await lan.server.exec(["ipset", "list", "-n"]);
          assert.doesNotMatch(sets.stdout, /fail2zig/);
          assert.ok(await attackerReaches());
        });
      } finally {
        await fw?.stop().catch(() => {});
        await lan.destroy();
      }
    },
  });
}

trafficTest("nftables", { kind: "nftables" });
trafficTest("nftables with an interval IPv6 set", { kind: "nftables", ipv6Interval: true });
trafficTest("iptables", { kind: "iptables" });
trafficTest("ipset", { kind: "ipset" });

Deno.test({
  name: "nftables: an IPv6 /64 ban drops every address of the attacker's /64, not the bystander's",
  ignore: !isRoot,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lan = await createLan("nft64");
    let fw: RemoteBackend | null = null;
    try {
      // Put the bystander in another /64 reachable through the bridge.
      await lan.bystander.execOk([
        "ip",
        "addr",
        "add",
        "2001:db8:f3::3/64",
        "dev",
        "eth0",
        "nodad",
      ]);
      await lan.server.execOk(["ip", "addr", "add", "2001:db8:f3::1/64", "dev", "br0", "nodad"]);
      await startTcpListener(lan.server, PORT);
      fw = RemoteBackend.start(lan.server, { kind: "nftables", ipv6Interval: true });
      await fw.init();
      await fw.ban([{ ip: "2001:db8:f2::", prefix: 64, timeoutMs: 600_000, jail: "sshd" }]);
      assert.ok(
        !(await canConnect(lan.attacker, lan.addr.server6, PORT)),
        "attacker's /64 dropped",
      );
      assert.ok(await canConnect(lan.bystander, "2001:db8:f3::1", PORT), "other /64 passes");
      const listing = await lan.server.execOk(["nft", "list", "table", "inet", "fail2zig"]);
      assert.match(listing, /flags interval,timeout/);
      assert.match(listing, /2001:db8:f2::\/64 timeout 10m/);
      assert.match(listing, /ip6 saddr @banned_ipv6 drop/);
      await fw.close();
    } finally {
      await fw?.stop().catch(() => {});
      await lan.destroy();
    }
  },
});

function scopedTrafficTest(label: string, config: DriverConfig): void {
  Deno.test({
    name: `${label}: a port-scoped ban drops the jail's ports and range, other ports still reach`,
    ignore: !isRoot,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const lan = await createLan(`s${config.kind.slice(0, 4)}`);
      let fw: RemoteBackend | null = null;
      try {
        const OTHER = 8080, IN_RANGE = 3005;
        for (const p of [PORT, OTHER, IN_RANGE]) await startTcpListener(lan.server, p);
        fw = RemoteBackend.start(lan.server, config);
        await fw.init();
        const { server4, server6, attacker4, attacker6 } = lan.addr;
        const scope = makeScope("tcp", [[PORT, PORT], [3000, 3010]])!;
        await fw.ban([
          { ip: attacker4, prefix: 32, timeoutMs: 600_000, jail: "sshd", scope },
          { ip: attacker6, prefix: 128, timeoutMs: 600_000, jail: "sshd", scope },
        ]);
        for (const host of [server4, server6]) {
          assert.ok(!(await canConnect(lan.attacker, host, PORT)), `${host}:${PORT} dropped`);
          assert.ok(!(await canConnect(lan.attacker, host, IN_RANGE)), `${host}:${IN_RANGE}`);
          assert.ok(await canConnect(lan.attacker, host, OTHER), `${host}:${OTHER} still reaches`);
          assert.ok(await canConnect(lan.bystander, host, PORT), `bystander ${host}:${PORT}`);
        }
        const health = await fw.check();
        assert.equal(health.ok, true, health.problem);
        const listed = await fw.list();
        assert.deepEqual(listed.map((e) => e.scope?.id).sort(), [scope.id, scope.id]);
        await fw.unban([{ ip: attacker4, prefix: 32, timeoutMs: null, jail: "sshd", scope }]);
        assert.ok(await canConnect(lan.attacker, server4, PORT), "unban lifts the scoped ban");
        await fw.close();
        const nft = await lan.server.execOk(["nft", "list", "ruleset"]);
        assert.doesNotMatch(nft, /fail2zig/, "no fail2zig object left in the ruleset");
      } finally {
        await fw?.stop().catch(() => {});
        await lan.destroy();
      }
    },
  });
}

scopedTrafficTest("nftables", { kind: "nftables" });
scopedTrafficTest("iptables", { kind: "iptables" });
scopedTrafficTest("ipset", { kind: "ipset" });

Deno.test({
  name: "nftables: a scoped ban's sets and rules read in `nft list table inet fail2zig`",
  ignore: !isRoot,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lan = await createLan("nftls");
    let fw: RemoteBackend | null = null;
    try {
      const scope = makeScope("all", [[22, 22], [1000, 2000]])!;
      fw = RemoteBackend.start(lan.server, { kind: "nftables", scopes: [scope] });
      await fw.init();
      await fw.ban([{ ip: lan.addr.attacker4, prefix: 32, timeoutMs: 600_000, jail: "x", scope }]);
      const listing = await lan.server.execOk(["nft", "list", "table", "inet", "fail2zig"]);
      for (
        const rule of [
          "ip saddr @banned_ipv4 drop",
          "tcp dport 22 ip saddr @banned_ipv4_tcp_udp.22_1000-2000 drop",
          "udp dport 1000-2000 ip saddr @banned_ipv4_tcp_udp.22_1000-2000 drop",
          "tcp dport 1000-2000 ip6 saddr @banned_ipv6_tcp_udp.22_1000-2000 drop",
        ]
      ) assert.ok(listing.includes(rule), `${rule} in\n${listing}`);
      assert.match(
        listing,
        new RegExp(`elements = \\{ ${lan.addr.attacker4.replace(/\./g, "\\.")}`),
      );
      await fw.close();
    } finally {
      await fw?.stop().catch(() => {});
      await lan.destroy();
    }
  },
});
