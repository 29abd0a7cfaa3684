/**
 * Test helpers for the sources: a collecting sink that can be awaited, temp dirs, appends.
 * Used by `tests/sources_*_test.ts`; not part of the module's API.
 * @module
 */
import type { LineBatch } from "../log_source.ts";

/** Collects batches; tests wait for conditions on what arrived. */
export class Collector {
  readonly batches: LineBatch[] = [];
  readonly lines: string[] = [];
  #waiters: (() => void)[] = [];

  /** The sink to hand to a source. */
  readonly sink = (batch: LineBatch): void => {
    this.batches.push(batch);
    for (const l of batch.lines) this.lines.push(l);
    for (const w of this.#waiters.splice(0)) w();
  };

  /** Waits until `done()` holds; fails naming `what` and the lines seen after `timeoutMs`. */
  async until(done: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; got ${this.lines.length} lines: ${
            JSON.stringify(this.lines.slice(-20))
          }`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for at least `n` lines in total. */
  lineCount(n: number, timeoutMs?: number): Promise<void> {
    return this.until(() => this.lines.length >= n, `${n} lines`, timeoutMs);
  }
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Appends text to a file (creating it), synchronously. */
export function append(path: string, text: string | Uint8Array): void {
  const f = Deno.openSync(path, { write: true, append: true, create: true });
  try {
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
    let at = 0;
    while (at < bytes.length) at += f.writeSync(bytes.subarray(at));
  } finally {
    f.close();
  }
}

/** `prefix0\nprefix1\n…` lines `from` .. `to - 1`, and the same as an array. */
export function numbered(prefix: string, from: number, to: number): [string, string[]] {
  const lines: string[] = [];
  for (let i = from; i < to; i++) lines.push(`${prefix}${i}`);
  return [lines.map((l) => l + "\n").join(""), lines];
}
