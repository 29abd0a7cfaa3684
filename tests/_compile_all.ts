/**
 * Compiles every built-in filter in every mode in one isolate and keeps them all, as a parser
 * Worker with every jail enabled does; run under the daemon's V8 flags by daemon_e2e_test.ts.
 * Prints the number of compiled filters.
 */
import { builtinFilterNames, filterModes, getFilter } from "../src/filters/mod.ts";

const keep: unknown[] = [];
for (const name of builtinFilterNames()) {
  for (const mode of filterModes(name) ?? []) keep.push(getFilter(name, mode));
}
console.log(keep.length);
