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
let credit: (() => void) | null = null;
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

function deliver(batch: LineBatch, jailsOf: number[][]): Promise<void> | void {
  const jails = new Set<number>();
  for (const m of batch.matches ?? []) for (const j of jailsOf[m] ?? []) jails.add(j);
  const out: BatchMessage = {
    type: "batch",
    jails: [],
    ips: [],
    times: new Float64Array(0),
    origin: batch.source,
    offsets: new Float64Array(0),
    lines: [...jails].map((j) => [j, batch.lines.length]),
    positions: batch.positions,
    sentAt: 0,
  };
  const times: number[] = [];
  const offsets: number[] = [];
  const now = Date.now();
  for (const j of jails) {
    const filter = filters.get(j)!;
    for (let i = 0; i < batch.lines.length; i++) {
      const m = filter.match(batch.lines[i]!, now);
      if (m === null) continue;
      out.jails.push(j);
      out.ips.push(m.ip);
      times.push(m.time ?? NaN);
      offsets.push(batch.offsets?.[i] ?? -1);
    }
  }
  post({
    ...out,
    times: Float64Array.from(times),
    offsets: Float64Array.from(offsets),
    sentAt: Date.now(),
  });
  if (++inFlight < MAX_UNACKED_BATCHES) return;
  return new Promise((resolve) => credit = resolve);
}

/** Matches lines read by the main thread (journal records); the record time is the failure time. */
function matchLines(msg: LinesMessage): void {
  const out: BatchMessage = {
    type: "batch",
    id: msg.id,
    jails: [],
    ips: [],
    times: new Float64Array(0),
    origin: msg.origin,
    offsets: new Float64Array(0),
    lines: msg.jails.map((j) => [j, msg.lines.length]),
    positions: [],
    sentAt: 0,
  };
  const times: number[] = [];
  const offsets: number[] = [];
  const now = Date.now();
  for (const j of msg.jails) {
    const filter = filters.get(j);
    if (filter === undefined) continue;
    for (let i = 0; i < msg.lines.length; i++) {
      const m = filter.match(msg.lines[i]!, now);
      if (m === null) continue;
      out.jails.push(j);
      out.ips.push(m.ip);
      times.push(Math.min(msg.times[i] ?? m.time ?? NaN, now));
      offsets.push(-1);
    }
  }
  post({
    ...out,
    times: Float64Array.from(times),
    offsets: Float64Array.from(offsets),
    sentAt: Date.now(),
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
    if (credit !== null && inFlight < MAX_UNACKED_BATCHES) {
      const c = credit;
      credit = null;
      c();
    }
  } else if (msg.type === "stop") {
    Promise.all(sources.map((s) => s.stop())).finally(() => {
      post({ type: "stopped", positions: sources.flatMap((s) => s.positions()) });
    });
  }
};
