import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import {
  decodeState,
  encodeState,
  parentDir,
  SAVE_ERROR_REPORT_INTERVAL_MS,
  type StateInput,
  StateStore,
} from "./mod.ts";
import { waitUntil } from "../../tests/_wait.ts";

const T = 1_767_225_600_000;

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function state(n: number): StateInput {
  return {
    savedAt: T,
    bans: Array.from({ length: n }, (_, i) => ({
      jail: "sshd",
      ip: `192.0.2.${i + 1}`,
      prefix: 32,
      bannedAt: T + i,
      expiresAt: null,
      banCount: 1,
    })),
    history: [],
    failures: [],
    positions: [{ key: "k", data: new Uint8Array([n]) }],
  };
}

function bansIn(path: string): number {
  const r = decodeState(Deno.readFileSync(path));
  assert.ok(r.ok, r.ok ? "" : r.reason);
  return r.ok ? r.state.bans.length : -1;
}

async function withDir(f: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "f2z-state-" });
  try {
    await f(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("StateStore.flush() writes atomically with mode 0600 and load() verifies it", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.bin`;
    const store = new StateStore(path, { saveIntervalMs: 60_000, collect: () => state(3) });
    assert.deepEqual(store.load(), { status: "missing" });
    store.scheduleSave();
    await store.flush();
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
    assert.throws(() => Deno.statSync(`${path}.tmp`), Deno.errors.NotFound);
    const r = store.load();
    assert.equal(r.status, "loaded");
    if (r.status === "loaded") assert.equal([...r.state.bans].length, 3);
  });
});

Deno.test("StateStore.load() discards a corrupt file with the reason and moves it aside", async () => {
  await withDir((dir) => {
    const path = `${dir}/state.bin`;
    const bytes = encodeState(state(2));
    bytes[40]! ^= 1;
    Deno.writeFileSync(path, bytes);
    const store = new StateStore(path, { saveIntervalMs: 10, collect: () => state(0) });
    const r = store.load();
    assert.equal(r.status, "discarded");
    if (r.status === "discarded") {
      assert.match(r.reason, /checksum mismatch/);
      assert.equal(r.movedTo, `${path}.corrupt`);
    }
    assert.deepEqual(store.load(), { status: "missing" });
    Deno.writeFileSync(path, bytes.subarray(0, 30));
    const t = store.load();
    assert.equal(t.status, "discarded");
    if (t.status === "discarded") assert.match(t.reason, /truncated|checksum/);
  });
});

Deno.test("StateStore.scheduleSave() group-commits a burst of changes into one write within the interval", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.bin`;
    let n = 0;
    const saves: number[] = [];
    const store = new StateStore(path, {
      saveIntervalMs: 50,
      collect: () => state(n),
      onSaved: () => saves.push(performance.now()),
    });
    const start = performance.now();
    for (let i = 0; i < 20; i++) {
      n++;
      store.scheduleSave();
      await new Promise((r) => setTimeout(r, 1));
    }
    await waitUntil(() => saves.length > 0, "the first save", { stepMs: 5 });
    // The first change was made at `start`: its write began within the interval (+ timer slack).
    assert.ok(saves[0]! - start < 50 + 100, `saved after ${saves[0]! - start} ms`);
    await new Promise((r) => setTimeout(r, 120));
    assert.ok(saves.length <= 2, `${saves.length} writes for one burst`);
    assert.equal(bansIn(path), 20);
    assert.equal(store.dirty, false);
    await store.close();
  });
});

