/**
 * The engine of the in-process engine tests: a `Tracker` under a `ManualClock`, a
 * `MemoryBackend`, audit events collected in an array, no log output.
 * @module
 */
import type { Config } from "../../config/mod.ts";
import { MemoryBackend } from "../../firewall/mod.ts";
import { Logger } from "../../log/mod.ts";
import { ManualClock, Tracker } from "../../tracker/mod.ts";
import { type AuditEvent, Engine, type EngineOptions } from "../engine.ts";
import { SourceSet } from "../source_set.ts";

/** An engine on `config` (its table of `capacity`); `extra` overrides any option. */
export async function testEngine(
  config: Config,
  opts: {
    capacity?: number;
    /** What `reload` loads. @default config */
    reloadTo?: () => Config;
    extra?: Partial<EngineOptions>;
  } = {},
) {
  const clock = new ManualClock(Date.parse("2026-11-25T12:00:00Z"));
  const backend = new MemoryBackend({ now: () => clock.now() });
  await backend.init();
  const audit: AuditEvent[] = [];
  const jails = (opts.extra?.config ?? config).jails;
  const tracker = new Tracker({ jails, capacity: opts.capacity ?? 1024, clock });
  const reloadTo = opts.reloadTo ?? (() => config);
  const e = new Engine({
    config,
    tracker,
    sources: new SourceSet(),
    backend,
    degraded: false,
    clock,
    logger: new Logger("error", []),
    audit: (ev) => audit.push(ev),
    changed: () => {},
    reloadConfig: () => Promise.resolve(reloadTo()),
    version: "test",
    ...opts.extra,
  });
  return { e, backend, audit, clock, tracker };
}
