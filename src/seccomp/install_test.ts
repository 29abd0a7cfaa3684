/**
 * The filter installed for real, in a child Deno process (it cannot be removed again): what it
 * refuses, that threads and children inherit it, and that exec follows the `exec` option.
 */
import assert from "node:assert/strict";

const PROBE = `
import { installSeccomp, selfCheck, archTable } from ${
  JSON.stringify(new URL("./mod.ts", import.meta.url).href)
};
const [mode, exec] = Deno.args;
const r = installSeccomp(mode, { exec: exec === "exec" });
const w = new Worker("data:text/javascript,postMessage('up')", { type: "module" });
const worker = await new Promise((ok) => { w.onmessage = (e) => { ok(e.data); w.terminate(); }; });
let spawned;
try {
  spawned = (await new Deno.Command("/bin/true").output()).success ? "ran" : "failed";
} catch (e) {
  spawned = e.name;
}
const status = await Deno.readTextFile("/proc/self/status");
const threads = [];
for await (const t of Deno.readDir("/proc/self/task")) {
  const s = await Deno.readTextFile("/proc/self/task/" + t.name + "/status");
  threads.push(/^Seccomp:\\s+(\\d)/m.exec(s)[1]);
}
console.log(JSON.stringify({ r, worker, spawned, threads, nnp: /^NoNewPrivs:\\s+(\\d)/m.exec(status)[1],
  again: selfCheck(archTable("x86_64").number) }));
`;

async function probe(mode: string, exec: boolean): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "-q", "--unstable-worker-options", PROBE, mode, exec ? "exec" : "no-exec"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr) + text);
  return JSON.parse(text);
}

Deno.test("enforce: refused calls get EPERM in every thread; no exec without the option", async () => {
  const p = await probe("enforce", false);
  assert.deepEqual((p.r as { check: unknown }).check, {
    ptrace: "EPERM",
    mount: "EPERM",
    execve: "EPERM",
  });
  assert.deepEqual(p.again, { ptrace: "EPERM", mount: "EPERM", execve: "EPERM" });
  assert.equal(p.worker, "up"); // a Worker started after the filter works
  assert.equal(p.spawned, "PermissionDenied"); // posix_spawn's execve refused
  assert.equal(p.nnp, "1");
  assert.ok((p.threads as string[]).length > 1 && (p.threads as string[]).every((s) => s === "2"));
});

Deno.test("enforce with exec: children run (and inherit the filter); ptrace, mount refused", async () => {
  const p = await probe("enforce", true);
  assert.equal(p.spawned, "ran");
  assert.deepEqual(p.again, { ptrace: "EPERM", mount: "EPERM", execve: "ENOENT" });
});

Deno.test("log: unlisted calls run (the kernel logs them); off installs nothing", async () => {
  const log = await probe("log", false);
  assert.deepEqual(log.again, { ptrace: "ESRCH", mount: "EFAULT", execve: "ENOENT" });
  assert.equal(log.spawned, "ran");
  assert.ok((log.threads as string[]).every((s) => s === "2"));
  const off = await probe("off", false);
  assert.deepEqual(off.r, { installed: false, reason: "seccomp = off" });
  assert.ok((off.threads as string[]).every((s) => s === "0"));
  assert.equal(off.nnp, "0");
});

/** Installs `log` in a child, which then calls the self-check's refused calls every 250 ms. */
const LOGGING = `
import { installSeccomp, selfCheck, archTable } from ${
  JSON.stringify(new URL("./mod.ts", import.meta.url).href)
};
console.log(JSON.stringify(installSeccomp("log", { exec: false })));
const t = setInterval(() => selfCheck(archTable("x86_64").number), 250);
for await (const _ of Deno.stdin.readable) { /* until the test closes stdin */ }
clearInterval(t);
`;

Deno.test("log: the kernel logs an unlisted call with the caller's pid (audit type=1326, SECCOMP_RET_LOG)", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "-q", LOGGING],
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const first = await lines.read();
    assert.equal(JSON.parse(first.value ?? "{}").mode, "log");
    // The kernel prints audit records through printk_ratelimit() (10 in 5 s, shared by every
    // caller), so one call may go unrecorded on a busy machine: the child repeats its calls and
    // the kernel log is read until a record of this pid shows up.
    const record = new RegExp(
      `type=1326 .* pid=${child.pid} .* syscall=101 compat=0 .* code=0x7ffc0000`,
    );
    let found = "";
    for (const deadline = Date.now() + 30_000; found === "" && Date.now() < deadline;) {
      const out = await new Deno.Command("dmesg", { stdout: "piped", stderr: "piped" }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      found = new TextDecoder().decode(out.stdout).split("\n").find((l) => record.test(l)) ?? "";
      if (found === "") await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(found !== "", `no kernel record of ptrace (101) logged for pid ${child.pid}`);
    lines.releaseLock();
  } finally {
    await child.stdin.close();
    await child.stdout.cancel().catch(() => {});
    await child.status;
  }
});
