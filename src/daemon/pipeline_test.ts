/**
 * The whole path in one process: a line appended to a `MemoryLog` → the in-process parser host
 * (the parser Worker's matching code) → engine and tracker → `MemoryBackend` → the audit record,
 * under a `ManualClock`, the state kept in a `MemoryStateStore`. No subprocess, no Worker, no
 * sleep (every wait is on an audit record), and no permission: `deno test` of this file alone
 * needs no flag (tests/pipeline_permissions_test.ts runs it so).
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { type Config, parseConfig } from "../config/mod.ts";
import { MemoryBackend } from "../firewall/mod.ts";
import { type Fields, Logger, type LogSink } from "../log/mod.ts";
import { MemoryLog, MemorySource } from "../sources/mod.ts";
import { type MemoryStateFile, MemoryStateStore } from "../state/mod.ts";
import { ManualClock } from "../tracker/mod.ts";
import { Daemon, type DaemonDeps } from "./daemon.ts";
import { InlineParserHost } from "./inline_parser.ts";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const AUTH = "/var/log/auth.log";
const SSH_UNIT = "_SYSTEMD_UNIT=ssh.service";

/** Longest wait for an audit record (they come within milliseconds in process). */
const WAIT_LIMIT_MS = 10_000;

/** An audit record as the operational log carries it. */
interface Record {
  readonly event: string;
  readonly ip: string;
  readonly jail: string;
  readonly duration: string | undefined;
  readonly reason: string;
  readonly origin: string;
}

/** The audit records the daemon wrote, and a wait for the next one that satisfies `pred`. */
class AuditRecords implements LogSink {
  readonly all: Record[] = [];
  #seen = 0;
  #waiters: { pred: (r: Record) => boolean; resolve: (r: Record) => void }[] = [];

  write(_level: string, _message: string, f: Fields): void {
    if (f["fail2zig_event"] === undefined) return;
    const r: Record = {
      event: String(f["fail2zig_event"]),
      ip: String(f["ip"]),
      jail: String(f["jail"]),
      duration: f["duration"] === undefined ? undefined : String(f["duration"]),
      reason: String(f["reason"]),
      origin: String(f["origin"]),
    };
    this.all.push(r);
    this.#waiters = this.#waiters.filter((w) => !(w.pred(r) && (w.resolve(r), true)));
  }

  /**
   * The first record after the last one `next` returned that satisfies `pred`; fails after
   * `WAIT_LIMIT_MS` (a record that never comes is a failure, not a hang).
   */
  async next(pred: (r: Record) => boolean): Promise<Record> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const found = this.all.slice(this.#seen).find(pred) ??
      await new Promise<Record>((resolve, reject) => {
        this.#waiters.push({ pred, resolve: (r) => (clearTimeout(timer), resolve(r)) });
        timer = setTimeout(
          () => reject(new Error(`no such audit record within ${WAIT_LIMIT_MS} ms`)),
          WAIT_LIMIT_MS,
        );
      });
    this.#seen = this.all.indexOf(found) + 1;
    return found;
  }
}

/** Where the config says the socket and the state file are (neither is ever opened). */
const DIR = "/nonexistent/fail2zig-pipeline";

function config(jails: string): Config {
  return parseConfig(
    `[global]
socket_path = "${DIR}/s.sock"
state_file = "${DIR}/state.bin"
audit_log = ""
metrics_bind = ""
${jails}`,
    "pipeline_test.toml",
  );
}

const SSH = (maxretry: number) =>
  `[jails.ssh]
filter = "sshd"
logpath = "${AUTH}"
maxretry = ${maxretry}
bantime = "1h"
`;
const RECIDIVE = `[jails.recidive]
source = "bans"
maxretry = 2
`;
const SSH_JOURNAL = `[jails.sshj]
source = "journald"
journal_match = ["${SSH_UNIT}"]
filter = "sshd"
maxretry = 1
bantime = "10m"
`;

