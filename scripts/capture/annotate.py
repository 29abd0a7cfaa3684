#!/usr/bin/python3
"""Annotates the raw capture (scripts/capture/driver.py) into fixtures/filters/captured/*.txt.

Attribution never comes from a filter: every client action of the driver used its own client
address (192.0.2.10-254 / 2001:db8::1:N, unique per service), so the real address of a line is the
pool address it holds (the decoys 6.6.6.6 / 7.7.7.7 / 127.0.0.1 are never pool addresses). Lines
holding only the server's own address (readiness probes, "Server listening") belong to no action.

Whether a line counts as a failure of a filter in a mode is decided by the message template
(fail2ban 1.1 semantics, the f2b column of ../shared/formats/*.md): EXPECTED = the action's client
address when it counts, else `-`.

Usage: annotate.py RAWDIR OUTDIR
"""
import json
import zlib
import os
import re
import sys
from collections import defaultdict
from datetime import datetime

RAW, OUT = sys.argv[1], sys.argv[2]
YEAR = 2026
VERS = {
    "sshd": "OpenSSH 9.2p1 (Debian 12, openssh-server 1:9.2p1-2+deb12u*)",
    "nginx": "nginx 1.22.1 (Debian 12)",
    "dovecot": "Dovecot 2.3.19.1 (Debian 12)",
    "postfix": "Postfix 3.7.11 (Debian 12)",
    "proftpd": "ProFTPD 1.3.8 (Debian 12)",
    "apache": "Apache httpd 2.4 (Debian 12 apache2)",
    "vsftpd": "vsftpd 3.0.3 (Debian 12 package, unpacked with dpkg -x)",
}
SERVER = {"192.0.2.1", "2001:db8::1"}
POOLRE = re.compile(r"(?<![0-9A-Za-z.:])(?:::ffff:)?(192\.0\.2\.\d{1,3}|2001:db8::1(?::[0-9a-f]{1,3})?)(?![0-9A-Za-z]|\.\d)")
DECOYS = ("6.6.6.6", "7.7.7.7", "127.0.0.1")


def pool_addrs(line):
    found = []
    for m in POOLRE.finditer(line):
        a = m.group(1)
        if a not in found:
            found.append(a)
    clients = [a for a in found if a not in SERVER]
    return clients, found


# ----------------------------------------------------------------------------- actions
ACTIONS = defaultdict(dict)  # service -> src -> action
for raw in open(os.path.join(RAW, "actions.jsonl")):
    a = json.loads(raw)
    ACTIONS[a["service"]][a["src"]] = a


# ----------------------------------------------------------------------------- classifiers
# each returns the set of modes in which the line counts as a failure

def strip_preauth(m):
    return m[:-10] if m.endswith(" [preauth]") else m


def cls_sshd(msg):
    m = msg
    pre = m.endswith(" [preauth]")
    b = strip_preauth(m)
    if b.startswith("pam_unix(") or b.startswith("Accepted") or b.startswith("Postponed"):
        return set()
    if b.startswith("Failed "):
        if b.startswith("Failed publickey for ") and not b.startswith("Failed publickey for invalid user "):
            return set()  # publickey=nofail: helper only
        return {"normal"}
    if re.match(r"(error: )?PAM: (Authentication failure|User not known to the underlying authentication module) for ", b):
        return {"normal"}
    if b.startswith(("Invalid user ", "ROOT LOGIN REFUSED", "error: maximum authentication attempts exceeded")):
        return {"normal"}
    if re.match(r"User .* not allowed because ", b):
        return {"normal"}
    if re.match(r"Received disconnect from \S+ port \d+:3: .*Auth fail", b):
        return {"normal"}
    if re.match(r"Received disconnect from \S+ port \d+:14: No supported authentication methods available", b):
        return {"extra", "aggressive"}
    if re.match(r"Disconnecting .*: Change of username or service not allowed", b):
        return {"normal"}
    if b.startswith("Unable to negotiate with "):
        return {"extra", "aggressive"}
    if re.match(r"Disconnected from (invalid|authenticating) user ", b) and pre:
        return {"extra", "ddos", "aggressive"}
    if re.match(r"(Connection closed|Connection reset|Disconnected) (by|from) ", b) and pre:
        return {"ddos", "aggressive"}
    if re.match(r"banner exchange: Connection from \S+ port \d+: invalid format", b):
        return {"ddos", "aggressive"}
    if re.match(r"(fatal: )?Timeout before authentication for ", b):
        return {"ddos", "aggressive"}
    if b.startswith(("Did not receive identification string", "Bad protocol version identification")):
        return {"ddos", "aggressive"}
    return set()


