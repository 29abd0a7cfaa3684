/**
 * One run of an exec action: the argv with its placeholders substituted (each a whole argument,
 * never parsed by a shell), an empty environment but `PATH` and `LC_ALL`, no stdin, stdout
 * discarded, the first `STDERR_KEPT` bytes of stderr kept for the log, killed (SIGKILL) at the
 * timeout.
 * @module
 */
import type { ActionEvent } from "./runner.ts";

/** Bytes of a failed run's stderr quoted in the log. */
export const STDERR_KEPT = 512;
/** The environment an exec action runs with (nothing of the daemon's). */
export const EXEC_ENV: Readonly<Record<string, string>> = {
  PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
  LC_ALL: "C",
};

/** The value of each placeholder for `e`. */
export function placeholders(e: ActionEvent): Record<string, string> {
  return {
    "{ip}": e.ip,
    "{prefix}": String(e.prefix),
    "{jail}": e.jail,
    "{duration_s}": e.durationMs === null ? "-1" : String(Math.round(e.durationMs / 1000)),
    "{origin}": e.origin,
  };
}

/** The argv with every argument that is exactly a placeholder replaced by its value. */
export function substitute(argv: readonly string[], e: ActionEvent): string[] {
  const values = placeholders(e);
  return argv.map((a) => Object.hasOwn(values, a) ? values[a]! : a);
}

/**
 * Runs `argv` to its end, its timeout or `signal` (the daemon stopping; both kill it); resolves ""
 * on exit 0, else why it failed.
 */
export async function runExec(
  argv: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      clearEnv: true,
      env: { ...EXEC_ENV },
    }).spawn();
  } catch (e) {
    return `cannot run ${argv[0]}: ${e instanceof Error ? e.message : String(e)}`;
  }
  let timedOut = false;
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  signal?.addEventListener("abort", kill, { once: true });
  const kept: Uint8Array[] = [];
  let size = 0;
  const reader = child.stderr.getReader();
  const drain = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        if (size < STDERR_KEPT) kept.push(value.subarray(0, STDERR_KEPT - size));
        size += value.length;
      }
    } catch { /* cancelled */ }
  })();
  const status = await child.status;
  clearTimeout(timer);
  signal?.removeEventListener("abort", kill);
  if (signal?.aborted) return "killed: the daemon is stopping";
  // A grandchild may hold stderr open: take what came, do not wait for it.
  await Promise.race([drain, new Promise((r) => setTimeout(r, 50))]);
  reader.cancel().catch(() => {});
  if (timedOut) return `timed out after ${timeoutMs} ms (killed)`;
  if (status.success) return "";
  // deno-lint-ignore no-control-regex -- control characters are what is removed
  const text = new TextDecoder().decode(concat(kept)).trim().replace(/[\x00-\x1f\x7f]+/g, " ");
  const how = status.signal !== null ? `killed by ${status.signal}` : `exited ${status.code}`;
  return `${argv[0]} ${how}${text === "" ? "" : `: ${text}`}`;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
