/**
 * The metrics HTTP/1.1 listener, hand-rolled on `Deno.listen` so that every limit is ours:
 *   1. accept: at most `maxConnections` open; past it the oldest evictable connection still
 *      sending its head is closed to make room. Evictable means read from once (those go first),
 *      or silent: nothing sent for `EVICT_GRACE_MS` (20 ms) once a connection accepted later has
 *      been read from, else for `SILENT_FALLBACK_MS` (250 ms), and in both cases one more
 *      event-loop turn (`Listener.#silence` says why). A client that sends its request with its
 *      connection is read, and so out of the head phase, before it can be evicted, and a slow or
 *      churning client cannot lock out a fast scraper. When nothing is evictable the newcomer
 *      waits (and the accept loop with it: later clients wait in the kernel's accept queue) until
 *      a connection closes or becomes evictable: a newcomer is never closed unanswered to make
 *      room;
 *   2. headers: the whole header block must arrive within `readTimeoutMs` (one deadline, not per
 *      read: a byte every few seconds does not keep a connection) and fit `maxHeaderBytes`
 *      (431 past it);
 *   3. request: `GET` only (405 with `Allow: GET`), path `/metrics` (404 otherwise);
 *   4. response: at most `maxConcurrentRequests` responses in flight; more complete requests
 *      wait in arrival order (their deadline still runs); each response must be taken within
 *      `writeTimeoutMs`; every response says `Connection: close`.
 * All I/O is asynchronous and every wait has a deadline: the event loop is never blocked.
 * @module
 */

/** Limits of the metrics listener. */
export interface MetricsLimits {
  /** Time for the whole request head to arrive (ms). @default 5000 */
  readTimeoutMs: number;
  /** Largest request head in bytes; larger gets 431. @default 8192 */
  maxHeaderBytes: number;
  /** Responses in flight at once; complete requests beyond wait in order. @default 16 */
  maxConcurrentRequests: number;
  /**
   * Open connections. Past it the oldest one still reading its head that has been read from once
   * (else that is known to have sent nothing) is closed; failing any, the newcomer waits for room.
   * @default 256
   */
  maxConnections: number;
  /** Time for the client to take a response (ms). @default 5000 */
  writeTimeoutMs: number;
}

/** The defaults of `MetricsLimits` (docs/interfaces.md). */
export const DEFAULT_METRICS_LIMITS: Readonly<MetricsLimits> = Object.freeze({
  readTimeoutMs: 5000,
  maxHeaderBytes: 8192,
  maxConcurrentRequests: 16,
  maxConnections: 256,
  writeTimeoutMs: 5000,
});

/** Options of `startMetricsServer`. */
export interface MetricsServerOptions {
  /** Address to bind, e.g. "127.0.0.1" or "::1". */
  hostname: string;
  /** TCP port; 0 picks a free one (see `addr`). */
  port: number;
  /** Produces the exposition text for each scrape. */
  render: () => string;
  /** Overrides of `DEFAULT_METRICS_LIMITS`. */
  limits?: Partial<MetricsLimits>;
}

/** Counters of the listener. */
export interface MetricsServerStats {
  /** Connections open now. */
  open: number;
  /** Responses in flight now. */
  active: number;
  /** Most responses ever in flight at once. */
  peakActive: number;
  /** 200 responses sent. */
  served: number;
  /** Connections closed because the head did not arrive in time. */
  timedOut: number;
  /** 431 responses. */
  tooLarge: number;
  /** 400/404/405 responses. */
  rejected: number;
  /** Connections closed under `maxConnections` to make room for a newcomer. */
  evicted: number;
}

/** A running metrics listener. */
export interface MetricsServer {
  /** The bound address (the real port when 0 was asked). */
  readonly addr: { hostname: string; port: number };
  /** A snapshot of the counters. */
  stats(): MetricsServerStats;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

interface Conn {
  conn: Deno.TcpConn;
  /** Accept order: a connection accepted later has a higher one. */
  seq: number;
  phase: "head" | "queued" | "respond";
  closed: boolean;
  /**
   * Whether it may be evicted: `"read"` once a read returned (what came with the connection has
   * been seen and the head is still unfinished: a slow sender), `"silent"` once it is known to
   * have sent nothing (`Listener.#silence`), else `"no"`. Slow senders go first.
   */
  evictable: "no" | "silent" | "read";
  /** The pending timer of its silence: the grace, the fallback or the last turn. */
  silenceTimer?: ReturnType<typeof setTimeout>;
}

/**
 * How long a new connection is safe from eviction while it has sent nothing. A client that sends
 * its request with the connection is read well before; one that sends nothing is fair game after,
 * once the event loop has shown that it hands reads over (`Listener.#silence`).
 */
const EVICT_GRACE_MS = 20;

/**
 * Past the grace, how long a connection that has sent nothing is kept while no connection
 * accepted after it has been read from: without that proof its silence may be a loaded loop's.
 */
const SILENT_FALLBACK_MS = 250;

const CRLF2 = [13, 10, 13, 10];

function findHeadEnd(buf: Uint8Array, len: number): number {
  for (let i = 0; i + 3 < len; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) {
      return i + CRLF2.length;
    }
  }
  return -1;
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  431: "Request Header Fields Too Large",
};

