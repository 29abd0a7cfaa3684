/**
 * The built-in filters, written in the pattern language (docs/filters.md).
 *
 * Rule for every pattern here: the address comes from a structural field whose position the
 * service fixes — anchored to the start of the message (`<HOST>` before any `<*>`), to its end
 * (after the last `<*>`) only when the service writes the end itself, or else between `<*>`s where
 * a second placement with another address makes the line ambiguous (no match). Attacker-controlled
 * text (user names, request lines, HELO names, PAM `ruser`/`user`) is only ever skipped.
 * @module
 */

import { type ProgramSet, programSet } from "./_shape.ts";

/** A built-in filter before compilation. */
export interface FilterDef {
  readonly name: string;
  /** Programs whose lines the filter reads (lines that name no program are always read). */
  readonly program?: ProgramSet;
  /** Prefixes skipped at the start of the message (log levels), at most one. */
  readonly strip?: readonly string[];
  /** Patterns per mode; the first mode is the default (`normal`). */
  readonly modes: Readonly<Record<string, readonly string[]>>;
  readonly ignore?: readonly string[];
}

// ---- sshd (OpenSSH 6.x – 10.x, sshd / sshd-session / sshd-auth) --------------------------------

const SSHD_NORMAL = [
  "{Invalid|Illegal|invalid|illegal} user <*> from <HOST> port <NUM>",
  "{Invalid|Illegal|invalid|illegal} user <*> from <HOST>",
  "Failed {password|keyboard-interactive/pam|keyboard-interactive|hostbased|gssapi-with-mic} for <*> from <HOST> port <NUM> ssh<NUM>",
  "Failed {password|keyboard-interactive/pam|keyboard-interactive|hostbased|gssapi-with-mic} for <*> from <HOST> port <NUM>",
  "Failed {password|keyboard-interactive/pam|keyboard-interactive} for <*> from <HOST>",
  "Failed publickey for <*> from <HOST> port <NUM> ssh<NUM>{|: <*>}",
  "Failed none for {invalid|illegal} user <*> from <HOST> port <NUM> ssh<NUM>{|: <*>}",
  "{maximum|Maximum} authentication attempts exceeded for <*> from <HOST> port <NUM> ssh<NUM>{| [preauth]}",
  "Disconnecting {authenticating|invalid} user <*> <HOST> port <NUM>: Too many authentication failures{| [preauth]}",
  "Disconnecting {authenticating|invalid} user <*> <HOST> port <NUM>: Change of username or service not allowed: <*>",
  "Disconnecting: Too many authentication failures for <*> from <HOST> port <NUM> ssh<NUM>{| [preauth]}",
  "Connection {closed|reset} by {authenticating|invalid} user <*> <HOST> port <NUM>{| [preauth]}",
  "Disconnected from {authenticating|invalid} user <*> <HOST> port <NUM>{| [preauth]}",
  "Received disconnect from <HOST>{| port <NUM>}:{| }3: <*>: Auth fail{| [preauth]}",
  "User <*> from <HOST> not allowed because {not listed in AllowUsers|listed in DenyUsers|not in any group|a group is listed in DenyGroups|none of user's groups are listed in AllowGroups|not in AllowGroups}",
  "ROOT LOGIN REFUSED FROM <HOST>{| port <NUM>}",
  "refused connect from <HOSTNAME> (<HOST>)",
  "{PAM: |}{Authentication|authentication} {failure|error|failed} for <*> from <HOST>{| via <WORD>}{| port <NUM>}",
  "{PAM: |}User not known to the underlying authentication module for <*> from <HOST>",
  "<NAME>(sshd:auth): authentication failure; logname={|<WORD>} uid=<NUM> euid=<NUM> tty=<WORD> ruser= rhost=<HOST>{|  user=<*>| user=<*>}",
  "PAM <NUM> more authentication failure{s|}; logname={|<WORD>} uid=<NUM> euid=<NUM> tty=<WORD> ruser= rhost=<HOST>{|  user=<*>| user=<*>}",
];

