import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { type Config, parseConfig, RUNTIME_PEAK_MB } from "../config/mod.ts";
import { MemoryBackend } from "../firewall/mod.ts";
import { SocketInUseError } from "../ipc/mod.ts";
import { type Fields, Logger } from "../log/mod.ts";
import { createDaemonMetrics } from "../metrics/mod.ts";
import { StateStore } from "../state/mod.ts";
import { ManualClock, Tracker, trackerBudgetFor, trackerCapacityFor } from "../tracker/mod.ts";
import {
  adoptKernelBans,
  Daemon,
  type DaemonDeps,
  type ParserHost,
  StartError,
  WorkerParserHost,
} from "./daemon.ts";
import { SourceSet } from "./source_set.ts";
import { testEngine } from "./testdata/engine_fixture.ts";

const NOW = Date.parse("2026-11-25T12:00:00Z");

function config(dir: string, metrics = '""', global = ""): Config {
  return parseConfig(
    `[global]
${global}
socket_path = "${join(dir, "s.sock")}"
state_file = "${join(dir, "state.bin")}"
audit_log = ""
metrics_bind = ${metrics}
[jails.off]
filter = "sshd"
logpath = "/var/log/auth.log"
enabled = false
[jails.ssh]
filter = "sshd"
logpath = "/var/log/auth.log"
bantime = "1h"
`,
    "daemon_test.toml",
  );
}

/** Fake parts around a MemoryBackend; `opened` lists what is open, in start order. */
function fakeDeps(
  cfg: Config,
  backend: MemoryBackend,
  fail: { metrics?: boolean; audit?: boolean } = {},
) {
  const opened: string[] = [];
  let inits = 0;
  const closer = (name: string) => {
    opened.push(name);
    return { close: () => void opened.splice(opened.indexOf(name), 1) };
  };
  const parser: ParserHost = {
    start: () => Promise.resolve(void opened.push("parser")),
    restart: () => Promise.resolve(),
    stop: () => Promise.resolve(void opened.splice(opened.indexOf("parser"), 1)),
    fatal: new Promise<string>(() => {}),
  };
  const deps: DaemonDeps = {
    config: cfg,
    logger: new Logger("error", []),
    clock: new ManualClock(NOW),
    claimSocket: () => {},
    backend: async () => (inits++, await backend.init(), { backend, degraded: false }),
    store: (c, options) => Promise.resolve(new StateStore(c.global.stateFile, options)),
    audit: () =>
      fail.audit
        ? Promise.reject(new Deno.errors.IsADirectory("Is a directory (os error 21)"))
        : Promise.resolve(null),
    reloadConfig: () => Promise.resolve(cfg),
    parser: () => parser,
    control: () => Promise.resolve(closer("control")),
    metrics: () => {
      if (fail.metrics) throw new Deno.errors.AddrInUse("Address already in use (os error 98)");
      return closer("metrics");
    },
  };
  return { deps, opened, inits: () => inits };
}

