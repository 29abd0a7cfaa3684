/**
 * The built-in filters, written in the pattern language (docs/filters.md) from the services' own
 * message templates (docs/formats/: each pattern names the catalog entry it implements).
 *
 * Rule for every pattern here: the address comes from a structural field whose position the
 * service fixes — anchored to the start of the message (`<HOST>` before any `<*>`), to its end
 * (after the last `<*>`) only when the service writes the end itself, or else between `<*>`s where
 * any second placement with another address makes the line ambiguous (no match). Across the
 * patterns of a mode the same holds: two patterns that read different addresses from one line
 * make it ambiguous. Attacker-controlled text (user names, request lines, HELO names, PAM
 * `ruser`/`user`) is only ever skipped.
 *
 * Modes carry fail2ban 1.1's names and contents, so `filter = sshd[mode=ddos]` means the same in
 * both. Lines that only tell a session's address (fail2ban's `F-NOFAIL` helpers) are `helper`
 * rules; failures logged without an address (`Disconnecting: Too many authentication failures`)
 * are `orphan` rules that take the address of their sshd session.
 * @module
 */

import { type ProgramSet, programSet } from "./_shape.ts";

/**
 * What a pattern is to its filter. `fail` lines count; `announce` lines count and open an attempt
 * whose next `repeat` line (same session, same address) is a duplicate; `repeat` lines otherwise
 * count; `helper` lines only tell the session's address (and settle a waiting `orphan`); `end` is
 * a helper that closes the session; `forget` (a success) drops what the session waits for;
 * `orphan` lines are failures without an address that take the session's; `echo` lines are what
 * the service writes right after an attempt's own line about the same attempt (sshd's MaxAuthTries
 * lines): a duplicate when the session's last attempt line was for the same address (counted or a
 * duplicate itself), else they count, with the session's address when they have none; `ignore`
 * lines never count (a mode's own ignore patterns).
 */
export type Role =
  | "fail"
  | "announce"
  | "repeat"
  | "helper"
  | "end"
  | "forget"
  | "orphan"
  | "echo"
  | "ignore";

/**
 * Where a line names the login it tried (`pam`: PAM's `ruser=R rhost=A[ user=U]`; `for`: sshd's
 * `Accepted M for U from A`): a session that tries a second login name counts its helper and
 * success lines (an attacker who switches user names to reset the count, as fail2ban reads it).
 */
export type UserField = "pam" | "for";

/** A pattern with its role; `unique`: a text that must occur once in the message, else ambiguous. */
export interface Rule {
  readonly role: Role;
  readonly p: string;
  readonly unique?: string;
  readonly user?: UserField;
  /**
   * The line's place in an attempt the service writes several lines for (1 = first): a line of a
   * later step than the session's open attempt, for the same address, is its duplicate; one of
   * the same or an earlier step is a new attempt and counts. `close` ends the open attempt.
   */
  readonly step?: number;
  readonly close?: boolean;
  /** The session is the address itself (the lines of an attempt share no pid), not the pid. */
  readonly byAddr?: boolean;
  /**
   * The seconds within which the service writes every line of one attempt (0 or absent: no
   * bound): a line of a later step whose open attempt's last line is older is a new attempt.
   */
  readonly span?: number;
  /** A text after which the line states how many seconds its attempt took (narrowing `span`). */
  readonly spanIn?: string;
}

/** Rules of step `n` of a multi-line attempt (`Rule.step`); they count unless they continue one. */
function step(
  n: number,
  list: readonly string[],
  opts: { close?: boolean; byAddr?: boolean; unique?: string; span?: number; spanIn?: string } = {},
): Rule[] {
  return list.map((p) => ({ role: "announce", p, step: n, ...opts }));
}

/** A built-in filter before compilation. */
export interface FilterDef {
  readonly name: string;
  /** Programs whose lines the filter reads (lines that name no program are always read). */
  readonly program?: ProgramSet;
  /** Prefixes skipped at the start of the message (log levels), at most one. */
  readonly strip?: readonly string[];
  /** Rules per mode (a plain string is a `fail` rule); the first mode is the default, `normal`. */
  readonly modes: Readonly<Record<string, readonly (string | Rule)[]>>;
  readonly ignore?: readonly string[];
  /**
   * The service's own length limit, in bytes: a message (from its first character after the line
   * prefix) of this length or more may have lost its trailing structure and is ambiguous.
   */
  readonly cap?: number;
}

