/**
 * Log sources through the REAL running daemon (log-only backend): every file case of issue 4
 * (appends, rename rotation, copytruncate, delete and recreate, files and directories that do not
 * exist yet, glob matches that come and go, jails sharing a file or a directory, partial lines,
 * over-long lines, invalid UTF-8) and the read positions across restarts (changes while down, a
 * restart in the middle of a rotation, `kill -9`, also under load) and across a reload.
 *
 * Every phase uses its own addresses, 3 failures each with `maxretry = 3`, so each address is
 * banned exactly once at its third line. The checks are exact: the set of bans this process
 * decided (its audit records), and `lines_total` / `failures_total` of `client status JAIL`
 * (counters of the current process), taken after a quiet period longer than the sources' safety
 * re-check, so a line read twice would show.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { decodePosition } from "../src/sources/mod.ts";
import {
  client,
  makeConfig,
  privateGlobal,
  type RunningDaemon,
  startDaemon,
  waitForSaved,
} from "./_daemon.ts";
import { waitUntil } from "./_wait.ts";
import {
  append,
  auditBans,
  droppedLines,
  failLine,
  failLines,
  jailCounts,
  sleep,
} from "./_daemon_sources.ts";

/** Longer than the file source's safety re-check (2 s): a double read would have happened. */
const QUIET_MS = 2_300;
const NET = "192.0.2";

/**
 * A jail of these tests. `ignoreself = false`: the daemon runs in this machine's namespace, whose
 * own address (eth0) may be one of the test addresses (192.0.2.2 here).
 */
function jail(name: string, logpath: string | string[], extra = ""): string {
  const paths = (Array.isArray(logpath) ? logpath : [logpath]).map((p) => `"${p}"`).join(", ");
  return `[jails.${name}]
filter = "sshd"
logpath = [${paths}]
maxretry = 3
findtime = "10m"
bantime = "1h"
ignoreself = false
${extra}
`;
}

/** Waits for this process's audit record banning `ip` in `jailName`. */
function banned(d: RunningDaemon, jailName: string, ip: string): Promise<unknown> {
  return d.waitFor(
    (r) => r["fail2zig_event"] === "ban" && r["ip"] === ip && r["jail"] === jailName,
    15_000,
  );
}

/** `client status` of every jail, in parallel (the client rate limit allows a burst of 40). */
async function countsOf(
  sock: string,
  jails: string[],
): Promise<Record<string, [number, number]>> {
  const all = await Promise.all(jails.map((j) => jailCounts(sock, j)));
  return Object.fromEntries(jails.map((j, i) => [j, [all[i]!.lines, all[i]!.failures]]));
}

/** Expected `"jail ip"` strings for addresses `NET.n` of `jailName`. */
function bansOf(jailName: string, ...hosts: number[]): string[] {
  return hosts.map((h) => `${jailName} ${NET}.${h}`);
}