/** The daemon with fakes around a MemoryBackend, reading `logs` through the inline parser. */
async function start(
  first: Config,
  reloaded: Config,
  clock = new ManualClock(NOW),
  logs = new Map<string, MemoryLog>([[AUTH, new MemoryLog()], [SSH_UNIT, new MemoryLog()]]),
  state: MemoryStateFile = { bytes: null },
) {
  const backend = new MemoryBackend({ now: () => clock.now() });
  const audit = new AuditRecords();
  const log = (name: string) => {
    const l = logs.get(name);
    if (l === undefined) throw new Error(`no memory log named ${name}`);
    return l;
  };
  const deps: DaemonDeps = {
    config: first,
    logger: new Logger("error", [audit]),
    clock,
    claimSocket: () => {},
    backend: async () => (await backend.init(), { backend, degraded: false }),
    store: (_c, options) => Promise.resolve(new MemoryStateStore(state, options)),
    audit: () => Promise.resolve(null),
    reloadConfig: () => Promise.resolve(reloaded),
    parser: (ctx) =>
      new InlineParserHost(ctx, {
        file: (g, saved) => {
          // One path per group here: each batch then comes from pattern 0.
          equal(g.patterns.length, 1, "the fake reads one path per group");
          const name = g.patterns[0]!;
          return new MemorySource({
            log: log(name),
            name,
            saved,
            readFrom: g.readFrom,
            matches: [0],
          });
        },
        journal: (g, saved) => {
          const name = [...g.match].sort().join(" ");
          return new MemorySource({ log: log(name), name, saved, readFrom: g.readFrom });
        },
      }),
    control: () => Promise.resolve({ close: () => {} }),
    metrics: () => null,
    // not this machine's interfaces: its eth0 may hold a test address (ignoreself)
    selfAddresses: () => ["127.0.0.1", "::1"],
    // fixed figures: this process's are read through libc (FFI)
    process: {
      cpuSeconds: () => 0,
      residentBytes: () => 0,
      openFds: () => null,
      startTimeSeconds: 0,
    },
  };
  const daemon = await Daemon.start(deps);
  /** Appends `n` sshd failures of `ip` to the auth log, stamped with the clock's time. */
  const fail = (ip: string, n: number, to = AUTH) => {
    const stamp = new Date(clock.now()).toISOString();
    const lines = Array.from(
      { length: n },
      (_, i) =>
        `${to === AUTH ? `${stamp} web1 ` : ""}sshd[${
          1000 + i
        }]: Failed password for root from ${ip} port ${40000 + i} ssh2`,
    );
    log(to).append(lines, lines.map(() => clock.now()));
  };
  const kernel = async () => (await backend.list()).map((b) => b.ip).sort();
  return { daemon, clock, logs, state, audit, fail, kernel };
}

Deno.test("pipeline: failures → ban in the firewall and audit; unban; expiry", () =>
  (async () => {
    const cfg = config(SSH(3));
    const { daemon, clock, audit, fail, kernel } = await start(cfg, cfg);
    try {
      // Two failures of one address, then three of another: the second is banned, and by the
      // time its ban is audited the lines before it were counted.
      fail("198.51.100.8", 2);
      fail("198.51.100.7", 3);
      const ban = await audit.next((r) => r.event === "ban");
      deepEqual(ban, {
        event: "ban",
        ip: "198.51.100.7",
        jail: "ssh",
        duration: "3600",
        reason: "3 failures",
        origin: `memory:${AUTH}`,
      });
      deepEqual(await kernel(), ["198.51.100.7"]);
      const ssh = await daemon.engine.statusJail("ssh");
      deepEqual(
        [ssh.lines_total, ssh.failures_total, ssh.currently_failed, ssh.active_bans],
        [5, 5, 1, 1],
      );

      // unban through the controller: gone from the kernel, audited.
      deepEqual(await daemon.engine.unban("198.51.100.7"), {
        unbanned: [{ ip: "198.51.100.7", jail: "ssh" }],
      });
      deepEqual(await kernel(), []);
      const unban = await audit.next((r) => r.event === "unban");
      deepEqual([unban.ip, unban.jail, unban.reason, unban.origin], [
        "198.51.100.7",
        "ssh",
        "unbanned by client",
        "client",
      ]);

      // expiry: a ban lives one bantime, then the expiry check lifts it.
      fail("198.51.100.9", 3);
      equal((await audit.next((r) => r.event === "ban")).ip, "198.51.100.9");
      clock.advance(3_599_999);
      await daemon.engine.expireDue();
      deepEqual(await kernel(), ["198.51.100.9"], "not before its bantime");
      clock.advance(1);
      await daemon.engine.expireDue();
      const expired = await audit.next((r) => r.event === "unban");
      deepEqual([expired.ip, expired.jail, expired.reason, expired.origin], [
        "198.51.100.9",
        "ssh",
        "expired",
        "expiry",
      ]);
      deepEqual(await kernel(), []);
    } finally {
      await daemon.stop();
    }
  })());