function as(role: Role, list: readonly string[], unique?: string, user?: UserField): Rule[] {
  return list.map((p) => ({
    role,
    p,
    ...(unique === undefined ? {} : { unique }),
    ...(user === undefined ? {} : { user }),
  }));
}
/** Rules of several lists, each text once (the first role wins). */
function union(...lists: readonly (readonly (string | Rule)[])[]): (string | Rule)[] {
  const seen = new Set<string>();
  const out: (string | Rule)[] = [];
  for (const list of lists) {
    for (const r of list) {
      const p = typeof r === "string" ? r : r.p;
      if (!seen.has(p)) {
        seen.add(p);
        out.push(r);
      }
    }
  }
  return out;
}

// ---- pam_unix (PAM-01..03): `authentication failure; logname=… ruser=RUSER rhost=RHOST[  user=U]`
// RUSER and U are the login name (attacker text); RHOST is the address, or a host name where the
// service passes one. The real ` rhost=` is written once: a second one (in RUSER or U) makes the
// line ambiguous, so a planted address can never stand in for a name in the real field.
// Other modules write pam_unix's template under their own name (pam_sss `… rhost=%s user=%s`,
// pam_ldap, pam_winbind, pam_krb5: PAM-01m); sshd may add ` [preauth]` after it.
function pam(service: string): string[] {
  const head =
    `{pam_<NAME>|pam_<NAME>(${service}:auth)|(pam_unix)|pam_<NAME>(${service}:auth):|pam_<NAME>:}`;
  const tail = "authentication failure; logname=<*> rhost=<HOST>";
  return [
    `${head} ${tail}{| [preauth]}`,
    `${head} ${tail}  user=<*>`,
    `${head} ${tail} user=<*>`,
  ];
}
const RHOST = " rhost=";

// ---- sshd (docs/formats/sshd.md; OpenSSH 3.9 – 10.x, sshd / sshd-session / sshd-auth) ---------

const METHOD =
  "{password|keyboard-interactive/pam|keyboard-interactive/bsdauth|keyboard-interactive|hostbased|gssapi-with-mic|gssapi-keyex|none|unknown|rsa|rhosts-rsa|challenge-response|tis|kerberos}";
