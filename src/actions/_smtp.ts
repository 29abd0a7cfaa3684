/**
 * A minimal SMTP client (RFC 5321) for the smtp action: plain TCP to the configured server (a
 * local relay such as Postfix on 127.0.0.1:25; no TLS, no AUTH), greeting → EHLO → MAIL FROM →
 * RCPT TO per recipient → DATA with the dot-stuffed message → QUIT. Every reply is checked for its
 * expected code; the whole exchange is bounded by one timeout (the connection is closed then).
 * @module
 */

/** A mail to send. */
export interface Mail {
  /** The server's IP address. */
  readonly hostname: string;
  /** Its port. */
  readonly port: number;
  /** Envelope and header sender. */
  readonly from: string;
  /** Recipients. */
  readonly to: readonly string[];
  /** Subject line (made printable here). */
  readonly subject: string;
  /** Body text, `\n`-separated lines (made printable here). */
  readonly body: string;
  /** Longest the exchange may take, ms. */
  readonly timeoutMs: number;
  /** Date header. @default new Date() */
  readonly date?: Date;
  /** Aborts the exchange (the daemon stopping). */
  readonly signal?: AbortSignal;
}

/** Longest reply read from the server. */
const MAX_REPLY_BYTES = 16 * 1024;

/** Control characters (CR and LF included) become spaces: nothing can start a new line. */
export function printable(s: string): string {
  // deno-lint-ignore no-control-regex -- control characters are what is removed
  return s.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, " ");
}

/** The RFC 5322 message: headers, blank line, body; CRLF line ends, dot-stuffed for DATA. */
export function formatMessage(m: Mail): string {
  const date = m.date ?? new Date();
  const domain = m.from.slice(m.from.lastIndexOf("@") + 1);
  const headers = [
    `From: <${m.from}>`,
    `To: ${m.to.map((t) => `<${t}>`).join(", ")}`,
    `Subject: ${printable(m.subject)}`,
    `Date: ${date.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <fail2zig.${date.getTime()}.${crypto.randomUUID()}@${domain}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
  ];
  const body = m.body.split("\n").map((l) => printable(l)).map((l) =>
    l.startsWith(".") ? `.${l}` : l
  );
  return [...headers, "", ...body].join("\r\n") + "\r\n";
}

/** Sends `m`; rejects with what the server said (or why the exchange failed). */
export async function sendMail(m: Mail): Promise<void> {
  const conn = await Deno.connect({ hostname: m.hostname, port: m.port });
  let timedOut = false;
  const close = () => {
    try {
      conn.close();
    } catch { /* closed */ }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    close();
  }, m.timeoutMs);
  m.signal?.addEventListener("abort", close, { once: true });
  const enc = new TextEncoder();
  const reader = new ReplyReader(conn);
  const step = async (command: string | null, want: readonly number[], what: string) => {
    if (command !== null) await conn.write(enc.encode(command + "\r\n"));
    const { code, text } = await reader.reply();
    if (!want.includes(code)) {
      throw new Error(`${what}: expected ${want.join(" or ")}, got ${code} ${text}`);
    }
  };
  try {
    await step(null, [220], "greeting");
    const domain = m.from.slice(m.from.lastIndexOf("@") + 1);
    await step(`EHLO ${domain}`, [250], "EHLO");
    await step(`MAIL FROM:<${m.from}>`, [250], "MAIL FROM");
    for (const to of m.to) await step(`RCPT TO:<${to}>`, [250, 251], `RCPT TO ${to}`);
    await step("DATA", [354], "DATA");
    await step(formatMessage(m) + ".", [250], "end of data");
    await step("QUIT", [221], "QUIT").catch(() => {}); // the mail is accepted already
  } catch (e) {
    if (timedOut) {
      throw new Error(`timed out after ${m.timeoutMs} ms talking to ${m.hostname}:${m.port}`);
    }
    throw e;
  } finally {
    clearTimeout(timer);
    m.signal?.removeEventListener("abort", close);
    close();
  }
}

/** Reads SMTP replies (`CODE-text` continuation lines, then `CODE text`). */
class ReplyReader {
  #conn: Deno.Conn;
  #buf = "";
  #dec = new TextDecoder();

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  async #line(): Promise<string> {
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl).replace(/\r$/, "");
        this.#buf = this.#buf.slice(nl + 1);
        return line;
      }
      if (this.#buf.length > MAX_REPLY_BYTES) throw new Error("reply too long");
      const chunk = new Uint8Array(4096);
      const n = await this.#conn.read(chunk);
      if (n === null) throw new Error("the server closed the connection");
      this.#buf += this.#dec.decode(chunk.subarray(0, n), { stream: true });
    }
  }

  async reply(): Promise<{ code: number; text: string }> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.#line();
      lines.push(line.slice(4));
      if (!/^\d{3}[ -]/.test(line) && !/^\d{3}$/.test(line)) {
        throw new Error(`not an SMTP reply: ${line.slice(0, 80)}`);
      }
      if (line[3] !== "-") {
        return { code: Number(line.slice(0, 3)), text: lines.join(" ").slice(0, 200) };
      }
    }
  }
}
