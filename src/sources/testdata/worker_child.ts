/**
 * Worker body for the permission test: runs a FileSource or JournalSource with whatever
 * permissions the Worker was given, posts every batch's lines, and reports whether a read outside
 * the log directories is refused. Not part of the module's API.
 * @module
 */
import { FileSource, JournalSource } from "../mod.ts";

interface Start {
  kind: "file" | "journal";
  patterns?: string[];
  match?: string[];
  directory?: string;
  forbidden: string;
}

/** The Worker global, typed without pulling the worker lib into the whole type check. */
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Start | "stop">) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = async (e: MessageEvent<Start | "stop">) => {
  if (e.data === "stop") {
    await source?.stop();
    scope.postMessage({ stopped: true });
    return;
  }
  const msg = e.data;
  let denied = "";
  try {
    Deno.readTextFileSync(msg.forbidden);
  } catch (err) {
    denied = err instanceof Error ? err.name : String(err);
  }
  source = msg.kind === "file"
    ? new FileSource({ patterns: msg.patterns ?? [], recheckMs: 100 })
    : new JournalSource({ match: msg.match ?? [], directory: msg.directory! });
  await source.start((b) => scope.postMessage({ lines: b.lines }));
  scope.postMessage({ ready: true, denied });
};

let source: FileSource | JournalSource | undefined;
