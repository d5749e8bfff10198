#!/usr/bin/env bash
# Offline checks of the Nix files under nix/, with nothing but `nix-instantiate` (no daemon, no
# network, no nixpkgs needed; nothing is built and nothing is written to a store):
#
#   1. syntax: `nix-instantiate --parse` on every .nix file under nix/
#   2. nix/tests/fixtures.nix: nix/lib.nix (the option -> JSON mapping, builtins only) applied to
#      nix/fixtures/example-certs.nix gives exactly the JSON files in nix/fixtures/
#   3. nix/tests/lib-unit.nix: unit tests of nix/lib.nix (merge rules, assertions, helpers)
#   4. nix/tests/module-eval.nix: nix/module.nix under the real module system with stubbed NixOS
#      options — only when a nixpkgs `lib` is at hand: ACME_RENEW_NIXPKGS_LIB=/path/to/nixpkgs/lib
#      (a nixpkgs checkout's lib/, or github.com/nix-community/nixpkgs.lib's), else <nixpkgs/lib>
#      from NIX_PATH; skipped (with a note) otherwise.
#
# The NixOS VM tests (nix/tests/vm.nix) need KVM and nixpkgs: `nix-build nix/tests -A vm`.
#
# Usage: bash scripts/check-nix.sh
#   exit 0: all checks passed · 1: a check failed · 2: nix-instantiate is not installed
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here" || exit 1

if ! command -v nix-instantiate >/dev/null 2>&1; then
  cat >&2 <<'EOF'
check-nix: nix-instantiate not found. Install Nix, e.g.
  Debian/Ubuntu:  apt-get install nix-bin      (no daemon needed for these checks)
  elsewhere:      https://nixos.org/download
EOF
  exit 2
fi

# A store that is never written to: works without the Nix daemon and as any user.
nix=(nix-instantiate --store dummy://)
failed=0

echo "== syntax: nix-instantiate --parse ($(nix-instantiate --version))"
files=()
while IFS= read -r -d '' f; do files+=("$f"); done < <(find nix -name '*.nix' -type f -print0 | sort -z)
if ((${#files[@]} == 0)); then
  echo "FAIL no .nix files under nix/"
  failed=1
fi
for f in "${files[@]}"; do
  if out=$("${nix[@]}" --parse "$f" 2>&1 >/dev/null); then
    echo "ok   $f"
  else
    echo "FAIL $f"
    sed 's/^/    /' <<<"$out"
    failed=1
  fi
done

# check_list LABEL FILE [ARGS…] — FILE evaluates to the list of failures; [] passes.
check_list() {
  local label=$1 file=$2 out
  shift 2
  if ! out=$("${nix[@]}" --eval --strict --json "$file" "$@" 2>&1); then
    echo "FAIL $label: evaluation failed:"
    sed 's/^/    /' <<<"$out"
    failed=1
  elif [[ $out == "[]" ]]; then
    echo "ok   $label"
  else
    echo "FAIL $label:"
    # one failure per line: the list is JSON ["…","…"]
    sed -e 's/^\["//' -e 's/"\]$//' -e 's/","/\n/g' <<<"$out" | sed 's/^/    /'
    failed=1
  fi
}

echo "== nix/lib.nix (builtins only)"
check_list "fixtures: lib.nix on nix/fixtures/example-certs.nix = nix/fixtures/*.json" nix/tests/fixtures.nix
check_list "unit tests: nix/tests/lib-unit.nix" nix/tests/lib-unit.nix

echo "== nix/module.nix under the module system (stubbed NixOS)"
lib_dir=${ACME_RENEW_NIXPKGS_LIB:-}
if [[ -z $lib_dir ]]; then
  if nixpkgs=$("${nix[@]}" --find-file nixpkgs 2>/dev/null) && [[ -f $nixpkgs/lib/default.nix ]]; then
    lib_dir=$nixpkgs/lib
  fi
elif [[ ! -f $lib_dir/default.nix && -f $lib_dir/lib/default.nix ]]; then
  lib_dir=$lib_dir/lib # the root of a nixpkgs (or nixpkgs.lib) checkout
fi
if [[ -n $lib_dir && -f $lib_dir/default.nix ]]; then
  check_list "module: nix/tests/module-eval.nix (lib: $lib_dir)" nix/tests/module-eval.nix --arg lib "import $lib_dir"
else
  echo "skip module: nix/tests/module-eval.nix needs a nixpkgs lib: set ACME_RENEW_NIXPKGS_LIB=/path/to/nixpkgs/lib"
  echo "     (or put nixpkgs on NIX_PATH); github.com/nix-community/nixpkgs.lib is lib/ alone"
fi

if ((failed)); then
  echo "check-nix: FAILED"
  exit 1
fi
echo "check-nix: all checks passed"
