/**
 * The in-process parser host: the sources it is given and the parser Worker's matching code
 * (`_matcher.ts`, the same grouping and filters) on the daemon's own thread, each batch applied
 * to the engine before the source reads on (the sink's promise is the back-pressure). Without
 * the Worker there is no privilege separation, so the real daemon keeps `WorkerParserHost`;
 * this host is for tests that drive the whole path in one process, with fake sources and the
 * daemon's clock.
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { LogSource, SourcePosition } from "../sources/mod.ts";
import {
  type FileGroup,
  fileGroups,
  type JournalGroup,
  journalGroups,
  journalLines,
  LineMatcher,
  parserJails,
} from "./_matcher.ts";
import type { BatchMessage } from "./_protocol.ts";
import { oneLine, type ParserContext, type ParserHost } from "./daemon.ts";

/** Opens the sources of one start; `saved` holds the positions to resume from. */
export interface InlineSources {
  /**
   * The source of a file group: its batches name, in `LineBatch.matches`, the indices of
   * `group.patterns` their lines come from (as `FileSource` does).
   */
  file(group: FileGroup, saved: readonly SourcePosition[]): LogSource;
  /** The source of a journal group: each batch's `times` are its records' own times. */
  journal(group: JournalGroup, saved: readonly SourcePosition[]): LogSource;
}

/** A parser host on the daemon's thread over the sources `open` gives. */
export class InlineParserHost implements ParserHost {
  readonly fatal: Promise<string>;
  readonly #ctx: ParserContext;
  readonly #open: InlineSources;
  readonly #fatal: (message: string) => void;
  #sources: LogSource[] = [];

  /** Nothing runs until `start()`. */
  constructor(ctx: ParserContext, open: InlineSources) {
    this.#ctx = ctx;
    this.#open = open;
    const fatal = Promise.withResolvers<string>();
    this.fatal = fatal.promise;
    this.#fatal = fatal.resolve;
  }

  async start(config: Config, saved: readonly SourcePosition[]): Promise<void> {
    try {
      await this.#start(config, saved);
    } catch (e) {
      this.#fatal(oneLine(e));
    }
  }

  async restart(config: Config): Promise<void> {
    await this.stop();
    // Read after the stop: every source's last position is in the set now.
    await this.start(config, this.#ctx.sources.positions());
  }

  async stop(): Promise<void> {
    const all = this.#sources;
    this.#sources = [];
    await Promise.all(all.map(async (s) => {
      await s.stop();
      this.#ctx.sources.seed(s.positions());
    }));
  }

  async #start(config: Config, saved: readonly SourcePosition[]): Promise<void> {
    const { engine, clock } = this.#ctx;
    const jails = parserJails(config);
    const matcher = new LineMatcher(jails, config.filters, () => clock.now());
    const apply = (batch: BatchMessage) => engine.applyBatch(batch, batch.sentAt).catch(() => {});
    const watch = (s: LogSource) => {
      this.#sources.push(s);
      s.done.catch((e) => this.#fatal(`log source stopped: ${oneLine(e)}`));
    };
    for (const g of fileGroups(jails)) {
      const s = this.#open.file(g, saved);
      watch(s);
      await s.start((batch) => apply(matcher.file(batch, g.jailsOf)));
    }
    for (const g of journalGroups(config)) {
      const s = this.#open.journal(g, saved);
      watch(s);
      await s.start((batch) => {
        const { lines, times, origin } = journalLines(batch);
        return apply({
          ...matcher.records(g.jails, lines, times, origin),
          positions: batch.positions,
        });
      });
    }
  }
}
