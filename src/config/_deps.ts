/**
 * The few things config validation needs from `src/net`, `src/filters` and `src/sources`, behind
 * one seam.
 * @module
 */

import { canonicalIp, cidrError, formatCidr, parseCidr } from "../net/mod.ts";
import {
  builtinFilterNames,
  checkPattern,
  compileUserFilter,
  filterModes as modesOf,
  PatternError,
} from "../filters/mod.ts";
import type { UserFilterConfig } from "./types.ts";

export { canonicalIp, cidrError };
export { logpathState } from "../sources/mod.ts";
export { pathOwner } from "../ffi/mod.ts";

/**
 * Canonical text of an IP address or CIDR (`"::0001"` → `"::1"`, `"2001:DB8::/32"` →
 * `"2001:db8::/32"`; a bare address stays bare), or `null` when invalid (see `cidrError`).
 */
export function canonicalCidr(text: string): string | null {
  const cidr = parseCidr(text);
  if (cidr === null) return null;
  return text.includes("/") ? formatCidr(cidr) : canonicalIp(text);
}

/** Modes of a built-in or user filter, or `null` when no filter has that name. */
export function filterModes(
  name: string,
  userFilters: readonly UserFilterConfig[] = [],
): readonly string[] | null {
  return modesOf(name, userFilters) ?? null;
}

export { builtinFilterNames };

/** A pattern that does not compile: which one, and where in it (1-based column). */
export interface PatternProblem {
  readonly list: "patterns" | "ignore_patterns";
  readonly index: number;
  readonly column: number;
  readonly message: string;
}

/**
 * Compiles a user filter; returns every pattern that does not compile (empty when it does).
 * Each pattern is compiled on its own so that all bad ones are reported, then the whole filter
 * once more as the daemon will.
 */
export function checkUserFilter(filter: UserFilterConfig): PatternProblem[] {
  const problems: PatternProblem[] = [];
  const lists = [["patterns", filter.patterns], [
    "ignore_patterns",
    filter.ignorePatterns,
  ]] as const;
  for (const [list, patterns] of lists) {
    patterns.forEach((pattern, index) => {
      try {
        checkPattern(pattern, list === "patterns");
      } catch (e) {
        if (!(e instanceof PatternError)) throw e;
        problems.push({ list, index, column: e.column, message: e.reason });
      }
    });
  }
  if (problems.length > 0) return problems;
  try {
    compileUserFilter(filter);
  } catch (e) {
    if (!(e instanceof PatternError)) throw e;
    problems.push({ list: e.list, index: e.patternIndex, column: e.column, message: e.reason });
  }
  return problems;
}
