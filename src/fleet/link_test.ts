import { deepEqual, equal, ok } from "node:assert/strict";
import { parseConfig } from "../config/mod.ts";
import {
  encodeRecord,
  FleetLink,
  type FleetRecord,
  type LinkState,
  OUTBOX_MAX,
  subjectOf,
} from "./mod.ts";
import {
  freePort,
  haveNats,
  haveOpenssl,
  makeCa,
  makeServerCert,
  startNats,
} from "../../tests/_nats.ts";
import { join } from "node:path";

function fleetConfig(url: string) {
  return parseConfig(`[fleet]\nurl = "${url}"\nstream = "T${freePort()}"\n`, "c.toml").fleet!;
}

const NOW = Date.now();
function rec(ip: string, op: "ban" | "unban" = "ban"): FleetRecord {
  return {
    op,
    ip,
    prefix: 32,
    jail: "sshd",
    origin: "a",
    at: NOW,
    exp: op === "ban" ? NOW + 3_600_000 : null,
    reason: "test",
  };
}

/** A link whose events can be awaited. */
function watched(config: ReturnType<typeof fleetConfig>) {
  const messages: { subject: string; data: Uint8Array }[] = [];
  const waiters: { pred: () => boolean; resolve: () => void }[] = [];
  let state: LinkState = "connecting";
  let replayed = -1;
  const check = () => {
    for (const w of waiters.splice(0)) {
      if (w.pred()) w.resolve();
      else waiters.push(w);
    }
  };
  const link = new FleetLink(config, {
    onMessage: (subject, data) => {
      messages.push({ subject, data });
      check();
    },
    onState: (s) => {
      state = s;
      check();
    },
    onReplayed: (n) => {
      replayed = n;
      check();
    },
  });
  const until = (pred: () => boolean, what: string, ms = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      waiters.push({ pred, resolve: () => (clearTimeout(t), resolve()) });
      check();
    });
  return { link, messages, until, state: () => state, replayed: () => replayed };
}

type Watched = ReturnType<typeof watched>;

/** A test of two watched links on one fresh server; the links and the server are closed after. */
function twoLinks(
  name: string,
  fn: (a: Watched, b: Watched, server: Awaited<ReturnType<typeof startNats>>) => Promise<void>,
): void {
  Deno.test({
    name,
    ignore: !haveNats,
    async fn() {
      const server = await startNats();
      const config = fleetConfig(server.url);
      const a = watched(config);
      const b = watched(config);
      try {
        await fn(a, b, server);
      } finally {
        await a.link.close();
        await b.link.close();
        await server.stop();
      }
    },
  });
}

twoLinks(
  "FleetLink publishes, and a link started later replays the last record of every subject",
  async (a, b) => {
    a.link.start();
    await a.until(() => a.replayed() === 0, "a read the empty stream");
    for (const r of [rec("203.0.113.1"), rec("203.0.113.2"), rec("203.0.113.1", "unban")]) {
      a.link.publish(subjectOf(r), encodeRecord(r));
    }
    // a reads the stream too: its own three records there means they are stored.
    await a.until(() => a.messages.length === 3, "3 stored");
    b.link.start();
    await b.until(() => b.replayed() === 2, "b replayed 2");
    const got = b.messages.map((m) => JSON.parse(new TextDecoder().decode(m.data)));
    deepEqual(got.map((r) => [r.ip, r.op]).sort(), [["203.0.113.1", "unban"], [
      "203.0.113.2",
      "ban",
    ]]);
    // A new record reaches b at once.
    const r = rec("203.0.113.3");
    a.link.publish(subjectOf(r), encodeRecord(r));
    await b.until(() => b.messages.length === 3, "the new record");
  },
);

twoLinks(
  "FleetLink reconnects after the server is killed and restarted, and publishes what waited",
  async (a, b, server) => {
    a.link.start();
    b.link.start();
    await a.until(() => a.state() === "connected", "a connected");
    await b.until(() => b.state() === "connected", "b connected");
    const first = rec("203.0.113.10");
    a.link.publish(subjectOf(first), encodeRecord(first));
    await b.until(() => b.messages.length === 1, "first record");
    await server.kill();
    await a.until(() => a.state() === "disconnected", "a disconnected");
    // Queued while the server is down: kept, published after the reconnect.
    const second = rec("203.0.113.11");
    a.link.publish(subjectOf(second), encodeRecord(second));
    equal(a.link.stats.outbox, 1);
    await server.start();
    await a.until(() => a.state() === "connected", "a reconnected");
    await b.until(
      () => b.messages.some((m) => m.subject === subjectOf(second)),
      "second record after restart",
    );
    equal(a.link.stats.connects, 2);
  },
);

