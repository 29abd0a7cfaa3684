/** Control plane: frame codec, protocol, `IpcServer`, `IpcClient`, `sd_notify`. @module */
export {
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameTooLargeError,
  MAX_REPLY_BYTES,
  MAX_REQUEST_BYTES,
} from "./frame.ts";
export type { DecodedFrame } from "./frame.ts";
export {
  ControlError,
  ERROR_CODES,
  errorReply,
  MAX_DURATION_S,
  MAX_HISTORY_RECORDS,
  MAX_REQUEST_IPS,
  parseRequest,
  PROTOCOL_VERSION,
} from "./protocol.ts";
export type {
  BanInfo,
  BannedReply,
  BanReply,
  Command,
  Controller,
  ErrorCode,
  ErrorReply,
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
  ParsedRequest,
  PingReply,
  ReloadReply,
  Request,
  StatusReply,
  UnbanReply,
  VersionReply,
} from "./protocol.ts";
export { TokenBucket } from "./rate_limit.ts";
export type { TokenBucketOptions } from "./rate_limit.ts";
export {
  DEFAULT_ADMIN_GROUP,
  DEFAULT_IPC_LIMITS,
  DEFAULT_SOCKET_PATH,
  IpcServer,
  startIpcServer,
} from "./server.ts";
export type { IpcLimits, IpcServerOptions, IpcStats } from "./server.ts";
export { clearStaleSocket, SocketInUseError } from "./_socket_file.ts";
export {
  CONNECT_TIMEOUT_MS,
  IpcClient,
  IpcConnectError,
  IpcProtocolError,
  REPLY_TIMEOUT_MS,
} from "./client.ts";
export type { ConnectFailure, ConnectOptions, Reply } from "./client.ts";
export { notifyReady, notifyReloading, notifyStopping, sdNotify } from "./sd_notify.ts";
export type { SdNotifyOptions } from "./sd_notify.ts";
export { FakeController } from "./fake_controller.ts";
export type { FakeControllerOptions } from "./fake_controller.ts";
/** The logger the server reports to and the types it names (owned by `src/log`). */
export type { Fields, Logger, LogLevel } from "../log/mod.ts";
