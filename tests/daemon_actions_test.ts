/**
 * `[actions.NAME]` in the live daemon, started as users start it (`-P=daemon`, then narrowed to
 * its computed permissions): a ban runs the jail's exec action (argv, no shell) and mails through
 * its smtp action (a listener of this test on loopback), an unban runs `on_unban`, and
 * `client status` shows the jail's ports.
 */
import { equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { client, makeConfig, privateGlobal, startDaemon } from "./_daemon.ts";
import { smtpServer } from "../src/actions/testdata/smtp_server.ts";
import { waitUntil } from "./_wait.ts";

/** The waits of this test: an action runs within seconds of its ban. */
const T = { timeoutMs: 15_000 };

Deno.test({
  name: "a ban in the live daemon runs its jail's exec and smtp actions beside the firewall ban",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const smtp = smtpServer();
    const { dir, config } = await makeConfig((d) =>
      `${privateGlobal(d)}
[actions.note]
type = "exec"
on_ban = ["${join(d, "note.sh")}", "ban", "{ip}", "{jail}", "{duration_s}"]
on_unban = ["${join(d, "note.sh")}", "unban", "{ip}"]
timeout = "5s"
[actions.mail]
type = "smtp"
server = "127.0.0.1:${smtp.port}"
from = "fail2zig@host.example"
to = "root@host.example"
[jails.sshd]
filter = "sshd"
logpath = "${join(d, "auth.log")}"
port = ["ssh", 2222]
actions = ["note", "mail"]
`
    );
    const out = join(dir, "note.txt");
    await Deno.writeTextFile(
      join(dir, "note.sh"),
      `#!/bin/sh\nprintf '%s|' "$@" >> ${out}\necho >> ${out}\n`,
    );
    await Deno.chmod(join(dir, "note.sh"), 0o755);
    await Deno.writeTextFile(join(dir, "auth.log"), "");
    const sock = join(dir, "fail2zig.sock");
    const daemon = await startDaemon(dir, config);
    try {
      const read = () => Deno.readTextFile(out).catch(() => "");
      equal(
        (await client(sock, "ban", "203.0.113.9", "--jail", "sshd", "--duration", "1h")).code,
        0,
      );
      await waitUntil(
        async () => (await read()).includes("ban|203.0.113.9|sshd|3600|"),
        "the exec action's ban line",
        T,
      );
      await waitUntil(() => smtp.sessions.length === 1, "one SMTP session", T);
      match(smtp.sessions[0]!, /^EHLO host\.example\nMAIL FROM:<fail2zig@host\.example>\n/);
      match(smtp.sessions[0]!, /\nSubject: \[fail2zig\] sshd: banned 203\.0\.113\.9\n/);
      equal((await client(sock, "status", "sshd")).json?.["ports"], "tcp 22,2222");
      equal((await client(sock, "unban", "203.0.113.9")).code, 0);
      await waitUntil(
        async () => (await read()).includes("unban|203.0.113.9|"),
        "the unban line",
        T,
      );
      equal(smtp.sessions.length, 1, "an unban sends no mail");
      ok(!daemon.err.some((r) => r["msg"] === "action failed"), JSON.stringify(daemon.err));
    } finally {
      equal(await daemon.stop(), 0);
      await smtp.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
