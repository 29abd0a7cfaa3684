/**
 * Addresses: strict IPv4/IPv6 parsing, canonical text, CIDR blocks and sets, never-bannable
 * addresses, IPv6 prefix grouping. Pure code, no `Deno.*`.
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
export { type Cidr, cidrError, CidrSet, formatCidr, parseCidr } from "./cidr.ts";
