/**
 * Catalog probe: every template of the upstream catalog (docs/formats/, `../shared/formats/`) that
 * fail2ban counts, in the fail2zig mode it counts in, instantiated with benign field values for an
 * IPv4 and an IPv6 client under the line prefixes real logs carry (syslog with and without host,
 * RFC 3339, TAI64N, the service's own log file), then once per attacker-controlled field holding a
 * decoy. Not probed, as docs/formats/ (the project's reading) holds them uncounted although the
 * upstream catalog marks them: nginx `, dry run` (NGX-04..06: nothing was limited), sshd SSH-35
 * other than `invalid format`, SSH-36 (Debian 12 never writes it) and SSH-37 (not in fail2ban
 * 1.0.2); fixtures/filters/ keeps them as lines that must not match. A benign line must give the real address (else it is missed or wrong); a decoy line must
 * give the real address or nothing (never the decoy). Postfix is another branch's, not probed here.
 * @module
 */

import { getFilter, LineKind } from "./filter.ts";

/** One catalog template: `{A}` is the client address, `{U}` the attacker-controlled field. */
export interface Template {
  readonly id: string;
  readonly filter: string;
  readonly mode: string;
  /** The prefix family (`PREFIXES`) the service's lines come with. */
  readonly kind: keyof typeof PREFIXES;
  readonly msg: string;
  /** Benign value of `{U}`. */
  readonly u?: string;
  /** The line before it in the same session (address-less failures). */
  readonly before?: string;
}

/** A line and what it gave. */
export interface ProbeResult {
  readonly id: string;
  readonly line: string;
  readonly expect: string;
  readonly got: string | null;
  readonly adversarial: boolean;
}

const T = 1796558400; // 2026-12-06T12:00:00Z
const TAI = `@${(0x4000000000000000n + BigInt(T + 10)).toString(16)}1a2b3c4d`;
const sys = (tag: string) => [
  `Dec  6 12:00:00 host ${tag}[1234]: `,
  `Dec  6 12:00:00 ${tag}[1234]: `,
  `2026-12-06T12:00:00.123456+00:00 host ${tag}[1234]: `,
  `<38>Dec  6 12:00:00 host ${tag}[1234]: `,
  `${TAI} `,
];
const PREFIXES = {
  sshd: [...sys("sshd"), "Dec 06 12:00:00 host sshd-session[1234]: "],
  dovecot: [...sys("dovecot"), "Dec 06 12:00:00 "],
  proftpd: [
    ...sys("proftpd"),
    "2026-12-06 12:00:00,123 host proftpd[1234] ",
  ],
  vsftpd: [...sys("vsftpd"), "Sun Dec  6 12:00:00 2026 [pid 1234] "],
  // PAM writes through syslog(3) inside the service, never to its own log file
  pam_vsftpd: sys("vsftpd").slice(0, 4),
  pam_dovecot: sys("dovecot").slice(0, 4),
  nginx: [
    "2026/12/06 12:00:00 ",
    "Dec  6 12:00:00 host nginx: 2026/12/06 12:00:00 ",
    "<27>Dec  6 12:00:00 host nginx: 2026/12/06 12:00:00 ",
  ],
  access: ["", "Dec  6 12:00:00 host nginx: "],
  apache: [
    "[Sun Dec 06 12:00:00.123456 2026] ",
    "Dec  6 12:00:00 host httpd[1234]: ",
    "Dec  6 12:00:00 host apache2[1234]: ",
  ],
  apache22: ["[Sun Dec 06 12:00:00 2026] ", "Dec  6 12:00:00 host httpd[1234]: "],
} as const;

const SV = "{A} port 52110";
const NGX_TAIL =
  `, client: {A}, server: example.com, request: "GET /private/ HTTP/1.1", host: "example.com"`;
const AP24 = (mod: string, ah: string, m: string) =>
  `[${mod}:error] [pid 1234:tid 140000] [client {A}:52110] ${ah}: ${m}`;
