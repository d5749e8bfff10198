# The NixOS options nix/module.nix (and nix/tests/vm.nix's nodes) set or read, as stubs for the
# real module system (nixpkgs `lib`) without NixOS; `pkgs` is a stub whose "packages" are plain
# store-path strings. Nothing is built. Used by module-eval.nix and vm-eval.nix.
{ lib }:
let
  inherit (lib) mkOption types;

  fakePkg = name: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
    meta = { };
  };

  anyAttrs = mkOption {
    type = types.attrsOf types.anything;
    default = { };
  };
  strList = mkOption {
    type = types.listOf types.str;
    default = [ ];
  };
  anyList = mkOption {
    type = types.listOf types.anything;
    default = [ ];
  };
  nullStr = mkOption {
    type = types.nullOr types.str;
    default = null;
  };
  bool = default: mkOption {
    type = types.bool;
    inherit default;
  };

  # systemd.services.<name> / systemd.timers.<name>: the attributes the module uses, the rest free.
  unitType = types.submodule {
    freeformType = types.attrsOf types.anything;
    options = {
      serviceConfig = anyAttrs;
      timerConfig = anyAttrs;
      unitConfig = anyAttrs;
      environment = mkOption {
        type = types.attrsOf types.str;
        default = { };
      };
      wants = strList;
      after = strList;
      before = strList;
      requires = strList;
      wantedBy = strList;
      restartTriggers = anyList;
      path = anyList;
      # systemd.sockets.<name>
      listenStreams = strList;
      socketConfig = anyAttrs;
    };
  };

  vhosts =
    vhostOptions:
    mkOption {
      type = types.attrsOf (
        types.submodule (
          { name, ... }:
          {
            options = vhostOptions name;
          }
        )
      );
      default = { };
    };

  webServer = group: vhostOptions: {
    enable = bool false;
    group = mkOption {
      type = types.str;
      default = group;
    };
    virtualHosts = vhosts vhostOptions;
  };

  options = {
    assertions = anyList;
    warnings = strList;
    users.users = anyAttrs;
    users.groups = anyAttrs;
    environment.etc = anyAttrs;
    environment.systemPackages = anyList;
    systemd.package = mkOption {
      type = types.anything;
      default = fakePkg "systemd";
    };
    systemd.packages = anyList;
    systemd.services = mkOption {
      type = types.attrsOf unitType;
      default = { };
    };
    systemd.timers = mkOption {
      type = types.attrsOf unitType;
      default = { };
    };
    systemd.sockets = mkOption {
      type = types.attrsOf unitType;
      default = { };
    };
    systemd.tmpfiles.rules = strList;
    security.polkit.enable = bool false;
    security.polkit.extraConfig = mkOption {
      type = types.lines;
      default = "";
    };
    security.pki.certificateFiles = anyList;
    services.nginx = webServer "nginx" (_: {
      serverName = nullStr;
      serverAliases = strList;
      sslCertificate = nullStr;
      sslCertificateKey = nullStr;
      sslTrustedCertificate = nullStr;
      addSSL = bool false;
      forceSSL = bool false;
      locations = mkOption {
        type = types.attrsOf (
          types.submodule {
            freeformType = types.attrsOf types.anything;
            options.root = nullStr;
            options.extraConfig = mkOption {
              type = types.lines;
              default = "";
            };
          }
        );
        default = { };
      };
    });
    services.httpd = webServer "wwwrun" (name: {
      hostName = mkOption {
        type = types.str;
        default = name;
      };
      serverAliases = strList;
      sslServerCert = nullStr;
      sslServerKey = nullStr;
      sslServerChain = nullStr;
      servedDirs = mkOption {
        type = types.listOf types.attrs;
        default = [ ];
      };
    });
    services.caddy = webServer "caddy" (_: {
      serverAliases = strList;
      extraConfig = mkOption {
        type = types.lines;
        default = "";
      };
    });
  };
in
{
  inherit fakePkg;

  pkgs = {
    # A "derivation" that keeps the value, so that tests can read the JSON a unit's
    # restartTriggers point at (a store path cannot be read back without a store).
    formats.json = _: {
      generate = name: value: {
        type = "derivation";
        inherit name value;
        outPath = builtins.toFile name (builtins.toJSON value);
      };
    };
    runCommand = name: _env: _script: fakePkg name;
    writeShellScript = name: text: builtins.toFile name text;
    writeText = name: text: builtins.toFile name text;
    writeShellScriptBin = name: _: fakePkg name;
    coreutils = fakePkg "coreutils";
    util-linux = fakePkg "util-linux";
    getent = fakePkg "getent";
    openssl = fakePkg "openssl";
    curl = fakePkg "curl";
    dig = fakePkg "dig";
    pebble = fakePkg "pebble";
    minica = fakePkg "minica";
    iproute2 = fakePkg "iproute2";
    bash = fakePkg "bash";
    callPackage = _: _: fakePkg "acme-renew";
    inherit lib;
  };

  # Strict: an option the module sets that is not declared here is an error (module-eval.nix).
  module = {
    inherit options;
  };
  # Lenient: any other NixOS option is accepted as is (vm-eval.nix: the test nodes set many).
  freeformModule = {
    freeformType = types.attrsOf types.anything;
    inherit options;
  };
}
