/**
 * Idle memory of the daemon (`deno task bench:idle [--runs N] [--ceiling MB]`): a one-jail daemon
 * (log-only firewall, one sshd jail on an empty temp file, `memory_ceiling_mb` = `--ceiling`,
 * default 128), started as the tests start it (daemon permission set, `DAEMON_V8_FLAGS`, the
 * narrowing re-exec). 2 s after `ready` it reads `/proc/PID/status` (VmRSS, VmHWM, RssAnon,
 * RssFile) and the deno executable's resident pages from `/proc/PID/smaps`, then stops the daemon.
 * `--runs` daemons one after another (default 5); prints each run and the medians (of an even count, the upper of the middle two). Needs no root.
 * To compare two commits, run it from a checkout of each, alternating.
 * @module
 */
import { parseArgs } from "node:util";
import { makeConfig, privateGlobal, procStatus, sshdJail, startDaemon } from "../tests/_daemon.ts";
import { quantile, smapsByKind } from "./_live.ts";

/** How long the daemon idles after `ready` before it is read, ms. */
const SETTLE_MS = 2000;
const MiB = 1024 * 1024;

/** The figures of one run, MiB. */
interface IdleRun {
  VmRSS: number;
  VmHWM: number;
  RssAnon: number;
  RssFile: number;
  executable: number;
}

async function idleRun(ceilingMb: number, exe: string): Promise<IdleRun> {
  const { dir, config } = await makeConfig((d) =>
    privateGlobal(d, `memory_ceiling_mb = ${ceilingMb}\n`) + "\n" + sshdJail(d)
  );
  await Deno.writeTextFile(`${dir}/auth.log`, "");
  const daemon = await startDaemon(dir, config);
  try {
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const pid = daemon.process.pid;
    const status = await procStatus(pid);
    const smaps = await new Deno.Command("cat", { args: [`/proc/${pid}/smaps`], stderr: "null" })
      .output();
    const kinds = smapsByKind(new TextDecoder().decode(smaps.stdout), exe);
    const field = (k: string) => (status[k] ?? NaN) / MiB;
    return {
      VmRSS: field("VmRSS"),
      VmHWM: field("VmHWM"),
      RssAnon: field("RssAnon"),
      RssFile: field("RssFile"),
      executable: (kinds["executable"] ?? NaN) / MiB,
    };
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function line(label: string, r: IdleRun): string {
  const f = (k: keyof IdleRun) => `${k} ${r[k].toFixed(1)}`;
  return `${label.padEnd(8)} ${
    (["VmRSS", "VmHWM", "RssAnon", "RssFile", "executable"] as const).map(f).join(", ")
  } MiB`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "5" },
      ceiling: { type: "string", default: "128" },
    },
  });
  const runs = Number(values.runs);
  const ceiling = Number(values.ceiling);
  const exe = await Deno.realPath(Deno.execPath());
  console.log(`## Idle daemon, one sshd jail, log-only, memory_ceiling_mb = ${ceiling}`);
  const all: IdleRun[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await idleRun(ceiling, exe);
    all.push(r);
    console.log(line(`run ${i + 1}`, r));
  }
  const med = Object.fromEntries(
    (Object.keys(all[0]!) as (keyof IdleRun)[]).map((
      k,
    ) => [k, quantile(all.map((r) => r[k]).sort((a, b) => a - b), 0.5)]),
  ) as unknown as IdleRun;
  console.log(line("median", med));
}

if (import.meta.main) await main();
