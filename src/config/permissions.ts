/** Refuses config files that someone other than root could change or replace. @module */
import type { ConfigIssue } from "./errors.ts";

/** The parts of a file's status the check reads (a `Deno.FileInfo` has them). */
export interface OwnerAndMode {
  /** Permission bits (`st_mode`); `null` where the platform has none. */
  readonly mode: number | null;
  /** Owner's user id; `null` where the platform has none. */
  readonly uid: number | null;
  /** Group id; `null` where the platform has none. */
  readonly gid: number | null;
}

/**
 * Returns why `path` must not be trusted as a config (empty when it may be):
 * world-writable (always), group-writable by a group other than root, or not owned by root —
 * the last two only when `runningAsRoot`, since an unprivileged daemon can only harm itself.
 * Each message names the file and the command that fixes it.
 */
export function checkConfigPermissions(
  path: string,
  stat: OwnerAndMode,
  runningAsRoot: boolean,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (message: string) => issues.push({ path, line: 0, column: 0, message });
  const mode = stat.mode ?? 0;
  const octal = `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
  if (mode & 0o002) {
    add(
      `refusing a world-writable config (mode ${octal}): any local user could disable jails or ` +
        `unban addresses; fix: chmod o-w ${path}`,
    );
  }
  if (!runningAsRoot) return issues;
  if (mode & 0o020 && stat.gid !== 0) {
    add(
      `refusing a config writable by group ${stat.gid} (mode ${octal}): members of that group ` +
        `could disable jails or unban addresses; fix: chmod g-w ${path} (or chown root:root ${path})`,
    );
  }
  if (stat.uid !== 0) {
    add(
      `refusing a config owned by uid ${stat.uid} while running as root: that user could ` +
        `disable jails or unban addresses; fix: chown root:root ${path}`,
    );
  }
  return issues;
}

/**
 * Returns why a config in directory `dir` (the config's own or one above it) must not be trusted:
 * whoever may write a directory may replace what is in it. World-writable is refused (always)
 * unless the directory is root-owned and sticky (as /tmp: only an entry's owner may rename or
 * delete it); when `runningAsRoot`, also group-writable by a group other than root, or not owned
 * by root, again unless root-owned and sticky. Each message names the config, the directory and
 * the fix.
 */
export function checkConfigDirPermissions(
  path: string,
  dir: string,
  stat: OwnerAndMode,
  runningAsRoot: boolean,
): ConfigIssue[] {
  const mode = stat.mode ?? 0;
  if (mode & 0o1000 && stat.uid === 0) return [];
  const octal = `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
  const issue = (message: string): ConfigIssue => ({ path, line: 0, column: 0, message });
  const issues: ConfigIssue[] = [];
  if (mode & 0o002) {
    issues.push(issue(
      `refusing a config in a world-writable directory ${dir} (mode ${octal}, not sticky and ` +
        `root-owned): any local user could replace it; fix: chmod o-w ${dir}`,
    ));
  }
  if (!runningAsRoot) return issues;
  if (mode & 0o020 && stat.gid !== 0) {
    issues.push(issue(
      `refusing a config in directory ${dir}, writable by group ${stat.gid} (mode ${octal}): ` +
        `members of that group could replace it; fix: chmod g-w ${dir}`,
    ));
  }
  if (stat.uid !== 0) {
    issues.push(issue(
      `refusing a config in directory ${dir}, owned by uid ${stat.uid} while running as root: ` +
        `that user could replace it; fix: chown root ${dir}`,
    ));
  }
  return issues;
}
