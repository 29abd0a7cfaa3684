/**
 * Run inside a test's namespace (the test process cannot reach it): operator and host actions
 * on a nats-server, printing one JSON line.
 *
 *   _fleet_admin.ts stream URL USER PASS STREAM          create the stream (1w, one per subject)
 *   _fleet_admin.ts publish URL USER PASS SUBJECT B64   publish to JetStream: {"ok":true} or
 *                                                       {"ok":false,"error":"…"}
 * @module
 */
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";

const [op, url, user, pass, arg, data] = Deno.args;
const nc = await connect({ servers: url!, user: user!, pass: pass! });
try {
  if (op === "stream") {
    await (await jetstreamManager(nc)).streams.add({
      name: arg!,
      subjects: ["fail2zig.ban.>"],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_msgs_per_subject: 1,
      max_age: 7 * 86_400 * 1e9,
    });
    console.log(JSON.stringify({ ok: true }));
  } else if (op === "publish") {
    const bytes = Uint8Array.from(atob(data!), (ch) => ch.charCodeAt(0));
    try {
      await jetstream(nc).publish(arg!, bytes, { timeout: 2000 });
      console.log(JSON.stringify({ ok: true }));
    } catch (e) {
      console.log(JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) }));
    }
  } else throw new Error(`unknown op ${op}`);
} finally {
  await nc.close();
}
