#!/usr/bin/env bash
# Offline checks of the Nix files under nix/, with nothing but `nix-instantiate` (no daemon, no
# network; nothing is built and nothing is written to a store):
#
#   1. syntax: `nix-instantiate --parse` on every .nix file under nix/
#   2. nix/tests/fixtures.nix: nix/lib.nix (the option -> JSON mapping, builtins only) applied to
#      nix/fixtures/example-certs.nix gives exactly the JSON files in nix/fixtures/
#   3. nix/tests/lib-unit.nix: unit tests of nix/lib.nix (merge rules, assertions, helpers)
#   4. with a nixpkgs `lib` (the module system; no nixpkgs packages needed):
#      nix/tests/module-eval.nix   nix/module.nix with stubbed NixOS options: every option, the
#                                  assertions, the units (graph, exit codes, sandbox = systemd/)
#      nix/tests/vm-eval.nix       nix/tests/vm.nix's nodes and test script, as far as they
#                                  evaluate without nixpkgs
#      nix/tests/package-eval.nix  nix/package.nix with stubbed builders
#      The lib: $ACME_RENEW_NIXPKGS_LIB (CI sets it; then it must be there), else
#      ../shared/nixpkgs.lib/lib next to the checkout (or next to the main checkout of a git
#      worktree), else <nixpkgs/lib> from NIX_PATH; without
#      one these are skipped (with a note). A nixpkgs checkout's lib/ or
#      github.com/nix-community/nixpkgs.lib (lib/ alone) will do.
#
# The NixOS VM test itself (nix/tests/vm.nix) needs KVM and nixpkgs: `nix-build nix/tests -A vm`.
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
    sed -e 's/^\["//' -e 's/"\]$//' -e 's/","/\n/g' -e 's/\\"/"/g' <<<"$out" | sed 's/^/    /'
    failed=1
  fi
}

echo "== nix/lib.nix (builtins only)"
check_list "fixtures: lib.nix on nix/fixtures/example-certs.nix = nix/fixtures/*.json" nix/tests/fixtures.nix
check_list "unit tests: nix/tests/lib-unit.nix" nix/tests/lib-unit.nix

echo "== nix/module.nix, nix/tests/vm.nix, nix/package.nix under the module system (nixpkgs lib, stubbed NixOS)"
lib_dir=
if [[ -n ${ACME_RENEW_NIXPKGS_LIB:-} ]]; then
  lib_dir=$ACME_RENEW_NIXPKGS_LIB
  if [[ ! -f $lib_dir/default.nix && -f $lib_dir/lib/default.nix ]]; then
    lib_dir=$lib_dir/lib # the root of a nixpkgs (or nixpkgs.lib) checkout
  fi
  if [[ ! -f $lib_dir/default.nix ]]; then
    echo "FAIL ACME_RENEW_NIXPKGS_LIB=$ACME_RENEW_NIXPKGS_LIB: no nixpkgs lib there (default.nix)"
    failed=1
    lib_dir=
  fi
elif [[ -f ../shared/nixpkgs.lib/lib/default.nix ]]; then
  lib_dir=$(cd ../shared/nixpkgs.lib/lib && pwd)
elif common=$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null) && [[ -f $common/../../shared/nixpkgs.lib/lib/default.nix ]]; then
  # a git worktree elsewhere: next to its main checkout
  lib_dir=$(cd "$common/../../shared/nixpkgs.lib/lib" && pwd)
elif nixpkgs=$("${nix[@]}" --find-file nixpkgs 2>/dev/null) && [[ -f $nixpkgs/lib/default.nix ]]; then
  lib_dir=$nixpkgs/lib
fi
if [[ -n $lib_dir ]]; then
  source_note=
  [[ -f $lib_dir/../SOURCE ]] && source_note=" — $(grep -o 'commit [0-9a-f]*' "$lib_dir/../SOURCE" | head -1)"
  echo "lib: $lib_dir$source_note"
  for t in module-eval vm-eval package-eval; do
    check_list "nix/tests/$t.nix" "nix/tests/$t.nix" --arg lib "import $lib_dir"
  done
elif ((!failed)); then
  echo "skip nix/tests/{module,vm,package}-eval.nix: no nixpkgs lib (set ACME_RENEW_NIXPKGS_LIB=/path/to/nixpkgs/lib,"
  echo "     put nixpkgs on NIX_PATH, or github.com/nix-community/nixpkgs.lib at ../shared/nixpkgs.lib)"
fi

if ((failed)); then
  echo "check-nix: FAILED"
  exit 1
fi
echo "check-nix: all checks passed"
