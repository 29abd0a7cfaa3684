#!/usr/bin/python3
"""Capture driver: runs inside the network + mount namespace made by scripts/capture_fixtures.sh.

Starts each real service from a config written into WORK, drives clients at it from a fresh
client address per action, stops it, and leaves in RAW:
  - the services' own log files (sshd via syslog, nginx-error.log, nginx-access.log, dovecot.log,
    postfix.log (maillog_file), proftpd.log, apache-error.log, apache-access.log, vsftpd.log)
  - syslog.log: every datagram a service sent to /dev/log (our listener), as received
  - actions.jsonl: one object per client action {service, src, desc, inject}
The annotator attributes a line to the action whose (unique) client address it holds.
Usage: driver.py WORK RAW   (SERVICES=sshd,nginx,... to run a subset)
"""
import base64
import hashlib
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

WORK, RAW = sys.argv[1], sys.argv[2]
S4, S6 = "192.0.2.1", "2001:db8::1"
SERVICES = os.environ.get("SERVICES", "sshd,nginx,dovecot,postfix,proftpd,apache,vsftpd").split(",")
MANIFEST = open(os.path.join(RAW, "actions.jsonl"), "a")
PROCS = []
DECOYS = ("6.6.6.6", "7.7.7.7", "127.0.0.1")


