/**
 * `[actions.NAME]` in the live daemon, started as users start it (`-P=daemon`, then narrowed to
 * its computed permissions): a ban runs the jail's exec action (argv, no shell) and mails through
 * its smtp action (a listener of this test on loopback), an unban runs `on_unban`, and
 * `client status` shows the jail's ports.
 */
import { equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { client, makeConfig, privateGlobal, startDaemon } from "./_daemon.ts";

async function waitUntil(
  pred: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One SMTP session per connection, its lines recorded when the client closes. */
function smtpListener() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sessions: string[] = [];
  const done = (async () => {
    for await (const conn of listener) {
      const enc = new TextEncoder(), dec = new TextDecoder();
      const send = (s: string) => conn.write(enc.encode(s + "\r\n"));
      let buf = "", data = false, log = "";
      await send("220 test ESMTP");
      const chunk = new Uint8Array(4096);
      for (;;) {
        const n = await conn.read(chunk).catch(() => null);
        if (n === null) break;
        buf += dec.decode(chunk.subarray(0, n));
        for (let nl; (nl = buf.indexOf("\r\n")) >= 0;) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 2);
          log += line + "\n";
          if (data) {
            if (line === ".") (data = false, await send("250 queued"));
          } else if (line === "DATA") (data = true, await send("354 go ahead"));
          else await send(line === "QUIT" ? "221 bye" : "250 ok");
        }
      }
      sessions.push(log);
      conn.close();
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    sessions,
    close: async () => (listener.close(), await done.catch(() => {})),
  };
}

Deno.test({
  name: "a ban in the live daemon runs its jail's exec and smtp actions beside the firewall ban",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const smtp = smtpListener();
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
      await waitUntil(async () => (await read()).includes("ban|203.0.113.9|sshd|3600|"));
      await waitUntil(() => smtp.sessions.length === 1);
      match(smtp.sessions[0]!, /^EHLO host\.example\nMAIL FROM:<fail2zig@host\.example>\n/);
      match(smtp.sessions[0]!, /\nSubject: \[fail2zig\] sshd: banned 203\.0\.113\.9\n/);
      equal((await client(sock, "status", "sshd")).json?.["ports"], "tcp 22,2222");
      equal((await client(sock, "unban", "203.0.113.9")).code, 0);
      await waitUntil(async () => (await read()).includes("unban|203.0.113.9|"));
      equal(smtp.sessions.length, 1, "an unban sends no mail");
      ok(!daemon.err.some((r) => r["msg"] === "action failed"), JSON.stringify(daemon.err));
    } finally {
      equal(await daemon.stop(), 0);
      await smtp.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
