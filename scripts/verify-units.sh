#!/usr/bin/env bash
# Offline check of the shipped systemd units (systemd/): installs them into a throw-away root and
# runs `systemd-analyze verify --root=…` on instances of the templates, with and without the example
# drop-ins. Fails (exit 1) on ANY line systemd-analyze prints about our units, on a non-zero exit
# that is not explained by a host unit, and on a sysusers.d file systemd-sysusers rejects. Then
# prints `systemd-analyze security --offline=yes` (informational; never fails the run).
#
# Needs systemd-analyze and systemd-sysusers (Debian: package systemd, ≥ 250 for verify --root and
# security --offline). Needs no running systemd: it works as root in a container whose PID 1 is not
# systemd.
#
# Usage: bash scripts/verify-units.sh [UNIT_DIR]   (default: systemd/ of this repository)
#   exit 0: clean · 1: problems · 2: the tools are missing
#   VERIFY_UNITS_HOST_UNIT_DIR: the host unit directory to copy (default /usr/lib/systemd/system);
#   the tests use both to prove that a bad line fails the run and a host unit's line does not.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=$(cd "${1:-$here/systemd}" && pwd)
instance=example.com

for tool in systemd-analyze systemd-sysusers; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "verify-units: $tool not found (Debian: apt-get install systemd)" >&2
    exit 2
  fi
done
if ! systemd-analyze --help 2>&1 | grep -q -- '--root='; then
  echo "verify-units: this systemd-analyze has no --root= (systemd < 250)" >&2
  exit 2
fi

# The host's own unit directory: our units pull in sysinit.target, network-online.target,
# timers.target, … and verify needs them to build its transaction.
host_units=
for d in ${VERIFY_UNITS_HOST_UNIT_DIR:-} /usr/lib/systemd/system /lib/systemd/system; do
  if [[ -f $d/sysinit.target ]]; then host_units=$d; break; fi
done
if [[ -z $host_units ]]; then
  echo "verify-units: no systemd unit directory with sysinit.target on this machine" >&2
  exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/verify-units.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0

# make_root DIR — a minimal usr-merged root: host units, our units, a stub /usr/bin/acme-renew so
# that verify's "is ExecStart executable" check resolves inside the root, and our sysusers.d entry.
make_root() {
  local r=$1
  mkdir -p "$r/usr/lib/systemd" "$r/usr/bin" "$r/usr/sbin" "$r/usr/lib/sysusers.d" "$r/etc/systemd/system"
  ln -s usr/lib "$r/lib"
  ln -s usr/bin "$r/bin"
  ln -s usr/sbin "$r/sbin"
  cp -a "$host_units" "$r/usr/lib/systemd/system"
  cp "$src/acme-renew@.service" "$src/acme-renew@.timer" "$src/acme-renew-ready@.service" "$src/acme-renew-http01.socket" "$src/acme-renew-http01.service" "$r/etc/systemd/system/"
  printf '#!/bin/sh\n# stub for systemd-analyze verify\nexit 0\n' >"$r/usr/bin/acme-renew"
  chmod 0755 "$r/usr/bin/acme-renew"
  cp "$src/sysusers.d/acme-renew.conf" "$r/usr/lib/sysusers.d/"
}