def log(*a):
    print("[driver]", *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- syslog listener (/dev/log)
def syslog_listener():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        os.unlink("/dev/log")
    except FileNotFoundError:
        pass
    sock.bind("/dev/log")
    os.chmod("/dev/log", 0o666)
    out = open(os.path.join(RAW, "syslog.log"), "ab", buffering=0)

    def loop():
        while True:
            data = sock.recv(65536)
            # one datagram = one record; a record with raw LF stays visible as several lines
            out.write(data.rstrip(b"\n").replace(b"\0", b"") + b"\n")

    threading.Thread(target=loop, daemon=True).start()


# ---------------------------------------------------------------- client addresses / actions
class Pool:
    def __init__(self):
        self.v4 = 10
        self.v6 = 1

    def take(self, v6=False):
        if v6:
            a = "2001:db8::1:%x" % self.v6
            self.v6 += 1
            assert self.v6 <= 300
        else:
            a = "192.0.2.%d" % self.v4
            self.v4 += 1
            assert self.v4 <= 254
        return a


POOL = None


def action(service, desc, v6=False, inject=False):
    src = POOL.take(v6)
    MANIFEST.write(json.dumps({"service": service, "src": src, "desc": desc, "inject": inject}) + "\n")
    MANIFEST.flush()
    return src, (S6 if v6 else S4)


def run(cmd, timeout=20, **kw):
    try:
        return subprocess.run(cmd, timeout=timeout, capture_output=True, **kw)
    except subprocess.TimeoutExpired:
        return None


def start(cmd, **kw):
    # own session: apache (prefork) signals its whole process group when it stops
    p = subprocess.Popen(cmd, start_new_session=True, **kw)
    PROCS.append(p)
    return p


def stop(p, sig=15):
    try:
        p.send_signal(sig)
        p.wait(timeout=10)
    except Exception:
        p.kill()


def settle(t=0.4):
    time.sleep(t)


def wait_port(host, port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    log("port not up", host, port)
    return False


class Line:
    """A tiny line-oriented TCP client bound to a client address (optional STARTTLS)."""

    def __init__(self, src, dst, port, timeout=8):
        fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.bind((src, 0))
        self.s.connect((dst, port))
        self.buf = b""

    def readline(self):
        while b"\n" not in self.buf:
            try:
                d = self.s.recv(4096)
            except (socket.timeout, OSError):
                d = b""
            if not d:
                r, self.buf = self.buf, b""
                return r
            self.buf += d
        r, self.buf = self.buf.split(b"\n", 1)
        return r + b"\n"

    def read_reply(self, smtp=False, until=None):
        """One reply: SMTP multi-line (code-), or one line."""
        lines = []
        while True:
            l = self.readline()
            lines.append(l)
            if not l:
                break
            if smtp and len(l) >= 4 and l[3:4] == b"-":
                continue
            if until and not l.startswith(until) and not l[:1].isdigit() and not l.startswith((b"+", b"-")):
                continue
            break
        return b"".join(lines)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        try:
            self.s.sendall(data)
        except OSError:
            pass

    def cmd(self, data, smtp=False):
        self.send(data)
        return self.read_reply(smtp)

    def starttls(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.s = ctx.wrap_socket(self.s)

    def drain(self, t=1.0):
        self.s.settimeout(t)
        try:
            while self.s.recv(4096):
                pass
        except (socket.timeout, OSError):
            pass

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def selfsigned(name):
    key, crt = os.path.join(WORK, name + ".key"), os.path.join(WORK, name + ".crt")
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
         "-days", "30", "-subj", "/CN=mail.example.org"])
    os.chmod(key, 0o644)
    return key, crt


# =================================================================== OpenSSH
def ssh_client(src, dst, user, password="wrong", extra=(), tries=1, timeout=15):
    # ssh asks SSH_ASKPASS for every prompt (sshpass gives up at the second one), so several
    # password / keyboard-interactive tries happen on one connection
    env = dict(os.environ, SSH_ASKPASS=ASKPASS, SSH_ASKPASS_REQUIRE="force", CAPTURE_PW=password, DISPLAY=":0")
    cmd = ["setsid", "-w", "ssh", "-b", src, "-p", "2222", "-o", "StrictHostKeyChecking=no",
           "-o", "UserKnownHostsFile=/dev/null", "-o", "NumberOfPasswordPrompts=%d" % tries,
           "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5", "-l", user, *extra, dst, "true"]
    return run(cmd, timeout=timeout, env=env, stdin=subprocess.DEVNULL)


ASKPASS = os.path.join(WORK, "askpass.sh")
with open(ASKPASS, "w") as f:
    f.write('#!/bin/sh\nprintf "%s\\n" "$CAPTURE_PW"\n')
os.chmod(ASKPASS, 0o755)


def raw_ssh(src, dst, banner, wait_kex=False, then=b""):
    try:
        c = Line(src, dst, 2222, timeout=5)
        c.send(banner)
        if wait_kex:
            c.readline()
        if then:
            c.send(then)
        c.drain(1.5)
        c.close()
    except OSError as e:
        log("raw ssh", e)


def cap_sshd():
    d = os.path.join(WORK, "ssh")
    os.makedirs(d, exist_ok=True)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", d + "/hostkey"])
    for k in ("k1", "k2", "k3", "k4"):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", d + "/" + k])
    # a user CA and certificates whose key id holds decoys (logged after the address)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", d + "/ca"])
    certs = []
    for i, kid in enumerate([
        "id from 6.6.6.6 port 22 ssh2",
        "x ssh2: ED25519 SHA256:AAAA from 6.6.6.6 port 22 ssh2",
        "long " + "A" * 420 + " from 6.6.6.6 port 22 ssh2",
    ]):
        k = d + "/c%d" % i
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k])
        run(["ssh-keygen", "-q", "-s", d + "/ca", "-I", kid, "-n", "alice", k + ".pub"])
        certs.append(k)
    home = os.path.join(WORK, "home", "alice")
    os.makedirs(home + "/.ssh", exist_ok=True)
    run(["cp", d + "/k4.pub", home + "/.ssh/authorized_keys"])
    run(["chown", "-R", "4001:4001", home + "/.ssh"])
    os.chmod(home + "/.ssh", 0o700)
    conf = d + "/sshd_config"
    with open(conf, "w") as f:
        f.write(f"""Port 2222
ListenAddress {S4}
ListenAddress {S6}
HostKey {d}/hostkey
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication yes
PubkeyAuthentication yes
MaxAuthTries 4
LogLevel VERBOSE
SyslogFacility AUTH
PidFile none
DenyUsers bob
PermitRootLogin no
StrictModes no
AuthorizedKeysFile .ssh/authorized_keys
LoginGraceTime 12
""")
    # a second daemon on port 2223 with AllowUsers alice (carol: not listed)
    conf2 = d + "/sshd_config2"
    with open(conf2, "w") as f:
        f.write(open(conf).read().replace("Port 2222", "Port 2223").replace("DenyUsers bob", "AllowUsers alice"))
    p = start(["/usr/sbin/sshd", "-D", "-f", conf])
    p2 = start(["/usr/sbin/sshd", "-D", "-f", conf2])
    wait_port(S4, 2222)
    wait_port(S4, 2223)
    pw = ["-o", "PreferredAuthentications=password"]
    kbd = ["-o", "PreferredAuthentications=keyboard-interactive"]
    for v6 in (False, True):
        s, t = action("sshd", "password failure, valid user alice, 3 tries", v6)
        ssh_client(s, t, "alice", extra=pw, tries=3)
        s, t = action("sshd", "password failure, root (PermitRootLogin no), 2 tries", v6)
        ssh_client(s, t, "root", extra=pw, tries=2)
        s, t = action("sshd", "password failure, invalid user nosuchuser, 2 tries", v6)
        ssh_client(s, t, "nosuchuser", extra=pw, tries=2)
        s, t = action("sshd", "keyboard-interactive failure, valid user alice", v6)
        ssh_client(s, t, "alice", extra=kbd, tries=2)
        s, t = action("sshd", "keyboard-interactive failure, invalid user admin", v6)
        ssh_client(s, t, "admin", extra=kbd, tries=2)
        s, t = action("sshd", "MaxAuthTries exceeded: alice, 5 passwords", v6)
        ssh_client(s, t, "alice", extra=pw, tries=6)
        s, t = action("sshd", "MaxAuthTries exceeded: invalid user test, 5 passwords", v6)
        ssh_client(s, t, "test", extra=pw, tries=6)
        s, t = action("sshd", "publickey failures: alice offers 3 unknown keys, then gives up", v6)
        ssh_client(s, t, "alice", extra=["-o", "PreferredAuthentications=publickey", "-o", "IdentitiesOnly=yes",
                                         "-i", d + "/k1", "-i", d + "/k2", "-i", d + "/k3"])
        s, t = action("sshd", "publickey failures: invalid user oracle offers 2 keys", v6)
        ssh_client(s, t, "oracle", extra=["-o", "PreferredAuthentications=publickey", "-o", "IdentitiesOnly=yes",
                                          "-i", d + "/k1", "-i", d + "/k2"])
        s, t = action("sshd", "publickey: 2 wrong keys then the right one (success)", v6)
        ssh_client(s, t, "alice", extra=["-o", "PreferredAuthentications=publickey", "-o", "IdentitiesOnly=yes",
                                         "-i", d + "/k1", "-i", d + "/k2", "-i", d + "/k4"])
        s, t = action("sshd", "successful password login alice", v6)
        ssh_client(s, t, "alice", password="secret", extra=pw)
        s, t = action("sshd", "one wrong then right password (alice)", v6)
        # sshpass answers every prompt with the same password: do wrong, then right, as two connections
        ssh_client(s, t, "alice", extra=pw)
        ssh_client(s, t, "alice", password="secret", extra=pw)
        s, t = action("sshd", "DenyUsers: bob, password", v6)
        ssh_client(s, t, "bob", password="secret", extra=pw, tries=2)
        s, t = action("sshd", "AllowUsers (port 2223): carol not listed", v6)
        run(["sshpass", "-p", "secret", "ssh", "-b", s, "-p", "2223", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "PreferredAuthentications=password",
             "-o", "NumberOfPasswordPrompts=2", "-l", "carol", t, "true"], timeout=15)
        s, t = action("sshd", "AllowUsers (port 2223): invalid user zed", v6)
        run(["sshpass", "-p", "x", "ssh", "-b", s, "-p", "2223", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "PreferredAuthentications=password",
             "-o", "NumberOfPasswordPrompts=1", "-l", "zed", t, "true"], timeout=15)
        s, t = action("sshd", "client connects and closes before banner", v6)
        try:
            Line(s, t, 2222).close()
        except OSError:
            pass
        s, t = action("sshd", "client sends a bad banner (HTTP request)", v6)
        raw_ssh(s, t, b"GET / HTTP/1.1\r\n\r\n")
        s, t = action("sshd", "client sends banner, then closes before kex", v6)
        raw_ssh(s, t, b"SSH-2.0-OpenSSH_8.0\r\n", wait_kex=True)
        s, t = action("sshd", "client sends banner, then garbage instead of KEXINIT", v6)
        raw_ssh(s, t, b"SSH-2.0-OpenSSH_8.0\r\n", wait_kex=True, then=b"\x00\x00\x00\x0c\x0a\x14" + b"x" * 12)
        s, t = action("sshd", "Unable to negotiate: cipher 3des-cbc", v6)
        ssh_client(s, t, "alice", extra=["-o", "Ciphers=3des-cbc"])
        s, t = action("sshd", "Unable to negotiate: kex diffie-hellman-group1-sha1", v6)
        ssh_client(s, t, "alice", extra=["-o", "KexAlgorithms=diffie-hellman-group1-sha1"])
        s, t = action("sshd", "Unable to negotiate: host key ssh-dss", v6)
        ssh_client(s, t, "alice", extra=["-o", "HostKeyAlgorithms=ssh-dss"])
        s, t = action("sshd", "Unable to negotiate: MAC hmac-md5", v6)
        ssh_client(s, t, "alice", extra=["-o", "MACs=hmac-md5"])
        s, t = action("sshd", "no supported authentication methods (client only offers hostbased)", v6)
        ssh_client(s, t, "alice", extra=["-o", "PreferredAuthentications=hostbased"])
        s, t = action("sshd", "connection held past LoginGraceTime", v6)
        try:
            c = Line(s, t, 2222, timeout=15)
            c.send(b"SSH-2.0-OpenSSH_8.0\r\n")
            c.drain(14)
            c.close()
        except OSError:
            pass

        # ---- injection attempts through the user name
        for user in [
            "x from 6.6.6.6 port 22 ssh2",
            " from 6.6.6.6 port 22 ssh2",
            "from 6.6.6.6",
            "x rhost=6.6.6.6",
            "[6.6.6.6]",
            "6.6.6.6 port 1",
            "root from 7.7.7.7 port 22",
            "x from 127.0.0.1 port 22 ssh2: RSA SHA256:x",
            "admin from 6.6.6.6 port 22 [preauth]",
            "x user=6.6.6.6 rhost=6.6.6.6",
            "invalid user x 6.6.6.6 port 22",
            "authenticating user root 6.6.6.6",
            "A" * 70 + " from 6.6.6.6 port 22 ssh2",
            "B" * 90 + " from 6.6.6.6 port 22 ssh2",
            "C" * 99 + " from 6.6.6.6",
            "D" * 180 + " from 6.6.6.6 port 22 ssh2",
            "E" * 300 + " from 6.6.6.6 port 22 ssh2 " + "F" * 200,
        ]:
            s, t = action("sshd", "injection: password failure for user name %r" % user[:60], v6, inject=True)
            ssh_client(s, t, user, extra=pw, tries=2)
        for user in ["y from 6.6.6.6 port 22 ssh2", "z): 6.6.6.6"]:
            s, t = action("sshd", "injection: keyboard-interactive failure for %r" % user, v6, inject=True)
            ssh_client(s, t, user, extra=kbd, tries=1)
            s, t = action("sshd", "injection: MaxAuthTries for %r" % user, v6, inject=True)
            ssh_client(s, t, user, extra=pw, tries=6)
            s, t = action("sshd", "injection: publickey failures for %r" % user, v6, inject=True)
            ssh_client(s, t, user, extra=["-o", "PreferredAuthentications=publickey", "-o", "IdentitiesOnly=yes",
                                          "-i", d + "/k1", "-i", d + "/k2", "-i", d + "/k3"])
        for c in certs:
            s, t = action("sshd", "injection: certificate key id with decoys (alice, not trusted)", v6, inject=True)
            ssh_client(s, t, "alice", extra=["-o", "PreferredAuthentications=publickey", "-o", "IdentitiesOnly=yes",
                                             "-i", c, "-o", "CertificateFile=" + c + "-cert.pub"])
        # client version strings / banners holding addresses
        for banner in [b"SSH-2.0-Probe-x from 6.6.6.6 port 22 ssh2\r\n", b"SSH-2.0-x from 6.6.6.6 port 22\r\n",
                       b"SSH-1.5-x from 6.6.6.6 port 22\r\n", b"SSH-2.0-Nmap NSE from 6.6.6.6 port 1\r\n"]:
            s, t = action("sshd", "injection: client version %r" % banner.strip(), v6, inject=True)
            raw_ssh(s, t, banner, wait_kex=True)
        for banner in [b"from 6.6.6.6 port 22 ssh2\r\n", b"GET /x from 6.6.6.6 port 22 HTTP/1.0\r\n",
                       b"Connection from 6.6.6.6 port 22: invalid format\r\n"]:
            s, t = action("sshd", "injection: bad banner %r" % banner.strip(), v6, inject=True)
            raw_ssh(s, t, banner)
        settle(1)
    settle(2)
    stop(p)
    stop(p2)