function response(status: number, body: string, extra: Record<string, string> = {}): Uint8Array {
  const bytes = new TextEncoder().encode(body);
  const headers: Record<string, string> = {
    "Content-Type": status === 200
      ? "text/plain; version=0.0.4; charset=utf-8"
      : "text/plain; charset=utf-8",
    "Content-Length": String(bytes.length),
    "Connection": "close",
    ...extra,
  };
  const head = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\n` +
    Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
  const h = new TextEncoder().encode(head);
  const out = new Uint8Array(h.length + bytes.length);
  out.set(h);
  out.set(bytes, h.length);
  return out;
}

/** Parses the request line; returns the response to send. */
function route(head: string, render: () => string): { status: number; bytes: Uint8Array } {
  const line = head.slice(0, head.indexOf("\r\n"));
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(line);
  if (m === null) return { status: 400, bytes: response(400, "bad request line\n") };
  const [, method, target] = m as unknown as [string, string, string];
  if (method !== "GET") {
    return { status: 405, bytes: response(405, "only GET\n", { "Allow": "GET" }) };
  }
  const path = target.split("?")[0];
  if (path !== "/metrics") return { status: 404, bytes: response(404, "see /metrics\n") };
  return { status: 200, bytes: response(200, render()) };
}

/**
 * Starts the listener. Throws (synchronously) when the address cannot be bound, e.g.
 * `Deno.errors.AddrInUse`.
 */
export function startMetricsServer(options: MetricsServerOptions): MetricsServer {
  const limits: MetricsLimits = { ...DEFAULT_METRICS_LIMITS, ...options.limits };
  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
    transport: "tcp",
  });
  const la = listener.addr as Deno.NetAddr;
  const server = new Listener(listener, limits, options.render);
  return {
    addr: { hostname: la.hostname, port: la.port },
    stats: () => server.snapshot(),
    close: () => server.close(),
  };
}

/** The state of one bound listener: its connections, its request slots and its counters. */
class Listener {
  readonly #listener: Deno.TcpListener;
  readonly #limits: MetricsLimits;
  readonly #render: () => string;
  readonly #open = new Set<Conn>(); // insertion order = age
  readonly #waiting: (() => void)[] = [];
  /** Past their grace, sent nothing, no later connection read from yet (`#silence`). */
  readonly #unproven = new Set<Conn>();
  #seq = 0;
  /** The highest `Conn.seq` read from. */
  #readSeq = 0;
  readonly #tasks = new Set<Promise<void>>();
  readonly #stats: MetricsServerStats = {
    open: 0,
    active: 0,
    peakActive: 0,
    served: 0,
    timedOut: 0,
    tooLarge: 0,
    rejected: 0,
    evicted: 0,
  };
  #closing = false;
  /** Wakes the accept loop waiting for room (a connection closed or became evictable). */
  #roomChanged: (() => void) | null = null;
  readonly #acceptLoop: Promise<void>;

  constructor(listener: Deno.TcpListener, limits: MetricsLimits, render: () => string) {
    this.#listener = listener;
    this.#limits = limits;
    this.#render = render;
    this.#acceptLoop = this.#accept();
  }

  snapshot(): MetricsServerStats {
    return { ...this.#stats, open: this.#open.size };
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#listener.close();
    this.#wake();
    await this.#acceptLoop;
    for (const c of [...this.#open]) this.#shut(c);
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  #wake(): void {
    const wake = this.#roomChanged;
    this.#roomChanged = null;
    wake?.();
  }

  /**
   * Decides when `c`, which has sent nothing yet, counts as silent. The grace is not proof enough:
   * a loaded event loop runs timers while the first read of a prompt client waits, its request
   * already in the socket (seen on 2 cores: read 100 ms after the accept, the grace fired at 20).
   * Reads are handed over in the order the data arrives, so once a connection accepted after `c`
   * has been read from, `c`'s read, had its data come, has been handed over too. Silent is thus:
   * past the grace and a later connection read from (`#proveSilence`), or past
   * `SILENT_FALLBACK_MS` without that (every connection silent: a flood of them, or an idle loop),
   * and in both cases one more turn of the event loop for a read handed over in the same batch.
   */
  #silence(c: Conn): void {
    c.silenceTimer = setTimeout(() => {
      if (this.#readSeq > c.seq) return this.#silentNextTurn(c);
      this.#unproven.add(c);
      c.silenceTimer = setTimeout(() => this.#silentNextTurn(c), SILENT_FALLBACK_MS);
    }, EVICT_GRACE_MS);
  }

  /** A read of `c` returned: it is not silent, and older connections past their grace are. */
  #proveSilence(c: Conn): void {
    this.#stopSilence(c);
    if (c.seq <= this.#readSeq) return;
    this.#readSeq = c.seq;
    for (const u of this.#unproven) {
      if (u.seq < c.seq) this.#silentNextTurn(u);
    }
  }

  #silentNextTurn(c: Conn): void {
    this.#stopSilence(c);
    c.silenceTimer = setTimeout(() => this.#evictable(c, "silent"), 0);
  }

  /** Ends what `#silence` started for `c`. */
  #stopSilence(c: Conn): void {
    this.#unproven.delete(c);
    clearTimeout(c.silenceTimer);
  }

  /** Marks `c` evictable (`how`); a newcomer waiting for room may take its place. */
  #evictable(c: Conn, how: "silent" | "read"): void {
    if (c.evictable !== "read") c.evictable = how;
    this.#wake();
  }

  #shut(c: Conn): void {
    if (c.closed) return;
    c.closed = true;
    this.#open.delete(c);
    this.#wake();
    try {
      c.conn.close();
    } catch {
      // closed already
    }
  }

  #acquire(): Promise<void> {
    const stats = this.#stats;
    if (stats.active < this.#limits.maxConcurrentRequests) {
      stats.active++;
      stats.peakActive = Math.max(stats.peakActive, stats.active);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) {
      next(); // the slot passes directly to the next in line
    } else {
      this.#stats.active--;
    }
  }

  async #writeAll(c: Conn, bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length && !c.closed) off += await c.conn.write(bytes.subarray(off));
  }

  /** Writes `bytes` as the reply, the connection shut if it takes longer than the write timeout. */
  async #reply(c: Conn, bytes: Uint8Array): Promise<void> {
    c.phase = "respond";
    const writeTimer = setTimeout(() => this.#shut(c), this.#limits.writeTimeoutMs);
    try {
      await this.#writeAll(c, bytes);
    } finally {
      clearTimeout(writeTimer);
    }
  }

  async #serve(c: Conn): Promise<void> {
    const buf = new Uint8Array(this.#limits.maxHeaderBytes);
    let len = 0;
    let headEnd = -1;
    const readTimer = setTimeout(() => {
      if (c.phase === "head") this.#stats.timedOut++;
      this.#shut(c);
    }, this.#limits.readTimeoutMs);
    this.#silence(c);
    try {
      while (headEnd < 0) {
        if (len === buf.length) {
          clearTimeout(readTimer);
          this.#stats.tooLarge++;
          await this.#reply(c, response(431, "request head too large\n"));
          return;
        }
        const n = await c.conn.read(buf.subarray(len));
        if (n === null || c.closed) return;
        this.#proveSilence(c);
        this.#evictable(c, "read"); // what came with the connection has been seen
        len += n;
        headEnd = findHeadEnd(buf, len);
      }
      c.phase = "queued";
      await this.#acquire();
      clearTimeout(readTimer);
      if (c.closed) {
        this.#release();
        return;
      }
      try {
        const head = new TextDecoder().decode(buf.subarray(0, headEnd));
        const { status, bytes } = route(head, this.#render);
        if (status === 200) this.#stats.served++;
        else this.#stats.rejected++;
        await this.#reply(c, bytes);
      } finally {
        this.#release();
      }
    } catch {
      // reset by peer, or closed by a deadline: nothing to answer
    } finally {
      clearTimeout(readTimer);
      this.#stopSilence(c);
      this.#shut(c);
    }
  }

  /**
   * Closes the oldest connection still reading its head that has been read from, else the oldest
   * silent one (`Conn.evictable`); false when there is none.
   */
  #evictOne(): boolean {
    for (const how of ["read", "silent"] as const) {
      for (const c of this.#open) {
        if (c.phase === "head" && c.evictable === how) {
          this.#stats.evicted++;
          this.#shut(c);
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Makes room for one more connection under `maxConnections` by evicting (`#evictOne`); while
   * nothing is evictable, waits until a connection closes or becomes evictable (every connection
   * still sending its head does within `SILENT_FALLBACK_MS`; one being answered closes by its write
   * deadline). False only when the listener is closing.
   */
  async #makeRoom(): Promise<boolean> {
    while (this.#open.size >= this.#limits.maxConnections && !this.#evictOne()) {
      if (this.#closing) return false;
      await new Promise<void>((resolve) => this.#roomChanged = resolve);
    }
    return !this.#closing;
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        if (this.#closing) return;
        await new Promise((r) => setTimeout(r, 50)); // e.g. EMFILE: back off, then go on
        continue;
      }
      if (this.#closing) {
        conn.close();
        return;
      }
      if (!(await this.#makeRoom())) {
        conn.close();
        return;
      }
      const c: Conn = { conn, seq: ++this.#seq, phase: "head", closed: false, evictable: "no" };
      this.#open.add(c);
      const t = this.#serve(c).finally(() => this.#tasks.delete(t));
      this.#tasks.add(t);
    }
  }
}