async function cleanup(daemon: RunningDaemon | null, dir: string): Promise<void> {
  try {
    if (daemon !== null) await daemon.stop("SIGKILL");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the live daemon counts every line exactly once through appends, rotations, globs, shared files, partial, long and invalid lines", async () => {
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d, 'save_interval = "50ms"\nline_max_bytes = 512')}
${jail("append", join(d, "append.log"))}
${jail("rename", join(d, "rotate.log"))}
${jail("copytrunc", join(d, "ct.log"))}
${jail("recreate", join(d, "del.log"))}
${jail("later", join(d, "later.log"), `missing_logpath = "warn"`)}
${jail("laterdir", join(d, "notyet", "app.log"), `missing_logpath = "warn"`)}
${jail("glob", join(d, "glob", "*.log"))}
${jail("shareda", join(d, "shared.log"))}
${jail("sharedb", join(d, "shared.log"))}
${jail("sharedc", join(d, "shared.log"), 'read_from = "start"')}
${jail("dira", join(d, "samedir", "a.log"))}
${jail("dirb", join(d, "samedir", "b.log"))}
${jail("partial", join(d, "partial.log"))}
${jail("long", join(d, "long.log"))}
${jail("utf8", join(d, "utf8.log"))}
`
  );
  const p = (name: string) => join(dir, name);
  // Existing content before the first start is not read (read_from = "end").
  append(p("append.log"), failLines(`${NET}.250`, 3));
  await Deno.mkdir(p("glob"));
  append(p("glob/one.log"), failLines(`${NET}.251`, 3));
  // ... except by a jail with read_from = "start" (its own reader and positions)
  append(p("shared.log"), failLines(`${NET}.61`, 3));
  await Deno.mkdir(p("samedir"));
  for (const f of ["rotate.log", "ct.log", "del.log", "samedir/a.log"]) append(p(f), "");
  for (const f of ["samedir/b.log", "partial.log", "long.log", "utf8.log"]) append(p(f), "");

  let daemon: RunningDaemon | null = null;
  try {
    daemon = await startDaemon(dir, config);
    const d = daemon;
    const sock = p("fail2zig.sock");

    // appends: one write of three lines, then one line per write
    append(p("append.log"), failLines(`${NET}.1`, 3));
    for (let i = 0; i < 3; i++) append(p("append.log"), failLine(`${NET}.2`, i));

    // rename rotation (logrotate `create`): late writes to the renamed file still count
    append(p("rotate.log"), failLines(`${NET}.10`, 3));
    await banned(d, "rename", `${NET}.10`);
    await Deno.rename(p("rotate.log"), p("rotate.log.1"));
    append(p("rotate.log.1"), failLines(`${NET}.11`, 3));
    append(p("rotate.log"), failLines(`${NET}.12`, 3));

    // copytruncate: the copy is not read; the truncated file is read from its start
    append(p("ct.log"), failLines(`${NET}.20`, 3));
    await banned(d, "copytrunc", `${NET}.20`);
    await Deno.copyFile(p("ct.log"), p("ct.log.1"));
    await Deno.truncate(p("ct.log"), 0);
    // already longer than the old offset when the daemon looks (4 lines > 3)
    append(p("ct.log"), failLine(`${NET}.22`) + failLines(`${NET}.21`, 3));

    // delete and recreate
    append(p("del.log"), failLines(`${NET}.30`, 3));
    await banned(d, "recreate", `${NET}.30`);
    await Deno.remove(p("del.log"));
    append(p("del.log"), failLines(`${NET}.31`, 3));

    // a file, and a directory, that did not exist at start: read from their first line
    append(p("later.log"), failLines(`${NET}.40`, 3));
    await Deno.mkdir(p("notyet"));
    append(p("notyet/app.log"), failLines(`${NET}.41`, 3));

    // glob matches come and go; a non-matching name is not read
    append(p("glob/one.log"), failLines(`${NET}.50`, 3));
    await banned(d, "glob", `${NET}.50`);
    append(p("glob/two.log"), failLines(`${NET}.51`, 3));
    append(p("glob/skip.txt"), failLines(`${NET}.58`, 3));
    await Deno.remove(p("glob/one.log"));
    append(p("glob/three.log"), failLines(`${NET}.52`, 3));

    // two jails on one file: each counts every line; two jails on one directory: each its own
    append(p("shared.log"), failLines(`${NET}.60`, 3));
    append(p("samedir/a.log"), failLines(`${NET}.70`, 3));
    append(p("samedir/b.log"), failLines(`${NET}.71`, 3));

    // a partial last line waits for its newline
    const third = failLine(`${NET}.80`, 2);
    append(p("partial.log"), failLines(`${NET}.80`, 2) + third.slice(0, 40));
    await waitUntil(async () => (await jailCounts(sock, "partial")).lines === 2, "2 lines");
    await sleep(300);
    append(p("partial.log"), third.slice(40, 70));
    await sleep(300);
    deepEqual(await jailCounts(sock, "partial"), { lines: 2, failures: 2 }, "partial line held");
    append(p("partial.log"), third.slice(70));

    // lines over line_max_bytes (512) are dropped and counted, also when written in pieces
    const long = (ip: string, userLen: number) =>
      failLine(ip).replace("for root", `for invalid user ${"x".repeat(userLen)}`);
    append(p("long.log"), failLine(`${NET}.90`, 0));
    const big = long(`${NET}.91`, 2000);
    append(p("long.log"), big.slice(0, 300));
    await sleep(200);
    append(p("long.log"), big.slice(300));
    append(p("long.log"), failLine(`${NET}.90`, 1) + long(`${NET}.91`, 450));
    append(p("long.log"), failLine(`${NET}.90`, 2));

    // invalid UTF-8: no crash, no merged or shifted lines
    const enc = new TextEncoder();
    const ts = () => new Date().toISOString();
    append(
      p("utf8.log"),
      new Uint8Array([
        ...enc.encode(`${ts()} web1 sshd[1]: Failed password for invalid user ab`),
        0xff,
        0xfe,
        0xc3,
        ...enc.encode(`cd from ${NET}.100 port 22 ssh2\n`),
        ...enc.encode(
          `${ts()} web1 sshd[1]: Failed password for root from ${NET}.101 port 22 ssh2`,
        ),
        0xc3, // a truncated sequence right before the newline: this line does not match
        0x0a,
        0xff,
        0xfe,
        0xfd,
        0xe2,
        0x82,
        0x0a,
        ...enc.encode(failLine(`${NET}.100`, 1)),
        ...enc.encode(`${ts()} web1 sshd[1]: Failed password for invalid user `),
        0xc3,
        ...enc.encode(` from ${NET}.100 port 22 ssh2\n`),
      ]),
    );

    const expected = [
      ...bansOf("append", 1, 2),
      ...bansOf("rename", 10, 11, 12),
      ...bansOf("copytrunc", 20, 21),
      ...bansOf("recreate", 30, 31),
      ...bansOf("later", 40),
      ...bansOf("laterdir", 41),
      ...bansOf("glob", 50, 51, 52),
      ...bansOf("shareda", 60),
      ...bansOf("sharedb", 60),
      ...bansOf("sharedc", 60, 61),
      ...bansOf("dira", 70),
      ...bansOf("dirb", 71),
      ...bansOf("partial", 80),
      ...bansOf("long", 90),
      ...bansOf("utf8", 100),
    ].sort();
    await waitUntil(() => auditBans(d.err).length >= expected.length, "every ban", {
      timeoutMs: 15_000,
    }).catch(() => {}); // the exact comparison below shows what is missing
    await sleep(QUIET_MS);
    deepEqual(auditBans(d.err), expected);
    deepEqual(
      await countsOf(sock, [
        "append",
        "rename",
        "copytrunc",
        "recreate",
        "later",
        "laterdir",
        "glob",
        "shareda",
        "sharedb",
        "sharedc",
        "dira",
        "dirb",
        "partial",
        "long",
        "utf8",
      ]),
      {
        append: [6, 6],
        rename: [9, 9],
        copytrunc: [7, 7],
        recreate: [6, 6],
        later: [3, 3],
        laterdir: [3, 3],
        glob: [9, 9],
        shareda: [3, 3],
        sharedb: [3, 3],
        sharedc: [6, 6],
        dira: [3, 3],
        dirb: [3, 3],
        partial: [3, 3],
        long: [3, 3],
        utf8: [5, 3],
      },
    );
    equal(droppedLines(d.err), 2, "both over-long lines reported as dropped");
    const stopping = daemon;
    daemon = null;
    equal(await stopping.stop(), 0);
  } finally {
    await cleanup(daemon, dir);
  }
});

Deno.test("a restarted daemon reads exactly what changed while it was down, also in the middle of a rotation", async () => {
  const files = ["resume", "rotdown", "ctdown", "truncdown", "midrot", "drain", "gone"];
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d, 'save_interval = "50ms"')}
${files.map((f) => jail(f, join(d, `${f}.log`))).join("\n")}
${jail("fromstart", join(d, "fromstart.log"), 'read_from = "start"')}`
  );
  const p = (name: string) => join(dir, name);
  for (const f of files) append(p(`${f}.log`), "");
  // read_from = "start": existing lines are read at the first start only
  append(p("fromstart.log"), failLines(`${NET}.80`, 3));
  let daemon: RunningDaemon | null = null;
  try {
    daemon = await startDaemon(dir, config);
    const d1 = daemon;
    const sock = p("fail2zig.sock");
    files.forEach((f, i) => append(p(`${f}.log`), failLines(`${NET}.${10 * (i + 1)}`, 3)));
    for (let i = 0; i < files.length; i++) await banned(d1, files[i]!, `${NET}.${10 * (i + 1)}`);
    await banned(d1, "fromstart", `${NET}.80`);
    // midrot: renamed while running, not yet recreated when the daemon stops
    await Deno.rename(p("midrot.log"), p("midrot.log.1"));
    append(p("midrot.log.1"), failLines(`${NET}.51`, 3));
    // drain: rotated while running; the old file is still being drained when the daemon stops
    await Deno.rename(p("drain.log"), p("drain.log.1"));
    append(p("drain.log"), failLines(`${NET}.61`, 3));
    append(p("drain.log.1"), failLines(`${NET}.62`, 3));
    await banned(d1, "midrot", `${NET}.51`);
    await banned(d1, "drain", `${NET}.61`);
    await banned(d1, "drain", `${NET}.62`);
    daemon = null;
    equal(await d1.stop(), 0);
    deepEqual(auditBans(d1.err).length, files.length + 4);

    // ---- while down ----
    append(p("resume.log"), failLines(`${NET}.11`, 3));
    append(p("rotdown.log"), failLines(`${NET}.21`, 3));
    await Deno.rename(p("rotdown.log"), p("rotdown.log.1"));
    append(p("rotdown.log"), failLines(`${NET}.22`, 3));
    append(p("ctdown.log"), failLines(`${NET}.31`, 3));
    await Deno.copyFile(p("ctdown.log"), p("ctdown.log.1"));
    await Deno.truncate(p("ctdown.log"), 0);
    append(p("ctdown.log"), failLines(`${NET}.32`, 3));
    await Deno.truncate(p("truncdown.log"), 0);
    append(p("truncdown.log"), failLines(`${NET}.41`, 3));
    append(p("midrot.log.1"), failLines(`${NET}.52`, 3));
    append(p("midrot.log"), failLines(`${NET}.53`, 3));
    append(p("drain.log.1"), failLines(`${NET}.63`, 3));
    append(p("drain.log"), failLines(`${NET}.64`, 3));
    await Deno.remove(p("gone.log"));
    append(p("gone.log"), failLines(`${NET}.71`, 3));
    append(p("fromstart.log"), failLines(`${NET}.81`, 3));

    daemon = await startDaemon(dir, config);
    const d2 = daemon;
    append(p("resume.log"), failLines(`${NET}.12`, 3));
    const expected = [
      ...bansOf("resume", 11, 12),
      ...bansOf("rotdown", 21, 22),
      ...bansOf("ctdown", 31, 32),
      ...bansOf("truncdown", 41),
      ...bansOf("midrot", 52, 53),
      ...bansOf("drain", 63, 64),
      ...bansOf("gone", 71),
      ...bansOf("fromstart", 81),
    ].sort();
    await waitUntil(() => auditBans(d2.err).length >= expected.length, "every ban", {
      timeoutMs: 15_000,
    }).catch(() => {}); // the exact comparison below shows what is missing
    await sleep(QUIET_MS);
    deepEqual(auditBans(d2.err), expected, "new bans after restart");
    // counters of the new process: only what it read
    deepEqual(await countsOf(sock, [...files, "fromstart"]), {
      resume: [6, 6],
      rotdown: [6, 6],
      ctdown: [6, 6],
      truncdown: [3, 3],
      midrot: [6, 6],
      drain: [6, 6],
      gone: [3, 3],
      fromstart: [3, 3],
    });
    ok(!d2.err.some((r) => r["msg"] === "state file discarded; starting empty"));
    daemon = null;
    equal(await d2.stop(), 0);
  } finally {
    await cleanup(daemon, dir);
  }
});