const PREAUTH = "{| [preauth]}";
// SSH-01..05: `Failed METHOD for [invalid user ]USER from ADDR port N ssh2[: INFO]`. A password
// failure has no INFO, but the `: INFO` reading is kept for every method: an injected
// ` from A port N ssh2: …` then gives two readings and the line is ambiguous.
const SSHD_FAILED = [
  ...as("repeat", [
    `Failed ${METHOD} for {invalid|illegal} user <*> from <HOST> port <NUM>{| ssh<NUM>}${PREAUTH}`,
    `Failed ${METHOD} for {invalid|illegal} user <*> from <HOST> port <NUM> ssh<NUM>: <*>`,
    `Failed publickey for {invalid|illegal} user <*> from <HOST> port <NUM> ssh<NUM>{|: <*>}`,
    `Failed ${METHOD} for <*> from <HOST> port <NUM>{| ssh<NUM>}${PREAUTH}`,
    `Failed ${METHOD} for <*> from <HOST> port <NUM> ssh<NUM>: <*>`,
    // SSH-03/04 (≤6.2, SSH1 rhosts-rsa): ` ruser USER2` (attacker text) follows the port, so a
    // USER2 holding ` from A port N` is a second placement and the line is ambiguous
    `Failed ${METHOD} for <*> from <HOST> port <NUM> ruser <*>`,
    // OpenSSH before 3.9 wrote no port; a later line always ends in `ssh2`, `[preauth]` or INFO
    `Failed ${METHOD} for {invalid|illegal} user <*> from <HOST>`,
  ]),
];
const SSHD_PAM = [
  ...as("helper", pam("sshd"), RHOST, "pam"),
  ...as("helper", [
    "PAM <NUM> more authentication failure{s|}; logname=<*> rhost=<HOST>{|  user=<*>| user=<*>}",
  ], RHOST),
];
const SSHD_CLOSE = [
  `Connection {closed|reset} by{| invalid user <*>| authenticating user <*>| user <*>} <HOST>{| port <NUM>}${PREAUTH}`,
  `Disconnected from{| invalid user <*>| authenticating user <*>| user <*>} <HOST>{| port <NUM>}${PREAUTH}`,
  "Received disconnect from <HOST>{| port <NUM>}:{| }11: <*>",
];
const SSHD_COMMON: (string | Rule)[] = [
  ...as("announce", [
    `{Invalid|Illegal|invalid|illegal} user <*> from <HOST>{| port <NUM>}${PREAUTH}`, // SSH-06..08
    "{PAM: |}{Authentication|authentication} {failure|error|failed} for <*> from <HOST>{| via <WORD>}{| port <NUM>}", // SSH-38
    "{PAM: |}User not known to the underlying authentication module for <*> from <HOST>",
  ]),
  ...SSHD_FAILED,
  "Disconnecting {authenticating|invalid} user <*> <HOST> port <NUM>: Change of username or service not allowed: <*>", // SSH-18
  "User <*> from <HOST> not allowed because {not listed in AllowUsers|listed in DenyUsers|not in any group|a group is listed in DenyGroups|none of user's groups are listed in AllowGroups|not in AllowGroups}" +
  PREAUTH, // SSH-09..13
  `ROOT LOGIN REFUSED FROM <HOST>{| port <NUM>}${PREAUTH}`, // SSH-14, 15
  "refused connect from <*> (<HOST>)", // tcp_wrappers
  `Received disconnect from <HOST>{| port <NUM>}:{| }3: <*>: Auth fail${PREAUTH}`, // SSH-19, 20
  // written right after the `Failed` line of the attempt that reached MaxAuthTries (auth2.c
  // `userauth_finish`): its duplicates, unless that attempt did not count (a valid user's key)
  ...as("echo", [
    `{maximum|Maximum} authentication attempts exceeded for <*> from <HOST> port <NUM>{| ssh<NUM>}${PREAUTH}`, // SSH-16
    `Disconnecting: Too many authentication failures for <*> from <HOST> port <NUM> ssh<NUM>${PREAUTH}`, // SSH-49
    `Disconnecting: Too many authentication failures{| for <*>}${PREAUTH}`, // SSH-48, 50
  ]),
  ...as("orphan", [`User <*> not allowed because account is locked${PREAUTH}`]), // SSH-56
  ...as(
    "forget",
    [
      "Accepted <WORD> for <*> from <HOST> port <NUM>{| ssh<NUM>}{|: <*>}",
    ],
    undefined,
    "for",
  ),
  ...as("helper", [
    "Failed publickey for <*> from <HOST> port <NUM> ssh<NUM>{|: <*>}", // counted only for invalid users
    "Connection from <HOST> port <NUM>{| on <*>}", // SSH-39 (VERBOSE)
    "SSH: Server;Ltype: <NAME>;Remote: <HOST>-<NUM>;<*>", // vendor patch (gh-864)
    "Postponed <WORD> for <*> from <HOST> port <NUM> ssh<NUM>{|: <*>}" + PREAUTH,
  ]),
  ...SSHD_PAM,
];
const SSHD_NORMAL = [...SSHD_COMMON, ...as("end", SSHD_CLOSE)];

const SSHD_DDOS_ONLY: (string | Rule)[] = [
  "Did not receive identification string from <HOST>{| port <NUM>}", // SSH-31, 32
  "Bad protocol version identification <*> from <HOST>{| port <NUM>}", // SSH-33, 34
  `banner exchange: Connection from <HOST> port <NUM>: invalid format${PREAUTH}`, // SSH-35
  `{Connection closed by|Connection reset by|Disconnected from}{| invalid user <*>| authenticating user <*>| user <*>} <HOST>{| port <NUM>} [preauth]`, // SSH-22..26
  ...as("orphan", [
    "kex_exchange_identification: {client sent invalid protocol identifier|Client sent invalid protocol identifier|Connection closed by remote host|Connection reset by peer|read: Connection reset by peer|read: Connection closed by remote host}<*>", // SSH-53
    `Read from socket failed: Connection reset by peer${PREAUTH}`, // SSH-54
  ]),
];
const SSHD_EXTRA_ONLY: (string | Rule)[] = [
  `Received disconnect from <HOST>{| port <NUM>}:{| }14: No{| supported} authentication methods available${PREAUTH}`,
  "Unable to negotiate with <HOST>{| port <NUM>}: no matching <*> found<*>", // SSH-28..30
  `Disconnected from {invalid|authenticating} user <*> <HOST>{| port <NUM>} [preauth]`,
  ...as("orphan", [
    `Unable to negotiate a <*>${PREAUTH}`, // SSH-55
    "no matching {cipher|mac|MAC|comp|compression method|key exchange method|host key type} found: <*>",
  ]),
];

const SSHD_DDOS = union(SSHD_DDOS_ONLY, SSHD_NORMAL);
const SSHD_EXTRA = union(SSHD_EXTRA_ONLY, SSHD_NORMAL);
const SSHD_AGGRESSIVE = union(SSHD_DDOS_ONLY, SSHD_EXTRA_ONLY, SSHD_NORMAL);

