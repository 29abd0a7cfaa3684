/**
 * The on-disk check of `logpath`s, run when a config is loaded (daemon start, reload, `config
 * check`): a literal path that does not exist is an error (a warning with `missing_logpath =
 * "warn"`), a glob that matches nothing yet is a warning, and so is a symlink that cannot be
 * resolved (the file source skips it with a warning; an attacker who can drop a link into a log
 * directory must not keep the daemon from starting). fail2ban refuses to start on a missing log
 * file; a silent jail with `lines: 0` is worse than either.
 * @module
 */
import type { Config } from "./types.ts";
import type { ConfigIssue } from "./errors.ts";
import { formatPath, type Layout, type Segment } from "./_locate.ts";
import { logpathState } from "./_deps.ts";

/** What the check found, each issue at its `logpath` entry. */
export interface LogpathReport {
  readonly errors: ConfigIssue[];
  readonly warnings: ConfigIssue[];
}

/** Checks every `logpath` of the enabled file jails of a valid config against the disk. */
export function checkLogpaths(config: Config, layout: Layout): LogpathReport {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  for (const jail of config.jails) {
    if (!jail.enabled || jail.source !== "file") continue;
    const single = layout.get(["jails", jail.name, "logpath"])?.kind === "string";
    jail.logpath.forEach((pattern, i) => {
      const segs: Segment[] = single
        ? ["jails", jail.name, "logpath"]
        : ["jails", jail.name, "logpath", i];
      const issue = (message: string): ConfigIssue => {
        const at = layout.get(segs) ?? layout.get(["jails", jail.name]);
        const pos = at === undefined
          ? { line: 0, column: 0 }
          : layout.position(at.valueOffset >= 0 ? at.valueOffset : at.keyOffset);
        return { path: config.path, ...pos, message: `${formatPath(segs)}: ${message}` };
      };
      const state = logpathState(pattern);
      if (state.files.length > 0) return;
      if (state.brokenLink) {
        warnings.push(issue(
          `${pattern} is a symlink that cannot be resolved (dangling or a loop); the jail reads ` +
            `it once it points to a file`,
        ));
      } else if (!state.literal) {
        warnings.push(issue(`${pattern} matches no file yet (files that appear are read)`));
      } else if (jail.missingLogpath === "warn") {
        warnings.push(
          issue(`${pattern} does not exist; the jail reads it once it appears (missing_logpath)`),
        );
      } else {
        errors.push(issue(
          `${pattern} does not exist (a typo? the service not installed?); create it, fix the ` +
            `path, or set missing_logpath = "warn" to start without it`,
        ));
      }
    });
  }
  return { errors, warnings };
}