const SSHD_AGGRESSIVE = [
  ...SSHD_NORMAL,
  "Failed none for <*> from <HOST> port <NUM> ssh<NUM>{|: <*>}",
  "Postponed keyboard-interactive for {invalid|illegal} user <*> from <HOST> port <NUM> ssh<NUM>{| [preauth]}",
  "Did not receive identification string from <HOST>{| port <NUM>}",
  "Bad protocol version identification <*> from <HOST>{| port <NUM>}",
  "Protocol major versions differ for <HOST>: <*>",
  "Connection {closed|reset} by <HOST> port <NUM>{| [preauth]}",
  "Connection {closed|reset} by <HOST>{| [preauth]}",
  "Disconnected from <HOST> port <NUM>{| [preauth]}",
  "{Timeout|timeout} before authentication for <HOST>{| port <NUM>}",
  "Timeout before authentication for connection from <HOST> to <*>",
  "banner exchange: Connection from <HOST> port <NUM>: <*>",
  "Unable to negotiate with <HOST> port <NUM>: no matching <*>",
  "Unable to negotiate with <HOST>: no matching <*>",
  "ssh_dispatch_run_fatal: Connection from <HOST> port <NUM>: <*>",
  "ssh_dispatch_run_fatal: Connection from {invalid|authenticating} user <*> <HOST> port <NUM>: <*>",
  "Received disconnect from <HOST>{| port <NUM>}:{| }14: <*>",
  "drop connection #<NUM> from [<HOST>]:<NUM> on [<*>]:<NUM> penalty: <*>",
  "reverse mapping checking getaddrinfo for <*> [<HOST>] failed{| - POSSIBLE BREAK-IN ATTEMPT!}",
  "Address <HOST> maps to <*>, but this does not map back to the address{| - POSSIBLE BREAK-IN ATTEMPT!}",
  "Nasty PTR record <*> is set up for <HOST>, ignoring",
];

// ---- nginx -------------------------------------------------------------------------------------

const NGX = "[<NAME>] <NUM>#<NUM>: {*<NUM> |}";

const NGINX_AUTH = [
  `${NGX}user "<*>" was not found in "<*>", client: <HOST>, server: <*>`,
  `${NGX}user "<*>": password mismatch, client: <HOST>, server: <*>`,
];

const NGINX_LIMIT = [
  `${NGX}limiting requests, excess: <WORD> by zone "<NAME>", client: <HOST>, server: <*>`,
  `${NGX}limiting requests, excess: <WORD> by zone "<*>", client: <HOST>, server: <*>`,
];

// fail2ban's nginx-botsearch list: webmail, phpMyAdmin (also under typo3/ xampp/ admin/),
// WordPress, cgi-bin, mysqladmin; plus the .env/.git probes seen everywhere today
const BOT =
  "{wp-login.php|wp-signup.php|wp-admin|xmlrpc.php|phpmyadmin|phpMyAdmin|phpmyAdmin|pma|PMA|myadmin|MyAdmin|mysqladmin|cgi-bin|roundcube|webmail|v-webmail|vwebmail|mail|extmail|horde|.env|.git/}";
const BOT_UNDER = "{typo3|xampp|admin}/{pma|phpmyadmin|phpMyAdmin|myadmin|MyAdmin}";
const ERR_404 = [
  `open() "<*>" failed (2: No such file or directory)`,
  `"<*>" is not found (2: No such file or directory)`,
];

const NGINX_BOT = [
  ...ERR_404.flatMap((what) =>
    [BOT, BOT_UNDER].map((path) =>
      `${NGX}${what}, client: <HOST>, server: <*>, request: "{GET|POST|HEAD} /${path}<*>`
    )
  ),
  `<HOST> - <*> [<*>] "{GET|POST|HEAD} /${BOT}<*>" 404 <*>`,
  `<HOST> - <*> [<*>] "{GET|POST|HEAD} /${BOT_UNDER}<*>" 404 <*>`,
];