def cls_nginx_http_auth(line):
    if re.search(r'\[error\] \d+#\d+: \*\d+ user "', line) and (
            ": password mismatch, client: " in line or '" was not found in "' in line):
        return {"normal"}
    return set()


def cls_nginx_limit_req(line):
    if re.search(r"\] \d+#\d+: \*\d+ (limiting requests|delaying request|limiting connections)", line):
        return {"normal"}
    return set()


BLOCK = re.compile(r"^/?(?:roundcube|(?:ext)?mail|horde|(?:v-?)?webmail|(?:typo3/|xampp/|admin/|)(?:pma|(?:php)?[Mm]y[Aa]dmin)"
                   r"|wp-(?:login|signup|admin)\.php|cgi-bin|mysqladmin)")


def botsearch_path(method, target):
    return method in ("GET", "POST", "HEAD") and target.startswith("/") and BLOCK.match(target[1:]) is not None


def cls_nginx_botsearch(line, real):
    if real is None:
        return set()
    m = re.match(r'(\S+) - .*? \[[^\]]+\] "(\S+) (\S+) HTTP/[\d.]+" (\d{3}) ', line)
    if m and m.group(1) == real:  # access log, first token is the address
        return {"normal"} if m.group(4) == "404" and botsearch_path(m.group(2), m.group(3)) else set()
    if re.search(r'\[error\] \d+#\d+: \*\d+ (?:\S+ )?"[^\n]*" (?:failed|is not found) \(2: No such file or directory\)', line):
        # the real trailer is the one that holds the real client address (known from the setup)
        t = re.search(r", client: " + re.escape(real) + r', server: [^,]*, request: "(\S+) (\S+) HTTP/[\d.]+"', line)
        if t and botsearch_path(t.group(1), t.group(2)):
            return {"normal"}
    return set()


def cls_dovecot(msg):
    b = msg
    if b.startswith("pam_unix(dovecot:auth): authentication failure;"):
        return {"normal"}
    b = re.sub(r"^(?:(?:imap|pop3|submission|managesieve)-login|auth|auth-worker\(\d+\)): (?:Info|Warning|Error): ", "", b)
    b = re.sub(r"^conn unix:auth-worker \([^)]*\): auth-worker<\d+>: ", "", b)
    if re.match(r"(Aborted login|Disconnected|Remote closed connection|Client has quit the connection).*"
                r"\((auth failed, \d+ attempts|tried to use (disabled|disallowed) \S+ auth|proxy dest auth failed)", b):
        return {"normal"}
    if re.match(r"(Aborted login|Disconnected|Remote closed connection|Client has quit the connection).*"
                r"\((no auth attempts|disconnected before auth was ready|client didn't finish \S+ auth)", b):
        return {"aggressive"}
    if re.match(r"[a-z-]{3,15}\(.*\): (unknown user|Unknown user|[Ii]nvalid credentials|[Pp]assword mismatch)", b):
        return {"normal"}
    if re.match(r"pam\(.*\): pam_authenticate\(\) failed: (User not known to the underlying authentication module"
                r"|Authentication failure \([Pp]assword mismatch\?\)|Permission denied)", b):
        return {"normal"}
    return set()


def cls_postfix(msg):
    b = re.sub(r"^postfix(?:-\w+)?/[\w/]+\[\d+\]: ", "", msg)
    if re.match(r"\w+: (milter-)?reject: \w+ from [^\[]*\[[^\]]+\](:\d+)?: [45][50][04] [45]\.\d\.\d+ "
                r"(?:(?:<[^>]*>)?: )?(?:(?:Helo command|(?:Sender|Recipient) address) rejected: )?"
                r"(?:Service unavailable|(?:Client host|Command|Data command) rejected|Relay access denied|"
                r"(?:Host|Domain) not found|need fully-qualified hostname|match|[Uu]ser unknown|[Uu]ndeliverable address)\b", b):
        return {"normal", "extra", "aggressive"}
    if re.match(r"(improper command pipelining|too many errors) after \S+ from [^\[]*\[[^\]]+\]", b):
        return {"normal", "extra", "aggressive"}
    if re.match(r"warning: [^\[]*\[[^\]]+\](:\d+)?: SASL ((?i:LOGIN|PLAIN|(?:CRAM|DIGEST)-MD5)) authentication failed:", b):
        if "Connection lost to authentication server" in b:
            return set()
        if "Invalid authentication mechanism" in b:
            return {"aggressive"}
        return {"auth", "extra", "aggressive"}
    if re.match(r"(lost connection after(?! DATA) [A-Z]+|(PREGREET \d+|HANGUP) after \S+|COMMAND (TIME|COUNT|LENGTH) LIMIT) from ", b):
        return {"ddos", "aggressive"}
    if re.match(r"disconnect from \S+( \S+=\S+)* auth=0/([1-9]|\d\d+)", b):
        return {"ddos", "aggressive"}
    return set()


