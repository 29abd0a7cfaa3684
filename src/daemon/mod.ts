/** The daemon: lifecycle, engine, parser Worker. @module */
export {
  adoptKernelBans,
  Daemon,
  DAEMON_V8_FLAGS,
  oneLine,
  StartError,
  STOP_TIMEOUT_MS,
  UndoStack,
  VERSION,
  WorkerParserHost,
} from "./daemon.ts";
export type { Closable, DaemonDeps, ParserContext, ParserHost } from "./daemon.ts";
export { Engine } from "./engine.ts";
export { InlineParserHost } from "./inline_parser.ts";
export { SourceSet } from "./source_set.ts";
export type { InlineSources } from "./inline_parser.ts";
export type { AuditEvent, AuditSink, EngineOptions } from "./engine.ts";