# =================================================================== nginx
def cap_nginx():
    d = os.path.join(WORK, "nginx")
    os.makedirs(d + "/html/api", exist_ok=True)
    os.makedirs(d + "/html/slow", exist_ok=True)
    open(d + "/html/index.html", "w").write("hi\n")
    open(d + "/html/slow/big", "wb").write(b"x" * 400000)
    salt = "abcdefgh"
    h = run(["openssl", "passwd", "-apr1", "-salt", salt, "secret"]).stdout.decode().strip()
    open(d + "/htpasswd", "w").write("alice:%s\n" % h)
    run(["chmod", "-R", "a+rX", d])
    conf = d + "/nginx.conf"
    open(conf, "w").write(f"""worker_processes 1;
pid {d}/nginx.pid;
error_log {RAW}/nginx-error.log info;
events {{ worker_connections 64; }}
http {{
  access_log {RAW}/nginx-access.log combined;
  client_body_temp_path {d}; proxy_temp_path {d};
  fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};
  limit_req_zone $binary_remote_addr zone=one:1m rate=1r/m;
  limit_req_zone $binary_remote_addr zone=two:1m rate=1r/s;
  limit_conn_zone $binary_remote_addr zone=addr:1m;
  server {{
    listen {S4}:8080; listen [{S6}]:8080; server_name example.org;
    root {d}/html;
    location /admin/ {{ auth_basic "x"; auth_basic_user_file {d}/htpasswd; }}
    location /api/ {{ limit_req zone=one burst=1 nodelay; }}
    location /slowapi/ {{ limit_req zone=two burst=5 delay=1; }}
    location /slow/ {{ limit_conn addr 1; limit_rate 20k; }}
    location /private/ {{ deny all; }}
  }}
}}
""")
    p = start(["nginx", "-c", conf, "-g", "daemon off;"])
    wait_port(S4, 8080)

    def curl(src, base, path, *args, timeout=10):
        return run(["curl", "-s", "-o", "/dev/null", "--path-as-is", "-g", "--interface", src, *args, base + path],
                   timeout=timeout)

    for v6 in (False, True):
        def base(t):
            return "http://[%s]:8080" % t if ":" in t else "http://%s:8080" % t
        s, t = action("nginx", "basic auth: password mismatch for alice", v6)
        curl(s, base(t), "/admin/", "-u", "alice:wrong")
        s, t = action("nginx", "basic auth: unknown user bob", v6)
        curl(s, base(t), "/admin/", "-u", "bob:wrong")
        s, t = action("nginx", "basic auth: no user/password (browser challenge)", v6)
        curl(s, base(t), "/admin/")
        s, t = action("nginx", "basic auth: success alice (404 behind auth)", v6)
        curl(s, base(t), "/admin/", "-u", "alice:secret")
        s, t = action("nginx", "basic auth: 3 failures with referer and POST", v6)
        for u in ("admin:admin", "root:toor", "alice:alice"):
            curl(s, base(t), "/admin/login", "-u", u, "-e", "http://example.org/", "-d", "a=b")
        s, t = action("nginx", "limit_req nodelay: 5 requests, rate 1r/m burst 1", v6)
        for _ in range(5):
            curl(s, base(t), "/api/x")
        s, t = action("nginx", "limit_req delay: 8 quick requests, rate 1r/s burst 5 delay 1", v6)
        ps = [subprocess.Popen(["curl", "-s", "-o", "/dev/null", "--interface", s, base(t) + "/slowapi/x"])
              for _ in range(8)]
        for q in ps:
            q.wait(timeout=20)
        s, t = action("nginx", "limit_conn: 3 parallel downloads, limit 1", v6)
        ps = [subprocess.Popen(["curl", "-s", "-o", "/dev/null", "--interface", s, base(t) + "/slow/big"])
              for _ in range(3)]
        time.sleep(1)
        for q in ps:
            q.kill()
            q.wait()
        s, t = action("nginx", "access forbidden by rule", v6)
        curl(s, base(t), "/private/x")
        s, t = action("nginx", "probes (botsearch list and others), GET/POST/HEAD", v6)
        for path in ["/wp-login.php", "/wp-signup.php", "/wp-admin.php", "/phpmyadmin/", "/phpMyAdmin/index.php",
                     "/pma/", "/myadmin/", "/admin/pma/", "/xampp/phpmyadmin/", "/mysqladmin/",
                     "/cgi-bin/test.cgi", "/roundcube/", "/webmail/", "/horde/", "/mail/", "//wp-login.php",
                     "/.env", "/xmlrpc.php", "/robots.txt", "/index.html", "/", "/wp-content/x.php",
                     "/backup.zip", "/api.php"]:
            curl(s, base(t), path)
        curl(s, base(t), "/wp-login.php", "-d", "log=admin&pwd=x")
        curl(s, base(t), "/phpmyadmin/", "-I")
        curl(s, base(t), "/.git/config", "-I")
        s, t = action("nginx", "invalid requests (400)", v6)
        try:
            c = Line(s, t, 8080)
            c.send(b"\x16\x03\x01\x00\x05hello\r\n\r\n")
            c.drain(1)
            c.close()
            c = Line(s, t, 8080)
            c.send(b"GET /x HTTP/1.1\r\nHost: a b\r\n\r\n")
            c.drain(1)
            c.close()
        except OSError:
            pass

        # ---- injection attempts
        for user in ['x", client: 6.6.6.6, server: x, request: "GET / HTTP/1.1',
                     'x", client: 6.6.6.6, server: x, request: "GET / HTTP/1.1", host: "x"',
                     'y" was not found in "/etc/h", client: 6.6.6.6, server: x, request: "GET / HTTP/1.1", host: "x',
                     'z": password mismatch, client: 7.7.7.7, server: , request: "GET /admin/ HTTP/1.1", host: "h',
                     'client: 127.0.0.1', '6.6.6.6', 'a b c, client: 6.6.6.6,',
                     # Basic auth splits user:password at the first colon: colon-free decoys reach the log whole
                     'x", client 6.6.6.6, server x, request "GET / HTTP/1.1', 'x" was not found in "/h", client 6.6.6.6',
                     '6.6.6.6, server: x', 'x", client, 6.6.6.6, server']:
            s, t = action("nginx", "injection: basic-auth user %r" % user, v6, inject=True)
            curl(s, base(t), "/admin/", "-u", user + ":wrong")
        s, t = action("nginx", "injection: alice wrong password, referer holds a trailer", v6, inject=True)
        curl(s, base(t), "/admin/", "-u", "alice:wrong", "-e",
             'x", client: 6.6.6.6, server: y, request: "GET /admin/ HTTP/1.1", host: "z')
        s, t = action("nginx", "injection: Host header decoy", v6, inject=True)
        curl(s, base(t), "/admin/", "-u", "bob:x", "-H", "Host: 6.6.6.6")
        s, t = action("nginx", "injection: user-agent decoy in the access log", v6, inject=True)
        curl(s, base(t), "/wp-login.php", "-A", '6.6.6.6 - - [01/Jan/2026:00:00:00 +0000] "GET /wp-login.php HTTP/1.1" 404')
        curl(s, base(t), "/x", "-A", '" 404 1 "-" "x" 6.6.6.6 - - "GET /wp-login.php HTTP/1.1" 404 0')
        enc = ("%22%20failed%20(2:%20No%20such%20file%20or%20directory),%20client:%206.6.6.6,%20server:%20y,"
               "%20request:%20%22GET%20/wp-login.php")
        for path in ["/x" + enc, "/wp-login.php" + enc, "/x" + enc.replace("6.6.6.6", "7.7.7.7") + "%20HTTP/1.1%22",
                     "/index.html" + enc, "/phpmyadmin/" + enc,
                     "/x%22%20is%20not%20found%20(2:%20No%20such%20file%20or%20directory),%20client:%20127.0.0.1,"
                     "%20server:%20y,%20request:%20%22GET%20/phpmyadmin/",
                     "/a%20client:%206.6.6.6,%20server:%20", "/wp-login.php?x=%22,%20client:%206.6.6.6,%20server:%20y"]:
            s, t = action("nginx", "injection: percent-encoded path %r" % path[:50], v6, inject=True)
            curl(s, base(t), path)
        s, t = action("nginx", "injection: basic-auth user decoy + botsearch path behind auth", v6, inject=True)
        curl(s, base(t), "/admin/wp-login.php" + enc, "-u", 'q", client: 6.6.6.6, server: x:wrong')
        settle(0.5)
    settle(1)
    stop(p, 3)  # SIGQUIT: graceful