Deno.test("StateStore.flush() writes a pending change at once and nothing when clean", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.bin`;
    let writes = 0;
    const store = new StateStore(path, {
      saveIntervalMs: 60_000,
      collect: () => state(4),
      onSaved: () => writes++,
    });
    await store.flush();
    assert.equal(writes, 0);
    store.scheduleSave();
    await store.flush();
    assert.equal(writes, 1);
    assert.equal(bansIn(path), 4);
    await store.close();
    store.scheduleSave();
    assert.equal(store.dirty, false);
  });
});

Deno.test("StateStore writes a timer save off the event loop: one save at a time, flush() waits for it and leaves the latest state", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.bin`;
    let n = 1;
    const collected: number[] = [];
    const saved: number[] = [];
    const store = new StateStore(path, {
      saveIntervalMs: 0,
      collect: () => {
        collected.push(n);
        return state(n);
      },
      onSaved: () => saved.push(collected[saved.length]!),
    });
    store.scheduleSave();
    // Wait until the timer has taken its snapshot; the write is still in flight.
    await waitUntil(() => collected.length > 0, "the snapshot", { stepMs: 0 });
    assert.equal(store.dirty, true, "a save being written counts as pending");
    n = 2; // a change during the write: the snapshot above must not see it
    store.scheduleSave();
    n = 3;
    store.scheduleSave();
    await store.flush();
    assert.equal(bansIn(path), 3);
    assert.equal(collected[0], 1);
    assert.equal(saved.length, collected.length, "every snapshot was written, none overlapped");
    assert.equal(store.dirty, false);
    assert.throws(() => Deno.statSync(`${path}.tmp`), Deno.errors.NotFound);
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
    await store.close();
  });
});

Deno.test("StateStore streams a state of several MiB to the file and it loads whole", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.bin`;
    const pad = new Uint8Array(60 * 1024).fill(7);
    const count = 100; // ≈ 6 MiB: many of the encoder's 64 KiB chunks
    const big: StateInput = {
      ...state(2),
      positions: Array.from({ length: count }, (_, i) => ({ key: `p${i}`, data: pad })),
    };
    let bytes = 0;
    const store = new StateStore(path, {
      saveIntervalMs: 60_000,
      collect: () => big,
      onSaved: (i) => (bytes = i.bytes),
    });
    store.scheduleSave();
    await store.flush();
    assert.ok(bytes > count * pad.length, `${bytes} bytes`);
    assert.equal(Deno.statSync(path).size, bytes);
    const r = decodeState(Deno.readFileSync(path));
    assert.ok(r.ok, r.ok ? "" : r.reason);
    if (r.ok) assert.equal(r.state.positions.length, count);
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
    assert.throws(() => Deno.statSync(`${path}.tmp`), Deno.errors.NotFound);
    await store.close();
  });
});

Deno.test("StateStore keeps the previous file when a save fails and retries later", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.bin`;
    let fail = false;
    const errors: unknown[] = [];
    const store = new StateStore(path, {
      saveIntervalMs: 10,
      collect: () => {
        if (fail) throw new Error("disk on fire");
        return state(5);
      },
      onError: (e) => errors.push(e),
    });
    store.scheduleSave();
    await store.flush();
    fail = true;
    store.scheduleSave();
    await assert.rejects(store.flush(), /disk on fire/);
    assert.equal(bansIn(path), 5);
    assert.throws(() => Deno.statSync(`${path}.tmp`), Deno.errors.NotFound);
    assert.equal(store.dirty, true);
    store.scheduleSave();
    await waitUntil(() => errors.length >= 1, "a failed retry", { stepMs: 5 });
    fail = false;
    await waitUntil(() => !store.dirty, "a successful retry", { stepMs: 5 });
    await store.close();
  });
});

