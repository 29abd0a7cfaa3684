/**
 * Polling waits of the tests, for conditions that no event announces (a file's content, a
 * counter read over the control socket, the kernel's ruleset): one loop, one timeout message.
 * @module
 */

/** Options of `pollFor` and `waitUntil`. */
export interface PollOptions {
  /** Give up after this long. @default 10_000 */
  readonly timeoutMs?: number;
  /** Pause between two probes. @default 50 */
  readonly stepMs?: number;
}

/**
 * Calls `probe` until it returns a value other than `null` and returns that value; throws
 * `timed out waiting for WHAT (N ms)` when `opts.timeoutMs` passed first.
 */
export async function pollFor<T>(
  probe: () => Promise<T | null> | T | null,
  what: string,
  opts: PollOptions = {},
): Promise<T> {
  const limit = opts.timeoutMs ?? 10_000;
  const end = Date.now() + limit;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${limit} ms)`);
    await new Promise((r) => setTimeout(r, opts.stepMs ?? 50));
  }
}

/** Waits until `pred` holds (see `pollFor`). */
export async function waitUntil(
  pred: () => Promise<boolean> | boolean,
  what: string,
  opts: PollOptions = {},
): Promise<void> {
  await pollFor(async () => (await pred()) ? true : null, what, opts);
}
