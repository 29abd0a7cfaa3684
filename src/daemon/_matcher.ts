/**
 * The parser's matching, shared by the parser Worker and the in-process parser host so that both
 * run one code path: which jails read which source (file groups by `read_from`, journal groups by
 * match set), and a source batch's lines run through those jails' filters into one
 * {@link BatchMessage} of failures. Pure code: no `Deno.*`, no messaging; the caller posts or
 * applies the message.
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { UserFilterConfig } from "../config/mod.ts";
import { type Filter, getFilter } from "../filters/mod.ts";
import type { LineBatch } from "../sources/mod.ts";
import { type BatchMessage, IP_SEPARATOR, type WorkerJail } from "./_protocol.ts";

/** The jails whose filters the parser runs (enabled, file or journald), config indices kept. */
export function parserJails(config: Config): WorkerJail[] {
  return config.jails.flatMap((j, index) =>
    j.enabled && (j.source === "file" || j.source === "journald")
      ? [{ index, filter: j.filter, mode: j.mode, logpath: j.logpath, readFrom: j.readFrom }]
      : []
  );
}

/** The file jails reading from one `read_from` side: one file source reads all its patterns. */
export interface FileGroup {
  /** `read_from` of the group's jails: a new file is read from its end or its start. */
  readonly readFrom: "end" | "start";
  /** The patterns, each once. */
  readonly patterns: string[];
  /** Jail indices per pattern (`LineBatch.matches` indexes `patterns`). */
  readonly jailsOf: number[][];
}

/** Groups the file jails' logpaths by `read_from`; groups without a pattern are left out. */
export function fileGroups(jails: readonly WorkerJail[]): FileGroup[] {
  const groups = new Map<"end" | "start", FileGroup>();
  for (const j of jails) {
    const g = groups.get(j.readFrom) ?? { readFrom: j.readFrom, patterns: [], jailsOf: [] };
    groups.set(j.readFrom, g);
    for (const p of j.logpath) {
      let at = g.patterns.indexOf(p);
      if (at < 0) at = g.patterns.push(p) - 1, g.jailsOf.push([]);
      g.jailsOf[at]!.push(j.index);
    }
  }
  return [...groups.values()].filter((g) => g.patterns.length > 0);
}

/** The journald jails sharing one match set: one journal source feeds them all. */
export interface JournalGroup {
  /** The jails' `journal_match` expressions (`FIELD=value`), as the first jail wrote them. */
  readonly match: readonly string[];
  /** `read_from` of the first jail: the journal is read from its end or its start. */
  readonly readFrom: "end" | "start";
  /** Jail indices whose filters see the group's records. */
  readonly jails: number[];
}

/** Groups the enabled journald jails by their (sorted) match set. */
export function journalGroups(config: Config): JournalGroup[] {
  const groups = new Map<string, JournalGroup>();
  config.jails.forEach((j, index) => {
    if (!j.enabled || j.source !== "journald") return;
    const key = [...j.journalMatch].sort().join(" ");
    const g = groups.get(key) ?? { match: j.journalMatch, readFrom: j.readFrom, jails: [] };
    g.jails.push(index);
    groups.set(key, g);
  });
  return [...groups.values()];
}

/** A journal source's batch as the matcher takes it: lines, record times, the audit pointer. */
export function journalLines(batch: LineBatch): {
  lines: readonly string[];
  times: readonly (number | null)[];
  origin: string;
} {
  return {
    lines: batch.lines,
    times: batch.times ?? batch.lines.map(() => null),
    origin: batch.position.kind === "journal" ? `journal:${batch.position.cursor}` : batch.source,
  };
}

/**
 * The failures of one batch, collected in reused scratch space into one message: the addresses
 * joined into one string, jail/time/offset as typed arrays (copied to their exact length).
 */
class Failures {
  #cap = 0;
  #jails = new Int32Array(0);
  #times = new Float64Array(0);
  #offsets = new Float64Array(0);
  #ips: string[] = [];
  count = 0;

  /** Starts a batch that can hold at most `cap` failures. */
  reset(cap: number): void {
    if (cap > this.#cap) {
      this.#cap = Math.max(cap, this.#cap * 2);
      this.#jails = new Int32Array(this.#cap);
      this.#times = new Float64Array(this.#cap);
      this.#offsets = new Float64Array(this.#cap);
    }
    this.#ips.length = 0;
    this.count = 0;
  }

