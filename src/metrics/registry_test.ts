/**
 * The Prometheus text exposition, read back with a strict parser written here from the format's
 * rules (HELP/TYPE before samples, label escaping, histogram buckets cumulative and ending at
 * +Inf = _count, no duplicate series).
 */
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { BAN_LATENCY_BUCKETS, createDaemonMetrics, MetricsRegistry } from "./mod.ts";
import { parseExposition } from "../../tests/metrics_parser.ts";

Deno.test("the test's exposition parser rejects what Prometheus rejects", () => {
  throws(() => parseExposition("a 1"), /newline/);
  throws(() => parseExposition("a 1\n"), /without a TYPE/);
  throws(() => parseExposition('# TYPE a gauge\na{x="1} 1\n'), /unterminated/);
  throws(() => parseExposition('# TYPE a gauge\na{x="\\t"} 1\n'), /bad escape/);
  throws(() => parseExposition("# TYPE a gauge\na 1\na 2\n"), /duplicate series/);
  throws(() => parseExposition("# TYPE a gauge\na one\n"), /bad value/);
  throws(
    () =>
      parseExposition(
        '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      ),
    /cumulative/,
  );
  throws(
    () => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'),
    /\+Inf/,
  );
  ok(
    parseExposition('# HELP a x\\ny\n# TYPE a counter\na{b="q\\"\\\\\\n"} 1 1700000000\n').has("a"),
  );
});

Deno.test("every fail2zig series is exposed with HELP and TYPE and parses as Prometheus text", () => {
  let rss = 123_456_789;
  const m = createDaemonMetrics({ memoryBytes: () => rss, trackerEntries: () => 42 });
  m.up.set({}, 1);
  m.addJail("sshd");
  m.addJail("nginx");
  m.linesParsed.inc({ jail: "sshd" }, 1000);
  m.linesMatched.inc({ jail: "sshd" }, 7);
  m.linesDropped.inc({ reason: "too_long" });
  m.bans.inc({ jail: "sshd" });
  m.activeBans.set({ jail: "sshd" }, 1);
  m.evictions.inc();
  for (const s of [0.0001, 0.0007, 0.003, 0.2, 2]) m.banLatency.observe({}, s);
  const fams = parseExposition(m.render());
  const expected: Record<string, string> = {
    fail2zig_up: "gauge",
    fail2zig_degraded: "gauge",
    fail2zig_lines_parsed_total: "counter",
    fail2zig_lines_matched_total: "counter",
    fail2zig_lines_ambiguous_total: "counter",
    fail2zig_lines_dropped_total: "counter",
    fail2zig_bans_total: "counter",
    fail2zig_unbans_total: "counter",
    fail2zig_active_bans: "gauge",
    fail2zig_tracker_entries: "gauge",
    fail2zig_evictions_total: "counter",
    fail2zig_memory_bytes: "gauge",
    fail2zig_worker_messages_rejected_total: "counter",
    fail2zig_ban_latency_seconds: "histogram",
    fail2zig_firewall_repairs_total: "counter",
    fail2zig_action_runs_total: "counter",
  };
  deepEqual(Object.fromEntries([...fams].map(([n, f]) => [n, f.type])), expected);
  for (const [n, f] of fams) ok(f.help && f.help.length > 0, `${n} has no HELP`);
  const value = (fam: string, labels: Record<string, string> = {}, name = fam) =>
    fams.get(fam)!.samples.find((s) =>
      s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels)
    )?.value;
  equal(value("fail2zig_lines_parsed_total", { jail: "sshd" }), 1000);
  equal(value("fail2zig_lines_parsed_total", { jail: "nginx" }), 0); // exposed before any event
  equal(value("fail2zig_memory_bytes"), 123_456_789);
  equal(value("fail2zig_tracker_entries"), 42);
  equal(value("fail2zig_ban_latency_seconds", {}, "fail2zig_ban_latency_seconds_count"), 5);
  const les = fams.get("fail2zig_ban_latency_seconds")!.samples
    .filter((s) => s.name.endsWith("_bucket")).map((s) => s.labels.le);
  deepEqual(les, [...BAN_LATENCY_BUCKETS.map(String), "+Inf"]);
  equal(les[0], "0.0005");
  equal(
    value("fail2zig_ban_latency_seconds", { le: "0.0005" }, "fail2zig_ban_latency_seconds_bucket"),
    1,
  );
  equal(
    value("fail2zig_ban_latency_seconds", { le: "1" }, "fail2zig_ban_latency_seconds_bucket"),
    4,
  );
  rss = 1;
  equal(parseExposition(m.render()).get("fail2zig_memory_bytes")!.samples[0]!.value, 1); // sampled per scrape
  m.removeJail("nginx");
  ok(!m.render().includes('jail="nginx"'));
});