# =================================================================== dovecot
DOVECOT_RUN = os.path.join(WORK, "dovecot-run")


def start_dovecot(extra=""):
    d = os.path.join(WORK, "dovecot")
    os.makedirs(d, exist_ok=True)
    key, crt = selfsigned("dovecot")
    open(d + "/passwd", "w").write("alice:{PLAIN}secret\ncarol:{PLAIN}secret\n")
    POP3 = os.path.join(WORK, "pop3d-pkg", "root", "usr", "lib", "dovecot", "pop3")
    protocols = "imap pop3" if os.path.exists(POP3) else "imap"
    conf = d + "/dovecot.conf"
    open(conf, "w").write(f"""base_dir = {DOVECOT_RUN}
state_dir = {d}/state
log_path = {RAW}/dovecot.log
protocols = {protocols}
listen = {S4}, {S6}
ssl = yes
ssl_cert = <{crt}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_verbose = yes
auth_username_chars =
auth_failure_delay = 0
login_trusted_networks =
passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
passdb {{
  driver = pam
  args = dovecot
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}}
service imap-login {{
  inet_listener imap {{
    port = 1143
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3 {{
  executable = {POP3}
}}
service pop3-login {{
  executable = {POP3}-login
  inet_listener pop3 {{
    port = 1110
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service auth {{
  unix_listener {WORK}/postfix-auth {{
    mode = 0666
  }}
}}
{extra}
""")
    os.makedirs(d + "/state", exist_ok=True)
    p = start(["dovecot", "-F", "-c", conf])
    wait_port(S4, 1143)
    wait_port(S4, 1110)
    return p


def imap(src, dst, steps, tls=True, wait=0.3):
    try:
        c = Line(src, dst, 1143)
        c.readline()
        if tls:
            c.cmd("s STARTTLS\r\n")
            c.starttls()
        for st in steps:
            if st == "CLOSE":
                break
            r = c.cmd(st)
            # a tagged command may get untagged lines first
            while r and r[:1] == b"*":
                r = c.readline()
        time.sleep(wait)
        c.close()
    except OSError as e:
        log("imap", e)


def pop3(src, dst, steps, tls=True):
    try:
        c = Line(src, dst, 1110)
        c.readline()
        if tls:
            c.cmd("STLS\r\n")
            c.starttls()
        for st in steps:
            if st == "CLOSE":
                break
            c.cmd(st)
        time.sleep(0.3)
        c.close()
    except OSError as e:
        log("pop3", e)


