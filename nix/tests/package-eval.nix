# nix/package.nix as far as it can be evaluated without nixpkgs (nothing can be built here): the
# real nixpkgs `lib` (fileset, importJSON), stubs for the builders, which hand back the attributes
# they are given. Checks the source set, the lock file patched with registry URLs, the Node.js
# choice, and that every file of the repository postInstall installs exists.
#
#   nix-instantiate --eval --strict --json nix/tests/package-eval.nix --arg lib 'import /path/to/nixpkgs/lib'
#
# Evaluates to the list of failed checks ([] = all pass).
{ lib }:
let
  # lib.fileset needs builtins.readFileType (Nix >= 2.14); Debian bookworm's Nix is 2.8: the same
  # answer from readDir of the parent directory.
  lib' =
    if builtins ? readFileType then
      lib
    else
      lib.extend (
        _: prev: {
          filesystem = prev.filesystem // {
            pathType = path: if toString path == "/" then "directory" else (builtins.readDir (dirOf path)).${baseNameOf path} or (throw "${toString path} does not exist");
          };
        }
      );
  node = name: vulnerable: {
    inherit name;
    meta.knownVulnerabilities = lib.optional vulnerable "end of life";
  };
  args = {
    lib = lib';
    stdenv = {
      cc.cc.lib = "/nix/store/00000000000000000000000000000000-gcc-lib";
      buildPlatform.canExecute = _: canExecute;
      hostPlatform = "x86_64-linux";
    };
    installShellFiles = "installShellFiles";
    buildNpmPackage.override = o: attrs: attrs // { nodejsUsed = o.nodejs; };
    fetchNpmDeps = attrs: attrs;
    importNpmLock = {
      __functor = _: attrs: attrs;
      npmConfigHook = "importNpmLock.npmConfigHook";
    };
    writeText = name: text: { inherit name text; };
    runCommand = name: _: _: name;
    autoPatchelfHook = "autoPatchelfHook";
    python3 = "python3";
    nodejs = node "nodejs-22" false;
    nodejs_20 = node "nodejs-20" true;
  };
  canExecute = true;
  pkg = import ../package.nix args;
  # A cross build: the build machine cannot run the package.
  cross = import ../package.nix (
    args
    // {
      stdenv = args.stdenv // {
        buildPlatform.canExecute = _: false;
      };
    }
  );
  pkgWith = extra: import ../package.nix (args // extra);

  packageJSON = lib.importJSON ../../package.json;
  lock = pkg.npmDeps.packageLock;
  entries = lib.filterAttrs (path: p: path != "" && p ? version && !(p.link or false)) lock.packages;
  nameOf = path: lib.last (lib.splitString "node_modules/" path);
  expectedURL = path: p: "https://registry.npmjs.org/${nameOf path}/-/${lib.last (lib.splitString "/" (nameOf path))}-${p.version}.tgz";

  # systemd/<file> as postInstall names them (the unit loop spelled out).
  loop = builtins.match ".*for unit in ([^;]*); do.*" pkg.postInstall;
  installed =
    lib.unique (
      builtins.filter builtins.isString (
        builtins.concatMap (m: if builtins.isList m then m else [ ]) (builtins.split "[ \n](systemd/[A-Za-z0-9@._/*-]+)" pkg.postInstall)
      )
    )
    ++ map (u: "systemd/${u}") (lib.splitString " " (builtins.head loop));
  exists = f: if lib.hasInfix "*" f then builtins.readDir (../.. + "/${dirOf f}") != { } else builtins.pathExists (../.. + "/${f}");

  eq = name: actual: expected: if actual == expected then null else "${name}: expected ${builtins.toJSON expected}, got ${builtins.toJSON actual}";

  checks = [
    (eq "name and version from package.json" [ pkg.pname pkg.version ] [ "acme-renew" packageJSON.version ])
    (eq "the source evaluates (every path of the file set exists)" (lib.hasPrefix "/nix/store/" "${pkg.src}") true)
    (eq "Node.js: nodejs_20 while usable, else nodejs" [
      pkg.nodejsUsed.name
      (pkgWith { nodejs_20 = node "nodejs-20" false; }).nodejsUsed.name
      (pkgWith { nodejs_20 = null; }).nodejsUsed.name
    ] [ "nodejs-22" "nodejs-20" "nodejs-22" ])
    (eq "every lock entry gets its registry URL (the lock file has none)" (lib.filterAttrs (path: p: (p.resolved or null) != expectedURL path p) entries) { })
    (eq "a scoped package's URL" lock.packages."node_modules/@peculiar/asn1-schema".resolved
      "https://registry.npmjs.org/@peculiar/asn1-schema/-/asn1-schema-${lock.packages."node_modules/@peculiar/asn1-schema".version}.tgz"
    )
    (eq "npmDepsHash = null: importNpmLock and its hook" [ (pkg ? npmConfigHook) ((pkgWith { npmDepsHash = "sha256-x"; }) ? npmConfigHook) ] [ true false ])
    (eq "postInstall installs both unit templates and the timer" (map (u: builtins.elem u installed) [
      "systemd/acme-renew@.service"
      "systemd/acme-renew-ready@.service"
      "systemd/acme-renew@.timer"
    ]) [ true true true ])
    (eq "every file postInstall installs exists in the repository" (builtins.filter (f: !exists f) installed) [ ])
    # issue 14: Node 22+ takes globs, not directories, for --test.
    (eq "checkPhase runs the unit tests by the glob form (a directory finds nothing on Node 22+)" (map (l: lib.hasInfix l pkg.checkPhase) [
      "node --test build/test/unit/*.test.js"
      "node --test build/test/unit/\n"
    ]) [ true false ])
    # issue 15: the man page and shell completion installed by the Nix package.
    (eq "the man page: package.json's \"man\" file, in the source, installed with installManPage" [
      packageJSON.man
      (builtins.pathExists ../../man/acme-renew.1)
      (builtins.elem (../../man/acme-renew.1) (lib'.fileset.toList pkg.passthru.fileset))
      (lib.hasInfix "installManPage man/acme-renew.1" pkg.postInstall)
      (builtins.elem "installShellFiles" pkg.nativeBuildInputs)
    ] [ [ "man/acme-renew.1" ] true true true true ])
    (eq "shell completion for bash and zsh from `acme-renew completion` (not when cross-compiling)" [
      (lib.hasInfix "--bash <($out/bin/acme-renew completion bash)" pkg.postInstall)
      (lib.hasInfix "--zsh <($out/bin/acme-renew completion zsh)" pkg.postInstall)
      (lib.hasInfix "installShellCompletion --cmd acme-renew" pkg.postInstall)
      (lib.hasInfix "installShellCompletion" cross.postInstall)
      (lib.hasInfix "installManPage" cross.postInstall)
    ] [ true true true false true ])
    (eq "sourceDateEpoch is a floor passed to the build" (pkgWith { sourceDateEpoch = 1700000000; }).env.SOURCE_DATE_EPOCH "1700000000")
    (eq "meta" [ pkg.meta.mainProgram pkg.meta.license.spdxId ] [ "acme-renew" "MIT" ])
  ];
in
builtins.filter (c: c != null) checks
