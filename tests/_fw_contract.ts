/**
 * The `FirewallBackend` contract: one suite, run against every implementation (the in-memory
 * fake, log-only, and the kernel backends inside a network namespace).
 * @module
 */
import assert from "node:assert/strict";
import { makeScope } from "../src/config/mod.ts";
import { crc32 } from "../src/hash/mod.ts";
import { type BanEntry, type FirewallBackend, FirewallError } from "../src/firewall/mod.ts";

/** What the suite needs to know about an implementation. */
export interface ContractSubject {
  /** A fresh backend (not yet initialised) and how to dispose of whatever runs it. */
  make(): Promise<{ backend: FirewallBackend; dispose(): Promise<void> }>;
  /** Accepts IPv6 prefixes shorter than 128. */
  ipv6Prefixes: boolean;
  /** Timeouts are whole seconds (ipset): remaining time may read up to 1 s high. */
  secondResolution?: boolean;
  /**
   * Kernel backends: the firewall as the operator's tools print it (rules, sets), to prove a
   * removed scope leaves nothing behind.
   */
  kernelText?: () => Promise<string>;
}

const SHORT_MS = 1200;

function byKey(list: BanEntry[]): Map<string, BanEntry> {
  return new Map(list.map((e) => [`${e.ip}/${e.prefix}`, e]));
}

async function rejects(p: Promise<unknown>, what: string): Promise<FirewallError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof FirewallError, `${what}: expected FirewallError, got ${e}`);
    return e;
  }
  assert.fail(`${what}: expected a FirewallError, the call succeeded`);
}