// ---- nginx (docs/formats/nginx.md) --------------------------------------------------------------
// Error log: `[LEVEL] PID#TID: *CID MESSAGE, client: ADDR, server: NAME, request: "…", host: "…"`.
// Text before `, client: ` (user names, paths) and after it (request line, host) is the client's,
// unescaped: every `, client: ADDR, server: ` in the line is a candidate and two that disagree make
// the line ambiguous.

const NGX = "[<NAME>] <NUM>#<NUM>: {*<NUM> |}";
const CLIENT = ", client: <HOST>, server: <*>";
/** nginx writes `, client: ` once per record: a second one is the client's text. */
function ngx(list: readonly string[]): Rule[] {
  return as("fail", list, ", client: ");
}

/** NGX_MAX_ERROR_STR (2048 bytes for the whole record) less the time stamp. */
const NGX_CAP = 2048 - 20;

const NGINX_AUTH = [
  `${NGX}user "<*>"{|:} was not found in "<*>"${CLIENT}`, // NGX-01
  `${NGX}user "<*>"{|:} password mismatch${CLIENT}`, // NGX-02
];
const NGINX_FALLBACK = [
  `${NGX}SSL_do_handshake() failed (SSL: error:<*> too {long|short})<*>${CLIENT}`,
];
const NGINX_NO_USER = [
  `${NGX}no user/password was provided for basic authentication${CLIENT}`,
];

// limit_req and limit_conn write no client text before their trailer (the zone is a config name),
// so the first `, client: ` is nginx's: the address is read from the start of the message, and a
// request line or Referer holding `, client: X, server: ` (or one long enough to cut the record)
// changes nothing (no `unique`, no length cap for this filter). The zone name is read as up to
// three words of name characters (`zone="my zone":10m` is a quoted config token), not as `<*>`,
// which would let the client's `", client: X, server: ` be a second placement
const ZONE = "{<NAME>|<NAME> <NAME>|<NAME> <NAME> <NAME>}";
const NGINX_LIMIT = [
  `${NGX}limiting requests, excess: <WORD> by zone "${ZONE}"${CLIENT}`, // NGX-04
  `${NGX}delaying request, excess: <WORD> by zone "${ZONE}"${CLIENT}`, // NGX-05
  `${NGX}limiting connections by zone "${ZONE}"${CLIENT}`, // NGX-06
];

// fail2ban's botsearch-common list: webmail, phpMyAdmin (also under typo3/ xampp/ admin/),
// WordPress login/signup/admin scripts, cgi-bin, mysqladmin
const BOT =
  "{roundcube|mail|extmail|horde|webmail|vwebmail|v-webmail|cgi-bin|mysqladmin|wp-login.php|wp-signup.php|wp-admin.php}";
const PMA =
  "{|typo3/|xampp/|admin/}{pma|myadmin|myAdmin|Myadmin|MyAdmin|phpmyadmin|phpmyAdmin|phpMyadmin|phpMyAdmin}";
const ERR_404 = [
  // `of.failed`: open(), openat() with disable_symlinks, stat() when open_file_cache revalidates
  ...["open()", "openat()", "stat()"].map((f) =>
    `${f} "<*>" failed (2: No such file or directory)`
  ), // NGX-08
  `"<*>" is not found (2: No such file or directory)`, // NGX-10n
];

const NGINX_BOT = [
  ...ERR_404.flatMap((what) =>
    [BOT, PMA].flatMap((path) =>
      ["GET", "POST", "HEAD"].map((verb) =>
        `${NGX}${what}, client: <HOST>, server: <*>, request: "${verb} {/|//}${path}<*>`
      )
    )
  ),
  // access log (CLF/combined): the address is the first field; `"` in fields is escaped
  `<HOST> - <*> [<*>] "{GET|POST|HEAD} {/|//}${BOT}<*>" 404 <*>`,
  `<HOST> - <*> [<*>] "{GET|POST|HEAD} {/|//}${PMA}<*>" 404 <*>`,
];

// ---- postfix (docs/formats/postfix.md) ---------------------------------------------------------
// `VERB from NAME[ADDR]:PORT: …`: NAME is a reverse-DNS name or `unknown` (never holds `[`), the
// address comes right after it, before any client text (HELO, sender, recipient).

