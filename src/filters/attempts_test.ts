/**
 * One attempt counts once, however many lines the service writes for it (docs/filters.md,
 * "Sessions and attempts"): for each service, five attempts written as the service writes them
 * bring an address to five counted failures exactly at the fifth attempt, so `maxretry = 5` bans
 * after five attempts, not after two or three; every other line of an attempt is a duplicate.
 */
import { deepEqual, equal } from "node:assert/strict";
import { getFilter, LineKind } from "./mod.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const A = "192.0.2.50";

/**
 * Counted failures of `A` after each attempt; checks that each attempt's first line counts and
 * that its other lines are duplicates (or, matching `quiet`, lines that count nothing).
 */
function countsAfterEach(
  filter: string,
  mode: string,
  attempts: readonly (readonly string[])[],
  quiet?: RegExp,
): number[] {
  const f = getFilter(filter, mode);
  const out: number[] = [];
  let n = 0;
  attempts.forEach((lines, k) => {
    lines.forEach((line, i) => {
      const got = f.match(line, NOW);
      if (got !== null) {
        equal(got.ip, A, line);
        n++;
      } else if (!quiet?.test(line)) {
        equal(f.lastKind, LineKind.DUPLICATE, `attempt ${k + 1} line ${i + 1}: ${line}`);
      }
    });
    out.push(n);
  });
  return out;
}

const FIVE = [1, 2, 3, 4, 5];

Deno.test("dovecot: PAM's line, the auth process's line and the login summary of one attempt count once", () => {
  // auth_verbose = yes with a PAM passdb: three lines per attempt, one connection each
  const verbose = FIVE.map((i) => [
    `Nov 24 12:26:4${i} mail auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=alice rhost=${A}  user=alice`,
    `Nov 24 12:26:4${i} mail dovecot: auth-worker(1234): pam(alice,${A},<AbCd${i}>): pam_authenticate() failed: Authentication failure (password mismatch?)`,
    `Nov 24 12:26:4${i} mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=${A}, lip=10.0.0.5, session=<AbCd${i}>`,
  ]);
  deepEqual(countsAfterEach("dovecot", "normal", verbose), FIVE);
  // Debian's default (auth_verbose = no): PAM's line and the login summary
  const quiet = verbose.map(([pam, , login]) => [pam!, login!]);
  deepEqual(countsAfterEach("dovecot", "aggressive", quiet), FIVE);
  // five attempts in one connection: five PAM lines, then one summary of all five
  const one = [...quiet.map(([pam]) => [pam!]), [
    `Nov 24 12:26:49 mail dovecot: imap-login: Disconnected (auth failed, 5 attempts in 9 secs): user=<alice>, method=PLAIN, rip=${A}, lip=10.0.0.5, session=<AbCd>`,
  ]];
  deepEqual(countsAfterEach("dovecot", "normal", one), [...FIVE, 5]);
  // a non-PAM passdb without auth_verbose writes only the summary: it counts
  deepEqual(countsAfterEach("dovecot", "normal", verbose.map(([, , login]) => [login!])), FIVE);
});

Deno.test("postfix: an SMTP session's failures count, its 'too many errors' summary is their duplicate", () => {
  // SASL failures (auth, extra, aggressive): each AUTH command is an attempt; the session that
  // reaches smtpd_hard_error_limit ends with "too many errors", then disconnect
  const pid = (i: number) => 4000 + (i > 3 ? 1 : 0); // two sessions: three attempts, then two
  const sasl = FIVE.map((i) => [
    `Nov 24 12:26:4${i} mail postfix/smtpd[${
      pid(i)
    }]: warning: unknown[${A}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6`,
    ...(i === 3 || i === 5
      ? [
        `Nov 24 12:26:4${i} mail postfix/smtpd[${
          pid(i)
        }]: too many errors after AUTH from unknown[${A}]`,
      ]
      : []),
  ]);
  for (const mode of ["extra", "aggressive"]) {
    deepEqual(countsAfterEach("postfix", mode, sasl), FIVE);
  }
  // normal: rejects count, the summary after them does not; alone it counts
  const rejects = FIVE.map((i) => [
    `Nov 24 12:26:4${i} mail postfix/smtpd[4100]: NOQUEUE: reject: RCPT from unknown[${A}]: 554 5.7.1 <x@y.z>: Relay access denied; from=<a@b.c> to=<x@y.z> proto=ESMTP helo=<x>`,
    ...(i === 5
      ? [`Nov 24 12:26:45 mail postfix/smtpd[4100]: too many errors after RCPT from unknown[${A}]`]
      : []),
  ]);
  deepEqual(countsAfterEach("postfix", "normal", rejects), FIVE);
  const alone = FIVE.map((i) => [
    `Nov 24 12:26:4${i} mail postfix/smtpd[${
      4200 + i
    }]: too many errors after RCPT from unknown[${A}]`,
  ]);
  deepEqual(countsAfterEach("postfix", "normal", alone), FIVE);
});

