/**
 * The read positions of the daemon's sources, owned in one place: seeded from the state file,
 * advanced by each applied batch (by the engine, in the same turn as the batch's counts), seeded
 * again from a source that stopped, and read by the state file's save and by a parser restart.
 * Neither the store nor the parser host reaches into the engine for them.
 * @module
 */
import { positionSource, type SourcePosition } from "../sources/mod.ts";

/** Positions by source (`positionSource`): a batch replaces its source's whole list. */
export class SourceSet {
  readonly #positions = new Map<string, readonly SourcePosition[]>();

  /** Every position, for the state file and for a parser (re)start. */
  positions(): SourcePosition[] {
    return [...this.#positions.values()].flat();
  }

  /**
   * Takes a batch's `positions` (every position of its source after it), replacing what that
   * source had.
   */
  advance(positions: readonly SourcePosition[]): void {
    const first = positions[0];
    if (first !== undefined) this.#positions.set(positionSource(first), positions);
  }

  /**
   * Takes positions of several sources (the state file's, a stopped source's): grouped by
   * source, each group replacing what its source had; sources not named keep theirs (so that
   * they survive the next save).
   */
  seed(positions: readonly SourcePosition[]): void {
    const bySource = new Map<string, SourcePosition[]>();
    for (const p of positions) {
      const list = bySource.get(positionSource(p)) ?? [];
      if (list.length === 0) bySource.set(positionSource(p), list);
      list.push(p);
    }
    for (const [source, list] of bySource) this.#positions.set(source, list);
  }
}
