/**
 * The syscall allow-list on the real daemon (docs/seccomp.md): under `enforce` every thread of
 * the process carries the filter and the daemon's own calls to ptrace, mount and (where no
 * program is run) execve are refused with EPERM, while it still bans and answers; under `log`
 * the same calls run, and the program the kernel holds (read back with ptrace) returns
 * SECCOMP_RET_LOG for them; under `off` there is no filter. With a journald
 * jail execve is allowed and journalctl runs under the inherited filter.
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { appendJournal, type Entry } from "../src/sources/testdata/journal.ts";
import {
  allowList,
  AUDIT_ARCH_X86_64,
  buildFilter,
  EPERM,
  type Insn,
  RET,
  run,
  X32_SYSCALL_BIT,
  X86_64,
} from "../src/seccomp/mod.ts";
import {
  makeConfig,
  privateGlobal,
  request,
  type RunningDaemon,
  sshdJail,
  startDaemon,
} from "./_daemon.ts";
import { pollFor, waitUntil } from "./_wait.ts";

/** `Seccomp:` and `NoNewPrivs:` of every thread of `pid` (through `cat`: Deno gates /proc). */
async function threadModes(pid: number): Promise<{ seccomp: string[]; noNewPrivs: string[] }> {
  const script =
    `for t in /proc/${pid}/task/*; do grep -E '^(Seccomp|NoNewPrivs):' $t/status; done`;
  const out = await new Deno.Command("sh", { args: ["-c", script] }).output();
  const lines = new TextDecoder().decode(out.stdout).split("\n");
  const field = (name: string) =>
    lines.filter((l) => l.startsWith(`${name}:`)).map((l) => l.split(/\s+/)[1]!);
  return { seccomp: field("Seccomp"), noNewPrivs: field("NoNewPrivs") };
}

/** Files under /proc through `sh -c cat` (Deno gates /proc behind --allow-all); "" if none. */
async function procText(glob: string): Promise<string> {
  const out = await new Deno.Command("sh", { args: ["-c", `cat ${glob}`], stderr: "null" })
    .output();
  return new TextDecoder().decode(out.stdout);
}

/** The child processes of `pid` (every thread's `children` file). */
async function children(pid: number): Promise<string[]> {
  return (await procText(`/proc/${pid}/task/*/children`)).split(/\s+/).filter((s) => s !== "");
}

const PTRACE_SEIZE = 0x4206;
const PTRACE_INTERRUPT = 0x4207;
const PTRACE_DETACH = 17;
const PTRACE_SECCOMP_GET_FILTER = 0x420c;
const WALL = 0x40000000;
const SYS_PTRACE = 101n;
const SYS_WAIT4 = 61n;

/**
 * The seccomp program installed on thread `tid` of a running daemon, read back from the kernel
 * (`PTRACE_SECCOMP_GET_FILTER`: seize the thread, stop it, read, detach). A thread other than the
 * main one is used, so the runtime's own child reaping never sees the stop; it also shows that
 * TSYNC reached that thread.
 */
function installedFilter(tid: number): Insn[] {
  const lib = Deno.dlopen("libc.so.6", {
    syscall: { parameters: ["i64", "i64", "i64", "i64", "i64"], result: "i64" },
  });
  const sys = (nr: bigint, a: number | bigint, b: number | bigint, c: bigint, d: bigint) =>
    lib.symbols.syscall(nr, BigInt(a), BigInt(b), c, d);
  const addr = (buf: Uint8Array) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
  try {
    equal(sys(SYS_PTRACE, PTRACE_SEIZE, tid, 0n, 0n), 0n, "PTRACE_SEIZE");
    try {
      equal(sys(SYS_PTRACE, PTRACE_INTERRUPT, tid, 0n, 0n), 0n, "PTRACE_INTERRUPT");
      const status = new Uint8Array(4);
      equal(sys(SYS_WAIT4, tid, addr(status), BigInt(WALL), 0n), BigInt(tid), "wait4");
      const n = Number(sys(SYS_PTRACE, PTRACE_SECCOMP_GET_FILTER, tid, 0n, 0n));
      ok(n > 0, `filter length ${n}`);
      const buf = new Uint8Array(n * 8);
      equal(sys(SYS_PTRACE, PTRACE_SECCOMP_GET_FILTER, tid, 0n, addr(buf)), BigInt(n));
      const v = new DataView(buf.buffer);
      return Array.from({ length: n }, (_, i) => ({
        code: v.getUint16(i * 8, true),
        jt: v.getUint8(i * 8 + 2),
        jf: v.getUint8(i * 8 + 3),
        k: v.getUint32(i * 8 + 4, true),
      }));
    } finally {
      sys(SYS_PTRACE, PTRACE_DETACH, tid, 0n, 0n);
    }
  } finally {
    lib.close();
  }
}

/** A thread of `pid` other than its main one. */
async function otherThread(pid: number): Promise<number> {
  const out = await new Deno.Command("ls", { args: [`/proc/${pid}/task`] }).output();
  const tids = new TextDecoder().decode(out.stdout).split(/\s+/)
    .filter((t) => t !== "" && t !== String(pid));
  ok(tids.length > 0);
  return Number(tids[tids.length - 1]);
}