Deno.test("after kill -9 the daemon resumes from the persisted position: nothing lost, nothing counted twice", async () => {
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d, 'save_interval = "50ms"')}\n${jail("k9", join(d, "k9.log"))}`
  );
  const log = join(dir, "k9.log");
  const sock = join(dir, "fail2zig.sock");
  append(log, "");
  let daemon: RunningDaemon | null = null;
  try {
    // Round 1: the position is saved before the kill; lines appended and a rotation while down.
    daemon = await startDaemon(dir, config);
    const d1 = daemon;
    append(log, failLines(`${NET}.1`, 3));
    await banned(d1, "k9", `${NET}.1`);
    await waitUntil(async () => (await jailCounts(sock, "k9")).lines === 3, "3 lines");
    // the position and the ban are persisted
    const end = Deno.statSync(log).size;
    await waitForSaved(
      join(dir, "state.bin"),
      "the ban and the position at the end",
      (s) =>
        s.bans.some((b) => b.jail === "k9" && b.ip === `${NET}.1`) &&
        s.positions.some((p) => {
          const pos = decodePosition(p.data);
          return pos.kind === "file" && pos.path === log && pos.offset === end;
        }),
    );
    daemon = null;
    await d1.stop("SIGKILL");
    append(log, failLines(`${NET}.2`, 3));
    await Deno.rename(log, `${log}.1`);
    append(log, failLines(`${NET}.3`, 3));

    daemon = await startDaemon(dir, config);
    const d2 = daemon;
    await waitUntil(() => auditBans(d2.err).length >= 2, "2 bans");
    await sleep(QUIET_MS);
    deepEqual(auditBans(d2.err), bansOf("k9", 2, 3));
    deepEqual(await jailCounts(sock, "k9"), { lines: 6, failures: 6 });
    ok(
      d2.out.some((r) => r["event"] === "ban" && r["ip"] === `${NET}.1`),
      "the persisted ban is restored",
    );

    // Round 2: killed right after an append, before a save may have happened. The lines are
    // read by one process or the other (or by both, as far as the saved position allows).
    append(log, failLines(`${NET}.4`, 3));
    daemon = null;
    await d2.stop("SIGKILL");
    daemon = await startDaemon(dir, config);
    const d3 = daemon;
    append(log, failLines(`${NET}.5`, 3));
    await banned(d3, "k9", `${NET}.5`);
    // the lines appended before the kill are not lost: banned by one process or the other
    await waitUntil(
      () => auditBans([...d2.err, ...d3.err]).includes(`k9 ${NET}.4`),
      `the ban of ${NET}.4`,
    );
    const c = await jailCounts(sock, "k9");
    ok(c.lines === 3 || c.lines === 6, `3 new lines, plus at most the 3 unsaved ones: ${c.lines}`);
    equal(d3.err.filter((r) => r["msg"] === "state file discarded; starting empty").length, 0);
    daemon = null;
    equal(await d3.stop(), 0);
  } finally {
    await cleanup(daemon, dir);
  }
});

/**
 * Regression: the parser Worker once kept ONE back-pressure resolver for all its FileSources, so
 * with a `read_from = "end"` and a `read_from = "start"` jail (two sources) both blocked on
 * credit, the second overwrote the first's resolver and the first never read again (observed:
 * 665 of 200,000 lines, stuck for 20 s).
 */
Deno.test({
  name: "two read_from groups appended at full speed are both read completely",
  fn: async () => {
    const { dir, config } = await makeConfig((d) =>
      `${privateGlobal(d)}
