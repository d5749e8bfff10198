# acme-renew, built from this repository with buildNpmPackage.
#
#   nix-build nix -A acme-renew            (nix/default.nix)
#   pkgs.callPackage ./nix/package.nix { } (from your own expression, e.g. an overlay)
#
# npm dependencies — two ways, both reading package-lock.json:
#
#  * npmDepsHash = null (the default): `importNpmLock` (nixpkgs ≥ 24.05) fetches every tarball
#    with the `integrity` hash the lockfile already pins. Nothing to update by hand: changing
#    package-lock.json is enough.
#
#  * npmDepsHash = "sha256-…": the classic `fetchNpmDeps` fixed-output derivation. It has to be
#    updated whenever package-lock.json changes:
#      1. set  npmDepsHash = lib.fakeHash;  (nix/default.nix passes it through)
#      2. nix-build nix -A acme-renew      → "hash mismatch … got: sha256-…"
#      3. put that hash here (or where you call this file) and build again.
#    Or without a failing build:
#      prefetch-npm-deps $(nix-build nix -A acme-renew.patchedPackageLock)
#    (the patched lockfile, see below — prefetch-npm-deps on the plain package-lock.json would
#    fetch nothing). See nix/README.md.
#
# The lockfile is written without "resolved" URLs (npm's omit-lockfile-registry-resolved); both
# fetchers skip entries without one, so `patchedPackageLock` adds the npm registry URL of every
# package (name and version are in the lockfile, the integrity hash pins the content either way).
#
# The build embeds its build time as a clock floor (src/util/build-info.ts): a clock earlier than
# it (a host booted with its RTC at 1970) is not trusted and nothing is renewed. scripts/build.mjs
# takes it from SOURCE_DATE_EPOCH, which Nix sets for reproducibility: 1980-01-01 for a local
# source (store files have mtime 1) or the newest file of a fetched tarball. Pass
# `sourceDateEpoch` (e.g. a flake's `self.lastModified`) for a tighter floor; it must never be in
# the future of the machines running the package.
{
  lib,
  stdenv,
  buildNpmPackage,
  fetchNpmDeps,
  importNpmLock,
  writeText,
  runCommand,
  autoPatchelfHook,
  installShellFiles,
  python3,
  # Node.js (package.json: engines >= 20.19): nodejs_20 while nixpkgs has it and does not mark it
  # insecure (Node 20 is end-of-life from May 2026), else nixpkgs' default `nodejs` (an LTS).
  # Pick one with `.override { nodejs_20 = pkgs.nodejs_22; }`.
  nodejs,
  nodejs_20 ? null,
  npmDepsHash ? null,
  sourceDateEpoch ? null,
  doCheck ? true,
}:

let
  # tryEval: a nixpkgs that removed Node 20 may keep `nodejs_20` as an alias that throws.
  usable20 = builtins.tryEval (nodejs_20 != null && (nodejs_20.meta.knownVulnerabilities or [ ]) == [ ]);
  node = if usable20.success && usable20.value then nodejs_20 else nodejs;

  root = ../.;
  packageJSON = lib.importJSON (root + "/package.json");
  lock = lib.importJSON (root + "/package-lock.json");

  registry = "https://registry.npmjs.org";

  # "node_modules/@scope/name" or "node_modules/a/node_modules/b" -> the package name, unless the
  # entry says otherwise (npm aliases carry their real "name").
  packageName = path: p: p.name or (lib.last (lib.splitString "node_modules/" path));

  patchedLock = lock // {
    packages = lib.mapAttrs (
      path: p:
      if path == "" || p ? resolved || (p.link or false) || (p.inBundle or false) || !(p ? version) then
        p
      else
        let
          name = packageName path p;
        in
        p // { resolved = "${registry}/${name}/-/${lib.last (lib.splitString "/" name)}-${p.version}.tgz"; }
    ) lock.packages;
  };

  patchedPackageLock = writeText "package-lock.json" (builtins.toJSON patchedLock);

  src = lib.fileset.toSource {
    inherit root fileset;
  };
  fileset = lib.fileset.unions [
    (root + "/package.json")
    (root + "/package-lock.json")
    (root + "/tsconfig.json")
    (root + "/src")
    (root + "/scripts")
    (root + "/schema")
    (root + "/systemd")
    (root + "/test")
    (root + "/man") # acme-renew.1 (package.json "man"), generated from the command definitions
    # test/unit/nix-module.test.ts validates these with the built CLI (checkPhase).
    (root + "/nix/fixtures")
  ];

  npmDeps =
    if npmDepsHash == null then
      importNpmLock {
        package = packageJSON;
        packageLock = patchedLock;
      }
    else
      fetchNpmDeps {
        name = "acme-renew-${packageJSON.version}-npm-deps";
        src = runCommand "acme-renew-npm-lock" { } ''
          mkdir -p $out
          cp ${root + "/package.json"} $out/package.json
          cp ${patchedPackageLock} $out/package-lock.json
        '';
        hash = npmDepsHash;
      };