# is_host_line LINE ROOT — true only for a line that is clearly about one of the host's own units
# (copied from $host_units): it starts with the path of such a unit file, or with "<unit>:" for a
# unit whose name is not one of ours. Lines that mention acme-renew or one of the web servers (our
# stand-ins below) anywhere — e.g. "sysinit.target: Found ordering cycle on acme-renew@….service/start" — or
# that name no unit at all are never filtered.
is_host_line() {
  local line=$1 r=$2 name
  local bare=${line//$r/}
  [[ $bare == *acme-renew* || $bare =~ (nginx|apache2|caddy)\.service ]] && return 1
  if [[ $line =~ ^($r)?(/usr)?/lib/systemd/system/([^/:]+): ]]; then
    name=${BASH_REMATCH[3]}
  elif [[ $line =~ ^([A-Za-z0-9:_.@\\-]+\.(service|socket|target|timer|path|mount|automount|swap|slice|scope|device)):\  ]]; then
    name=${BASH_REMATCH[1]}
  else
    return 1
  fi
  [[ $name == acme-renew* || $name =~ ^(nginx|apache2|caddy)\.service$ ]] && return 1
  [[ -e $r/usr/lib/systemd/system/$name || -e $r/usr/lib/systemd/system/${name%%@*}@.${name##*.} ]]
}

# verify ROOT LABEL UNIT… — systemd-analyze verify; any line about our units fails the run.
verify() {
  local r=$1 label=$2; shift 2
  local out rc=0 line ours=() host=()
  out=$(cd "$r" && systemd-analyze verify --root="$r" --man=no --generators=no "$@" 2>&1) || rc=$?
  while IFS= read -r line; do
    [[ -z $line ]] && continue
    if is_host_line "$line" "$r"; then host+=("$line"); else ours+=("$line"); fi
  done <<<"$out"
  if ((${#host[@]})); then
    echo "  ignored ${#host[@]} line(s) about the host's own units (not shipped by us):"
    printf '    %s\n' "${host[@]}"
  fi
  if ((${#ours[@]})); then
    echo "FAIL $label: systemd-analyze verify $*:"
    printf '    %s\n' "${ours[@]//$r/<root>}"
    failed=1
  elif ((rc != 0 && ${#host[@]} == 0)); then
    echo "FAIL $label: systemd-analyze verify $* exited $rc without saying why"
    failed=1
  else
    echo "ok   $label: systemd-analyze verify $* (exit $rc)"
  fi
}

security() {
  local r=$1 label=$2 unit=$3 out
  if ! systemd-analyze --help 2>&1 | grep -q -- '--offline='; then
    echo "info $label: systemd-analyze security --offline=yes not supported here"
    return 0
  fi
  if out=$(cd "$r" && systemd-analyze security --offline=yes --root="$r" --man=no "$unit" 2>&1); then :; fi
  echo "info $label: systemd-analyze security --offline=yes $unit — exposure not yet reduced:"
  grep -E '^✗' <<<"$out" | sed -E 's/^/    /; s/ {2,}/  /g' || true
  grep -E 'Overall exposure level' <<<"$out" | sed 's/^→ */    /' || echo "    (no exposure score printed)"
}

echo "== sysusers.d"
base=$tmp/base
make_root "$base"
if out=$(systemd-sysusers --root="$base" "$base/usr/lib/sysusers.d/acme-renew.conf" 2>&1); then
  grep -q '^acme-renew:' "$base/etc/passwd" || { echo "FAIL sysusers.d: no user acme-renew created"; failed=1; }
  echo "ok   sysusers.d/acme-renew.conf (${out//$'\n'/; })"
else
  echo "FAIL sysusers.d/acme-renew.conf:"
  printf '    %s\n' "$out"
  failed=1
fi

echo "== units as shipped"
verify "$base" "units" "acme-renew@$instance.service" "acme-renew@$instance.timer" "acme-renew-ready@$instance.service" "acme-renew@my-site.example.org.service" acme-renew-http01.socket acme-renew-http01.service

echo "== units with every example drop-in"
drop=$tmp/dropins
make_root "$drop"
systemd-sysusers --root="$drop" "$drop/usr/lib/sysusers.d/acme-renew.conf" >/dev/null 2>&1 || true
mkdir -p "$drop/etc/systemd/system/acme-renew@.service.d"
for f in bind-low-ports webroot key-group metrics; do
  cp "$src/examples/$f.conf" "$drop/etc/systemd/system/acme-renew@.service.d/$f.conf"
done
# The web servers the drop-ins are written for, as stand-ins (none is installed here).
for w in nginx apache2 caddy; do
  mkdir -p "$drop/etc/systemd/system/$w.service.d"
  cp "$src/examples/$w-acme-renew.conf" "$drop/etc/systemd/system/$w.service.d/acme-renew.conf"
  printf '[Unit]\nDescription=stand-in for %s (verify-units.sh)\n[Service]\nExecStart=/usr/bin/acme-renew\n[Install]\nWantedBy=multi-user.target\n' "$w.service" >"$drop/etc/systemd/system/$w.service"
done
verify "$drop" "drop-ins" "acme-renew@$instance.service" "acme-renew@$instance.timer" "acme-renew-ready@$instance.service" nginx.service apache2.service caddy.service

echo "== systemd-analyze security (informational)"
security "$base" "as shipped" "acme-renew@$instance.service"
security "$base" "as shipped" "acme-renew-ready@$instance.service"
security "$drop" "with the example drop-ins" "acme-renew@$instance.service"

if ((failed)); then
  echo "verify-units: FAILED"
  exit 1
fi
echo "verify-units: all units clean"
