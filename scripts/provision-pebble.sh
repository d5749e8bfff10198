#!/usr/bin/env bash
# Provides pinned Pebble (ACME test CA) + pebble-challtestsrv binaries for the tests
# and prints the directory that holds them.
#
#   scripts/provision-pebble.sh            -> <repo>/.cache/pebble/usr/bin
#   PEBBLE_BIN=/dir scripts/provision-pebble.sh      (dir with both binaries: use as is)
#   PEBBLE_BIN=/dir/pebble scripts/provision-pebble.sh
#   PEBBLE_DEB_VERSION=... scripts/provision-pebble.sh   (override the pinned version)
#
# The Debian package is fetched with apt-get through a private apt configuration
# under .cache/pebble/apt whose mirror is taken, at run time, from this machine's own
# apt sources; the system apt configuration is never modified. Idempotent: a stamp
# file records the version that was unpacked.
set -euo pipefail

PEBBLE_DEB_VERSION="${PEBBLE_DEB_VERSION:-2.6.0+ds1-1+b7}"
PEBBLE_SUITE="${PEBBLE_SUITE:-trixie}"

log() { printf 'provision-pebble: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

check_bins() { # $1 = bin dir
  [[ -x "$1/pebble" && -x "$1/pebble-challtestsrv" ]] || return 1
  # Pebble 2.x prints its version with -version and exits 0.
  "$1/pebble" -version >/dev/null 2>&1 || return 1
  "$1/pebble-challtestsrv" -h >/dev/null 2>&1 || [[ $? -le 2 ]] || return 1
}

# --- 1. explicit binaries -------------------------------------------------------------
if [[ -n "${PEBBLE_BIN:-}" ]]; then
  if [[ -d "$PEBBLE_BIN" ]]; then bindir="$PEBBLE_BIN"; else bindir="$(dirname -- "$PEBBLE_BIN")"; fi
  bindir="$(cd -- "$bindir" && pwd)"
  check_bins "$bindir" || die "PEBBLE_BIN=$PEBBLE_BIN: need executable pebble and pebble-challtestsrv in $bindir"
  printf '%s\n' "$bindir"
  exit 0
fi

repo="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
root="$repo/.cache/pebble"
bindir="$root/usr/bin"
stamp="$root/.stamp"

# --- 2. already provisioned ------------------------------------------------------------
if [[ -f "$stamp" && "$(cat -- "$stamp")" == "$PEBBLE_DEB_VERSION" ]] && check_bins "$bindir"; then
  printf '%s\n' "$bindir"
  exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found (set PEBBLE_BIN to existing pebble binaries)"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found (set PEBBLE_BIN to existing pebble binaries)"

# --- 3. find the Debian main archive in the machine's own apt configuration ------------
# Prints "URI<TAB>Signed-By" for the first source serving the Debian main archive
# (a suite named after a Debian release codename, not -security).
find_debian_source() {
  local f
  shopt -s nullglob
  for f in /etc/apt/sources.list.d/*.sources; do
    # deb822: stanzas separated by blank lines.
    awk '
      function flush() {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && uris != "" && suites ~ /(^|[ \t])(bookworm|trixie|bullseye|forky|sid|unstable|stable|testing)([ \t]|$)/ && comps ~ /(^|[ \t])main([ \t]|$)/) {
          n = split(uris, u, /[ \t]+/)
          for (i = 1; i <= n; i++) if (u[i] != "") { printf "%s\t%s\n", u[i], signed; exit }
        }
        types = uris = suites = comps = signed = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      {
        line = $0
        key = tolower(line); sub(/:.*/, "", key); gsub(/[ \t]/, "", key)
        val = line; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
        if (key == "types") types = val
        else if (key == "uris") uris = val
        else if (key == "suites") suites = val
        else if (key == "components") comps = val
        else if (key == "signed-by") signed = val
      }
      END { flush() }
    ' "$f"
  done
  if [[ -f /etc/apt/sources.list ]]; then
    # one-line format: deb [opts] URI suite comp...
    awk '
      /^[ \t]*deb[ \t]/ {
        opts = ""; i = 2
        if ($2 ~ /^\[/) { while (i <= NF) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } i++ } }
        uri = $i; suite = $(i + 1)
        main = 0; for (j = i + 2; j <= NF; j++) if ($j == "main") main = 1
        if (main && suite ~ /^(bookworm|trixie|bullseye|forky|sid|unstable|stable|testing)$/) {
          signed = ""
          if (match(opts, /signed-by=[^ \]]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
          printf "%s\t%s\n", uri, signed; exit
        }
      }
    ' /etc/apt/sources.list
  fi
}

src="$(find_debian_source | head -n 1)"
[[ -n "$src" ]] || die "no Debian main archive found in /etc/apt/sources.list{,.d} (set PEBBLE_BIN instead)"
mirror="${src%%$'\t'*}"
keyring="${src#*$'\t'}"
if [[ -z "$keyring" ]]; then
  for k in /usr/share/keyrings/debian-archive-keyring.gpg /etc/apt/trusted.gpg.d/debian-archive-keyring.gpg; do
    [[ -f "$k" ]] && { keyring="$k"; break; }
  done
fi
[[ -n "$keyring" && -f "$keyring" ]] || die "no Debian archive keyring found"

# --- 4. private apt configuration, update, download ----------------------------------
apt="$root/apt"
mkdir -p "$apt/sources" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
cat >"$apt/sources/pebble.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $PEBBLE_SUITE
Components: main
Signed-By: $keyring
EOF

aptopts=(
  -o "Dir::Etc::SourceList=/dev/null"
  -o "Dir::Etc::SourceParts=$apt/sources"
  -o "Dir::State::Lists=$apt/lists"
  -o "Dir::State::Status=/dev/null"
  -o "Dir::Cache=$apt/cache"
  -o "Dir::Cache::pkgcache="
  -o "Dir::Cache::srcpkgcache="
  -o "APT::Sandbox::User=root"
  -o "APT::Architectures::=amd64"
  -o "Debug::NoLocking=1"
)
arch="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
aptopts+=(-o "APT::Architecture=$arch")

log "apt-get update ($PEBBLE_SUITE, private config in $apt)"
apt-get "${aptopts[@]}" -qq update >&2 || die "apt-get update failed"

log "apt-get download pebble=$PEBBLE_DEB_VERSION"
( cd "$apt/debs" && rm -f pebble_*.deb && apt-get "${aptopts[@]}" -qq download "pebble=$PEBBLE_DEB_VERSION" >&2 ) \
  || die "apt-get download pebble=$PEBBLE_DEB_VERSION failed"
deb="$(ls "$apt/debs"/pebble_*.deb 2>/dev/null | head -n 1)"
[[ -n "$deb" ]] || die "no pebble .deb downloaded"
got="$(dpkg-deb -f "$deb" Version)"
[[ "$got" == "$PEBBLE_DEB_VERSION" ]] || die "downloaded version $got, wanted $PEBBLE_DEB_VERSION"

# --- 5. unpack and verify ----------------------------------------------------------------
rm -f "$stamp"
rm -rf "$root/usr"
dpkg-deb -x "$deb" "$root"
check_bins "$bindir" || die "unpacked $deb but $bindir/pebble{,-challtestsrv} do not run"
printf '%s\n' "$PEBBLE_DEB_VERSION" >"$stamp"
log "pebble $PEBBLE_DEB_VERSION ready in $bindir"
printf '%s\n' "$bindir"