def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cap_dovecot():
    p = start_dovecot()
    for v6 in (False, True):
        s, t = action("dovecot", "IMAP LOGIN (STARTTLS): password mismatch alice, then LOGOUT", v6)
        imap(s, t, ["a LOGIN alice wrong\r\n", "b LOGOUT\r\n"])
        s, t = action("dovecot", "IMAP LOGIN: unknown user nosuchuser x2 (passwd-file then pam)", v6)
        imap(s, t, ["a LOGIN nosuchuser wrong\r\n", "b LOGIN nosuchuser wrong2\r\n", "CLOSE"])
        s, t = action("dovecot", "IMAP AUTHENTICATE PLAIN: wrong password carol, then disconnect", v6)
        imap(s, t, ["a AUTHENTICATE PLAIN %s\r\n" % base64.b64encode(b"\0carol\0bad").decode(), "CLOSE"])
        s, t = action("dovecot", "IMAP LOGIN success alice, LOGOUT", v6)
        imap(s, t, ["a LOGIN alice secret\r\n", "b LOGOUT\r\n"])
        s, t = action("dovecot", "IMAP plaintext LOGIN without TLS (disallowed), then disconnect", v6)
        imap(s, t, ["a LOGIN alice wrong\r\n", "CLOSE"], tls=False)
        s, t = action("dovecot", "IMAP: connect and disconnect without auth attempt", v6)
        imap(s, t, ["CLOSE"], tls=False)
        s, t = action("dovecot", "IMAP: STARTTLS then LOGOUT without auth", v6)
        imap(s, t, ["b LOGOUT\r\n"])
        s, t = action("dovecot", "IMAP AUTHENTICATE PLAIN started, client does not finish", v6)
        imap(s, t, ["a AUTHENTICATE PLAIN\r\n", "CLOSE"])
        s, t = action("dovecot", "POP3 (STLS) USER/PASS: password mismatch alice, QUIT", v6)
        pop3(s, t, ["USER alice\r\n", "PASS wrong\r\n", "QUIT\r\n"])
        s, t = action("dovecot", "POP3 USER/PASS: unknown user, disconnect", v6)
        pop3(s, t, ["USER nosuchuser\r\n", "PASS wrong\r\n", "CLOSE"])
        s, t = action("dovecot", "POP3 plaintext USER without TLS (disallowed)", v6)
        pop3(s, t, ["USER alice\r\n", "PASS wrong\r\n", "QUIT\r\n"], tls=False)
        s, t = action("dovecot", "POP3 success alice", v6)
        pop3(s, t, ["USER alice\r\n", "PASS secret\r\n", "QUIT\r\n"])
        # ---- injection attempts through the login name
        for user in ["x,6.6.6.6", "x,6.6.6.6,<abc>", "rip=6.6.6.6, lip=", "x>, method=PLAIN, rip=6.6.6.6, lip=192.0.2.1, TLS",
                     "y): unknown user", "pam(x,6.6.6.6): unknown user,7.7.7.7,<s>): unknown user",
                     "passwd-file(a,6.6.6.6): Password mismatch", "z (auth failed, 1 attempts in 2 secs): user=<a>, rip=6.6.6.6",
                     "q" * 60 + ",6.6.6.6", "w" * 70 + " rip=6.6.6.6, lip=7.7.7.7", "u@6.6.6.6", "[6.6.6.6]"]:
            s, t = action("dovecot", "injection: IMAP LOGIN user %r" % user, v6, inject=True)
            imap(s, t, ["a LOGIN %s wrong\r\n" % q(user), "b LOGOUT\r\n"])
        for user in ["x,6.6.6.6", "pop user=<6.6.6.6>, rip=6.6.6.6"]:
            s, t = action("dovecot", "injection: POP3 USER %r" % user, v6, inject=True)
            pop3(s, t, ["USER %s\r\n" % user, "PASS wrong\r\n", "QUIT\r\n"])
        s, t = action("dovecot", "injection: AUTHENTICATE PLAIN, authzid and authcid with decoys", v6, inject=True)
        imap(s, t, ["a AUTHENTICATE PLAIN %s\r\n" % base64.b64encode(b"6.6.6.6\0x,7.7.7.7\0bad").decode(), "b LOGOUT\r\n"])
        settle(0.5)
    settle(1)
    stop(p)


