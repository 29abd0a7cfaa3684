/** Firewall backends behind one interface. @module */
export { FirewallError } from "./backend.ts";
export type { BanEntry, FirewallBackend } from "./backend.ts";
export { LogOnlyBackend } from "./log_only.ts";
