/**
 * The fail2zig metric families of docs/interfaces.md, on one registry. Pure: the daemon feeds
 * the numbers (and a memory sampler), this module only names and shapes them.
 * @module
 */
import { type Counter, type Gauge, type Histogram, MetricsRegistry } from "./registry.ts";

/** Upper bounds of the ban latency histogram, in seconds (0.5 ms … 1 s). */
export const BAN_LATENCY_BUCKETS: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
];

/** Reasons a line can be dropped (`fail2zig_lines_dropped_total{reason}`). */
export const DROP_REASONS = [
  "too_long",
  "too_old",
  "rate",
  "invalid_utf8",
  "backpressure",
  "table_full",
] as const;

/** What `fail2zig_build_info` says (its labels). */
export interface BuildInfo {
  /** fail2zig's version. */
  readonly version: string;
  /** The Deno runtime's version. */
  readonly deno: string;
  /** V8's version. */
  readonly v8: string;
}

/** Samplers of the standard `process_*` series (Prometheus client conventions). */
export interface ProcessSamplers {
  /** User and system CPU time in seconds. */
  readonly cpuSeconds: () => number;
  /** Resident set size in bytes. */
  readonly residentBytes: () => number;
  /** Open file descriptors, or null when they cannot be counted (the series is then left out). */
  readonly openFds: () => number | null;
  /** When the process started, seconds since the epoch. */
  readonly startTimeSeconds: number;
}

/** Options of `createDaemonMetrics`. */
export interface DaemonMetricsOptions {
  /** Sampled at each scrape for `fail2zig_memory_bytes` (the daemon passes RSS). */
  memoryBytes?: () => number;
  /** Sampled at each scrape for `fail2zig_tracker_entries`. */
  trackerEntries?: () => number;
  /** Labels of `fail2zig_build_info`; absent: the family is not exposed. */
  build?: BuildInfo;
  /** Samplers of `process_*`; absent: those families are not exposed. */
  process?: ProcessSamplers;
}

/** Handles on every fail2zig series. */
export interface DaemonMetrics {
  /** The registry every series below is in (what `/metrics` renders). */
  readonly registry: MetricsRegistry;
  /** 1 while running (set at creation: the registry lives in the running daemon only). */
  readonly up: Gauge;
  /** 1 when nothing enforces bans (log-only, chosen or fallen back to, or a failing repair). */
  readonly degraded: Gauge;
  /** `fail2zig_lines_parsed_total{jail}`: log lines read and parsed. */
  readonly linesParsed: Counter;
  /** `fail2zig_lines_matched_total{jail}`: lines that matched a failure pattern. */
  readonly linesMatched: Counter;
  /** `fail2zig_lines_ambiguous_total{jail}`: lines whose address two readings of the filter disagreed on. */
  readonly linesAmbiguous: Counter;
  /** `fail2zig_lines_dropped_total{reason}`: lines dropped before matching. */
  readonly linesDropped: Counter;
  /** `fail2zig_bans_total{jail}`: bans applied. */
  readonly bans: Counter;
  /** `fail2zig_unbans_total{jail}`: bans lifted (expired or by command). */
  readonly unbans: Counter;
  /** `fail2zig_active_bans{jail}`: bans in force now. */
  readonly activeBans: Gauge;
  /** `fail2zig_tracker_entries`: addresses the tracker holds. */
  readonly trackerEntries: Gauge;
  /** `fail2zig_evictions_total`: tracker entries evicted for room. */
  readonly evictions: Counter;
  /** `fail2zig_memory_bytes`: resident set size of the process. */
  readonly memoryBytes: Gauge;
  /** Messages from the parser Worker that failed `parseWorkerMessage` and were dropped. */
  readonly workerMessagesRejected: Counter;
  /** Seconds from the triggering line being read to the ban being in the kernel. */
  readonly banLatency: Histogram;
  /** Times the firewall scaffold was found flushed or altered and re-installed with every ban. */
  readonly firewallRepairs: Counter;
  /** `fail2zig_action_runs_total{action,result}`: runs of `[actions.NAME]`, ok, failed or dropped. */
  readonly actionRuns: Counter;
  /** Exposes a jail's series at zero (call at start and when a reload adds a jail). */
  addJail(jail: string): void;
  /** Drops a jail's series (a reload removed it). */
  removeJail(jail: string): void;
  /** The Prometheus text. */
  render(): string;
}