${jail("e", join(d, "a.log")).replace("maxretry = 3", "maxretry = 1000")}
${jail("s", join(d, "b.log"), 'read_from = "start"').replace("maxretry = 3", "maxretry = 1000")}`
    );
    const LINES = 100_000;
    let text = "";
    for (let i = 0; i < LINES; i++) {
      text += failLine(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, i);
    }
    Deno.writeTextFileSync(join(dir, "sample"), text);
    append(join(dir, "a.log"), "");
    append(join(dir, "b.log"), "");
    let daemon: RunningDaemon | null = null;
    try {
      daemon = await startDaemon(dir, config);
      const cat = (f: string) =>
        new Deno.Command("bash", {
          args: ["-c", 'cat -- "$1" >> "$2"', "bash", join(dir, "sample"), join(dir, f)],
        }).output();
      await Promise.all([cat("a.log"), cat("b.log")]);
      const sock = join(dir, "fail2zig.sock");
      await waitUntil(
        async () =>
          (await jailCounts(sock, "e")).lines === LINES &&
          (await jailCounts(sock, "s")).lines === LINES,
        "both jails to see every line",
        { timeoutMs: 20_000, stepMs: 500 },
      ).catch(() => {});
      deepEqual(
        [(await jailCounts(sock, "e")).lines, (await jailCounts(sock, "s")).lines],
        [LINES, LINES],
      );
    } finally {
      await cleanup(daemon, dir);
    }
  },
});

Deno.test("lines appended while the daemon reloads its config are counted exactly once", async () => {
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d, 'save_interval = "50ms"')}
${jail("r", join(d, "r.log")).replace("maxretry = 3", "maxretry = 1000")}
${jail("rs", join(d, "rs.log"), 'read_from = "start"').replace("maxretry = 3", "maxretry = 1000")}`
  );
  const sock = join(dir, "fail2zig.sock");
  append(join(dir, "r.log"), failLines(`${NET}.9`, 5)); // before the first start: not read by r
  append(join(dir, "rs.log"), failLines(`${NET}.9`, 5)); // read by rs, once
  let daemon: RunningDaemon | null = null;
  try {
    daemon = await startDaemon(dir, config);
    const writer = (async () => {
      for (let i = 0; i < 40; i++) {
        append(join(dir, "r.log"), failLines(`${NET}.${10 + i}`, 5));
        append(join(dir, "rs.log"), failLines(`${NET}.${10 + i}`, 5));
        await sleep(15);
      }
    })();
    await sleep(150);
    const reloads = [await client(sock, "reload"), await client(sock, "reload")];
    await writer;
    deepEqual(reloads.map((r) => r.code), [0, 0]);
    await waitUntil(
      async () =>
        (await jailCounts(sock, "r")).lines >= 200 && (await jailCounts(sock, "rs")).lines >= 205,
      "every line",
      { stepMs: 200 },
    ).catch(() => {});
    await sleep(QUIET_MS);
    deepEqual(await countsOf(sock, ["r", "rs"]), { r: [200, 200], rs: [205, 205] });
    const stopping = daemon;
    daemon = null;
    equal(await stopping.stop(), 0);
  } finally {
    await cleanup(daemon, dir);
  }
});