Deno.test("pipeline: a second ban within recidive's findtime bans for recidive's bantime", () =>
  (async () => {
    const cfg = config(SSH(3) + RECIDIVE);
    const { daemon, clock, audit, fail, kernel } = await start(cfg, cfg);
    try {
      fail("203.0.113.5", 3);
      equal((await audit.next((r) => r.event === "ban")).jail, "ssh");
      clock.advance(3_600_000);
      await daemon.engine.expireDue();
      equal((await audit.next((r) => r.event === "unban")).reason, "expired");
      fail("203.0.113.5", 3);
      equal((await audit.next((r) => r.event === "ban")).jail, "ssh");
      const long = await audit.next((r) => r.event === "ban");
      deepEqual([long.ip, long.jail, long.duration, long.reason], [
        "203.0.113.5",
        "recidive",
        String(7 * 24 * 3600),
        "recidive",
      ]);
      ok(long.origin.startsWith("jail:"), long.origin);
      // The ssh ban expires; recidive's keeps the address blocked.
      clock.advance(3_600_000);
      await daemon.engine.expireDue();
      equal((await audit.next((r) => r.event === "unban")).jail, "ssh");
      deepEqual(await kernel(), ["203.0.113.5"]);
    } finally {
      await daemon.stop();
    }
  })());

