/**
 * The syscall allow-list on the real daemon (docs/seccomp.md): under `enforce` every thread of
 * the process carries the filter and the daemon's own calls to ptrace, mount and (where no
 * program is run) execve are refused with EPERM, while it still bans and answers; under `log`
 * the same calls run and the kernel logs them; under `off` there is no filter. With a journald
 * jail execve is allowed and journalctl runs under the inherited filter.
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { appendJournal, type Entry } from "../src/sources/testdata/journal.ts";
import {
  makeConfig,
  privateGlobal,
  request,
  type RunningDaemon,
  sshdJail,
  startDaemon,
} from "./_daemon.ts";

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

/** The kernel's seccomp audit records of `pid` (`dmesg`), as `syscall=N code=0x…` strings. */
async function kernelRecords(pid: number): Promise<string[]> {
  const out = await new Deno.Command("dmesg", { stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).split("\n")
    .filter((l) => l.includes("type=1326") && l.includes(` pid=${pid} `))
    .map((l) => `${/syscall=\d+/.exec(l)?.[0]} ${/code=0x[0-9a-f]+/.exec(l)?.[0]}`);
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
    // refused calls are logged by the kernel too (SECCOMP_FILTER_FLAG_LOG), as errno returns
    const k = await kernelRecords(daemon.process.pid);
    for (const nr of [101, 165, 59]) ok(k.includes(`syscall=${nr} code=0x50000`), k.join("; "));
    // the daemon still works under the filter: reads, matches, bans, answers, saves
    await Deno.writeTextFile(join(daemon.dir, "auth.log"), failures("203.0.113.9", 2), {
      append: true,
    });
    await daemon.waitFor((r) => r["event"] === "ban" && r["ip"] === "203.0.113.9");
    const status = await request(join(daemon.dir, "fail2zig.sock"), { v: 1, cmd: "status" });
    equal(status["ok"], true);
  });
});

Deno.test("log: the same calls run and the kernel logs them; off: no filter", async () => {
  await withDaemon('seccomp = "log"', sshdJail, async (daemon) => {
    const rec = await installed(daemon);
    deepEqual(rec["check"], { ptrace: "ESRCH", mount: "EFAULT", execve: "ENOENT" });
    const { seccomp } = await threadModes(daemon.process.pid);
    ok(seccomp.every((s) => s === "2"), `Seccomp per thread: ${seccomp}`);
    const k = await kernelRecords(daemon.process.pid);
    for (const nr of [101, 165, 59]) ok(k.includes(`syscall=${nr} code=0x7ffc0000`), k.join("; "));
  });
  await withDaemon('seccomp = "off"', sshdJail, async (daemon) => {
    await daemon.waitFor((r) => r["msg"] === "seccomp filter off");
    ok(!daemon.err.some((r) => r["msg"] === "seccomp filter installed"));
    const { seccomp, noNewPrivs } = await threadModes(daemon.process.pid);
    ok(seccomp.every((s) => s === "0"), `Seccomp per thread: ${seccomp}`);
    ok(noNewPrivs.every((s) => s === "0"), `NoNewPrivs per thread: ${noNewPrivs}`);
    deepEqual(await kernelRecords(daemon.process.pid), []);
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
      // The first journalctl started before the filter; killed, it is restarted under the
      // filter, which it inherits, and it keeps following.
      const pid = daemon.process.pid;
      const before = await children(pid);
      ok(before.length > 0, "journalctl is running");
      await new Deno.Command("kill", { args: ["-9", ...before] }).output();
      // the follower (a short query may come and go first)
      let status = "";
      for (let i = 0; i < 200 && status === ""; i++) {
        for (const c of (await children(pid)).filter((c) => !before.includes(c))) {
          const st = await procText(`/proc/${c}/status`);
          if (/^Name:\s+journalctl$/m.test(st)) status = st;
        }
        if (status === "") await new Promise((r) => setTimeout(r, 50));
      }
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