Deno.test("FleetLink's outbox holds 10,000 records; past that the oldest are dropped and counted", async () => {
  // Nothing listens on this port: the link keeps trying (with backoff) and the outbox fills.
  const a = watched(fleetConfig(`nats://127.0.0.1:${freePort()}`));
  a.link.start();
  try {
    for (let i = 0; i < OUTBOX_MAX + 5; i++) {
      const r = rec(`198.18.${i >> 8}.${i & 255}`);
      a.link.publish(subjectOf(r), encodeRecord(r));
    }
    equal(a.link.stats.outbox, OUTBOX_MAX);
    equal(a.link.stats.outboxDropped, 5);
    await a.until(() => a.state() === "disconnected", "a disconnected");
  } finally {
    await a.link.close();
  }
});

Deno.test({
  name: "FleetLink drops a record the server refuses three times, and counts each refusal",
  ignore: !haveNats,
  async fn() {
    // This user may use the JetStream API but publish no ban subject.
    const server = await startNats({
      config: `authorization { users = [ { user: "x", password: "y", permissions: {
        publish: { allow: ["$JS.API.>"] }, subscribe: { allow: ["_INBOX.>"] } } } ] }`,
    });
    const config = parseConfig(
      `[fleet]\nurl = "${server.url}"\nuser = "x"\npassword = "y"\nstream = "T${freePort()}"\n`,
      "c.toml",
    ).fleet!;
    const errors: string[] = [];
    let connected = false;
    let wake = () => {};
    const link = new FleetLink(config, {
      onMessage: () => {},
      onState: (s) => {
        connected = s === "connected";
        wake();
      },
      onError: (e) => {
        errors.push(e);
        wake();
      },
    });
    const until = (pred: () => boolean) =>
      new Promise<void>((resolve) => {
        wake = () => pred() && resolve();
        wake();
      });
    try {
      link.start();
      await until(() => connected);
      const r = rec("203.0.113.20");
      link.publish(subjectOf(r), encodeRecord(r));
      await until(() => errors.length === 3);
      equal(link.stats.publishErrors, 3);
      equal(link.stats.published, 0);
      equal(link.stats.outbox, 0, "dropped after the third refusal");
      equal(link.stats.state, "connected", "a refusal does not drop the link");
    } finally {
      await link.close();
      await server.stop();
    }
  },
});

Deno.test({
  name: "FleetLink over tls:// to an IP address checks the certificate against that address",
  ignore: !haveNats || !haveOpenssl,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fail2zig-tls-" });
    try {
      await makeCa(dir);
      await makeServerCert(dir, "ip", "IP:127.0.0.1");
      await makeServerCert(dir, "localhost", "DNS:localhost");
      const answers: string[] = [];
      for (const cert of ["ip", "localhost"]) {
        const server = await startNats({
          config: `tls { cert_file: "${join(dir, `${cert}-cert.pem`)}", key_file: "${
            join(dir, `${cert}-key.pem`)
          }" }`,
        });
        const config = parseConfig(
          `[fleet]\nurl = "tls://127.0.0.1:${server.port}"\ntls_ca = "${
            join(dir, "ca.pem")
          }"\nstream = "T${freePort()}"\n`,
          "c.toml",
        ).fleet!;
        let settled = (_: string) => {};
        const outcome = new Promise<string>((resolve) => settled = resolve);
        const link = new FleetLink(config, {
          onMessage: () => {},
          onState: (s, detail) => {
            if (s === "connected" || s === "disconnected") settled(`${s}: ${detail}`);
          },
        });
        try {
          link.start();
          answers.push((await outcome).replace(`:${server.port}`, ":PORT"));
        } finally {
          await link.close();
          await server.stop();
        }
      }
      // A certificate for the address dialled is accepted; the CA's certificate for localhost,
      // which the client alone took for any address, is refused.
      equal(answers[0], "connected: 127.0.0.1:PORT");
      ok(
        /^disconnected: .*IP: 127\.0\.0\.1 is not in the cert's list/.test(answers[1]!),
        answers[1],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "FleetLink connects to whichever of its urls answers",
  ignore: !haveNats,
  async fn() {
    const server = await startNats();
    const dead = `nats://127.0.0.1:${freePort()}`;
    const config = parseConfig(
      `[fleet]\nurl = ["${dead}", "${server.url}", "${dead}"]\nstream = "T${freePort()}"\n`,
      "c.toml",
    ).fleet!;
    const a = watched(config);
    try {
      // Each connect tries the urls in a new random order: a link that stopped at the first
      // failure would find the live one first in all four with a chance of 1 in 81.
      a.link.start();
      for (let i = 0; i < 4; i++) {
        await a.until(() => a.state() === "connected", "connected");
        equal(a.link.stats.server, `127.0.0.1:${server.port}`);
        await server.restart();
        await a.until(() => a.state() !== "connected", "link down after the restart");
      }
      ok(a.link.stats.connects >= 4);
    } finally {
      await a.link.close();
      await server.stop();
    }
  },
});
