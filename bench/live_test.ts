/** Smoke test of bench:live's pure parts (the race itself is not part of the test suite). */
import assert from "node:assert/strict";
import {
  canonicalIp,
  monitorAddedElements,
  nftJsonElements,
  parseGcLine,
  parseKbLines,
  quantile,
  ratioTable,
  readTruth,
  replaceSection,
  smapsByKind,
  stageOf,
  stageTimes,
  statCpuSeconds,
  syslogTime,
} from "./_live.ts";

Deno.test("statCpuSeconds sums utime, stime, cutime, cstime after the last ')'", () => {
  const line = "4242 (sshg (fw) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 " +
    "150 50 25 5 20 0 1 0 500 1000 200 18446744073709551615";
  assert.equal(statCpuSeconds(line), 2.3);
  assert.throws(() => statCpuSeconds("garbage"));
});

Deno.test("parseKbLines reads /proc/PID/status and smaps_rollup fields in bytes", () => {
  const status = "Name:\tdeno\nVmHWM:\t   81234 kB\nVmRSS:\t   79000 kB\nThreads:\t9\n";
  assert.deepEqual(parseKbLines(status), { VmHWM: 81234 * 1024, VmRSS: 79000 * 1024 });
  const rollup = "55d0-7ffd ---p 00000000 00:00 0   [rollup]\nRss:   80000 kB\n" +
    "Pss_Anon:  30000 kB\nAnonymous:   31000 kB\n";
  const r = parseKbLines(rollup);
  assert.equal(r["Rss"], 80000 * 1024);
  assert.equal(r["Anonymous"], 31000 * 1024);
  assert.equal(r["Pss_Anon"], 30000 * 1024);
});

