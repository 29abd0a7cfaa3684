/**
 * Addresses: strict IPv4/IPv6 parsing, canonical text, CIDR blocks and sets, never-bannable
 * addresses, IPv6 prefix grouping. One codec, words.ts (text ⇄ four 32-bit words, allocation
 * free), under all of it. Pure code, no `Deno.*`.
 * @module
 */
export {
  canonicalIp,
  formatIp,
  type Ip,
  isNeverBannable,
  maskBytes,
  MAX_IP_TEXT,
  networkOf,
  parseIp,
  prefixOf,
} from "./ip.ts";
export { type Cidr, cidrError, CidrSet, formatCidr, parseCidr, WordCidrList } from "./cidr.ts";
export {
  bytesToWords,
  type Family,
  formatWords,
  isNeverBannableWords,
  isV4Words,
  maskWords,
  parseIpWords,
  wordsToBytes,
} from "./words.ts";