Deno.test("StateStore reports failing saves once, then at most once a minute with a count, and says when it fails and recovers", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.bin`;
    // A real fs error on every save: PATH.tmp is a non-empty directory (not even root removes it).
    Deno.mkdirSync(`${path}.tmp/blocker`, { recursive: true });
    let clock = 0;
    let attempts = 0;
    let reached: (() => void) | null = null;
    let want = 0;
    /** Resolves once `n` more saves have failed (each failure reads the clock once). */
    const failures = (n: number) =>
      new Promise<void>((r) => {
        want = attempts + n;
        reached = r;
      });
    const errors: [string, number, number][] = [];
    const health: [boolean, number][] = [];
    let recovered: (() => void) | null = null;
    const store = new StateStore(path, {
      saveIntervalMs: 1,
      collect: () => state(2),
      now: () => {
        if (++attempts >= want) reached?.();
        return clock;
      },
      onError: (e, f) => errors.push([(e as Error).name, f.failures, f.consecutive]),
      onFailing: (failing, n) => {
        health.push([failing, n]);
        if (!failing) recovered?.();
      },
    });
    store.scheduleSave();
    await failures(25);
    assert.equal(store.failing, true);
    assert.deepEqual(health, [[true, 1]]);
    assert.equal(errors.length, 1, "one report for the first failure, none for the retries");
    assert.equal(errors[0]![1], 1);
    clock += SAVE_ERROR_REPORT_INTERVAL_MS - 1;
    await failures(5);
    assert.equal(errors.length, 1, "still inside the interval");
    clock += 1;
    await failures(1);
    assert.equal(errors.length, 2);
    const [, count, consecutive] = errors[1]!;
    assert.ok(count >= 30 && consecutive >= count, JSON.stringify(errors));
    const back = new Promise<void>((r) => (recovered = r));
    Deno.removeSync(`${path}.tmp`, { recursive: true });
    await back;
    assert.equal(store.failing, false);
    assert.equal(health.length, 2);
    assert.equal(health[1]![0], false);
    assert.ok(health[1]![1] >= 31);
    assert.equal(bansIn(path), 2);
    await store.close();
  });
});

Deno.test("StateStore survives kill -9 at random moments over 200+ save cycles: never corrupt, never older than save_interval", async () => {
  const child = fromFileUrl(new URL("./testdata/crash_child.ts", import.meta.url));
  const config = fromFileUrl(new URL("../../deno.json", import.meta.url));
  const interval = 10;
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  await withDir(async (dir) => {
    const path = `${dir}/state.bin`;
    let cycles = 0;
    let runs = 0;
    let expected = 0; // bans the verified file holds
    let worstLag = 0;
    let midSave = 0;
    while (cycles < 200 || runs < 30) {
      runs++;
      const proc = new Deno.Command(Deno.execPath(), {
        args: ["run", "-q", "-P=test", "--config", config, child, path, String(interval), "48"],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      const delay = 40 + Math.floor(rnd() * 400);
      let killedAt = 0;
      const timer = setTimeout(() => {
        killedAt = Date.now();
        proc.kill("SIGKILL");
      }, delay);
      const out = await proc.output();
      clearTimeout(timer);
      const lines = new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "");
      const err = new TextDecoder().decode(out.stderr);
      assert.ok(killedAt > 0, `child exited by itself: ${lines.slice(-3).join(" | ")} ${err}`);
      const loadLine = lines.find((l) => l.startsWith("L ") || l.startsWith("X "));
      if (loadLine !== undefined) {
        assert.equal(loadLine, `L ${expected}`, "the child loaded a different state than verified");
      }
      const applied: [number, number][] = [];
      let maxSaved = expected - 1;
      let maxSaveMs = 0;
      for (const l of lines) {
        const [k, a, b, c] = l.split(" ");
        if (k === "B") applied.push([Number(a), Number(b)]);
        if (k === "S") {
          cycles++;
          maxSaved = Math.max(maxSaved, Number(a));
          maxSaveMs = Math.max(maxSaveMs, Number(c));
        }
        assert.notEqual(k, "E", l);
      }
      let count = 0;
      if (existsSync(`${path}.tmp`)) midSave++;
      try {
        const bytes = Deno.readFileSync(path);
        const r = decodeState(bytes);
        assert.ok(r.ok, `run ${runs}: the file after kill -9 is corrupt: ${r.ok ? "" : r.reason}`);
        if (!r.ok) return;
        count = r.state.bans.length;
        // Exactly bans 0..count-1: a state the child saved, not a mix.
        const ips = new Set(r.state.bans.map((b) => b.ip));
        for (let i = 0; i < count; i++) {
          assert.ok(
            ips.has(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`),
            `ban ${i} missing`,
          );
        }
        const counter = new DataView(r.state.positions[0]!.data.buffer).getUint32(0, true);
        assert.equal(counter, count);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        assert.equal(maxSaved, -1, "a save was reported but no file exists");
      }
      assert.ok(count - 1 >= maxSaved, `run ${runs}: saved up to ${maxSaved}, file has ${count}`);
      assert.ok(count >= expected, `run ${runs}: the file went back from ${expected} to ${count}`);
      const lastApplied = applied.length > 0 ? applied[applied.length - 1]![0] : expected - 1;
      assert.ok(count - 1 <= lastApplied, "the file holds bans that were never applied");
      // Durability: a ban applied more than save_interval (+ the write itself, + scheduling slack)
      // before the kill is in the file.
      const lost = applied.filter(([i]) => i >= count);
      if (lost.length > 0) worstLag = Math.max(worstLag, killedAt - lost[0]![1]);
      const bound = interval + maxSaveMs + 250; // + timer and spawn lateness on a loaded 2-core CI box
      for (const [i, at] of lost) {
        assert.ok(
          killedAt - at <= bound,
          `run ${runs}: ban ${i} applied ${
            killedAt - at
          } ms before the kill was lost (bound ${bound} ms)`,
        );
      }
      expected = count;
    }
    console.log(
      `crash test: ${runs} kills, ${cycles} save cycles, ${expected} bans, ${midSave} kills inside a write, worst lost-ban age ${worstLag} ms`,
    );
  });
});

