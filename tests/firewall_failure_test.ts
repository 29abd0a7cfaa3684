/**
 * Failure paths of the firewall backends, each ending in a typed error, the documented fallback
 * or a diagnostic naming every failure — never in silent non-banning. Root only (namespaces).
 */
import assert from "node:assert/strict";
import { FirewallError } from "../src/firewall/mod.ts";
import { type DriverConfig, RemoteBackend, type RemoteOptions } from "./_fw_remote.ts";
import { isRoot, Netns, uniqueName } from "./_netns.ts";

const EPERM = 1;
const ENOENT = 2;

async function inNetns(
  tag: string,
  config: DriverConfig,
  options: RemoteOptions,
  body: (fw: RemoteBackend, ns: Netns) => Promise<void>,
): Promise<void> {
  const ns = await Netns.create(uniqueName(tag));
  const fw = RemoteBackend.start(ns, config, options);
  try {
    await body(fw, ns);
  } finally {
    await fw.stop().catch(() => {});
    await ns.destroy();
  }
}

async function firewallError(p: Promise<unknown>): Promise<FirewallError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof FirewallError, `expected FirewallError, got ${e}`);
    return e;
  }
  assert.fail("expected a FirewallError, the call succeeded");
}

const opts = { ignore: !isRoot, sanitizeResources: false, sanitizeOps: false } as const;

Deno.test({
  ...opts,
  name: "without CAP_NET_ADMIN the nftables backend fails init with a FirewallError carrying EPERM",
  fn: () =>
    inNetns("nocap", { kind: "nftables" }, { dropNetAdmin: true }, async (fw, ns) => {
      const e = await firewallError(fw.init());
      assert.equal(e.errno, EPERM);
      assert.equal(e.backend, "nftables");
      assert.match(e.message, /kernel refused the whole batch .*Operation not permitted/);
      assert.doesNotMatch(await ns.execOk(["nft", "list", "ruleset"]), /fail2zig/);
    }),
});

Deno.test({
  ...opts,
  name: "without CAP_NET_ADMIN auto selection fails closed naming nftables, iptables and ipset",
  fn: () =>
    inNetns("nocap-auto", { kind: "select", choice: "auto", onNoBackend: "fail-closed" }, {
      dropNetAdmin: true,
    }, async (fw) => {
      const e = await firewallError(fw.init());
      assert.match(e.message, /expected a working firewall backend, found none/);
      assert.match(e.message, /nftables: .*errno 1/);
      assert.match(e.message, /iptables: /);
      assert.match(e.message, /ipset: /);
    }),
});

Deno.test({
  ...opts,
  name: "without CAP_NET_ADMIN and on_no_backend = log-only the daemon runs log-only, degraded",
  fn: () =>
    inNetns("nocap-lo", { kind: "select", choice: "auto", onNoBackend: "log-only" }, {
      dropNetAdmin: true,
    }, async (fw) => {
      const sel = await fw.call("init") as { name: string; degraded: boolean; failures: string[] };
      assert.equal(sel.name, "log-only");
      assert.equal(sel.degraded, true);
      assert.deepEqual(sel.failures.map((f) => f.split(":")[0]), ["nftables", "iptables", "ipset"]);
    }),
});

Deno.test({
  ...opts,
  name:
    "auto selection falls back to iptables when the nftables probe fails, and iptables really works",
  fn: () =>
    inNetns(
      "inject",
      { kind: "select", choice: "auto", injectNftablesFailure: true },
      {},
      async (fw, ns) => {
        const sel = await fw.call("init") as {
          name: string;
          degraded: boolean;
          failures: string[];
        };
        assert.equal(sel.name, "iptables");
        assert.equal(sel.degraded, false);
        assert.equal(sel.failures.length, 1);
        assert.match(sel.failures[0]!, /^nftables: .*probe failed \(injected\)/);
        await fw.ban([{ ip: "203.0.113.5", prefix: 32, timeoutMs: 60_000, jail: "sshd" }]);
        assert.match(
          await ns.execOk(["iptables", "-S", "fail2zig"]),
          /-s 203\.0\.113\.5\/32 .*-j DROP/,
        );
        await fw.close();
        assert.doesNotMatch(await ns.execOk(["iptables", "-S"]), /fail2zig/);
      },
    ),
});

