/**
 * The catalog probe (_catalog_probe.ts): every counted template of docs/formats/ for sshd,
 * pam_unix, nginx, apache, dovecot, proftpd and vsftpd, for IPv4 and IPv6 clients under the line
 * prefixes real logs carry, gives the real address; with a decoy in an attacker field it gives the
 * real address or nothing. The misses left are lines that cannot be decided (see `LEFT`).
 */
import { deepEqual, equal } from "node:assert/strict";
import { figures, probe } from "./_catalog_probe.ts";

/**
 * Lines left missed, by catalog ID: under a TAI64N stamp (multilog) there is no pid, so the
 * address-less failures (SSH-48/50/53..56) have no session to take their address from, and a
 * vsftpd line `@… [USER] FAIL LOGIN` without `[pid N]` is not read (the stamp and the bracket).
 */
const LEFT: Record<string, number> = {
  "SSH-48": 2,
  "SSH-50": 2,
  "SSH-53": 4,
  "SSH-54": 2,
  "SSH-55": 4,
  "SSH-56": 2,
  "VSF-01": 3,
  "VSF-02": 3,
};

Deno.test("every counted catalog template gives the real address, and a decoy never another one", () => {
  const results = probe();
  const f = figures(results);
  equal(f.wrong, 0);
  equal(
    f.decoyWrong,
    0,
    results.filter((r) => r.adversarial && r.got !== null && r.got !== "-" && r.got !== r.expect)
      .map((r) => r.line).join("\n"),
  );
  const missed: Record<string, number> = {};
  for (const r of results) {
    if (!r.adversarial && r.got === null) missed[r.id] = (missed[r.id] ?? 0) + 1;
  }
  deepEqual(missed, LEFT);
  equal(f.correct, f.lines - f.missed);
});