def cls_proftpd(msg):
    b = re.sub(r"^.*?\(\S+\[[^\]]+\]\)[: -]+ ", "", msg, count=1)
    if re.match(r"USER .*(?: \(Login failed\))?: ([uU]ser not authorized for login|[nN]o such user found|[iI]ncorrect password|"
                r"[pP]assword expired|[aA]ccount disabled|[iI]nvalid shell: '\S+'|[uU]ser in \S+|[lL]imit (access|configuration) "
                r"denies login|[nN]ot a UserAlias|[mM]aximum login length exceeded)", b):
        return {"normal"}
    if b.startswith("SECURITY VIOLATION: ") and " login attempted" in b:
        return {"normal"}
    if re.match(r"Maximum login attempts \(\d+\) exceeded", b):
        return {"normal"}
    return set()


def cls_vsftpd(msg):
    if re.match(r"pam_unix\(vsftpd:auth\): authentication failure;", msg):
        return {"normal"}
    if re.search(r"\] FAIL LOGIN: Client \"", msg):
        return {"normal"}
    return set()


def cls_apache_auth(line):
    m = re.search(r"\[client [^\]]+\] (?:AH\d+: )?(.*)$", line)
    if not m:
        return set()
    b = m.group(1)
    if re.match(r"client (denied by server configuration|used wrong authentication scheme)\b", b):
        return {"normal"}
    if re.match(r"user (?!`).*? (auth(oriz|entic)ation failure|not found|denied by provider)\b", b):
        return {"normal"}
    if re.match(r"(?:[A-Z]\w+: )?user .*?: password mismatch\b", b):
        return {"normal"}
    if re.match(r"(?:[A-Z]\w+: )?user `.*' in realm `.+' (auth(oriz|entic)ation failure|not found|denied by provider)\b", b):
        return {"normal"}
    if re.match(r"(?:[A-Z]\w+: )?(invalid nonce .* received - (length is not|user attempted time travel)|realm mismatch - got `.*' but expected"
                r"|unknown algorithm `.*' received|invalid qop `.*' received)", b):
        return {"normal"}
    if re.match(r"(?:No h|H)ostname \S+ provided via SNI", b):
        return {"normal"}
    return set()


# ----------------------------------------------------------------------------- reading raw logs
SYSLOG = re.compile(r"^<(\d+)>(\w{3} [ \d]\d \d\d:\d\d:\d\d) ([^\[: ]+)(?:\[(\d+)\])?: (.*)$")


def read(name):
    p = os.path.join(RAW, name)
    if not os.path.exists(p):
        return []
    return [l.rstrip("\n") for l in open(p, encoding="utf-8", errors="surrogateescape")]


class Entry:
    def __init__(self, service, line, msg, how):
        self.service, self.line, self.msg, self.how = service, line, msg, how
        clients, found = pool_addrs(line)
        self.real = clients[-1] if clients else (found[0] if found else None)
        # the real client address is the (only) pool address in the line; more than one is a bug
        self.multi = len(set(clients)) > 1
        self.action = None
        if self.real:
            # dovecot's logs also hold the SASL checks of postfix's clients (disjoint address pools)
            self.action = ACTIONS[service].get(self.real) or (ACTIONS["postfix"].get(self.real) if service == "dovecot" else None)
        self.inject = bool(self.action and self.action["inject"] and any(d in line for d in DECOYS))


entries = defaultdict(list)  # service -> [Entry]
TAGMAP = [("sshd", "sshd"), ("dovecot", "dovecot"), ("auth", "dovecot"), ("vsftpd", "vsftpd"),
          ("proftpd", "proftpd"), ("postfix", "postfix")]