# =================================================================== postfix
def cap_postfix():
    dp = start_dovecot()  # SASL via dovecot's auth socket
    d = os.path.join(WORK, "postfix")
    etc, spool, data = d + "/etc", d + "/spool", d + "/data"
    for x in (etc, data):
        os.makedirs(x, exist_ok=True)
    for sub in ("active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "maildrop",
                "pid", "private", "public", "saved", "trace"):
        os.makedirs(spool + "/" + sub, exist_ok=True)
    run(["chown", "-R", "postfix:postfix", spool, data])
    run(["chown", "root:root", spool, spool + "/pid"])
    run(["chgrp", "postdrop", spool + "/maildrop", spool + "/public"])
    os.chmod(spool + "/maildrop", 0o1730)
    os.chmod(spool + "/public", 0o2710)
    open(etc + "/main.cf", "w").write(f"""compatibility_level = 3.6
queue_directory = {spool}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.example.org
mydomain = example.org
mydestination = example.org, localhost
mynetworks = 127.0.0.0/8
inet_interfaces = {S4}, [{S6}]
inet_protocols = all
alias_maps =
alias_database =
local_recipient_maps = unix:passwd.byname
maillog_file = {RAW}/postfix.log
maillog_file_prefixes = /tmp, /var
smtpd_banner = $myhostname ESMTP
smtpd_helo_required = yes
smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname
smtpd_recipient_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {WORK}/postfix-auth
smtpd_sasl_security_options = noanonymous
smtpd_soft_error_limit = 2
smtpd_hard_error_limit = 4
smtpd_error_sleep_time = 0
smtpd_timeout = 10s
smtpd_client_restrictions =
disable_vrfy_command = no
smtpd_delay_reject = yes
postscreen_greet_wait = 2s
postscreen_greet_action = enforce
postscreen_pipelining_enable = yes
postscreen_pipelining_action = enforce
postscreen_non_smtp_command_enable = yes
postscreen_non_smtp_command_action = drop
postscreen_bare_newline_enable = yes
postscreen_bare_newline_action = enforce
postscreen_dnsbl_sites =
postscreen_access_list =
postscreen_cache_map = btree:{data}/postscreen_cache
biff = no
""")
    open(etc + "/master.cf", "w").write("""2525      inet  n       -       n       -       -       smtpd
2526      inet  n       -       n       -       1       postscreen
2527      inet  n       -       n       -       -       smtpd
  -o smtpd_client_port_logging=yes
  -o smtpd_client_restrictions=reject_unknown_reverse_client_hostname
smtpd     pass  -       -       n       -       -       smtpd
tlsproxy  unix  -       -       n       -       0       tlsproxy
dnsblog   unix  -       -       n       -       0       dnsblog
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
error     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
""")
    p = start(["/usr/lib/postfix/sbin/master", "-c", etc, "-d"],
              env=dict(os.environ, MAIL_CONFIG=etc))
    ok = wait_port(S4, 2525)
    if not ok:
        stop(dp)
        stop(p)
        return
    wait_port(S4, 2526)

    def smtp(src, dst, steps, port=2525, greet=True, tls=False):
        try:
            c = Line(src, dst, port, timeout=12)
            if greet:
                c.read_reply(smtp=True)
            for st in steps:
                if st == "CLOSE":
                    break
                if isinstance(st, tuple):  # raw send, no reply expected
                    c.send(st[0])
                    time.sleep(0.3)
                    continue
                c.cmd(st, smtp=True)
            time.sleep(0.4)
            c.close()
        except OSError as e:
            log("smtp", e)

    b64 = lambda x: base64.b64encode(x.encode("latin-1")).decode()
    for v6 in (False, True):
        s, t = action("postfix", "relay access denied (RCPT to foreign domain)", v6)
        smtp(s, t, ["EHLO client.example.net\r\n", "MAIL FROM:<a@example.net>\r\n", "RCPT TO:<x@other.example>\r\n", "QUIT\r\n"])
        s, t = action("postfix", "unknown local recipient", v6)
        smtp(s, t, ["EHLO client.example.net\r\n", "MAIL FROM:<a@example.net>\r\n", "RCPT TO:<nosuchuser@example.org>\r\n", "QUIT\r\n"])
        s, t = action("postfix", "HELO non-FQDN then RCPT (helo rejected)", v6)
        smtp(s, t, ["HELO localbox\r\n", "MAIL FROM:<a@example.net>\r\n", "RCPT TO:<alice@example.org>\r\n", "QUIT\r\n"])
        s, t = action("postfix", "HELO invalid name", v6)
        smtp(s, t, ["HELO a..b\r\n", "MAIL FROM:<a@example.net>\r\n", "RCPT TO:<alice@example.org>\r\n", "QUIT\r\n"])
        s, t = action("postfix", "SASL LOGIN failure (wrong password alice), QUIT", v6)
        smtp(s, t, ["EHLO client.example.net\r\n", "AUTH LOGIN\r\n", b64("alice") + "\r\n", b64("wrong") + "\r\n", "QUIT\r\n"])
        s, t = action("postfix", "SASL PLAIN failure (unknown user), then lost connection", v6)
        smtp(s, t, ["EHLO client.example.net\r\n", "AUTH PLAIN " + b64("\0nosuchuser\0wrong") + "\r\n", "CLOSE"])
        s, t = action("postfix", "SASL PLAIN success alice, QUIT", v6)
        smtp(s, t, ["EHLO client.example.net\r\n", "AUTH PLAIN " + b64("\0alice\0secret") + "\r\n", "QUIT\r\n"])
        s, t = action("postfix", "AUTH aborted by client (*)", v6)
        smtp(s, t, ["EHLO client.example.net\r\n", "AUTH LOGIN\r\n", "*\r\n", "QUIT\r\n"])
        s, t = action("postfix", "AUTH with an unsupported mechanism", v6)
        smtp(s, t, ["EHLO client.example.net\r\n", "AUTH CRAM-MD5\r\n", "QUIT\r\n"])
        s, t = action("postfix", "improper command pipelining (EHLO+MAIL in one write before greeting reply)", v6)
        smtp(s, t, [("EHLO x.example.net\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@other.example>\r\n",), "QUIT\r\n"], greet=False)
        s, t = action("postfix", "too many errors (unknown commands)", v6)
        smtp(s, t, ["EHLO client.example.net\r\n"] + ["FOO\r\n"] * 5)
        s, t = action("postfix", "non-SMTP command (HTTP request)", v6)
        smtp(s, t, ["GET / HTTP/1.0\r\n", "CLOSE"])
        s, t = action("postfix", "lost connection after EHLO / after CONNECT", v6)
        smtp(s, t, ["EHLO client.example.net\r\n", "CLOSE"])
        smtp(s, t, ["CLOSE"])
        s, t = action("postfix", "VRFY of unknown user", v6)
        smtp(s, t, ["EHLO client.example.net\r\n", "VRFY nosuchuser\r\n", "QUIT\r\n"])
        s, t = action("postfix", "port 2527 (client port logging, reject_unknown_reverse_client_hostname)", v6)
        smtp(s, t, ["EHLO client.example.net\r\n", "MAIL FROM:<a@example.net>\r\n", "RCPT TO:<alice@example.org>\r\n", "QUIT\r\n"], port=2527)
        s, t = action("postfix", "port 2527: SASL failure with client port logging", v6)
        smtp(s, t, ["EHLO client.example.net\r\n", "AUTH PLAIN " + b64("\0alice\0wrong") + "\r\n", "QUIT\r\n"], port=2527)
        # ---- postscreen
        s, t = action("postfix", "postscreen: PREGREET (talks before the greeting)", v6)
        smtp(s, t, [("EHLO early.example\r\n",), "CLOSE"], port=2526, greet=False)
        time.sleep(2.5)
        s, t = action("postfix", "postscreen: HANGUP before greeting", v6)
        try:
            c = Line(s, t, 2526)
            time.sleep(0.5)
            c.close()
        except OSError:
            pass
        s, t = action("postfix", "postscreen: passes greet test, then pipelining / non-SMTP / bare newline", v6)
        smtp(s, t, ["EHLO ok.example\r\n", ("MAIL FROM:<a@b.example>\r\nRCPT TO:<x@other.example>\r\n",), "QUIT\r\n"], port=2526)
        s, t = action("postfix", "postscreen: non-SMTP command", v6)
        smtp(s, t, ["EHLO ok.example\r\n", "GET / HTTP/1.0\r\n", "CLOSE"], port=2526)
        s, t = action("postfix", "postscreen: bare newline", v6)
        smtp(s, t, ["EHLO ok.example\n", "RCPT TO:<x@other.example>\r\n", "QUIT\r\n"], port=2526)
        s, t = action("postfix", "postscreen: RCPT after passing (postscreen's own 450/550 reject)", v6)
        smtp(s, t, ["EHLO ok.example\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<alice@example.org>\r\n", "QUIT\r\n"], port=2526)
        # ---- injection attempts: HELO names, SASL user names, senders, recipients
        for helo in ["x [6.6.6.6]", "unknown[6.6.6.6]", "[6.6.6.6]", "x from unknown[6.6.6.6]: 554 5.7.1 Relay access denied",
                     "h]: 554 5.7.1 <x@y>: Relay access denied; from=<a@b> to=<c@d> proto=ESMTP helo=<unknown[7.7.7.7]"]:
            s, t = action("postfix", "injection: HELO %r, then relay RCPT" % helo, v6, inject=True)
            smtp(s, t, ["EHLO %s\r\n" % helo, "MAIL FROM:<a@example.net>\r\n", "RCPT TO:<x@other.example>\r\n", "QUIT\r\n"])
        for user in ["x[6.6.6.6]", "unknown[6.6.6.6]: SASL LOGIN authentication failed", "a@6.6.6.6", "6.6.6.6"]:
            s, t = action("postfix", "injection: SASL LOGIN user %r" % user, v6, inject=True)
            smtp(s, t, ["EHLO x.example\r\n", "AUTH LOGIN\r\n", b64(user) + "\r\n", b64("wrong") + "\r\n", "QUIT\r\n"])
        s, t = action("postfix", "injection: sender/recipient hold decoys", v6, inject=True)
        smtp(s, t, ["EHLO x.example\r\n", "MAIL FROM:<unknown[6.6.6.6]@example.net>\r\n",
                    "RCPT TO:<\"from unknown[6.6.6.6]: \"@other.example>\r\n", "QUIT\r\n"])
        s, t = action("postfix", "injection: pipelined bytes hold a decoy", v6, inject=True)
        smtp(s, t, [("EHLO x\r\nRCPT TO:<x@y> from unknown[6.6.6.6]\r\n",), "QUIT\r\n"], greet=False)
        s, t = action("postfix", "injection: non-SMTP command holding a decoy", v6, inject=True)
        smtp(s, t, ["GET /x from unknown[6.6.6.6] HTTP/1.0\r\n", "CLOSE"])
        s, t = action("postfix", "injection: too many errors with decoy commands", v6, inject=True)
        smtp(s, t, ["EHLO x.example\r\n"] + ["FOO from unknown[6.6.6.6]\r\n"] * 5)
        s, t = action("postfix", "injection: postscreen PREGREET text with a decoy", v6, inject=True)
        smtp(s, t, [("EHLO from [6.6.6.6]:25\r\n",), "CLOSE"], port=2526, greet=False)
        time.sleep(2.5)
        settle(0.5)
    settle(2)
    stop(p)
    stop(dp)