Deno.test("fail2zig_up is 1 from the start; build_info and the process_* series carry the samplers' values", () => {
  let cpu = 1.5;
  let fds: number | null = 12;
  const m = createDaemonMetrics({
    build: { version: "0.1.0", deno: "2.9.6", v8: "14.0" },
    process: {
      cpuSeconds: () => cpu,
      residentBytes: () => 5_000_000,
      openFds: () => fds,
      startTimeSeconds: 1_767_225_600.25,
    },
  });
  const sample = (fams: Map<string, { samples: { labels: object; value: number }[] }>, n: string) =>
    fams.get(n)?.samples[0];
  let fams = parseExposition(m.render());
  equal(sample(fams, "fail2zig_up")?.value, 1);
  deepEqual(sample(fams, "fail2zig_build_info"), {
    name: "fail2zig_build_info",
    labels: { version: "0.1.0", deno: "2.9.6", v8: "14.0" },
    value: 1,
  });
  equal(fams.get("process_cpu_seconds_total")?.type, "counter");
  equal(sample(fams, "process_cpu_seconds_total")?.value, 1.5);
  equal(sample(fams, "process_resident_memory_bytes")?.value, 5_000_000);
  equal(sample(fams, "process_open_fds")?.value, 12);
  equal(sample(fams, "process_start_time_seconds")?.value, 1_767_225_600.25);
  cpu = 2.25;
  fds = 13;
  fams = parseExposition(m.render());
  equal(sample(fams, "process_cpu_seconds_total")?.value, 2.25);
  equal(sample(fams, "process_open_fds")?.value, 13);
  // Without samplers (tests, tools) the families are simply absent.
  const bare = parseExposition(createDaemonMetrics().render());
  ok(!bare.has("fail2zig_build_info") && !bare.has("process_open_fds"));
  equal(sample(bare, "fail2zig_up")?.value, 1);
});

Deno.test("label values are escaped so that no jail name can break the exposition", () => {
  const r = new MetricsRegistry();
  const c = r.counter("x_total", "help with \\ and\nnewline", ["jail"]);
  const evil = 'a"} 1\nfake_metric 666\n\\';
  c.inc({ jail: evil }, 2);
  const fams = parseExposition(r.render());
  deepEqual([...fams.keys()], ["x_total"]);
  deepEqual(fams.get("x_total")!.samples, [{ name: "x_total", labels: { jail: evil }, value: 2 }]);
});

Deno.test("the registry refuses wrong label sets, bad names and counters going down", () => {
  const r = new MetricsRegistry();
  const c = r.counter("c_total", "c", ["jail"]);
  throws(() => c.inc({}), /expects labels \{jail\}/);
  throws(() => c.inc({ jail: "a", extra: "b" }), /expects labels/);
  throws(() => c.inc({ jail: "a" }, -1), /only go up/);
  throws(() => r.counter("c_total", "again"), /registered already/);
  throws(() => r.gauge("bad-name", "x"), /invalid metric name/);
  throws(() => r.histogram("h", "x", { buckets: [1, 0.5] }), /strictly increasing/);
  throws(() => r.histogram("h2", "x", { buckets: [1], labelNames: ["le"] }), /invalid label/);
});
