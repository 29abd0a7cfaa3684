import assert from "node:assert/strict";
import { confine, execRefusal, needsExec, realDeps } from "./daemon.ts";
import { parseConfig } from "../src/config/mod.ts";
import { StartError } from "../src/daemon/mod.ts";
import { type Fields, Logger } from "../src/log/mod.ts";

const FILE_JAIL = '[jails.sshd]\nfilter = "sshd"\nlogpath = "/var/log/auth.log"\n';
const JOURNAL_JAIL =
  '[jails.sshd]\nfilter = "sshd"\nsource = "journald"\njournal_match = ["_SYSTEMD_UNIT=ssh.service"]\n';
const EXEC_ACTION = '[actions.note]\ntype = "exec"\non_ban = ["/usr/bin/logger", "{ip}"]\n' +
  FILE_JAIL + 'actions = ["note"]\n';

Deno.test("needsExec: exec backends, journald jails and exec actions need execve; nothing else", () => {
  const file = parseConfig(FILE_JAIL, "c.toml");
  assert.equal(needsExec(file, "nftables"), false);
  assert.equal(needsExec(file, "log-only"), false);
  assert.equal(needsExec(file, "iptables"), true);
  assert.equal(needsExec(file, "ipset"), true);
  assert.equal(needsExec(parseConfig(JOURNAL_JAIL, "c.toml"), "nftables"), true);
  assert.equal(needsExec(parseConfig(EXEC_ACTION, "c.toml"), "nftables"), true);
});

Deno.test("execRefusal: a reload that adds programs is refused only where execve does not work", () => {
  for (const text of [JOURNAL_JAIL, EXEC_ACTION]) {
    const next = parseConfig(text, "c.toml");
    assert.match(execRefusal(false, next) ?? "", /seccomp filter .* refuses \(execve\); restart/);
    assert.equal(execRefusal(true, next), null);
  }
  assert.equal(execRefusal(false, parseConfig(FILE_JAIL, "c.toml")), null);
});

Deno.test("confine on an architecture without a syscall table: the default enforce refuses to start naming the fix; log warns", () => {
  const records: [string, Fields][] = [];
  const logger = new Logger("info", [{ write: (_, msg, fields) => records.push([msg, fields]) }]);
  const byDefault = parseConfig(FILE_JAIL, "c.toml");
  assert.equal(byDefault.global.seccomp, "enforce");
  assert.throws(
    () => confine(byDefault, false, logger, "aarch64"),
    (e) =>
      e instanceof StartError && e.stage === "seccomp" &&
      e.reason === "no syscall table for aarch64" &&
      e.summary.includes('set [global] seccomp = "log" to run without it'),
  );
  assert.deepEqual(records, []);
  // (Nothing is installed on this process: without a table the filter is never built.)
  confine(
    parseConfig(`[global]\nseccomp = "log"\n${FILE_JAIL}`, "c.toml"),
    false,
    logger,
    "riscv64",
  );
  assert.deepEqual(records, [
    ["seccomp filter not installed; running without it", {
      reason: "no syscall table for riscv64",
    }],
  ]);
});

Deno.test("the daemon's audit log rotates at audit_max_mb of the config", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fail2zig-audit-max-" });
  try {
    const path = `${dir}/audit/audit.log`;
    const config = parseConfig(
      `[global]\naudit_log = "${path}"\naudit_max_mb = 1\n${FILE_JAIL}`,
      "c.toml",
    );
    const deps = realDeps(`${dir}/c.toml`, config, new Logger("error", []), { exec: true });
    const log = await deps.audit(config, null);
    assert.ok(log !== null);
    try {
      // About 150 bytes a record: 10,000 of them pass 1 MiB once.
      for (let i = 0; i < 10_000; i++) {
        log.append({ event: "ban", ip: `198.51.${i >> 8}.${i & 255}`, jail: "sshd", reason: "x" });
      }
    } finally {
      log.close();
    }
    const live = (await Deno.stat(path)).size;
    const rotated = (await Deno.stat(`${path}.1`)).size;
    // Rotated once a record takes it to 1 MiB: the segment ends within a record of it.
    assert.ok(Math.abs(rotated - 1024 * 1024) < 1024, `${path}.1: ${rotated} bytes`);
    assert.ok(live < rotated, `the live segment holds what came after: ${live} bytes`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