/** Calls whose answer the tests read from an installed filter. */
const PROBED = ["ptrace", "mount", "execve", "execveat", "read", "futex"];

/** The filter spec of the daemon's list on x86_64. */
const spec = (names: readonly string[], otherwise: number) => ({
  arch: AUDIT_ARCH_X86_64,
  abiBit: X32_SYSCALL_BIT,
  allowed: names.map((n) => X86_64[n]!),
  otherwise,
});

/** What the daemon's installed filter answers for a call, on x86_64. */
function answers(prog: Insn[], names: string[]): string[] {
  return names.map((n) => {
    const r = run(prog, { nr: X86_64[n]!, arch: AUDIT_ARCH_X86_64 });
    return r === RET.ALLOW
      ? "allow"
      : r === RET.LOG
      ? "log"
      : r === (RET.ERRNO | 1)
      ? "EPERM"
      : `${r}`;
  });
}

async function withDaemon(
  global: string | ((dir: string) => string),
  jail: (dir: string) => string,
  body: (d: RunningDaemon) => Promise<void>,
  prepare?: (dir: string) => Promise<void>,
): Promise<void> {
  const g = typeof global === "string" ? () => global : global;
  const { dir, config } = await makeConfig((d) => `${privateGlobal(d, g(d))}\n${jail(d)}`);
  await Deno.writeTextFile(join(dir, "auth.log"), "");
  await prepare?.(dir);
  const daemon = await startDaemon(dir, config);
  try {
    await body(daemon);
  } finally {
    equal(await daemon.stop(), 0, JSON.stringify(daemon.err.slice(-3)));
    await Deno.remove(dir, { recursive: true });
  }
}

const installed = (d: RunningDaemon) => d.waitFor((r) => r["msg"] === "seccomp filter installed");
const failures = (ip: string, n: number) =>
  Array.from(
    { length: n },
    (_, i) =>
      `${new Date().toISOString()} web1 sshd[${i}]: Failed password for root from ${ip} port ${
        40000 + i
      } ssh2\n`,
  ).join("");

Deno.test("enforce: every thread filtered, ptrace/mount/execve refused with EPERM, bans still work", async () => {
  await withDaemon('seccomp = "enforce"', (d) => sshdJail(d, "maxretry = 2"), async (daemon) => {
    const rec = await installed(daemon);
    equal(rec["mode"], "enforce");
    equal(rec["exec"], false); // log-only, no journald jail: nothing to run
    deepEqual(rec["check"], { ptrace: "EPERM", mount: "EPERM", execve: "EPERM" });
    const { seccomp, noNewPrivs } = await threadModes(daemon.process.pid);
    ok(seccomp.length >= 3, `threads: ${seccomp.length}`); // main, parser Worker, runtime's
    ok(seccomp.every((s) => s === "2"), `Seccomp per thread: ${seccomp}`);
    ok(noNewPrivs.every((s) => s === "1"), `NoNewPrivs per thread: ${noNewPrivs}`);
    // the program the kernel holds for a non-main thread is the one built from the list
    const prog = installedFilter(await otherThread(daemon.process.pid));
    deepEqual(prog, buildFilter(spec(allowList(false), RET.ERRNO | EPERM)));
    deepEqual(answers(prog, PROBED), ["EPERM", "EPERM", "EPERM", "EPERM", "allow", "allow"]);
    // the daemon still works under the filter: reads, matches, bans, answers, saves
    await Deno.writeTextFile(join(daemon.dir, "auth.log"), failures("203.0.113.9", 2), {
      append: true,
    });
    await daemon.waitFor((r) => r["event"] === "ban" && r["ip"] === "203.0.113.9");
    const status = await request(join(daemon.dir, "fail2zig.sock"), { v: 1, cmd: "status" });
    equal(status["ok"], true);
    // a reload cannot loosen the filter: the new mode is reported as waiting for a restart
    const text = await Deno.readTextFile(daemon.config);
    await Deno.writeTextFile(daemon.config, text.replace('seccomp = "enforce"', 'seccomp = "off"'));
    await request(join(daemon.dir, "fail2zig.sock"), { v: 1, cmd: "reload" });
    const w = await daemon.waitFor((r) =>
      r["msg"] === "seccomp changes apply at the next start; the installed filter stays"
    );
    deepEqual([w["running"], w["configured"]], ["enforce", "off"]);
    ok((await threadModes(daemon.process.pid)).seccomp.every((s) => s === "2"));
  });
});