Deno.test("pipeline: reload applies a changed maxretry and a new journald jail, bans kept", () =>
  (async () => {
    const { daemon, audit, fail, kernel } = await start(
      config(SSH(3)),
      config(SSH(2) + SSH_JOURNAL),
    );
    try {
      fail("192.0.2.2", 2); // counted under maxretry 3: not banned
      fail("192.0.2.1", 3);
      equal((await audit.next((r) => r.event === "ban")).ip, "192.0.2.1");
      deepEqual(await daemon.engine.reload(), { reloaded: true, jails: ["ssh", "sshj"] });
      deepEqual(await kernel(), ["192.0.2.1"], "bans survive reload");
      // maxretry 2 now (a changed maxretry starts the jail's counts afresh): two failures ban,
      // and the auth log is read on from where it stopped, so no line is counted twice.
      fail("192.0.2.2", 2);
      const two = await audit.next((r) => r.event === "ban");
      deepEqual([two.ip, two.jail, two.reason], ["192.0.2.2", "ssh", "2 failures"]);
      equal((await daemon.engine.statusJail("ssh")).lines_total, 7);
      // The journald jail added by the reload reads its unit's records.
      fail("192.0.2.3", 1, SSH_UNIT);
      const j = await audit.next((r) => r.event === "ban");
      deepEqual([j.ip, j.jail, j.duration, j.origin], ["192.0.2.3", "sshj", "600", "journal:1"]);
      deepEqual(await kernel(), ["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
    } finally {
      await daemon.stop();
    }
  })());

Deno.test("pipeline: an ignored network and a stopped jail count nothing; the lines after do", () =>
  (async () => {
    // `watch` reads the same log: its bans show that a batch was read while `ssh` was stopped.
    const watch = SSH(3).replace("[jails.ssh]", "[jails.watch]").replace('"1h"', '"2h"');
    const cfg = config(SSH(3) + watch);
    const { daemon, audit, fail } = await start(cfg, cfg);
    const ban = (jail: string) => (r: Record) => r.event === "ban" && r.jail === jail;
    const bansOf = (ip: string) =>
      audit.all.filter((r) => r.event === "ban" && r.ip === ip).map((r) => r.jail);
    try {
      fail("198.51.100.7", 3);
      equal((await audit.next(ban("ssh"))).ip, "198.51.100.7");
      const added = await daemon.engine.ignoreAdd("198.51.100.0/24", "ssh");
      deepEqual(added.unbanned, [{ ip: "198.51.100.7", jail: "ssh" }]);
      const lifted = await audit.next((r) => r.event === "unban");
      deepEqual([lifted.ip, lifted.reason], ["198.51.100.7", "address ignored by client"]);

      fail("198.51.100.8", 3);
      fail("203.0.113.9", 3);
      equal((await audit.next(ban("ssh"))).ip, "203.0.113.9");
      // One batch or two: the audits of a batch are all written before the first is awaited.
      deepEqual(bansOf("198.51.100.8"), ["watch"], "ssh ignores the network; watch does not");

      const stopped = await daemon.engine.jailStop("ssh");
      deepEqual(stopped.unbanned, [{ ip: "203.0.113.9", jail: "ssh" }]);
      const before = await daemon.engine.statusJail("ssh");
      fail("203.0.113.10", 3);
      await audit.next((r) => ban("watch")(r) && r.ip === "203.0.113.10"); // the batch was read
      const during = await daemon.engine.statusJail("ssh");
      equal(during.lines_total, before.lines_total + 3, "a stopped jail still reads its lines");
      equal(during.failures_total, before.failures_total, "a stopped jail counted failures");
      equal((await daemon.engine.jailStart("ssh")).stopped, false);
      fail("203.0.113.11", 3);
      equal((await audit.next(ban("ssh"))).ip, "203.0.113.11");
      deepEqual(bansOf("203.0.113.10"), ["watch"], "a stopped jail banned");
    } finally {
      await daemon.stop();
    }
  })());

Deno.test("pipeline: a restart resumes each source from the position the state file saved", () =>
  (async () => {
    const cfg = config(SSH(3));
    const first = await start(cfg, cfg);
    first.fail("198.51.100.1", 3);
    equal((await first.audit.next((r) => r.event === "ban")).ip, "198.51.100.1");
    await first.daemon.stop();
    first.fail("198.51.100.2", 3); // appended while the daemon is down
    const again = await start(cfg, cfg, first.clock, first.logs, first.state);
    try {
      equal((await again.audit.next((r) => r.event === "ban")).ip, "198.51.100.2");
      equal(
        (await again.daemon.engine.statusJail("ssh")).lines_total,
        3,
        "only the lines appended while down were read",
      );
      deepEqual(await again.kernel(), ["198.51.100.1", "198.51.100.2"], "the saved ban re-added");
    } finally {
      await again.daemon.stop();
    }
  })());

Deno.test("pipeline: a source the inline host cannot open is the daemon's fatal, not a hang", () =>
  (async () => {
    const other = SSH_JOURNAL.replace(SSH_UNIT, "_SYSTEMD_UNIT=none.service");
    const cfg = config(SSH(3) + other);
    const { daemon } = await start(cfg, cfg);
    try {
      equal(await daemon.fatal, "no memory log named _SYSTEMD_UNIT=none.service");
    } finally {
      await daemon.stop();
    }
  })());

Deno.test("pipeline: a line two readings disagree on counts for nobody and is counted as ambiguous", () =>
  (async () => {
    const cfg = config(SSH(1));
    const { daemon, audit, fail, logs, clock } = await start(cfg, cfg);
    try {
      // a password failure has no `: INFO`, but the reading is kept: two addresses, no verdict
      const stamp = new Date(clock.now()).toISOString();
      const planted =
        `${stamp} web1 sshd[77]: Failed password for invalid user x from 192.0.2.9 port 2 ssh2: from 198.51.100.66 port 1 ssh2`;
      logs.get(AUTH)!.append([planted], [clock.now()]);
      fail("203.0.113.5", 1); // read after the planted line: its ban shows the line was read
      equal((await audit.next((r) => r.event === "ban")).ip, "203.0.113.5");
      const ssh = await daemon.engine.statusJail("ssh");
      deepEqual([ssh.lines_total, ssh.ambiguous_total, ssh.failures_total], [2, 1, 1]);
      deepEqual(audit.all.filter((r) => r.event === "ban").map((r) => r.ip), ["203.0.113.5"]);
    } finally {
      await daemon.stop();
    }
  })());
