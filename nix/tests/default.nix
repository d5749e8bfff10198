# Tests of the Nix integration.
#
#   nix-build nix/tests                 # everything
#   nix-build nix/tests -A vm           # NixOS VM test (KVM): Pebble, issuance, renewal, CA down at boot, …
#   nix-build nix/tests -A vm-cluster   # NixOS VM test (KVM): 2 hosts + etcd, one order, http-01 across hosts
#   nix-build nix/tests -A lib-unit     # pure: nix/lib.nix (no VM)
#   nix-build nix/tests -A module-eval  # pure: nix/module.nix under the module system (no VM)
#   nix-build nix/tests -A vm-eval      # pure: vm.nix's nodes and script evaluate (no VM)
#   nix-build nix/tests -A package-eval # pure: package.nix with stubbed builders
#
# The pure ones need no KVM and no build of acme-renew; scripts/check-nix.sh runs them with a bare
# nix-instantiate.
{
  pkgs ? import <nixpkgs> { },
  acme-renew ? pkgs.callPackage ../package.nix { },
}:
let
  # A derivation that exists only if `failures` (a list of strings) is empty.
  pureCheck =
    name: failures:
    if failures == [ ] then
      pkgs.runCommand name { } "touch $out"
    else
      throw "${name} failed:\n  ${builtins.concatStringsSep "\n  " failures}";
in
{
  vm = pkgs.testers.runNixOSTest (import ./vm.nix { inherit pkgs acme-renew; });
  vm-cluster = pkgs.testers.runNixOSTest (import ./vm-cluster.nix { inherit pkgs acme-renew; });
  lib-unit = pureCheck "acme-renew-lib-unit" (import ./lib-unit.nix);
  module-eval = pureCheck "acme-renew-module-eval" (import ./module-eval.nix { inherit (pkgs) lib; });
  vm-eval = pureCheck "acme-renew-vm-eval" (import ./vm-eval.nix { inherit (pkgs) lib; });
  package-eval = pureCheck "acme-renew-package-eval" (import ./package-eval.nix { inherit (pkgs) lib; });
}
