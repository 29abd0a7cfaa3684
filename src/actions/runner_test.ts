import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  type ActionConfig,
  type ActionEvent,
  ActionRunner,
  type Fields,
  STOP_WAIT_MS,
  substitute,
} from "./mod.ts";
import { Logger } from "../log/mod.ts";
import { smtpServer } from "./testdata/smtp_server.ts";
import { waitUntil } from "../../tests/_wait.ts";

const BAN: ActionEvent = {
  kind: "ban",
  ip: "203.0.113.7",
  prefix: 32,
  jail: "sshd",
  durationMs: 600_000,
  origin: "/var/log/auth.log; rm -rf / $(id)",
};

function capture(): { logger: Logger; records: { msg: string; fields: Fields }[] } {
  const records: { msg: string; fields: Fields }[] = [];
  const logger = new Logger("warn", [{
    write: (_l, msg, fields) => records.push({ msg, fields }),
  }]);
  return { logger, records };
}

/** A script in a temporary directory that appends its arguments, one per line, to `out`. */
async function recorder(
  dir: string,
  body = 'for a in "$@"; do printf "%s\\n" "$a"; done >> "$OUT"',
) {
  const path = `${dir}/record.sh`;
  const out = `${dir}/out.txt`;
  await Deno.writeTextFile(path, `#!/bin/sh\nOUT=${out}\n${body}\n`);
  await Deno.chmod(path, 0o755);
  return { path, out };
}

function exec(name: string, onBan: string[], extra: Partial<ActionConfig> = {}): ActionConfig {
  return {
    name,
    type: "exec",
    onBan,
    onUnban: [],
    timeoutMs: 5000,
    queue: 1000,
    ...extra,
  } as ActionConfig;
}

Deno.test("substitute() replaces whole-argument placeholders only", () => {
  deepEqual(
    substitute(
      ["/bin/x", "{ip}", "{prefix}", "{jail}", "{duration_s}", "{origin}", "--ip={ip}"],
      BAN,
    ),
    ["/bin/x", "203.0.113.7", "32", "sshd", "600", BAN.origin, "--ip={ip}"],
  );
  equal(substitute(["{duration_s}"], { ...BAN, durationMs: null })[0], "-1");
});

Deno.test("an exec action runs its argv without a shell: each value stays one argument", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { path, out } = await recorder(dir);
    const { logger, records } = capture();
    const r = new ActionRunner({
      actions: [exec("note", [path, "{ip}", "{jail}", "{duration_s}", "{origin}"], {
        onUnban: [path, "unban", "{ip}"],
      } as Partial<ActionConfig>)],
      logger,
    });
    r.dispatch(["note"], BAN);
    r.dispatch(["note"], { ...BAN, kind: "unban", durationMs: null });
    await r.settle();
    equal(
      await Deno.readTextFile(out),
      `203.0.113.7\nsshd\n600\n${BAN.origin}\nunban\n203.0.113.7\n`,
    );
    deepEqual(r.stats().note, { ok: 2, failed: 0, dropped: 0, queued: 0 });
    deepEqual(records, []);
    await Deno.stat(`${dir}/rm`).then(() => ok(false, "the origin ran as a command"), () => {});
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failing or missing program is counted and logged with its stderr", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { path } = await recorder(dir, 'echo "no route to the API" >&2; exit 3');
    const { logger, records } = capture();
    const outcomes: string[] = [];
    const r = new ActionRunner({
      actions: [exec("bad", [path]), exec("gone", [`${dir}/missing`])],
      logger,
      onOutcome: (a, res) => outcomes.push(`${a} ${res}`),
    });
    r.dispatch(["bad", "gone"], BAN);
    await r.settle();
    deepEqual(outcomes.sort(), ["bad failed", "gone failed"]);
    const bad = records.find((x) => x.fields.action === "bad")!;
    equal(bad.msg, "action failed");
    match(String(bad.fields.error), /exited 3: no route to the API$/);
    match(String(records.find((x) => x.fields.action === "gone")!.fields.error), /cannot run/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a hanging action never blocks dispatch: it is killed at its timeout, counted failed", async () => {
  const { logger, records } = capture();
  const r = new ActionRunner({
    actions: [exec("slow", ["/bin/sleep", "30"], { timeoutMs: 300 })],
    logger,
  });
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) r.dispatch(["slow"], BAN);
  const dispatchMs = performance.now() - t0;
  ok(dispatchMs < 50, `100 dispatches took ${dispatchMs} ms`);
  await r.stop(); // drops the 99 waiting, waits for the running one (bounded by its timeout)
  const took = performance.now() - t0;
  ok(took < 5000, `stopped after ${took} ms`);
  equal(r.stats().slow!.failed, 1);
  match(String(records[0]!.fields.error), /timed out after 300 ms/);
});

