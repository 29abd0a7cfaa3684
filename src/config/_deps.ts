/**
 * The few things config validation needs from `src/net` and `src/filters`, behind one seam.
 * The filter part is a TEMPORARY stand-in (built-in names of issue 2) until `src/filters` lands.
 * @module
 */

import { canonicalIp, cidrError, formatCidr, parseCidr } from "../net/mod.ts";

export { canonicalIp, cidrError };

/**
 * Canonical text of an IP address or CIDR (`"::0001"` → `"::1"`, `"2001:DB8::/32"` →
 * `"2001:db8::/32"`; a bare address stays bare), or `null` when invalid (see `cidrError`).
 */
export function canonicalCidr(text: string): string | null {
  const cidr = parseCidr(text);
  if (cidr === null) return null;
  return text.includes("/") ? formatCidr(cidr) : canonicalIp(text);
}

const BUILTIN: Record<string, readonly string[]> = {
  "sshd": ["normal", "aggressive"],
  "nginx-http-auth": ["normal"],
  "nginx-limit-req": ["normal"],
  "nginx-botsearch": ["normal"],
  "postfix": ["normal"],
  "dovecot": ["normal"],
  "proftpd": ["normal"],
  "vsftpd": ["normal"],
  "apache-auth": ["normal"],
};

/** User filter as `filterModes` sees it. */
export interface UserFilterLike {
  readonly name: string;
  readonly patterns: readonly string[];
  readonly ignorePatterns: readonly string[];
  readonly prefix: "syslog" | "none";
}

/** Modes of a built-in or user filter, or `null` when no filter has that name. */
export function filterModes(
  name: string,
  userFilters: readonly UserFilterLike[] = [],
): readonly string[] | null {
  if (Object.hasOwn(BUILTIN, name)) return BUILTIN[name]!;
  return userFilters.some((f) => f.name === name) ? ["normal"] : null;
}

/** Names of the built-in filters. */
export function builtinFilterNames(): readonly string[] {
  return Object.keys(BUILTIN);
}

/** A pattern that does not compile: which one, and where in it (1-based column). */
export interface PatternProblem {
  readonly list: "patterns" | "ignore_patterns";
  readonly index: number;
  readonly column: number;
  readonly message: string;
}

/** Compiles a user filter; returns the problems (empty when it compiles). */
export function checkUserFilter(_filter: UserFilterLike): PatternProblem[] {
  return [];
}
