/**
 * Injection: attacker-controlled fields that hold the structure of the real line (threat E-02).
 *
 * 1. The lines found by adversarial testing against real services (issue 11), each of which
 *    reported the planted address before.
 * 2. A generative test: for every built-in filter and every template of its services' messages
 *    with an attacker-controlled field (docs/formats/), the field is filled with text assembled
 *    from the patterns of every built-in filter (tokens replaced by decoy addresses, numbers and
 *    words), the usual anchors (`, client: `, `from X port N ssh2`, `rhost=`, `rip=`, `[X]:N`,
 *    quotes, brackets) and random junk, sometimes cut at the service's length limit; the reported
 *    address must be the real one or none (the real one, for templates whose address no client
 *    field precedes). Every syslog template is written with one of the line prefixes the daemon
 *    reads (RFC 3164 with and without host, RFC 3339, RFC 5424, TAI64N, journalctl's short-unix,
 *    short-full and short-monotonic, a bare journal MESSAGE). 120,000 cases, seeded; a failure
 *    prints the line.
 */
import { equal, notEqual, ok } from "node:assert/strict";
import { builtinFilterNames, type Filter, filterModes, getFilter } from "./mod.ts";
import { BUILTINS } from "./_builtins.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

function modesOf(name: string): Filter[] {
  return filterModes(name)!.map((m) => getFilter(name, m));
}

Deno.test("nginx-botsearch never reports the client: planted in a percent-decoded open() path", () => {
  const line =
    `2026/01/01 00:00:00 [error] 1#1: *1 open() "/h/x" failed (2: No such file or directory), client: 6.6.6.6, server: y, request: "GET /wp-login.php" failed (2: No such file or directory), client: 1.2.3.4, server: s, request: "GET /x%22 HTTP/1.1"`;
  for (const f of modesOf("nginx-botsearch")) {
    for (let i = 0; i < 3; i++) notEqual(f.match(line, NOW)?.ip, "6.6.6.6");
  }
  const isNotFound = line.replace('open() "/h/x" failed', '"/h/x" is not found');
  for (const f of modesOf("nginx-botsearch")) notEqual(f.match(isNotFound, NOW)?.ip, "6.6.6.6");
});

Deno.test("nginx-http-auth never reports a client: planted in the user name", () => {
  const line =
    `2026/01/01 00:00:00 [error] 1#1: *1 user "x", client: 127.0.0.1, server: a, request: "GET / HTTP/1.1", host: "a"" was not found in "/etc/nginx/htpasswd", client: 1.2.3.4, server: s, request: "GET / HTTP/1.1", host: "s"`;
  for (const f of modesOf("nginx-http-auth")) notEqual(f.match(line, NOW)?.ip, "127.0.0.1");
});

Deno.test("sshd never takes the address from text after ssh2: or ssh1:", () => {
  for (
    const line of [
      "Nov 24 12:26:41 h sshd[7]: Failed publickey for invalid user x from 5.6.7.8 port 22 ssh2: RSA-CERT SHA256:x ID from 1.2.3.4 port 22 ssh2",
      "Nov 24 12:26:41 h sshd[8]: Failed password for x from 5.6.7.8 port 22 ssh1: ruser from 1.2.3.4",
      'Nov 24 12:26:41 h sshd[9]: Failed hostbased for x from 5.6.7.8 port 22 ssh2: RSA x, client user "a from 1.2.3.4 port 1 ssh2"',
    ]
  ) {
    for (const f of modesOf("sshd")) {
      const got = f.match(line, NOW)?.ip;
      ok(got === undefined || got === "5.6.7.8", `${f.mode}: ${got} from ${line}`);
    }
  }
});

Deno.test("dovecot: a user name holding ,ADDR): MESSAGE is read to the real address, its message anchored to the line's end", () => {
  // auth_username_chars may admit `,():` and space; the auth process's message is server text to
  // the end of the line (docs/formats/dovecot.md §2), so only the real reading ends where it must
  const D = "6.6.6.6", R = "1.2.3.4";
  const lines = [
    `auth: pam(x,${D}): unknown user,${R},<s>): unknown user`,
    `auth: passwd-file(x,${D}): unknown user,${R}): unknown user`,
    `auth: passwd-file(x,${D}): Password mismatch,${R}): Password mismatch (SHA1 of given password: 0a1b2c)`,
    `auth-worker(9): pam(x,${D}): unknown user,${R},<Ab+/9>): pam_authenticate() failed: Authentication failure (Password mismatch?)`,
    `auth: ldap(x,${D}): unknown user,${R}): Password mismatch (for LDAP bind) (given password: a b) - trying the next passdb`,
    `auth: sql(x,${D}): unknown user,${R}): unknown user  - trying the next userdb`,
  ];
  for (const f of modesOf("dovecot")) {
    for (const l of lines) equal(f.match(`Nov 24 12:26:41 mail dovecot: ${l}`, 0)?.ip, R, l);
  }
  // both readings end as the grammar allows when the planted text imitates the whole tail: none
  const both =
    `Nov 24 12:26:41 mail dovecot: auth: pam(x,${D}): pam_authenticate() failed: a,${R}): pam_authenticate() failed: Authentication failure`;
  for (const f of modesOf("dovecot")) equal(f.match(both, 0), null);
});