Deno.test("postfix: a disconnect ends the session, so the next connection's summary counts", () => {
  const f = getFilter("postfix", "normal");
  const reject =
    `Nov 24 12:26:41 mail postfix/smtpd[4300]: NOQUEUE: reject: RCPT from unknown[${A}]: 554 5.7.1 <x@y.z>: Relay access denied; from=<a@b.c> to=<x@y.z> proto=ESMTP helo=<x>`;
  equal(f.match(reject, NOW)?.ip, A);
  equal(
    f.match(
      `Nov 24 12:26:42 mail postfix/smtpd[4300]: disconnect from unknown[${A}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4`,
      NOW,
    ),
    null,
  );
  equal(f.lastKind, LineKind.SESSION);
  equal(
    f.match(
      `Nov 24 12:26:43 mail postfix/smtpd[4300]: too many errors after RCPT from unknown[${A}]`,
      NOW,
    )?.ip,
    A,
  );
});

Deno.test("sshd: Invalid user, PAM's line and Failed password of one attempt count once", () => {
  const attempts = FIVE.map((i) => [
    `Nov 24 12:26:4${i} web1 sshd[${5000 + i}]: Invalid user admin from ${A} port 4242`,
    `Nov 24 12:26:4${i} web1 sshd[${
      5000 + i
    }]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${A}`,
    `Nov 24 12:26:4${i} web1 sshd[${
      5000 + i
    }]: Failed password for invalid user admin from ${A} port 4242 ssh2`,
  ]);
  const f = getFilter("sshd", "normal");
  let n = 0;
  const counts = attempts.map((lines) => {
    for (const line of lines) if (f.match(line, NOW) !== null) n++;
    return n;
  });
  deepEqual(counts, FIVE);
});

