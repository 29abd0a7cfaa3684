/**
 * A prompt scraper in a process of its own, as Prometheus is: `PORT COUNT` makes COUNT scrapes of
 * `GET /metrics` on 127.0.0.1:PORT one after another, each sent whole as soon as its connection is
 * up and read until the server closes it, then prints how many were answered `200`.
 *
 * In the listener's own process a client's request waits for that process's event loop: under
 * load it leaves later than a real scraper's would, and the listener rightly takes it for silent.
 * @module
 */
const [port, count] = Deno.args.map(Number);
const request = new TextEncoder().encode("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");

/** One scrape: true when the whole answer came and begins `HTTP/1.1 200`; throws on a reset. */
async function scrape(): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: port! });
  try {
    await conn.write(request);
    const buf = new Uint8Array(65536);
    let head = "";
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      if (head.length < 16) head += new TextDecoder().decode(buf.subarray(0, n));
    }
    return /^HTTP\/1\.1 200 /.test(head);
  } finally {
    conn.close();
  }
}

let answered = 0;
for (let i = 0; i < count!; i++) if (await scrape().catch(() => false)) answered++;
console.log(answered);
