#!/usr/bin/env bash
# Captures real log lines from real Debian services for the filter fixtures and annotates them.
#
# One entry point. As root:
#
#   sudo bash scripts/capture_fixtures.sh [RAWDIR]
#
# 1. creates a throw-away network namespace (server 192.0.2.1 / 2001:db8::1 on its loopback, one
#    client address per client action: 192.0.2.10-254 and 2001:db8::1:N), and inside it a private
#    mount namespace with its own /dev (so a tiny syslog listener can own /dev/log), /run,
#    /etc/passwd+shadow+group (test users alice/bob/carol), /etc/pam.d and an empty resolv.conf —
#    nothing on the host is changed;
# 2. scripts/capture/driver.py starts OpenSSH, nginx, dovecot (IMAP/POP3 + SASL for postfix),
#    postfix (smtpd, postscreen, postlogd), proftpd, apache2 and vsftpd (3.0.3 from the Debian
#    archive, `apt-get download` + `dpkg -x` into the temp dir: its package conflicts with proftpd),
#    each from its own config in the temp dir, drives failing/succeeding/injecting clients at them,
#    (POP3: dovecot-pop3d unpacked the same way), and writes what the services logged plus a manifest of the client actions to RAWDIR
#    (default: a temp dir, removed at the end);
# 3. scripts/capture/annotate.py turns the raw logs into fixtures/filters/captured/*.txt
#    (EXPECTED<TAB>LINE, EXPECTED = the action's client address when the line is a failure of the
#    filter in that mode under fail2ban 1.1 semantics, else `-`).
#
# Everything started is killed, the namespace deleted and the temp dir removed on exit.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3

if [[ ${1:-} == --inner ]]; then
  # ---- runs inside the netns, in a private mount namespace: private /dev, /run, /etc files ----
  WORK=$2 RAW=$3
  mount --make-rprivate / || exit 1
  mkdir -p "$WORK/olddev" "$WORK/etc"
  mount --rbind /dev "$WORK/olddev"
  mount -t tmpfs -o mode=755 tmpfs /dev
  for n in null zero full random urandom tty; do
    touch "/dev/$n" && mount --bind "$WORK/olddev/$n" "/dev/$n"
  done
  mkdir -p /dev/pts /dev/shm && mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
  ln -s pts/ptmx /dev/ptmx
  mount -t tmpfs -o mode=1777 tmpfs /dev/shm
  ln -s /proc/self/fd /dev/fd; ln -s /proc/self/fd/0 /dev/stdin
  ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr
  mount -t tmpfs -o mode=755 tmpfs /run && mkdir -p /run/sshd && chmod 755 /run/sshd
  # test users, password "secret": alice, bob (sshd DenyUsers), carol (not in sshd AllowUsers, proftpd/vsftpd deny lists)
  cp /etc/passwd /etc/shadow /etc/group "$WORK/etc/"
  hash=$(openssl passwd -6 secret)
  uid=4001
  for u in alice bob carol; do
    mkdir -p "$WORK/home/$u"
    echo "$u:x:$uid:$uid::$WORK/home/$u:/bin/sh" >> "$WORK/etc/passwd"
    echo "$u:$hash:19000:0:99999:7:::" >> "$WORK/etc/shadow"
    echo "$u:x:$uid:" >> "$WORK/etc/group"
    chown "$uid:$uid" "$WORK/home/$u"
    uid=$((uid + 1))
  done
  for f in passwd shadow group; do mount --bind "$WORK/etc/$f" "/etc/$f"; done
  : > "$WORK/etc/resolv.conf" && mount --bind "$WORK/etc/resolv.conf" /etc/resolv.conf
  cp -a /etc/pam.d "$WORK/etc/pam.d"
  printf '@include common-auth\n@include common-account\nsession required pam_unix.so\n' > "$WORK/etc/pam.d/sshd"
  printf 'auth required pam_unix.so\naccount required pam_unix.so\nsession required pam_unix.so\n' > "$WORK/etc/pam.d/vsftpd"
  mount --bind "$WORK/etc/pam.d" /etc/pam.d
  # DEBUG_CMD='…' runs a command in the prepared namespaces instead of the driver (for debugging)
  if [[ -n ${DEBUG_CMD:-} ]]; then eval "$DEBUG_CMD"; exit; else exec "$PY" "$HERE/capture/driver.py" "$WORK" "$RAW"; fi
fi

[[ $(id -u) == 0 ]] || { echo "run as root" >&2; exit 1; }
NS=f2zcap$$
WORK=$(mktemp -d /tmp/f2zcap.XXXXXX)
chmod 755 "$WORK"
RAW=${1:-$WORK/raw}
KEEP_RAW=${1:+1}
mkdir -p "$RAW"
cleanup() {
  # every process inside our namespace is one we started (daemons and their children)
  for p in $(ip netns pids "$NS" 2>/dev/null); do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 143" TERM INT HUP

ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
ip -n "$NS" addr add 192.0.2.1/24 dev lo
ip -n "$NS" addr add 2001:db8::1/64 dev lo nodad
for i in $(seq 10 254); do ip -n "$NS" addr add "192.0.2.$i/24" dev lo; done
for i in $(seq 1 300); do ip -n "$NS" addr add "2001:db8::1:$(printf %x "$i")/64" dev lo nodad; done

# vsftpd conflicts with proftpd in apt: unpack its Debian package into the temp dir instead
mkdir -p "$WORK/vsftpd-pkg"
(cd "$WORK/vsftpd-pkg" && apt-get download -q vsftpd >/dev/null 2>&1 && dpkg -x vsftpd_*.deb root) ||
  echo "vsftpd: could not download the package, skipped" >&2

# dovecot-imapd is installed, POP3 is not: unpack dovecot-pop3d (same version) the same way
mkdir -p "$WORK/pop3d-pkg"
(cd "$WORK/pop3d-pkg" && apt-get download -q dovecot-pop3d >/dev/null 2>&1 && dpkg -x dovecot-pop3d_*.deb root) ||
  echo "dovecot-pop3d: could not download the package, POP3 skipped" >&2
chmod -R a+rX "$WORK/vsftpd-pkg" "$WORK/pop3d-pkg" 2>/dev/null

ip netns exec "$NS" unshare -m --propagation private bash "$0" --inner "$WORK" "$RAW"
echo "driver exit code $?"
"$PY" "$HERE/capture/annotate.py" "$RAW" "$ROOT/fixtures/filters/captured"
[[ -n $KEEP_RAW ]] && echo "raw logs kept in $RAW"