const AP22 = (m: string) => `[error] [client {A}] ${m}`;
const LOGIN =
  ": user=<{U}>, method=PLAIN, rip={A}, lip=192.0.2.1, mpid=4242, TLS, session=<Zk3Xy5kbXgEAAAAA>";
const PAM = "authentication failure; logname= uid=0 euid=0 tty=";

/** The catalog's counted templates for the services probed. */
export const TEMPLATES: readonly Template[] = [
  ...[
    ["SSH-01", "Failed password for {U} from {A} port 52110 ssh2"],
    ["SSH-01", "Failed password for invalid user {U} from {A} port 52110 ssh2"],
    ["SSH-01", "Failed keyboard-interactive/pam for invalid user {U} from {A} port 52110 ssh2"],
    ["SSH-01", "Failed none for invalid user {U} from {A} port 52110 ssh2 [preauth]"],
    ["SSH-02", "Failed password for {U} from {A} port 52110 ssh2"],
    ["SSH-02", "Failed password for invalid user {U} from {A} port 52110 ssh1"],
    ["SSH-03", "Failed password for {U} from {A} port 52110"],
    ["SSH-03", "Failed rhosts-rsa for {U} from {A} port 52110 ruser {U}"],
    ["SSH-04", "Failed password for invalid user {U} from {A} port 52110 ssh2"],
    ["SSH-05", "Failed password for illegal user {U} from {A} port 52110 ssh2"],
    ["SSH-05", "Failed password for ROOT from {A} port 52110 ssh2"],
    ["SSH-06", "Invalid user {U} from {A} port 52110"],
    ["SSH-07", "Invalid user {U} from {A}"],
    ["SSH-08", "Illegal user {U} from {A}"],
    ["SSH-09", "User root from {A} not allowed because not listed in AllowUsers"],
    ["SSH-10", "User root from {A} not allowed because listed in DenyUsers"],
    ["SSH-11", "User root from {A} not allowed because not in any group"],
    ["SSH-12", "User root from {A} not allowed because a group is listed in DenyGroups"],
    [
      "SSH-13",
      "User root from {A} not allowed because none of user's groups are listed in AllowGroups",
    ],
    ["SSH-14", "ROOT LOGIN REFUSED FROM {A} port 52110"],
    ["SSH-15", "ROOT LOGIN REFUSED FROM {A}"],
    [
      "SSH-16",
      "error: maximum authentication attempts exceeded for {U} from {A} port 52110 ssh2 [preauth]",
    ],
    [
      "SSH-16",
      "error: maximum authentication attempts exceeded for invalid user {U} from {A} port 52110 ssh2 [preauth]",
    ],
    [
      "SSH-18",
      "Disconnecting authenticating user {U} {A} port 52110: Change of username or service not allowed: (root,ssh-connection) -> (admin,ssh-connection) [preauth]",
    ],
    [
      "SSH-19",
      "Received disconnect from {A} port 52110:3: com.jcraft.jsch.JSchException: Auth fail [preauth]",
    ],
    [
      "SSH-20",
      "Received disconnect from {A}: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]",
    ],
    ["SSH-38", "error: PAM: Authentication failure for {U} from {A}"],
    ["SSH-38", "error: PAM: Authentication failure for illegal user {U} from {A}"],
    [
      "SSH-38",
      "error: PAM: User not known to the underlying authentication module for illegal user {U} from {A}",
    ],
    ["SSH-47", "Failed gssapi-with-mic for {U} from {A} port 52110 ssh2 [preauth]"],
    [
      "SSH-49",
      "Disconnecting: Too many authentication failures for {U} from {A} port 52110 ssh2 [preauth]",
    ],
  ].map(([id, msg]): Template => ({
    id: id!,
    filter: "sshd",
    mode: "normal",
    kind: "sshd",
    msg: msg!,
    u: "admin",
  })),
  ...[
    [
      "SSH-50",
      "Disconnecting: Too many authentication failures [preauth]",
      `Connection from ${SV} on 192.0.2.1 port 22`,
    ],
    [
      "SSH-48",
      "Disconnecting: Too many authentication failures for admin [preauth]",
      `Connection from ${SV} on 192.0.2.1 port 22`,
    ],
    [
      "SSH-56",
      "User admin not allowed because account is locked",
      `Connection from ${SV} on 192.0.2.1 port 22`,
    ],
  ].map(([id, msg, before]): Template => ({
    id: id!,
    filter: "sshd",
    mode: "normal",
    kind: "sshd",
    msg: msg!,
    before: before!,
  })),
  ...[
    [
      "SSH-19",
      "Received disconnect from {A} port 52110:14: No supported authentication methods available [preauth]",
    ],
    [
      "SSH-20",
      "Received disconnect from {A}: 14: No supported authentication methods available [preauth]",
    ],
    ["SSH-26", "Disconnected from invalid user {U} {A} port 52110 [preauth]"],
    ["SSH-26", "Disconnected from authenticating user {U} {A} port 52110 [preauth]"],
    [
      "SSH-28",
      "Unable to negotiate with {A} port 52110: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]",
    ],
    [
      "SSH-29",
      "Unable to negotiate with {A} port 52110: no matching host key type found. Their offer: ssh-dss [preauth]",
    ],
    [
      "SSH-30",
      "fatal: Unable to negotiate with {A}: no matching cipher found. Their offer: arcfour [preauth]",
    ],
  ].map(([id, msg]): Template => ({
    id: id!,
    filter: "sshd",
    mode: "extra",
    kind: "sshd",
    msg: msg!,
    u: "admin",
  })),
  ...[
    ["SSH-55", "fatal: no matching cipher found: client arcfour server aes128-ctr [preauth]"],
    ["SSH-55", "fatal: Unable to negotiate a key exchange method [preauth]"],
  ].map(([id, msg]): Template => ({
    id: id!,
    filter: "sshd",
    mode: "extra",
    kind: "sshd",
    msg: msg!,
    before: `Connection from ${SV} on 192.0.2.1 port 22`,
  })),
  ...[
    ["SSH-22", "Connection closed by authenticating user {U} {A} port 52110 [preauth]"],
    ["SSH-23", "Connection closed by {A} port 52110 [preauth]"],
    ["SSH-24", "Connection closed by {A} [preauth]"],
    ["SSH-25", "Connection reset by invalid user {U} {A} port 52110 [preauth]"],
    ["SSH-26", "Disconnected from {A} port 52110 [preauth]"],
    ["SSH-31", "Did not receive identification string from {A} port 52110"],
    ["SSH-32", "Did not receive identification string from {A}"],
    ["SSH-33", "Bad protocol version identification '{U}' from {A} port 52110"],
    ["SSH-34", "Bad protocol version identification '{U}' from {A}"],
    ["SSH-35", "error: banner exchange: Connection from {A} port 52110: invalid format"],
  ].map(([id, msg]): Template => ({
    id: id!,
    filter: "sshd",
    mode: "ddos",
    kind: "sshd",
    msg: msg!,
    u: id === "SSH-33" || id === "SSH-34" ? "GET / HTTP/1.1" : "admin",
  })),
  ...[
    ["SSH-53", "error: kex_exchange_identification: Connection closed by remote host"],
    [
      "SSH-53",
      'error: kex_exchange_identification: client sent invalid protocol identifier "GET / HTTP/1.1"',
    ],
    ["SSH-54", "fatal: Read from socket failed: Connection reset by peer [preauth]"],
  ].map(([id, msg]): Template => ({
    id: id!,
    filter: "sshd",
    mode: "ddos",
    kind: "sshd",
    msg: msg!,
    before: `Connection from ${SV} on 192.0.2.1 port 22`,
  })),
  // pam_unix inside the services fail2ban counts it for (sshd: helper only)
  ...(["vsftpd", "dovecot"] as const).flatMap((svc): Template[] => {
    const tty = svc === "vsftpd" ? "ftp" : "dovecot";
    return [
      {
        id: "PAM-01",
        filter: svc,
        mode: "normal",
        kind: `pam_${svc}`,
        msg: `pam_unix(${svc}:auth): ${PAM}${tty} ruser={U} rhost={A}  user={U}`,
        u: "bob",
      },
      {
        id: "PAM-01",
        filter: svc,
        mode: "normal",
        kind: `pam_${svc}`,
        msg: `pam_unix(${svc}:auth): ${PAM}${tty} ruser={U} rhost={A} `,
        u: "bob",
      },
      {
        id: "PAM-01",
        filter: svc,
        mode: "normal",
        kind: `pam_${svc}`,
        msg: `(pam_unix) ${PAM}${tty} ruser={U} rhost={A}  user={U}`,
        u: "bob",
      },
    ];
  }),
  // nginx
  ...[
    [
      "NGX-01",
      "nginx-http-auth",
      "normal",
      `[error] 1234#1234: *5 user "{U}" was not found in "/etc/nginx/.htpasswd"${NGX_TAIL}`,
    ],
    [
      "NGX-02",
      "nginx-http-auth",
      "normal",
      `[error] 1234#1234: *5 user "{U}": password mismatch${NGX_TAIL}`,
    ],
    [
      "NGX-16",
      "nginx-http-auth",
      "aggressive",
      `[info] 1234#1234: *5 SSL_do_handshake() failed (SSL: error:1408F10B:SSL routines:ssl3_get_record:data length too long) while SSL handshaking, client: {A}, server: 0.0.0.0:443`,
    ],
    [
      "NGX-04",
      "nginx-limit-req",
      "normal",
      `[error] 1234#1234: *5 limiting requests, excess: 10.250 by zone "one"${NGX_TAIL}`,
    ],
    [
      "NGX-05",
      "nginx-limit-req",
      "normal",
      `[warn] 1234#1234: *5 delaying request, excess: 0.500, by zone "one"${NGX_TAIL}`,
    ],
    [
      "NGX-06",
      "nginx-limit-req",
      "normal",
      `[error] 1234#1234: *5 limiting connections by zone "addr"${NGX_TAIL}`,
    ],
    [
      "NGX-08",
      "nginx-botsearch",
      "normal",
      `[error] 1234#1234: *5 open() "/var/www/html/{U}" failed (2: No such file or directory), client: {A}, server: example.com, request: "GET /{U} HTTP/1.1", host: "example.com"`,
    ],
  ].map(([id, filter, mode, msg]): Template => ({
    id: id!,
    filter: filter!,
    mode: mode!,
    kind: "nginx",
    msg: msg!,
    u: id === "NGX-08" ? "wp-login.php" : "bob",
  })),
  {
    id: "NGX-20",
    filter: "nginx-botsearch",
    mode: "normal",
    kind: "access",
    msg: `{A} - - [06/Dec/2026:12:00:00 +0000] "GET /{U} HTTP/1.1" 404 153 "-" "Mozilla/5.0"`,
    u: "wp-login.php",
  },
  // apache 2.4
  ...[
    [
      "APA-01",
      AP24(
        "auth_basic",
        "AH01617",
        `user {U}: authentication failure for "/private": Password Mismatch`,
      ),
    ],
    ["APA-02", AP24("auth_basic", "AH01618", "user {U} not found: /private")],
    ["APA-03", AP24("auth_basic", "AH01614", "client used wrong authentication scheme: /private")],
    [
      "APA-04",
      AP24("authz_core", "AH01630", "client denied by server configuration: /var/www/private"),
    ],
    [
      "APA-04",
      AP24("access_compat", "AH01797", "client denied by server configuration: /var/www/private"),
    ],
    ["APA-05", AP24("authz_core", "AH01631", `user {U}: authorization failure for "/private": `)],
    ["APA-06", AP24("auth_digest", "AH01790", "user `{U}' in realm `private' not found: /private")],
    [
      "APA-07",
      AP24("auth_digest", "AH01791", "user `{U}' in realm `private' denied by provider: /private"),
    ],
    ["APA-08", AP24("auth_digest", "AH01792", "user {U}: password mismatch: /private")],
    [
      "APA-09",
      AP24(
        "auth_digest",
        "AH01775",
        "invalid nonce 'b8d1e2' received - length is not 52 or time encoding is incorrect",
      ),
    ],
    ["APA-09", AP24("auth_digest", "AH01775", "invalid nonce b8d1e2 received - length is not 52")],
    [
      "APA-11",
      AP24("auth_digest", "AH01777", "invalid nonce b8d1e2 received - user attempted time travel"),
    ],
    [
      "APA-12",
      AP24("auth_digest", "AH01788", "realm mismatch - got `other' but expected `private'"),
    ],
    ["APA-13", AP24("auth_digest", "AH01789", "unknown algorithm `SHA-999' received: /private")],
    ["APA-14", AP24("auth_digest", "AH01793", "invalid qop `auth-x' received: /private")],
    [
      "APA-21",
      AP24(
        "ssl",
        "AH02031",
        "Hostname www.example.org provided via SNI, but no hostname provided in HTTP request",
      ),
    ],
    [
      "APA-22",
      AP24(
        "ssl",
        "AH02032",
        "Hostname www.example.org provided via SNI and hostname other.example.org provided via HTTP have no compatible SSL setup",
      ),
    ],
    [
      "APA-22",
      AP24(
        "ssl",
        "AH02032",
        "Hostname www.example.org provided via SNI and hostname other.example.org provided via HTTP are different",
      ),
    ],
    [
      "APA-23",
      AP24("ssl", "AH02033", "No hostname was provided via SNI for a name based virtual host"),
    ],
  ].map(([id, msg]): Template => ({
    id: id!,
    filter: "apache-auth",
    mode: "normal",
    kind: "apache",
    msg: msg!,
    u: "bob",
  })),
  // apache 2.2
  ...[
    ["APA-01", `user {U}: authentication failure for "/private": Password Mismatch`],
    ["APA-02", "user {U} not found: /private"],
    ["APA-04", "client denied by server configuration: /var/www/private"],
    ["APA-06", "Digest: user `{U}' in realm `private' not found: /private"],
    ["APA-08", "Digest: user {U}: password mismatch: /private"],
    ["APA-09", "Digest: invalid nonce b8d1e2 received - length is not 52"],
    ["APA-11", "Digest: invalid nonce b8d1e2 received - user attempted time travel"],
  ].map(([id, msg]): Template => ({
    id: id!,
    filter: "apache-auth",
    mode: "normal",
    kind: "apache22",
    msg: AP22(msg!),
    u: "bob",
  })),
  // dovecot
  ...[
    ["DOV-01", `imap-login: Disconnected (auth failed, 1 attempts in 2 secs)${LOGIN}`],
    ["DOV-01", `pop3-login: Info: Disconnected (auth failed, 3 attempts in 12 secs)${LOGIN}`],
    ["DOV-01", `imap-login: Disconnected (tried to use disallowed plaintext auth)${LOGIN}`],
    ["DOV-02", `imap-login: Aborted login (auth failed, 1 attempts in 2 secs)${LOGIN}`],
    [
      "DOV-03",
      `imap-login: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs)${LOGIN}`,
    ],
    [
      "DOV-04",
      `imap-login: Aborted login by logging out (auth failed, 1 attempts in 2 secs)${LOGIN}`,
    ],
    [
      "DOV-05",
      `imap-login: Login aborted: Connection closed (auth failed, 1 attempts in 2 secs) (auth_failed)${LOGIN}`,
    ],
    ["DOV-06", "auth: passwd-file({U},{A}): unknown user"],
    ["DOV-06", "auth: passwd-file({U},{A},<Zk3Xy5kbXgEAAAAA>): unknown user"],
    [
      "DOV-06",
      "auth: Info: passwd-file({U},{A},<Zk3Xy5kbXgEAAAAA>): unknown user - trying the next passdb",
    ],
    ["DOV-07", "auth: passwd-file({U},{A},<Zk3Xy5kbXgEAAAAA>): Password mismatch"],
    ["DOV-07", "auth: ldap({U},{A},<Zk3Xy5kbXgEAAAAA>): Password mismatch (for LDAP bind)"],
    [
      "DOV-08",
      "auth-worker(4321): pam({U},{A}): pam_authenticate() failed: Authentication failure (password mismatch?)",
    ],
    [
      "DOV-08",
      "auth-worker(4321): Info: pam({U},{A},<Zk3Xy5kbXgEAAAAA>): pam_authenticate() failed: Authentication failure (Password mismatch?)",
    ],
    [
      "DOV-08",
      "auth-worker(4321): conn unix:auth-worker (pid=4320,uid=113): auth-worker<1>: pam({U},{A},<Zk3Xy5kbXgEAAAAA>): pam_authenticate() failed: User not known to the underlying authentication module: 1 Time(s)",
    ],
    ["DOV-10", "auth: cram-md5({U},{A},<Zk3Xy5kbXgEAAAAA>): password mismatch"],
  ].map(([id, msg]): Template => ({
    id: id!,
    filter: "dovecot",
    mode: "normal",
    kind: "dovecot",
    msg: msg!,
    u: "bob",
  })),
  // proftpd
  ...[
    ["PRO-01", "USER {U} (Login failed): Incorrect password"],
    ["PRO-02", "USER {U} (Login failed): No such user found"],
    ["PRO-03", "USER {U}: no such user found from client.example.net [{A}] to 192.0.2.1:21"],
    ["PRO-04", "USER {U} (Login failed): Password expired"],
    ["PRO-04", "USER {U} (Login failed): Account disabled"],
    ["PRO-05", "USER {U} (Login failed): Invalid shell: '/bin/false'"],
    ["PRO-06", "USER {U} (Login failed): User in /etc/ftpusers"],
    ["PRO-07", "USER {U} (Login failed): Limit access denies login"],
    ["PRO-07", "ANON {U} (Login failed): Limit access denies login"],
    ["PRO-09", "SECURITY VIOLATION: Root login attempted"],
    ["PRO-10", "Maximum login attempts (3) exceeded, connection refused"],
  ].flatMap(([id, msg]): Template[] =>
    ["client.example.net", "{A}"].map((name) => ({
      id: id!,
      filter: "proftpd",
      mode: "normal",
      kind: "proftpd",
      msg: `ftp.example.com (${name}[{A}]) - ${msg!}`,
      u: "bob",
    }))
  ),
  // vsftpd
  ...[
    ["VSF-01", `[{U}] FAIL LOGIN: Client "{A}"`],
    ["VSF-02", `[ftp] FAIL LOGIN: Client "{A}", anon password "{U}"`],
  ].map(([id, msg]): Template => ({
    id: id!,
    filter: "vsftpd",
    mode: "normal",
    kind: "vsftpd",
    msg: msg!,
    u: "bob",
  })),
];

