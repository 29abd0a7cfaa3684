import { ok, throws } from "node:assert/strict";
import { JournalMatch } from "./_journal_match.ts";

const enc = new TextEncoder();

function record(fields: Record<string, string[]>): Map<string, Uint8Array[]> {
  return new Map(Object.entries(fields).map(([k, v]) => [k, v.map((x) => enc.encode(x))]));
}

Deno.test("JournalMatch ORs values of one field and ANDs different fields", () => {
  const m = new JournalMatch([
    "_SYSTEMD_UNIT=ssh.service",
    "_SYSTEMD_UNIT=sshd.service",
    "SYSLOG_IDENTIFIER=sshd",
  ]);
  ok(m.test(record({ _SYSTEMD_UNIT: ["ssh.service"], SYSLOG_IDENTIFIER: ["sshd"] })));
  ok(m.test(record({ _SYSTEMD_UNIT: ["sshd.service"], SYSLOG_IDENTIFIER: ["sshd"] })));
  ok(!m.test(record({ _SYSTEMD_UNIT: ["cron.service"], SYSLOG_IDENTIFIER: ["sshd"] })));
  ok(!m.test(record({ _SYSTEMD_UNIT: ["ssh.service"], SYSLOG_IDENTIFIER: ["CRON"] })));
  ok(!m.test(record({ _SYSTEMD_UNIT: ["ssh.service"] })));
  ok(!m.test(record({ _SYSTEMD_UNIT: ["ssh.service.evil"], SYSLOG_IDENTIFIER: ["sshd"] })));
});

Deno.test("JournalMatch rejects matches that are not FIELD=value, or could be options", () => {
  throws(() => new JournalMatch([]), /at least one/);
  throws(() => new JournalMatch(["--output=json"]), /FIELD=value/);
  throws(() => new JournalMatch(["+"]), /FIELD=value/);
  throws(() => new JournalMatch(["_systemd_unit=x"]), /FIELD=value/);
  throws(() => new JournalMatch(["1FIELD=x"]), /FIELD=value/);
  throws(() => new JournalMatch(["MESSAGE=a\nb"]), /newline/);
});