const PFX = "{<NAME>|}[{|IPv6:}<HOST>]{|:<NUM>}";
// The reply: CODE, the enhanced status (postfix 2.3+; 2.0–2.2 write none), then the text, whose
// reason starts it or follows `<ITEM>: ` (an empty item leaves `: `) and then `Helo command|Sender
// address|Recipient address rejected: ` (smtpd_check.c's reject texts; fail2ban 1.1 reads the same
// places). Read there only: the rest of the text (a policy server's or greylister's words after
// its `rejected: `, `from=<…>`, `helo=<…>`) is anyone's, so a greylisted sender at match.com, or a
// `Mailbox full, user unknown to sender` reply, is no reject of the listed kinds. The reasons form
// one group of plain texts, matched as one step (docs/filters.md), not one variant each.
const REASONS = [
  "Service unavailable",
  "Access denied",
  "Client host rejected",
  "Command rejected",
  "Data command rejected",
  "Relay access denied",
  "Host not found",
  "Domain not found",
  "need fully-qualified hostname",
  "User unknown",
  "user unknown",
  "Undeliverable address",
  "undeliverable address",
  "match",
];
const REPLIES = ["", ": ", "\\<<*>>: "].flatMap((item) =>
  ["", "{Helo command|Sender address|Recipient address} rejected: "].map((what) =>
    `<NUM> {<NUM>.<NUM>.<NUM> |}${item}${what}{${REASONS.join("|")}}<*>`
  )
);
// One SMTP session (smtpd pid) is one attempt: its rejects and SASL failures count, the "too many
// errors" that ends it summarises them (a duplicate after them; alone, it counts); `disconnect`
// closes the session, since an smtpd process serves many connections in turn.
const TOO_MANY = step(2, [`too many errors after <NAME> from ${PFX}{|:|: <*>}`], { close: true }); // PFX-06
const DISCONNECT = as("end", [`disconnect from ${PFX}{| <*>}`]); // PFX-11
// Only a reply code `[45][50][04]` counts (the catalog's PFX-01, fail2ban 1.1): milter8.c's `451
// 4.7.1 Service unavailable - try again later` is postfix's own answer to every client while a
// milter is down (milter_default_action = tempfail), and the other 4xx/5xx codes postfix or an
// access map writes (421, 451–453, 501, 521, 551–553) are no guesses either. Read from the start of
// the message (queue id, action, stage, client name, address: no client text before the code), so
// a planted code in a sender or HELO changes nothing.
const NOT_COUNTED = as("ignore", [
  `{<NAME>: |}{reject|milter-reject}: <NAME> from <NAME>[<HOSTNAME>]{|:<NUM>}: {421|451|452|453|501|521|551|552|553} <*>`,
]);
const POSTFIX_NORMAL: (string | Rule)[] = [
  ...step(
    1,
    ["<NAME>: ", ""].flatMap((q) =>
      REPLIES.map((reply) => `${q}{reject|milter-reject}: <NAME> from ${PFX}: ${reply}`)
    ),
  ), // PFX-01, 02, 22
  `improper command pipelining after <NAME> from ${PFX}{|:|: <*>}`, // PFX-08
  ...TOO_MANY,
  ...DISCONNECT,
  ...NOT_COUNTED,
];
const POSTFIX_RBL = [
  ...["<NAME>: ", ""].map((q) =>
    `${q}reject: <NAME> from ${PFX}: <NUM> {<NUM>.7.1 |}Service unavailable; {Client|client} host [<*>] blocked<*>`
  ),
  ...NOT_COUNTED,
];
const SASL = step(1, [`warning: ${PFX}: SASL <NAME> authentication failed{|:|: <*>}`]); // PFX-03, 04
const POSTFIX_AUTH: (string | Rule)[] = [
  ...SASL,
  ...DISCONNECT,
  ...as("ignore", [
    `warning: ${PFX}: SASL <NAME> authentication failed: Connection lost to authentication server<*>`,
    `warning: ${PFX}: SASL <NAME> authentication failed: Invalid authentication mechanism<*>`,
  ]),
];
const POSTFIX_AUTH2: (string | Rule)[] = [
  ...SASL,
  ...as("ignore", [
    `warning: ${PFX}: SASL <NAME> authentication failed: Connection lost to authentication server<*>`,
  ]),
];
const NZ = "{1|2|3|4|5|6|7|8|9}";
const POSTFIX_DDOS: (string | Rule)[] = [
  `lost connection after <NAME> from ${PFX}{|:|: <*>| <*>}`, // PFX-13
  `disconnect from ${PFX} <*>auth=0/${NZ}<*>`, // PFX-14 (3.0+ command counts)
  `PREGREET <NUM> after <WORD> from [<HOST>]:<NUM>{|: <*>}`, // PSC-01
  `HANGUP after <WORD> from [<HOST>]:<NUM>{| <*>}`, // PSC-02
  `COMMAND {TIME|COUNT|LENGTH} LIMIT from [<HOST>]:<NUM>{| <*>}`, // PSC-03
  ...as("ignore", [`lost connection after DATA<*>`]),
];
const POSTFIX_ERRORS = [`too many errors after <NAME> from ${PFX}`];

