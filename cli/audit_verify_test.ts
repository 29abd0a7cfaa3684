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
    equal((await verify([path, "extra"])).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
