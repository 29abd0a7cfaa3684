/** libc bindings: the shared libc handle, netlink sockets and message codecs. @module */
export { Errno, errno, type Libc, libc, LIBC_SYMBOLS, strerror } from "./libc.ts";
export {
  findAttr,
  MessageWriter,
  NETLINK_NETFILTER,
  NetlinkError,
  NetlinkSocket,
  type NetlinkSocketOptions,
  NLA_F_NESTED,
  type NlAttr,
  NLM_F,
  type NlMessage,
  NLMSG,
  parseAttrs,
  parseError,
  parseMessages,
  readStr,
  readU32be,
  readU64be,
  REPLY_TIMEOUT_MS,
} from "./netlink.ts";