# =================================================================== proftpd
def ftp(src, dst, port, steps, wait=0.3):
    try:
        c = Line(src, dst, port, timeout=10)
        c.read_reply(smtp=True)
        for st in steps:
            if st == "CLOSE":
                break
            c.cmd(st, smtp=True)
        time.sleep(wait)
        c.close()
    except OSError as e:
        log("ftp", e)


def cap_proftpd():
    conf = os.path.join(WORK, "proftpd.conf")
    open(conf, "w").write(f"""ServerName "capture"
ServerType standalone
DefaultServer on
Port 2121
UseIPv6 on
User proftpd
Group nogroup
PidFile {WORK}/proftpd.pid
ScoreboardFile {WORK}/proftpd.scoreboard
SystemLog {RAW}/proftpd.log
UseReverseDNS off
MaxLoginAttempts 3
RequireValidShell off
DelayEngine off
WtmpLog off
<Limit LOGIN>
  DenyUser carol
</Limit>
""")
    # with -n (foreground) proftpd writes its SystemLog-format lines to stderr instead of the file
    p = start(["proftpd", "-n", "-c", conf], stderr=open(os.path.join(RAW, "proftpd.log"), "ab"))
    wait_port(S4, 2121)
    for v6 in (False, True):
        s, t = action("proftpd", "incorrect password alice", v6)
        ftp(s, t, 2121, ["USER alice\r\n", "PASS wrong\r\n", "QUIT\r\n"])
        s, t = action("proftpd", "no such user", v6)
        ftp(s, t, 2121, ["USER nosuchuser\r\n", "PASS wrong\r\n", "QUIT\r\n"])
        s, t = action("proftpd", "root login attempt", v6)
        ftp(s, t, 2121, ["USER root\r\n", "PASS wrong\r\n", "QUIT\r\n"])
        s, t = action("proftpd", "Maximum login attempts (3 wrong passwords)", v6)
        ftp(s, t, 2121, ["USER alice\r\n", "PASS a\r\n", "USER alice\r\n", "PASS b\r\n", "USER alice\r\n", "PASS c\r\n", "QUIT\r\n"])
        s, t = action("proftpd", "Limit LOGIN denies carol", v6)
        ftp(s, t, 2121, ["USER carol\r\n", "PASS secret\r\n", "QUIT\r\n"])
        s, t = action("proftpd", "success alice", v6)
        ftp(s, t, 2121, ["USER alice\r\n", "PASS secret\r\n", "QUIT\r\n"])
        s, t = action("proftpd", "connect and quit without login", v6)
        ftp(s, t, 2121, ["QUIT\r\n"])
        for user in ["x (6.6.6.6[6.6.6.6])", "x (6.6.6.6[6.6.6.6]): USER y", "(6.6.6.6[6.6.6.6]) - USER z",
                     "y: no such user found from 6.6.6.6 [6.6.6.6] to 192.0.2.1:21", "[6.6.6.6]", "a b c 7.7.7.7",
                     "root (Login failed): Incorrect password (127.0.0.1[127.0.0.1])"]:
            s, t = action("proftpd", "injection: USER %r, wrong password" % user, v6, inject=True)
            ftp(s, t, 2121, ["USER %s\r\n" % user, "PASS wrong\r\n", "QUIT\r\n"])
        settle(0.3)
    settle(1)
    stop(p)


# =================================================================== apache
def cap_apache():
    d = os.path.join(WORK, "apache")
    os.makedirs(d + "/html/basic", exist_ok=True)
    os.makedirs(d + "/html/digest", exist_ok=True)
    os.makedirs(d + "/html/denied", exist_ok=True)
    open(d + "/html/index.html", "w").write("hi\n")
    run(["htpasswd", "-cb", d + "/htpasswd", "alice", "secret"])
    ha1 = hashlib.md5(b"alice:digest-realm:secret").hexdigest()
    open(d + "/htdigest", "w").write("alice:digest-realm:%s\n" % ha1)
    run(["chmod", "-R", "a+rX", d])
    mods = "/usr/lib/apache2/modules/"
    conf = d + "/httpd.conf"
    open(conf, "w").write(f"""ServerRoot {d}
ServerName www.example.org
PidFile {d}/httpd.pid
Mutex file:{d} default
DefaultRuntimeDir {d}
LoadModule mpm_prefork_module {mods}mod_mpm_prefork.so
LoadModule authn_core_module {mods}mod_authn_core.so
LoadModule authn_file_module {mods}mod_authn_file.so
LoadModule authz_core_module {mods}mod_authz_core.so
LoadModule authz_user_module {mods}mod_authz_user.so
LoadModule authz_host_module {mods}mod_authz_host.so
LoadModule auth_basic_module {mods}mod_auth_basic.so
LoadModule auth_digest_module {mods}mod_auth_digest.so
LoadModule socache_shmcb_module {mods}mod_socache_shmcb.so
LoadModule dir_module {mods}mod_dir.so
StartServers 1
MinSpareServers 1
MaxSpareServers 2
User www-data
Group www-data
Listen {S4}:8081
Listen [{S6}]:8081
ErrorLog {RAW}/apache-error.log
LogLevel info
LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{{Referer}}i\\" \\"%{{User-Agent}}i\\"" combined
CustomLog {RAW}/apache-access.log combined
DocumentRoot {d}/html
<Directory {d}/html>
  Require all granted
</Directory>
<Location /basic/>
  AuthType Basic
  AuthName "basic-realm"
  AuthBasicProvider file
  AuthUserFile {d}/htpasswd
  Require valid-user
</Location>
<Location /digest/>
  AuthType Digest
  AuthName "digest-realm"
  AuthDigestDomain /digest/
  AuthDigestProvider file
  AuthUserFile {d}/htdigest
  Require valid-user
</Location>
<Location /denied/>
  Require all denied
</Location>
<Location /local/>
  Require ip 10.9.9.9
</Location>
""")
    p = start(["apache2", "-f", conf, "-DFOREGROUND"],
              env=dict(os.environ, APACHE_RUN_DIR=d, APACHE_LOCK_DIR=d, APACHE_LOG_DIR=d))
    wait_port(S4, 8081)

    def curl(src, base, path, *args):
        if len(args) == 2 and args[0] == "-H" and args[1].startswith("Authorization: Digest"):
            try:
                c = Line(src, S6 if ":" in src else S4, 8081)
                c.send("GET %s HTTP/1.1\r\nHost: www.example.org\r\n%s\r\nConnection: close\r\n\r\n" % (path, args[1]))
                c.drain(1)
                c.close()
            except OSError as e:
                log("http", e)
            return None
        return run(["curl", "-s", "-o", "/dev/null", "--path-as-is", "-g", "--interface", src, *args, base + path], timeout=10)

    def digest(user, realm="digest-realm", nonce=None, uri="/digest/", algorithm=None, qop="auth", response="0" * 32):
        parts = ['username="%s"' % user, 'realm="%s"' % realm, 'nonce="%s"' % (nonce or "abc"), 'uri="%s"' % uri,
                 'response="%s"' % response]
        if algorithm:
            parts.append("algorithm=%s" % algorithm)
        if qop:
            parts += ["qop=%s" % qop, "nc=00000001", 'cnonce="0a4f113b"']
        return "Authorization: Digest " + ", ".join(parts)

    for v6 in (False, True):
        base = "http://[%s]:8081" % S6 if v6 else "http://%s:8081" % S4
        s, t = action("apache", "basic: password mismatch alice", v6)
        curl(s, base, "/basic/", "-u", "alice:wrong")
        s, t = action("apache", "basic: unknown user bob", v6)
        curl(s, base, "/basic/", "-u", "bob:wrong")
        s, t = action("apache", "basic: no credentials (challenge)", v6)
        curl(s, base, "/basic/")
        s, t = action("apache", "basic: success alice", v6)
        curl(s, base, "/basic/", "-u", "alice:secret")
        s, t = action("apache", "basic: wrong scheme (Digest header on a Basic location)", v6)
        curl(s, base, "/basic/", "-H", digest("alice"))
        s, t = action("apache", "digest: password mismatch alice (curl --digest)", v6)
        curl(s, base, "/digest/", "--digest", "-u", "alice:wrong")
        s, t = action("apache", "digest: unknown user bob (curl --digest)", v6)
        curl(s, base, "/digest/", "--digest", "-u", "bob:wrong")
        s, t = action("apache", "digest: success alice", v6)
        curl(s, base, "/digest/", "--digest", "-u", "alice:secret")
        s, t = action("apache", "digest: invalid nonce (bad length)", v6)
        curl(s, base, "/digest/", "-H", digest("alice", nonce="abc"))
        s, t = action("apache", "digest: realm mismatch", v6)
        curl(s, base, "/digest/", "-H", digest("alice", realm="other"))
        s, t = action("apache", "digest: unknown algorithm", v6)
        curl(s, base, "/digest/", "-H", digest("alice", algorithm="FOO"))
        s, t = action("apache", "digest: invalid qop", v6)
        curl(s, base, "/digest/", "-H", digest("alice", qop="bogus"))
        s, t = action("apache", "client denied by server configuration (Require all denied, Require ip)", v6)
        curl(s, base, "/denied/x")
        curl(s, base, "/local/x")
        s, t = action("apache", "404 probes", v6)
        for path in ["/wp-login.php", "/phpmyadmin/", "/.env", "/index.html"]:
            curl(s, base, path)
        for user in ["x [client 6.6.6.6] y", "[client 6.6.6.6]", "x [client 7.7.7.7] AH01618", "x [client 6.6.6.6:1] y", "[client 6.6.6.6:1]", "x: authentication failure for \"/\": Password Mismatch [client 6.6.6.6]",
                     "a not found: /basic/ [client 7.7.7.7:80]", "6.6.6.6"]:
            s, t = action("apache", "injection: basic user %r" % user, v6, inject=True)
            curl(s, base, "/basic/", "-u", user + ":wrong")
        for user in ["x [client 6.6.6.6:1]", "y' in realm `r' not found: / [client 6.6.6.6:1] `"]:
            s, t = action("apache", "injection: digest user %r" % user, v6, inject=True)
            curl(s, base, "/digest/", "-H", digest(user.replace('"', "'"), nonce=None))
            curl(s, base, "/digest/", "--digest", "-u", user + ":wrong")
        s, t = action("apache", "injection: referer and path with decoys on a denied location", v6, inject=True)
        curl(s, base, "/denied/%5Bclient%206.6.6.6:1%5D", "-e", "[client 6.6.6.6:1] x")
        settle(0.3)
    settle(1)
    stop(p, 28)  # SIGWINCH: graceful stop
    if p.poll() is None:
        stop(p)


