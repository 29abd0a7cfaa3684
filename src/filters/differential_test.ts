/**
 * Differential test of the matcher against the recorded results of the issue-11 filters (attribution
 * across patterns, fail2ban 1.1 modes, sshd sessions; first recorded for commit 5d1f55b, before the
 * speed work of issue 3): on the golden fixtures, syslog lines of many programs and 100,000 fuzz lines,
 * every built-in filter in every mode must give the same address and time as that implementation
 * gave (recorded as CRC-32s of all results), so a fast path inside the matcher cannot change a
 * verdict or a time unnoticed. To re-record after an intended change of results, put the CRCs the
 * failure messages print into `RECORDED` and say why in the commit.
 */
import { equal, ok } from "node:assert/strict";
import { crc32 } from "node:zlib";
import { builtinFilterNames, type Filter, filterModes, getFilter } from "./mod.ts";
import { fixtureLines, fuzzLines } from "./_fuzz_lines.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const FUZZ = 100_000;

/**
 * CRC-32 of the results of the reference implementation (the issue-11 filters) on `corpus()`: addresses
 * and whether a time was found; addresses and times (local times read in UTC).
 */
const RECORDED = { ips: 4265218216, times: 1201296293 };
/** Whether this machine's local time is UTC (the recorded times assume it). */
const LOCAL_IS_UTC = new Date(2026, 0, 1).getTimezoneOffset() === 0 &&
  new Date(2026, 6, 1).getTimezoneOffset() === 0;

function filters(): Filter[] {
  const out: Filter[] = [];
  for (const name of builtinFilterNames()) {
    for (const mode of filterModes(name)!) out.push(getFilter(name, mode));
  }
  return out;
}

/** Syslog lines of other programs, in every prefix form, next to the filters' own programs. */
const MIXED = [
  "Nov 24 15:50:36 web1 CRON[58622]: pam_unix(cron:session): session closed for user root",
  "Nov 24 15:50:36 web1 kernel: [UFW BLOCK] IN=eth0 SRC=203.0.113.9 DST=10.0.0.1",
  "Nov 24 15:50:36 web1 systemd-logind[412]: New session 3612 of user deploy.",
  "Nov 24 15:50:36 web1 sudo[14876]:   deploy : TTY=pts/0 ; COMMAND=/usr/bin/id",
  "Nov 24 15:50:36 web1 sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2",
  "Nov 24 15:50:36 web1 sshd: Failed password for root from 203.0.113.9 port 22 ssh2",
  "Nov 24 15:50:36 sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2",
  "Nov 24 15:50:36 web1 authpriv.info sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2",
  "Nov 24 15:50:36 web1 authpriv.info su[1]: Failed password for root from 203.0.113.9 port 22 ssh2",
  "Nov 24 15:50:36 web1 su[1]: Failed password for root from 203.0.113.9 port 22 ssh2",
  "Nov 24 15:50:36 web1 su[1] Failed password for root from 203.0.113.9 port 22 ssh2",
  "Nov 24 15:50:36 web1 sshd-session[1]: Invalid user a from 203.0.113.9 port 22",
  "Nov 24 15:50:36 web1 xsshd[1]: Invalid user a from 203.0.113.9 port 22",
  "Nov 24 15:50:36 web1 postfix/smtpd[1]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: x",
  "Nov 24 15:50:36 web1 postfix-2/smtpd[1]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: x",
  "Nov 24 15:50:36 web1 dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<x>, method=PLAIN, rip=203.0.113.9, lip=10.0.0.5",
  "Nov 24 15:50:36 web1 imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<x>, method=PLAIN, rip=203.0.113.9, lip=10.0.0.5",
  "Nov 24 15:50:36 web1 proftpd[1]: srv (203.0.113.9[203.0.113.9]) - USER x: no such user found from 203.0.113.9 [203.0.113.9] to 10.0.0.1:21",
  "Nov 24 15:50:36 web1 vsftpd[1]: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=x rhost=203.0.113.9",
  "Nov 24 15:50:36 2026 web1 su[1]: Failed password for root from 203.0.113.9 port 22 ssh2",
  "Nov 24 15:50:36.123 web1 su[1]: Failed password for root from 203.0.113.9 port 22 ssh2",
  "<38>Nov 24 15:50:36 web1 su[1]: Failed password for root from 203.0.113.9 port 22 ssh2",
  "Nov 24 15:50:36 web1 su[1]:",
  "Nov 24 15:50:36 web1 su[1]",
  "Nov 24 15:50:36 web1",
  "Nov 24 15:50:36 web1 ",
  "Nov 24 15:50:36 su:",
  "Nov 24 15:50:36 su: x",
];

function corpus(): string[] {
  const fixtures = fixtureLines();
  const next = fuzzLines(fixtures, 0x5eed);
  const lines = [...fixtures, ...MIXED];
  for (let i = 0; i < FUZZ; i++) lines.push(next().line);
  return lines;
}

Deno.test("match gives the same address and time as the reference implementation on fixtures and fuzz lines", () => {
  const lines = corpus();
  let ips = 0, times = 0;
  let matched = 0;
  for (const f of filters()) {
    ips = crc32(`${f.name}/${f.mode}\n`, ips);
    times = crc32(`${f.name}/${f.mode}\n`, times);
    lines.forEach((line, i) => {
      const m = f.match(line, NOW);
      if (m === null) return;
      matched++;
      ips = crc32(`${i}\t${m.ip}\t${m.time === null}\n`, ips);
      times = crc32(`${i}\t${m.ip}\t${m.time}\n`, times);
    });
  }
  ok(matched > 5_000, `only ${matched} matches`);
  equal(ips, RECORDED.ips, `addresses differ from the reference: CRC-32 ${ips}`);
  if (LOCAL_IS_UTC) {
    equal(times, RECORDED.times, `times differ from the reference: CRC-32 ${times}`);
  }
});