Deno.test({
  ...opts,
  name: "an explicit nftables choice never falls back to iptables",
  fn: () =>
    inNetns(
      "explicit",
      {
        kind: "select",
        choice: "nftables",
        onNoBackend: "fail-closed",
        injectNftablesFailure: true,
      },
      {},
      async (fw, ns) => {
        const e = await firewallError(fw.init());
        assert.match(e.message, /nftables: .*probe failed/);
        assert.doesNotMatch(e.message, /iptables/);
        assert.doesNotMatch(await ns.execOk(["iptables", "-S"]), /fail2zig/);
      },
    ),
});

Deno.test({
  ...opts,
  name: "a netlink error in the middle of a batch aborts the whole batch with a typed errno",
  fn: () =>
    inNetns("midbatch", { kind: "nftables" }, {}, async (fw, ns) => {
      await fw.init();
      // Remove banned_ipv6 behind the backend's back: the second message of the next batch fails.
      await ns.execOk(["nft", "flush", "chain", "inet", "fail2zig", "input"]);
      await ns.execOk(["nft", "delete", "set", "inet", "fail2zig", "banned_ipv6"]);
      const e = await firewallError(fw.ban([
        { ip: "203.0.113.5", prefix: 32, timeoutMs: 60_000, jail: "sshd" },
        { ip: "2001:db8::5", prefix: 128, timeoutMs: 60_000, jail: "sshd" },
      ]));
      assert.equal(e.errno, ENOENT);
      assert.equal(e.operation, "ban");
      assert.match(e.message, /NEWSETELEM banned_ipv6/);
      const v4 = await ns.execOk(["nft", "list", "set", "inet", "fail2zig", "banned_ipv4"]);
      assert.doesNotMatch(v4, /203\.0\.113\.5/, "the valid first message was rolled back too");

      await ns.execOk(["nft", "delete", "table", "inet", "fail2zig"]);
      const gone = await firewallError(
        fw.ban([{ ip: "203.0.113.6", prefix: 32, timeoutMs: null, jail: "sshd" }]),
      );
      assert.equal(gone.errno, ENOENT);
      await fw.close(); // absent table: clean stop still succeeds
    }),
});

Deno.test({
  ...opts,
  name: "a missing ipset binary fails the ipset backend with ENOENT naming the path",
  fn: () =>
    inNetns(
      "noipset",
      { kind: "ipset", ipset: "/nonexistent/sbin/ipset" },
      { permissions: "test" },
      async (fw, ns) => {
        const e = await firewallError(fw.init());
        assert.equal(e.errno, ENOENT);
        assert.match(e.message, /\/nonexistent\/sbin\/ipset/);
        assert.doesNotMatch(await ns.execOk(["iptables", "-S"]), /match-set/);
      },
    ),
});

Deno.test({
  ...opts,
  name:
    "a missing ipset binary with firewall = ipset fails closed, or runs log-only degraded when allowed",
  fn: async () => {
    await inNetns(
      "noipset-fc",
      {
        kind: "select",
        choice: "ipset",
        onNoBackend: "fail-closed",
        ipset: "/nonexistent/sbin/ipset",
      },
      { permissions: "test" },
      async (fw) => {
        const e = await firewallError(fw.init());
        assert.match(e.message, /ipset: .*\/nonexistent\/sbin\/ipset/);
        assert.equal(e.errno, ENOENT);
      },
    );
    await inNetns(
      "noipset-lo",
      {
        kind: "select",
        choice: "ipset",
        onNoBackend: "log-only",
        ipset: "/nonexistent/sbin/ipset",
      },
      { permissions: "test" },
      async (fw) => {
        const sel = await fw.call("init") as {
          name: string;
          degraded: boolean;
          failures: string[];
        };
        assert.equal(sel.name, "log-only");
        assert.equal(sel.degraded, true);
        assert.match(sel.failures[0]!, /^ipset: /);
      },
    );
  },
});
