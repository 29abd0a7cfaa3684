/**
 * Installs the daemon's syscall filter on every thread of the process (docs/seccomp.md):
 * `prctl(PR_SET_NO_NEW_PRIVS, 1)` (required to install a filter without CAP_SYS_ADMIN, and so
 * that no later execve gains privileges), then `seccomp(SECCOMP_SET_MODE_FILTER,
 * SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG, prog)`: TSYNC applies it to the threads
 * that already exist (the parser Worker, V8's and the runtime's), threads and children created
 * later inherit it; LOG has the kernel log every refused call too. Then a self-check: three calls
 * the filter must refuse (with arguments that make them fail harmlessly when allowed).
 * @module
 */
import { errno, libc, strerror } from "../ffi/mod.ts";
import { buildFilter, encode, EPERM, RET } from "./bpf.ts";
import { allowList } from "./allow.ts";
import { archTable } from "./arch.ts";

/** `[global] seccomp`: refuse unlisted calls (EPERM), let the kernel log them, or no filter. */
export type SeccompMode = "enforce" | "log" | "off";

const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_FILTER_FLAG_TSYNC = 1;
const SECCOMP_FILTER_FLAG_LOG = 2;

/** What {@link installSeccomp} did. */
export type SeccompResult =
  | {
    readonly installed: true;
    readonly mode: "enforce" | "log";
    /** Syscalls allowed. */
    readonly syscalls: number;
    /** Whether execve/execveat are allowed. */
    readonly exec: boolean;
    /** Result of each self-check call: `EPERM` when refused, else what the kernel answered. */
    readonly check: Readonly<Record<ProbeName, string>>;
  }
  | { readonly installed: false; readonly reason: string };

/** The self-check calls. */
export type ProbeName = "ptrace" | "mount" | "execve";

/**
 * Installs the filter for `mode` (nothing for `off`): unlisted syscalls return EPERM (`enforce`)
 * or run and are logged by the kernel (`log`); execve/execveat are allowed only when `exec`.
 * Throws when the kernel refuses, or, under `enforce`, when a self-check call is not refused.
 * Returns `installed: false` for `off` and on an architecture without a syscall table (`arch`,
 * default `Deno.build.arch`; nothing is installed then).
 */
export function installSeccomp(
  mode: SeccompMode,
  opts: { exec: boolean; arch?: string },
): SeccompResult {
  if (mode === "off") return { installed: false, reason: "seccomp = off" };
  const arch = opts.arch ?? Deno.build.arch;
  const table = archTable(arch);
  if (table === null) return { installed: false, reason: `no syscall table for ${arch}` };
  const names = allowList(opts.exec);
  const prog = encode(buildFilter({
    arch: table.auditArch,
    abiBit: table.abiBit,
    allowed: names.map((n) => table.number(n)),
    otherwise: mode === "enforce" ? RET.ERRNO | EPERM : RET.LOG,
  }));
  const c = libc();
  if (c.prctl(PR_SET_NO_NEW_PRIVS, 1n, 0n, 0n, 0n) !== 0) fail("prctl(PR_SET_NO_NEW_PRIVS)");
  // struct sock_fprog: unsigned short len, (padding), struct sock_filter *filter
  const fprog = new BigUint64Array(2);
  fprog[0] = BigInt(prog.length / 8);
  fprog[1] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(prog)));
  const flags = SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG;
  const fprogAddr = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(fprog)));
  const nr = BigInt(table.number("seccomp"));
  const r = c.syscall(nr, BigInt(SECCOMP_SET_MODE_FILTER), BigInt(flags), fprogAddr, 0n, 0n);
  if (r < 0) fail("seccomp(SECCOMP_SET_MODE_FILTER)");
  // TSYNC: a positive result is the id of a thread that could not be synchronised
  if (r > 0) throw new Error(`seccomp: thread ${r} could not take the filter`);
  const check = selfCheck(table.number);
  if (mode === "enforce") {
    const bad = (Object.keys(check) as ProbeName[]).filter((p) =>
      (p !== "execve" || !opts.exec) && check[p] !== "EPERM"
    );
    if (bad.length > 0) {
      throw new Error(`seccomp self-check: ${bad.map((p) => `${p} → ${check[p]}`).join(", ")}`);
    }
  }
  return { installed: true, mode, syscalls: names.length, exec: opts.exec, check };
}

function fail(call: string): never {
  const code = errno();
  throw new Error(`${call}: ${strerror(code)} (errno ${code})`);
}

/** errno names of the self-check's possible answers. */
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  5: "EIO",
  14: "EFAULT",
};

/**
 * Calls what the filter must refuse, with arguments that fail harmlessly if it does not:
 * `ptrace` of pid 0 with no such request (ESRCH), `mount(NULL, NULL, …)` (EFAULT), `execve("")` (ENOENT).
 * Each answer is `EPERM` when the filter refused it, `ok` if it succeeded, else its errno name.
 */
export function selfCheck(nr: (name: string) => number): Record<ProbeName, string> {
  const c = libc();
  const empty = new Uint8Array(1);
  const emptyAddr = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(empty)));
  const answer = (r: bigint) => {
    if (r >= 0) return "ok";
    const e = errno();
    return ERRNO_NAMES[e] ?? `errno ${e}`;
  };
  return {
    ptrace: answer(c.syscall(BigInt(nr("ptrace")), 0xffffffffn, 0n, 0n, 0n, 0n)),
    mount: answer(c.syscall(BigInt(nr("mount")), 0n, 0n, 0n, 0n, 0n)),
    execve: answer(c.syscall(BigInt(nr("execve")), emptyAddr, 0n, 0n, 0n, 0n)),
  };
}