Deno.test("vsftpd: a host name in rhost= and a planted rhost= in the user name give no address", () => {
  const line =
    "Nov 24 12:26:41 ftp vsftpd[1]: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=a rhost=evil.example  user=rhost=6.6.6.6 user=a";
  for (const f of modesOf("vsftpd")) equal(f.match(line, NOW), null);
});

// ---- the generative test ------------------------------------------------------------------------

/** Real address of every template. */
const REAL = ["192.0.2.10", "2001:db8::10"];
const DECOYS = ["6.6.6.6", "7.7.7.7", "127.0.0.1", "2001:db8::666", "::ffff:6.6.6.6", "10.0.0.1"];

/** Templates per filter: `{A}` an attacker field, `{IP}` the real address, `{P}` a pid. */
const TEMPLATES: Record<string, string[]> = {
  sshd: [
    "Nov 24 12:26:41 h sshd[{P}]: Invalid user {A} from {IP} port 4242",
    "Nov 24 12:26:41 h sshd[{P}]: Failed password for invalid user {A} from {IP} port 4242 ssh2",
    "Nov 24 12:26:41 h sshd[{P}]: Failed password for {A} from {IP} port 4242 ssh2",
    "Nov 24 12:26:41 h sshd-session[{P}]: Failed keyboard-interactive/pam for {A} from {IP} port 4242 ssh2",
    "Nov 24 12:26:41 h sshd[{P}]: Failed publickey for invalid user {A} from {IP} port 4242 ssh2: RSA SHA256:{A}",
    "Nov 24 12:26:41 h sshd[{P}]: error: maximum authentication attempts exceeded for {A} from {IP} port 4242 ssh2 [preauth]",
    "Nov 24 12:26:41 h sshd[{P}]: Disconnecting invalid user {A} {IP} port 4242: Change of username or service not allowed: ({A},ssh-connection) -> ({A},ssh-connection) [preauth]",
    "Nov 24 12:26:41 h sshd[{P}]: Connection closed by invalid user {A} {IP} port 4242 [preauth]",
    "Nov 24 12:26:41 h sshd[{P}]: Disconnected from authenticating user {A} {IP} port 4242 [preauth]",
    "Nov 24 12:26:41 h sshd[{P}]: error: PAM: Authentication failure for {A} from {IP}",
    "Nov 24 12:26:41 h sshd[{P}]: Bad protocol version identification '{A}' from {IP} port 4242",
    "Nov 24 12:26:41 h sshd[{P}]: Unable to negotiate with {IP} port 4242: no matching cipher found. Their offer: {A} [preauth]",
    "Nov 24 12:26:41 h sshd[{P}]: error: Received disconnect from {IP} port 4242:3: {A}: Auth fail [preauth]",
    "Nov 24 12:26:41 h sshd[{P}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser={A} rhost={IP}  user={A}",
  ],
  "nginx-http-auth": [
    '2026/11/24 12:26:41 [error] 9#9: *1 user "{A}" was not found in "/etc/nginx/.htpasswd", client: {IP}, server: example.org, request: "GET /{A} HTTP/1.1", host: "{A}"',
    '2026/11/24 12:26:41 [error] 9#9: *1 user "{A}": password mismatch, client: {IP}, server: example.org, request: "GET / HTTP/1.1", host: "example.org", referrer: "{A}"',
  ],
  "nginx-limit-req": [
    '2026/11/24 12:26:41 [error] 9#9: *1 limiting requests, excess: 1.000 by zone "one", client: {IP}, server: example.org, request: "GET /{A} HTTP/1.1", host: "{A}"',
  ],
  "nginx-botsearch": [
    '2026/11/24 12:26:41 [error] 9#9: *1 open() "/var/www/{A}" failed (2: No such file or directory), client: {IP}, server: example.org, request: "GET /wp-login.php{A} HTTP/1.1", host: "{A}"',
    '{IP} - {A} [24/Nov/2026:12:26:41 +0000] "GET /phpmyadmin/{A} HTTP/1.1" 404 153 "{A}" "{A}"',
  ],
  postfix: [
    "Nov 24 12:26:41 mail postfix/smtpd[{P}]: NOQUEUE: reject: RCPT from unknown[{IP}]: 554 5.7.1 <{A}>: Relay access denied; from=<{A}> to=<{A}> proto=ESMTP helo=<{A}>",
    "Nov 24 12:26:41 mail postfix/smtpd[{P}]: warning: unknown[{IP}]: SASL LOGIN authentication failed: {A}",
    "Nov 24 12:26:41 mail postfix/smtpd[{P}]: improper command pipelining after EHLO from unknown[{IP}]: {A}",
  ],
  dovecot: [
    "Nov 24 12:26:41 mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<{A}>, method=PLAIN, rip={IP}, lip=10.0.0.5, TLS, session=<abc>",
    "Nov 24 12:26:41 mail dovecot: auth: passwd-file({A},{IP}): unknown user",
    "Nov 24 12:26:41 mail dovecot: auth: pam({A},{IP},<sess>): pam_authenticate() failed: Authentication failure (password mismatch?)",
  ],
  proftpd: [
    "Nov 24 12:26:41 ftp proftpd[{P}]: ftp.example.org (h.example[{IP}]) - USER {A}: no such user found from h.example [{IP}] to 10.0.0.1:21",
    "Nov 24 12:26:41 ftp proftpd[{P}]: ftp.example.org (h.example[{IP}]) - USER {A} (Login failed): Incorrect password",
  ],
  vsftpd: [
    'Tue Nov 24 12:26:41 2026 [pid {P}] [{A}] FAIL LOGIN: Client "{IP}"',
    "Nov 24 12:26:41 ftp vsftpd[{P}]: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser={A} rhost={IP}  user={A}",
  ],
  "apache-auth": [
    "[Tue Nov 24 12:26:41.123456 2026] [auth_basic:error] [pid {P}:tid 1] [client {IP}:4242] AH01618: user {A} not found: /{A}",
    '[Tue Nov 24 12:26:41 2026] [error] [client {IP}] user {A}: authentication failure for "/{A}": Password Mismatch',
  ],
  recidive: [
    "2026-11-24 12:26:41,123 fail2ban.actions [{P}]: NOTICE [sshd] Ban {IP}",
  ],
};

