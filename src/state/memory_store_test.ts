import { deepEqual, equal } from "node:assert/strict";
import { type MemoryStateFile, MemoryStateStore } from "./memory_store.ts";
import type { StateInput } from "./types.ts";

const SAVED_AT = Date.parse("2026-11-25T12:00:00Z");

function input(ip: string): StateInput {
  return {
    savedAt: SAVED_AT,
    bans: [{
      jail: "sshd",
      ip,
      prefix: 32,
      bannedAt: SAVED_AT,
      expiresAt: SAVED_AT + 3_600_000,
      banCount: 1,
    }],
    history: [],
    failures: [],
    positions: [],
  };
}

Deno.test("MemoryStateStore keeps what a later store on the same file loads; close() saves the last change", async () => {
  const file: MemoryStateFile = { bytes: null };
  let ip = "192.0.2.1";
  const a = new MemoryStateStore(file, { saveIntervalMs: 60_000, collect: () => input(ip) });
  equal(a.load().status, "missing");
  a.scheduleSave();
  ip = "192.0.2.2"; // collected at save time, not when the change was noted
  await a.close();
  a.scheduleSave();
  const b = new MemoryStateStore(file, { saveIntervalMs: 0, collect: () => input("x") });
  const loaded = b.load();
  equal(loaded.status, "loaded");
  deepEqual(loaded.status === "loaded" ? [...loaded.state.bans].map((x) => x.ip) : [], [
    "192.0.2.2",
  ]);
  equal(b.failing, false);
});

Deno.test("MemoryStateStore discards bytes that fail the state format's checks", () => {
  const file: MemoryStateFile = { bytes: new Uint8Array([1, 2, 3]) };
  const s = new MemoryStateStore(file, { saveIntervalMs: 0, collect: () => input("192.0.2.1") });
  const r = s.load();
  equal(r.status, "discarded");
  equal(r.status === "discarded" ? r.movedTo : "", null);
});