Deno.test("a start failing at the metrics listener unwinds every step before it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const backend = new MemoryBackend({ now: () => NOW });
    await backend.init();
    await backend.ban([{ ip: "198.51.100.3", prefix: 32, timeoutMs: 60_000, jail: "ssh" }]);
    const cfg = config(dir, '"127.0.0.1:9191"');
    const { deps, opened } = fakeDeps(cfg, backend, { metrics: true });
    await rejects(Daemon.start(deps), (e: unknown) => {
      ok(e instanceof StartError);
      equal(e.stage, "metrics_bind 127.0.0.1:9191");
      equal(e.message, "metrics_bind 127.0.0.1:9191: Address already in use (os error 98)");
      return true;
    });
    deepEqual(opened, [], "the control socket was closed again");
    equal(backend.installed, false, "the firewall scaffold was removed");
    const after = new StateStore(cfg.global.stateFile, {
      saveIntervalMs: 10,
      collect: () => {
        throw new Error("not saved");
      },
    }).load();
    equal(after.status, "loaded");
    deepEqual(
      after.status === "loaded" ? [...after.state.bans].map((b) => b.ip) : [],
      ["198.51.100.3"],
      "the adopted kernel ban was saved before the scaffold went",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kernel entries no state knows become bans with the kernel's timeout; stop unwinds", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const backend = new MemoryBackend({ now: () => NOW });
    await backend.init();
    await backend.ban([
      { ip: "198.51.100.1", prefix: 32, timeoutMs: 600_000, jail: "ssh" },
      { ip: "198.51.100.2", prefix: 32, timeoutMs: null, jail: "gone" },
    ]);
    const { deps, opened } = fakeDeps(config(dir), backend);
    const d = await Daemon.start(deps);
    deepEqual(opened, ["control", "parser"]);
    const bans = (await d.engine.list()).bans.map((b) => [b.ip, b.jail, b.remaining_s]);
    deepEqual(bans, [["198.51.100.1", "ssh", 600], ["198.51.100.2", "ssh", null]]);
    await d.engine.unban("198.51.100.1");
    deepEqual((await backend.list()).map((b) => b.ip), ["198.51.100.2"]);
    await d.stop();
    deepEqual(opened, []);
    equal(backend.installed, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a state file of more bans than the table holds: those past it reach the kernel through the hand-off list", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cfg = config(dir, '""', "memory_ceiling_mb = 88");
    const capacity = trackerCapacityFor(trackerBudgetFor(88, RUNTIME_PEAK_MB));
    const bans = Array.from({ length: capacity + 2 }, (_, i) => ({
      jail: "ssh",
      ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      prefix: 32,
      bannedAt: NOW,
      expiresAt: NOW + 3_600_000 + i * 10,
      banCount: 1,
    }));
    const before = new StateStore(cfg.global.stateFile, {
      saveIntervalMs: 10,
      collect: () => ({ savedAt: NOW, bans, history: [], failures: [], positions: [] }),
    });
    before.scheduleSave();
    await before.flush();
    const backend = new MemoryBackend({ now: () => NOW });
    const { deps } = fakeDeps(cfg, backend);
    const d = await Daemon.start(deps);
    equal((await d.engine.status()).active_bans, capacity, "the table is full of them");
    equal((await backend.list()).length, capacity + 2, "every restored ban is in the kernel");
    await d.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("adoptKernelBans() takes the union of the state file and the kernel: the state wins, expired kernel entries are dropped", () => {
  const cfg = config("/tmp");
  const clock = new ManualClock(NOW);
  const tracker = new Tracker({ jails: cfg.jails, capacity: 64, clock });
  const hour = 3_600_000;
  tracker.restore({
    bans: [
      {
        jail: "ssh",
        ip: "203.0.113.1",
        prefix: 32,
        bannedAt: NOW - 1000,
        expiresAt: NOW + hour,
        banCount: 2,
      },
      {
        jail: "ssh",
        ip: "203.0.113.2",
        prefix: 32,
        bannedAt: NOW - 1000,
        expiresAt: null,
        banCount: 1,
      },
    ],
  });
  const adopted = adoptKernelBans(
    tracker,
    cfg,
    [
      // Known to the state: its own expiry and count stand, not the kernel's timeout.
      { ip: "203.0.113.1", prefix: 32, timeoutMs: 100_000, jail: "ssh" },
      // Unknown: a ban of the kernel's remaining time; one of a jail gone, in the first enabled.
      { ip: "198.51.100.3", prefix: 32, timeoutMs: 600_000, jail: "ssh" },
      { ip: "2001:db8::5", prefix: 128, timeoutMs: null, jail: "gone" },
      // Already expired in the kernel: nothing to adopt.
      { ip: "198.51.100.4", prefix: 32, timeoutMs: 0, jail: "ssh" },
    ],
    NOW,
    new Logger("error", []),
  );
  equal(adopted, 2);
  const bans = [...tracker.eachActiveBan()].map((b) => [b.ip, b.jail, b.expiresAt, b.banCount])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  deepEqual(bans, [
    ["198.51.100.3", "ssh", NOW + 600_000, 1],
    ["2001:db8::5", "ssh", null, 1],
    ["203.0.113.1", "ssh", NOW + hour, 2],
    ["203.0.113.2", "ssh", null, 1],
  ]);
});

Deno.test("a start failing at the audit log never touches the firewall", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const backend = new MemoryBackend({ now: () => NOW });
    const { deps, opened, inits } = fakeDeps(config(dir), backend, { audit: true });
    await rejects(Daemon.start(deps), /^StartError: audit log: Is a directory/);
    equal(inits(), 0, "the backend was never initialised");
    deepEqual(opened, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a start refused at the control socket check never touches the firewall", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const backend = new MemoryBackend({ now: () => NOW });
    const { deps, inits } = fakeDeps(config(dir), backend);
    const refused: DaemonDeps = {
      ...deps,
      claimSocket: (path) => {
        throw new SocketInUseError(`${path} is served by a running process; not replacing it`);
      },
    };
    await rejects(Daemon.start(refused), (e: unknown) => {
      ok(e instanceof StartError);
      equal(e.stage, "control socket");
      return true;
    });
    equal(inits(), 0, "the backend was never initialised");
    await rejects(Deno.lstat(join(dir, "state.bin")), "no state file written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WorkerParserHost drops, counts and logs the messages a Worker should never send, returns their credit and runs on", async () => {
  const cfg = parseConfig(
    `[jails.off]
filter = "sshd"
logpath = "/var/log/auth.log"
enabled = false
[jails.ssh]
filter = "sshd"
logpath = "/var/log/auth.log"
maxretry = 3
bantime = "1h"
`,
    "worker_host_test.toml",
  );
  const { e, backend, audit, clock } = await testEngine(cfg);
  const warnings: { message: string; fields: Fields }[] = [];
  let acked: () => void = () => {};
  const allAcked = new Promise<void>((r) => acked = r);
  const logger = new Logger("warn", [{
    write: (level, message, fields) => {
      if (level !== "warn") return;
      warnings.push({ message, fields });
      if (message === "ack 3") acked();
    },
  }]);
  const metrics = createDaemonMetrics();
  const host = new WorkerParserHost(
    { engine: e, sources: new SourceSet(), logger, metrics, clock },
    { workerUrl: new URL("./testdata/crafted_worker.ts", import.meta.url) },
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await host.start(cfg, []);
    const late = new Promise<never>((_, reject) =>
      timer = setTimeout(
        () => reject(new Error(`stalled; warnings: ${JSON.stringify(warnings)}`)),
        10_000,
      )
    );
    await Promise.race([allAcked, host.fatal.then((m) => Promise.reject(new Error(m))), late]);
    // The well-formed batch after the crafted ones was applied: its three failures banned.
    deepEqual((await backend.list()).map((b) => [b.ip, b.jail]), [["198.51.100.7", "ssh"]]);
    deepEqual(audit.map((a) => [a.event, a.ip, a.jail]), [["ban", "198.51.100.7", "ssh"]]);
    equal(metrics.workerMessagesRejected.value(), 3, "each crafted message counted");
    const rejected = warnings.filter((w) => w.message === "parser worker message rejected");
    equal(rejected.length, 1, "logged at most once a second");
    match(String(rejected[0]!.fields["reason"]), /jails\[0\]: no jail 7/);
    deepEqual(
      warnings.filter((w) => w.message.startsWith("ack ")).map((w) => w.message),
      ["ack 1", "ack 2", "ack 3"],
      "every batch, crafted or not, got its credit back (the bare number owes none)",
    );
  } finally {
    clearTimeout(timer);
    await host.stop();
  }
});
