/**
 * The link to the NATS servers: connect (with backoff between attempts), look up the stream (or
 * create it: subjects `fail2zig.ban.>`, one message per subject, `max_age`), read it from the
 * last message of every subject (the active bans: a host that was away replays them at each
 * connect), and publish from a bounded outbox that never blocks the caller.
 *
 * Stages, in order: `publish()` queues → `#run()` connects, looks up the stream, starts the
 * reader and the writer → the writer drains the outbox while connected → on a lost connection
 * both stop, the state is reported, and `#run()` connects again.
 * @module
 */
import type { NatsConnection } from "@nats-io/transport-node";
import {
  DeliverPolicy,
  jetstream,
  type JetStreamClient,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import type { FleetConfig } from "../config/mod.ts";
import { connectFleet } from "./connect.ts";
import { SUBJECT_ROOT } from "./record.ts";

/** Most records waiting to be published; the oldest is dropped (and counted) past it. */
export const OUTBOX_MAX = 10_000;
/** First wait between connection attempts, ms; it doubles up to {@link BACKOFF_MAX_MS}. */
export const BACKOFF_MIN_MS = 250;
/** Longest wait between connection attempts, ms. */
export const BACKOFF_MAX_MS = 30_000;
/** Longest wait for a publish acknowledgement, ms; then the record is tried again. */
export const PUBLISH_TIMEOUT_MS = 5_000;
/** Lifetime of a pull request of the stream's reader, ms (heartbeats every half of it). */
export const READ_EXPIRES_MS = 5_000;
/**
 * Longest wait before publishing again a record that found no responder (no stream leader), ms;
 * the wait starts at {@link BACKOFF_MIN_MS} and doubles.
 */
export const UNANSWERED_MAX_MS = 2_000;

/** Where the link stands (`client status`, `fail2zig_fleet_connected`). */
export type LinkState = "connecting" | "connected" | "disconnected" | "closed";

/** What the link reports to its owner. */
export interface LinkEvents {
  /** A message read from the stream (replayed or new). */
  readonly onMessage: (subject: string, data: Uint8Array) => void;
  /** The state changed; `detail` is the server or the error. */
  readonly onState: (state: LinkState, detail: string) => void;
  /** A connection is up and the stream found: a moment to re-publish long bans. */
  readonly onConnected?: () => void;
  /** The replay of the stream's last messages is done (`count` messages). */
  readonly onReplayed?: (count: number) => void;
  /** A publish failed (refused, or not acknowledged in time), or reading the stream failed. */
  readonly onError?: (detail: string) => void;
}

/** Counters of the link, for status and metrics. */
export interface LinkStats {
  /** Where the link stands. */
  state: LinkState;
  /** The server of the current (or last) connection, `host:port`. */
  server: string;
  /** Records waiting in the outbox. */
  outbox: number;
  /** Records dropped from the full outbox. */
  outboxDropped: number;
  /** Records acknowledged by the stream. */
  published: number;
  /** Publishes refused or not acknowledged. */
  publishErrors: number;
  /** Connections made (each is followed by a replay). */
  connects: number;
}

/** A queued record. */
interface Pending {
  readonly subject: string;
  readonly data: Uint8Array;
  tries: number;
}

/** The link; `start()` begins connecting in the background. */
export class FleetLink {
  readonly #config: FleetConfig;
  readonly #events: LinkEvents;
  readonly #stats: LinkStats = {
    state: "connecting",
    server: "",
    outbox: 0,
    outboxDropped: 0,
    published: 0,
    publishErrors: 0,
    connects: 0,
  };
  /** A ring would save the shifts; 10,000 entries shift in microseconds. */
  #outbox: Pending[] = [];
  #nc: NatsConnection | null = null;
  #closed = false;
  /** Wakes the writer waiting for a record. */
  #wake: (() => void) | null = null;
  /** Ends the backoff sleep (close only). */
  #cancelSleep: (() => void) | null = null;
  #running: Promise<void> | null = null;

  /** A link for `[fleet]` that reports to `events`; `start()` connects. */
  constructor(config: FleetConfig, events: LinkEvents) {
    this.#config = config;
    this.#events = events;
  }

  /** Counters and state now. */
  get stats(): Readonly<LinkStats> {
    this.#stats.outbox = this.#outbox.length;
    return this.#stats;
  }

  /** Begins connecting; returns at once. */
  start(): void {
    this.#running ??= this.#run();
  }

  /** Queues a record; never waits. The oldest queued record is dropped when the outbox is full. */
  publish(subject: string, data: Uint8Array): void {
    if (this.#closed) return;
    if (this.#outbox.length >= OUTBOX_MAX) {
      this.#outbox.shift();
      this.#stats.outboxDropped++;
    }
    this.#outbox.push({ subject, data, tries: 0 });
    this.#wake?.();
  }

  /** Closes the connection and stops reconnecting (queued records are lost). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    this.#cancelSleep?.();
    await this.#nc?.close().catch(() => {});
    await this.#running;
    this.#setState("closed", "");
  }

  #setState(state: LinkState, detail: string): void {
    if (this.#stats.state === state) return;
    this.#stats.state = state;
    this.#events.onState(state, detail);
  }

  async #run(): Promise<void> {
    let wait = BACKOFF_MIN_MS;
    while (!this.#closed) {
      let nc: NatsConnection;
      try {
        nc = await this.#connect();
      } catch (e) {
        this.#setState("disconnected", message(e));
        await this.#sleep(wait);
        wait = Math.min(BACKOFF_MAX_MS, wait * 2);
        continue;
      }
      this.#nc = nc;
      if (this.#closed) break;
      try {
        const js = await this.#stream(nc);
        wait = BACKOFF_MIN_MS;
        this.#stats.connects++;
        this.#stats.server = nc.getServer();
        this.#setState("connected", this.#stats.server);
        this.#events.onConnected?.();
        // A reader that fails (consumer refused) drops the connection: #run tries again, with backoff.
        const reading = this.#read(js).catch((e) => {
          if (this.#closed) return;
          this.#events.onError?.(`reading the stream: ${message(e)}`);
          return nc.close().catch(() => {});
        });
        const writing = this.#write(nc, js);
        const closed = await nc.closed();
        await Promise.all([reading, writing]);
        if (!this.#closed) this.#setState("disconnected", closed ? message(closed) : "closed");
      } catch (e) {
        if (!this.#closed) this.#setState("disconnected", message(e));
        await nc.close().catch(() => {});
        await this.#sleep(wait);
        wait = Math.min(BACKOFF_MAX_MS, wait * 2);
      }
      this.#nc = null;
    }
  }

  #connect(): Promise<NatsConnection> {
    const c = this.#config;
    return connectFleet(c, c, {
      name: "fail2zig",
      reconnect: false, // #run reconnects, with its backoff, and replays
      timeout: 5_000,
      pingInterval: 5_000,
      maxPingOut: 2,
    });
  }

  /** Looks the stream up, creating it when it does not exist. */
  async #stream(nc: NatsConnection): Promise<JetStreamClient> {
    const c = this.#config;
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.streams.info(c.stream);
    } catch (e) {
      if (!/not found/i.test(message(e))) throw e;
      await jsm.streams.add({
        name: c.stream,
        subjects: [`${SUBJECT_ROOT}.>`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_msgs_per_subject: 1,
        max_age: c.maxAgeMs * 1_000_000, // nanoseconds
      });
    }
    return jetstream(nc);
  }

  /** Reads the stream: the last message of each subject, then new ones, until the link drops. */
  async #read(js: JetStreamClient): Promise<void> {
    const consumer = await js.consumers.get(this.#config.stream, {
      deliver_policy: DeliverPolicy.LastPerSubject, // (filter_subjects needs nats-server 2.10)
    });
    // Pulls that expire after 5 s carry heartbeats every 2.5 s. Two missed (in a cluster, the
    // consumer's node died) stop the reader: the link reconnects and replays, with a consumer on
    // a live node. (Left to the client, with 30 s pulls, such a host heard nothing more.)
    const messages = await consumer.consume({ expires: READ_EXPIRES_MS });
    let lost = false;
    (async () => {
      for await (const s of messages.status()) {
        if (s.type === "heartbeats_missed" && s.count >= 2) {
          lost = true;
          messages.stop();
          return;
        }
      }
    })().catch(() => {});
    let replaying = true;
    let count = 0;
    // An empty stream has nothing to replay: say so at once (nothing else would).
    if ((await consumer.info()).num_pending === 0 && count === 0) {
      replaying = false;
      this.#events.onReplayed?.(0);
    }
    for await (const m of messages) {
      this.#events.onMessage(m.subject, m.data);
      count++;
      if (replaying && m.info.pending === 0) {
        replaying = false;
        this.#events.onReplayed?.(count);
      }
      if (this.#closed) break;
    }
    if (lost) throw new Error("the stream's consumer stopped answering (heartbeats missed)");
  }

  /** Publishes the outbox in order while the connection is up. */
  async #write(nc: NatsConnection, js: JetStreamClient): Promise<void> {
    const closed = nc.closed().then(() => {});
    let unanswered = BACKOFF_MIN_MS;
    while (!this.#closed && !nc.isClosed()) {
      const next = this.#outbox[0];
      if (next === undefined) {
        await Promise.race([closed, new Promise<void>((resolve) => this.#wake = resolve)]);
        this.#wake = null;
        continue;
      }
      try {
        await js.publish(next.subject, next.data, { timeout: PUBLISH_TIMEOUT_MS });
        this.#stats.published++;
        unanswered = BACKOFF_MIN_MS;
        if (this.#outbox[0] === next) this.#outbox.shift();
      } catch (e) {
        if (nc.isClosed()) return; // kept for the next connection
        this.#stats.publishErrors++;
        if (e instanceof Error && e.name === "JetStreamNotEnabled") {
          // No responder for the subject: in a cluster, the stream's leader is being elected
          // (its node died). Kept and tried again, backing off, not dropped.
          this.#events.onError?.(`publish: ${message(e)}; retrying in ${unanswered} ms`);
          await Promise.race([closed, this.#sleep(unanswered)]);
          unanswered = Math.min(UNANSWERED_MAX_MS, unanswered * 2);
          continue;
        }
        // Refused (permissions) or not acknowledged three times: dropped, not retried forever.
        if (++next.tries >= 3 && this.#outbox[0] === next) this.#outbox.shift();
        this.#events.onError?.(`publish: ${message(e)}`);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms * (0.75 + Math.random() / 2));
      this.#cancelSleep = () => {
        clearTimeout(t);
        resolve();
      };
    }).then(() => {
      this.#cancelSleep = null;
    });
  }
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ").slice(0, 200);
}