/** Addresses as the service writes them, and the canonical address expected. */
const ADDRS: readonly (readonly [string, string, string])[] = [
  ["192.0.2.10", "192.0.2.10", "any"],
  ["2001:db8::10", "2001:db8::10", "any"],
  ["::ffff:192.0.2.11", "192.0.2.11", "ftp"],
];
/** Decoys planted in the attacker field (`D` is the decoy address). */
export const DECOYS: readonly string[] = [
  "6.6.6.6",
  "x from 6.6.6.6 port 22 ssh2",
  "x from 6.6.6.6 port 22",
  "x from 6.6.6.6",
  "x, client: 6.6.6.6, server: y",
  '", client: 6.6.6.6, server: y, request: "GET /',
  "x rhost=6.6.6.6",
  "x rhost=6.6.6.6  user=x",
  "[6.6.6.6]",
  "x (6.6.6.6[6.6.6.6]) - x",
  "x,6.6.6.6): unknown user",
  'x", rip=6.6.6.6, lip=6.6.6.6',
  ">, method=PLAIN, rip=6.6.6.6, lip=6.6.6.6, TLS, session=<abc",
  'x] FAIL LOGIN: Client "6.6.6.6"',
  "[client 6.6.6.6:1] x",
  "x 6.6.6.6 port 22",
];

