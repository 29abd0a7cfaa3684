/**
 * The parser Worker: tails the jails' files and runs their filters. It runs with read
 * permission on the log directories only — no FFI, net, write, run or env — so a parser bug
 * reachable from attacker bytes cannot touch the firewall, the network or the state file.
 *
 * Stages: start message → compile filters → FileSource per `read_from` group → for each batch:
 * match every line against the filters of the jails watching that file → post failures →
 * wait for credit when `MAX_UNACKED_BATCHES` are in flight.
 * @module
 */
/// <reference lib="deno.worker" />
import { FileSource, type LineBatch } from "../sources/mod.ts";
import { type Filter, getFilter } from "../filters/mod.ts";
import {
  type BatchMessage,
  type ControlMessage,
  IP_SEPARATOR,
  type LinesMessage,
  MAX_UNACKED_BATCHES,
  type StartMessage,
  type WorkerMessage,
} from "./_protocol.ts";

function post(msg: WorkerMessage): void {
  self.postMessage(msg);
}

/** Bytes per read: smaller than the source's default to keep the Worker's heap small. */
const READ_CHUNK_BYTES = 64 * 1024;

let inFlight = 0;
/** Sources waiting for credit, in order (one per `read_from` group can wait at once). */
const waiting: (() => void)[] = [];
const sources: FileSource[] = [];
const filters = new Map<number, Filter>();

async function start(msg: StartMessage): Promise<void> {
  for (const j of msg.jails) filters.set(j.index, getFilter(j.filter, j.mode, msg.userFilters));
  const groups = new Map<"end" | "start", { patterns: string[]; jailsOf: number[][] }>();
  for (const j of msg.jails) {
    const g = groups.get(j.readFrom) ?? { patterns: [], jailsOf: [] };
    groups.set(j.readFrom, g);
    for (const p of j.logpath) {
      let at = g.patterns.indexOf(p);
      if (at < 0) at = g.patterns.push(p) - 1, g.jailsOf.push([]);
      g.jailsOf[at]!.push(j.index);
    }
  }
  const readPaths: string[] = [];
  for (const [readFrom, g] of groups) {
    if (g.patterns.length === 0) continue;
    let dropped = 0;
    const source = new FileSource({
      patterns: g.patterns,
      readFrom,
      group: readFrom,
      lineMaxBytes: msg.lineMaxBytes,
      chunkBytes: READ_CHUNK_BYTES,
      saved: msg.saved,
      onDrop: () => {
        if (dropped++ === 0) {
          queueMicrotask(
            () => (post({ type: "dropped", reason: "line_too_long", count: dropped }), dropped = 0),
          );
        }
      },
      onWarning: (message) => post({ type: "warning", message }),
    });
    sources.push(source);
    await source.start((batch) => deliver(batch, g.jailsOf));
    source.done.catch((e) =>
      post({ type: "fatal", message: `log source stopped: ${e instanceof Error ? e.message : e}` })
    );
    readPaths.push(...g.patterns);
  }
  post({ type: "ready", readPaths });
}

/**
 * The failures of one batch, collected in reused scratch space and sent as one message: the
 * addresses joined into one string, jail/time/offset as typed arrays (copied to their exact
 * length).
 */
class Failures {
  #cap = 0;
  #jails = new Int32Array(0);
  #times = new Float64Array(0);
  #offsets = new Float64Array(0);
  #ips: string[] = [];
  count = 0;

  /** Starts a batch that can hold at most `cap` failures. */
  reset(cap: number): void {
    if (cap > this.#cap) {
      this.#cap = Math.max(cap, this.#cap * 2);
      this.#jails = new Int32Array(this.#cap);
      this.#times = new Float64Array(this.#cap);
      this.#offsets = new Float64Array(this.#cap);
    }
    this.#ips.length = 0;
    this.count = 0;
  }

  add(jail: number, ip: string, time: number, offset: number): void {
    const k = this.count++;
    this.#jails[k] = jail;
    this.#times[k] = time;
    this.#offsets[k] = offset;
    this.#ips.push(ip);
  }

  post(head: Omit<BatchMessage, "count" | "jails" | "ips" | "times" | "offsets" | "sentAt">): void {
    const n = this.count;
    const msg: BatchMessage = {
      ...head,
      count: n,
      jails: this.#jails.slice(0, n),
      ips: this.#ips.join(IP_SEPARATOR),
      times: this.#times.slice(0, n),
      offsets: this.#offsets.slice(0, n),
      sentAt: Date.now(),
    };
    // Copied, not transferred: with a transfer list Deno takes its slower, non-raw post path.
    self.postMessage(msg);
    this.#ips.length = 0;
  }
}

const failures = new Failures();
/** Jails watching each source batch's pattern set (`LineBatch.matches`), by identity. */
const jailsCache = new WeakMap<readonly number[], number[]>();
const NO_MATCHES: readonly number[] = [];

function jailsFor(matches: readonly number[], jailsOf: number[][]): number[] {
  let jails = jailsCache.get(matches);
  if (jails === undefined) {
    const set = new Set<number>();
    for (const m of matches) for (const j of jailsOf[m] ?? []) set.add(j);
    jails = [...set];
    jailsCache.set(matches, jails);
  }
  return jails;
}

function deliver(batch: LineBatch, jailsOf: number[][]): Promise<void> | void {
  const jails = jailsFor(batch.matches ?? NO_MATCHES, jailsOf);
  const lines = batch.lines;
  const offsets = batch.offsets;
  failures.reset(lines.length * jails.length);
  const now = Date.now();
  for (const j of jails) {
    const filter = filters.get(j)!;
    for (let i = 0; i < lines.length; i++) {
      const m = filter.match(lines[i]!, now);
      if (m !== null) failures.add(j, m.ip, m.time ?? NaN, offsets?.[i] ?? -1);
    }
  }
  failures.post({
    type: "batch",
    origin: batch.source,
    lines: jails.map((j) => [j, lines.length]),
    positions: batch.positions,
  });
  if (++inFlight < MAX_UNACKED_BATCHES) return;
  return new Promise((resolve) => waiting.push(resolve));
}

/** Matches lines read by the main thread (journal records); the record time is the failure time. */
function matchLines(msg: LinesMessage): void {
  failures.reset(msg.lines.length * msg.jails.length);
  const now = Date.now();
  for (const j of msg.jails) {
    const filter = filters.get(j);
    if (filter === undefined) continue;
    for (let i = 0; i < msg.lines.length; i++) {
      const m = filter.match(msg.lines[i]!, now);
      if (m !== null) failures.add(j, m.ip, Math.min(msg.times[i] ?? m.time ?? NaN, now), -1);
    }
  }
  failures.post({
    type: "batch",
    id: msg.id,
    origin: msg.origin,
    lines: msg.jails.map((j) => [j, msg.lines.length]),
    positions: [],
  });
}

self.onmessage = (e: MessageEvent<StartMessage | ControlMessage | LinesMessage>) => {
  const msg = e.data;
  if (msg.type === "lines") {
    matchLines(msg);
  } else if (msg.type === "start") {
    start(msg).catch((err) =>
      post({ type: "fatal", message: err instanceof Error ? err.message : String(err) })
    );
  } else if (msg.type === "ack") {
    inFlight--;
    if (inFlight < MAX_UNACKED_BATCHES) waiting.shift()?.();
  } else if (msg.type === "stop") {
    Promise.all(sources.map((s) => s.stop())).finally(() => {
      post({ type: "stopped", positions: sources.flatMap((s) => s.positions()) });
    });
  }
};
