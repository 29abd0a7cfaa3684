/**
 * Kernel truth while running: each kernel backend with a `FirewallGuard` runs in a network
 * namespace with active bans; an operator's flush (`nft flush ruleset`, `iptables -F` and `-X`,
 * `ipset flush` and `ipset destroy`) is run inside the namespace, and every active ban must be
 * back in the kernel within one second (polled with a deadline), after which a new ban works.
 * One set (or one family's chain) emptied while the others hold their bans is repaired too, and
 * one ban deleted from a set (or chain) that still holds others.
 * Then one scoped rule's port is changed by hand (`nft replace rule`, `iptables -R`): the check
 * calls the rule altered and the repair puts it back as it was. Root only.
 */
import assert from "node:assert/strict";
import { makeScope } from "../src/config/mod.ts";
import type { BanEntry } from "../src/firewall/mod.ts";
import { type DriverConfig, RemoteBackend } from "./_fw_remote.ts";
import { isRoot, Netns, uniqueName } from "./_netns.ts";

/** Every active ban must be back within this long after the flush command returned. */
const REPAIR_LIMIT_MS = 1000;
/** Deadline for the repair of a rule altered by hand. */
const ALTER_LIMIT_MS = 10_000;

/** A port-scoped jail's bans live in their own sets and rules: they come back too. */
const MAIL = makeScope("tcp", [[143, 143], [993, 993]])!;
const BANS: BanEntry[] = [
  { ip: "203.0.113.5", prefix: 32, timeoutMs: 600_000, jail: "sshd" },
  { ip: "203.0.113.8", prefix: 32, timeoutMs: 600_000, jail: "dovecot", scope: MAIL },
  { ip: "2001:db8:1::8", prefix: 128, timeoutMs: null, jail: "dovecot", scope: MAIL },
  { ip: "203.0.113.6", prefix: 32, timeoutMs: null, jail: "nginx" },
  { ip: "2001:db8:1::5", prefix: 128, timeoutMs: 600_000, jail: "sshd" },
];
const NEW_BAN: BanEntry = { ip: "198.51.100.77", prefix: 32, timeoutMs: 600_000, jail: "sshd" };

/** How a test reads the kernel: what of `want` (and the rules that match them) is missing. */
type Missing = (ns: Netns, want: readonly BanEntry[]) => Promise<string[]>;

function absent(text: string, want: readonly BanEntry[], needles: readonly string[]): string[] {
  return [...needles, ...want.map((b) => b.ip)].filter((n) => !text.includes(n));
}

const nftMissing: Missing = async (ns, want) => {
  const r = await ns.exec(["nft", "list", "table", "inet", "fail2zig"]);
  if (r.code !== 0) return ["table inet fail2zig"];
  return absent(r.stdout, want, [
    "ip saddr @banned_ipv4 drop",
    "ip6 saddr @banned_ipv6 drop",
    "tcp dport 993 ip saddr @banned_ipv4_tcp.143_993 drop",
    "tcp dport 143 ip6 saddr @banned_ipv6_tcp.143_993 drop",
  ]);
};

// The reads of one observation run together: the observer's own latency is not the repair's.
const iptablesMissing: Missing = async (ns, want) => {
  const [v4, v6] = await Promise.all([
    ns.exec(["iptables", "-w", "-S"]),
    ns.exec(["ip6tables", "-w", "-S"]),
  ]);
  const text = v4.stdout.replaceAll("-A INPUT -j fail2zig", "jump4") + "\n" +
    v6.stdout.replaceAll("-A INPUT -j fail2zig", "jump6");
  return absent(text, want, ["jump4", "jump6", "-p tcp -m multiport --dports 143,993"]);
};

const ipsetMissing: Missing = async (ns, want) => {
  const [sets, v4, v6] = await Promise.all([
    ns.exec(["ipset", "list"]),
    ns.exec(["iptables", "-w", "-S", "INPUT"]),
    ns.exec(["ip6tables", "-w", "-S", "INPUT"]),
  ]);
  const rules = (v4.stdout.includes("--match-set fail2zig-v4 src -j DROP") ? "rule4 " : "") +
    (v6.stdout.includes("--match-set fail2zig-v6 src -j DROP") ? "rule6 " : "") +
    (/--dports 143,993 -m set --match-set fail2zig-v6-[0-9a-f]{8} src -j DROP/.test(v6.stdout)
      ? "scoped6"
      : "");
  return absent(sets.stdout + rules, want, ["rule4", "rule6", "scoped6"]);
};

