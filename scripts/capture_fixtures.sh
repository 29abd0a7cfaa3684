#!/usr/bin/env bash
# Captures real log lines from real services for the filter fixtures: starts OpenSSH, nginx,
# dovecot and proftpd inside a throw-away network namespace (postfix is not captured: its master
# exits silently in a namespace without syslog; its fixtures are written from known wordings), makes failing logins against them from
# 192.0.2.2 / 2001:db8::2, and writes what the services logged to OUTDIR (default
# /tmp/fail2zig-capture). Needs root and the Debian packages listed in .ci/run. The lines are then
# reviewed and pasted into fixtures/filters/*.txt with their expected address.
#
#   sudo bash scripts/capture_fixtures.sh [OUTDIR]
set -uo pipefail
OUT=${1:-/tmp/fail2zig-capture}
NS=f2zcap$$
WORK=$(mktemp -d /tmp/f2zcap.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  # every process still inside our namespace (daemons' children) is ours: end them too
  for p in $(ip netns pids "$NS" 2>/dev/null); do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$OUT"
inns() { ip netns exec "$NS" "$@"; }

ip netns add "$NS"
inns ip link set lo up
inns ip addr add 192.0.2.1/24 dev lo
inns ip addr add 192.0.2.2/24 dev lo
inns ip addr add 2001:db8::1/64 dev lo nodad
inns ip addr add 2001:db8::2/64 dev lo nodad

# ---- OpenSSH: sshd -e logs to stderr, exactly the text it gives syslog -------------------------
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey"
cat > "$WORK/sshd_config" <<EOF
Port 2222
HostKey $WORK/hostkey
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
MaxAuthTries 3
LogLevel INFO
PidFile none
EOF
ip netns exec "$NS" /usr/sbin/sshd -D -e -f "$WORK/sshd_config" 2> "$OUT/sshd.stderr" &
PIDS+=($!)
sleep 0.5
for target in 192.0.2.1 2001:db8::1; do
  src=192.0.2.2; [[ $target == *:* ]] && src=2001:db8::2
  for user in root nosuchuser "admin from 203.0.113.9"; do
    inns timeout 10 sshpass -p wrongpass ssh -b "$src" -p 2222 -o StrictHostKeyChecking=no \
      -o UserKnownHostsFile=/dev/null -o PreferredAuthentications=password \
      -o NumberOfPasswordPrompts=3 "$user@$target" true 2>/dev/null
  done
  # a client that never sends a banner, and one that gives up before authenticating
  echo | inns timeout 3 bash -c "exec 3<>/dev/tcp/$target/2222; echo garbage >&3; sleep 1" 2>/dev/null
  inns timeout 5 ssh -b "$src" -p 2222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o PreferredAuthentications=publickey -o IdentitiesOnly=yes -o IdentityFile=/dev/null \
    "nosuchuser@$target" true 2>/dev/null
done

# ---- nginx: basic auth failures, limit_req, bot searches ---------------------------------------
mkdir -p "$WORK/nginx/html"
printf 'alice:%s\n' "$(openssl passwd -apr1 secret)" > "$WORK/nginx/htpasswd"
chmod -R a+rX "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $OUT/nginx-error.log info;
events { worker_connections 64; }
http {
  access_log $OUT/nginx-access.log;
  client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx;
  fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
  limit_req_zone \$binary_remote_addr zone=one:1m rate=1r/m;
  server {
    listen 192.0.2.1:8080; listen [2001:db8::1]:8080; server_name example.org;
    root $WORK/nginx/html;
    location /admin/ { auth_basic "x"; auth_basic_user_file $WORK/nginx/htpasswd; }
    location /api/ { limit_req zone=one burst=1 nodelay; }
  }
}
EOF
ip netns exec "$NS" nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
PIDS+=($!)
sleep 0.5
for base in http://192.0.2.1:8080 "http://[2001:db8::1]:8080"; do
  iface=192.0.2.2; [[ $base == *::* ]] && iface=2001:db8::2
  c() { inns curl -s -o /dev/null --interface "$iface" "$@"; }
  c -u alice:wrong "$base/admin/"
  c -u bob:wrong "$base/admin/"
  c -u 'x, client: 203.0.113.7, y:wrong' "$base/admin/"
  c "$base/admin/?client:%20203.0.113.8"
  for _ in 1 2 3 4; do c "$base/api/x"; done
  for p in wp-login.php phpmyadmin/index.php .env cgi-bin/test.cgi index.html; do c "$base/$p"; done
done

# ---- dovecot: IMAP LOGIN with wrong passwords --------------------------------------------------
cat > "$WORK/dovecot.conf" <<EOF
base_dir = $WORK/dovecot-run
log_path = $OUT/dovecot.log
protocols = imap
listen = 192.0.2.1, 2001:db8::1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = $WORK/dovecot.passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}
service imap-login {
  inet_listener imap {
    port = 1143
  }
}
EOF
echo "alice:{PLAIN}secret" > "$WORK/dovecot.passwd"
ip netns exec "$NS" dovecot -F -c "$WORK/dovecot.conf" &
PIDS+=($!)
sleep 1
for target in 192.0.2.1 2001:db8::1; do
  src=192.0.2.2; [[ $target == *:* ]] && src=2001:db8::2
  for user in alice nosuchuser; do
    printf 'a LOGIN %s wrong\r\nb LOGOUT\r\n' "$user" |
      inns timeout 8 python3 -c "
import socket,sys
s=socket.create_connection(('$target',1143),source_address=('$src',0))
s.recv(4096); s.sendall(sys.stdin.buffer.read())
import time; time.sleep(3); s.close()" 2>/dev/null
  done
done

# ---- proftpd: USER/PASS with wrong passwords ---------------------------------------------------
cat > "$WORK/proftpd.conf" <<EOF
ServerName "capture"
ServerType standalone
DefaultServer on
Port 2121
DefaultAddress 192.0.2.1
UseIPv6 on
User nobody
Group nogroup
PidFile $WORK/proftpd.pid
ScoreboardFile $WORK/proftpd.scoreboard
SystemLog $OUT/proftpd.log
UseReverseDNS off
MaxLoginAttempts 2
RequireValidShell off
EOF
ip netns exec "$NS" proftpd -n -c "$WORK/proftpd.conf" 2>>"$OUT/proftpd.stderr" &
PIDS+=($!)
sleep 1
for user in root nosuchuser; do
  inns timeout 8 curl -s --interface 192.0.2.2 "ftp://$user:wrong@192.0.2.1:2121/" -o /dev/null
done

sleep 2
echo "captured into $OUT:"
wc -l "$OUT"/* 2>/dev/null
