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
  filterDisagreements,
  filterModes as modesOf,
  PatternError,
} from "../filters/mod.ts";
import type { Config, UserFilterConfig } from "./types.ts";
import type { ConfigIssue } from "./errors.ts";
import type { Layout } from "./_locate.ts";

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

/**
 * A warning per place where a `[filters.NAME]`'s patterns disagree on a line its service could
 * write (two patterns or optional tails placing the address differently: such lines count for
 * nobody), at the pattern whose witness line it is.
 */
export function filterWarnings(config: Config, layout: Layout): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const f of config.filters) {
    for (const d of filterDisagreements(f.name, "normal", config.filters)) {
      const n = Number(/^pattern (\d+)/.exec(d)?.[1] ?? 0);
      const at = layout.get(["filters", f.name, "patterns", n]) ??
        layout.get(["filters", f.name]);
      const pos = at === undefined
        ? { line: 0, column: 0 }
        : layout.position(at.valueOffset >= 0 ? at.valueOffset : at.keyOffset);
      out.push({
        path: config.path,
        ...pos,
        message: `filters.${f.name}.patterns[${n}]: the patterns disagree on a line the service ` +
          `could write, which then counts for nobody (${d})`,
      });
    }
  }
  return out;
}