// ---- postfix -----------------------------------------------------------------------------------

const PFX = "<NAME>[{|IPv6:}<HOST>]{|:<NUM>}";
const POSTFIX_SASL = [
  `warning: ${PFX}: SASL <WORD> authentication failed{|:|: <*>}`,
];
const POSTFIX_REJECT = [
  `<NAME>: reject: RCPT from ${PFX}: 55{0|4} 5.7.1 <*>`,
  `<NAME>: reject: RCPT from ${PFX}: 45{0|4} 4.7.<NUM> {Service unavailable|Client host rejected: cannot find your {|reverse }hostname}<*>`,
  `<NAME>: reject: RCPT from ${PFX}: 450 4.7.<NUM> <*>: Helo command rejected: Host not found<*>`,
  `<NAME>: reject: RCPT from ${PFX}: 450 4.1.<NUM> <*>: Sender address rejected: Domain not found<*>`,
  `<NAME>: reject: RCPT from ${PFX}: 550 5.1.1 <*>: Recipient address rejected: <*>`,
  `<NAME>: reject: {EHLO|RCPT|MAIL} from ${PFX}: 504 5.5.<NUM> <*>: Helo command rejected: need fully-qualified hostname<*>`,
  `<NAME>: reject: VRFY from ${PFX}: 550 5.1.1 <*>`,
];
const POSTFIX_DDOS = [
  `lost connection after <NAME>{| (<NUM> bytes)} from ${PFX}{| <*>}`,
  `too many errors after <NAME>{| (<NUM> bytes)} from ${PFX}{| <*>}`,
  `improper command pipelining after <NAME> from ${PFX}: <*>`,
  `warning: non-SMTP command from ${PFX}: <*>`,
  `PREGREET <NUM> after <WORD> from [<HOST>]:<NUM>: <*>`,
  `DNSBL rank <NUM> for [<HOST>]:<NUM>`,
  `HANGUP after <WORD> from [<HOST>]:<NUM> in tests <*>`,
  `COMMAND PIPELINING from [<HOST>]:<NUM> after <*>`,
  `NOQUEUE: reject: CONNECT from [<HOST>]:<NUM>: <*>`,
];

// ---- dovecot -----------------------------------------------------------------------------------

const DOVE = "{<NAME>: |<NAME>(<NUM>): |}{Info: |}";
const DOVECOT = [
  `${DOVE}{Aborted login|Disconnected|Remote closed connection|Client has quit the connection|Login aborted}<*>{(auth failed, <NUM> attempts|(<NUM> authentication attempts|(tried to use disabled|(tried to use disallowed|(proxy dest auth failed}<*>): <*>rip=<HOST>, lip=<*>`,
  `${DOVE}<NAME>(<*>,<HOST>): {pam_authenticate() failed|unknown user|invalid credentials|Password mismatch|password mismatch}<*>`,
  `${DOVE}<NAME>(<*>,<HOST>,<*>): {pam_authenticate() failed|unknown user|invalid credentials|Password mismatch|password mismatch}<*>`,
];
const PAM_ANCHORED =
  "<NAME>(<NAME>:auth): authentication failure; logname={|<WORD>} uid=<NUM> euid=<NUM> tty=<WORD> ruser= rhost=<HOST>{|  user=<*>| user=<*>}";
const PAM_WITH_USER =
  "<NAME>(<NAME>:auth): authentication failure; logname={|<WORD>} uid=<NUM> euid=<NUM> tty=<WORD> ruser=<*> rhost=<HOST>  user=<*>";
const DOVECOT_AGGRESSIVE = [
  ...DOVECOT,
  PAM_ANCHORED,
  PAM_WITH_USER,
  `${DOVE}{Aborted login|Disconnected|Remote closed connection|Client has quit the connection|Login aborted}<*>{(no auth attempts|(disconnected before auth was ready|(client didn't finish SASL auth}<*>): <*>rip=<HOST>, lip=<*>`,
];