Deno.test("parentDir() returns the directory that holds a path", () => {
  const cases: [string, string][] = [
    ["/var/lib/fail2zig/state.bin", "/var/lib/fail2zig"],
    ["/state.bin", "/"],
    ["/", "/"],
    ["//", "/"],
    ["/a/b/", "/a"],
    ["/a//b", "/a"],
    ["/a//b//", "/a"],
    ["a/b", "a"],
    ["a", "."],
    ["", "."],
  ];
  for (const [path, dir] of cases) assert.equal(parentDir(path), dir, JSON.stringify(path));
});

Deno.test("StateStore.load() refuses a world-writable, group-writable, foreign-owned or symlinked state file: moved aside, never loaded", async () => {
  await withDir((dir) => {
    const path = `${dir}/state.bin`;
    const good = encodeState(state(2));
    const store = new StateStore(path, { saveIntervalMs: 10, collect: () => state(0) });
    const refused = (why: RegExp, movedTo: string | null = `${path}.untrusted`) => {
      const r = store.load();
      assert.equal(r.status, "discarded", `${why}: loaded`);
      if (r.status !== "discarded") return;
      assert.match(r.reason, why);
      assert.equal(r.movedTo, movedTo);
      assert.deepEqual(store.load(), { status: "missing" }, "the next save starts a new file");
      Deno.removeSync(`${path}.untrusted`, { recursive: true });
    };
    Deno.writeFileSync(path, good, { mode: 0o600 });
    Deno.chmodSync(path, 0o666);
    refused(/is world-writable \(mode 0666\)/);
    Deno.writeFileSync(path, good, { mode: 0o600 });
    Deno.chmodSync(path, 0o620);
    Deno.chownSync(path, Deno.uid(), 4242);
    refused(/is writable by group 4242/);
    Deno.writeFileSync(path, good, { mode: 0o600 });
    Deno.chownSync(path, 4242, Deno.gid());
    refused(/is owned by uid 4242/);
    // A symlink to a file that would be trusted on its own (say, a root-only file elsewhere).
    Deno.writeFileSync(`${dir}/elsewhere.bin`, good, { mode: 0o600 });
    Deno.symlinkSync(`${dir}/elsewhere.bin`, path);
    refused(/is a symlink/);
    assert.ok(Deno.statSync(`${dir}/elsewhere.bin`).isFile, "the link's target is left alone");
    Deno.writeFileSync(path, good, { mode: 0o600 });
    assert.equal(store.load().status, "loaded", "0600, owned by the process: loaded");
  });
});
