/** `fail2zig filter test` as a whole process, under the daemon permission set like the binary. */
import { deepEqual, equal, match } from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

async function run(args: string[], stdin?: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-P=daemon", `${ROOT}mod.ts`, "filter", "test", ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    cwd: ROOT,
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const LOG = [
  "2026-11-24T12:26:41.771471+00:00 web1 sshd[11934]: Invalid user admin from 1.2.3.4 from 5.6.7.8 port 22",
  "Nov 24 12:26:41 web1 CRON[1]: pam_unix(cron:session): session closed for user root",
  "Failed password for root from 2001:DB8::1 port 22 ssh2",
  "x".repeat(5000),
  "2026-11-24T12:26:42Z web1 sshd-session[1]: Connection closed by authenticating user root ::ffff:9.9.9.9 port 5 [preauth]",
].join("\n");

Deno.test("filter test --json prints one object per matching line in input order, summary on stderr", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/auth.log`, LOG);
    const r = await run(["sshd", `${dir}/auth.log`, "--json"]);
    equal(r.code, 0, r.stderr);
    deepEqual(r.stdout.trim().split("\n").map((l) => JSON.parse(l)), [
      { line: 1, ip: "5.6.7.8", time: "2026-11-24T12:26:41.771Z", filter: "sshd", mode: "normal" },
      { line: 3, ip: "2001:db8::1", time: null, filter: "sshd", mode: "normal" },
      { line: 5, ip: "9.9.9.9", time: "2026-11-24T12:26:42.000Z", filter: "sshd", mode: "normal" },
    ]);
    match(r.stderr, /5 lines, 3 matched, 1 missed, 1 dropped/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("filter test reads standard input and prints a readable report with --missed", async () => {
  const r = await run(["sshd", "-", "--missed", "--mode", "aggressive"], LOG);
  equal(r.code, 0, r.stderr);
  match(r.stdout, /Filter sshd \(mode aggressive\)/);
  match(r.stdout, /Missed lines \(1\):\n {2}2: Nov 24/);
  match(r.stdout, /Addresses: 3 distinct/);
});

Deno.test("filter test exits 1 for an unknown filter or mode and 2 for a bad command line", async () => {
  equal((await run(["nope", "-"], "")).code, 1);
  equal((await run(["sshd", "-", "--mode", "paranoid"], "")).code, 1);
  equal((await run(["sshd"])).code, 2);
  equal((await run(["sshd", "-", "--bogus"], "")).code, 2);
  equal((await run(["sshd", "/nonexistent/file"])).code, 1);
});

Deno.test("filter test --config makes [filters.NAME] testable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cfg = `${dir}/config.toml`;
    await Deno.writeTextFile(
      cfg,
      `[filters.myapp]\npatterns = ["login failed for <*> from <HOST>"]\nprefix = "none"\n`,
    );
    await Deno.chmod(cfg, 0o644);
    const r = await run(
      ["myapp", "-", "--json", "--config", cfg],
      "login failed for x from 1.2.3.4\n",
    );
    equal(r.code, 0, r.stderr);
    equal(JSON.parse(r.stdout).ip, "1.2.3.4");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("filter test drops a line longer than the cap even when it spans read chunks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const huge = `Failed password for root from 1.2.3.4 port 22 ssh2 ${"x".repeat(3 << 20)}`;
    const ok = "Failed password for root from 5.6.7.8 port 22 ssh2";
    await Deno.writeTextFile(`${dir}/big.log`, `${ok}\n${huge}\n${ok}\n${huge}`);
    const r = await run(["sshd", `${dir}/big.log`, "--json"]);
    equal(r.code, 0, r.stderr);
    deepEqual(r.stdout.trim().split("\n").map((l) => JSON.parse(l).line), [1, 3]);
    match(r.stderr, /4 lines, 2 matched, 0 missed, 2 dropped/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