Deno.test("canonicalIp: IPv4 as is, IPv6 in RFC 5952 form, others null", () => {
  assert.equal(canonicalIp("198.51.100.7"), "198.51.100.7");
  assert.equal(canonicalIp("2001:db8:0:0::1"), "2001:db8::1");
  assert.equal(canonicalIp("2001:DB8:0:5:0:0:0:1"), "2001:db8:0:5::1");
  assert.equal(canonicalIp("2001:db8:1:0:0:1:0:0"), "2001:db8:1::1:0:0");
  assert.equal(canonicalIp("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
  assert.equal(canonicalIp("::"), "::");
  assert.equal(canonicalIp("300.1.1.1"), null);
  assert.equal(canonicalIp("1::2::3"), null);
  assert.equal(canonicalIp("host"), null);
});

Deno.test("monitorAddedElements reads nft monitor's element lines", () => {
  assert.deepEqual(
    monitorAddedElements(
      "add element inet fail2zig banned_ipv4 { 198.18.0.7 timeout 1d expires 1d }",
    ),
    ["198.18.0.7"],
  );
  assert.deepEqual(monitorAddedElements("add element ip sshguard attackers { 203.0.113.9/32 }"), [
    "203.0.113.9",
  ]);
  assert.deepEqual(
    monitorAddedElements(
      "add element inet f2b-table addr6-set-sshd { 2001:db8:0:0::5, 2001:db8::6 }",
    ),
    ["2001:db8::5", "2001:db8::6"],
  );
  assert.deepEqual(monitorAddedElements("add table inet fail2zig"), []);
  assert.deepEqual(monitorAddedElements("delete element ip sshguard attackers { 1.2.3.4 }"), []);
});

Deno.test("nftJsonElements reads plain, timed and prefix elements of every set", () => {
  const text = JSON.stringify({
    nftables: [
      { metainfo: { version: "1.0.6" } },
      { set: { name: "a", elem: ["198.18.0.1", { elem: { val: "198.18.0.2", timeout: 86400 } }] } },
      { set: { name: "b", elem: [{ prefix: { addr: "2001:db8:0:0::1", len: 128 } }] } },
      { set: { name: "empty" } },
    ],
  });
  assert.deepEqual([...nftJsonElements(text)].sort(), ["198.18.0.1", "198.18.0.2", "2001:db8::1"]);
});

Deno.test("readTruth: canonical addresses, loopback out of mustBan, malformed refused", () => {
  const t = readTruth(JSON.stringify({
    lines: 100,
    mustBan: ["198.18.0.1", "127.4.5.6", "2001:db8:0:0::9"],
    neverBan: ["203.0.113.1"],
  }));
  assert.equal(t.lines, 100);
  assert.deepEqual([...t.mustBan].sort(), ["198.18.0.1", "2001:db8::9"]);
  assert.deepEqual([...t.neverBan], ["203.0.113.1"]);
  assert.throws(() => readTruth('{"lines": 1, "mustBan": ["x"], "neverBan": []}'), /non-address/);
  assert.throws(() => readTruth('{"mustBan": [], "neverBan": []}'), /lines/);
});

Deno.test("quantile: nearest rank", () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(quantile(xs, 0.5), 51);
  assert.equal(quantile(xs, 0.99), 100);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

Deno.test("ratioTable: values with units, ratios to the first column, text and n/a cells", () => {
  const t = ratioTable(["fail2zig", "sshguard", "fail2ban"], [
    { name: "lines/s", unit: "", digits: 0, values: [2_000_000, 500_000, 20_000] },
    { name: "p99", unit: "ms", digits: 2, values: [1.5, 3, null] },
    { name: "bans", unit: "", digits: 0, values: ["5 / 5", "4 / 5", "5 / 5"] },
  ]).split("\n");
  assert.equal(t.length, 5);
  assert.match(t[0]!, /^\| +\| fail2zig +\| sshguard +\| fail2ban +\|$/);
  assert.match(t[1]!, /^\|-+\|-+\|-+\|-+\|$/);
  assert.match(t[2]!, /\| 2,000,000 +\| 500,000 \(×0\.25\) +\| 20,000 \(×0\.01\) +\|/);
  assert.match(t[3]!, /^\| p99 \(ms\) +\| 1\.50 +\| 3\.00 \(×2\.0\) +\| n\/a +\|$/);
  assert.match(t[4]!, /\| 5 \/ 5 +\| 4 \/ 5 +\| 5 \/ 5 +\|$/);
});

Deno.test("replaceSection keeps the markers and what is outside them", () => {
  const doc = "a\n<!-- BEGIN x -->\nold\n<!-- END x -->\nb\n";
  assert.equal(replaceSection(doc, "x", "new"), "a\n<!-- BEGIN x -->\nnew\n<!-- END x -->\nb\n");
  assert.throws(() => replaceSection("no markers", "x", "new"), /markers/);
});

Deno.test("parseGcLine reads V8's --trace-gc-nvp records per isolate", () => {
  const rec = '[26082:0x7f0098060000:1]       33 ms: GC: {"pause":0.862,"gc":"s",' +
    '"end_object_size":3591688,"end_memory_size":5505024,"start_memory_size":4980736}';
  assert.deepEqual(parseGcLine(rec), {
    isolate: 1,
    address: "0x7f0098060000",
    live: 3591688,
    committed: 5505024,
  });
  assert.equal(
    parseGcLine("[26082:0x564bc4cb5000:0]   55 ms: Memory pool: Removed pages: 0"),
    null,
  );
  assert.equal(parseGcLine('{"event":"ban","ip":"198.18.0.1"}'), null);
});

Deno.test("smapsByKind sums Rss by kind of mapping", () => {
  const smaps = [
    "55d000000000-55d000100000 r-xp 00000000 08:01 123 /usr/bin/deno",
    "Size:   1024 kB",
    "Rss:     800 kB",
    "55d000100000-55d000200000 rw-p 00100000 08:01 123 /usr/bin/deno",
    "Rss:      40 kB",
    "55d001000000-55d002000000 rw-p 00000000 00:00 0 [heap]",
    "Rss:    3000 kB",
    "7f0000000000-7f0000400000 rw-p 00000000 00:00 0 ",
    "Rss:    2000 kB",
    "7f1000000000-7f1000010000 r--p 00000000 08:01 9 /usr/lib/x86_64-linux-gnu/libc.so.6",
    "Rss:     100 kB",
    "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]",
    "Rss:      12 kB",
    "7ffd10000000-7ffd10002000 r-xp 00000000 00:00 0 [vdso]",
    "Rss:       4 kB",
  ].join("\n");
  assert.deepEqual(smapsByKind(smaps, "/usr/bin/deno"), {
    executable: 840 * 1024,
    files: 100 * 1024,
    "brk heap": 3000 * 1024,
    stacks: 12 * 1024,
    anonymous: 2000 * 1024,
    kernel: 4 * 1024,
  });
});

Deno.test("stageOf and stageTimes attribute self time to pipeline stages", () => {
  assert.equal(stageOf("file:///w/src/sources/_line_cutter.ts", "cut"), "cutter");
  assert.equal(stageOf("file:///w/src/sources/file_source.ts", "read"), "source");
  assert.equal(stageOf("file:///w/src/filters/_pattern.ts", "match"), "filters");
  assert.equal(stageOf("file:///w/src/daemon/engine.ts", "onBatch"), "engine");
  assert.equal(stageOf("file:///w/src/tracker/tracker.ts", "fail"), "tracker");
  assert.equal(stageOf("ext:deno_web/13_message_port.js", "postMessage"), "postMessage");
  assert.equal(stageOf("file:///w/src/net/ip.ts", "parse"), null);
  assert.equal(stageOf("ext:deno_web/08_text_encoding.js", "decode"), null);
  const node = (id: number, url: string, functionName: string, children: number[] = []) => ({
    id,
    callFrame: { url, functionName },
    children,
  });
  const profile = {
    nodes: [
      node(1, "", "(root)", [2, 3, 6]),
      node(2, "file:///w/src/tracker/tracker.ts", "fail", [4]),
      node(3, "", "(idle)"),
      node(4, "file:///w/src/net/ip.ts", "parse", [5]),
      node(5, "ext:core/01_core.js", "op"),
      node(6, "file:///w/src/daemon/engine.ts", "onBatch"),
    ],
    samples: [2, 4, 5, 3, 3, 6],
    timeDeltas: [1000, 1000, 2000, 5000, 5000, 500],
  };
  assert.deepEqual(
    Object.fromEntries(stageTimes(profile)),
    { tracker: 4, idle: 10, engine: 0.5 },
  );
});

Deno.test("syslogTime writes the classic syslog time in UTC, the day padded with a space", () => {
  assert.equal(syslogTime(new Date(Date.UTC(2026, 11, 5, 7, 4, 9))), "Dec  5 07:04:09");
  assert.equal(syslogTime(new Date(Date.UTC(2026, 0, 31, 23, 59, 0))), "Jan 31 23:59:00");
});