// ---- dovecot (docs/formats/dovecot.md) ---------------------------------------------------------

// process prefixes as dovecot's own log file and syslog write them; auth-worker lines also carry
// the connection that asked (`conn unix:auth-worker (pid=N,uid=N): auth-worker<N>: `)
const DOVE_PROC = [
  "",
  "<NAME>: ",
  "<NAME>(<NUM>): ",
  "<NAME>(<NAME>): ",
  "<NAME>: <NAME>(<NAME>): ",
]
  .map((proc) => `${proc}{Info: |}`);
const DOVE_AUTH = DOVE_PROC.flatMap((proc) =>
  ["", "conn <*>: auth-worker<<NUM>>: ", "conn <*>: auth<<NUM>>: "].map((c) => `${proc}${c}`)
);
// login processes (DOV-01..04): `REASON (WHY): user=<U>, method=M, rip=ADDR, lip=ADDR, …`. The
// user name (≤ 80 bytes, any byte but control) may hold `>, method=P, rip=A, lip=B`, so the
// address is the `rip=` that only server-written elements follow: `lip=`, `mpid=`, the TLS state
// (OpenSSL's text after it is free) and `session=<base64>`, as login_log_format_elements writes
// them by default (1.x – 2.4)
const LOGIN_TAIL =
  "rip=<HOST>{|, lip=<HOSTNAME>}{|, mpid=<NUM>}{|, session=<<SID>>|, TLS<*>|, secured<*>}";
function dovecotLogin(why: string): string[] {
  return DOVE_PROC.map((pre) => `${pre}<*>${why}<*>): <*>${LOGIN_TAIL}`);
}
// One attempt writes PAM's line (step 1, from the auth process, when a PAM passdb fails), the
// auth process's own line (step 2, with auth_verbose), and the login process's summary when the
// client disconnects (step 3, closing: `auth failed, N attempts`). They share no pid, so the
// session is the address: each counts only when no earlier step of the open attempt did.
const AUTH_WHY =
  "{(auth failed, <NUM> attempts|(<NUM> authentication attempts|(tried to use disabled|(tried to use disallowed|(proxy dest auth failed}";
// The message is server text to the end of the line (D12 auth-request.c:2338-2368, passdb-pam.c:
// 158-185): with `auth_verbose_passwords` a space, the given password or its SHA-1 and maybe
// `- trying the next passdb|userdb` follow it; pam's is `pam_authenticate() failed: ` and
// pam_strerror's text. ` - trying the next …` also comes right after the reason (one space: the
// catalog's DOV-06 form without auth_verbose_passwords). Anchored there, a user name holding `,ADDR): unknown user` (possible when
// `auth_username_chars` admits `,():` and space) no longer reads as a second whole line.
const AUTH_FAIL = [
  "{unknown user|Unknown user|invalid credentials|Invalid credentials|Password mismatch|password mismatch|Password mismatch (for LDAP bind)}" +
  "{| {|(given password: <*>)|(SHA1 of given password: <HEX>)}}{| - trying the next passdb| - trying the next userdb}",
  "pam_authenticate() failed: <*>",
];
// An attempt left open (its connection lost before the summary, the summary's line lost) must not
// swallow the address's next attempt: dovecot 2.x disconnects a client that has not logged in
// MASTER_LOGIN_TIMEOUT_SECS (180) after it connected (D12 client-common.c:244, never reset), so
// the lines of one connection lie within 180 s, and its summary's `in S secs` counts from its
// first attempt (client-common.c:1029)
const DOVE_SPAN = 180;
const DOVECOT: (string | Rule)[] = [
  ...step(3, dovecotLogin(AUTH_WHY), {
    close: true,
    byAddr: true,
    span: DOVE_SPAN,
    spanIn: " attempts in ",
  }),
  // auth process (DOV-05..07): `DRIVER(USER,ADDR[,<SESSION>]): REASON`; the driver (pam,
  // passwd-file, sql, ldap, …) is a name without `(`, the session id is base64, so an address
  // planted in USER is followed by neither `): ` nor `,<base64>): `
  ...step(
    2,
    DOVE_AUTH.flatMap((pre) =>
      AUTH_FAIL.flatMap((why) => [
        `${pre}<NAME>(<*>,<HOST>): ${why}`,
        `${pre}<NAME>(<*>,<HOST>,<<SID>>): ${why}`,
        `${pre}<NAME>(<*>,<HOST>,): ${why}`,
      ])
    ),
    { byAddr: true, span: DOVE_SPAN },
  ),
  ...step(1, DOVE_PROC.flatMap((pre) => pam("dovecot").map((p) => `${pre}${p}`)), {
    byAddr: true,
    unique: RHOST,
  }),
  // a login ends the address's open attempt (a mistyped password, then success): the next
  // summary from that address is a new attempt
  ...DOVE_PROC.map((pre): Rule => ({
    role: "forget",
    p: `${pre}Login: user=<*>${LOGIN_TAIL}`,
    byAddr: true,
  })),
];
const DOVECOT_AGGRESSIVE = [
  ...DOVECOT,
  ...dovecotLogin(
    "{(no auth attempts|(disconnected before auth was ready|(client didn't finish SASL auth|(client didn't finish <WORD> auth}",
  ),
];

