# Entry point for people without flakes:
#
#   nix-build nix -A acme-renew                 # the package (nix/package.nix)
#   nix-build nix -A tests                      # the NixOS VM tests (nix/tests/), needs KVM
#   nix-build nix -A acme-renew.patchedPackageLock
#
#   imports = [ /path/to/acme-renew/nix/module.nix ];   # the NixOS module
{
  pkgs ? import <nixpkgs> { },
  # See nix/package.nix: null = importNpmLock (no hash to maintain), or a fetchNpmDeps hash.
  npmDepsHash ? null,
  sourceDateEpoch ? null,
}:
let
  acme-renew = pkgs.callPackage ./package.nix { inherit npmDepsHash sourceDateEpoch; };
in
{
  inherit acme-renew;
  module = ./module.nix;
  tests = import ./tests { inherit pkgs acme-renew; };
}
