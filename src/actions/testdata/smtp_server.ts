/**
 * A tiny SMTP server on loopback for tests of the smtp action (in process and in the live
 * daemon): it records one session per connection, its lines as the client sent them, when the
 * client closes.
 * @module
 */

/**
 * Listens on 127.0.0.1 (a free port) and answers like a mail server: `reply(command)` may answer
 * a command instead (null: the default answer).
 */
export function smtpServer(reply: (cmd: string) => string | null = () => null) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sessions: string[] = [];
  const done = (async () => {
    for await (const conn of listener) {
      const enc = new TextEncoder();
      const dec = new TextDecoder();
      const send = (s: string) => conn.write(enc.encode(s + "\r\n"));
      let buf = "", data = false, log = "";
      await send("220 test ESMTP");
      const chunk = new Uint8Array(4096);
      for (;;) {
        const n = await conn.read(chunk).catch(() => null);
        if (n === null) break;
        buf += dec.decode(chunk.subarray(0, n));
        let nl;
        while ((nl = buf.indexOf("\r\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 2);
          log += line + "\n";
          if (data) {
            if (line === ".") {
              data = false;
              await send("250 queued");
            }
            continue;
          }
          const custom = reply(line);
          if (custom !== null) await send(custom);
          else if (line.startsWith("EHLO")) await send("250-test\r\n250 8BITMIME");
          else if (line === "DATA") {
            data = true;
            await send("354 go ahead");
          } else if (line === "QUIT") await send("221 bye");
          else await send("250 ok");
        }
      }
      sessions.push(log);
      conn.close();
    }
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  /** Stops listening and waits for the sessions to end. */
  const close = async () => (listener.close(), await done.catch(() => {}));
  return { port, sessions, close };
}