// ---- ftp ---------------------------------------------------------------------------------------

// `FQDN (NAME[ADDR])` comes first (`(NAME[ADDR])` alone with `LogOptions -VirtualHost`, log.c);
// NAME is a reverse-DNS name, which the resolver checks for host name characters (no brackets),
// so the first bracket holds the address
const PRO = "{<HOSTNAME> |}(<HOSTNAME>[<HOST>]){ -|:} ";
const PROFTPD = [
  `${PRO}{USER|ANON} <*> (Login failed): <*>`, // PRO-01, 02, 04..07
  `${PRO}USER <*>: no such user found from <*>`, // PRO-02
  `${PRO}USER <*>: {Incorrect password|incorrect password|Password expired|Account disabled|User not authorized for login|user not authorized for login|Invalid shell|Limit access denies login|Limit configuration denies login|Not a UserAlias|Maximum login length exceeded}<*>`,
  `${PRO}Maximum login attempts {(<NUM>) |}exceeded<*>`, // PRO-04
  `${PRO}SECURITY VIOLATION: <*> login attempted<*>`, // PRO-05
  // no PAM lines: proftpd passes its (reverse-DNS) remote name as PAM_RHOST
];

// `[pid N] [USER] EVENT: Client "ADDR"[, …]` (logging.c). `[<*>]` can also read `[pid N] FTP
// command: Client "A", "USER x`, so lines whose tail is client text (VSF-05's `FTP command` /
// `FTP response` trace, transfer paths) are never failures, whatever they end in
const VSF_TEXT =
  "{FTP command|FTP response|OK DOWNLOAD|FAIL DOWNLOAD|OK UPLOAD|FAIL UPLOAD|OK MKDIR|FAIL MKDIR|OK RMDIR|FAIL RMDIR|OK DELETE|FAIL DELETE|OK RENAME|FAIL RENAME|OK CHMOD|FAIL CHMOD}";
const VSFTPD: (string | Rule)[] = [
  `{[pid <NUM>] |}[<*>] FAIL LOGIN: Client "<HOST>"`, // VSF-01
  `{[pid <NUM>] |}[<*>] FAIL LOGIN: Client "<HOST>", {anon password "<*>"|"<*>"}`, // VSF-02, userlist reason
  ...as("ignore", [`{[pid <NUM>] |}{|[<*>] }${VSF_TEXT}: Client "<*>`]),
  ...as("fail", pam("vsftpd"), RHOST), // PAM-01 (rhost may be a name: the one-rhost rule applies)
];

// ---- apache (docs/formats/apache.md) -----------------------------------------------------------
// `[MODULE:LEVEL] [pid N:tid M] [client ADDR:PORT] AHnnnnn: MESSAGE` (2.4) or
// `[error] [client ADDR] MESSAGE` (2.2): the address is in the prefix, before any client text.

