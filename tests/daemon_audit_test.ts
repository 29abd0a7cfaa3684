/**
 * The audit chain cannot vanish without trace: through the live daemon, an audit log deleted while
 * it runs is reopened with a gap record (and a warning), and after a restart the chain goes on
 * from the head kept in the state file — never again from seq 0.
 */
import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { GAP_EVENT, verifyAuditLog } from "../src/audit/mod.ts";
import { makeConfig, privateGlobal, request, sshdJail, startDaemon } from "./_daemon.ts";

Deno.test("an audit log deleted while the daemon runs, or before a restart, leaves a gap record the verifier reports", async () => {
  const { dir, config } = await makeConfig((d) => `${privateGlobal(d)}\n${sshdJail(d)}`);
  await Deno.writeTextFile(join(dir, "auth.log"), "");
  const sock = join(dir, "fail2zig.sock");
  const audit = join(dir, "audit.log");
  const ban = (ip: string) => request(sock, { v: 1, cmd: "ban", ip, jail: "sshd" });
  try {
    let daemon = await startDaemon(dir, config);
    try {
      await ban("203.0.113.1");
      await ban("203.0.113.2");
      await Deno.remove(audit);
      await ban("203.0.113.3");
      await daemon.waitFor((r) => r["msg"] === "audit log deleted, moved or replaced; reopened");
    } finally {
      equal(await daemon.stop(), 0);
    }
    const running = await verifyAuditLog(audit);
    ok(
      running.ok && running.firstSeq === 2 && running.firstEvent === GAP_EVENT,
      JSON.stringify(running),
    );
    const lastSeq = running.ok ? running.lastSeq! : -1;
    // Deleted while stopped: the next start goes on from the state file's head.
    await Deno.remove(audit);
    daemon = await startDaemon(dir, config);
    try {
      await daemon.waitFor((r) => r["msg"] === "audit log: records lost");
      await ban("203.0.113.4");
    } finally {
      equal(await daemon.stop(), 0);
    }
    const restarted = await verifyAuditLog(audit);
    ok(restarted.ok, JSON.stringify(restarted));
    if (restarted.ok) {
      equal(restarted.firstSeq, lastSeq + 1, "the chain goes on, not again from seq 0");
      equal(restarted.startPrev, running.ok ? running.lastHash : "");
      equal(restarted.gaps.length, 1);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
