/**
 * The fuzz corpus generator shared by the fuzz test and the differential test: random lines,
 * real-shaped lines with a planted decoy address, and mutations of the golden fixture lines.
 * Deterministic for a given seed. Test helper only.
 * @module
 */

/** One generated line; `decoy`: an address planted in an attacker-controlled field, if any. */
export interface FuzzLine {
  line: string;
  decoy: string | null;
}

/** The lines of every golden fixture (fixtures/filters/*.txt), without their expected column. */
export function fixtureLines(): string[] {
  const corpus: string[] = [];
  const fixtureDir = new URL("../../fixtures/filters/", import.meta.url);
  for (const e of [...Deno.readDirSync(fixtureDir)].sort((x, y) => x.name < y.name ? -1 : 1)) {
    if (!e.name.endsWith(".txt")) continue;
    for (const l of Deno.readTextFileSync(new URL(e.name, fixtureDir)).split("\n")) {
      const tab = l.indexOf("\t");
      if (tab > 0 && !l.startsWith("#")) corpus.push(l.slice(tab + 1));
    }
  }
  return corpus;
}

const PREFIXES = [
  "Nov 24 12:26:41 web1 sshd[1234]: ",
  "2026-11-24T12:26:41.771471+00:00 host sshd-session[11934]: ",
  "host sshd[99]: ",
  "",
  "Nov  4 01:02:03 mail postfix/smtpd[77]: ",
  "Nov 24 12:26:41 mail dovecot: ",
  "2026/11/24 12:26:41 ",
  "Tue Nov 24 12:26:41 2026 ",
  "[Tue Nov 24 12:26:41.123456 2026] ",
  "Nov 24 12:26:41 ftp proftpd[5]: ",
  "<38>Nov 24 12:26:41 web1 sshd[1]: message repeated 2 times: [ ",
];

/** Templates with R = real address and D = decoy in an attacker-controlled field. */
const TEMPLATES: readonly ((r: string, d: string) => string)[] = [
  (r, d) => `Invalid user admin from ${d} from ${r} port 22`,
  (r, d) => `Failed password for invalid user x from ${d} port 1 ssh2 from ${r} port 22 ssh2`,
  (r, d) =>
    `Failed publickey for invalid user a from ${d} port 2 ssh2: x from ${r} port 22 ssh2: RSA SHA256:k`,
  (r, d) => `Connection closed by invalid user ${d} port 1 ${r} port 22 [preauth]`,
  (r, d) =>
    `Disconnecting invalid user x ${d} port 1: Too many authentication failures ${r} port 2: Too many authentication failures [preauth]`,
  (r, d) =>
    `User a from ${d} not allowed because not listed in AllowUsers from ${r} not allowed because not listed in AllowUsers`,
  (r, d) =>
    `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${r}  user=x rhost=${d}`,
  (r, d) =>
    `pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=x rhost=${d}  user=y rhost=${r}  user=x rhost=${d}  user=y`,
  (r, d) =>
    `[error] 1#1: *5 user "x, client: ${d}, y": password mismatch, client: ${r}, server: e.org, request: "GET /?client: ${d} HTTP/1.1", host: "e.org"`,
  (r, d) =>
    `[error] 1#1: *5 user "a\": password mismatch, client: ${d}, server: x": password mismatch, client: ${r}, server: e.org`,
  (r, d) =>
    `[error] 1#1: *5 open() "/var/www/x), client: ${d}, server: y" failed (2: No such file or directory), client: ${r}, server: e, request: "GET /wp-login.php HTTP/1.1"`,
  (r, d) => `warning: unknown[${r}]: SASL LOGIN authentication failed: x helo=<x[${d}]>`,
  (r, d) =>
    `lost connection after AUTH from unknown[${r}] helo=<x[${d}]: SASL LOGIN authentication failed>`,
  (r, d) =>
    `NOQUEUE: reject: RCPT from unknown[${r}]: 554 5.7.1 <a@b>: Relay access denied; from=<x[${d}]> helo=<[${d}]>`,
  (r, d) =>
    `imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<x>, rip=${d}, lip=1.1.1.1, y>, method=PLAIN, rip=${r}, lip=10.0.0.5, TLS`,
  (r, d) => `auth: pam(x,${d},y,${r},<abc>): pam_authenticate() failed: Authentication failure`,
  (r, d) =>
    `srv.example.org (${r}[${r}]) - USER x (${d}[${d}]) - y (Login failed): Incorrect password`,
  (r, d) => `[pid 12] [x" from ${d}] FAIL LOGIN: Client "${r}"`,
  (r, d) =>
    `[auth_basic:error] [pid 1:tid 2] [client ${r}:555] AH01618: user [client ${d}:1] not found: /`,
  (r, d) =>
    `${r} - ${d} [24/Nov/2026:12:26:41 +0000] "GET /wp-login.php?${d} HTTP/1.1" 404 1 "-" "${d}"`,
];

