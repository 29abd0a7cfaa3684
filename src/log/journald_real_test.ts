/**
 * The native protocol against the real systemd-journald: started by the test in a private mount
 * namespace (tmpfs on /run, so neither the host's /run nor its journal is touched), fed by the
 * real sinks, read back with journalctl.
 */
import { equal, ok } from "node:assert/strict";

const isRoot = Deno.uid() === 0;
const JOURNALD = "/lib/systemd/systemd-journald";
const REPO = new URL("../..", import.meta.url).pathname;

function value(v: unknown): string {
  // journalctl -o json prints values with control characters as arrays of bytes.
  return Array.isArray(v) ? new TextDecoder().decode(new Uint8Array(v as number[])) : String(v);
}

Deno.test({
  name:
    "systemd-journald stores our native-protocol records field for field, multi-line values intact",
  // Needs mount namespaces (root); systemd-journald comes with systemd-journal-remote (.ci/run).
  ignore: !isRoot,
  fn: async () => {
    const tag = `t${crypto.randomUUID().slice(0, 8)}`;
    const script = `
set -eu
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/systemd/journal /run/log/journal
if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi
${JOURNALD} >/dev/null 2>&1 &
jd=$!
trap 'kill $jd 2>/dev/null; wait $jd 2>/dev/null || true' EXIT
i=0; while [ ! -S /run/systemd/journal/socket ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
"$DENO" run -q -P=test src/log/testdata/journal_sender.ts ${tag}
i=0
while [ $i -lt 60 ]; do
  n=$(journalctl --no-pager -o json SYSLOG_IDENTIFIER=fail2zig | wc -l)
  [ "$n" -ge 2 ] && break
  sleep 0.05; i=$((i+1))
done
journalctl --no-pager -o json SYSLOG_IDENTIFIER=fail2zig
`;
    const out = await new Deno.Command("/usr/bin/unshare", {
      args: ["-m", "--propagation", "private", "sh", "-c", script],
      cwd: REPO,
      env: { DENO: Deno.execPath(), NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    equal(out.code, 0, stderr);
    const entries = new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) => l)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    equal(entries.length, 2, stderr);
    const [warn, ban] = entries as [Record<string, unknown>, Record<string, unknown>];
    equal(value(warn.MESSAGE), "multi-line field");
    equal(value(warn.PRIORITY), "4");
    equal(value(warn.TAG), tag);
    equal(value(warn.DETAIL), "one\ntwo\nPRIORITY=0");
    equal(value(warn.TRUSTED), "dropped?"); // our key "_trusted" was renamed, not sent as trusted
    equal(value(ban.FAIL2ZIG_EVENT), "ban");
    equal(value(ban.IP), "192.0.2.77");
    equal(value(ban.JAIL), "sshd");
    equal(value(ban.DURATION), "permanent");
    equal(value(ban.REASON), `maxretry 3 within 600s ${tag}`);
    equal(value(ban.ORIGIN), "/var/log/auth.log:12345");
    equal(value(ban.LINE), "sshd[1]: Failed password for root from 192.0.2.77\nMESSAGE=forged");
    equal(value(ban.MESSAGE), `ban 192.0.2.77 in sshd permanently: maxretry 3 within 600s ${tag}`);
    equal(value(ban.AUDIT_SEQ), "0");
    ok(/^[0-9a-f]{64}$/.test(value(ban.AUDIT_HASH)));
    ok(typeof ban._PID === "string" || Array.isArray(ban._PID), "journald adds its trusted fields");
  },
});