/** Creates the registry with every fail2zig family. */
export function createDaemonMetrics(options: DaemonMetricsOptions = {}): DaemonMetrics {
  const r = new MetricsRegistry();
  const jail = ["jail"];
  const m = {
    registry: r,
    up: r.gauge("fail2zig_up", "1 while the daemon runs."),
    degraded: r.gauge(
      "fail2zig_degraded",
      "1 when bans are not enforced: log-only (configured or fallen back to), or the firewall was " +
        "flushed and cannot be repaired; else 0.",
    ),
    linesParsed: r.counter("fail2zig_lines_parsed_total", "Log lines read and parsed.", jail),
    linesMatched: r.counter(
      "fail2zig_lines_matched_total",
      "Log lines that matched a failure pattern.",
      jail,
    ),
    linesAmbiguous: r.counter(
      "fail2zig_lines_ambiguous_total",
      "Log lines whose address two readings of the filter disagree on: counted for nobody.",
      jail,
    ),
    linesDropped: r.counter(
      "fail2zig_lines_dropped_total",
      "Log lines dropped before matching, by reason.",
      ["reason"],
    ),
    bans: r.counter("fail2zig_bans_total", "Bans applied.", jail),
    unbans: r.counter("fail2zig_unbans_total", "Bans lifted (expired or by request).", jail),
    activeBans: r.gauge("fail2zig_active_bans", "Bans currently in force.", jail),
    trackerEntries: r.gauge("fail2zig_tracker_entries", "Addresses in the failure tracker."),
    evictions: r.counter(
      "fail2zig_evictions_total",
      "Tracker entries evicted because the table was full.",
    ),
    memoryBytes: r.gauge("fail2zig_memory_bytes", "Resident set size of the process in bytes."),
    workerMessagesRejected: r.counter(
      "fail2zig_worker_messages_rejected_total",
      "Messages from the parser Worker dropped because they failed validation.",
    ),
    banLatency: r.histogram(
      "fail2zig_ban_latency_seconds",
      "Time from reading the line that triggered a ban to the ban being applied.",
      { buckets: BAN_LATENCY_BUCKETS },
    ),
    firewallRepairs: r.counter(
      "fail2zig_firewall_repairs_total",
      "Times the firewall ruleset was found flushed or altered and its scaffold and every active " +
        "ban were put back.",
    ),
    actionRuns: r.counter(
      "fail2zig_action_runs_total",
      "Runs of [actions.NAME] by result: ok, failed (exit status, timeout, refused mail) or " +
        "dropped (its queue was full).",
      ["action", "result"],
    ),
  };
  m.up.set({}, 1);
  for (const reason of DROP_REASONS) m.linesDropped.touch({ reason });
  if (options.build) {
    const b = options.build;
    r.gauge("fail2zig_build_info", "Always 1; the labels say which build runs.", [
      "version",
      "deno",
      "v8",
    ]).set({ version: b.version, deno: b.deno, v8: b.v8 }, 1);
  }
  if (options.process) addProcessSeries(r, options.process);
  if (options.memoryBytes) {
    const sample = options.memoryBytes;
    r.onCollect(() => m.memoryBytes.set({}, sample()));
  }
  if (options.trackerEntries) {
    const sample = options.trackerEntries;
    r.onCollect(() => m.trackerEntries.set({}, sample()));
  }
  const perJail = [m.linesParsed, m.linesMatched, m.linesAmbiguous, m.bans, m.unbans, m.activeBans];
  return {
    ...m,
    addJail(name: string): void {
      for (const f of perJail) f.touch({ jail: name });
    },
    removeJail(name: string): void {
      for (const f of perJail) f.remove({ jail: name });
    },
    render: () => r.render(),
  };
}

/** The standard `process_*` families, sampled at each scrape. */
function addProcessSeries(r: MetricsRegistry, p: ProcessSamplers): void {
  const cpu = r.counter("process_cpu_seconds_total", "Total user and system CPU time in seconds.");
  const rss = r.gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  const start = r.gauge(
    "process_start_time_seconds",
    "Start time of the process since the Unix epoch in seconds.",
  );
  start.set({}, p.startTimeSeconds);
  const fds = p.openFds() === null
    ? null
    : r.gauge("process_open_fds", "Number of open file descriptors.");
  r.onCollect(() => {
    cpu.inc({}, Math.max(0, p.cpuSeconds() - cpu.value()));
    rss.set({}, p.residentBytes());
    const n = p.openFds();
    if (fds !== null && n !== null) fds.set({}, n);
  });
}
