/**
 * `startFleet()`: what the daemon loads (by a dynamic import) when `[fleet]` is configured. It
 * builds the link and the bridge, attaches them to the engine, registers the
 * `fail2zig_fleet_*` series, logs link state changes, and re-publishes long bans at each connect
 * and every half `max_age`.
 * @module
 */
import type { FleetConfig } from "../config/mod.ts";
import type { FleetStatus } from "../ipc/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { MetricsRegistry } from "../metrics/mod.ts";
import type { BanDecision } from "../tracker/mod.ts";
import { FleetBridge, type FleetEngine } from "./bridge.ts";
import { FleetLink, OUTBOX_MAX } from "./link.ts";

/** How often repeated drops of one kind are logged at most, ms (each line carries the count). */
export const DROP_LOG_INTERVAL_MS = 60_000;

/** The engine's side of the fleet: the bridge's needs and the attach hook. */
export interface AttachableEngine extends FleetEngine {
  /** Attaches the fleet's hooks (null detaches them). */
  attachFleet(
    fleet: {
      onChange(event: "ban" | "unban", bans: readonly BanDecision[], origin: string): void;
      originOf(ip: string): string | undefined;
      status(): FleetStatus;
    } | null,
  ): void;
}

/** Options of {@link startFleet}. */
export interface StartFleetOptions {
  /** `[fleet]`. */
  readonly config: FleetConfig;
  /** The daemon's engine. */
  readonly engine: AttachableEngine;
  /** Link state changes and drops are logged here. */
  readonly logger: Logger;
  /** Where the `fail2zig_fleet_*` series go; absent: none. */
  readonly registry?: MetricsRegistry;
  /** The host name, for the default `[fleet] name`. @default Deno.hostname() */
  readonly hostname?: () => string;
  /** ms since the epoch. @default Date.now */
  readonly now?: () => number;
}

/** The running fleet. */
export interface RunningFleet {
  /** This host's name in the fleet. */
  readonly name: string;
  /** The engine side. */
  readonly bridge: FleetBridge;
  /** The server side. */
  readonly link: FleetLink;
  /** The `status` reply's `fleet` object. */
  status(): FleetStatus;
  /** Detaches from the engine and closes the link. */
  close(): Promise<void>;
}

/** This host's fleet name: `[fleet] name`, else the host name with other characters as `-`. */
export function fleetName(config: FleetConfig, hostname: () => string): string {
  if (config.name !== null) return config.name;
  const n = hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 64);
  return n === "" ? "host" : n;
}

