/**
 * `fail2zig client history IP` against a live daemon (log-only backend): the records come from
 * the daemon's audit log, newest last, as JSON and as a table.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { client, fail2zig, makeConfig, privateGlobal, sshdJail, startDaemon } from "./_daemon.ts";

Deno.test("client history shows a client ban and its unban from the audit log", async () => {
  const { dir, config } = await makeConfig((d) => `${privateGlobal(d)}\n${sshdJail(d)}`);
  const sock = join(dir, "fail2zig.sock");
  await Deno.writeTextFile(join(dir, "auth.log"), "");
  const daemon = await startDaemon(dir, config);
  try {
    const none = await client(sock, "history", "203.0.113.5");
    equal(none.code, 0, none.err);
    deepEqual(none.json, { ip: "203.0.113.5", records: [] });

    equal((await client(sock, "ban", "203.0.113.5", "--jail", "sshd")).code, 0);
    equal((await client(sock, "ban", "203.0.113.6", "--jail", "sshd")).code, 0);
    equal((await client(sock, "unban", "203.0.113.5")).code, 0);

    const h = await client(sock, "history", "203.0.113.5");
    equal(h.code, 0, h.err);
    const recs = (h.json as { records: Record<string, unknown>[] }).records;
    deepEqual(recs.map((r) => [r.event, r.ip, r.jail]), [
      ["ban", "203.0.113.5", "sshd"],
      ["unban", "203.0.113.5", "sshd"],
    ]);
    equal(recs[0]!.duration_s, 600, "the jail's bantime");
    equal(recs[0]!.origin, "client");
    ok((recs[0]!.seq as number) < (recs[1]!.seq as number), "newest last");
    equal(h.json?.truncated, undefined);

    const last = await client(sock, "history", "203.0.113.5", "--limit", "1");
    deepEqual(
      [last.json?.truncated, last.json?.total, (last.json?.records as unknown[]).length],
      [true, 2, 1],
    );

    const text = await fail2zig(["client", "--socket", sock, "history", "203.0.113.5"]);
    equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split("\n");
    match(lines[0]!, /^TIME\s+EVENT\s+ADDRESS\s+JAIL\s+DURATION\s+REASON\s+ORIGIN$/);
    match(lines[1]!, /\sban\s+203\.0\.113\.5\s+sshd\s+10m\s/);
    match(lines[2]!, /\sunban\s+203\.0\.113\.5\s+sshd\s+unbanned by client/);

    const bad = await client(sock, "history", "not-an-ip");
    equal(bad.code, 1);
    equal((bad.json?.error as Record<string, unknown>)?.code, "bad_request");
  } finally {
    equal(await daemon.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
});