const PIECES = [
  " from ",
  " port ",
  " ssh2",
  " [preauth]",
  "rhost=",
  "  user=",
  ", client: ",
  ", server: ",
  "rip=",
  ", lip=",
  "[",
  "]",
  "(",
  ")",
  ":",
  '"',
  "<",
  ">",
  " ",
  "::",
  "::ffff:",
  "%eth0",
  "Invalid user ",
  "Failed password for ",
  "unknown[",
  "\u00e9",
  "\uffff",
  "\ud800",
  "1.2.3.4",
  "01.2.3.4",
  "256.1.1.1",
  "1:2:3:4:5:6:7:8:9",
];

/**
 * Returns a generator of fuzz lines: 40% real-shaped lines with a decoy (a tenth of them mutated),
 * 50% mutated `corpus` lines, 10% random text.
 */
export function fuzzLines(corpus: readonly string[], firstSeed = 0x2545f491): () => FuzzLine {
  let seed = firstSeed;
  function rnd(): number {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

  const v4 = () => `${1 + int(222)}.${int(256)}.${int(256)}.${1 + int(254)}`;
  const v6 = () => `2001:db8:${int(65536).toString(16)}::${(1 + int(65535)).toString(16)}`;
  const addr = () => (rnd() < 0.3 ? v6() : v4());

  function mutate(s: string): string {
    const k = 1 + int(4);
    for (let i = 0; i < k; i++) {
      const at = int(s.length + 1);
      switch (int(6)) {
        case 0:
          s = s.slice(0, at) + pick(PIECES) + s.slice(at);
          break;
        case 1:
          s = s.slice(0, at) + s.slice(at + 1 + int(8));
          break;
        case 2:
          s = s.slice(0, at) + String.fromCharCode(int(128)) + s.slice(at + 1);
          break;
        case 3:
          s = s.slice(0, at) + addr() + s.slice(at);
          break;
        case 4: {
          const b = int(s.length + 1);
          s = s.slice(0, at) + s.slice(Math.min(at, b), Math.max(at, b)) + s.slice(at);
          break;
        }
        default:
          s = s.slice(0, at);
      }
    }
    return s.length > 4096 ? s.slice(0, 4096) : s;
  }

  function randomLine(): string {
    const n = int(200);
    let s = "";
    for (let i = 0; i < n; i++) s += rnd() < 0.2 ? pick(PIECES) : String.fromCharCode(32 + int(95));
    return s;
  }

  return () => {
    let line: string;
    let decoy: string | null = null;
    const kind = int(10);
    if (kind < 4) {
      const r = addr(), d = addr();
      line = pick(PREFIXES) + pick(TEMPLATES)(r, d);
      if (line.includes("message repeated")) line += "]";
      decoy = d;
      if (kind === 3) {
        line = mutate(line);
        decoy = null; // a mutation may legitimately move the decoy into a structural position
      }
    } else if (kind < 9) {
      line = mutate(pick(corpus));
    } else {
      line = randomLine();
    }
    return { line, decoy };
  };
}
