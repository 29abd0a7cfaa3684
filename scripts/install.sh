#!/usr/bin/env bash
# Installs fail2zig from this checkout (run as root). What goes where, with the default prefix:
#   /usr/local/bin/fail2zig          the compiled executable (dist/fail2zig, `deno task compile`) if
#                                    there is one, else a wrapper running /usr/local/lib/fail2zig:
#                                    a copy of the checkout with its pinned Deno runtime
#   /etc/fail2zig/config.toml        0640 root:fail2zig, from packaging/config.toml; never overwritten
#   /etc/systemd/system/fail2zig.service (+ .d/memory.conf: MemoryMax = memory_ceiling_mb + 32 MiB)
#   /usr/local/share/man/man8/fail2zig.8, man5/fail2zig.toml.5 (generated: scripts/gen_packaging.ts)
#   /usr/local/share/bash-completion/completions/fail2zig, zsh/site-functions/_fail2zig,
#   /usr/local/share/fish/vendor_completions.d/fail2zig.fish, /etc/logrotate.d/fail2zig
#   /usr/local/share/doc/fail2zig/   interfaces.md, README.md, example.toml, and licenses/PACKAGE/:
#                                    the licence texts of the runtime and every package it carries
# and the system group fail2zig (its members may use `fail2zig client`). Installing again
# upgrades: the program, unit, pages and drop-in are replaced; config and state are kept.
# --uninstall removes what was installed and keeps the config, the state and the group.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/install.sh [--prefix DIR] [--root DIR] [--binary FILE] [--dry-run] [--uninstall]

  --prefix DIR    install prefix of program, pages, completions and docs (default /usr/local)
  --root DIR      stage the whole install under DIR (a package root or a test); /etc too
  --binary FILE   the compiled executable to install (default dist/fail2zig when it exists)
  --dry-run       print what would be done, change nothing
  --uninstall     remove an installation (the config, the state and the group are kept)

An upgrade restarts a running fail2zig.service once the new program accepts the config; if it
does not, the daemon is left running, the errors are printed and the exit status is 1.
SYSTEMCTL=PROGRAM names the systemctl to use (default: systemctl, and only for an install
without --root on a machine systemd runs).
EOF
}

cd "$(dirname "$0")/.."
SRC=$PWD
PREFIX=/usr/local ROOT="" BINARY="" DRY=0 UNINSTALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    --root=*) ROOT=${1#*=}; shift ;;
    --binary) BINARY=${2:?--binary needs a file}; shift 2 ;;
    --binary=*) BINARY=${1#*=}; shift ;;
    --dry-run) DRY=1; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
