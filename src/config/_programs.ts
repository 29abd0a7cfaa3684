/**
 * The on-disk check of the exec actions' programs, run when a config is loaded (daemon start,
 * reload, `config check`): a program that does not exist, is not a file or is not executable is a
 * warning at its `on_ban[0]`/`on_unban[0]` (the jail's firewall bans work without it; each run of
 * the action would fail and be counted). A path the process may not look at (the narrowed daemon
 * at reload) is not reported.
 * @module
 */
import type { Config } from "./types.ts";
import type { ConfigIssue } from "./errors.ts";
import { formatPath, type Layout, type Segment } from "./_locate.ts";

/** Warnings for the exec actions' programs that cannot run. */
export function checkActionPrograms(config: Config, layout: Layout): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const a of config.actions) {
    if (a.type !== "exec") continue;
    for (const [key, argv] of [["on_ban", a.onBan], ["on_unban", a.onUnban]] as const) {
      const program = argv[0];
      if (program === undefined) continue;
      const problem = programProblem(program);
      if (problem === null) continue;
      const segs: Segment[] = ["actions", a.name, key, 0];
      const at = layout.get(segs);
      const pos = at === undefined ? { line: 0, column: 0 } : layout.position(at.valueOffset);
      out.push({
        path: config.path,
        ...pos,
        message: `${formatPath(segs)}: ${program} ${problem}`,
      });
    }
  }
  return out;
}

function programProblem(path: string): string | null {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "does not exist; every run of the action fails";
    return null; // not permitted to look: unknown
  }
  if (!info.isFile) return "is not a file; every run of the action fails";
  if (info.mode !== null && (info.mode & 0o111) === 0) {
    return "is not executable; every run of the action fails";
  }
  return null;
}