/**
 * Lines of templates fail2ban does not count whose tail is attacker text (VSF-05's protocol trace,
 * vsftpd transfer lines): with a decoy there they must give nothing.
 */
export const NEVER: readonly Template[] = [
  `FTP command: Client "{A}", "USER {U}"`,
  `[bob] FTP command: Client "{A}", "PASS {U}"`,
  `FTP response: Client "{A}", "331 {U}"`,
  `[ftp] OK UPLOAD: Client "{A}", "/incoming/{U}", 10 bytes, 0.5Kbyte/sec`,
  `[ftp] FAIL DOWNLOAD: Client "{A}", "/pub/{U}", 0.00Kbyte/sec`,
].map((msg): Template => ({ id: "VSF-05", filter: "vsftpd", mode: "normal", kind: "vsftpd", msg }));
const NEVER_DECOYS = [
  'x] FAIL LOGIN: Client "6.6.6.6',
  'x] FAIL LOGIN: Client "6.6.6.6", anon password "x',
];

function fill(t: Template, addr: string, u: string): string {
  return t.msg.replaceAll("{A}", addr).replaceAll("{U}", u);
}

function run(t: Template, line: string, before: string | undefined): string | null {
  const f = getFilter(t.filter, t.mode);
  if (before !== undefined) f.match(before, T * 1000);
  const m = f.match(line, T * 1000);
  return m && f.lastKind === LineKind.FAILURE ? m.ip : null;
}

