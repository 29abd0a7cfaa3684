import { equal, match } from "node:assert/strict";
import { AuditLog } from "../src/audit/mod.ts";

const REPO = new URL("..", import.meta.url).pathname;

async function verify(args: string[]): Promise<{ code: number; out: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-P=daemon", `${REPO}mod.ts`, "audit", "verify", ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: o.code, out: d.decode(o.stdout) + d.decode(o.stderr) };
}

Deno.test("audit verify exits 0 on an intact chain and 1 naming the first broken line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-verify-" });
  try {
    const path = `${dir}/audit.log`;
    const log = AuditLog.open(path);
    for (let i = 1; i <= 3; i++) {
      log.append({ event: "ban", ip: `192.0.2.${i}`, jail: "sshd", durationS: 60 });
    }
    log.close();
    const good = await verify([path]);
    equal(good.code, 0, good.out);
    match(good.out, /^OK: 3 records, last seq 2, last hash [0-9a-f]{64}/);
    const lines = (await Deno.readTextFile(path)).split("\n");
    await Deno.writeTextFile(path, [lines[0], lines[2], ""].join("\n"));
    const bad = await verify([path]);
    equal(bad.code, 1);
    match(bad.out, /^BROKEN at line 2: /);
    const missing = await verify([`${dir}/nope.log`]);
    equal(missing.code, 1);
    match(missing.out, /cannot read/);
    equal((await verify(["--bogus"])).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("audit verify accepts rotated segments on their own and checks that given files continue one another", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-verify-" });
  try {
    const path = `${dir}/audit.log`;
    const log = AuditLog.open(path, { maxBytes: 300 });
    for (let i = 1; i <= 6; i++) log.append({ event: "ban", ip: `192.0.2.${i}`, jail: "sshd" });
    log.close();
    const one = await verify([`${path}.1`]);
    equal(one.code, 0, one.out);
    match(
      one.out,
      /^note: records before seq \d+ are in an earlier segment, not checked here .*\nOK: \d+ records, last seq \d+, last hash [0-9a-f]{64}, a segment from seq \d+ after [0-9a-f]{64}\n$/,
    );
    const segs = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n !== "audit.log");
    const oldestFirst = [...segs.sort().reverse().map((n) => `${dir}/${n}`), path];
    const all = await verify(oldestFirst);
    equal(all.code, 0, all.out);
    equal(all.out.split("\n").filter((l) => l.includes(": OK: ")).length, oldestFirst.length);
    const gap = await verify([oldestFirst[0]!, path]); // a segment left out
    equal(gap.code, 1, gap.out);
    match(gap.out, /BROKEN at line 1: does not continue /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("audit verify reports a log deleted under the writer as a GAP and exits 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-verify-" });
  try {
    const path = `${dir}/audit.log`;
    const log = AuditLog.open(path);
    log.append({ event: "ban", ip: "192.0.2.1", jail: "sshd" });
    await Deno.rename(path, `${path}.1`); // moved away: a plain segment, no gap
    log.append({ event: "ban", ip: "192.0.2.2", jail: "sshd" });
    await Deno.remove(path);
    await Deno.remove(`${path}.1`); // both gone: the records before seq 3 are lost
    log.append({ event: "ban", ip: "192.0.2.3", jail: "sshd" });
    log.close();
    const r = await verify([path]);
    equal(r.code, 1, r.out);
    match(r.out, /^GAP at line 1: records before seq 3 are missing: .*was deleted or replaced/);
    match(r.out, /\nOK: 2 records, last seq 4, /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