/** Starts the fleet link beside the engine; returns at once (connecting goes on). */
export function startFleet(o: StartFleetOptions): RunningFleet {
  const now = o.now ?? Date.now;
  const name = fleetName(o.config, o.hostname ?? (() => Deno.hostname()));
  const lastLogged = new Map<string, { at: number; count: number }>();
  /** Counts a drop of `kind`; logs at most once a minute per kind, with the count since. */
  const dropped = (kind: string, log: (count: number) => void) => {
    const seen = lastLogged.get(kind) ?? { at: -Infinity, count: 0 };
    seen.count++;
    lastLogged.set(kind, seen);
    if (now() - seen.at < DROP_LOG_INTERVAL_MS) return;
    log(seen.count);
    seen.at = now();
    seen.count = 0;
  };
  // The bridge publishes through the link made just below (only ever called after it exists).
  const bridge = new FleetBridge({
    config: o.config,
    name,
    engine: o.engine,
    outbox: {
      publish: (subject, data) => {
        const before = link.stats.outboxDropped;
        link.publish(subject, data);
        if (link.stats.outboxDropped === before) return;
        dropped(
          "outbox full",
          (count) =>
            o.logger.warn("fleet outbox full: oldest record dropped", {
              count,
              outbox: OUTBOX_MAX,
              state: link.stats.state,
            }),
        );
      },
    },
    now,
    onDrop: (reason, detail) =>
      dropped(reason, (count) => o.logger.warn("fleet record dropped", { reason, detail, count })),
  });
  const link: FleetLink = new FleetLink(o.config, {
    onMessage: (subject, data) => bridge.onMessage(subject, data),
    onState: (state, detail) => {
      if (state === "connected") o.logger.info("fleet link connected", { server: detail, name });
      else if (state === "disconnected") o.logger.warn("fleet link down", { error: detail });
    },
    onConnected: () => {
      const n = bridge.republish();
      if (n > 0) o.logger.info("fleet: long bans re-published", { count: n });
    },
    onReplayed: (count) => o.logger.info("fleet: stream replayed", { messages: count }),
    onError: (detail) => o.logger.warn("fleet link error", { error: detail }),
  });
  const status = (): FleetStatus => {
    const l = link.stats;
    const b = bridge.stats;
    return {
      name,
      state: l.state,
      server: l.server,
      outbox: l.outbox,
      outbox_dropped: l.outboxDropped,
      published: l.published,
      received: b.received,
      applied: b.outcomes.banned,
      dropped: Object.values(b.dropped).reduce((a, n) => a + n, 0),
    };
  };
  if (o.registry !== undefined) registerMetrics(o.registry, link, bridge);
  o.engine.attachFleet({
    onChange: (event, bans, origin) => bridge.onLocal(event, bans, origin),
    originOf: (ip) => bridge.originOf(ip),
    status,
  });
  // Every half max_age (at most 2^31-1 ms, the timer's limit), long bans are published again.
  const every = Math.min(o.config.maxAgeMs / 2, 2 ** 31 - 1);
  const timer = setInterval(() => bridge.republish(), every);
  link.start();
  return {
    name,
    bridge,
    link,
    status,
    close: async () => {
      clearInterval(timer);
      o.engine.attachFleet(null);
      await link.close();
      await bridge.settle();
    },
  };
}

/** The `fail2zig_fleet_*` series, read from the link's and bridge's counters at each scrape. */
function registerMetrics(registry: MetricsRegistry, link: FleetLink, bridge: FleetBridge): void {
  const connected = registry.gauge(
    "fail2zig_fleet_connected",
    "1 while the fleet link is connected to a NATS server",
  );
  const outbox = registry.gauge("fail2zig_fleet_outbox", "Records waiting to be published");
  const counters = {
    published: registry.counter("fail2zig_fleet_published_total", "Records published"),
    outboxDropped: registry.counter(
      "fail2zig_fleet_outbox_dropped_total",
      "Records dropped from the full outbox (oldest first)",
    ),
    publishErrors: registry.counter(
      "fail2zig_fleet_publish_errors_total",
      "Publishes refused or not acknowledged",
    ),
    connects: registry.counter("fail2zig_fleet_connects_total", "Connections made to a server"),
    received: registry.counter(
      "fail2zig_fleet_received_total",
      "Records received, by what came of them",
      ["outcome"],
    ),
    dropped: registry.counter(
      "fail2zig_fleet_dropped_total",
      "Received records dropped, by reason",
      ["reason"],
    ),
  };
  const seen = new Map<string, number>();
  const sync = (key: string, now: number, inc: (by: number) => void) => {
    const before = seen.get(key) ?? 0;
    if (now > before) inc(now - before);
    seen.set(key, now);
  };
  for (const r of Object.keys(bridge.stats.dropped)) counters.dropped.touch({ reason: r });
  registry.onCollect(() => {
    const l = link.stats;
    connected.set({}, l.state === "connected" ? 1 : 0);
    outbox.set({}, l.outbox);
    sync("published", l.published, (n) => counters.published.inc({}, n));
    sync("outboxDropped", l.outboxDropped, (n) => counters.outboxDropped.inc({}, n));
    sync("publishErrors", l.publishErrors, (n) => counters.publishErrors.inc({}, n));
    sync("connects", l.connects, (n) => counters.connects.inc({}, n));
    for (const [k, v] of Object.entries(bridge.stats.outcomes)) {
      sync(`o:${k}`, v, (n) => counters.received.inc({ outcome: k }, n));
    }
    for (const [k, v] of Object.entries(bridge.stats.dropped)) {
      sync(`d:${k}`, v, (n) => counters.dropped.inc({ reason: k }, n));
    }
  });
}
