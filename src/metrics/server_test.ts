/**
 * The metrics HTTP listener under abuse: slowloris, oversize heads, wrong methods, more
 * concurrent scrapes than slots, more connections than the cap — while well-behaved scrapes
 * still succeed and the event loop keeps ticking.
 */
import { equal, match, ok } from "node:assert/strict";
import { createDaemonMetrics, type MetricsLimits, startMetricsServer } from "./mod.ts";
import { parseExposition } from "../../tests/metrics_parser.ts";
import { assertPrompt, watchLag } from "../../tests/_lag.ts";
import { waitUntil } from "../../tests/_wait.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const SCRAPER = new URL("../../tests/_prompt_scraper.ts", import.meta.url).pathname;

function metrics() {
  const m = createDaemonMetrics({ memoryBytes: () => 1 });
  m.up.set({}, 1);
  m.addJail("sshd");
  return m;
}

async function withListener(
  render: () => string,
  limits: Partial<MetricsLimits>,
  fn: (port: number, server: ReturnType<typeof startMetricsServer>) => Promise<void>,
): Promise<void> {
  const server = startMetricsServer({ hostname: "127.0.0.1", port: 0, render, limits });
  try {
    await fn(server.addr.port, server);
  } finally {
    await server.close();
  }
}

/** Sends raw bytes and reads the whole response until the server closes. */
async function raw(port: number, request: Uint8Array | string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const bytes = typeof request === "string" ? enc.encode(request) : request;
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    return await readAll(conn);
  } finally {
    closeAll([conn]);
  }
}

async function readAll(conn: Deno.Conn): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      break; // reset
    }
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return dec.decode(all);
}

/** Closes each connection the server has not closed already. */
function closeAll(conns: Deno.Conn[]): void {
  for (const c of conns) {
    try {
      c.close();
    } catch {
      // closed by the server already
    }
  }
}

async function scrape(port: number): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    signal: AbortSignal.timeout(4000),
  });
  const body = await res.text();
  return { status: res.status, body, ms: performance.now() - t0 };
}

Deno.test("metrics listener serves GET /metrics as Prometheus text and refuses everything else", async () => {
  const m = metrics();
  await withListener(() => m.render(), {}, async (port, server) => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    equal(res.status, 200);
    match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const fams = parseExposition(await res.text());
    ok(fams.has("fail2zig_up") && fams.has("fail2zig_ban_latency_seconds"));

    const post = await raw(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    match(post, /^HTTP\/1\.1 405 /);
    match(post, /\r\nAllow: GET\r\n/);
    match(await raw(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1\.1 405 /);
    match(await raw(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1\.1 404 /);
    match(await raw(port, "GET /metrics HTTP/2.0\r\n\r\n"), /^HTTP\/1\.1 400 /);
    match(await raw(port, "\x00\x01garbage\r\n\r\n"), /^HTTP\/1\.1 400 /);
    match(await raw(port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n"), /^HTTP\/1\.1 200 /);
    equal(server.stats().rejected, 5);
  });
});

Deno.test("metrics listener answers an oversize request head with 431 and lives on", async () => {
  const m = metrics();
  await withListener(() => m.render(), {}, async (port, server) => {
    const huge = `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: ${"a".repeat(9000)}\r\n\r\n`;
    match(await raw(port, huge), /^HTTP\/1\.1 431 /);
    const endless = `GET /metrics HTTP/1.1\r\nX-Pad: ${"b".repeat(20000)}`; // never ends its head
    match(await raw(port, endless), /^HTTP\/1\.1 431 /);
    const fits = `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: ${"c".repeat(8000)}\r\n\r\n`;
    ok(fits.length <= 8192);
    match(await raw(port, fits), /^HTTP\/1\.1 200 /);
    equal(server.stats().tooLarge, 2);
    equal((await scrape(port)).status, 200);
  });
});

Deno.test("200 slowloris connections are cut off at the read timeout while scrapes still succeed", async () => {
  const m = metrics();
  await withListener(() => m.render(), {}, async (port, server) => {
    const lag = watchLag(10);
    const idle: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        await c.write(enc.encode("GET /metrics HTTP/1.1\r\nHost: x\r\n")); // head never finishes
        idle.push(c);
      }
      // One of them trickles a byte per second: a per-read timeout would keep it forever.
      const trickler = idle[0]!;
      const trickle = setInterval(() => trickler.write(enc.encode("X")).catch(() => {}), 1000);
      const t0 = performance.now();
      try {
        const s = await scrape(port);
        equal(s.status, 200);
        ok(s.ms < 1000, `scrape took ${s.ms.toFixed(0)} ms behind 200 idle connections`);
        parseExposition(s.body);
        equal(server.stats().open >= 200, true);
        // The server cuts every idle connection at the 5 s head deadline.
        const closedAt = await Promise.all(idle.map(async (c) => {
          await readAll(c);
          return performance.now() - t0;
        }));
        const latest = Math.max(...closedAt);
        ok(latest < 8000, `idle connections lived ${latest.toFixed(0)} ms`);
        ok(Math.min(...closedAt) > 3000, "connections were cut before the read timeout");
        ok(server.stats().timedOut >= 200, `timedOut ${server.stats().timedOut}`);
        equal((await scrape(port)).status, 200);
      } finally {
        clearInterval(trickle);
      }
      assertPrompt(lag.stop());
    } finally {
      lag.stop();
      closeAll(idle);
    }
  });
});

Deno.test("metrics listener serves at most 16 responses at once and queues the rest", async () => {
  const big = "# HELP big b\n# TYPE big gauge\n" +
    Array.from({ length: 200_000 }, (_, i) => `big{i="${i}"} ${i}`).join("\n") + "\n"; // 4 MB
  // 24 readers of 4 MB each on a loaded machine may take longer than the 5 s write timeout, which
  // is not what this test is about (it cut a response short once).
  await withListener(() => big, { writeTimeoutMs: 120_000 }, async (port, server) => {
    const conns: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 24; i++) {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        await c.write(enc.encode("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
        conns.push(c); // nobody reads yet: responses stall on full socket buffers
      }
      await waitUntil(() => server.stats().active === 16, "16 responses in flight");
      const bodies = await Promise.all(conns.map(readAll));
      for (const b of bodies) {
        match(b, /^HTTP\/1\.1 200 /);
        const length = Number(/Content-Length: (\d+)/.exec(b)?.[1]);
        equal(enc.encode(b.slice(b.indexOf("\r\n\r\n") + 4)).length, length);
      }
      equal(server.stats().peakActive, 16);
      equal(server.stats().served, 24);
    } finally {
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
    }
  });
});

Deno.test("past the connection cap the oldest unfinished connection makes room for a scrape", async () => {
  const m = metrics();
  await withListener(() => m.render(), { maxConnections: 10 }, async (port, server) => {
    const idle: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        await c.write(enc.encode("GET /"));
        idle.push(c);
      }
      await waitUntil(() => server.stats().open === 10, "10 open connections");
      const s = await scrape(port);
      equal(s.status, 200);
      ok(server.stats().evicted >= 1);
      equal(await readAll(idle[0]!), ""); // the oldest was closed without an answer
    } finally {
      closeAll(idle);
    }
  });
});