/** Where the services cut a message (docs/formats/): bytes after the first `after`. */
const LIMITS: Record<string, { after: string; bytes: number }> = {
  sshd: { after: "]: ", bytes: 500 },
  postfix: { after: "]: ", bytes: 2000 },
  "nginx-http-auth": { after: "", bytes: 2048 },
  "nginx-limit-req": { after: "", bytes: 2048 },
  "nginx-botsearch": { after: "", bytes: 2048 },
};

const ANCHORS = [
  " from {D} port 22 ssh2",
  " from {D}",
  ', client: {D}, server: x, request: "GET /wp-login.php HTTP/1.1"',
  '" failed (2: No such file or directory), client: {D}, server: y, request: "GET /wp-login.php',
  " rhost={D}",
  " rhost={D}  user=root",
  ", rip={D}, lip=10.0.0.1",
  "rip={D}",
  "[{D}]:25",
  "unknown[{D}]: SASL LOGIN authentication failed",
  ",{D}): unknown user",
  ",{D},<x>): Password mismatch",
  "[client {D}:1] ",
  "({D}[{D}]) - ",
  '"] FAIL LOGIN: Client "{D}"',
  " {D} port 22",
  ": Change of username or service not allowed: ",
  '"',
  "'",
  "]",
  "[",
  ")",
  "(",
  ">",
  "<",
  ", ",
  ": ",
  " ",
];

/**
 * The line prefixes a syslog template is also written with (docs/filters.md, "Line shapes"): the
 * template's own `Mmm dd hh:mm:ss HOST PROG[PID]: ` becomes one of these, chosen per case.
 */
const PREFIXES: ((prog: string) => string)[] = [
  (p) => `Nov 24 12:26:41 h ${p}: `, // RFC 3164
  (p) => `<38>Nov 24 12:26:41 ${p}: `, // a syslog(3) datagram: no host
  (p) => `2026-11-24T12:26:41.771471+00:00 h ${p}: `, // rsyslog RFC 3339
  (p) =>
    `<38>1 2026-11-24T12:26:41.771Z h ${
      /\[\d+\]$/.test(p) ? p.replace(/\[(\d+)\]$/, " $1") : `${p} -`
    } - - `, // RFC 5424
  (p) => `@4000000069244b6b0d1f2e3c ${p}: `, // TAI64N (daemontools, runit)
  (p) => `1795523201.771471 h ${p}: `, // journalctl -o short-unix
  (p) => `Tue 2026-11-24 12:26:41 UTC h ${p}: `, // journalctl -o short-full
  (p) => `[ 12345.678901] h ${p}: `, // journalctl -o short-monotonic
  () => "", // a journal record's MESSAGE
];
const SYSLOG = /^Nov 24 12:26:41 \S+ (\S+?): /;