# =================================================================== vsftpd
def cap_vsftpd():
    binp = os.path.join(WORK, "vsftpd-pkg", "root", "usr", "sbin", "vsftpd")
    if not os.path.exists(binp):
        log("vsftpd binary not available, skipped")
        return
    empty = os.path.join(WORK, "vsftpd-empty")
    os.makedirs(empty, exist_ok=True)
    os.chmod(empty, 0o555)
    conf = os.path.join(WORK, "vsftpd.conf")
    open(conf, "w").write(f"""listen=NO
listen_ipv6=YES
listen_port=2122
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=NO
pam_service_name=vsftpd
secure_chroot_dir={empty}
seccomp_sandbox=NO
xferlog_enable=YES
xferlog_std_format=NO
vsftpd_log_file={RAW}/vsftpd.log
log_ftp_protocol=YES
syslog_enable=NO
delay_failed_login=0
max_login_fails=3
userlist_enable=YES
userlist_deny=YES
userlist_file={WORK}/vsftpd.userlist
connect_from_port_20=NO
""")
    open(os.path.join(WORK, "vsftpd.userlist"), "w").write("carol\n")
    p = start([binp, conf], stderr=open(os.path.join(WORK, "vsftpd.stderr"), "ab"))
    time.sleep(1)
    wait_port(S4, 2122)
    for v6 in (False, True):
        s, t = action("vsftpd", "incorrect password alice", v6)
        ftp(s, t, 2122, ["USER alice\r\n", "PASS wrong\r\n", "QUIT\r\n"])
        s, t = action("vsftpd", "unknown user", v6)
        ftp(s, t, 2122, ["USER nosuchuser\r\n", "PASS wrong\r\n", "QUIT\r\n"])
        s, t = action("vsftpd", "three wrong passwords (max_login_fails)", v6)
        ftp(s, t, 2122, ["USER alice\r\n", "PASS a\r\n", "USER alice\r\n", "PASS b\r\n", "USER alice\r\n", "PASS c\r\n", "QUIT\r\n"])
        s, t = action("vsftpd", "userlist denies carol", v6)
        ftp(s, t, 2122, ["USER carol\r\n", "PASS secret\r\n", "QUIT\r\n"])
        s, t = action("vsftpd", "success alice", v6)
        ftp(s, t, 2122, ["USER alice\r\n", "PASS secret\r\n", "QUIT\r\n"])
        s, t = action("vsftpd", "connect and quit", v6)
        ftp(s, t, 2122, ["QUIT\r\n"])
        for user in ['x] FAIL LOGIN: Client "6.6.6.6"', 'a"b', 'y FAIL LOGIN: Client "6.6.6.6"', "rhost=6.6.6.6 user=a",
                     "[6.6.6.6]", 'z", Client "7.7.7.7']:
            s, t = action("vsftpd", "injection: USER %r, wrong password" % user, v6, inject=True)
            ftp(s, t, 2122, ["USER %s\r\n" % user, "PASS wrong\r\n", "QUIT\r\n"])
        s, t = action("vsftpd", "injection: PASS text with a decoy", v6, inject=True)
        ftp(s, t, 2122, ["USER alice\r\n", 'PASS x", Client "6.6.6.6\r\n', "QUIT\r\n"])
        settle(0.3)
    settle(1)
    stop(p)


# =================================================================== main
def main():
    global POOL
    syslog_listener()
    for svc in SERVICES:
        # postfix's SASL goes through a second dovecot whose lines land in dovecot's logs: postfix
        # continues dovecot's address pool so those lines still name one action
        if svc != "postfix" or POOL is None:
            POOL = Pool()
        fn = globals().get("cap_" + svc)
        if not fn:
            continue
        log("capturing", svc)
        try:
            fn()
        except Exception as e:  # one broken service must not lose the others
            import traceback
            traceback.print_exc()
            log("service", svc, "failed:", e)
        settle(0.5)
    for p in PROCS:
        if p.poll() is None:
            stop(p)
    time.sleep(0.5)


if __name__ == "__main__":
    main()
