/**
 * The fleet: bans shared with other hosts through NATS JetStream (docs/fleet.md). Loaded only
 * when `[fleet]` is configured, by a dynamic import of this module: a daemon without it loads
 * none of this code nor the NATS client.
 * @module
 */
export {
  addressToken,
  type Decoded,
  decodeRecord,
  type DropReason,
  encodeRecord,
  type FleetRecord,
  MAX_FUTURE_MS,
  MAX_REASON_CHARS,
  MAX_RECORD_BYTES,
  RECORD_VERSION,
  SUBJECT_ROOT,
  subjectOf,
} from "./record.ts";
export {
  type ApplyOutcome,
  type BridgeOptions,
  type BridgeStats,
  FleetBridge,
  type FleetEngine,
  type FleetOutbox,
} from "./bridge.ts";
export {
  BACKOFF_MAX_MS,
  BACKOFF_MIN_MS,
  FleetLink,
  type LinkEvents,
  type LinkState,
  type LinkStats,
  OUTBOX_MAX,
  PUBLISH_TIMEOUT_MS,
} from "./link.ts";
export {
  type AttachableEngine,
  DROP_LOG_INTERVAL_MS,
  fleetName,
  type RunningFleet,
  startFleet,
  type StartFleetOptions,
} from "./fleet.ts";
/** The types the fleet's API names, owned by other folders. */
export type { FleetConfig } from "../config/mod.ts";
export type { FleetStatus } from "../ipc/mod.ts";
export type { Fields, Logger, LogLevel } from "../log/mod.ts";
export type {
  Counter,
  Gauge,
  Histogram,
  HistogramState,
  Labels,
  Metric,
  MetricsRegistry,
} from "../metrics/mod.ts";
export type { BanCause, BanDecision } from "../tracker/mod.ts";
export { revokeOrigin, type RevokeResult } from "./revoke.ts";
export type { NatsAuth } from "./connect.ts";