Deno.test("log: the same calls run, logged by the kernel; off: no filter", async () => {
  await withDaemon('seccomp = "log"', sshdJail, async (daemon) => {
    const rec = await installed(daemon);
    deepEqual(rec["check"], { ptrace: "ESRCH", mount: "EFAULT", execve: "ENOENT" });
    const { seccomp } = await threadModes(daemon.process.pid);
    ok(seccomp.every((s) => s === "2"), `Seccomp per thread: ${seccomp}`);
    // unlisted calls get SECCOMP_RET_LOG: they run, and the kernel logs them
    const prog = installedFilter(await otherThread(daemon.process.pid));
    deepEqual(prog, buildFilter(spec(allowList(false), RET.LOG)));
    deepEqual(answers(prog, PROBED), ["log", "log", "log", "log", "allow", "allow"]);
  });
  await withDaemon('seccomp = "off"', sshdJail, async (daemon) => {
    await daemon.waitFor((r) => r["msg"] === "seccomp filter off");
    ok(!daemon.err.some((r) => r["msg"] === "seccomp filter installed"));
    const { seccomp, noNewPrivs } = await threadModes(daemon.process.pid);
    ok(seccomp.every((s) => s === "0"), `Seccomp per thread: ${seccomp}`);
    ok(noNewPrivs.every((s) => s === "0"), `NoNewPrivs per thread: ${noNewPrivs}`);
  });
});

Deno.test("enforce with a journald jail: execve allowed, journalctl runs under the filter", async () => {
  const journalJail = `[jails.sshd-journal]
filter = "sshd"
source = "journald"
journal_match = ["_SYSTEMD_UNIT=ssh.service"]
maxretry = 3
`;
  const journalEntry = (i: number): Entry => ({
    message: `Failed password for invalid user admin from 198.51.100.7 port ${40000 + i} ssh2`,
    timeUs: (Date.now() + i) * 1000,
    unit: "ssh.service",
    ident: "sshd",
    pid: 4000 + i,
  });
  await withDaemon(
    (d) => `seccomp = "enforce"\njournal_directory = "${join(d, "journal")}"`,
    () => journalJail,
    async (daemon) => {
      const rec = await installed(daemon);
      equal(rec["exec"], true);
      deepEqual(rec["check"], { ptrace: "EPERM", mount: "EPERM", execve: "ENOENT" });
      const prog = installedFilter(await otherThread(daemon.process.pid));
      deepEqual(answers(prog, PROBED), ["EPERM", "EPERM", "allow", "allow", "allow", "allow"]);
      // The first journalctl started before the filter; killed, it is restarted under the
      // filter, which it inherits, and it keeps following.
      const pid = daemon.process.pid;
      const before = await children(pid);
      ok(before.length > 0, "journalctl is running");
      await new Deno.Command("kill", { args: ["-9", ...before] }).output();
      // the follower (a short query may come and go first)
      const status = await pollFor(async () => {
        for (const c of (await children(pid)).filter((c) => !before.includes(c))) {
          const st = await procText(`/proc/${c}/status`);
          if (/^Name:\s+journalctl$/m.test(st)) return st;
        }
        return null;
      }, "a new journalctl");
      ok(/^Seccomp:\s+2$/m.test(status), `a journalctl restarted under the filter: ${status}`);
      // and it reads: a record appended now is matched (one failure: no ban, a counted line)
      await appendJournal(join(daemon.dir, "journal"), [journalEntry(1)]);
      await appendJournal(join(daemon.dir, "journal"), [journalEntry(2), journalEntry(3)]);
      await daemon.waitFor((r) => r["event"] === "ban" && r["ip"] === "198.51.100.7", 15_000);
      const exits = daemon.err.map((r) => String(r["msg"])).filter((m) => m.includes("exited"));
      deepEqual(exits.map((m) => m.replace(/.*(journalctl exited with \d+).*/, "$1")), [
        "journalctl exited with 137", // the kill above, nothing after it
      ]);
    },
    async (dir) => {
      await Deno.mkdir(join(dir, "journal"));
      await appendJournal(join(dir, "journal"), [journalEntry(0)]);
    },
  );
});

Deno.test("enforce with an exec action: execve allowed, the action's program runs under the filter", async () => {
  await withDaemon(
    'seccomp = "enforce"',
    (d) =>
      `[actions.note]
type = "exec"
on_ban = ["${join(d, "note.sh")}", "{ip}"]
${sshdJail(d, 'maxretry = 2\nactions = ["note"]')}`,
    async (daemon) => {
      const rec = await installed(daemon);
      equal(rec["exec"], true);
      await Deno.writeTextFile(join(daemon.dir, "auth.log"), failures("203.0.113.10", 2), {
        append: true,
      });
      await daemon.waitFor((r) => r["event"] === "ban" && r["ip"] === "203.0.113.10");
      const note = join(daemon.dir, "note.txt");
      await waitUntil(async () => (await Deno.stat(note).catch(() => null)) !== null, "note.txt");
      // the script itself reports its seccomp mode: it inherited the daemon's filter
      deepEqual((await Deno.readTextFile(note)).trim().split("\n"), ["203.0.113.10", "2"]);
    },
    async (dir) => {
      const script = join(dir, "note.sh");
      await Deno.writeTextFile(
        script,
        `#!/bin/sh\necho "$1" > ${join(dir, "note.txt")}.tmp\n` +
          `sed -n 's/^Seccomp:\\s*//p' /proc/self/status >> ${join(dir, "note.txt")}.tmp\n` +
          `mv ${join(dir, "note.txt")}.tmp ${join(dir, "note.txt")}\n`,
      );
      await Deno.chmod(script, 0o755);
    },
  );
});