Deno.test("kill -9 under load: the saved bans and the saved position agree, so the restart re-reads exactly the rest", async () => {
  // maxretry 1 and one address per line: every line read is one ban, and the state file holds
  // bans and read position from the same moment. The new process must read exactly the lines
  // past that position: N − (bans it restored), and ban exactly the addresses not restored.
  const N = 20_000;
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d, 'save_interval = "50ms"')}\n${
      jail("load", join(d, "load.log")).replace("maxretry = 3", "maxretry = 1")
    }`
  );
  const log = join(dir, "load.log");
  const sock = join(dir, "fail2zig.sock");
  const ipOf = (i: number) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
  const chunk = (from: number, to: number) => {
    let s = "";
    for (let i = from; i < to; i++) s += failLine(ipOf(i), i);
    return s;
  };
  append(log, "");
  let daemon: RunningDaemon | null = null;
  try {
    daemon = await startDaemon(dir, config);
    const d1 = daemon;
    let written = 0;
    const bansOut = () => d1.out.filter((r) => r["event"] === "ban").length;
    const saved = () => {
      try {
        return Deno.statSync(join(dir, "state.bin")).size > 0;
      } catch {
        return false;
      }
    };
    // kill once half the bans are out and a save happened (the writer keeps going meanwhile)
    while (!(bansOut() >= N / 2 && saved())) {
      if (written < N) {
        append(log, chunk(written, written + 500));
        written += 500;
      }
      await sleep(20);
    }
    daemon = null;
    await d1.stop("SIGKILL"); // in the middle of reading and saving
    append(log, chunk(written, N)); // the rest, while down

    daemon = await startDaemon(dir, config);
    const d2 = daemon;
    const restored = d2.err.find((r) => r["msg"] === "state restored")?.["bans"] as number;
    ok(restored > 0 && restored < N, `restored ${restored} bans`);
    await waitUntil(() => auditBans(d2.err).length >= N - restored, "the remaining bans", {
      timeoutMs: 30_000,
      stepMs: 100,
    }).catch(() => {});
    await sleep(1_000);
    const c = await jailCounts(sock, "load");
    deepEqual(
      { lines: c.lines, failures: c.failures, bans: auditBans(d2.err).length },
      { lines: N - restored, failures: N - restored, bans: N - restored },
    );
    const st = (await client(sock, "status", "load")).json!;
    equal(st["active_bans"], N, "every address banned once across both processes");
    const stopping = daemon;
    daemon = null;
    equal(await stopping.stop(), 0);
  } finally {
    await cleanup(daemon, dir);
  }
});

/**
 * Regression: over-long lines from FILE sources were only logged ("lines dropped" warning) and
 * `fail2zig_lines_dropped_total{reason="too_long"}` stayed 0; journal drops were counted.
 */
Deno.test({
  name: "metrics count the lines a file jail read, matched and dropped as client status does",
  fn: async () => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const { dir, config } = await makeConfig((d) =>
      privateGlobal(d, "line_max_bytes = 256").replace(
        'metrics_bind = ""',
        `metrics_bind = "127.0.0.1:${port}"`,
      ) + jail("m", join(d, "m.log"))
    );
    const log = join(dir, "m.log");
    append(log, "");
    let daemon: RunningDaemon | null = null;
    try {
      daemon = await startDaemon(dir, config);
      const d = daemon;
      append(log, failLine(`${NET}.1`, 0) + "x".repeat(1000) + "\n");
      append(log, `${"y".repeat(300)}\n` + failLines(`${NET}.2`, 3) + "not a failure\n");
      await banned(d, "m", `${NET}.2`);
      await waitUntil(() => droppedLines(d.err) >= 2, "2 dropped lines").catch(() => {});
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const metric = (name: string) =>
        Number(text.split("\n").find((x) => x.startsWith(name + " "))?.split(" ")[1] ?? NaN);
      deepEqual(await jailCounts(join(dir, "fail2zig.sock"), "m"), { lines: 5, failures: 4 });
      deepEqual(
        {
          parsed: metric('fail2zig_lines_parsed_total{jail="m"}'),
          matched: metric('fail2zig_lines_matched_total{jail="m"}'),
          dropped: metric('fail2zig_lines_dropped_total{reason="too_long"}'),
          warned: droppedLines(d.err),
        },
        { parsed: 5, matched: 4, dropped: 2, warned: 2 },
      );
      const stopping = daemon;
      daemon = null;
      equal(await stopping.stop(), 0);
    } finally {
      await cleanup(daemon, dir);
    }
  },
});

Deno.test("a 64 MiB line without a newline is dropped with memory bounded, and the next line counts", async () => {
  const { dir, config } = await makeConfig((d) =>
    `${privateGlobal(d)}\n${jail("big", join(d, "big.log"))}`
  );
  const log = join(dir, "big.log");
  const sock = join(dir, "fail2zig.sock");
  append(log, "");
  let daemon: RunningDaemon | null = null;
  try {
    daemon = await startDaemon(dir, config);
    const d = daemon;
    const mib = new TextEncoder().encode(`from ${NET}.66 `.repeat(65536).slice(0, 1 << 20));
    const f = Deno.openSync(log, { append: true });
    try {
      for (let i = 0; i < 64; i++) {
        let off = 0;
        while (off < mib.length) off += f.writeSync(mib.subarray(off));
        if (i % 8 === 7) await sleep(20); // let the daemon read while the line grows
      }
      f.writeSync(new TextEncoder().encode("\n" + failLines(`${NET}.67`, 3)));
    } finally {
      f.close();
    }
    await banned(d, "big", `${NET}.67`);
    await waitUntil(() => droppedLines(d.err) >= 1, "the drop warning").catch(() => {});
    deepEqual(await jailCounts(sock, "big"), { lines: 3, failures: 3 });
    equal(droppedLines(d.err), 1);
    // the process's peak resident memory (VmHWM), as the memory ceiling is defined
    // (Deno gates /proc behind --allow-all, so `cat` reads it)
    const status = new TextDecoder().decode(
      (await new Deno.Command("cat", { args: [`/proc/${d.process.pid}/status`] }).output()).stdout,
    );
    const hwmKb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
    ok(hwmKb < 128 * 1024, `peak resident memory ${hwmKb} kB stays under the 128 MiB ceiling`);
    deepEqual(auditBans(d.err), bansOf("big", 67));
    const stopping = daemon;
    daemon = null;
    equal(await stopping.stop(), 0);
  } finally {
    await cleanup(daemon, dir);
  }
});