Deno.test("sshd: the MaxAuthTries lines after an attempt's Failed line are its duplicates", () => {
  // one connection, six password attempts, then what each OpenSSH writes as it gives up
  // (auth2.c: auth_log's `Failed` line, then auth_maxtries_exceeded for the same attempt)
  const at = (pid: number, text: string) => `Nov 24 12:26:45 web1 sshd[${pid}]: ${text}`;
  const six = (pid: number, tail: readonly string[], pam = false) =>
    [1, 2, 3, 4, 5, 6].map((i) => [
      ...(pam && i === 1
        ? [
          at(
            pid,
            `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${A}  user=root`,
          ),
        ]
        : []),
      at(pid, `Failed password for root from ${A} port 4242 ssh2`),
      ...(i === 6 ? tail.map((t) => at(pid, t)) : []),
    ]);
  const SIX = [1, 2, 3, 4, 5, 6];
  const exceeded =
    `error: maximum authentication attempts exceeded for root from ${A} port 4242 ssh2 [preauth]`;
  // 7.5+ (Debian 12's 9.2): SSH-16, then SSH-17, which counts nothing
  deepEqual(
    countsAfterEach(
      "sshd",
      "normal",
      six(6001, [
        exceeded,
        `Disconnecting authenticating user root ${A} port 4242: Too many authentication failures [preauth]`,
      ]),
      /Disconnecting authenticating/,
    ),
    SIX,
  );
  // 6.8–7.4 with PAM (Ubuntu 16.04's 7.2): SSH-16, SSH-50 (no address), PAM's tally
  const seven = six(
    6002,
    [
      exceeded,
      "Disconnecting: Too many authentication failures [preauth]",
      `PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=${A}  user=root`,
    ],
    true,
  );
  deepEqual(countsAfterEach("sshd", "normal", seven, /pam_unix|PAM 5 more/), SIX);
  // 6.7: SSH-49 with the address; 6.6 and before: SSH-48 without one
  deepEqual(
    countsAfterEach(
      "sshd",
      "normal",
      six(6003, [
        `Disconnecting: Too many authentication failures for root from ${A} port 4242 ssh2 [preauth]`,
      ]),
    ),
    SIX,
  );
  deepEqual(
    countsAfterEach(
      "sshd",
      "normal",
      six(6004, ["Disconnecting: Too many authentication failures for root [preauth]"]),
    ),
    SIX,
  );
  // the attempt that reached MaxAuthTries was not counted (a valid user's publickey): SSH-16
  // counts it once, and SSH-50 after it is its duplicate
  const f = getFilter("sshd", "normal");
  const keys = [
    at(6005, `Failed publickey for root from ${A} port 4242 ssh2: ED25519 SHA256:abc`),
    at(6005, exceeded),
    at(6005, "Disconnecting: Too many authentication failures [preauth]"),
  ];
  equal(f.match(keys[0]!, NOW), null);
  equal(f.match(keys[1]!, NOW)?.ip, A);
  equal(f.match(keys[2]!, NOW), null);
  equal(f.lastKind, LineKind.DUPLICATE);
  // another connection's Failed line is not the attempt it gave up on
  const g = getFilter("sshd", "normal");
  equal(g.match(at(6006, `Failed password for root from ${A} port 4242 ssh2`), NOW)?.ip, A);
  equal(g.match(at(6007, exceeded), NOW)?.ip, A);
});

Deno.test("dovecot: a login closes the address's open attempt, so a later summary counts", () => {
  const f = getFilter("dovecot", "normal");
  const pam =
    `Nov 24 12:26:41 mail auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=alice rhost=${A}  user=alice`;
  const login =
    `Nov 24 12:26:42 mail dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=${A}, lip=10.0.0.5, mpid=4321, TLS, session=<AbCd>`;
  const summary =
    `Nov 24 12:26:44 mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<bob>, method=PLAIN, rip=${A}, lip=10.0.0.5, session=<EfGh>`;
  equal(f.match(pam, NOW)?.ip, A);
  equal(f.match(login, NOW), null);
  equal(f.lastKind, LineKind.SESSION);
  equal(f.match(summary, NOW)?.ip, A); // without the login, it would be the PAM line's duplicate
  // and without the login it is
  const g = getFilter("dovecot", "normal");
  equal(g.match(pam, NOW)?.ip, A);
  equal(g.match(summary, NOW), null);
  equal(g.lastKind, LineKind.DUPLICATE);
});

