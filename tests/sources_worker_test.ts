/**
 * The sources run under the parser Worker's restricted permissions: the file source with read
 * access to its log directories only (inotify through Deno.watchFs included), the journal source
 * with nothing but run access to journalctl.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { fileSourceReadPaths, JOURNALCTL } from "../src/sources/mod.ts";
import { append } from "../src/sources/testdata/harness.ts";
import { appendJournal } from "../src/sources/testdata/journal.ts";
import { waitUntil } from "./_wait.ts";

const BODY = new URL("../src/sources/testdata/worker_child.ts", import.meta.url);

interface Permissions {
  read: string[] | false;
  run: string[] | false;
}

/** Starts the worker body under exactly these permissions (everything else denied). */
async function restrictedWorker(
  permissions: Permissions,
  start: Record<string, unknown>,
): Promise<{ worker: Worker; lines: string[]; denied: string; stop: () => Promise<void> }> {
  const worker = new Worker(BODY, {
    type: "module",
    deno: {
      permissions: {
        ...permissions,
        write: false,
        net: false,
        ffi: false,
        env: false,
        sys: false,
        import: false,
      },
    },
  } as WorkerOptions);
  const lines: string[] = [];
  let stopped!: () => void;
  const ready = new Promise<string>((resolve, reject) => {
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
    worker.onmessage = (e) => {
      if (e.data.lines) lines.push(...e.data.lines);
      if (e.data.ready) resolve(e.data.denied);
      if (e.data.stopped) stopped();
    };
  });
  worker.postMessage(start);
  const denied = await ready;
  return {
    worker,
    lines,
    denied,
    stop: async () => {
      const done = new Promise<void>((r) => stopped = r);
      worker.postMessage("stop");
      await done;
      worker.terminate();
    },
  };
}

Deno.test("FileSource tails and follows rotation inside a Worker that may only read the log directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-worker-" });
  const outside = await Deno.makeTempFile({ prefix: "f2z-secret-" });
  const log = `${dir}/auth.log`;
  append(log, "before start\n");
  try {
    const w = await restrictedWorker(
      { read: fileSourceReadPaths([log]), run: false },
      { kind: "file", patterns: [log], forbidden: outside },
    );
    try {
      strictEqual(w.denied, "NotCapable");
      append(log, "one\n");
      await waitUntil(() => w.lines.length >= 1, "first line", { timeoutMs: 8000, stepMs: 20 });
      Deno.renameSync(log, `${log}.1`);
      append(log, "two\n");
      await waitUntil(() => w.lines.length >= 2, "line after rotation", {
        timeoutMs: 8000,
        stepMs: 20,
      });
      deepStrictEqual(w.lines, ["one", "two"]);
    } finally {
      await w.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside);
  }
});

Deno.test("JournalSource follows the journal inside a Worker that may only run journalctl", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-worker-journal-" });
  const outside = await Deno.makeTempFile({ prefix: "f2z-secret-" });
  const entry = (i: number) => ({
    message: `Failed password for root from 192.0.2.${i} port 22 ssh2`,
    timeUs: 1_764_000_000_000_000 + i * 1_000_000,
    unit: "ssh.service",
    ident: "sshd",
    pid: 100 + i,
  });
  try {
    await appendJournal(dir, [entry(1)]);
    const w = await restrictedWorker(
      { read: false, run: [JOURNALCTL] },
      { kind: "journal", match: ["_SYSTEMD_UNIT=ssh.service"], directory: dir, forbidden: outside },
    );
    try {
      strictEqual(w.denied, "NotCapable");
      await appendJournal(dir, [entry(2)]);
      await waitUntil(() => w.lines.length >= 1, "a followed record", {
        timeoutMs: 8000,
        stepMs: 20,
      });
      deepStrictEqual(w.lines, ["sshd[102]: Failed password for root from 192.0.2.2 port 22 ssh2"]);
    } finally {
      await w.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside);
  }
});
