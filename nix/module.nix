# NixOS module: services.acme-renew — a drop-in for security.acme, running acme-renew.
#
#   imports = [ ./nix/module.nix ];
#   services.acme-renew = {
#     acceptTerms = true;
#     defaults.email = "ops@example.com";
#     certs."example.com" = { extraDomainNames = [ "www.example.com" ]; webroot = "/var/lib/acme-renew-challenges"; };
#   };
#   services.nginx.virtualHosts."example.com" = { forceSSL = true; useACMERenewHost = "example.com"; };
#
# Option names, types and defaults follow security.acme wherever the concept is the same; see
# nix/README.md for the option-by-option migration table and for the design decisions (units,
# activation, placeholder, migration), summarised here:
#
# Units per certificate <name>
#   acme-renew@<name>.service        the package's template unit, instantiated with a drop-in
#                                    (overrideStrategy = "asDropin"), so its hardening stays the
#                                    single source of truth. The drop-in adds: wantedBy
#                                    multi-user.target, RemainAfterExit (the state shows the last
#                                    run: `active (exited)`, ExecMainStatus 0/75/1), restart triggers
#                                    on the generated JSON (switch re-runs it when the config
#                                    changes: new names are issued at once), exit 1 as a success
#                                    (see "Activation"), the per-certificate sandbox holes
#                                    (webroot, low ports, key group, credentials).
#   acme-renew@<name>.timer          the package's template timer (twice a day, randomized,
#                                    persistent) + drop-in: it triggers acme-renew-rerun@<name>
#                                    (systemd does not re-run an active RemainAfterExit unit on
#                                    `start`), and once 15 min after boot/activation.
#   acme-renew-rerun@<name>.service  restarts acme-renew@<name>.service and exits with its status
#                                    (0/75 -> 0); exit 1 (no usable certificate) fails it and
#                                    systemd retries every 15 min (Restart=on-failure) until a real
#                                    certificate is in place.
#   acme-renew-migrate-<name>        (only with migrateFrom) copies security.acme's files once.
#
# Activation (nixos-rebuild switch) and boot never fail because the CA is unreachable: with a
# valid certificate the run exits 75 (SuccessExitStatus); with none it writes a self-signed
# placeholder (placeholder = true) and exits 1, which the drop-in also counts as success, so the
# web servers ordered after it start with the placeholder and switch-to-configuration reports no
# failed unit. The retries come from acme-renew-rerun@<name> (above), which is where "no usable
# certificate" shows up as a failing unit. Configuration errors (78) still fail: they are caught
# at build time anyway (`acme-renew validate` runs on the generated files).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    concatMap
    concatStrings
    filter
    filterAttrs
    literalExpression
    mapAttrs
    mapAttrs'
    mapAttrsToList
    mkDefault
    mkIf
    mkMerge
    mkOption
    nameValuePair
    optional
    optionalAttrs
    optionals
    optionalString
    types
    unique
    ;

  cfg = config.services.acme-renew;
  arLib = import ./lib.nix;
  json = pkgs.formats.json { };

  stateDir = "/var/lib/acme-renew";
  user = "acme-renew";
  systemctl = "${config.systemd.package}/bin/systemctl";

  # ------------------------------------------------------------------------------------------
  # Options

  nullOr = types.nullOr;
  unset = {
    default = null;
  };

  # security.acme options acme-renew has no equivalent for: declared (hidden) so that a migrated
  # configuration gets an assertion with a hint instead of "option does not exist".
  unsupportedOptions = {
    dnsProvider = {
      isSet = v: v != null;
      hint = "acme-renew has no built-in DNS providers: set dnsHook to an executable called as `HOOK present|cleanup <fqdn> <value>` (lego's exec protocol; nix/README.md has an RFC 2136/nsupdate example).";
    };
    ocspMustStaple = {
      isSet = v: v == true;
      hint = "OCSP Must-Staple is not supported.";
    };
    extraLegoFlags = {
      isSet = v: v != null && v != [ ];
      hint = "acme-renew does not run lego; see the migration table in nix/README.md for the equivalent options.";
    };
    extraLegoRunFlags = unsupportedOptions.extraLegoFlags;
    extraLegoRenewFlags = unsupportedOptions.extraLegoFlags;
    s3Bucket = {
      isSet = v: v != null;
      hint = "http-01 into an S3 bucket is not supported: use webroot on the directory the bucket is served from, or dnsHook.";
    };
    csr = {
      isSet = v: v != null;
      hint = "certificates from an external CSR are not supported: acme-renew makes its own key (see keyType, reuseKey).";
    };
    csrKey = unsupportedOptions.csr;
  };

  hiddenOption = mkOption {
    type = types.anything;
    default = null;
    visible = false;
  };

  # Options of both `defaults` and `certs.<name>`. In a certificate, null means "not set here":
  # the value comes from defaults (unless inheritDefaults = false), then from the tool's default.
  inheritableOptions = _isDefaults: {
      email = mkOption (
        unset
        // {
          type = nullOr types.str;
          description = "Contact email for the ACME account (optional for acme-renew, unlike security.acme).";
        }
      );
      server = mkOption (
        unset
        // {
          type = nullOr types.str;
          example = "https://acme-staging-v02.api.letsencrypt.org/directory";
          description = "ACME directory URL (https). null: Let's Encrypt production.";
        }
      );
      caBundle = mkOption (
        unset
        // {
          type = nullOr types.path;
          description = "PEM file of CA certificates trusted, in addition to Node.js's bundled roots, for the ACME server's TLS (a private CA, a test CA). A Nix path is copied into the store.";
        }
      );
      keyType = mkOption (
        unset
        // {
          type = nullOr (
            types.enum [
              "ec256"
              "ec384"
              "rsa2048"
              "rsa3072"
              "rsa4096"
            ]
          );
          description = "Key type of the certificate key. null: ec256 (as security.acme). rsa8192 is not supported.";
        }
      );
      reuseKey = mkOption (
        unset
        // {
          type = nullOr types.bool;
          description = "Keep the certificate key across renewals. null: false.";
        }
      );
      validMinDays = mkOption (
        unset
        // {
          type = nullOr (types.either (types.numbers.between 0 3650) (types.enum [ "auto" ]));
          example = 30;
          description = ''
            Renew when fewer than this many days of validity remain. null: not set here (the
            tool's default is "auto"); "auto": renew when 1/3 of the lifetime remains (1/2 for
            certificates of 10 days or less) — written as an explicit JSON null, so it also
            overrides a number set in defaults. security.acme's default is 30; ours is "auto",
            which suits short-lived certificates. The CA's renewal window (ARI) can bring a
            renewal forward either way.
          '';
        }
      );
      webroot = mkOption (
        unset
        // {
          type = nullOr types.str;
          example = "/var/lib/acme-renew-challenges";
          description = ''
            http-01 through a web server: acme-renew writes
            `<webroot>/.well-known/acme-challenge/<token>`, which must be served at
            `http://<domain>/.well-known/acme-challenge/`. The module creates
            `<webroot>/.well-known/acme-challenge` (owned by acme-renew, mode 0755) and makes it
            writable in the unit's sandbox. A virtual host with useACMERenewHost serves it.
          '';
        }
      );
      listenHTTP = mkOption (
        unset
        // {
          type = nullOr types.str;
          example = ":80";
          description = "http-01 with acme-renew's own short-lived listener on `[host]:port` (nothing else may listen there during a renewal). Ports below 1024 get CAP_NET_BIND_SERVICE.";
        }
      );
      listenTLS = mkOption (
        unset
        // {
          type = nullOr types.str;
          example = ":443";
          description = "tls-alpn-01 with acme-renew's own short-lived TLS listener on `[host]:port`.";
        }
      );
      dnsHook = mkOption (
        unset
        // {
          type = nullOr types.path;
          example = literalExpression ''pkgs.writeShellScript "dns-hook" "…"'';
          description = ''
            dns-01 (needed for wildcards): an executable called as
            `HOOK present|cleanup _acme-challenge.<domain>. <value>` (lego's `exec` protocol),
            as user acme-renew inside the unit's sandbox, with the unit's environment
            (environmentFile, credentialFiles).
          '';
        }
      );
      dnsResolver = mkOption (
        unset
        // {
          type = nullOr types.str;
          example = "1.1.1.1:53";
          description = "dns-01: resolver (IP:port) asked whether the TXT record is visible. null: the system resolver.";
        }
      );
      dnsPropagationTimeout = mkOption (
        unset
        // {
          type = nullOr (types.ints.between 0 3600);
          description = "dns-01: seconds to wait for the TXT record to be visible (0: do not wait). null: 120.";
        }
      );
      dnsPropagationCheck = mkOption (
        unset
        // {
          type = nullOr types.bool;
          description = "security.acme compatibility: false is dnsPropagationTimeout = 0 (an explicit dnsPropagationTimeout wins).";
        }
      );
      reloadServices = mkOption (
        unset
        // {
          type = nullOr (types.listOf types.str);
          example = [ "nginx.service" ];
          description = ''
            Units acme-renew reloads (`systemctl try-reload-or-restart --no-block`) after a
            renewal — as user acme-renew, allowed by a polkit rule the module generates for
            exactly these units (it enables security.polkit). null: not set here; a list set
            here replaces the one in defaults. Web servers wired with useACMERenewHost are
            added automatically.
          '';
        }
      );
      postRun = mkOption (
        unset
        // {
          type = nullOr types.lines;
          example = "cp full.pem /srv/backup/";
          description = ''
            Shell snippet run after a renewal, in the certificate's directory, with
            ACME_RENEW_CERT_NAME, ACME_RENEW_DOMAINS, ACME_RENEW_CERT, ACME_RENEW_KEY, ACME_RENEW_CHAIN,
            ACME_RENEW_FULLCHAIN, ACME_RENEW_FULL, ACME_RENEW_CERT_DIR in the environment.
            Unlike security.acme it does NOT run as root: it runs as acme-renew inside the unit's
            sandbox (writable: the state directory only; add ReadWritePaths= in
            systemd.services."acme-renew@<name>".serviceConfig). "" is the same as null.
          '';
        }
      );
      group = mkOption (
        unset
        // {
          type = nullOr types.str;
          description = ''
            Group owning the key files (mode 0640, else 0600) and the certificate's directory;
            the unit gets it as a supplementary group. null: none (security.acme's default is
            "acme"). Set automatically (mkDefault) to the web server's group by useACMERenewHost.
          '';
        }
      );
      profile = mkOption (
        unset
        // {
          type = nullOr types.str;
          description = "ACME profile to request, if the CA offers several.";
        }
      );
      preferredChain = mkOption (
        unset
        // {
          type = nullOr types.str;
          description = "Issuer common name of the preferred alternate chain.";
        }
      );
      eab = mkOption (
        unset
        // {
          type = nullOr (
            types.submodule {
              options = {
                kid = mkOption {
                  type = types.str;
                  description = "External account binding key id.";
                };
                hmacKeyFile = mkOption {
                  type = types.str;
                  example = "/run/secrets/acme-eab-hmac";
                  description = "Absolute path (a string, never a Nix path: it is a secret) of the file holding the base64url HMAC key; read at run time by user acme-renew.";
                };
              };
            }
          );
          description = "External account binding (for CAs that require it).";
        }
      );
      ari = mkOption (
        unset
        // {
          type = nullOr types.bool;
          description = "Use ACME Renewal Information (RFC 9773). null: true.";
        }
      );
      placeholder = mkOption (
        unset
        // {
          type = nullOr types.bool;
          description = "Write a self-signed placeholder when there is no certificate at all and issuance fails, so that dependent services start (security.acme's acme-<name> self-signed step). null: true.";
        }
      );
      keepVersions = mkOption (
        unset
        // {
          type = nullOr (types.ints.between 1 100);
          description = "Versions of key and certificate kept on disk. null: 3.";
        }
      );
      timeout = mkOption (
        unset
        // {
          type = nullOr (types.ints.between 10 86400);
          description = "Overall deadline of one renewal, seconds. At boot, services ordered after the certificate wait at most this long. null: 600.";
        }
      );
      hookTimeout = mkOption (
        unset
        // {
          type = nullOr (types.ints.between 1 3600);
          description = "Timeout of each hook (reload, postRun, dnsHook), seconds. null: 60.";
        }
      );

      # Unit-level options (not written to the JSON files).
      environmentFile = mkOption (
        unset
        // {
          type = nullOr types.path;
          description = "EnvironmentFile= of the certificate's unit: variables for dnsHook/postRun (e.g. API tokens). Give a path outside the store as a string.";
        }
      );
      credentialFiles = mkOption (
        unset
        // {
          type = nullOr (types.attrsOf types.path);
          example = literalExpression ''{ "TSIG_SECRET_FILE" = "/run/secrets/tsig"; }'';
          description = "Environment variable -> secret file: the file is passed with LoadCredential= and the variable points at the credential (`%d/<VAR>`), readable by the unit only. null: {} (or the defaults').";
        }
      );
      renewInterval = mkOption (
        unset
        // {
          type = nullOr types.str;
          example = "daily";
          description = "OnCalendar= of the certificate's timer. null: twice a day (00:00 and 12:00, plus up to 1 h random delay).";
        }
      );

      enableDebugLogs = hiddenOption;
    }
    // mapAttrs (_: _: hiddenOption) (removeAttrs unsupportedOptions [ "csr" "csrKey" ]);

  certOptions =
    { name, ... }:
    {
      options = {
        domain = mkOption {
          type = types.str;
          default = name;
          defaultText = literalExpression "<name>";
          description = "Primary domain name (a wildcard like \"*.example.org\" goes here, not into the entry's name).";
        };
        extraDomainNames = mkOption {
          type = types.listOf types.str;
          default = [ ];
          example = [ "www.example.com" ];
          description = "Further names in the same certificate (IDNs as A-labels, xn--…).";
        };
        inheritDefaults = mkOption {
          type = types.bool;
          default = true;
          description = "Inherit services.acme-renew.defaults (defaults.json).";
        };
        directory = mkOption {
          type = types.str;
          readOnly = true;
          default = "${stateDir}/${name}";
          description = "Where the certificate is: cert.pem (leaf), chain.pem, fullchain.pem, key.pem, full.pem (key + fullchain).";
        };
        migrateFrom = mkOption {
          type = nullOr types.str;
          default = if cfg.migrateFromSecurityAcme then "/var/lib/acme/${name}" else null;
          defaultText = literalExpression ''if migrateFromSecurityAcme then "/var/lib/acme/<name>" else null'';
          description = "A security.acme (lego) certificate directory to copy into `directory` once, while that is still empty, so that the certificate is not re-issued. See nix/README.md.";
        };
        extraReloadServices = mkOption {
          type = types.listOf types.str;
          default = [ ];
          internal = true;
          description = "Units reloaded after a renewal on top of reloadServices (set by the web-server integrations).";
        };
        csr = hiddenOption;
        csrKey = hiddenOption;
      };
    };

  # ------------------------------------------------------------------------------------------
  # Web servers: services.<server>.virtualHosts.<vhost>.useACMERenewHost

  useACMERenewHostOption = server: {
    options.useACMERenewHost = mkOption {
      type = nullOr types.str;
      default = null;
      example = "example.com";
      description = ''
        Serve the certificate services.acme-renew.certs.<name> (like security.acme's
        useACMEHost; the certificate is not created, define it there): sets this virtual host's
        certificate paths, serves the certificate's webroot challenge directory, orders
        ${server} after acme-renew@<name>.service (Wants=, never Requires=: ${server} starts even
        when the renewal fails), adds ${server}.service to its reloads and its group to the
        certificate (mkDefault).
      '';
    };
  };

  webrootOf = host: if cfg.certs ? ${host} then (effective.${host}.webroot or null) else null;
  dirOf = host: "${stateDir}/${host}";

  nginxVhost =
    { config, ... }:
    useACMERenewHostOption "nginx"
    // {
      config = mkIf (config.useACMERenewHost != null) (
        let
          host = config.useACMERenewHost;
          wr = webrootOf host;
        in
        {
          sslCertificate = mkDefault "${dirOf host}/fullchain.pem";
          sslCertificateKey = mkDefault "${dirOf host}/key.pem";
          sslTrustedCertificate = mkDefault "${dirOf host}/chain.pem";
          locations = mkIf (wr != null) {
            "^~ /.well-known/acme-challenge/".root = mkDefault wr;
          };
        }
      );
    };

  httpdVhost =
    { config, ... }:
    useACMERenewHostOption "httpd"
    // {
      config = mkIf (config.useACMERenewHost != null) (
        let
          host = config.useACMERenewHost;
          wr = webrootOf host;
        in
        {
          sslServerCert = mkDefault "${dirOf host}/fullchain.pem";
          sslServerKey = mkDefault "${dirOf host}/key.pem";
          servedDirs = optional (wr != null) {
            urlPath = "/.well-known/acme-challenge";
            dir = "${wr}/.well-known/acme-challenge";
          };
        }
      );
    };

  caddyVhost =
    { config, ... }:
    useACMERenewHostOption "caddy"
    // {
      config = mkIf (config.useACMERenewHost != null) (
        let
          host = config.useACMERenewHost;
          wr = webrootOf host;
        in
        {
          extraConfig = ''
            tls ${dirOf host}/fullchain.pem ${dirOf host}/key.pem
          ''
          + optionalString (wr != null) ''
            handle /.well-known/acme-challenge/* {
              root * ${wr}
              file_server
            }
          '';
        }
      );
    };

  webServers =
    let
      wired = vhosts: unique (filter (h: h != null) (mapAttrsToList (_: v: v.useACMERenewHost) vhosts));
      server = name: c: {
        inherit name;
        unit = "${name}.service";
        inherit (c) group;
        certs = optionals c.enable (wired c.virtualHosts);
      };
    in
    [
      (server "nginx" config.services.nginx)
      (server "httpd" config.services.httpd)
      (server "caddy" config.services.caddy)
    ];

  certUnitsOf = s: map (h: "acme-renew@${h}.service") s.certs;

  # ------------------------------------------------------------------------------------------
  # Generated files

  defaultsJSON = arLib.defaultsToJSON cfg.defaults;
  certJSON = mapAttrs (n: c: arLib.certToJSON cfg.defaults n c) cfg.certs;
  effective = mapAttrs (n: j: arLib.effective n defaultsJSON j) certJSON;

  configFiles = arLib.configFiles { inherit (cfg) defaults certs; };
  # pkgs.formats.json: builtins.toJSON, pretty-printed. The store name is fixed (a certificate
  # name may hold characters a store path name may not); the file name is given when copying.
  generated = mapAttrs (_: v: json.generate "acme-renew-config.json" v) configFiles;

  # The config dir, validated at build time by the real validator: a bad value fails the build
  # with `config /nix/store/…/<name>.json: <field>: <problem>` instead of failing at run time.
  validatedConfig =
    pkgs.runCommand "acme-renew-config"
      {
        nativeBuildInputs = [ cfg.package ];
        preferLocalBuild = true;
      }
      ''
        mkdir -p $out
        ${concatStrings (mapAttrsToList (f: p: "cp ${p} $out/${lib.escapeShellArg f}\n") generated)}
        acme-renew --config-dir "$out" --log-format text validate
      '';

  # ------------------------------------------------------------------------------------------
  # Units

  # Inheritable unit-level settings.
  pick =
    c: k:
    if c.${k} != null then
      c.${k}
    else if c.inheritDefaults then
      cfg.defaults.${k}
    else
      null;

  lowPort =
    addr:
    let
      p = if addr == null then null else arLib.listenPort addr;
    in
    p != null && p < 1024;

  # maxConcurrentRenewals: systemd has no "at most N instances of a template at once", so the run
  # takes one of N flock(1) slots under /run/acme-renew first (the NixOS security.acme way).
  # The lock is held by the acme-renew process itself (exec keeps the descriptor).
  slotWrapper = pkgs.writeShellScript "acme-renew-run-in-slot" ''
    slots=${toString cfg.maxConcurrentRenewals}
    said=
    while :; do
      for i in $(${pkgs.coreutils}/bin/seq 1 "$slots"); do
        exec {fd}>"/run/acme-renew/slot-$i.lock"
        if ${pkgs.util-linux}/bin/flock --nonblock "$fd"; then
          exec ${cfg.package}/bin/acme-renew run "$1"
        fi
        exec {fd}>&-
      done
      if [ -z "$said" ]; then
        echo "waiting for one of $slots renewal slots (services.acme-renew.maxConcurrentRenewals)"
        said=1
      fi
      ${pkgs.coreutils}/bin/sleep 1
    done
  '';

  # The files a certificate's runs read: its own and, when inherited, defaults.json.
  triggersOf =
    n: c:
    [ generated."${n}.json" ] ++ optional (c.inheritDefaults && generated ? "defaults.json") generated."defaults.json";

  certUnit =
    n: c:
    let
      eff = effective.${n};
      group = eff.group or null;
      webroot = eff.webroot or null;
      environmentFile = pick c "environmentFile";
      credentialFiles = let v = pick c "credentialFiles"; in if v == null then { } else v;
      migrate = c.migrateFrom != null;
    in
    {
      overrideStrategy = "asDropin";
      wantedBy = [ "multi-user.target" ];
      wants = optional migrate "acme-renew-migrate-${n}.service";
      after = optional migrate "acme-renew-migrate-${n}.service";
      # `switch` restarts the unit (RemainAfterExit keeps it active) when its file changes:
      # changed names are issued right away, not at the next timer.
      restartTriggers = triggersOf n c;
      path = [ config.systemd.package ];
      serviceConfig = mkMerge [
        {
          RemainAfterExit = true;
          # 75 (template): renewal failed, certificate still valid. 1: no usable certificate,
          # a placeholder is in place — not a failure of boot or switch; acme-renew-rerun@
          # retries it (see the top of this file).
          SuccessExitStatus = [
            "75"
            "1"
          ];
          Restart = "no";
          # 0751: a service in the certificate's group can reach its directory (0750, that
          # group) without being able to list the others; accounts/ is 0700.
          StateDirectoryMode = "0751";
        }
        (mkIf (group != null) { SupplementaryGroups = [ group ]; })
        (mkIf (environmentFile != null) { EnvironmentFile = environmentFile; })
        (mkIf (credentialFiles != { }) {
          LoadCredential = mapAttrsToList (k: v: "${k}:${v}") credentialFiles;
          Environment = mapAttrsToList (k: _: ''"${k}=%d/${k}"'') credentialFiles;
        })
        (mkIf (webroot != null) { ReadWritePaths = [ "${webroot}/.well-known/acme-challenge" ]; })
        (mkIf (lowPort (eff.listenHTTP or null) || lowPort (eff.listenTLS or null)) {
          CapabilityBoundingSet = [ "CAP_NET_BIND_SERVICE" ];
          AmbientCapabilities = [ "CAP_NET_BIND_SERVICE" ];
        })
        (mkIf (cfg.maxConcurrentRenewals > 0) {
          ExecStart = [
            ""
            "${slotWrapper} %i"
          ];
          RuntimeDirectory = "acme-renew";
          RuntimeDirectoryMode = "0700";
          RuntimeDirectoryPreserve = "yes";
        })
      ];
    };

  certTimer =
    n: c:
    let
      interval = pick c "renewInterval";
    in
    {
      overrideStrategy = "asDropin";
      wantedBy = [ "timers.target" ];
      # Re-armed (OnActiveSec below) whenever the certificate's configuration changes.
      restartTriggers = triggersOf n c;
      timerConfig = {
        Unit = "acme-renew-rerun@${n}.service";
        # Also once after boot/activation: a certificate that got only a placeholder then (CA
        # or DNS not there yet) is retried within 15 min instead of at the next calendar time.
        OnActiveSec = "15min";
      }
      // optionalAttrs (interval != null) {
        OnCalendar = [
          ""
          interval
        ];
      };
    };

  rerunScript = pkgs.writeShellScript "acme-renew-rerun" ''
    set -u
    unit="acme-renew@$1.service"
    case "$(${systemctl} show -P SubState "$unit")" in
      start|start-pre|start-post)
        echo "$unit is running right now; not interrupting it"
        exit 0 ;;
    esac
    ${systemctl} restart "$unit" || true
    status=$(${systemctl} show -P ExecMainStatus "$unit")
    case "$status" in
      0) exit 0 ;;
      75) echo "$unit: renewal failed, the certificate in place is still valid (exit 75)"; exit 0 ;;
      1) echo "$unit: no usable certificate (exit 1; a placeholder may be in place) - retrying in 15 min" >&2; exit 1 ;;
      78) echo "$unit: configuration error (exit 78)" >&2; exit 78 ;;
      *) echo "$unit: ended with status ''${status:-?} ($(${systemctl} show -P Result "$unit"))" >&2; exit 1 ;;
    esac
  '';

  migrateService =
    n: c:
    let
      eff = effective.${n};
      group = eff.group or null;
      owner = if group != null then group else user;
      keyMode = if group != null then "0640" else "0600";
    in
    {
      description = "Copy the security.acme certificate of ${n} into acme-renew's state directory (once)";
      unitConfig.ConditionPathExists = "${c.migrateFrom}/key.pem";
      path = [
        pkgs.coreutils
        pkgs.openssl
      ];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        UMask = "0077";
      };
      script = ''
        set -euo pipefail
        src=${lib.escapeShellArg c.migrateFrom}
        dst=${lib.escapeShellArg "${stateDir}/${n}"}
        group=${lib.escapeShellArg owner}

        # Only into an empty directory: never over anything acme-renew wrote.
        for f in cert.pem key.pem current versions; do
          if [ -e "$dst/$f" ] || [ -L "$dst/$f" ]; then
            echo "$dst/$f exists: acme-renew already has this certificate, nothing to migrate"
            exit 0
          fi
        done
        if [ ! -s "$src/cert.pem" ] || [ ! -s "$src/key.pem" ]; then
          echo "$src has no cert.pem and key.pem: nothing to migrate"
          exit 0
        fi
        # security.acme keeps a self-signed (minica) certificate there until the first real one:
        # adopting it would make acme-renew consider a valid, not-due certificate in place.
        issuer=$(openssl x509 -noout -issuer -in "$src/cert.pem" 2>/dev/null || true)
        case "$issuer" in
          "") echo "$src/cert.pem is not a readable certificate: not migrating it"; exit 0 ;;
          *[Mm]inica*) echo "$src/cert.pem is security.acme's self-signed placeholder ($issuer): not migrating it"; exit 0 ;;
        esac

        install -d -m 0751 -o ${user} -g ${user} ${stateDir}
        install -d -m 0750 -o ${user} -g "$group" "$dst"
        tmp=$(mktemp -d "$dst/.migrate.XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        for f in cert.pem chain.pem fullchain.pem key.pem full.pem; do
          [ -e "$src/$f" ] || continue
          case "$f" in
            key.pem|full.pem) mode=${keyMode} ;;
            *) mode=0644 ;;
          esac
          # install(1) reads through symlinks (security.acme's cert.pem links to fullchain.pem):
          # plain files, which acme-renew adopts as a version at its first renewal.
          install -m "$mode" -o ${user} -g "$group" "$src/$f" "$tmp/$f"
        done
        sync "$tmp"/*
        # The pair acme-renew judges (cert.pem, key.pem) last.
        for f in chain.pem fullchain.pem full.pem cert.pem key.pem; do
          if [ -e "$tmp/$f" ]; then mv "$tmp/$f" "$dst/$f"; fi
        done
        echo "copied $src to $dst ($issuer)"
      '';
    };

  # Units acme-renew may reload, as polkit sees them (full names).
  reloadUnits = unique (
    concatMap (eff: map arLib.unitName (eff.reloadServices or [ ])) (builtins.attrValues effective)
  );

  unsupportedSet =
    where: o:
    concatMap (
      k:
      let
        u = unsupportedOptions.${k};
      in
      optional (o ? ${k} && u.isSet o.${k}) "${where}.${k} (from security.acme) is not supported by acme-renew: ${u.hint}"
    ) (builtins.attrNames unsupportedOptions);
in
{
  options = {
    services.acme-renew = {
      package = mkOption {
        type = types.package;
        default = pkgs.callPackage ./package.nix { };
        defaultText = literalExpression "pkgs.callPackage ./nix/package.nix { }";
        description = "The acme-renew package (its systemd template units are used).";
      };

      acceptTerms = mkOption {
        type = types.bool;
        default = false;
        description = "Accept the CA's terms of service (Let's Encrypt: <https://letsencrypt.org/repository/>). Required, as in security.acme.";
      };

      maxConcurrentRenewals = mkOption {
        type = types.ints.unsigned;
        default = 5;
        description = ''
          At most this many `acme-renew run` processes at once (0: no limit), through flock
          slots in /run/acme-renew (systemd cannot limit the number of running instances of a
          template). A run that finds nothing due ends in well under a second, so a slot is held
          long only by renewals that talk to the CA.
        '';
      };

      migrateFromSecurityAcme = mkOption {
        type = types.bool;
        default = false;
        description = "Default of every certificate's migrateFrom: \"/var/lib/acme/<name>\" (security.acme's directory), copied once into acme-renew's empty state directory. See nix/README.md.";
      };

      defaults = mkOption {
        type = types.submodule { options = inheritableOptions true; };
        default = { };
        description = "Defaults inherited by every certificate (written to /etc/acme-renew/defaults.json; unit-level ones applied per unit) unless it sets inheritDefaults = false.";
      };

      certs = mkOption {
        type = types.attrsOf (
          types.submodule [
            { options = inheritableOptions false; }
            certOptions
          ]
        );
        default = { };
        example = literalExpression ''
          {
            "example.com" = {
              extraDomainNames = [ "www.example.com" ];
              webroot = "/var/lib/acme-renew-challenges";
            };
            "wildcard.example.org" = {
              domain = "*.example.org";
              dnsHook = "/etc/acme-renew/dns-hook";
              environmentFile = "/run/secrets/dns-api.env";
            };
          }
        '';
        description = ''
          Certificates: /etc/acme-renew/<name>.json, renewed by acme-renew@<name>.service
          (at boot, on every change at activation, twice a day by acme-renew@<name>.timer).
          Files in /var/lib/acme-renew/<name>/ (`directory`). A service using one: Wants= and
          After= acme-renew@<name>.service (useACMERenewHost does it for nginx, httpd, caddy).
        '';
      };
    };

    services.nginx.virtualHosts = mkOption {
      type = types.attrsOf (types.submodule nginxVhost);
    };
    services.httpd.virtualHosts = mkOption {
      type = types.attrsOf (types.submodule httpdVhost);
    };
    services.caddy.virtualHosts = mkOption {
      type = types.attrsOf (types.submodule caddyVhost);
    };
  };

  config = mkMerge [
    # Web servers naming a certificate: their group reads its key, they are reloaded after a
    # renewal, and they wait for its unit at boot. (Outside the mkIf below: these definitions
    # may create the certs entries it tests.)
    {
      services.acme-renew.certs = mkMerge (
        concatMap (
          s:
          map (h: {
            ${h} = {
              group = mkDefault s.group;
              extraReloadServices = [ s.unit ];
            };
          }) s.certs
        ) webServers
      );
      systemd.services = mkMerge (
        map (s: {
          ${s.name} = mkIf (s.certs != [ ]) {
            wants = certUnitsOf s;
            after = certUnitsOf s;
          };
        }) webServers
      );
    }

    (mkIf (cfg.certs != { }) {
      assertions =
        map (message: {
          assertion = false;
          inherit message;
        }) (arLib.problems { inherit (cfg) defaults certs acceptTerms; })
        ++ map (message: {
          assertion = false;
          inherit message;
        }) (
          unsupportedSet "services.acme-renew.defaults" cfg.defaults
          ++ concatMap (n: unsupportedSet "services.acme-renew.certs.\"${n}\"" cfg.certs.${n}) (builtins.attrNames cfg.certs)
        )
        ++ concatMap (
          n:
          let
            creds = pick cfg.certs.${n} "credentialFiles";
          in
          map (k: {
            assertion = builtins.match "[A-Za-z_][A-Za-z0-9_]*" k != null;
            message = "services.acme-renew.certs.\"${n}\".credentialFiles: \"${k}\" is not an environment variable name.";
          }) (if creds == null then [ ] else builtins.attrNames creds)
        ) (builtins.attrNames cfg.certs);

      warnings =
        optional (cfg.defaults.enableDebugLogs != null || builtins.any (c: c.enableDebugLogs != null) (builtins.attrValues cfg.certs))
          "services.acme-renew: enableDebugLogs (from security.acme) has no effect: acme-renew logs every event to the journal (journalctl -u 'acme-renew@*')."
        ++ optional (reloadUnits != [ ] && !config.security.polkit.enable)
          "services.acme-renew: reloadServices (${toString reloadUnits}) need polkit (security.polkit.enable = false): reloads will fail, the run exits 75 and logs hook-failed, and the services keep the old certificate until reloaded.";

      users.users.${user} = {
        isSystemUser = true;
        group = user;
        home = stateDir;
        description = "ACME certificate renewal";
      };
      users.groups.${user} = { };

      # The template units acme-renew@.service and acme-renew@.timer.
      systemd.packages = [ cfg.package ];
      environment.systemPackages = [ cfg.package ];

      environment.etc = mapAttrs' (
        f: _: nameValuePair "acme-renew/${f}" { source = "${validatedConfig}/${f}"; }
      ) configFiles;

      systemd.services =
        mapAttrs' (n: c: nameValuePair "acme-renew@${n}" (certUnit n c)) cfg.certs
        // mapAttrs' (n: c: nameValuePair "acme-renew-migrate-${n}" (migrateService n c)) (
          filterAttrs (_: c: c.migrateFrom != null) cfg.certs
        )
        // {
          "acme-renew-rerun@" = {
            description = "Check and renew the ACME certificate %i (re-runs acme-renew@%i.service)";
            serviceConfig = {
              Type = "oneshot";
              ExecStart = "${rerunScript} %i";
              Restart = "on-failure";
              RestartSec = "15min";
              RestartPreventExitStatus = "78";
              # Talks to systemd only.
              ProtectSystem = "strict";
              ProtectHome = true;
              PrivateTmp = true;
              PrivateNetwork = true;
              NoNewPrivileges = true;
              RestrictAddressFamilies = [ "AF_UNIX" ];
            };
          };
        };

      systemd.timers = mapAttrs' (n: c: nameValuePair "acme-renew@${n}" (certTimer n c)) cfg.certs;

      # webroot challenges: <webroot>/.well-known/acme-challenge, writable by acme-renew and
      # readable by everyone (tokens are public). Existing directories above it keep their
      # owner and mode ("-").
      systemd.tmpfiles.rules = unique (
        concatMap (
          eff:
          optionals (eff ? webroot) [
            "d ${eff.webroot} - - - -"
            "d ${eff.webroot}/.well-known - - - -"
            "d ${eff.webroot}/.well-known/acme-challenge 0755 ${user} ${user} -"
          ]
        ) (builtins.attrValues effective)
      );

      # Reloads after a renewal: acme-renew (not root) runs systemctl try-reload-or-restart;
      # polkit allows exactly the configured units (systemd/polkit/10-acme-renew.rules, with the
      # list generated from reloadServices).
      security.polkit.enable = mkIf (reloadUnits != [ ]) (mkDefault true);
      security.polkit.extraConfig = mkIf (reloadUnits != [ ]) ''
        // acme-renew: reload the units of services.acme-renew.*.reloadServices after a renewal.
        polkit.addRule(function (action, subject) {
          var units = ${builtins.toJSON reloadUnits};
          var verbs = ["reload-or-try-restart", "reload", "try-restart"];
          if (action.id !== "org.freedesktop.systemd1.manage-units") return polkit.Result.NOT_HANDLED;
          if (subject.user !== "${user}") return polkit.Result.NOT_HANDLED;
          if (units.indexOf(action.lookup("unit")) >= 0 && verbs.indexOf(action.lookup("verb")) >= 0) return polkit.Result.YES;
          return polkit.Result.NOT_HANDLED;
        });
      '';
    })
  ];
}
