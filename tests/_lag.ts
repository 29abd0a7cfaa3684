/**
 * Event-loop responsiveness for tests that load a server: a ticker records how late each tick
 * fires, and `assertPrompt` judges the distribution. A server that did its work synchronously
 * delays most ticks, or stalls again and again; a loaded 2-core machine deschedules the whole
 * process now and then, which delays one or two. So the 95th percentile tick must be prompt,
 * at most three ticks may be late by 100 ms or more, and no single stall may reach a second.
 */
import { ok } from "node:assert/strict";

export interface LagWatch {
  /** Stops the ticker and returns every tick's lateness in ms. */
  stop(): number[];
}

export function watchLag(intervalMs: number): LagWatch {
  const lags: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(now - last - intervalMs);
    last = now;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return lags;
    },
  };
}

export function assertPrompt(lags: readonly number[]): void {
  const sorted = [...lags].sort((a, b) => a - b);
  ok(sorted.length > 0, "no tick ran");
  const p95 = sorted[Math.floor(sorted.length * 0.95)]!;
  const late = sorted.filter((l) => l >= 100);
  const max = sorted[sorted.length - 1]!;
  ok(
    p95 < 50 && late.length <= 3 && max < 1000,
    `event loop lag p95 ${p95.toFixed(1)} ms, late ticks ${late.map((l) => l.toFixed(0))}`,
  );
}
