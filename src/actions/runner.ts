/**
 * `ActionRunner`: a jail's `[actions.NAME]` run beside its firewall ban, never in its way.
 * Stages, in order: `dispatch()` (called by the engine after a ban reached the firewall or was
 * lifted; synchronous, it only queues) → one bounded queue per action (`queue` runs waiting; past
 * it the oldest waiting run is dropped and counted) → one worker per action running its queue in
 * order, one run at a time → the run (`exec`: the argv, no shell; `smtp`: one mail per ban)
 * bounded by the action's `timeout` → its outcome counted (`ok`, `failed`, `dropped`) and a failure
 * logged. A slow or hanging action only fills its own queue.
 * @module
 */
import type { ActionConfig } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { runExec, substitute } from "./_exec.ts";
import { printable, sendMail } from "./_smtp.ts";

/** Longest `stop()` waits for runs in progress before it kills them. */
export const STOP_WAIT_MS = 2000;

/** A ban or unban an action runs for. */
export interface ActionEvent {
  /** Whether the address was banned or its ban lifted. */
  readonly kind: "ban" | "unban";
  /** Canonical address (the network address for an IPv6 prefix). */
  readonly ip: string;
  /** 32 or 128 for one address; less for an IPv6 prefix. */
  readonly prefix: number;
  /** The jail. */
  readonly jail: string;
  /** The ban's duration, ms; null when permanent or for an unban. */
  readonly durationMs: number | null;
  /** What caused it (as the audit record's `origin`). */
  readonly origin: string;
}

/** How one run ended. */
export type ActionResult = "ok" | "failed" | "dropped";

/** Options of {@link ActionRunner}. */
export interface ActionRunnerOptions {
  /** The `[actions.NAME]` of the config. */
  readonly actions: readonly ActionConfig[];
  /** Receives a warning per failed run and per dropped run (the first, then every 1000th). */
  readonly logger: Logger;
  /** Each outcome, for counting (metrics). */
  readonly onOutcome?: (action: string, result: ActionResult) => void;
}

interface Slot {
  config: ActionConfig;
  queue: ActionEvent[];
  head: number;
  running: Promise<void> | null;
  counts: Record<ActionResult, number>;
}

/** Runs configured actions off the ban path. */
export class ActionRunner {
  #slots = new Map<string, Slot>();
  #o: ActionRunnerOptions;
  #stopped = false;
  /** Aborted by `stop()` once `STOP_WAIT_MS` have passed: kills the runs still going. */
  #abort = new AbortController();

  /** A runner for `options.actions`; nothing runs before `dispatch()`. */
  constructor(options: ActionRunnerOptions) {
    this.#o = options;
    this.reconfigure(options.actions);
  }

  /**
   * Replaces the actions (reload). An action of the same name keeps its queue and counts and
   * takes the new settings for its next run; runs waiting for a removed action are dropped.
   */
  reconfigure(actions: readonly ActionConfig[]): void {
    const next = new Map<string, Slot>();
    for (const config of actions) {
      const old = this.#slots.get(config.name);
      next.set(
        config.name,
        old === undefined
          ? { config, queue: [], head: 0, running: null, counts: { ok: 0, failed: 0, dropped: 0 } }
          : Object.assign(old, { config }),
      );
    }
    for (const [name, slot] of this.#slots) {
      if (next.has(name)) continue;
      for (let i = slot.head; i < slot.queue.length; i++) this.#count(slot, "dropped");
      slot.queue = [];
      slot.head = 0;
    }
    this.#slots = next;
  }

  /** Queues `e` for every action named (names without an action, and exec actions with nothing to run for its kind, are skipped). */
  dispatch(names: readonly string[], e: ActionEvent): void {
    if (this.#stopped) return;
    for (const name of names) {
      const slot = this.#slots.get(name);
      if (slot === undefined || !runsFor(slot.config, e)) continue;
      slot.queue.push(e);
      if (slot.queue.length - slot.head > slot.config.queue) {
        slot.head++;
        this.#count(slot, "dropped");
        const n = slot.counts.dropped;
        if (n === 1 || n % 1000 === 0) {
          this.#o.logger.warn("action queue full: oldest waiting run dropped", {
            action: name,
            dropped_total: n,
            queue: slot.config.queue,
          });
        }
      }
      if (slot.head > 1024 && slot.head * 2 > slot.queue.length) {
        slot.queue = slot.queue.slice(slot.head);
        slot.head = 0;
      }
      slot.running ??= this.#work(slot);
    }
  }

  /** Runs done, failed and dropped, and runs waiting, per action. */
  stats(): Record<string, Record<ActionResult | "queued", number>> {
    const out: Record<string, Record<ActionResult | "queued", number>> = {};
    for (const [name, s] of this.#slots) {
      out[name] = { ...s.counts, queued: s.queue.length - s.head };
    }
    return out;
  }

  /** Resolves when every queue is empty and no run is in progress (tests). */
  async settle(): Promise<void> {
    for (;;) {
      const running = [...this.#slots.values()].map((s) => s.running).filter((r) => r !== null);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /**
   * Stops taking runs, drops those waiting, and waits for the runs in progress: at most
   * `STOP_WAIT_MS`, then they are killed (exec) or cut off (smtp) and counted failed.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const slot of this.#slots.values()) {
      slot.queue = slot.queue.slice(0, slot.head);
    }
    const running = Promise.all([...this.#slots.values()].map((s) => s.running));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((r) => timer = setTimeout(r, STOP_WAIT_MS));
    await Promise.race([running, late]);
    clearTimeout(timer);
    this.#abort.abort();
    await running;
  }

  #count(slot: Slot, result: ActionResult): void {
    slot.counts[result]++;
    this.#o.onOutcome?.(slot.config.name, result);
  }

  async #work(slot: Slot): Promise<void> {
    try {
      while (slot.head < slot.queue.length) {
        const e = slot.queue[slot.head++]!;
        const config = slot.config;
        const failure = await runOne(config, e, this.#abort.signal);
        this.#count(slot, failure === "" ? "ok" : "failed");
        if (failure !== "") {
          this.#o.logger.warn("action failed", {
            action: config.name,
            kind: e.kind,
            jail: e.jail,
            ip: e.ip,
            error: failure,
            failed_total: slot.counts.failed,
          });
        }
      }
      slot.queue = [];
      slot.head = 0;
    } finally {
      slot.running = null;
    }
  }
}

function runsFor(a: ActionConfig, e: ActionEvent): boolean {
  if (a.type === "smtp") return e.kind === "ban";
  return (e.kind === "ban" ? a.onBan : a.onUnban).length > 0;
}

/** One run; resolves "" on success, else why it failed (never rejects). */
async function runOne(a: ActionConfig, e: ActionEvent, signal: AbortSignal): Promise<string> {
  try {
    if (a.type === "exec") {
      const argv = substitute(e.kind === "ban" ? a.onBan : a.onUnban, e);
      return await runExec(argv, a.timeoutMs, signal);
    }
    const target = e.prefix === 32 || e.prefix === 128 ? e.ip : `${e.ip}/${e.prefix}`;
    const duration = e.durationMs === null
      ? "permanently"
      : `for ${Math.round(e.durationMs / 1000)} s`;
    await sendMail({
      hostname: a.server.hostname,
      port: a.server.port,
      from: a.from,
      to: a.to,
      subject: `[fail2zig] ${e.jail}: banned ${target}`,
      body: `fail2zig banned ${target} in jail ${e.jail} ${duration}.\n\nOrigin: ${
        printable(e.origin)
      }\n`,
      timeoutMs: a.timeoutMs,
      signal,
    });
    return "";
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
