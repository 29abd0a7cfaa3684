/** Firewall backends behind one interface, and the selection of one at start. @module */
export { entryGroup, entryKey, FirewallError } from "./backend.ts";
export type { BanEntry, FirewallBackend, FirewallHealth } from "./backend.ts";
export {
  type BanQueue,
  FirewallGuard,
  type FirewallGuardOptions,
  GUARD_INTERVAL_MS,
  GUARD_MAX_BACKOFF_MS,
  REPAIR_BATCH,
  type RepairReport,
} from "./guard.ts";
export { LogOnlyBackend, type SyncWriter } from "./log_only.ts";
export { MemoryBackend, type MemoryOptions } from "./memory.ts";
export { MAX_BATCH_BYTES, NftablesBackend, type NftablesOptions } from "./nftables.ts";
export type { Layout } from "./_nft_messages.ts";
export { IptablesBackend, type IptablesOptions } from "./iptables.ts";
export {
  IPSET_MAX_ELEMENTS,
  IPSET_MAX_TIMEOUT_S,
  IpsetBackend,
  type IpsetOptions,
} from "./ipset.ts";
export {
  AUTO_ORDER,
  type KernelBackendName,
  selectBackend,
  type Selection,
  type SelectOptions,
} from "./select.ts";
export { MIN_IPV6_PREFIX } from "./_addr.ts";
/** The logger selection reports to and the types it names (owned by `src/log`). */
export type { Fields, Logger, LogLevel } from "../log/mod.ts";
/** The config types selection reads (owned by `src/config`). */
export type { FirewallChoice, PortScope, Protocol } from "../config/mod.ts";
