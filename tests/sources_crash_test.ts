/**
 * kill -9 of a process running a FileSource, in rounds, while lines are appended and the file is
 * rotated (while running and while down); each restart resumes from the positions persisted with
 * the counts. The final persisted record must hold every line exactly once.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { sleep } from "../src/sources/testdata/harness.ts";

const CHILD = new URL("../src/sources/testdata/crash_child.ts", import.meta.url).pathname;
const ROUNDS = 8;

/** A seeded PRNG so that a failure reproduces. */
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

class Child {
  readonly #proc: Deno.ChildProcess;
  private constructor(proc: Deno.ChildProcess) {
    this.#proc = proc;
  }
  static async spawn(dir: string, state: string, pattern: string): Promise<Child> {
    const proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "-q", `--allow-read=${dir}`, `--allow-write=${dir}`, CHILD, state, pattern],
      stdout: "piped",
      stderr: "inherit",
      stdin: "null",
    }).spawn();
    const child = new Child(proc);
    const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const deadline = Date.now() + 20_000;
    while (!text.includes("ready")) {
      if (Date.now() > deadline) throw new Error("child did not become ready");
      const { value, done } = await reader.read();
      if (done) throw new Error(`child exited before ready: ${text}`);
      text += value;
    }
    reader.releaseLock();
    proc.stdout.cancel().catch(() => {});
    return child;
  }
  async kill9(): Promise<void> {
    try {
      this.#proc.kill("SIGKILL");
    } catch { /* gone */ }
    await this.#proc.status;
  }
}

function readSeen(state: string): number[] {
  try {
    return JSON.parse(Deno.readTextFileSync(state)).seen;
  } catch {
    return [];
  }
}

Deno.test({
  name: "kill -9 during appends and rotations, then restart: every line persisted exactly once",
  sanitizeResources: false,
  fn: async () => {
    const rand = rng(7);
    const dir = await Deno.makeTempDir({ prefix: "f2z-crash-" });
    const log = `${dir}/app.log`;
    const state = `${dir}/state.json`;
    const enc = new TextEncoder();
    let next = 0;
    let rotations = 0;
    let writer = Deno.openSync(log, { write: true, append: true, create: true });
    const write = (n: number) => {
      let text = "";
      for (let i = 0; i < n; i++) text += `L${next++}\n`;
      const bytes = enc.encode(text);
      let at = 0;
      while (at < bytes.length) at += writer.writeSync(bytes.subarray(at));
    };
    const rotate = () => {
      Deno.renameSync(log, `${log}.r${++rotations}`);
      write(3); // late lines through the old descriptor, after the rename
      writer.close();
      writer = Deno.openSync(log, { write: true, append: true, create: true });
    };
    const caughtUp = async (what: string) => {
      const deadline = Date.now() + 15_000;
      while (readSeen(state).length < next) {
        if (Date.now() > deadline) {
          throw new Error(`${what}: persisted ${readSeen(state).length} of ${next} lines`);
        }
        await sleep(20);
      }
    };
    let child: Child | null = null;
    try {
      child = await Child.spawn(dir, state, log);
      for (let round = 0; round < ROUNDS; round++) {
        await caughtUp(`round ${round}`);
        write(100 + Math.floor(rand() * 3000));
        const rotatedRunning = rand() < 0.5;
        if (rotatedRunning) {
          await sleep(rand() * 30);
          rotate();
        }
        write(50 + Math.floor(rand() * 2000));
        await sleep(rand() * 120);
        await child.kill9();
        child = null;
        write(Math.floor(rand() * 500)); // written while down
        if (!rotatedRunning && rand() < 0.7) {
          rotate(); // rotated while down
          write(1 + Math.floor(rand() * 500));
        }
        child = await Child.spawn(dir, state, log);
      }
      write(10);
      await caughtUp("final");
      await sleep(300); // a few safety re-checks: nothing may arrive twice
      const seen = readSeen(state);
      strictEqual(seen.length, next, "persisted count equals lines written");
      deepStrictEqual([...seen].sort((a, b) => a - b), Array.from({ length: next }, (_, i) => i));
    } finally {
      writer.close();
      await child?.kill9();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
