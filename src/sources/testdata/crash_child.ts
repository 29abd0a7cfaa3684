/**
 * Child process for the kill -9 test: runs a FileSource over one pattern and, for every batch,
 * records the line numbers it carried together with the batch's positions in one state file,
 * written atomically (temp + rename) — the way the daemon's state file keeps counts and positions
 * together. Prints "ready" once watching. Usage: crash_child.ts STATE_FILE PATTERN
 * @module
 */
import { FileSource, validatePosition } from "../mod.ts";

const [statePath, pattern] = Deno.args;
if (statePath === undefined || pattern === undefined) {
  throw new Error("usage: crash_child.ts STATE_FILE PATTERN");
}
let state: { seen: number[]; positions: unknown[] } = { seen: [], positions: [] };
try {
  state = JSON.parse(Deno.readTextFileSync(statePath));
} catch (e) {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
}
const source = new FileSource({
  patterns: [pattern],
  readFrom: "start",
  saved: state.positions.map(validatePosition),
  recheckMs: 100,
  rotateGraceMs: 400,
});
await source.start((batch) => {
  for (const line of batch.lines) {
    const m = /^L(\d+)$/.exec(line);
    if (m === null) throw new Error(`unexpected line ${JSON.stringify(line)}`);
    state.seen.push(Number(m[1]));
  }
  state.positions = [...batch.positions];
  const tmp = `${statePath}.tmp`;
  Deno.writeTextFileSync(tmp, JSON.stringify(state));
  Deno.renameSync(tmp, statePath);
});
console.log("ready");
await source.done;
