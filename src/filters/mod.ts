/**
 * Filters: the pattern language (docs/filters.md), its linear-time compiler, line shapes and
 * timestamps, and the built-in filters. Pure code, no `Deno.*`.
 *
 * Daemon use (inside the parser Worker):
 * ```ts
 * const f = getFilter(jail.filter, jail.mode, config.filters); // compile once
 * if (exceedsLineCap(line, config.global.lineMaxBytes)) dropped++; // count and drop
 * else { const m = f.match(line, Date.now()); if (m) post({ jail, ip: m.ip, time: m.time }); }
 * ```
 * - `filterModes(name, userFilters?)` → modes of a filter, `undefined` for an unknown one.
 * - `compileUserFilter(cfg)` → `Filter`, throws `PatternError` (`list`, `patternIndex`, `column`).
 * - `getFilter(name, mode, userFilters?)` → `Filter` with `match(line, nowMs)` →
 *   `{ ip /* canonical *\/, time /* ms UTC or null, clamped to now *\/ } | null`.
 * @module
 */
export {
  builtinFilterNames,
  compileUserFilter,
  DEFAULT_LINE_MAX_BYTES,
  exceedsLineCap,
  type Filter,
  filterDisagreements,
  filterHasSessions,
  type FilterMatch,
  filterModes,
  getFilter,
  HARD_LINE_LIMIT,
  LineKind,
  type Role,
  SESSION_MAX,
  type UserFilterConfig,
} from "./filter.ts";
export { checkPattern, PatternError, takeSteps } from "./_pattern.ts";