/** Registers the contract suite for `subject` as one Deno test with steps. */
export function contractSuite(label: string, subject: ContractSubject, ignore = false): void {
  Deno.test({
    name: `${label} honours the FirewallBackend contract`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async (t) => {
      const { backend: b, dispose } = await subject.make();
      try {
        await t.step("init() twice installs the scaffold once and lists nothing", async () => {
          await b.init();
          await b.init();
          assert.deepEqual(await b.list(), []);
          const h = await b.check();
          assert.equal(h.ok, true, h.problem);
          assert.ok(h.entries === undefined || h.entries === 0, `entries ${h.entries}`);
        });

        await t.step(
          "ban() records IPv4 and IPv6 entries with jail and remaining time",
          async () => {
            await b.ban([
              { ip: "203.0.113.5", prefix: 32, timeoutMs: 60_000, jail: "sshd" },
              { ip: "203.0.113.6", prefix: 32, timeoutMs: null, jail: "nginx" },
              { ip: "2001:db8:1::5", prefix: 128, timeoutMs: 60_000, jail: "sshd" },
            ]);
            const got = byKey(await b.list());
            assert.equal(got.size, 3);
            const a = got.get("203.0.113.5/32");
            assert.ok(a, "203.0.113.5 listed");
            assert.equal(a.jail, "sshd");
            assert.ok(
              a.timeoutMs !== null && a.timeoutMs > 50_000 && a.timeoutMs <= 61_000,
              `remaining ${a.timeoutMs}`,
            );
            assert.equal(
              got.get("203.0.113.6/32")?.timeoutMs,
              null,
              "permanent ban has no timeout",
            );
            assert.equal(got.get("203.0.113.6/32")?.jail, "nginx");
            assert.ok(got.has("2001:db8:1::5/128"));
          },
        );

        await t.step("ban() of a banned address replaces its timeout", async () => {
          await b.ban([{ ip: "203.0.113.5", prefix: 32, timeoutMs: 600_000, jail: "sshd" }]);
          const a = byKey(await b.list()).get("203.0.113.5/32");
          assert.ok(
            a && a.timeoutMs !== null && a.timeoutMs > 500_000,
            `remaining ${a?.timeoutMs}`,
          );
          assert.equal((await b.list()).length, 3, "no duplicate entry");
        });

        await t.step(
          "one ban() with an address twice (two jails) leaves one entry, the later one's",
          async () => {
            await b.ban([
              { ip: "203.0.113.5", prefix: 32, timeoutMs: 600_000, jail: "sshd" },
              { ip: "203.0.113.5", prefix: 32, timeoutMs: 900_000, jail: "recidive" },
            ]);
            const all = await b.list();
            assert.equal(all.length, 3, "no duplicate entry");
            const a = byKey(all).get("203.0.113.5/32");
            assert.ok(a && a.timeoutMs !== null && a.timeoutMs > 800_000, `${a?.timeoutMs}`);
            const h = await b.check();
            assert.equal(h.ok, true, h.problem);
          },
        );

        await t.step("unban() removes entries and ignores absent ones", async () => {
          await b.unban([
            { ip: "203.0.113.5", prefix: 32, timeoutMs: null, jail: "sshd" },
            { ip: "2001:db8:1::5", prefix: 128, timeoutMs: null, jail: "sshd" },
            { ip: "198.51.100.77", prefix: 32, timeoutMs: null, jail: "sshd" },
          ]);
          await b.unban([{ ip: "203.0.113.5", prefix: 32, timeoutMs: null, jail: "sshd" }]);
          assert.deepEqual([...byKey(await b.list()).keys()], ["203.0.113.6/32"]);
        });

        await t.step(
          "invalid entries are refused and nothing of their call is applied",
          async () => {
            const good = { ip: "198.51.100.9", prefix: 32, timeoutMs: 60_000, jail: "sshd" };
            for (
              const bad of [
                { ip: "198.51.100.300", prefix: 32 },
                { ip: "198.51.100.0", prefix: 24 },
                { ip: "2001:db8::1", prefix: 64 },
                { ip: "127.0.0.1", prefix: 32 },
                { ip: "::1", prefix: 128 },
                { ip: "evil; rm -rf /", prefix: 32 },
              ]
            ) {
              const e = await rejects(
                b.ban([good, { ...bad, timeoutMs: 60_000, jail: "sshd" }]),
                `${bad.ip}/${bad.prefix}`,
              );
              assert.match(e.message, /expected/);
            }
            await rejects(b.ban([{ ...good, timeoutMs: -5 }]), "negative timeout");
            assert.ok(
              !byKey(await b.list()).has("198.51.100.9/32"),
              "valid half of a refused call not applied",
            );
          },
        );

        if (subject.ipv6Prefixes) {
          await t.step("an IPv6 prefix is banned and listed as a prefix", async () => {
            await b.ban([{ ip: "2001:db8:77::", prefix: 64, timeoutMs: 60_000, jail: "sshd" }]);
            const got = byKey(await b.list()).get("2001:db8:77::/64");
            assert.ok(got, "prefix listed");
            await b.unban([{ ip: "2001:db8:77::", prefix: 64, timeoutMs: null, jail: "sshd" }]);
            assert.ok(!byKey(await b.list()).has("2001:db8:77::/64"));
          });
        }

        await t.step(
          "a scoped ban is an entry of its own: listed with its scope, lifted alone",
          async () => {
            const ssh = makeScope("tcp", [[22, 22], [2222, 2222]])!;
            const dns = makeScope("all", [[53, 53], [1000, 2000]])!;
            const ip = "198.51.100.9", ip6 = "2001:db8:9::9";
            await b.ban([
              { ip, prefix: 32, timeoutMs: 60_000, jail: "sshd", scope: ssh },
              { ip, prefix: 32, timeoutMs: 60_000, jail: "dns", scope: dns },
              { ip: ip6, prefix: 128, timeoutMs: null, jail: "sshd", scope: ssh },
              { ip, prefix: 32, timeoutMs: 60_000, jail: "all" },
            ]);
            const mine = async () =>
              (await b.list()).filter((e) => e.ip === ip || e.ip === ip6)
                .map((e) => `${e.scope?.id ?? "-"} ${e.ip} ${e.jail}`).sort();
            assert.deepEqual(await mine(), [
              `- ${ip} all`,
              `tcp.22_2222 ${ip} sshd`,
              `tcp.22_2222 ${ip6} sshd`,
              `tcp_udp.53_1000-2000 ${ip} dns`,
            ]);
            const h = await b.check();
            assert.equal(h.ok, true, h.problem);
            const n = (await b.list()).length;
            assert.ok(h.entries === undefined || h.entries === n, `entries ${h.entries}, ${n}`);
            await b.unban([{ ip, prefix: 32, timeoutMs: null, jail: "sshd", scope: ssh }]);
            assert.deepEqual(await mine(), [
              `- ${ip} all`,
              `tcp.22_2222 ${ip6} sshd`,
              `tcp_udp.53_1000-2000 ${ip} dns`,
            ]);
            await b.unban([
              { ip, prefix: 32, timeoutMs: null, jail: "dns", scope: dns },
              { ip: ip6, prefix: 128, timeoutMs: null, jail: "sshd", scope: ssh },
              { ip, prefix: 32, timeoutMs: null, jail: "all" },
            ]);
            assert.deepEqual(await mine(), []);
          },
        );

        await t.step(
          "retainScopes() removes the other scopes' sets, rules and entries, keeps the rest",
          async () => {
            const ssh = makeScope("tcp", [[22, 22]])!;
            const dns = makeScope("all", [[53, 53], [1000, 2000]])!;
            const ip = "198.51.100.10";
            const bans: BanEntry[] = [
              { ip, prefix: 32, timeoutMs: 60_000, jail: "sshd", scope: ssh },
              { ip, prefix: 32, timeoutMs: 60_000, jail: "dns", scope: dns },
              { ip: "2001:db8:9::10", prefix: 128, timeoutMs: null, jail: "dns", scope: dns },
              { ip, prefix: 32, timeoutMs: 60_000, jail: "all" },
            ];
            await b.ban(bans);
            const tag = crc32(new TextEncoder().encode(dns.id)).toString(16).padStart(8, "0");
            // nftables' set names, iptables' comments, ipset's set names; the port range's rules
            const traces = ["tcp_udp.53", tag, "1000:2000", "1000-2000"];
            const found = async () => {
              const text = await subject.kernelText?.() ?? "";
              return traces.filter((x) => text.includes(x));
            };
            if (subject.kernelText) assert.notDeepEqual(await found(), [], "dns is installed");
            await b.retainScopes([ssh]);
            const mine = (await b.list()).filter((e) => bans.some((x) => x.ip === e.ip))
              .map((e) => `${e.scope?.id ?? "-"} ${e.ip}`).sort();
            assert.deepEqual(mine, [`- ${ip}`, `tcp.22 ${ip}`]);
            assert.deepEqual(await found(), [], "nothing of the dns scope is left");
            const h = await b.check();
            assert.equal(h.ok, true, h.problem);
            await b.unban(bans);
            await b.retainScopes([]);
            assert.equal((await b.check()).ok, true);
          },
        );

        await t.step("a short ban expires on time", async () => {
          await b.ban([{ ip: "192.0.2.200", prefix: 32, timeoutMs: SHORT_MS, jail: "sshd" }]);
          assert.ok(byKey(await b.list()).has("192.0.2.200/32"), "listed right after ban");
          const slack = subject.secondResolution ? 1000 : 0;
          await new Promise((r) => setTimeout(r, SHORT_MS + slack + 600));
          assert.ok(!byKey(await b.list()).has("192.0.2.200/32"), "gone after its timeout");
        });

        await t.step("check() counts what it can; after close() it finds no scaffold", async () => {
          const h = await b.check();
          assert.equal(h.ok, true, h.problem);
          const n = (await b.list()).length;
          assert.ok(n > 0);
          assert.ok(
            h.entries === undefined || h.entries === n,
            `entries ${h.entries}, listed ${n}`,
          );
          await b.close();
          const gone = await b.check();
          assert.equal(gone.ok, false);
          assert.notEqual(gone.problem, "");
        });

        await t.step("close() removes the scaffold; init() afterwards starts empty", async () => {
          await b.close();
          await b.init();
          assert.deepEqual(await b.list(), []);
          assert.equal((await b.check()).ok, true);
          await b.close();
        });
      } finally {
        await dispose();
      }
    },
  });
}
