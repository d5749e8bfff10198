#!/usr/bin/env bash
# Provides pinned etcd 3.5 binaries (etcd, etcdctl) for the cluster tests and prints the directory
# that holds them.
#
#   scripts/provision-etcd.sh                  -> <repo>/.cache/etcd/usr/bin
#   ETCD_BIN=/dir scripts/provision-etcd.sh    (dir with etcd and etcdctl: use as is)
#   ETCD_BIN=/dir/etcd scripts/provision-etcd.sh
#   ETCD_DEB_VERSION=... scripts/provision-etcd.sh   (override the pinned version)
#
# Debian bookworm ships only etcd 3.4; the tests need 3.5, so trixie's etcd-server (etcd) and
# etcd-client (etcdctl) packages are fetched through a private apt configuration under
# .cache/etcd/apt (scripts/lib/debian-deb.sh) and unpacked there; the system apt configuration is
# never modified. Idempotent: a stamp file records the version that was unpacked.
set -euo pipefail

ETCD_DEB_VERSION="${ETCD_DEB_VERSION:-3.5.16-4}"
ETCD_SUITE="${ETCD_SUITE:-trixie}"

log() { printf 'provision-etcd: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

check_bins() { # $1 = bin dir; etcd must say 3.5.x
  [[ -x "$1/etcd" && -x "$1/etcdctl" ]] || return 1
  # Not `etcd --version | grep -q`: with pipefail, grep leaving early can fail the pipeline (SIGPIPE),
  # and a failed check re-provisions under running tests.
  local v
  v="$("$1/etcd" --version 2>/dev/null)" || return 1
  [[ "$v" == *"etcd Version: 3.5."* ]] || return 1
  "$1/etcdctl" version >/dev/null 2>&1 || return 1
}

# --- 1. explicit binaries -------------------------------------------------------------
if [[ -n "${ETCD_BIN:-}" ]]; then
  if [[ -d "$ETCD_BIN" ]]; then bindir="$ETCD_BIN"; else bindir="$(dirname -- "$ETCD_BIN")"; fi
  bindir="$(cd -- "$bindir" && pwd)"
  check_bins "$bindir" || die "ETCD_BIN=$ETCD_BIN: need executable etcd (version 3.5.x) and etcdctl in $bindir"
  printf '%s\n' "$bindir"
  exit 0
fi

repo="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
root="$repo/.cache/etcd"
bindir="$root/usr/bin"
stamp="$root/.stamp"

# --- 2. already provisioned ------------------------------------------------------------
if [[ -f "$stamp" && "$(cat -- "$stamp")" == "$ETCD_DEB_VERSION" ]] && check_bins "$bindir"; then
  printf '%s\n' "$bindir"
  exit 0
fi

# --- 3. download (private apt config), unpack, verify ---------------------------------
# shellcheck source=lib/debian-deb.sh
source "$repo/scripts/lib/debian-deb.sh"
apt_prepare "$root/apt" "$ETCD_SUITE"
server_deb="$(fetch_deb etcd-server "$ETCD_DEB_VERSION")"
client_deb="$(fetch_deb etcd-client "$ETCD_DEB_VERSION")"

# Unpack beside, then rename into place: an etcd started meanwhile runs the old or the new binary,
# never a half-written one (exec of a file open for writing fails with ETXTBSY).
rm -f "$stamp"
new="$root/.new-$$"
rm -rf "$new" && mkdir -p "$new"
dpkg-deb -x "$server_deb" "$new"
dpkg-deb -x "$client_deb" "$new"
check_bins "$new/usr/bin" || die "unpacked etcd $ETCD_DEB_VERSION but its etcd --version does not say 3.5"
rm -rf "$root/.old-$$"
[[ -d "$root/usr" ]] && mv "$root/usr" "$root/.old-$$"
mv "$new/usr" "$root/usr"
rm -rf "$new" "$root/.old-$$"
printf '%s\n' "$ETCD_DEB_VERSION" >"$stamp"
log "$("$bindir/etcd" --version | head -n 1) ready in $bindir"
printf '%s\n' "$bindir"
