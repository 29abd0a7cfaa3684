/** Configuration: TOML schema, validation with positions, compiled frozen `Config`. @module */
export type * from "./types.ts";
export { ConfigError, type ConfigIssue, formatIssue } from "./errors.ts";
export { parseConfig } from "./parse.ts";
export {
  loadConfig,
  type LoadOptions,
  MAX_CONFIG_BYTES,
  readConfigText,
  runningAsRoot,
} from "./load.ts";
export { socketPathOf } from "./socket_path.ts";
export {
  describeScope,
  makeScope,
  MAX_PORT_ITEMS,
  parsePortItem,
  type PortItem,
  portItems,
  scopeFromId,
  SERVICES,
} from "./_scope.ts";
export {
  checkConfigDirPermissions,
  checkConfigPermissions,
  type OwnerAndMode,
} from "./permissions.ts";
export {
  type DurationOptions,
  type DurationResult,
  formatDuration,
  parseDuration,
} from "./_duration.ts";
export {
  CONFIG_KEYS,
  FLEET_JAIL,
  FLEET_MANUAL,
  FLEET_NAME_PATTERN,
  FLEET_RUNTIME_MB,
  GLOBAL_DEFAULTS,
  INCREMENT_DEFAULTS,
  JAIL_DEFAULTS,
  MIN_MEMORY_CEILING_MB,
  RECIDIVE_DEFAULTS,
  RUNTIME_PEAK_MB,
  runtimePeakMb,
} from "./_validate.ts";
export {
  DEFAULT_UNIT_DIR,
  MEMORY_MAX_MARGIN_MB,
  memoryMaxBytes,
  memoryMaxWarning,
  UNIT_NAME,
  type UnitMemoryMax,
  unitMemoryMax,
} from "./memory_max.ts";