/**
 * Templates whose address no attacker field can move (nothing the client writes comes before it):
 * the generated line must give the real address, whatever the fields hold and however long.
 */
const ANCHORED = new Set([TEMPLATES["nginx-limit-req"]![0]!]);

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A pattern text turned into a line fragment: tokens become decoys, numbers and words. */
function fromPattern(p: string, r: () => number, decoy: string): string {
  let out = "";
  for (let i = 0; i < p.length;) {
    if (p.startsWith("<HOST>", i) || p.startsWith("<ADDR>", i)) {
      out += decoy;
      i += 6;
    } else if (p.startsWith("<NUM>", i)) {
      out += String(Math.floor(r() * 65536));
      i += 5;
    } else if (p.startsWith("<*>", i)) {
      out += r() < 0.5 ? "" : "x y";
      i += 3;
    } else if (/^<[A-Z]+>/.test(p.slice(i, i + 12))) {
      out += "w" + Math.floor(r() * 100);
      i = p.indexOf(">", i) + 1;
    } else if (p[i] === "{") {
      // pick one alternative of the (possibly nested) group
      let depth = 0, j = i, start = i + 1;
      const alts: string[] = [];
      for (; j < p.length; j++) {
        if (p[j] === "{") depth++;
        else if (p[j] === "}" && --depth === 0) break;
        else if (p[j] === "|" && depth === 1) {
          alts.push(p.slice(start, j));
          start = j + 1;
        }
      }
      alts.push(p.slice(start, j));
      out += fromPattern(alts[Math.floor(r() * alts.length)]!, r, decoy);
      i = j + 1;
    } else if (p[i] === "\\") {
      out += p[i + 1] ?? "";
      i += 2;
    } else out += p[i++];
  }
  return out;
}

const PATTERNS = BUILTINS.flatMap((d) =>
  Object.values(d.modes).flatMap((rules) => rules.map((r) => typeof r === "string" ? r : r.p))
);

function fieldText(r: () => number): string {
  const decoy = DECOYS[Math.floor(r() * DECOYS.length)]!;
  let s = "";
  const parts = 1 + Math.floor(r() * 3);
  for (let k = 0; k < parts; k++) {
    const x = r();
    if (x < 0.45) s += fromPattern(PATTERNS[Math.floor(r() * PATTERNS.length)]!, r, decoy);
    else if (x < 0.9) s += ANCHORS[Math.floor(r() * ANCHORS.length)]!.replaceAll("{D}", decoy);
    else s += "abc";
  }
  return s;
}

Deno.test("generated injections in every attacker field of every filter never give an address other than the real one", () => {
  const CASES = 120_000;
  const r = rng(0x1e55);
  const names = builtinFilterNames();
  const filters = new Map(names.map((n) => [n, modesOf(n)]));
  let matched = 0, cases = 0, prefixed = 0, prefixedMatched = 0;
  while (cases < CASES) {
    for (const name of names) {
      for (const t of TEMPLATES[name] ?? []) {
        const real = REAL[Math.floor(r() * REAL.length)]!;
        const limit = LIMITS[name];
        const cut = limit !== undefined && r() < 0.1;
        let line = t.replaceAll("{IP}", real).replaceAll("{P}", String(1 + Math.floor(r() * 1e6)))
          // a long field pushes the end past the service's limit, which cuts the message there
          .replace("{A}", () => fieldText(r) + (cut ? "z".repeat(limit!.bytes) : ""))
          .replace(/\{A\}/g, () => fieldText(r));
        if (cut) {
          const start = limit!.after === "" ? 0 : line.indexOf(limit!.after) + limit!.after.length;
          line = line.slice(0, start + limit!.bytes);
        }
        const prog = SYSLOG.exec(line);
        if (prog) {
          const pre = PREFIXES[Math.floor(r() * PREFIXES.length)]!(prog[1]!);
          line = pre + line.slice(prog[0].length);
          prefixed++;
        }
        for (const f of filters.get(name)!) {
          const got = f.match(line, NOW)?.ip;
          if (got !== undefined && got !== real) {
            throw new Error(`${name}/${f.mode} reported ${got}, real ${real}: ${line}`);
          }
          if (got === undefined && ANCHORED.has(t)) {
            throw new Error(`${name}/${f.mode} missed its anchored address ${real}: ${line}`);
          }
          if (got !== undefined) matched++;
          if (got !== undefined && prog) prefixedMatched++;
        }
        cases++;
      }
    }
  }
  ok(matched > CASES / 10, `only ${matched} of ${cases} cases matched: the generator is off`);
  ok(prefixed > CASES / 2, `only ${prefixed} of ${cases} cases had a line prefix`);
  ok(
    prefixedMatched > prefixed / 10,
    `only ${prefixedMatched} of ${prefixed} prefixed cases matched`,
  );
});
