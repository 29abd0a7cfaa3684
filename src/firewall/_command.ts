/**
 * Runs a firewall tool (iptables, ip6tables, their `-restore`, ipset) with `Deno.Command` and turns
 * every way it can fail into a `FirewallError`: binary missing (errno ENOENT), not permitted
 * (EACCES), non-zero exit (the tool's own message; EPERM when it says so).
 * @module
 */
import { FirewallError } from "./backend.ts";

/** What a tool printed and returned. */
export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const ENOENT = 2;
const EPERM = 1;
const EACCES = 13;
/** Longest tool message quoted in an error. */
const MAX_QUOTED = 300;

/** Runs `binary args…`, feeding `stdin` when given; rejects only when it cannot start. */
export async function runTool(
  backend: string,
  operation: string,
  binary: string,
  args: readonly string[],
  stdin?: string,
): Promise<ToolResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(binary, {
      args: [...args],
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      env: { LC_ALL: "C" },
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new FirewallError(
        backend,
        operation,
        `expected the tool at ${binary}, found nothing there`,
        ENOENT,
      );
    }
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      throw new FirewallError(
        backend,
        operation,
        `not permitted to run ${binary}: ${(e as Error).message}`,
        EACCES,
      );
    }
    throw new FirewallError(backend, operation, `cannot run ${binary}: ${(e as Error).message}`);
  }
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    try {
      await w.write(new TextEncoder().encode(stdin));
      await w.close();
    } catch {
      // The tool exited early; its exit status and stderr say why.
    }
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Like `runTool`, but a non-zero exit becomes a `FirewallError` quoting the tool. */
export async function runToolOk(
  backend: string,
  operation: string,
  binary: string,
  args: readonly string[],
  stdin?: string,
): Promise<ToolResult> {
  const r = await runTool(backend, operation, binary, args, stdin);
  if (r.code !== 0) throw toolError(backend, operation, binary, args, r);
  return r;
}

/** The error for a failed tool run. */
export function toolError(
  backend: string,
  operation: string,
  binary: string,
  args: readonly string[],
  r: ToolResult,
): FirewallError {
  const msg = (r.stderr.trim() || r.stdout.trim() || "(no output)").slice(0, MAX_QUOTED);
  const denied = /permission denied|not permitted|you must be root/i.test(msg);
  return new FirewallError(
    backend,
    operation,
    `expected \`${binary} ${args.join(" ")}\` to succeed, it exited ${r.code}: ${msg}`,
    denied ? EPERM : undefined,
  );
}

/**
 * Applies `commands` (rule lines as `iptables -S` prints them: `-N`, `-A`, `-I`, `-D`) to the
 * filter table in one `IPTABLES-restore -w --noflush` run (`/usr/sbin/iptables-restore` for
 * `/usr/sbin/iptables`), one transaction: all of them or none. Nothing runs when empty.
 */
export async function restoreFilter(
  backend: string,
  operation: string,
  iptables: string,
  commands: readonly string[],
): Promise<void> {
  if (commands.length === 0) return;
  await runToolOk(
    backend,
    operation,
    `${iptables}-restore`,
    ["-w", "--noflush"],
    `*filter\n${commands.join("\n")}\nCOMMIT\n`,
  );
}
