/**
 * nftables specifics, in network namespaces (root only): what the backend installs is exactly what
 * `nft -f` installs from the documented description (bytecode compared with
 * `nft --debug=netlink`), crash recovery keeps elements without duplicating rules, an
 * incompatible old table is rebuilt, large calls are split into batches, and overlapping IPv6
 * blocks are folded.
 */
import assert from "node:assert/strict";
import type { BanEntry } from "../src/firewall/mod.ts";
import { RemoteBackend } from "./_fw_remote.ts";
import { isRoot, Netns, uniqueName } from "./_netns.ts";

const opts = { ignore: !isRoot, sanitizeResources: false, sanitizeOps: false } as const;

function reference(interval: boolean): string {
  return `table inet fail2zig {
  set banned_ipv4 { type ipv4_addr; flags timeout; }
  set banned_ipv6 { type ipv6_addr; flags ${interval ? "interval," : ""}timeout; }
  chain input {
    type filter hook input priority -1; policy accept;
    ip saddr @banned_ipv4 drop
    ip6 saddr @banned_ipv6 drop
  }
}
`;
}

async function withNs<T>(tag: string, body: (ns: Netns) => Promise<T>): Promise<T> {
  const ns = await Netns.create(uniqueName(tag));
  try {
    return await body(ns);
  } finally {
    await ns.destroy();
  }
}

async function describe(ns: Netns): Promise<{ text: string; bytecode: string }> {
  const text = await ns.execOk(["nft", "list", "table", "inet", "fail2zig"]);
  const bytecode = await ns.execOk(["nft", "--debug=netlink", "list", "table", "inet", "fail2zig"]);
  return { text, bytecode };
}

