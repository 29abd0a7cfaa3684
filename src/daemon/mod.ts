/** The daemon: lifecycle, engine, parser Worker. @module */
export {
  adoptKernelBans,
  Daemon,
  DAEMON_V8_FLAGS,
  HEAP_MARGIN_MB,
  OLD_SPACE_MB,
  oneLine,
  StartError,
  STOP_TIMEOUT_MS,
  UndoStack,
  VERSION,
  WorkerParserHost,
} from "./daemon.ts";
export type {
  Closable,
  DaemonDeps,
  ParserContext,
  ParserHost,
  WorkerParserHostOptions,
} from "./daemon.ts";
export { Engine } from "./engine.ts";
export {
  actionPrograms,
  DAEMON_ENV,
  DAEMON_SYS,
  type DaemonPermissionOptions,
  daemonPermissions,
  FLEET_HEAP_MB,
  narrowedArgv,
  narrowedEnv,
  networkEndpoints,
  permissionFlags,
  type PermissionSet,
  RUNTIME_READ,
  ungranted,
  withOldSpaceRaised,
} from "./permission_set.ts";
export { InlineParserHost } from "./inline_parser.ts";
export { SourceSet } from "./source_set.ts";
export type { InlineSources } from "./inline_parser.ts";
export type { AuditEvent, AuditSink, EngineOptions, FleetAttachment } from "./engine.ts";
export type { BatchMessage } from "./_protocol.ts";
export type { FileGroup, JournalGroup } from "./_matcher.ts";
/** The event the engine hands to the actions (owned by `src/actions`). */
export type { ActionEvent } from "../actions/mod.ts";
/** The config types the daemon runs from (owned by `src/config`). */
export type {
  ActionBase,
  ActionConfig,
  BantimeIncrement,
  Config,
  EvictionPolicy,
  ExecActionConfig,
  FirewallChoice,
  FleetConfig,
  GlobalConfig,
  JailConfig,
  PortScope,
  Protocol,
  SeccompMode,
  SmtpActionConfig,
  SourceKind,
  UserFilterConfig,
} from "../config/mod.ts";
/** The logger the daemon reports to and the types it names (owned by `src/log`). */
export type { Fields, Logger, LogLevel } from "../log/mod.ts";
/** The metric families the daemon feeds (owned by `src/metrics`). */
export type {
  Counter,
  DaemonMetrics,
  Gauge,
  Histogram,
  HistogramState,
  Labels,
  Metric,
  MetricsRegistry,
  ProcessSamplers,
} from "../metrics/mod.ts";
/** The tracker, its decisions and clock seam (owned by `src/tracker`). */
export type {
  BanCause,
  BanDecision,
  Clock,
  IgnoreReason,
  JailStats,
  RecordOutcome,
  RestoreResult,
  RuntimeIgnoreEntry,
  Tracker,
  TrackerStats,
} from "../tracker/mod.ts";
/** The firewall interface bans are enforced through (owned by `src/firewall`). */
export type { BanEntry, FirewallBackend, FirewallHealth } from "../firewall/mod.ts";
/** The state store the daemon saves to and its records (owned by `src/state`). */
export type {
  LoadResult,
  SaveFailure,
  StateAuditHead,
  StateBan,
  StateFailures,
  StateHistory,
  StateIgnore,
  StateInput,
  StateKeeper,
  StatePosition,
  StateStore,
  StateStoreOptions,
} from "../state/mod.ts";
/** The audit log the daemon appends to (owned by `src/audit`). */
export type {
  AppendedRecord,
  AuditEvent as AuditLogEvent,
  AuditLog,
  ChainHead,
} from "../audit/mod.ts";
/** The log sources and their read positions (owned by `src/sources`). */
export type {
  FileMark,
  FilePosition,
  JournalPosition,
  LineBatch,
  LineSink,
  LogSource,
  SourcePosition,
  SourceStats,
} from "../sources/mod.ts";
/** The control-plane interface the engine implements and its replies (owned by `src/ipc`). */
export type {
  BanInfo,
  BannedReply,
  BanReply,
  Controller,
  FleetStatus,
  HistoryRecord,
  HistoryReply,
  IgnoreAddReply,
  IgnoreDelReply,
  IgnoreEntry,
  IgnoreListReply,
  JailInfo,
  JailRunReply,
  JailsReply,
  JailStatusReply,
  ListReply,
  ReloadReply,
  StatusReply,
  UnbanReply,
} from "../ipc/mod.ts";