case "$PREFIX" in /*) ;; *) echo "install.sh: --prefix must be absolute, found '$PREFIX'" >&2; exit 2 ;; esac
if [ -n "$ROOT" ]; then
  case "$ROOT" in /*) ;; *) echo "install.sh: --root must be absolute, found '$ROOT'" >&2; exit 2 ;; esac
  ROOT=${ROOT%/}
fi
if [ -z "$BINARY" ] && [ -x "$SRC/dist/fail2zig" ]; then BINARY=$SRC/dist/fail2zig; fi
if [ "$DRY" = 0 ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root (or try --dry-run)" >&2
  exit 1
fi

BIN=$ROOT$PREFIX/bin
LIB=$ROOT$PREFIX/lib/fail2zig
MAN=$ROOT$PREFIX/share/man
COMP=$ROOT$PREFIX/share/bash-completion/completions
ZCOMP=$ROOT$PREFIX/share/zsh/site-functions
FCOMP=$ROOT$PREFIX/share/fish/vendor_completions.d
DOC=$ROOT$PREFIX/share/doc/fail2zig
ETC=$ROOT/etc
UNITS=$ETC/systemd/system
DENO=$SRC/node_modules/deno/deno
GEN=("$DENO" run -q --allow-read --allow-write --allow-env "$SRC/scripts/gen_packaging.ts")
# Talk to systemd only for a real install on a machine it runs, or to the SYSTEMCTL given.
LIVE=0
if [ "$DRY" = 0 ]; then
  if [ -n "${SYSTEMCTL:-}" ]; then
    LIVE=1
  elif [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then
    LIVE=1 SYSTEMCTL=systemctl
  fi
fi

say() { echo "install.sh: $*"; }
run() {
  if [ "$DRY" = 1 ]; then printf '+'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}

if [ "$UNINSTALL" = 1 ]; then
  if [ "$LIVE" = 1 ] && [ -e "$UNITS/fail2zig.service" ]; then
    run "$SYSTEMCTL" disable --now fail2zig.service || true
  fi
  run rm -f "$BIN/fail2zig" "$MAN/man8/fail2zig.8" "$MAN/man5/fail2zig.toml.5" \
    "$COMP/fail2zig" "$ZCOMP/_fail2zig" "$FCOMP/fail2zig.fish" "$ETC/logrotate.d/fail2zig" \
    "$UNITS/fail2zig.service"
  run rm -rf "$LIB" "$DOC" "$UNITS/fail2zig.service.d"
  if [ "$LIVE" = 1 ]; then run "$SYSTEMCTL" daemon-reload; fi
  say "removed; kept $ETC/fail2zig (config), /var/lib/fail2zig (state) and the group fail2zig"
  exit 0
fi

[ -x "$DENO" ] || { echo "install.sh: $DENO is missing: run npm ci first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- the fail2zig group (admins who may use the client) ----
if [ -z "$ROOT" ]; then
  getent group fail2zig >/dev/null || run groupadd --system fail2zig
  gid=$(getent group fail2zig | cut -d: -f3 || true)
elif [ -f "$ETC/group" ]; then
  grep -q '^fail2zig:' "$ETC/group" || run groupadd --prefix "$ROOT" --system fail2zig
  gid=$(awk -F: '$1 == "fail2zig" { print $3 }' "$ETC/group")
else
  say "no $ETC/group: the group fail2zig is not created; the config gets group root"
  gid=0
fi
gid=${gid:-fail2zig}

# ---- the program ----
run mkdir -p "$BIN"
if [ -n "$BINARY" ]; then
  say "installing the compiled executable $BINARY"
  run install -m 0755 "$BINARY" "$BIN/fail2zig"
  run rm -rf "$LIB"
else
  say "no compiled executable (dist/fail2zig): installing the checkout with its pinned runtime"
  run rm -rf "$LIB.new"
  # What the program runs, as the executable embeds it: sources without tests, runtime packages.
  run "$DENO" run -q --allow-read --allow-write --allow-run --allow-env "$SRC/scripts/compile.ts" \
    --stage "$LIB.new"
  run mkdir -p "$LIB.new/cache"
  run install -m 0755 "$DENO" "$LIB.new/deno"
  run rm -rf "$LIB"
  run mv "$LIB.new" "$LIB"
  run "${GEN[@]}" wrapper "$tmp/fail2zig"
  run install -m 0755 "$tmp/fail2zig" "$BIN/fail2zig"
  # Fill the runtime's cache now: under the unit /usr is read-only.
  run "$BIN/fail2zig" version
fi

# ---- config: created once, never overwritten ----
run mkdir -p "$ETC/fail2zig"
if [ -e "$ETC/fail2zig/config.toml" ]; then
  say "keeping $ETC/fail2zig/config.toml"
else
  run install -m 0640 -o 0 -g "$gid" "$SRC/packaging/config.toml" "$ETC/fail2zig/config.toml"
fi

# ---- systemd unit and its MemoryMax drop-in ----
run mkdir -p "$UNITS/fail2zig.service.d"
if [ "$PREFIX" = /usr/local ]; then
  run install -m 0644 "$SRC/packaging/fail2zig.service" "$UNITS/fail2zig.service"
else
  run sed "s|/usr/local/|$PREFIX/|g" "$SRC/packaging/fail2zig.service" >"$tmp/unit"
  run install -m 0644 "$tmp/unit" "$UNITS/fail2zig.service"
fi
max=$("${GEN[@]}" memory-max "$ETC/fail2zig/config.toml")
printf '# Written by scripts/install.sh: memory_ceiling_mb of %s + 32 MiB.\n[Service]\nMemoryMax=%s\n' \
  "/etc/fail2zig/config.toml" "$max" >"$tmp/memory.conf"
run install -m 0644 "$tmp/memory.conf" "$UNITS/fail2zig.service.d/memory.conf"

# ---- pages, completions, logrotate, docs ----
run "${GEN[@]}" man "$tmp"
run "${GEN[@]}" completion "$tmp"
run mkdir -p "$MAN/man8" "$MAN/man5" "$COMP" "$ZCOMP" "$FCOMP" "$ETC/logrotate.d" "$DOC"
run install -m 0644 "$tmp/fail2zig.8" "$MAN/man8/fail2zig.8"
run install -m 0644 "$tmp/fail2zig.toml.5" "$MAN/man5/fail2zig.toml.5"
run install -m 0644 "$tmp/fail2zig.bash" "$COMP/fail2zig"
run install -m 0644 "$tmp/_fail2zig" "$ZCOMP/_fail2zig"
run install -m 0644 "$tmp/fail2zig.fish" "$FCOMP/fail2zig.fish"
run install -m 0644 "$SRC/packaging/fail2zig.logrotate" "$ETC/logrotate.d/fail2zig"
run install -m 0644 "$SRC/docs/interfaces.md" "$SRC/README.md" "$SRC/fixtures/config/example.toml" "$DOC/"
run rm -rf "$DOC/licenses"
run "$DENO" run -q --allow-read --allow-write "$SRC/scripts/compile.ts" --licences "$DOC/licenses"

say "installed fail2zig under $ROOT$PREFIX (MemoryMax=$max)"

# ---- an upgrade under a running daemon: restart it on the new program, if that takes the config ----
# (The checkout install has replaced the files the old daemon's next reload would load.)
if [ "$LIVE" = 1 ]; then
  run "$SYSTEMCTL" daemon-reload
  if "$SYSTEMCTL" is-active --quiet fail2zig.service; then
    if "$BIN/fail2zig" config check --config "$ETC/fail2zig/config.toml" >/dev/null 2>"$tmp/check"; then
      run "$SYSTEMCTL" try-restart fail2zig.service
      say "restarted the running fail2zig.service on the new program"
      exit 0
    fi
    cat "$tmp/check" >&2
    say "NOT restarted: the new program refuses $ETC/fail2zig/config.toml (above); the daemon" >&2
    say "runs on the old one: fix the config, run 'fail2zig config check', then" >&2
    say "      systemctl restart fail2zig (and no 'reload' before that)" >&2
    exit 1
  fi
fi
say "next: edit $ETC/fail2zig/config.toml, run 'fail2zig config check', then"
say "      systemctl enable --now fail2zig (add admins to the group: usermod -aG fail2zig USER)"
