import { deepEqual, rejects } from "node:assert/strict";
import { Mutex } from "./_mutex.ts";

Deno.test("Mutex runs operations one after another, and a failed one does not block the next", async () => {
  const m = new Mutex();
  const log: string[] = [];
  const op = (name: string, ms: number, fail = false) => () =>
    new Promise<string>((resolve, reject) =>
      setTimeout(() => {
        log.push(name);
        fail ? reject(new Error(name)) : resolve(name);
      }, ms)
    );
  const a = m.run(op("a", 20));
  const b = m.run(op("b", 1, true));
  const c = m.run(op("c", 1));
  await rejects(b, /b/);
  deepEqual(await Promise.all([a, c]), ["a", "c"]);
  deepEqual(log, ["a", "b", "c"]);
});
