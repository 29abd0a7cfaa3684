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
  let kernelText = () => Promise.resolve("");
  return {
    ipv6Prefixes,
    secondResolution,
    kernelText: () => kernelText(),
    make: async () => {
      const ns = await Netns.create(uniqueName(`c-${config.kind}`));
      const backend = RemoteBackend.start(ns, config);
      kernelText = async () => {
        const runs = await Promise.all([
          ["nft", "list", "ruleset"],
          ["iptables-save"],
          ["ip6tables-save"],
          ["ipset", "list", "-n"],
        ].map((cmd) => ns.exec(cmd)));
        return runs.map((r) => r.stdout).join("\n");
      };
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

// LogOnlyBackend applies nothing: it writes a record per ban and unban and holds no set (the
// tracker is the list), so its memory does not grow with the number of bans.
Deno.test("LogOnlyBackend records every ban and unban and holds nothing", async () => {
  const lines: string[] = [];
  const b = new LogOnlyBackend({
    writeSync: (p) => (lines.push(new TextDecoder().decode(p)), p.length),
  });
  await b.init();
  await b.ban([
    { ip: "203.0.113.5", prefix: 32, timeoutMs: 60_000, jail: "sshd" },
    { ip: "2001:db8::", prefix: 64, timeoutMs: null, jail: "nginx" },
  ]);
  await b.unban([{ ip: "203.0.113.5", prefix: 32, timeoutMs: null, jail: "sshd" }]);
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const shape = records.map(({ event, ip, prefix, jail, timeout_s }) => ({
    event,
    ip,
    prefix,
    jail,
    timeout_s,
  }));
  if (
    JSON.stringify(shape) !== JSON.stringify([
      { event: "ban", ip: "203.0.113.5", prefix: 32, jail: "sshd", timeout_s: 60 },
      { event: "ban", ip: "2001:db8::", prefix: 64, jail: "nginx", timeout_s: null },
      { event: "unban", ip: "203.0.113.5", prefix: 32, jail: "sshd" },
    ])
  ) throw new Error(`records: ${JSON.stringify(records)}`);
  if ((await b.list()).length !== 0) throw new Error("log-only listed kernel entries");
  await b.close();
});
