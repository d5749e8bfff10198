# Evaluates nix/module.nix with the real module system (nixpkgs `lib`) but WITHOUT NixOS: the
# NixOS options the module sets or reads are declared here as stubs, and `pkgs` is a stub whose
# "packages" are plain store-path strings. Nothing is built.
#
# What it checks: the module's options and types evaluate, definitions merge (the vhost options
# added to nginx/httpd/caddy, mkMerge/mkIf/mkDefault), the assertions fire as intended, and the
# systemd units, /etc files and polkit rule come out as designed. What it cannot check: NixOS's
# own rendering of units, the real packages, anything at run time — that is nix/tests/vm.nix.
#
#   nix-instantiate --eval --strict --json nix/tests/module-eval.nix --arg lib 'import <nixpkgs/lib>'
#   nix-instantiate --eval --strict --json nix/tests/module-eval.nix --arg lib 'import /path/to/nixpkgs.lib/lib'
#
# scripts/check-nix.sh runs it when a nixpkgs lib is available (ACME_RENEW_NIXPKGS_LIB, or
# <nixpkgs> on NIX_PATH). Evaluates to the list of failed checks ([] = all pass).
{ lib }:
let
  inherit (lib) mkOption types;

  fakePkg = name: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };

  pkgsStub = {
    formats.json = _: {
      generate = name: value: builtins.toFile name (builtins.toJSON value);
    };
    runCommand = name: _env: _script: "/nix/store/00000000000000000000000000000000-${name}";
    writeShellScript = name: text: builtins.toFile name text;
    coreutils = fakePkg "coreutils";
    util-linux = fakePkg "util-linux";
    openssl = fakePkg "openssl";
    callPackage = _: _: fakePkg "acme-renew";
  };

  anyAttrs = mkOption {
    type = types.attrsOf types.anything;
    default = { };
  };
  strList = mkOption {
    type = types.listOf types.str;
    default = [ ];
  };
  unitType = types.submodule {
    freeformType = types.attrsOf types.anything;
    options = {
      serviceConfig = anyAttrs;
      timerConfig = anyAttrs;
      unitConfig = anyAttrs;
      wants = strList;
      after = strList;
      before = strList;
      wantedBy = strList;
      restartTriggers = mkOption {
        type = types.listOf types.anything;
        default = [ ];
      };
      path = mkOption {
        type = types.listOf types.anything;
        default = [ ];
      };
    };
  };
  vhostBase = extra: {
    type = types.attrsOf (types.submodule { options = extra; });
    default = { };
  };
  nullStr = mkOption {
    type = types.nullOr types.str;
    default = null;
  };

  # The NixOS options the module touches, as stubs.
  nixosStub = {
    options = {
      assertions = mkOption {
        type = types.listOf types.anything;
        default = [ ];
      };
      warnings = strList;
      users.users = anyAttrs;
      users.groups = anyAttrs;
      environment.etc = anyAttrs;
      environment.systemPackages = mkOption {
        type = types.listOf types.anything;
        default = [ ];
      };
      systemd.package = mkOption {
        type = types.anything;
        default = fakePkg "systemd";
      };
      systemd.packages = mkOption {
        type = types.listOf types.anything;
        default = [ ];
      };
      systemd.services = mkOption {
        type = types.attrsOf unitType;
        default = { };
      };
      systemd.timers = mkOption {
        type = types.attrsOf unitType;
        default = { };
      };
      systemd.tmpfiles.rules = strList;
      security.polkit.enable = mkOption {
        type = types.bool;
        default = false;
      };
      security.polkit.extraConfig = mkOption {
        type = types.lines;
        default = "";
      };
      services.nginx = {
        enable = mkOption {
          type = types.bool;
          default = false;
        };
        group = mkOption {
          type = types.str;
          default = "nginx";
        };
        virtualHosts = mkOption (vhostBase {
          sslCertificate = nullStr;
          sslCertificateKey = nullStr;
          sslTrustedCertificate = nullStr;
          addSSL = mkOption {
            type = types.bool;
            default = false;
          };
          locations = mkOption {
            type = types.attrsOf (types.submodule { options.root = nullStr; });
            default = { };
          };
        });
      };
      services.httpd = {
        enable = mkOption {
          type = types.bool;
          default = false;
        };
        group = mkOption {
          type = types.str;
          default = "wwwrun";
        };
        virtualHosts = mkOption (vhostBase {
          sslServerCert = nullStr;
          sslServerKey = nullStr;
          servedDirs = mkOption {
            type = types.listOf types.attrs;
            default = [ ];
          };
        });
      };
      services.caddy = {
        enable = mkOption {
          type = types.bool;
          default = false;
        };
        group = mkOption {
          type = types.str;
          default = "caddy";
        };
        virtualHosts = mkOption (vhostBase {
          extraConfig = mkOption {
            type = types.lines;
            default = "";
          };
        });
      };
    };
  };

  eval =
    configuration:
    (lib.evalModules {
      modules = [
        nixosStub
        ../module.nix
        { _module.args.pkgs = pkgsStub; }
        configuration
      ];
    }).config;

  failedAssertions = c: map (a: a.message) (builtins.filter (a: !a.assertion) c.assertions);

  fixture = import ../fixtures/example-certs.nix;

  # The fixture as a NixOS configuration, plus nginx and caddy wired to two of its certificates.
  main = eval {
    services.acme-renew = {
      inherit (fixture) acceptTerms defaults;
      certs = builtins.mapAttrs (_: c: removeAttrs c [ "extraReloadServices" ]) fixture.certs;
    };
    services.nginx.enable = true;
    services.nginx.virtualHosts."example.com" = {
      addSSL = true;
      useACMERenewHost = "example.com";
    };
    services.caddy.enable = true;
    services.caddy.virtualHosts."shop.example.com".useACMERenewHost = "shop.example.com";
  };

  svc = main.systemd.services;
  unit = n: svc."acme-renew@${n}";
  arLib = import ../lib.nix;
  fixtureFiles = builtins.listToAttrs (
    map (f: {
      name = f;
      value = builtins.fromJSON (builtins.readFile (../fixtures + "/${f}"));
    }) (builtins.filter (f: builtins.match ".*\\.json" f != null) (builtins.attrNames (builtins.readDir ../fixtures)))
  );

  eq = name: actual: expected: if actual == expected then null else "${name}: expected ${builtins.toJSON expected}, got ${builtins.toJSON actual}";
  true' = name: v: if v then null else "${name}: false";
  has = name: needle: list: true' "${name} (${builtins.toJSON needle} in ${builtins.toJSON list})" (builtins.elem needle list);
  mentions = needle: msgs: builtins.any (m: builtins.match ".*${needle}.*" m != null) msgs;

  checks = [
    (eq "fixture configuration: no failed assertions" (failedAssertions main) [ ])
    (eq "fixture configuration: no warnings" main.warnings [ ])

    # /etc/acme-renew: the fixture's files, except where the web-server wiring adds to them.
    (eq "etc files" (builtins.attrNames main.environment.etc) [
      "acme-renew/defaults.json"
      "acme-renew/example.com.json"
      "acme-renew/mail.example.net.json"
      "acme-renew/shop.example.com.json"
      "acme-renew/wildcard.example.org.json"
    ])
    (eq "etc sources are the validated config dir" main.environment.etc."acme-renew/example.com.json".source
      "/nix/store/00000000000000000000000000000000-acme-renew-config/example.com.json"
    )
    (eq "wired nginx adds nginx.service (already inherited: once) and its group" (
      let
        c = main.services.acme-renew.certs."example.com";
      in
      [
        c.group
        c.extraReloadServices
      ]
    ) [ "nginx" [ "nginx.service" ] ])
    # The evaluated option values give the fixture's files (nix/fixtures/*.json) — the caddy
    # wiring supplies shop.example.com's extraReloadServices; each wiring also sets the
    # certificate's group to the web server's (mkDefault), and the nginx wiring adds
    # nginx.service to example.com (written out in full: it is not the certificate's own list).
    (eq "evaluated options -> the fixture files" (arLib.configFiles main.services.acme-renew) (
      fixtureFiles
      // {
        "example.com.json" = fixtureFiles."example.com.json" // {
          group = "nginx";
          reloadServices = [ "nginx.service" ];
        };
        "shop.example.com.json" = fixtureFiles."shop.example.com.json" // {
          group = "caddy";
        };
      }
    ))

    # The template instance drop-in.
    (eq "cert unit is a drop-in for the template" (unit "example.com").overrideStrategy "asDropin")
    (eq "cert unit wanted by multi-user.target" (unit "example.com").wantedBy [ "multi-user.target" ])
    (eq "RemainAfterExit" (unit "example.com").serviceConfig.RemainAfterExit true)
    (eq "exit 1 and 75 are successes" (unit "example.com").serviceConfig.SuccessExitStatus [ "75" "1" ])
    (eq "no Restart= in the unit (acme-renew-rerun@ retries)" (unit "example.com").serviceConfig.Restart "no")
    (eq "state dir traversable" (unit "example.com").serviceConfig.StateDirectoryMode "0751")
    (eq "key group -> SupplementaryGroups" (unit "example.com").serviceConfig.SupplementaryGroups [ "nginx" ])
    (eq "webroot -> ReadWritePaths" (unit "example.com").serviceConfig.ReadWritePaths [
      "/var/lib/acme-renew-challenges/.well-known/acme-challenge"
    ])
    (eq "restart triggers: own file + defaults.json" (builtins.length (unit "example.com").restartTriggers) 2)
    (eq "inheritDefaults = false: only its own file" (builtins.length (unit "mail.example.net").restartTriggers) 1)
    (eq "maxConcurrentRenewals (5): ExecStart goes through the slot wrapper" (builtins.head (unit "example.com").serviceConfig.ExecStart) "")
    (eq "listenTLS :443 -> CAP_NET_BIND_SERVICE" (unit "mail.example.net").serviceConfig.AmbientCapabilities [
      "CAP_NET_BIND_SERVICE"
    ])
    (eq "listenHTTP on 8402: no capability" ((unit "shop.example.com").serviceConfig ? AmbientCapabilities) false)
    (eq "environmentFile" (unit "wildcard.example.org").serviceConfig.EnvironmentFile "/run/secrets/rfc2136.env")
    (eq "credentialFiles -> LoadCredential" (unit "wildcard.example.org").serviceConfig.LoadCredential [
      "TSIG_SECRET_FILE:/run/secrets/tsig-secret"
    ])
    (eq "credentialFiles -> Environment" (unit "wildcard.example.org").serviceConfig.Environment [
      ''"TSIG_SECRET_FILE=%d/TSIG_SECRET_FILE"''
    ])
    (eq "migrateFrom -> ordered after the migration unit" (unit "mail.example.net").after [
      "acme-renew-migrate-mail.example.net.service"
    ])
    (true' "migration unit exists" (svc ? "acme-renew-migrate-mail.example.net"))
    (eq "no migration unit without migrateFrom" (svc ? "acme-renew-migrate-example.com") false)
    (true' "rerun template" (svc ? "acme-renew-rerun@"))

    # Timers.
    (eq "timer triggers the rerun helper" main.systemd.timers."acme-renew@example.com".timerConfig.Unit
      "acme-renew-rerun@example.com.service"
    )
    (eq "renewInterval from the defaults" main.systemd.timers."acme-renew@example.com".timerConfig.OnCalendar [
      ""
      "daily"
    ])
    (eq "no renewInterval when not inherited" (main.systemd.timers."acme-renew@mail.example.net".timerConfig ? OnCalendar) false)
    (eq "timer enabled" main.systemd.timers."acme-renew@example.com".wantedBy [ "timers.target" ])
    (eq "timer re-armed when the config changes" main.systemd.timers."acme-renew@example.com".restartTriggers
      (unit "example.com").restartTriggers
    )
    (eq "timer: 15 min after activation" main.systemd.timers."acme-renew@example.com".timerConfig.OnActiveSec "15min")

    # Web servers.
    (eq "nginx waits for its certificate" svc.nginx.after [ "acme-renew@example.com.service" ])
    (eq "nginx wants it (never requires)" svc.nginx.wants [ "acme-renew@example.com.service" ])
    (eq "caddy waits for its certificate" svc.caddy.after [ "acme-renew@shop.example.com.service" ])
    (eq "no httpd unit settings" (svc ? httpd) false)
    (eq "nginx vhost certificate" main.services.nginx.virtualHosts."example.com".sslCertificate
      "/var/lib/acme-renew/example.com/fullchain.pem"
    )
    (eq "nginx vhost key" main.services.nginx.virtualHosts."example.com".sslCertificateKey
      "/var/lib/acme-renew/example.com/key.pem"
    )
    (eq "nginx serves the webroot challenge" main.services.nginx.virtualHosts."example.com".locations."^~ /.well-known/acme-challenge/".root
      "/var/lib/acme-renew-challenges"
    )
    (true' "caddy vhost tls line" (
      builtins.match ".*tls /var/lib/acme-renew/shop.example.com/fullchain.pem /var/lib/acme-renew/shop.example.com/key.pem.*" main.services.caddy.virtualHosts."shop.example.com".extraConfig != null
    ))

    # polkit: exactly the units of the effective reloadServices.
    (eq "polkit enabled" main.security.polkit.enable true)
    (true' "polkit rule lists exactly the effective reloadServices" (
      lib.hasInfix (builtins.toJSON [
        "nginx.service"
        "caddy.service"
        "postfix.service"
        "dovecot2.service"
      ]) main.security.polkit.extraConfig
    ))

    # tmpfiles for the webroot (once, though two certificates inherit it).
    (eq "tmpfiles" main.systemd.tmpfiles.rules [
      "d /var/lib/acme-renew-challenges - - - -"
      "d /var/lib/acme-renew-challenges/.well-known - - - -"
      "d /var/lib/acme-renew-challenges/.well-known/acme-challenge 0755 acme-renew acme-renew -"
    ])

    (eq "user" main.users.users.acme-renew.isSystemUser true)

    # Assertions.
    (true' "acceptTerms asserted" (
      mentions "acceptTerms" (failedAssertions (eval {
        services.acme-renew.certs."a.example".webroot = "/w";
      }))
    ))
    (true' "two challenges asserted" (
      mentions "only one challenge" (failedAssertions (eval {
        services.acme-renew = {
          acceptTerms = true;
          certs."a.example" = {
            webroot = "/w";
            dnsHook = "/h";
          };
        };
      }))
    ))
    (true' "wildcard without dns-01 asserted" (
      mentions "dns-01" (failedAssertions (eval {
        services.acme-renew = {
          acceptTerms = true;
          certs."a.example" = {
            domain = "*.a.example";
            listenHTTP = ":80";
          };
        };
      }))
    ))
    (true' "security.acme's dnsProvider gets a hint" (
      mentions "dnsProvider.*dnsHook" (failedAssertions (eval {
        services.acme-renew = {
          acceptTerms = true;
          defaults.dnsProvider = "route53";
          certs."a.example".webroot = "/w";
        };
      }))
    ))
    (true' "useACMERenewHost naming an undefined certificate" (
      mentions "useACMERenewHost" (failedAssertions (eval {
        services.acme-renew.acceptTerms = true;
        services.nginx.enable = true;
        services.nginx.virtualHosts.x.useACMERenewHost = "nowhere.example";
      }))
    ))
    (true' "bad credential variable name" (
      mentions "environment variable name" (failedAssertions (eval {
        services.acme-renew = {
          acceptTerms = true;
          certs."a.example" = {
            dnsHook = "/h";
            credentialFiles."NOT-A-NAME" = "/run/secrets/x";
          };
        };
      }))
    ))
    (eq "migrateFromSecurityAcme sets every migrateFrom" (eval {
      services.acme-renew = {
        acceptTerms = true;
        migrateFromSecurityAcme = true;
        certs."a.example".webroot = "/w";
      };
    }).services.acme-renew.certs."a.example".migrateFrom "/var/lib/acme/a.example")
    (eq "maxConcurrentRenewals = 0 keeps the template's ExecStart" (
      (eval {
        services.acme-renew = {
          acceptTerms = true;
          maxConcurrentRenewals = 0;
          certs."a.example".webroot = "/w";
        };
      }).systemd.services."acme-renew@a.example".serviceConfig ? ExecStart
    ) false)
    (eq "no certificates: nothing at all" (
      let
        c = eval { };
      in
      [
        c.systemd.services
        c.environment.etc
        c.users.users
      ]
    ) [ { } { } { } ])
  ];
in
builtins.filter (c: c != null) checks