for l in read("syslog.log"):
    m = SYSLOG.match(l)
    if not m:
        continue
    tag = m.group(3)
    svc = next((s for t, s in TAGMAP if tag == t or tag.startswith(t + "/") or tag.startswith(t + "-")), None)
    if svc:
        entries[svc].append(Entry(svc, l, m.group(5), "syslog"))
for name, svc in [("nginx-error.log", "nginx"), ("nginx-access.log", "nginx"), ("dovecot.log", "dovecot"),
                  ("postfix.log", "postfix"), ("proftpd.log", "proftpd"), ("apache-error.log", "apache"),
                  ("vsftpd.log", "vsftpd")]:
    for l in read(name):
        if l.strip():
            entries[svc].append(Entry(svc, l, l, name))


def own_msg(e):
    """Message part for own-log-file lines (after the service's own prefix)."""
    if e.how == "dovecot.log":
        return re.sub(r"^\w{3} \d\d \d\d:\d\d:\d\d ", "", e.line)
    if e.how == "postfix.log":
        return re.sub(r"^\w{3} \d\d \d\d:\d\d:\d\d \S+ ", "", e.line)
    if e.how == "vsftpd.log":
        return e.line
    if e.how == "proftpd.log":
        return e.line
    return e.msg


# filter -> (service, classifier(entry) -> modes, modes list)
FILTERS = {
    "sshd": ("sshd", lambda e: cls_sshd(e.msg), ["normal", "ddos", "extra", "aggressive"]),
    "nginx-http-auth": ("nginx", lambda e: cls_nginx_http_auth(e.line) if e.how == "nginx-error.log" else set(), ["normal"]),
    "nginx-limit-req": ("nginx", lambda e: cls_nginx_limit_req(e.line) if e.how == "nginx-error.log" else set(), ["normal"]),
    "nginx-botsearch": ("nginx", lambda e: cls_nginx_botsearch(e.line, e.real), ["normal"]),
    "dovecot": ("dovecot", lambda e: cls_dovecot(own_msg(e)), ["normal", "aggressive"]),
    "postfix": ("postfix", lambda e: cls_postfix(own_msg(e)), ["normal", "auth", "ddos", "extra", "aggressive"]),
    "proftpd": ("proftpd", lambda e: cls_proftpd(own_msg(e)) if e.how == "proftpd.log" or "proftpd[" in e.line else set(), ["normal"]),
    "vsftpd": ("vsftpd", lambda e: cls_vsftpd(own_msg(e)), ["normal"]),
    "apache-auth": ("apache", lambda e: cls_apache_auth(e.line) if e.how == "apache-error.log" else set(), ["normal"]),
}
# a mode includes the normal-mode failures, except where fail2ban's mode replaces them
# (sshd: cmnfailre is in every mode; postfix: ddos and auth replace the normal prefixes)
INCLUDES_NORMAL = {"sshd": {"ddos": True, "extra": True, "aggressive": True},
                   "postfix": {"aggressive": True, "extra": True, "ddos": False, "auth": False},
                   "dovecot": {"aggressive": True}}


def canon(a):
    return a[7:] if a.startswith("::ffff:") else a


def variants_sshd(e):
    """Syslog-file prefixes a syslog daemon would write for the datagram (added, not received)."""
    m = SYSLOG.match(e.line)
    if not m:
        return []
    stamp, tag, pid, msg = m.group(2), m.group(3), m.group(4), m.group(5)
    t = datetime.strptime("%d %s" % (YEAR, stamp), "%Y %b %d %H:%M:%S")
    tp = "%s[%s]" % (tag, pid) if pid else tag
    return ["%s capture %s: %s" % (stamp, tp, msg),
            "%s.%06d+00:00 capture %s: %s" % (t.strftime("%Y-%m-%dT%H:%M:%S"), (zlib.crc32(msg.encode("utf-8", "surrogateescape")) % 1000000), tp, msg)]


HOW = {
    "syslog": "syslog datagram as received on /dev/log by the capture listener (glibc syslog(3) form: <PRI>Mmm dd hh:mm:ss TAG[PID]: MSG)",
    "nginx-error.log": "nginx error_log file (level info)",
    "nginx-access.log": "nginx access_log file, format combined",
    "dovecot.log": "dovecot log_path file",
    "postfix.log": "postfix maillog_file (postlogd)",
    "proftpd.log": "proftpd -n stderr (its SystemLog line format; -n sends the log there)",
    "apache-error.log": "apache2 ErrorLog file (LogLevel info)",
    "vsftpd.log": "vsftpd_log_file (vsftpd format, log_ftp_protocol=YES)",
}