Deno.test("connections that send nothing fill the cap, and a scrape still gets in well before the read timeout", async () => {
  const m = metrics();
  await withListener(() => m.render(), { maxConnections: 10 }, async (port, server) => {
    const idle: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 10; i++) idle.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      await waitUntil(() => server.stats().open === 10, "10 open connections");
      // No connection accepted after them is read from, so only the fallback proves them silent;
      // the scrape's deadline is well inside the 5 s read timeout that would otherwise free a slot.
      const s = await scrape(port);
      equal(s.status, 200);
      ok(s.ms < 2000, `the scrape took ${s.ms} ms`);
      equal(server.stats().timedOut, 0);
      ok(server.stats().evicted >= 1);
      equal(await readAll(idle[0]!), ""); // the oldest was closed without an answer
    } finally {
      closeAll(idle);
    }
  });
});

Deno.test("20 clients churning connections at a cap of 16 do not lock out a prompt scraper", async () => {
  const m = metrics();
  const request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  await withListener(() => m.render(), { maxConnections: 16 }, async (port, server) => {
    let stop = false;
    let churned = 0;
    // Each churner keeps 4 connections going: it opens one, sends at once its whole request (even
    // churners) or a head that never ends (odd ones), and opens the next without waiting for the
    // answer; it reads each until the server closes it.
    const open = new Set<Deno.TcpConn>();
    const churners = Array.from({ length: 20 }, async (_, i) => {
      const inFlight = new Set<Promise<unknown>>();
      while (!stop) {
        if (inFlight.size >= 4) {
          await Promise.race(inFlight);
          continue;
        }
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        open.add(conn);
        const sent = conn.write(enc.encode(i % 2 === 0 ? request : "GET /"));
        const done = sent.then(() => readAll(conn)).catch(() => "").finally(() => {
          churned++;
          inFlight.delete(done);
          if (open.delete(conn)) conn.close();
        });
        inFlight.add(done);
      }
    });
    const scrapes = 100;
    let answered = 0;
    try {
      await waitUntil(() => churned >= 200 && server.stats().evicted > 0, "churn at the cap");
      // The scraper runs in a process of its own (tests/_prompt_scraper.ts says why).
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-q", "--allow-net=127.0.0.1", SCRAPER, String(port), String(scrapes)],
        stderr: "inherit",
      }).output();
      answered = Number(dec.decode(out.stdout).trim());
    } finally {
      stop = true;
      await Promise.all(churners);
      for (const c of open) { // the unfinished heads would otherwise wait for the read deadline
        open.delete(c);
        c.close();
      }
    }
    equal(answered, scrapes, `the scraper got ${answered} of ${scrapes} scrapes answered`);
  });
});