// 2.4 always writes the port (log.c `[client %s:%d]`) and an IPv6 address bare: a port-less
// reading of `2001:db8::1:4242` would be another address, so 2.4's element needs the port (split
// at the last `:`). 2.2 (`[error]`) writes no port: its element is the address alone.
const APA = ["", "[pid <NUM>] ", "[pid <NUM>:tid <NUM>] "].flatMap((pid) => [
  `[{<NAME>:<NAME>|:<NAME>}] ${pid}[client {<HOST>:<NUM>|[<HOST>]{:<NUM>|}}] {AH<NUM>: |}`,
  `[error] ${pid}[client {<HOST>|[<HOST>]{:<NUM>|}}] {AH<NUM>: |}`,
]);
const AUTH_TYPE = "{|Digest: |Basic: }";
const APACHE_AUTH = APA.flatMap((a) => [
  `${a}${AUTH_TYPE}client {denied by server configuration|used wrong authentication scheme}<*>`, // APA-03, 03d, 04
  `${a}user <*> {authentication failure|authorization failure|not found|denied by provider}<*>`,
  `${a}Authorization of user <*> to access <*> failed<*>`,
  `${a}${AUTH_TYPE}user <*>: password mismatch<*>`,
  `${a}${AUTH_TYPE}user \`<*>' in realm \`<*>' {authentication failure|authorization failure|not found|denied by provider}<*>`,
  `${a}${AUTH_TYPE}invalid nonce <*> received - {length is not|user attempted time travel}<*>`,
  `${a}${AUTH_TYPE}realm mismatch - got \`<*>' but expected<*>`,
  `${a}${AUTH_TYPE}unknown algorithm \`<*>' received<*>`,
  `${a}invalid qop \`<*>' received<*>`,
  `${a}Hostname <*> provided via SNI, but no hostname provided<*>`,
  `${a}Hostname <*> provided via SNI and hostname <*> provided<*>`,
  `${a}No hostname was provided via SNI for a name based virtual host<*>`,
]);

// ---- recidive: fail2ban's own log (`fail2ban.actions [PID]: NOTICE [JAIL] Ban ADDR`) ----------
const RECIDIVE: (string | Rule)[] = [
  "{|fail2ban.actions <*>}NOTICE <*>[<*>] Ban <HOST>",
  ...as("ignore", ["{|fail2ban.actions <*>}NOTICE <*>[recidive] Ban <*>"]),
];

/** Every built-in filter. The first mode of each is its default, `normal`. */
export const BUILTINS: readonly FilterDef[] = [
  {
    name: "sshd",
    program: programSet({ names: ["sshd", "sshd-session", "sshd-auth"] }),
    strip: ["error: ", "fatal: "],
    cap: 500, // syslog(pri, "%.500s", …)
    modes: {
      normal: SSHD_NORMAL,
      ddos: SSHD_DDOS,
      extra: SSHD_EXTRA,
      aggressive: SSHD_AGGRESSIVE,
    },
  },
  {
    name: "nginx-http-auth",
    modes: {
      normal: ngx(NGINX_AUTH),
      auth: ngx(NGINX_AUTH),
      fallback: ngx(NGINX_FALLBACK),
      aggressive: ngx([...NGINX_AUTH, ...NGINX_FALLBACK, ...NGINX_NO_USER]),
    },
    cap: NGX_CAP,
  },
  {
    name: "nginx-limit-req",
    modes: { normal: as("fail", NGINX_LIMIT), aggressive: as("fail", NGINX_LIMIT) },
  },
  {
    name: "nginx-botsearch",
    // the access-log patterns take the first field; `, client: ` is the error log's
    modes: { normal: [...ngx(NGINX_BOT.slice(0, -2)), ...NGINX_BOT.slice(-2)] },
    cap: NGX_CAP,
  },
  {
    name: "postfix",
    program: programSet({ prefixes: ["postfix"] }),
    cap: 2000,
    modes: {
      normal: POSTFIX_NORMAL,
      more: POSTFIX_NORMAL,
      auth: POSTFIX_AUTH,
      rbl: POSTFIX_RBL,
      errors: POSTFIX_ERRORS,
      ddos: POSTFIX_DDOS,
      extra: union(POSTFIX_AUTH, POSTFIX_NORMAL),
      aggressive: union(POSTFIX_AUTH2, POSTFIX_NORMAL, POSTFIX_RBL, POSTFIX_DDOS),
    },
  },
  {
    name: "dovecot",
    program: programSet({
      names: ["dovecot", "dovecot-auth", "auth", "imap", "pop3"],
      prefixes: ["auth-worker"],
      suffixes: ["-login"],
    }),
    modes: { normal: DOVECOT, aggressive: DOVECOT_AGGRESSIVE },
  },
  { name: "proftpd", program: programSet({ names: ["proftpd"] }), modes: { normal: PROFTPD } },
  { name: "vsftpd", program: programSet({ names: ["vsftpd"] }), modes: { normal: VSFTPD } },
  {
    name: "apache-auth",
    modes: {
      normal: [...APACHE_AUTH, ...as("ignore", ["[evasive<*>"])],
      aggressive: APACHE_AUTH,
    },
  },
  {
    name: "recidive",
    program: programSet({ prefixes: ["fail2ban"] }),
    modes: { normal: RECIDIVE },
  },
];