os.makedirs(OUT, exist_ok=True)
for old in os.listdir(OUT):  # a fresh corpus: no file of an earlier capture survives
    if old.endswith(".txt"):
        os.unlink(os.path.join(OUT, old))
stats = {}
problems = []
for filt, (svc, cls, modes) in FILTERS.items():
    es = entries.get(svc, [])
    if not es:
        continue
    verdicts = []
    for e in es:
        got = cls(e)
        verdicts.append(got)
        if got and not e.real:
            problems.append("%s: counts but holds no client address: %s" % (filt, e.line))
        if e.multi:
            problems.append("%s: more than one pool address: %s" % (filt, e.line))
    for mode in modes:
        def expect(e, got):
            counts = mode in got or (mode != "normal" and INCLUDES_NORMAL.get(filt, {}).get(mode) and "normal" in got)
            if not counts or not e.real or e.real in SERVER and not e.action:
                return "-"
            return canon(e.real)

        rows = []  # (block key, header, expected, line, inject)
        differs = set()
        if mode != "normal":
            # a mode file holds the lines whose verdict differs from normal mode, with the other
            # lines of the same client actions as context (their verdict in this mode)
            for e, got in zip(es, verdicts):
                nexp = "-" if "normal" not in got or not e.real else canon(e.real)
                if expect(e, got) != nexp:
                    differs.add((e.how, e.real))
        for e, got in zip(es, verdicts):
            exp = expect(e, got)
            key = (e.how, e.real if e.action else None)
            if mode != "normal" and key not in differs:
                continue
            rows.append((key, e, exp))
        if not rows:
            continue
        # group into blocks by action, in order of first appearance
        order, blocks = [], defaultdict(list)
        for key, e, exp in rows:
            if key not in blocks:
                order.append(key)
            blocks[key].append((e, exp))
        out = []
        fname = filt + ("" if mode == "normal" else "." + mode) + ".txt"
        out.append("# %s, mode %s. EXPECTED<TAB>LINE; EXPECTED = the real client address of the line when it counts as a" % (filt, mode))
        out.append("# failure in this mode (fail2ban 1.1 semantics), else '-'. Captured by scripts/capture_fixtures.sh;")
        out.append("# see captured/README.md. Decoy addresses (6.6.6.6, 7.7.7.7, 127.0.0.1) never appear as EXPECTED.")
        n = dash = inj = 0
        added = []
        for key in order:
            how, real = key
            a = (ACTIONS[svc].get(real) or (ACTIONS["postfix"].get(real) if svc == "dovecot" else None)) if real else None
            who = ("client %s: %s%s%s" % (real, "(postfix SASL check) " if a and a["service"] != svc else "", a["desc"], " [injection attempt]" if a["inject"] else "")) if a else \
                "no client action (service start/stop, readiness probes from the server address)"
            out.append("")
            out.append("# provenance: %s, %s; %s" % (VERS[svc], HOW[how], who))
            for e, exp in blocks[key]:
                out.append("%s\t%s" % (exp, e.line))
                n += 1
                dash += exp == "-"
                inj += e.inject
                if filt == "sshd":
                    added += [(exp, v, e.inject) for v in variants_sshd(e)]
        if added:
            out.append("")
            out.append("# provenance: the same %s lines as above with syslog-file prefixes ADDED by annotate.py (not received from" % VERS[svc])
            out.append("# the service): RFC 3164 with host name ('Mmm dd hh:mm:ss capture sshd[PID]: ') and rsyslog RFC 3339")
            out.append("# ('YYYY-MM-DDThh:mm:ss.ffffff+00:00 capture sshd[PID]: '). Same verdicts.")
            for exp, v, ij in added:
                out.append("%s\t%s" % (exp, v))
                n += 1
                dash += exp == "-"
                inj += ij
        with open(os.path.join(OUT, fname), "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write("\n".join(out) + "\n")
        stats[fname] = (n, dash, inj)

tot = [0, 0, 0]
for k in sorted(stats):
    n, d, i = stats[k]
    print("%-32s %5d lines  %5d '-'  %5d injection" % (k, n, d, i))
    tot = [tot[0] + n, tot[1] + d, tot[2] + i]
print("%-32s %5d lines  %5d '-'  %5d injection" % ("total", *tot))
for p in problems:
    print("PROBLEM:", p[:300], file=sys.stderr)