/** Every probe line with its outcome. */
export function probe(templates: readonly Template[] = TEMPLATES): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (const t of templates) {
    for (const [addr, expect, where] of ADDRS) {
      if (where === "ftp" && t.kind !== "vsftpd" && t.kind !== "proftpd") continue;
      for (const pre of PREFIXES[t.kind]) {
        const before = t.before === undefined ? undefined : pre + t.before.replaceAll("{A}", addr);
        const line = pre + fill(t, addr, t.u ?? "");
        out.push({ id: t.id, line, expect, got: run(t, line, before), adversarial: false });
        if (t.u === undefined || !t.msg.includes("{U}")) continue;
        for (const d of DECOYS) {
          const bad = pre + fill(t, addr, d);
          out.push({ id: t.id, line: bad, expect, got: run(t, bad, before), adversarial: true });
        }
      }
    }
  }
  for (const t of NEVER) {
    for (const pre of PREFIXES[t.kind]) {
      for (const d of NEVER_DECOYS) {
        const line = pre + fill(t, "192.0.2.10", d);
        const got = run(t, line, undefined);
        out.push({ id: t.id, line, expect: "-", got: got === null ? "-" : got, adversarial: true });
      }
    }
  }
  return out;
}

/** Figures: benign lines correct / missed / wrong, and decoy lines wrong. */
export function figures(results: readonly ProbeResult[]): {
  templates: number;
  lines: number;
  correct: number;
  missed: number;
  wrong: number;
  decoys: number;
  decoyWrong: number;
} {
  const benign = results.filter((r) => !r.adversarial);
  const decoys = results.filter((r) => r.adversarial);
  return {
    templates: TEMPLATES.length,
    lines: benign.length,
    correct: benign.filter((r) => r.got === r.expect).length,
    missed: benign.filter((r) => r.got === null).length,
    wrong: benign.filter((r) => r.got !== null && r.got !== r.expect).length,
    decoys: decoys.length,
    decoyWrong: decoys.filter((r) => r.got !== null && r.got !== "-" && r.got !== r.expect).length,
  };
}
