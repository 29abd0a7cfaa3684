/** Metrics: registry, Prometheus text, the fail2zig families, bounded HTTP listener. @module */
export { Counter, formatValue, Gauge, Histogram, Metric, MetricsRegistry } from "./registry.ts";
export type { HistogramState, Labels } from "./registry.ts";
export { BAN_LATENCY_BUCKETS, createDaemonMetrics, DROP_REASONS } from "./daemon_metrics.ts";
export type {
  BuildInfo,
  DaemonMetrics,
  DaemonMetricsOptions,
  ProcessSamplers,
} from "./daemon_metrics.ts";
export { DEFAULT_METRICS_LIMITS, startMetricsServer } from "./server.ts";
export type {
  MetricsLimits,
  MetricsServer,
  MetricsServerOptions,
  MetricsServerStats,
} from "./server.ts";