for (const interval of [false, true]) {
  Deno.test({
    ...opts,
    name: `the installed table${
      interval ? " (interval IPv6 set)" : ""
    } is what nft -f installs from the documented description`,
    fn: async () => {
      const ours = await withNs("nft-ours", async (ns) => {
        const fw = RemoteBackend.start(ns, { kind: "nftables", ipv6Interval: interval });
        try {
          await fw.init();
          return await describe(ns);
        } finally {
          await fw.stop();
        }
      });
      const theirs = await withNs("nft-ref", async (ns) => {
        await ns.execOk(["nft", "-f", "-"], { stdin: reference(interval) });
        return await describe(ns);
      });
      assert.equal(ours.text, theirs.text);
      assert.equal(ours.bytecode, theirs.bytecode);
      assert.match(ours.bytecode, /\[ lookup reg 1 set banned_ipv4 /);
      assert.match(ours.bytecode, /\[ payload load 16b @ network header \+ 8 => reg 1 \]/);
      assert.match(ours.text, /type filter hook input priority filter - 1; policy accept;/);
      assert.match(ours.text, /ip saddr @banned_ipv4 drop/);
      assert.match(ours.text, /ip6 saddr @banned_ipv6 drop/);
    },
  });
}

Deno.test({
  ...opts,
  name: "elements read naturally in nft list: timeout, expiry and the jail as comment",
  fn: () =>
    withNs("nft-elems", async (ns) => {
      const fw = RemoteBackend.start(ns, { kind: "nftables" });
      try {
        await fw.init();
        await fw.ban([
          { ip: "203.0.113.5", prefix: 32, timeoutMs: 600_000, jail: "sshd" },
          { ip: "203.0.113.6", prefix: 32, timeoutMs: null, jail: "recidive" },
        ]);
        const text = await ns.execOk(["nft", "list", "set", "inet", "fail2zig", "banned_ipv4"]);
        assert.match(text, /203\.0\.113\.5 timeout 10m expires \S+ comment "sshd"/);
        assert.match(text, /203\.0\.113\.6 comment "recidive"/);
      } finally {
        await fw.close().catch(() => {});
        await fw.stop();
      }
    }),
});

Deno.test({
  ...opts,
  name: "after a crash, init() keeps the kernel's elements and does not duplicate the rules",
  fn: () =>
    withNs("nft-crash", async (ns) => {
      const first = RemoteBackend.start(ns, { kind: "nftables" });
      await first.init();
      await first.ban([{ ip: "203.0.113.5", prefix: 32, timeoutMs: 600_000, jail: "sshd" }]);
      await first.stop(); // no close(): like kill -9
      const second = RemoteBackend.start(ns, { kind: "nftables" });
      try {
        await second.init();
        const listed = await second.list();
        assert.deepEqual(listed.map((e) => e.ip), ["203.0.113.5"]);
        assert.equal(listed[0]!.jail, "sshd");
        const chain = await ns.execOk(["nft", "list", "chain", "inet", "fail2zig", "input"]);
        assert.equal(chain.match(/drop/g)?.length, 2, chain);
      } finally {
        await second.close().catch(() => {});
        await second.stop();
      }
    }),
});

Deno.test({
  ...opts,
  name: "an existing table with an incompatible set is rebuilt empty with the new layout",
  fn: () =>
    withNs("nft-rebuild", async (ns) => {
      const first = RemoteBackend.start(ns, { kind: "nftables", ipv6Interval: false });
      await first.init();
      await first.ban([{ ip: "2001:db8::5", prefix: 128, timeoutMs: 600_000, jail: "sshd" }]);
      await first.stop();
      const second = RemoteBackend.start(ns, { kind: "nftables", ipv6Interval: true });
      try {
        await second.init();
        assert.match(
          await ns.execOk(["nft", "list", "set", "inet", "fail2zig", "banned_ipv6"]),
          /flags interval,timeout/,
        );
        assert.deepEqual(await second.list(), []);
        await second.ban([{ ip: "2001:db8::", prefix: 64, timeoutMs: 60_000, jail: "sshd" }]);
        assert.equal((await second.list())[0]?.prefix, 64);
      } finally {
        await second.close().catch(() => {});
        await second.stop();
      }
    }),
});

Deno.test({
  ...opts,
  name: "one call with 5000 bans is applied completely, split into batches under the size limit",
  fn: () =>
    withNs("nft-big", async (ns) => {
      const fw = RemoteBackend.start(ns, { kind: "nftables", ipv6Interval: true });
      try {
        await fw.init();
        const entries: BanEntry[] = [];
        for (let i = 0; i < 4000; i++) {
          entries.push({
            ip: `198.18.${i >> 8}.${i & 255}`,
            prefix: 32,
            timeoutMs: 600_000,
            jail: "sshd",
          });
        }
        for (let i = 0; i < 1000; i++) {
          entries.push({
            ip: `2001:db8:${i.toString(16)}::`,
            prefix: 64,
            timeoutMs: null,
            jail: "sshd",
          });
        }
        await fw.ban(entries);
        const listed = await fw.list();
        assert.equal(listed.length, 5000);
        assert.equal(listed.filter((e) => e.prefix === 64 && e.timeoutMs === null).length, 1000);
        await fw.unban(entries);
        assert.equal((await fw.list()).length, 0);
      } finally {
        await fw.close().catch(() => {});
        await fw.stop();
      }
    }),
});

Deno.test({
  ...opts,
  name: "overlapping IPv6 bans are folded into the wider block, which never gets shorter",
  fn: () =>
    withNs("nft-overlap", async (ns) => {
      const fw = RemoteBackend.start(ns, { kind: "nftables", ipv6Interval: true });
      try {
        await fw.init();
        await fw.ban([{ ip: "2001:db8::5", prefix: 128, timeoutMs: 600_000, jail: "sshd" }]);
        await fw.ban([{ ip: "2001:db8::", prefix: 64, timeoutMs: 60_000, jail: "sshd" }]);
        let listed = await fw.list();
        assert.equal(listed.length, 1);
        assert.equal(listed[0]!.prefix, 64);
        assert.ok(listed[0]!.timeoutMs! > 500_000, "kept the longer timeout of the folded /128");
        await fw.ban([{ ip: "2001:db8::9", prefix: 128, timeoutMs: null, jail: "sshd" }]);
        listed = await fw.list();
        assert.equal(listed.length, 1);
        assert.equal(listed[0]!.timeoutMs, null, "covered permanent ban made the /64 permanent");
      } finally {
        await fw.close().catch(() => {});
        await fw.stop();
      }
    }),
});
