/**
 * Derives the seccomp allow list (docs/seccomp.md) from what the daemon really calls: runs test
 * files with `FAIL2ZIG_TEST_STRACE` set, so that tests/_daemon.ts starts every daemon under
 * `strace -D -f -c` (the daemon keeps its PID; its threads and children — iptables, ipset,
 * journalctl, which inherit the filter — are counted too), then prints the union of the syscalls
 * of every daemon with their call counts, and how it differs from the allow list.
 *
 *   seccomp_trace.ts [TEST_FILE…]   default: tests/daemon_*_test.ts and the firewall tests that
 *                                   start a daemon with an exec backend
 *
 * The summaries cover each daemon's whole life, start-up before the filter included, so the union
 * is a superset of what the filter must allow. Needs root (the tests' network namespaces) and
 * strace. Exit 1 when a traced syscall is not allowed.
 * @module
 */
import { join } from "node:path";
import { allowList, EXEC_SYSCALLS } from "../src/seccomp/mod.ts";

/**
 * Test files that start daemons: the daemon suite (less daemon_seccomp_test, whose daemons set
 * their own mode and run the self-check's ptrace and mount), the exec backends' tests and the
 * fleet's.
 */
export async function defaultFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(join(root, "tests"))) {
    if (/^daemon_.*_test\.ts$/.test(e.name) && e.name !== "daemon_seccomp_test.ts") {
      files.push(join("tests", e.name));
    }
  }
  files.push(
    "tests/firewall_e2e_test.ts",
    "tests/firewall_daemon_repair_test.ts",
    "tests/fleet_daemon_test.ts",
  );
  return files.sort();
}

/** The syscall names and call counts of one `strace -c -U name,calls` summary. */
export function parseSummary(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([a-z_][a-z0-9_]*)\s+(\d+)\s*$/.exec(line);
    if (m === null || m[1] === "total" || m[1] === "syscall") continue;
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return out;
}

async function main(args: string[]): Promise<number> {
  const root = new URL("..", import.meta.url).pathname;
  const files = args.length > 0 ? args : await defaultFiles(root);
  const dir = await Deno.makeTempDir({ prefix: "fail2zig-strace-" });
  const test = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-q", "-P=test", ...files],
    cwd: root,
    // seccomp off: the self-check's refused calls (ptrace, mount) must not enter the union
    env: { FAIL2ZIG_TEST_STRACE: dir, FAIL2ZIG_TEST_SECCOMP: "off" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  // strace -D writes its summary from a detached grandchild once the daemon has exited.
  await new Promise((r) => setTimeout(r, 2000));
  const union = new Map<string, number>();
  let daemons = 0;
  for await (const e of Deno.readDir(dir)) {
    daemons++;
    for (const [name, n] of parseSummary(await Deno.readTextFile(join(dir, e.name)))) {
      union.set(name, (union.get(name) ?? 0) + n);
    }
  }
  await Deno.remove(dir, { recursive: true });
  const allowed = new Set([...allowList(true)]);
  console.log(`# ${daemons} daemons traced; tests ${test.success ? "passed" : "FAILED"}`);
  for (const [name, n] of [...union].sort((a, b) => a[0].localeCompare(b[0]))) {
    console.log(`${name}\t${n}${allowed.has(name) ? "" : "\tNOT ALLOWED"}`);
  }
  const unseen = [...allowed].filter((s) => !union.has(s) && !EXEC_SYSCALLS.includes(s));
  if (unseen.length > 0) console.log(`# allowed but not traced: ${unseen.join(" ")}`);
  return [...union.keys()].some((s) => !allowed.has(s)) ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
