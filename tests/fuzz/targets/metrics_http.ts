/**
 * Target `metrics-http`: request bytes sent to the real metrics listener on loopback (the client
 * half-closes after sending). The answer is compared with the contract of docs/interfaces.md:
 * a head (up to the first CRLF CRLF) that fits `maxHeaderBytes` is routed by its request line:
 * `GET /metrics[?…] HTTP/1.x` → 200, another method → 405 with `Allow: GET`, another path → 404,
 * a malformed line → 400; a head that does not fit → 431; an incomplete head → no answer. Every
 * answer is one well-formed response with `Content-Length` and `Connection: close`, and the
 * listener keeps serving.
 * @module
 */
import fc from "fast-check";
import { type MetricsServer, startMetricsServer } from "../../../src/metrics/mod.ts";
import { mutatedBytes } from "../_input.ts";
import { expect, type Target, withCorpus } from "../_target.ts";

const MAX_HEAD = 512;
const BODY = "fail2zig_up 1\n";
let server: MetricsServer | null = null;

/** The status the contract gives `bytes`, or null for no answer. */
function expected(bytes: Uint8Array): number | null {
  const scan = bytes.subarray(0, MAX_HEAD);
  let end = -1;
  for (let i = 0; i + 3 < scan.length; i++) {
    if (scan[i] === 13 && scan[i + 1] === 10 && scan[i + 2] === 13 && scan[i + 3] === 10) {
      end = i;
      break;
    }
  }
  if (end < 0) return bytes.length >= MAX_HEAD ? 431 : null;
  const head = new TextDecoder().decode(bytes.subarray(0, end + 2));
  const line = head.slice(0, head.indexOf("\r\n"));
  const parts = line.split(" ");
  if (parts.length !== 3 || !/^[A-Z]+$/.test(parts[0]!) || !/^HTTP\/1\.[01]$/.test(parts[2]!)) {
    return 400;
  }
  if (parts[1]!.length === 0 || /\s/.test(parts[1]!)) return 400;
  if (parts[0] !== "GET") return 405;
  return parts[1]!.split("?")[0] === "/metrics" ? 200 : 404;
}

async function exchange(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    try {
      for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
      await conn.closeWrite();
    } catch {
      // the listener may answer (431) and close before taking everything: read what it sent
    }
    const parts: Uint8Array[] = [];
    const buf = new Uint8Array(4096);
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        break; // reset after the answer
      }
      if (n === null) break;
      parts.push(buf.slice(0, n));
    }
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) out.set(p, (at += p.length) - p.length);
    return out;
  } finally {
    conn.close();
  }
}

function wellFormed(text: string): { status: number; headers: Map<string, string> } | string {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return "no end of head";
  const [status, ...lines] = text.slice(0, end).split("\r\n");
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(status!);
  if (m === null) return `status line ${status}`;
  const headers = new Map<string, string>();
  for (const l of lines) {
    headers.set(l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 2));
  }
  const body = new TextEncoder().encode(text.slice(end + 4));
  if (headers.get("content-length") !== String(body.length)) return "Content-Length";
  if (headers.get("connection") !== "close") return "Connection";
  return { status: Number(m[1]), headers };
}

const enc = new TextEncoder();
const request = fc.tuple(
  fc.constantFrom("GET", "POST", "HEAD", "get", "G ET", ""),
  fc.constantFrom("/metrics", "/metrics?x=1", "/", "/metrics/", "*", "", "/metrics x"),
  fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2", "http/1.1", ""),
  fc.array(fc.constantFrom("Host: x", "Accept: */*", "X: " + "a".repeat(300), ""), {
    maxLength: 3,
  }),
  fc.oneof(
    { weight: 3, arbitrary: fc.constant("\r\n\r\n") },
    { weight: 1, arbitrary: fc.constantFrom("\r\n", "\n\n", "") },
  ),
).map(([m, p, v, h, end]) => enc.encode([`${m} ${p} ${v}`, ...h].join("\r\n") + end));

/** The `metrics-http` target. */
export const metricsHttpTarget: Target<Uint8Array> = {
  name: "metrics-http",
  modules: ["src/metrics/server.ts"],
  runs: 800,
  timeoutMs: 3000,
  arbitrary: (corpus) =>
    withCorpus(
      corpus,
      fc.oneof(request, mutatedBytes(request), fc.uint8Array({ maxLength: 600 })),
      (base) => mutatedBytes(base),
    ),
  async check(bytes) {
    server ??= startMetricsServer({
      hostname: "127.0.0.1",
      port: 0,
      render: () => BODY,
      limits: { maxHeaderBytes: MAX_HEAD, readTimeoutMs: 2000, writeTimeoutMs: 2000 },
    });
    const got = new TextDecoder().decode(await exchange(server.addr.port, bytes));
    const want = expected(bytes);
    if (want === null) {
      expect(got === "", () => `an answer to an incomplete head: ${got.slice(0, 80)}`);
      return;
    }
    const r = wellFormed(got);
    expect(
      typeof r !== "string",
      () => `malformed answer (${r}): ${JSON.stringify(got.slice(0, 120))}`,
    );
    expect(r.status === want, () => `status ${r.status}, the contract says ${want}`);
    if (want === 405) expect(r.headers.get("allow") === "GET", () => "405 without Allow: GET");
    if (want === 200) expect(got.endsWith(BODY), () => "200 without the exposition");
  },
  async close() {
    await server?.close();
    server = null;
  },
};