/** Polls until nothing of `want` is missing; fails after `limitMs` naming what still is. */
async function backWithin(
  ns: Netns,
  missing: Missing,
  want: readonly BanEntry[],
  limitMs: number,
  what: string,
): Promise<number> {
  const start = Date.now();
  for (;;) {
    const left = await missing(ns, want);
    const took = Date.now() - start;
    if (left.length === 0) return took;
    if (took > limitMs) {
      assert.fail(`expected every ban back within ${limitMs} ms after ${what}; missing ${left}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function withGuarded(
  tag: string,
  config: DriverConfig,
  body: (fw: RemoteBackend, ns: Netns) => Promise<void>,
): Promise<void> {
  const ns = await Netns.create(uniqueName(tag));
  const fw = RemoteBackend.start(ns, config);
  try {
    await fw.init();
    await fw.ban(BANS);
    await fw.guard(BANS);
    await body(fw, ns);
    await fw.close();
  } finally {
    await fw.stop().catch(() => {});
    await ns.destroy();
  }
}

/**
 * Runs the operator's shell script in `ns` (one `sh -c`, as a reload script would), waits until
 * every ban is back, then until the guard has counted repair number `repair` (it counts after its
 * closing check) and is not degraded. A script whose later step lost the race against a repair
 * in between (`-X` or `ipset destroy` of something in use again) is run again.
 */
async function flushAndWait(
  fw: RemoteBackend,
  ns: Netns,
  missing: Missing,
  script: string,
  repair: number,
  limitMs = REPAIR_LIMIT_MS,
): Promise<void> {
  for (let attempt = 1;; attempt++) {
    const r = await ns.exec(["sh", "-c", script]);
    if (r.code === 0) break;
    assert.ok(attempt < 5, `\`${script}\` failed ${attempt} times: ${r.stderr}`);
  }
  await backWithin(ns, missing, BANS, limitMs, `\`${script}\``);
  const end = Date.now() + limitMs;
  for (;;) {
    const state = await fw.guardState();
    if (state.repairs >= repair && !state.degraded) break;
    assert.ok(
      Date.now() < end,
      `expected repair ${repair} counted, found ${JSON.stringify(state)}`,
    );
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Changes by hand the port of one scoped rule: the line of `list` (run in `ns`) that contains
 * `needle` gets port 2000 instead of 993 through the command `replace(number, line)` builds
 * (`nft replace rule`, `iptables -R`). The guard's check must call the rule altered and its
 * repair (number `repair`) must leave the rule as it was, with no rule naming port 2000.
 */
async function alterAndWait(
  fw: RemoteBackend,
  ns: Netns,
  missing: Missing,
  alter: {
    list: string[];
    needle: string;
    stray: string;
    replace: (n: number, line: string) => string;
  },
  repair: number,
): Promise<void> {
  const lines = (await ns.execOk(alter.list)).split("\n").filter((l) =>
    l.startsWith("-A ") ||
    l.includes("# handle ")
  );
  const i = lines.findIndex((l) => l.includes(alter.needle));
  assert.ok(i >= 0, `expected a rule with ${alter.needle} in ${lines.join("\n")}`);
  const script = alter.replace(i + 1, lines[i]!.trim());
  assert.ok(script.includes(alter.stray), script);
  const restored: Missing = async (ns, want) => {
    const text = await ns.execOk(alter.list);
    return [
      ...await missing(ns, want),
      ...(text.includes(alter.needle) ? [] : [alter.needle]),
      ...(text.includes(alter.stray) ? [`no ${alter.stray}`] : []),
    ];
  };
  // No time promise for a rule altered by hand (docs/interfaces.md gives one for flushes only).
  await flushAndWait(fw, ns, restored, script, repair, ALTER_LIMIT_MS);
}

/** The port change of `alterAndWait` for a rule of iptables' `chain`, by `iptables -R`. */
function iptablesAlter(chain: string, needle: string): Parameters<typeof alterAndWait>[3] {
  return {
    list: ["iptables", "-w", "-S", chain],
    needle,
    stray: "--dports 143,2000",
    replace: (n, line) =>
      `iptables -w -R ${chain} ${n} ${
        line.replace(`-A ${chain} `, "").replace("143,993", "143,2000")
      }`,
  };
}

async function newBanWorks(fw: RemoteBackend, ns: Netns, missing: Missing): Promise<void> {
  await fw.ban([NEW_BAN]);
  assert.deepEqual(await missing(ns, [...BANS, NEW_BAN]), []);
  const h = await fw.check();
  assert.equal(h.ok, true, h.problem);
}

const opts = { ignore: !isRoot, sanitizeResources: false, sanitizeOps: false } as const;

Deno.test({
  ...opts,
  name: "nftables: after `nft flush ruleset`, `nft flush table` or `nft flush set` every ban is " +
    "back within 1 s, and a rule whose port was changed by hand is repaired",
  fn: () =>
    withGuarded("rep-nft", { kind: "nftables" }, async (fw, ns) => {
      assert.deepEqual(await nftMissing(ns, BANS), []);
      await flushAndWait(fw, ns, nftMissing, "nft flush ruleset", 1);
      await flushAndWait(fw, ns, nftMissing, "nft flush table inet fail2zig", 2);
      const sets = [
        "banned_ipv4",
        "banned_ipv6",
        "banned_ipv4_tcp.143_993",
        "banned_ipv6_tcp.143_993",
      ]
        .map((set) => `nft flush set inet fail2zig ${set}`).join("; ");
      await flushAndWait(fw, ns, nftMissing, sets, 3);
      // Someone else's commit makes the check read the chain and count the elements again.
      await ns.execOk(["nft", "add", "table", "inet", "other"]);
      for (let i = 0; i < 2; i++) {
        const h = await fw.check();
        assert.deepEqual([h.ok, h.entries], [true, BANS.length], h.problem);
      }
      assert.equal((await fw.guardState()).repairs, 3);
      // One scope's IPv6 set flushed while every other set holds its bans.
      const oneSet = "nft flush set inet fail2zig banned_ipv6_tcp.143_993";
      await flushAndWait(fw, ns, nftMissing, oneSet, 4, ALTER_LIMIT_MS);
      // One ban deleted from a set that still holds another.
      const oneBan = "nft delete element inet fail2zig banned_ipv4 { 203.0.113.5 }";
      await flushAndWait(fw, ns, nftMissing, oneBan, 5, ALTER_LIMIT_MS);
      await newBanWorks(fw, ns, nftMissing);
      const ruleCount = (await ns.execOk(["nft", "list", "chain", "inet", "fail2zig", "input"]))
        .split("\n").filter((l) => l.includes(" drop")).length;
      assert.equal(ruleCount, 6, "re-installing never duplicates the rules (2 + 2 ports × 2)");
      await alterAndWait(fw, ns, nftMissing, {
        list: ["nft", "-a", "list", "chain", "inet", "fail2zig", "input"],
        needle: "dport 993 ip saddr @banned_ipv4_tcp.143_993 drop",
        stray: "dport 2000",
        replace: (_, line) =>
          `nft replace rule inet fail2zig input handle ${/# handle (\d+)/.exec(line)![1]} ` +
          `'${line.replace(/ # handle \d+$/, "").replace("dport 993", "dport 2000")}'`,
      }, 6);
    }),
});

Deno.test({
  ...opts,
  name: "iptables: after `iptables -F` and `-X` (both families) every ban is back within 1 s, " +
    "and a rule whose port was changed by hand is repaired",
  fn: () =>
    withGuarded("rep-ipt", { kind: "iptables" }, async (fw, ns) => {
      assert.deepEqual(await iptablesMissing(ns, BANS), []);
      const flush = "iptables -w -F && iptables -w -X && ip6tables -w -F && ip6tables -w -X";
      await flushAndWait(fw, ns, iptablesMissing, flush, 1);
      await flushAndWait(fw, ns, iptablesMissing, "iptables -w -F", 2);
      // One family's chain flushed while the other's holds its bans.
      await flushAndWait(fw, ns, iptablesMissing, "ip6tables -w -F fail2zig", 3, ALTER_LIMIT_MS);
      // One ban's rule deleted from a chain that still holds others (by number: its comment
      // holds the expiry time).
      const oneBan =
        "n=$(iptables -w -S fail2zig | grep -n -e '-s 203.0.113.5/32 ' | cut -d: -f1) " +
        "&& iptables -w -D fail2zig $((n - 1))";
      await flushAndWait(fw, ns, iptablesMissing, oneBan, 4, ALTER_LIMIT_MS);
      await newBanWorks(fw, ns, iptablesMissing);
      await alterAndWait(
        fw,
        ns,
        iptablesMissing,
        iptablesAlter("fail2zig", "-s 203.0.113.8/32 -p tcp -m multiport --dports 143,993"),
        5,
      );
    }),
});

Deno.test({
  ...opts,
  name: "ipset: after `ipset flush`, and after the rules are flushed and the sets destroyed, " +
    "every ban is back within 1 s, and a rule whose port was changed by hand is repaired",
  fn: () =>
    withGuarded("rep-ipset", { kind: "ipset" }, async (fw, ns) => {
      assert.deepEqual(await ipsetMissing(ns, BANS), []);
      await flushAndWait(fw, ns, ipsetMissing, "ipset flush", 1);
      const destroy = "iptables -w -F && ip6tables -w -F && ipset destroy";
      await flushAndWait(fw, ns, ipsetMissing, destroy, 2);
      // One set flushed while the others hold their bans.
      await flushAndWait(fw, ns, ipsetMissing, "ipset flush fail2zig-v6", 3, ALTER_LIMIT_MS);
      // One ban deleted from a set that still holds another.
      await flushAndWait(
        fw,
        ns,
        ipsetMissing,
        "ipset del fail2zig-v4 203.0.113.5",
        4,
        ALTER_LIMIT_MS,
      );
      await newBanWorks(fw, ns, ipsetMissing);
      await alterAndWait(
        fw,
        ns,
        ipsetMissing,
        iptablesAlter("INPUT", "--dports 143,993 -m set --match-set fail2zig-v4-"),
        5,
      );
    }),
});
