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
import { connectFleet } from "./connect.ts";
import { decodeRecord, encodeRecord, type FleetRecord, SUBJECT_ROOT, subjectOf } from "./record.ts";

/** Credentials of the operator (the fleet's admin user); empty strings: none. */
export interface AdminCredentials {
  /** NATS user (with `password`). */
  readonly user: string;
  /** See `user`. */
  readonly password: string;
  /** A NATS credentials file. */
  readonly creds: string;
}

/** What {@link revokeOrigin} did. */
export interface RevokeResult {
  /** Subjects of the origin read from the stream. */
  readonly read: number;
  /** Unban records published (one per ban in force). */
  readonly unbanned: number;
}

/** Publishes an unban for every ban of `origin` the stream holds. */
export async function revokeOrigin(
  config: FleetConfig,
  origin: string,
  auth: AdminCredentials,
  now: () => number = Date.now,
): Promise<RevokeResult> {
  const nc = await connectFleet(config, { ...auth, token: "" }, { name: "fail2zig-fleet-unban" });
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