// ---- ftp ---------------------------------------------------------------------------------------

const PRO = "<HOSTNAME> (<HOSTNAME>[<HOST>]){ -|:} ";
const PROFTPD = [
  `${PRO}USER <*> (Login failed): <*>`,
  `${PRO}USER <*>: no such user found from <*>`,
  `${PRO}Maximum login attempts {(<NUM>) |}exceeded<*>`,
  `${PRO}SECURITY VIOLATION: <*> login attempted<*>`,
  // no PAM lines: proftpd passes its (reverse-DNS) remote name as PAM_RHOST, so the address
  // between the attacker-chosen ruser and user fields could be a name, leaving only decoys
];

const VSFTPD = [
  `{[pid <NUM>] |}[<*>] FAIL LOGIN: Client "<HOST>"`,
  PAM_ANCHORED,
  PAM_WITH_USER,
];

// ---- apache ------------------------------------------------------------------------------------

const APA =
  "[<NAME>{|:<NAME>}] {[pid <NUM>] |[pid <NUM>:tid <NUM>] |}[client <HOST>{:<NUM>|}] {AH<NUM>: |}";
const APACHE_AUTH = [
  `${APA}user <*> not found<*>`,
  `${APA}user <*>: authentication failure for "<*>": <*>`,
  `${APA}user <*>: authorization failure for "<*>": <*>`,
  `${APA}user <*> in realm <*> not found<*>`,
  `${APA}{Digest: |}user <*>: password mismatch<*>`,
  `${APA}client used wrong authentication scheme<*>`,
  `${APA}Authorization of user <*> to access <*> failed, reason: <*>`,
  `${APA}client denied by server configuration<*>`,
];

/** Every built-in filter. The first mode of each is its default, `normal`. */
export const BUILTINS: readonly FilterDef[] = [
  {
    name: "sshd",
    program: programSet({ names: ["sshd", "sshd-session", "sshd-auth"] }),
    strip: ["error: ", "fatal: "],
    modes: { normal: SSHD_NORMAL, aggressive: SSHD_AGGRESSIVE },
  },
  {
    name: "nginx-http-auth",
    modes: {
      normal: NGINX_AUTH,
      aggressive: [
        ...NGINX_AUTH,
        `${NGX}no user/password was provided for basic authentication, client: <HOST>, server: <*>`,
      ],
    },
  },
  {
    name: "nginx-limit-req",
    modes: {
      normal: NGINX_LIMIT,
      aggressive: [
        ...NGINX_LIMIT,
        `${NGX}delaying request, excess: <WORD> by zone "<*>", client: <HOST>, server: <*>`,
        `${NGX}limiting connections by zone "<*>", client: <HOST>, server: <*>`,
      ],
    },
  },
  { name: "nginx-botsearch", modes: { normal: NGINX_BOT } },
  {
    name: "postfix",
    program: programSet({ prefixes: ["postfix"] }),
    modes: {
      normal: [...POSTFIX_REJECT, ...POSTFIX_SASL],
      auth: POSTFIX_SASL,
      aggressive: [...POSTFIX_REJECT, ...POSTFIX_SASL, ...POSTFIX_DDOS],
    },
  },
  {
    name: "dovecot",
    program: programSet({
      names: ["dovecot", "auth", "imap", "pop3"],
      prefixes: ["auth-worker"],
      suffixes: ["-login"],
    }),
    modes: { normal: [...DOVECOT, PAM_ANCHORED, PAM_WITH_USER], aggressive: DOVECOT_AGGRESSIVE },
  },
  { name: "proftpd", program: programSet({ names: ["proftpd"] }), modes: { normal: PROFTPD } },
  { name: "vsftpd", program: programSet({ names: ["vsftpd"] }), modes: { normal: VSFTPD } },
  { name: "apache-auth", modes: { normal: APACHE_AUTH } },
];