Deno.test("dovecot: an attempt left open without its summary does not swallow the address's next attempt", () => {
  const pam = (t: string) =>
    `Nov 24 ${t} mail auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=alice rhost=${A}  user=alice`;
  const summary = (t: string, secs: number, why = `auth failed, 1 attempts in ${secs} secs`) =>
    `Nov 24 ${t} mail dovecot: imap-login: Disconnected (${why}): user=<bob>, method=PLAIN, rip=${A}, lip=10.0.0.5, session=<EfGh>`;
  const auth = (t: string) =>
    `Nov 24 ${t} mail dovecot: auth: passwd-file(bob,${A},<EfGh>): unknown user`;
  // the first connection's summary is lost; the next connection (a non-PAM passdb) fails once:
  // its summary counts from its first attempt (4 s), the PAM line is 10 minutes older
  const f = getFilter("dovecot", "normal");
  equal(f.match(pam("12:16:41"), NOW)?.ip, A);
  equal(f.match(summary("12:26:45", 4), NOW)?.ip, A);
  // a PAM line 3 s before a summary of an attempt that took 4 s is that attempt's
  equal(f.match(pam("12:30:41"), NOW)?.ip, A);
  equal(f.match(summary("12:30:44", 4), NOW), null);
  equal(f.lastKind, LineKind.DUPLICATE);
  // a PAM line 30 s before a summary of an attempt that took 4 s is not (the clock's whole
  // seconds allow 2 s more)
  equal(f.match(pam("12:40:00"), NOW)?.ip, A);
  equal(f.match(summary("12:40:07", 4), NOW)?.ip, A);
  equal(f.match(pam("12:41:00"), NOW)?.ip, A);
  equal(f.match(summary("12:41:06", 4), NOW), null);
  // a summary that states no duration: the connection lived at most 180 s
  equal(f.match(pam("12:50:00"), NOW)?.ip, A);
  equal(f.match(summary("12:53:00", 0, "tried to use disallowed plaintext auth"), NOW), null);
  equal(f.match(pam("13:00:00"), NOW)?.ip, A);
  equal(f.match(summary("13:03:01", 0, "tried to use disallowed plaintext auth"), NOW)?.ip, A);
  // the auth process's line (step 2) of a later connection: bounded by the 180 s too
  equal(f.match(pam("13:10:00"), NOW)?.ip, A);
  equal(f.match(auth("13:10:01"), NOW), null);
  equal(f.lastKind, LineKind.DUPLICATE);
  equal(f.match(pam("13:20:00"), NOW)?.ip, A);
  equal(f.match(auth("13:25:00"), NOW)?.ip, A);
  // a duration planted in the user name of a summary that states none can only shorten the
  // window (its own address counts sooner), never lengthen it past 180 s
  const planted = (t: string, secs: string) =>
    summary(t, 0, "tried to use disallowed plaintext auth").replace(
      "user=<bob>",
      `user=<b attempts in ${secs} secs>`,
    );
  equal(f.match(pam("13:30:00"), NOW)?.ip, A);
  equal(f.match(planted("13:31:00", "0"), NOW)?.ip, A);
  equal(f.match(pam("13:40:00"), NOW)?.ip, A);
  equal(f.match(planted("13:43:01", "99999999999999999999"), NOW)?.ip, A);
});

Deno.test("sshd: an attempt whose first line names a host or is ambiguous still counts once, for the real address", () => {
  // docs/filters.md, "The sample lines left unrecognised": the name line counts nothing, the
  // connection's own line with the address counts the attempt
  const run = (lines: string[]) => {
    const f = getFilter("sshd", "normal");
    return lines.map((l) => f.match(l, NOW)?.ip ?? null);
  };
  deepEqual(
    run([
      "Nov 24 12:00:01 h sshd[7]: error: PAM: Authentication failure for stefanor from example.com",
      `Nov 24 12:00:01 h sshd[7]: Failed keyboard-interactive/pam for stefanor from ${A} port 4242 ssh2`,
    ]),
    [null, A],
  );
  deepEqual(
    run([
      "Nov 24 12:00:01 h sshd[8]: User root from example.com not allowed because not listed in AllowUsers",
      `Nov 24 12:00:02 h sshd[8]: Failed password for invalid user root from ${A} port 4242 ssh2`,
    ]),
    [null, A],
  );
  // the user name `test from 127.0.0.1 port 58946 ssh2:`: `Invalid user` ends with the real
  // address; the `Failed password` line that follows is ambiguous (fail2ban reads the tail as INFO)
  const f = getFilter("sshd", "normal");
  equal(
    f.match(
      `Nov 24 12:00:01 h sshd[9]: Invalid user test from 127.0.0.1 port 58946 ssh2: from ${A} port 55555`,
      NOW,
    )?.ip,
    A,
  );
  equal(
    f.match(
      `Nov 24 12:00:02 h sshd[9]: Failed password for invalid user test from 127.0.0.1 port 58946 ssh2: from ${A} port 55555 ssh2`,
      NOW,
    ),
    null,
  );
  equal(f.lastKind, LineKind.AMBIGUOUS);
  // the macOS `via` names the server's own address: never blamed
  equal(
    getFilter("sshd", "aggressive").match(
      "Nov 24 12:00:01 h sshd[10]: error: PAM: authentication error for james from example.com via 192.168.1.201",
      NOW,
    ),
    null,
  );
});
