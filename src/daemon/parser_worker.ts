/**
 * The parser Worker: tails the jails' files and runs their filters. It runs with read
 * permission on the log directories only — no FFI, net, write, run or env — so a parser bug
 * reachable from attacker bytes cannot touch the firewall, the network or the state file.
 *
 * Stages: start message → compile filters → FileSource per `read_from` group → for each batch:
 * match every line against the filters of the jails watching that file (`_matcher.ts`, the code
 * the in-process parser host runs too) → post failures → wait for credit when
 * `MAX_UNACKED_BATCHES` are in flight.
 * @module
 */
/// <reference lib="deno.worker" />
import { FileSource, type LineBatch } from "../sources/mod.ts";
import { fileGroups, LineMatcher } from "./_matcher.ts";
import {
  type ControlMessage,
  type LinesMessage,
  MAX_UNACKED_BATCHES,
  type StartMessage,
  type WorkerMessage,
} from "./_protocol.ts";

function post(msg: WorkerMessage): void {
  // Copied, not transferred: with a transfer list Deno takes its slower, non-raw post path.
  self.postMessage(msg);
}

/** Bytes per read: smaller than the source's default to keep the Worker's heap small. */
const READ_CHUNK_BYTES = 64 * 1024;

let inFlight = 0;
/** Sources waiting for credit, in order (one per `read_from` group can wait at once). */
const waiting: (() => void)[] = [];
const sources: FileSource[] = [];
/** Until a start compiled the filters, lines are answered with no failures. */
let matcher = new LineMatcher([], [], Date.now);

async function start(msg: StartMessage): Promise<void> {
  const m = matcher = new LineMatcher(msg.jails, msg.userFilters, Date.now);
  const readPaths: string[] = [];
  for (const g of fileGroups(msg.jails)) {
    let dropped = 0;
    const source = new FileSource({
      patterns: g.patterns,
      readFrom: g.readFrom,
      group: g.readFrom,
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
    await source.start((batch) => deliver(m, batch, g.jailsOf));
    source.done.catch((e) =>
      post({ type: "fatal", message: `log source stopped: ${e instanceof Error ? e.message : e}` })
    );
    readPaths.push(...g.patterns);
  }
  post({ type: "ready", readPaths });
}

function deliver(m: LineMatcher, batch: LineBatch, jailsOf: number[][]): Promise<void> | void {
  post(m.file(batch, jailsOf));
  if (++inFlight < MAX_UNACKED_BATCHES) return;
  return new Promise((resolve) => waiting.push(resolve));
}

/** Matches lines read by the main thread (journal records); the record time is the failure time. */
function matchLines(msg: LinesMessage): void {
  post(matcher.records(msg.jails, msg.lines, msg.times, msg.origin, msg.id));
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
