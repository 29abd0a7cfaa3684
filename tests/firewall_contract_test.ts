/**
 * The FirewallBackend contract against every implementation: MemoryBackend and LogOnlyBackend in
 * process; nftables (plain and interval IPv6 set), iptables and ipset through a driver process
 * inside a fresh network namespace (root only).
 */
import { LogOnlyBackend, MemoryBackend } from "../src/firewall/mod.ts";
import { contractSuite } from "./_fw_contract.ts";
import { type DriverConfig, RemoteBackend } from "./_fw_remote.ts";
import { isRoot, Netns, uniqueName } from "./_netns.ts";

const noop = () => Promise.resolve();

contractSuite("MemoryBackend", {
  make: () => Promise.resolve({ backend: new MemoryBackend(), dispose: noop }),
  ipv6Prefixes: true,
});

contractSuite("MemoryBackend without IPv6 prefixes", {
  make: () =>
    Promise.resolve({ backend: new MemoryBackend({ ipv6Prefixes: false }), dispose: noop }),
  ipv6Prefixes: false,
});

function kernel(config: DriverConfig, ipv6Prefixes: boolean, secondResolution = false) {
  return {
    ipv6Prefixes,
    secondResolution,
    make: async () => {
      const ns = await Netns.create(uniqueName(`c-${config.kind}`));
      const backend = RemoteBackend.start(ns, config);
      return {
        backend,
        dispose: async () => {
          await backend.stop().catch(() => {});
          await ns.destroy();
        },
      };
    },
  };
}

const notRoot = !isRoot; // namespaces and firewalls need root; CI runs as root
contractSuite("NftablesBackend (netns)", kernel({ kind: "nftables" }, false), notRoot);
contractSuite(
  "NftablesBackend with an interval IPv6 set (netns)",
  kernel({ kind: "nftables", ipv6Interval: true }, true),
  notRoot,
);
contractSuite("IptablesBackend (netns)", kernel({ kind: "iptables" }, true), notRoot);
contractSuite("IpsetBackend (netns)", kernel({ kind: "ipset" }, true, true), notRoot);

// LogOnlyBackend keeps the contract except input validation: it records what it is told.
Deno.test("LogOnlyBackend lists what it was told and forgets it on close", async () => {
  const lines: string[] = [];
  const b = new LogOnlyBackend({
    writeSync: (p) => (lines.push(new TextDecoder().decode(p)), p.length),
  });
  await b.init();
  await b.ban([{ ip: "203.0.113.5", prefix: 32, timeoutMs: 60_000, jail: "sshd" }]);
  const l = await b.list();
  if (l.length !== 1 || l[0]!.ip !== "203.0.113.5") throw new Error(`listed ${JSON.stringify(l)}`);
  await b.unban([{ ip: "203.0.113.5", prefix: 32, timeoutMs: null, jail: "sshd" }]);
  if ((await b.list()).length !== 0) throw new Error("still listed after unban");
  if (!lines.some((x) => x.includes('"event":"ban"'))) throw new Error("no ban record written");
  await b.close();
});