Deno.test("the queue is bounded: past `queue` waiting runs the oldest is dropped and counted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { path, out } = await recorder(dir, 'sleep 0.2; printf "%s\\n" "$1" >> "$OUT"');
    const { logger, records } = capture();
    const r = new ActionRunner({ actions: [exec("q", [path, "{ip}"], { queue: 2 })], logger });
    for (let i = 1; i <= 10; i++) r.dispatch(["q"], { ...BAN, ip: `192.0.2.${i}` });
    deepEqual(r.stats().q, { ok: 0, failed: 0, dropped: 7, queued: 2 });
    await r.settle();
    // The first was running; of the rest only the two newest waited.
    equal(await Deno.readTextFile(out), "192.0.2.1\n192.0.2.9\n192.0.2.10\n");
    deepEqual(r.stats().q, { ok: 3, failed: 0, dropped: 7, queued: 0 });
    equal(records.filter((x) => x.msg.startsWith("action queue full")).length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function smtp(port: number, extra: Partial<ActionConfig> = {}): ActionConfig {
  return {
    name: "mail",
    type: "smtp",
    server: { hostname: "127.0.0.1", port },
    from: "fail2zig@host.example",
    to: ["admin@example.org", "sec@example.org"],
    timeoutMs: 5000,
    queue: 10,
    ...extra,
  } as ActionConfig;
}

Deno.test("an smtp action mails each ban through the server (not unbans)", async () => {
  const srv = smtpServer();
  try {
    const { logger, records } = capture();
    const r = new ActionRunner({ actions: [smtp(srv.port)], logger });
    r.dispatch(["mail"], { ...BAN, origin: ".\r\nRCPT TO:<evil@example.com>" });
    r.dispatch(["mail"], { ...BAN, kind: "unban" });
    await r.settle();
    deepEqual(records, []);
    // The server files a session when it sees the client close: wait for that.
    await waitUntil(() => srv.sessions.length > 0, "a mail session", { stepMs: 10 });
    equal(srv.sessions.length, 1, "one mail: unbans send none");
    const s = srv.sessions[0]!;
    match(
      s,
      /^EHLO host\.example\nMAIL FROM:<fail2zig@host\.example>\nRCPT TO:<admin@example\.org>\nRCPT TO:<sec@example\.org>\nDATA\n/,
    );
    match(s, /\nSubject: \[fail2zig\] sshd: banned 203\.0\.113\.7\n/);
    match(s, /\nfail2zig banned 203\.0\.113\.7 in jail sshd for 600 s\.\n/);
    match(s, /\nOrigin: \. {2}RCPT TO:<evil@example\.com>\n/, "control characters are blanked");
    equal(s.split("\n").filter((l) => l.startsWith("RCPT")).length, 2);
    match(s, /\n\.\nQUIT\n$/);
    deepEqual(r.stats().mail, { ok: 1, failed: 0, dropped: 0, queued: 0 });
  } finally {
    await srv.close();
  }
});

Deno.test("an smtp action whose recipient is refused, or whose server is down, fails and is logged", async () => {
  const srv = smtpServer((cmd) => cmd.startsWith("RCPT") ? "550 no such user" : null);
  try {
    const { logger, records } = capture();
    const r = new ActionRunner({ actions: [smtp(srv.port)], logger });
    r.dispatch(["mail"], BAN);
    await r.settle();
    match(
      String(records[0]!.fields.error),
      /RCPT TO admin@example\.org: expected 250 or 251, got 550 no such user/,
    );
  } finally {
    await srv.close();
  }
  const { logger, records } = capture();
  const r = new ActionRunner({ actions: [smtp(srv.port)], logger });
  r.dispatch(["mail"], BAN);
  await r.settle();
  equal(r.stats().mail!.failed, 1);
  match(String(records[0]!.fields.error), /refused|connect/i);
});

Deno.test("stop() waits at most STOP_WAIT_MS for a run in progress, then kills it", async () => {
  const { logger, records } = capture();
  const r = new ActionRunner({
    actions: [exec("stuck", ["/bin/sleep", "60"], { timeoutMs: 60_000 })],
    logger,
  });
  r.dispatch(["stuck"], BAN);
  const t0 = performance.now();
  await r.stop();
  const took = performance.now() - t0;
  ok(took >= STOP_WAIT_MS - 50 && took < STOP_WAIT_MS + 2000, `stopped after ${took} ms`);
  equal(r.stats().stuck!.failed, 1);
  match(String(records[0]!.fields.error), /the daemon is stopping/);
});
