/**
 * `revokeOrigin()`: lifts a host's bans fleet-wide (`fail2zig fleet unban --origin HOST`, run by
 * an operator with the fleet's admin credentials, not by the daemon). It reads the last record of
 * every subject under `fail2zig.ban.HOST.>` and publishes, on each subject that holds a ban, an
 * unban record in HOST's name: every daemon then lifts the fleet ban unless another origin holds
 * it. Purging the subjects alone would unban nothing: daemons act on records.
 * @module
 */
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import type { FleetConfig } from "../config/mod.ts";
import { connectFleet, type NatsAuth } from "./connect.ts";
import { decodeRecord, encodeRecord, type FleetRecord, SUBJECT_ROOT, subjectOf } from "./record.ts";

/** What {@link revokeOrigin} did. */
export interface RevokeResult {
  /** Subjects of the origin read from the stream. */
  readonly read: number;
  /** Unban records published (one per ban in force). */
  readonly unbanned: number;
}

/**
 * Publishes an unban for every ban of `origin` the stream holds. `auth`: the operator's
 * credentials, or `config` itself for the config's own (user/password, token or creds), which
 * {@link connectFleet} turns into connection options exactly as for the daemon's link.
 */
export async function revokeOrigin(
  config: FleetConfig,
  origin: string,
  auth: NatsAuth,
  now: () => number = Date.now,
): Promise<RevokeResult> {
  const nc = await connectFleet(config, auth, { name: "fail2zig-fleet-unban" });
  try {
    const js = jetstream(nc);
    const consumer = await js.consumers.get(config.stream, {
      deliver_policy: DeliverPolicy.LastPerSubject,
    });
    const bans: FleetRecord[] = [];
    let read = 0;
    if ((await consumer.info()).num_pending > 0) {
      const prefix = `${SUBJECT_ROOT}.${origin}.`;
      for await (const m of await consumer.consume()) {
        if (m.subject.startsWith(prefix)) {
          read++;
          const d = decodeRecord(m.subject, m.data, now());
          if (d.ok && d.record.op === "ban") bans.push(d.record);
        }
        if (m.info.pending === 0) break;
      }
    }
    for (const b of bans) {
      const unban: FleetRecord = {
        ...b,
        op: "unban",
        exp: null,
        at: now(),
        reason: "revoked by the operator",
      };
      await js.publish(subjectOf(unban), encodeRecord(unban), { timeout: 5000 });
    }
    return { read, unbanned: bans.length };
  } finally {
    await nc.close();
  }
}