  add(jail: number, ip: string, time: number, offset: number): void {
    const k = this.count++;
    this.#jails[k] = jail;
    this.#times[k] = time;
    this.#offsets[k] = offset;
    this.#ips.push(ip);
  }

  take(
    head: Omit<BatchMessage, "count" | "jails" | "ips" | "times" | "offsets" | "sentAt">,
    sentAt: number,
  ): BatchMessage {
    const n = this.count;
    const msg: BatchMessage = {
      ...head,
      count: n,
      jails: this.#jails.slice(0, n),
      ips: this.#ips.join(IP_SEPARATOR),
      times: this.#times.slice(0, n),
      offsets: this.#offsets.slice(0, n),
      sentAt,
    };
    this.#ips.length = 0;
    return msg;
  }
}

const NO_MATCHES: readonly number[] = [];

/** Runs the jails' filters over source batches. */
export class LineMatcher {
  readonly #filters = new Map<number, Filter>();
  readonly #now: () => number;
  readonly #failures = new Failures();
  /** Jails watching each file batch's pattern set (`LineBatch.matches`), by identity. */
  readonly #jailsCache = new WeakMap<readonly number[], number[]>();

  /**
   * Compiles the filters of `jails` (throws when one does not compile); `now` is the time the
   * filters complete partial timestamps with, and the batches' `sentAt`.
   */
  constructor(
    jails: readonly WorkerJail[],
    userFilters: readonly UserFilterConfig[],
    now: () => number,
  ) {
    for (const j of jails) this.#filters.set(j.index, getFilter(j.filter, j.mode, userFilters));
    this.#now = now;
  }

  /** A file source's batch: its lines go to the jails of the patterns it `matches`. */
  file(batch: LineBatch, jailsOf: readonly number[][]): BatchMessage {
    const jails = this.#jailsFor(batch.matches ?? NO_MATCHES, jailsOf);
    return this.#match(jails, batch.lines, batch.source, batch.positions, batch.offsets);
  }

  /**
   * Lines of a record source (the journal) for `jails`: a record's own time, when there is one,
   * takes precedence over any time in the text (the tracker counts a future one as now).
   */
  records(
    jails: readonly number[],
    lines: readonly string[],
    times: readonly (number | null)[],
    origin: string,
    id?: number,
  ): BatchMessage {
    return this.#match(jails, lines, origin, [], undefined, times, id);
  }

  #jailsFor(matches: readonly number[], jailsOf: readonly number[][]): number[] {
    let jails = this.#jailsCache.get(matches);
    if (jails === undefined) {
      const set = new Set<number>();
      for (const m of matches) for (const j of jailsOf[m] ?? []) set.add(j);
      jails = [...set];
      this.#jailsCache.set(matches, jails);
    }
    return jails;
  }

  #match(
    jails: readonly number[],
    lines: readonly string[],
    origin: string,
    positions: BatchMessage["positions"],
    offsets?: readonly number[],
    times?: readonly (number | null)[],
    id?: number,
  ): BatchMessage {
    const failures = this.#failures;
    failures.reset(lines.length * jails.length);
    const now = this.#now();
    const seen: [number, number, number][] = [];
    for (const j of jails) {
      const filter = this.#filters.get(j);
      if (filter === undefined) {
        seen.push([j, lines.length, 0]);
        continue;
      }
      const ambiguousBefore = filter.ambiguousLines;
      for (let i = 0; i < lines.length; i++) {
        const m = filter.match(lines[i]!, now);
        if (m === null) continue;
        // a journal record's own time wins; the tracker clamps it (clampToNow) as it counts it
        const time = times?.[i] ?? m.time ?? NaN;
        failures.add(j, m.ip, time, offsets?.[i] ?? -1);
      }
      seen.push([j, lines.length, filter.ambiguousLines - ambiguousBefore]);
    }
    return failures.take({
      type: "batch",
      ...(id === undefined ? {} : { id }),
      origin,
      lines: seen,
      positions,
    }, this.#now());
  }
}
