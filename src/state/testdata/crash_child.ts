/**
 * Child process of the crash test (store_test.ts): loads the state file, then bans one new
 * address every ~1 ms through a real Tracker and a StateStore with group commit, printing
 *   "L <count>"               after load (count = bans found)
 *   "B <index> <ms>"          when ban <index> is applied (ms = Date.now())
 *   "S <index> <ms> <dur>"    when a save covering bans 0..index has completed
 * until the parent kills it with SIGKILL.
 * usage: crash_child.ts STATE_PATH SAVE_INTERVAL_MS [PAD_KIB]
 * (PAD_KIB adds an opaque position record of that size so that writes take longer and a kill
 * lands inside one more often)
 * @module
 */
import { StateStore } from "../mod.ts";
import { Tracker } from "../../tracker/mod.ts";
import { jail } from "../../tracker/_testing.ts";

const [path, intervalText] = Deno.args;
if (path === undefined || intervalText === undefined) throw new Error("usage: STATE_PATH MS");
const saveIntervalMs = Number(intervalText);
const pad = new Uint8Array(Number(Deno.args[2] ?? 0) * 1024).fill(0x5a);
const out = Deno.stdout;
const enc = new TextEncoder();
function say(line: string): void {
  const b = enc.encode(line + "\n");
  let off = 0;
  while (off < b.length) off += out.writeSync(b.subarray(off));
}

const tracker = new Tracker({
  jails: [jail("sshd", { maxretry: 1, bantimeMs: null, ignoreip: [] })],
  capacity: 1 << 16,
});
let next = 0;
let lastApplied = -1;
let savingUpTo = -1;
const store = new StateStore(path, {
  saveIntervalMs,
  collect: () => {
    savingUpTo = lastApplied;
    const snap = tracker.snapshot();
    const pos = new Uint8Array(4);
    new DataView(pos.buffer).setUint32(0, lastApplied + 1, true);
    return {
      savedAt: Date.now(),
      ...snap,
      positions: [{ key: "counter", data: pos }, { key: "pad", data: pad }],
    };
  },
  onSaved: ({ ms }) => say(`S ${savingUpTo} ${Date.now()} ${ms.toFixed(2)}`),
  onError: (err) => say(`E ${String(err)}`),
});

const loaded = store.load();
if (loaded.status === "discarded") {
  say(`X ${loaded.reason}`);
  Deno.exit(3);
}
if (loaded.status === "loaded") {
  const r = tracker.restore(loaded.state);
  next = r.restored.length;
  lastApplied = next - 1;
}
say(`L ${next}`);

function ip(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

setInterval(() => {
  const o = tracker.ban(ip(next), 0);
  if (o.kind !== "ban") throw new Error(`ban ${next} failed: ${o.kind}`);
  lastApplied = next;
  say(`B ${next} ${Date.now()}`);
  next++;
  store.scheduleSave();
}, 1);
