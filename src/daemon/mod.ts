/** The daemon: lifecycle, engine, parser Worker. @module */
export { DAEMON_V8_FLAGS, runDaemon, VERSION } from "./daemon.ts";
export type { DaemonOptions } from "./daemon.ts";
export { Engine } from "./engine.ts";
export type { AuditEvent, AuditSink, EngineOptions } from "./engine.ts";