in
(buildNpmPackage.override { nodejs = node; }) (
  {
    pname = "acme-renew";
    inherit (packageJSON) version;
    inherit src npmDeps doCheck;

    # fetchNpmDeps checks that the lockfile it was made from is the one being built.
    postPatch = ''
      install -m 0644 ${patchedPackageLock} package-lock.json
    '';

    # `npm run build` (scripts/build.mjs, esbuild) -> dist/acme-renew.js
    npmBuildScript = "build";

    # node-unix-socket (journald's native protocol) is an optional add-on that is not in the lock
    # file (see src/systemd/journal.ts); without it the journal gets the `<N>key=value` stream lines.
    # Where it is added (a lock made against a registry carrying all its binaries), it ships a
    # prebuilt N-API binary linked against libgcc_s: autoPatchelfHook points it at stdenv.cc.cc.lib
    # in $out; preCheck does the same for the copy the tests load from the build tree. Both steps
    # do nothing when the module is absent.
    nativeBuildInputs = [
      autoPatchelfHook
      installShellFiles
    ];
    buildInputs = [ stdenv.cc.cc.lib ];

    # The offline part of the test suite (package.json's "test" also needs Pebble and network
    # namespaces): typecheck + compile everything, then the unit tests. python3 is the journald /
    # sd_notify tests' datagram listener; tests that need systemd-notify, nix-instantiate, … skip
    # themselves with a reason.
    nativeCheckInputs = [ python3 ];
    preCheck = ''
      for d in node_modules/node-unix-socket-linux-*-gnu*; do
        [ -d "$d" ] && autoPatchelf "$d"
      done
    '';
    # The glob form, as package.json's "test": Node 22+ reads a --test argument as a glob and finds
    # no test in a bare directory (Node 20 took directories).
    checkPhase = ''
      runHook preCheck
      node_modules/.bin/tsc
      node --test build/test/unit/*.test.js
      runHook postCheck
    '';

    postInstall = ''
      pkgdir=$out/lib/node_modules/acme-renew

      # Prebuilt binaries for the other libc (npm < 10.9 ignores the "libc" field) would leave
      # autoPatchelf with an unsatisfiable libc.musl dependency.
      rm -rf "$pkgdir"/node_modules/node-unix-socket-linux-*-musl*

      # systemd units for systems other than NixOS (the module defines its own, nix/README.md):
      # the renewal and the boot step, ExecStart= pointing at this package, and the timer.
      mkdir -p $out/lib/systemd/system
      for unit in acme-renew@.service acme-renew-ready@.service; do
        substitute systemd/$unit $out/lib/systemd/system/$unit \
          --replace-fail "ExecStart=/usr/bin/acme-renew " "ExecStart=$out/bin/acme-renew " \
          --replace-quiet "file:///usr/share/doc/acme-renew/" "file://$out/share/doc/acme-renew/"
      done
      install -Dm644 systemd/acme-renew@.timer $out/lib/systemd/system/acme-renew@.timer
      install -Dm644 systemd/sysusers.d/acme-renew.conf $out/lib/sysusers.d/acme-renew.conf

      # The polkit rule is a template with a unit list to edit, so it is not installed into
      # share/polkit-1/rules.d (where it would become active with the package); the NixOS module
      # generates the rule for the configured reloadServices instead.
      install -Dm644 systemd/polkit/10-acme-renew.rules $out/share/acme-renew/polkit/10-acme-renew.rules
      install -Dm644 -t $out/share/acme-renew/examples systemd/examples/*.conf
      install -Dm644 systemd/README.md $out/share/doc/acme-renew/systemd/README.md

      # The JSON Schema of a per-certificate config file (`acme-renew schema` prints the same).
      install -Dm644 schema/acme-renew.schema.json $out/share/acme-renew/acme-renew.schema.json

      # acme-renew(1), generated from the command definitions like --help (man/, `npm run man`).
      installManPage man/acme-renew.1
    ''
    # Shell completion: what `acme-renew completion bash|zsh` prints (yargs, from the same
    # definitions); it runs the built program, so only where the build machine can run it.
    + lib.optionalString (stdenv.buildPlatform.canExecute stdenv.hostPlatform) ''
      installShellCompletion --cmd acme-renew \
        --bash <($out/bin/acme-renew completion bash) \
        --zsh <($out/bin/acme-renew completion zsh)
    '';

    passthru = {
      inherit patchedPackageLock fileset;
    };

    meta = {
      description = packageJSON.description;
      license = lib.licenses.mit;
      mainProgram = "acme-renew";
      platforms = lib.platforms.linux;
    };
  }
  // lib.optionalAttrs (sourceDateEpoch != null) {
    # A floor: stdenv raises it to the newest file of the source, never lowers it.
    env.SOURCE_DATE_EPOCH = toString sourceDateEpoch;
  }
  // lib.optionalAttrs (npmDepsHash == null) {
    npmConfigHook = importNpmLock.npmConfigHook;
  }
)
