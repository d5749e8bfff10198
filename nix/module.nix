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
# Option names, types and defaults follow security.acme wherever the concept is the same; nix/README.md
# has the option-by-option table and the reasons behind the units, summarised here. Per certificate:
#
#   acme-renew-ready-<name>.service  boot path, concrete: `acme-renew ready` (offline, PrivateNetwork;
#                                    a usable certificate or the placeholder on disk), wanted by
#                                    multi-user.target, restarted by a switch when the certificate's
#                                    files change; then starts the renewal with --no-block.
#                                    Web servers Wants= + After= this unit and nothing else of ours.
#   acme-renew@<name>.service        the renewal: an instance of the module's template
#                                    acme-renew@.service (the package's unit, in Nix), plus a drop-in
#                                    with the certificate's sandbox holes. After the network, the ready
#                                    unit and the web servers; nothing waits for it.
#                                    `systemctl start acme-renew@<name>` works as everywhere else.
#   acme-renew-<name>.timer          concrete: after boot and hourly (renewInterval), starts the renewal.
#   acme-renew-migrate-<name>        only with migrateFrom: copies security.acme's files once, before
#                                    the ready unit.
#
# Per host: acme-renew-metrics.{service,timer} (metrics.enable) and, in cluster mode,
# acme-renew-http01.{socket,service} (`acme-renew serve-http01`: http-01 answered from etcd).
#
# Why concrete units for what a switch must do: switch-to-configuration reads a template instance
# with a dot in its name ("acme-renew@example.com.service") as an instance of "acme-renew@.com.service"
# and then neither restarts nor starts it, so a changed or new certificate would wait for the timer.
# No unit boot or a switch waits for talks to the network.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    attrNames
    concatMap
    concatStrings
    concatStringsSep
    elem
    filter
    filterAttrs
    head
    length
    literalExpression
    mapAttrs
    mapAttrs'
    mapAttrsToList
    mkDefault
    mkEnableOption
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
  bin = "${cfg.package}/bin/acme-renew";

  # Unit names (see the top of this file).
  readyName = n: "acme-renew-ready-${n}";
  renewUnit = n: "acme-renew@${n}.service";
  timerName = n: "acme-renew-${n}";
  migrateName = n: "acme-renew-migrate-${n}";
  metricsName = "acme-renew-metrics";

  # ------------------------------------------------------------------------------------------
  # Options

  nullOr = types.nullOr;
  unset = {
    default = null;
  };
  # A file the service reads at run time, given as an absolute path string: never a Nix path, which
  # would copy a secret into the world-readable store (the module asserts it).
  secretFileOption =
    {
      description,
      example ? null,
    }:
    mkOption (
      unset
      // {
        type = nullOr types.str;
        inherit description;
      }
      // optionalAttrs (example != null) { inherit example; }
    );

  # security.acme options acme-renew has no equivalent for: declared (hidden) so that a migrated
  # configuration gets an assertion with a hint instead of "option does not exist".
  unsupportedOptions = {
    extraLegoFlags = {
      isSet = v: v != null && v != [ ];
      hint = "acme-renew does not run lego; see the migration table in nix/README.md for the equivalent options.";
    };
    extraLegoRunFlags = unsupportedOptions.extraLegoFlags;
    extraLegoRenewFlags = unsupportedOptions.extraLegoFlags;
    s3Bucket = {
      isSet = v: v != null;
      hint = "http-01 into an S3 bucket is not supported: use webroot on the directory the bucket is served from, or dns-01 (dnsProvider).";
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
  inheritableOptions = {
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
        description = ''
          PEM file of CA certificates trusted for the ACME server's TLS in addition to the
          system's trust store (security.pki: /etc/ssl/certs/ca-certificates.crt). A private CA is
          better added the NixOS way, security.pki.certificateFiles; this is for one CA only
          acme-renew should trust. A Nix path is copied into the store.
        '';
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
            "rsa8192"
          ]
        );
        description = "Key type of the certificate key. null: ec256 (as security.acme). Let's Encrypt accepts RSA up to 4096 bits only.";
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
          writable in the renewal's sandbox. A virtual host with useACMERenewHost or
          enableACMERenew serves it.
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
    dnsProvider = mkOption (
      unset
      // {
        type = nullOr types.str;
        example = "rfc2136";
        description = ''
          dns-01 (needed for wildcards) through a DNS provider, by lego's provider code (as
          security.acme): rfc2136 (dnsupdate), cloudflare, route53, hetzner, porkbun, desec,
          digitalocean, ovh, gandiv5, namecheap, inwx, acme-dns, duckdns, gcloud, exec — the
          main README has the table. Its credentials are lego's variables (`VAR` or `VAR_FILE`),
          from environmentFile and credentialFiles. An unknown code fails the build (the
          generated files are validated); a missing variable fails the renewal with exit 78
          naming it.
        '';
      }
    );
    dnsHook = mkOption (
      unset
      // {
        type = nullOr types.path;
        example = literalExpression ''pkgs.writeShellScript "dns-hook" "…"'';
        description = ''
          dns-01 through your own executable, called as
          `HOOK present|cleanup _acme-challenge.<domain>. <value>` (lego's `exec` provider, the
          same as dnsProvider = "exec" with EXEC_PATH), as user acme-renew inside the renewal's
          sandbox, with the unit's environment (environmentFile, credentialFiles).
        '';
      }
    );
    dnsResolver = mkOption (
      unset
      // {
        type = nullOr types.str;
        example = "1.1.1.1:53";
        description = "dns-01: DNS server(s) `IP[:port]`, comma-separated, used to find the zone, its name servers and CNAMEs (lego's --dns.resolvers). null: /etc/resolv.conf.";
      }
    );
    dnsPropagationTimeout = mkOption (
      unset
      // {
        type = nullOr (types.ints.between 0 86400);
        description = "dns-01: seconds to wait for the TXT record (0: do not wait). null: the provider's <P>_PROPAGATION_TIMEOUT, or lego's default for it.";
      }
    );
    dnsPropagationCheck = mkOption (
      unset
      // {
        type = nullOr types.bool;
        description = "dns-01: wait until every authoritative name server of the zone serves the TXT record (as security.acme; lego's authoritative check). null: true.";
      }
    );
    ocspMustStaple = mkOption (
      unset
      // {
        type = nullOr types.bool;
        description = ''
          security.acme's OCSP Must-Staple switch: accepted (with a warning when true) and
          written to the certificate's file, but no must-staple certificate is requested — Let's
          Encrypt has refused such requests since 2025 (it ended OCSP). null: false.
        '';
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
          here replaces the one in defaults. Web servers wired with useACMERenewHost or
          enableACMERenew are added automatically.
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
          Unlike security.acme it does NOT run as root: it runs as acme-renew inside the renewal's
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
          the units get it as a supplementary group. null: none (security.acme's default is
          "acme"), unless a web server serves the certificate (useACMERenewHost,
          enableACMERenew): then that server's group. A certificate served by web servers of
          different groups needs it set; the servers get it as a supplementary group.
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
        description = "Write a self-signed placeholder when there is no usable certificate, so that dependent services start (security.acme's acme-<name> self-signed step). null: true.";
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
        description = "Overall deadline of one renewal, seconds. Nothing waits for a renewal; this bounds the run itself. null: 600.";
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
        example = "/run/secrets/cloudflare.env";
        description = ''
          EnvironmentFile= of the certificate's renewal (as security.acme): the DNS provider's
          variables (lego's names, e.g. `CF_DNS_API_TOKEN=…`), also seen by dnsHook. Read by
          systemd as root, so the file may be root-only. An absolute path string outside the
          Nix store (an assertion refuses a Nix path: the secret would be copied into the
          world-readable store).
        '';
      }
    );
    credentialFiles = mkOption (
      unset
      // {
        type = nullOr (types.attrsOf types.path);
        example = literalExpression ''{ "RFC2136_TSIG_SECRET_FILE" = "/run/secrets/tsig-secret"; }'';
        description = ''
          `VAR_FILE` -> secret file (as security.acme): each file is passed with
          LoadCredential= (systemd reads it as root) and `VAR_FILE=%d/VAR_FILE` points at the
          credential, readable by the unit only; the provider reads VAR from it (lego's
          `VAR_FILE`). Names must end in `_FILE`; values are absolute path strings outside the
          Nix store. null: {} (or the defaults').
        '';
      }
    );
    renewInterval = mkOption (
      unset
      // {
        type = nullOr types.str;
        example = "daily";
        description = "OnCalendar= of the certificate's timer. null: hourly (plus a fixed per-host random delay of up to 15 min, and once a minute after boot) — a run that is not due costs no network.";
      }
    );

    # security.acme's old name of environmentFile: works, with a warning.
    credentialsFile = mkOption {
      type = nullOr types.path;
      default = null;
      visible = false;
      description = "Renamed to environmentFile (as in security.acme).";
    };
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
          defaultText = literalExpression ''"/var/lib/acme-renew/<name>"'';
          description = "Where the certificate is (read-only, like security.acme's): cert.pem (leaf), chain.pem, fullchain.pem, key.pem, full.pem (key + fullchain).";
        };
        migrateFrom = mkOption {
          type = nullOr types.str;
          default = if cfg.migrateFromSecurityAcme then "/var/lib/acme/${name}" else null;
          defaultText = literalExpression ''if migrateFromSecurityAcme then "/var/lib/acme/<name>" else null'';
          description = "A security.acme (lego) certificate directory to copy into `directory` once, while that is still empty, so that the certificate is not re-issued. See nix/README.md.";
        };
        csr = hiddenOption;
        csrKey = hiddenOption;
      };
    };

  # ------------------------------------------------------------------------------------------
  # Web servers
  #
  # services.<server>.virtualHosts.<vhost>:
  #   useACMERenewHost = "<name>"   serve certs.<name>, which must be declared (useACMEHost)
  #   enableACMERenew = true        declare a certificate for the vhost's names and serve it
  #                                 (enableACME; nginx and httpd); acmeRenewRoot its webroot
  # The wiring (ready ordering, reloads, key group) is computed here from the vhosts; it never
  # defines certificates, except the ones enableACMERenew asks for.

  defaultAcmeRoot = "/var/lib/acme-renew-challenges";

  vhostOptions =
    server: withEnable:
    {
      useACMERenewHost = mkOption {
        type = nullOr types.str;
        default = null;
        example = "example.com";
        description = ''
          Serve the certificate services.acme-renew.certs.<name> (like security.acme's
          useACMEHost; the certificate must be declared there — an undeclared name is an
          error): this virtual host's certificate paths, the certificate's webroot challenge
          directory, ${server} Wants= + After= acme-renew-ready-<name>.service and Before=
          acme-renew@<name>.service, ${server}.service added to its reloads, its group to the
          certificate.
        '';
      };
    }
    // optionalAttrs withEnable {
      enableACMERenew = mkOption {
        type = types.bool;
        default = false;
        description = ''
          Declare the certificate services.acme-renew.certs.<server name> for this virtual
          host's names (the server name and its aliases) with the webroot acmeRenewRoot, and
          serve it as useACMERenewHost does (security.acme's enableACME).
        '';
      };
      acmeRenewRoot = mkOption {
        type = nullOr types.str;
        default = defaultAcmeRoot;
        description = ''
          Webroot of the certificate enableACMERenew declares (security.acme's acmeRoot).
          null: none here — the challenge comes from services.acme-renew.defaults or the
          certificate (dnsHook, listenHTTP, …).
        '';
      };
    };

  # The certificate a vhost serves (null: none).
  vhostCert =
    s: vhostName: v:
    if v.useACMERenewHost != null then
      v.useACMERenewHost
    else if v.enableACMERenew or false then
      s.serverName vhostName v
    else
      null;

  effectiveOf = n: if effective ? ${n} then effective.${n} else { };
  webrootOf = n: (effectiveOf n).webroot or null;
  dirOf = n: "${stateDir}/${n}";

  nginxVhost =
    s:
    { name, config, ... }:
    {
      options = vhostOptions "nginx" true;
      config = mkIf (vhostCert s name config != null) (
        let
          n = vhostCert s name config;
          wr = webrootOf n;
        in
        {
          sslCertificate = mkDefault "${dirOf n}/fullchain.pem";
          sslCertificateKey = mkDefault "${dirOf n}/key.pem";
          sslTrustedCertificate = mkDefault "${dirOf n}/chain.pem";
          # Cluster mode: the responder answers every host's tokens (from etcd); else the webroot.
          locations = mkIf (wr != null || http01On) {
            "^~ /.well-known/acme-challenge/" =
              (if http01On then { proxyPass = mkDefault http01Target; } else { root = mkDefault wr; })
              // {
                extraConfig = mkDefault "auth_basic off;";
              };
          };
        }
      );
    };

  httpdVhost =
    s:
    { name, config, ... }:
    {
      options = vhostOptions "httpd" true;
      config = mkIf (vhostCert s name config != null) (
        let
          n = vhostCert s name config;
          wr = webrootOf n;
        in
        {
          sslServerCert = mkDefault "${dirOf n}/fullchain.pem";
          sslServerKey = mkDefault "${dirOf n}/key.pem";
          sslServerChain = mkDefault "${dirOf n}/chain.pem";
          servedDirs = optional (wr != null) {
            urlPath = "/.well-known/acme-challenge";
            dir = "${wr}/.well-known/acme-challenge";
          };
        }
      );
    };

  caddyVhost =
    s:
    { name, config, ... }:
    {
      options = vhostOptions "caddy" false;
      config = mkIf (vhostCert s name config != null) (
        let
          n = vhostCert s name config;
          wr = webrootOf n;
        in
        {
          extraConfig = ''
            tls ${dirOf n}/fullchain.pem ${dirOf n}/key.pem
          ''
          + optionalString (http01On) ''
            handle /.well-known/acme-challenge/* {
              reverse_proxy ${if http01IsUnix then "unix/${http01Listen}" else http01Listen}
            }
          ''
          + optionalString (wr != null && !http01On) ''
            handle /.well-known/acme-challenge/* {
              root * ${wr}
              file_server
            }
          '';
        }
      );
    };

  serverDefs = {
    nginx = {
      serverName = vhostName: v: if v.serverName != null then v.serverName else vhostName;
      aliases = v: v.serverAliases;
      vhost = nginxVhost;
    };
    httpd = {
      serverName = _: v: v.hostName;
      aliases = v: v.serverAliases;
      vhost = httpdVhost;
    };
    caddy = {
      serverName = vhostName: _: vhostName;
      aliases = _: [ ];
      vhost = caddyVhost;
    };
  };

  # Enabled web servers with the certificates their vhosts name.
  webServers = mapAttrsToList (
    name: d:
    let
      c = config.services.${name};
      s = d // {
        inherit name;
      };
      uses = optionals c.enable (
        filter (u: u.cert != null) (
          mapAttrsToList (vhostName: v: {
            inherit vhostName;
            cert = vhostCert s vhostName v;
            byName = v.useACMERenewHost != null;
            declares = v.enableACMERenew or false;
            both = (v.enableACMERenew or false) && v.useACMERenewHost != null;
            aliases = d.aliases v;
            acmeRoot = v.acmeRenewRoot or null;
          }) c.virtualHosts
        )
      );
    in
    {
      inherit name uses;
      unit = "${name}.service";
      inherit (c) group;
      certs = unique (map (u: u.cert) uses);
    }
  ) serverDefs;

  serversOf = n: filter (s: elem n s.certs) webServers;

  # enableACMERenew: the certificates it declares (mkDefault: the certificate's own settings win).
  declaredByVhosts = concatMap (
    s:
    map (u: {
      ${u.cert} = {
        extraDomainNames = mkDefault u.aliases;
        webroot = mkDefault u.acmeRoot;
      };
    }) (filter (u: u.declares && !u.byName) s.uses)
  ) webServers;

  # What the web servers add to a certificate: the key group (the certificate's own wins, then the
  # servers' one group, then defaults.group) and their reloads.
  serverGroups = n: unique (map (s: s.group) (serversOf n));
  withServers =
    n: c:
    let
      groups = serverGroups n;
    in
    c
    // {
      group =
        if c.group != null then
          c.group
        else if length groups == 1 then
          head groups
        else
          null;
      extraReloadServices = map (s: s.unit) (serversOf n);
    };

  # ------------------------------------------------------------------------------------------
  # Generated files

  certsIn = mapAttrs withServers cfg.certs;
  defaultsJSON = arLib.defaultsToJSON cfg.defaults;
  certJSON = mapAttrs (n: c: arLib.certToJSON cfg.defaults n c) certsIn;
  effective = mapAttrs (n: j: arLib.effective n defaultsJSON j) certJSON;

  configFiles = arLib.configFiles {
    inherit (cfg) defaults acceptTerms;
    certs = certsIn;
    cluster = clusterJSON;
  };

  # The program's `cluster` field (null: not in cluster mode). Only what is set; the secrets are
  # file names, read at run time by user acme-renew.
  clusterJSON =
    let
      e = cfg.cluster.etcd;
      some = k: v: optionalAttrs (v != null) { ${k} = "${v}"; };
    in
    if !cfg.cluster.enable then
      null
    else
      {
        etcd =
          { inherit (e) endpoints; }
          // some "caFile" e.caFile
          // some "certFile" e.certFile
          // some "keyFile" e.keyFile
          // some "usernameFile" e.usernameFile
          // some "passwordFile" e.passwordFile;
        inherit (cfg.cluster) prefix standaloneWhenUnreachable;
      }
      // some "encryptionKeyFile" cfg.cluster.encryptionKeyFile;

  # Where the web servers forward /.well-known/acme-challenge/ in cluster mode (null: they serve
  # the webroot themselves).
  http01On = cfg.cluster.enable && cfg.cluster.http01.enable;
  http01Listen = cfg.cluster.http01.listen;
  http01IsUnix = lib.hasPrefix "/" http01Listen;
  http01Target = if !http01On then null else if http01IsUnix then "http://unix:${http01Listen}:" else "http://${http01Listen}";
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
        # --no-group-check: the build sandbox has none of the host's groups (run checks them);
        # --no-credentials: nor its secrets (a DNS provider's variables are checked by run).
        acme-renew --config-dir "$out" --log-format text validate --no-group-check --no-credentials
      '';

  # The files a certificate's runs read: its own and, when inherited, defaults.json. A change
  # restarts its ready unit, which starts the renewal.
  triggersOf =
    n: c:
    [ generated."${n}.json" ] ++ optional (c.inheritDefaults && generated ? "defaults.json") generated."defaults.json";

  # ------------------------------------------------------------------------------------------
  # Units

  # Inheritable unit-level settings (environmentFile also under its old name, credentialsFile).
  pick =
    c: k:
    let
      get = o: if k == "environmentFile" && o.environmentFile == null then o.credentialsFile else o.${k};
    in
    if get c != null then
      get c
    else if c.inheritDefaults then
      get cfg.defaults
    else
      null;

  lowPort =
    addr:
    let
      p = if addr == null then null else arLib.listenPort addr;
    in
    p != null && p < 1024;

  # The sandbox of systemd/acme-renew@.service (and acme-renew-ready@.service), key for key;
  # nix/tests/module-eval.nix compares it with the unit files.
  sandbox = {
    User = user;
    Group = user;
    StateDirectory = "acme-renew";
    # 0751 (the unit files: 0750): a service in a certificate's group reaches its directory (0750,
    # that group) without being in group acme-renew or able to list the others; accounts/ is 0700.
    StateDirectoryMode = "0751";
    ConfigurationDirectory = "acme-renew";
    # Node's compile cache (src/cli/compile-cache.ts).
    CacheDirectory = "acme-renew";
    CacheDirectoryMode = "0700";
    UMask = "0027";
    ProtectSystem = "strict";
    ProtectHome = true;
    PrivateTmp = true;
    PrivateDevices = true;
    PrivateIPC = true;
    PrivateMounts = true;
    NoNewPrivileges = true;
    CapabilityBoundingSet = "";
    AmbientCapabilities = "";
    ProtectKernelTunables = true;
    ProtectKernelModules = true;
    ProtectKernelLogs = true;
    ProtectControlGroups = true;
    ProtectClock = true;
    ProtectHostname = true;
    ProtectProc = "invisible";
    RestrictNamespaces = true;
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    LockPersonality = true;
    RemoveIPC = true;
    RestrictAddressFamilies = [
      "AF_UNIX"
      "AF_INET"
      "AF_INET6"
      "AF_NETLINK"
    ];
    SystemCallArchitectures = "native";
    SystemCallFilter = "@system-service";
    SystemCallErrorNumber = "EPERM";
  };
  # Units that never need the network: the kernel enforces it.
  offline = {
    PrivateNetwork = true;
    RestrictAddressFamilies = "AF_UNIX";
    IPAddressDeny = "any";
  };

  unitPath = [
    config.systemd.package # systemd-notify, systemctl (reloads)
    pkgs.util-linux # flock: run-in-slot.sh, and acme-renew's own locks (flock(2) on the lock file)
    pkgs.getent # `group` through NSS (before an order; chgrp of a placeholder)
  ];

  # maxConcurrentRenewals: each run first takes one of N flock slots (nix/run-in-slot.sh); while
  # it waits it extends the unit's timeout, so a queue cannot time it out.
  runInSlot = pkgs.writeShellScript "acme-renew-run-in-slot" (builtins.readFile ./run-in-slot.sh);
  renewExec =
    if cfg.maxConcurrentRenewals > 0 then
      "${runInSlot} ${toString cfg.maxConcurrentRenewals} ${bin} run %i"
    else
      "${bin} run %i";

  # The template (systemd/acme-renew@.service, in Nix). Exit codes counted as success: 0, 75
  # (renewal failed, the certificate in place is still valid) and 3 (no CA-issued certificate
  # yet, the placeholder is in place; retried in 15 min) — never 1, which is also what a crash
  # exits with.
  renewTemplate = {
    description = "ACME certificate renewal for %i";
    wants = [ "network-online.target" ];
    # nss-lookup.target is passive: ordered after, never pulled in.
    after = [
      "network-online.target"
      "nss-lookup.target"
    ];
    path = unitPath;
    # The system trust store (security.pki) for the CA's TLS, plus caBundle.
    environment.SSL_CERT_FILE = "/etc/ssl/certs/ca-certificates.crt";
    serviceConfig =
      sandbox
      // {
        # exec, not oneshot: "started" once the process runs, so nothing ordered after a renewal
        # waits for the CA, and RestartForceExitStatus= works on systemd < 256.
        Type = "exec";
        ExecStart = renewExec;
        SuccessExitStatus = [
          "75"
          "3"
        ];
        Restart = "on-failure";
        RestartForceExitStatus = "3";
        RestartSec = "15min";
        RestartPreventExitStatus = [
          "78"
          "64"
        ];
        # Bound of one run; acme-renew extends it (EXTEND_TIMEOUT_USEC=) for a longer `timeout`.
        RuntimeMaxSec = "15min";
        NotifyAccess = "all";
      }
      // optionalAttrs (cfg.maxConcurrentRenewals > 0) {
        RuntimeDirectory = "acme-renew";
        RuntimeDirectoryMode = "0700";
        # Shared by all instances: one ending must not remove the others' slots.
        RuntimeDirectoryPreserve = "yes";
      };
  };

  # The certificate's drop-in for acme-renew@<name>.service: ordering and its sandbox holes.
  renewDropIn =
    n: c:
    let
      eff = effective.${n};
      group = eff.group or null;
      webroot = eff.webroot or null;
      environmentFile = pick c "environmentFile";
      credentialFiles =
        let
          v = pick c "credentialFiles";
        in
        if v == null then { } else v;
    in
    {
      overrideStrategy = "asDropin";
      after = [ "${readyName n}.service" ] ++ optional (c.migrateFrom != null) "${migrateName n}.service";
      path = unitPath;
      serviceConfig = mkMerge [
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
      ];
    };

  # acme-renew-ready-<name>.service: the boot path (systemd/acme-renew-ready@.service, concrete).
  readyUnit =
    n: c:
    let
      group = effective.${n}.group or null;
      migrate = optional (c.migrateFrom != null) "${migrateName n}.service";
    in
    {
      description = "ACME certificate for ${n} on disk (offline check, placeholder if none)";
      wantedBy = [ "multi-user.target" ];
      wants = migrate;
      after = migrate;
      # A switch restarts it when the certificate's files change (new names, new key type, …):
      # it runs again and starts the renewal.
      restartTriggers = triggersOf n c;
      # A placeholder is written under the certificate's lock (flock), chgrp'ed to `group` (getent).
      path = unitPath;
      serviceConfig = mkMerge [
        (
          sandbox
          // offline
          // {
            Type = "oneshot";
            RemainAfterExit = true;
            ExecStart = "${bin} ready ${n}";
            # Start the renewal and do not wait for it: boot and switch never wait on the CA.
            # ("+": systemctl as root, outside the sandbox; "-": a failure to queue it is logged,
            # the certificate is on disk all the same.)
            ExecStartPost = "-+${systemctl} start --no-block ${renewUnit n}";
            # Offline work on local files; web servers wait for this unit.
            TimeoutStartSec = "30s";
          }
        )
        (mkIf (group != null) { SupplementaryGroups = [ group ]; })
      ];
    };

  certTimer = n: c: {
    description = "ACME certificate renewal for ${n}: after boot and hourly";
    wantedBy = [ "timers.target" ];
    timerConfig = {
      Unit = renewUnit n;
      OnBootSec = "1min";
      OnCalendar =
        let
          interval = pick c "renewInterval";
        in
        if interval != null then interval else "hourly";
      RandomizedDelaySec = "15min";
      FixedRandomDelay = true;
      OnClockChange = true;
      AccuracySec = "1min";
    };
  };

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
      # Before the ready unit: it would otherwise write a placeholder first, and then there would
      # be nothing to migrate into.
      before = [ "${readyName n}.service" ];
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

  # services.acme-renew.metrics: `acme-renew status --prometheus` into node_exporter's textfile
  # directory, from its own unit (ReadWritePaths= that directory; the renewal cannot write there).
  metricsFile = "${cfg.metrics.textfileDirectory}/acme-renew.prom";
  metricsService = {
    description = "ACME certificate metrics for node_exporter (${metricsFile})";
    path = [ config.systemd.package ];
    serviceConfig =
      sandbox
      // offline
      // {
        Type = "oneshot";
        ExecStart = "${bin} status --all --prometheus ${metricsFile}";
        ReadWritePaths = [ cfg.metrics.textfileDirectory ];
        TimeoutStartSec = "5min";
      };
  };
  metricsTimer = {
    description = "ACME certificate metrics for node_exporter";
    wantedBy = [ "timers.target" ];
    timerConfig = {
      Unit = "${metricsName}.service";
      OnBootSec = "1min";
      OnCalendar = cfg.metrics.interval;
      AccuracySec = "10s";
    };
  };

  # Cluster mode's http-01 responder (docs/cluster.md): socket-activated, hardened like the
  # renewal, but without the state directory (it answers from etcd only, never from local files).
  http01Name = "acme-renew-http01";
  http01Socket = {
    description = "ACME http-01 responder of the acme-renew cluster (${http01Listen})";
    wantedBy = [ "sockets.target" ];
    listenStreams = [ http01Listen ];
    socketConfig = optionalAttrs http01IsUnix {
      # the web server connects; nothing else needs to
      SocketMode = "0666";
    };
  };
  http01Service = {
    description = "ACME http-01 responder of the acme-renew cluster (answers from etcd)";
    requires = [ "${http01Name}.socket" ];
    after = [ "${http01Name}.socket" ];
    serviceConfig =
      removeAttrs sandbox [
        "StateDirectory"
        "StateDirectoryMode"
        "CacheDirectory"
        "CacheDirectoryMode"
      ]
      // {
        Type = "simple";
        ExecStart = "${bin} serve-http01";
        InaccessiblePaths = [ "-${stateDir}" ];
        # etcd only: no netlink, no capabilities.
        RestrictAddressFamilies = [
          "AF_UNIX"
          "AF_INET"
          "AF_INET6"
        ];
        Restart = "on-failure";
        RestartSec = "5s";
      };
  };

  # Units acme-renew may reload, as polkit sees them (full names).
  reloadUnits = unique (concatMap (eff: map arLib.unitName (eff.reloadServices or [ ])) (builtins.attrValues effective));

  # ------------------------------------------------------------------------------------------
  # Assertions

  unsupportedSet =
    where: o:
    concatMap (
      k:
      let
        u = unsupportedOptions.${k};
      in
      optional (o ? ${k} && u.isSet o.${k}) "${where}.${k} (from security.acme) is not supported by acme-renew: ${u.hint}"
    ) (attrNames unsupportedOptions);

  certOpt = n: "services.acme-renew.certs.\"${n}\"";

  # Secrets are read at run time; as a Nix path (or a store path) they would sit in the
  # world-readable store.
  secretProblem =
    where: v:
    optional (
      v != null && !(builtins.isString v && lib.hasPrefix "/" v && !lib.hasPrefix "${builtins.storeDir}/" v)
    ) "${where}: must be an absolute path given as a string outside ${builtins.storeDir} (e.g. \"/run/secrets/…\"), so that the secret is read at run time and never copied into the world-readable Nix store.";
  secretsOf =
    where: o:
    secretProblem "${where}.environmentFile" o.environmentFile
    ++ secretProblem "${where}.credentialsFile" o.credentialsFile
    ++ concatMap (k: secretProblem "${where}.credentialFiles.${k}" o.credentialFiles.${k}) (
      if o.credentialFiles == null then [ ] else attrNames o.credentialFiles
    );

  clusterProblems =
    let
      c = cfg.cluster;
      e = c.etcd;
      o = "services.acme-renew.cluster";
    in
    optionals c.enable (
      optional (e.endpoints == [ ]) "${o}.etcd.endpoints: at least one etcd endpoint (scheme://host:port) is needed in cluster mode."
      ++ optional (c.encryptionKeyFile == null) "${o}.encryptionKeyFile: required in cluster mode (the key that encrypts private keys stored in etcd; the same file on every host)."
      ++ optional ((e.certFile == null) != (e.keyFile == null)) "${o}.etcd: certFile and keyFile go together."
      ++ optional ((e.usernameFile == null) != (e.passwordFile == null)) "${o}.etcd: usernameFile and passwordFile go together."
      ++ concatMap (k: secretProblem "${o}.etcd.${k}" e.${k}) [
        "keyFile"
        "usernameFile"
        "passwordFile"
      ]
      ++ secretProblem "${o}.encryptionKeyFile" c.encryptionKeyFile
      ++ optional (
        c.http01.enable && builtins.match "/[^[:space:]%\"\\]*|[^[:space:]/%\"\\]+:[0-9]+" c.http01.listen == null
      ) "${o}.http01.listen: expected \"IP:port\" or an absolute socket path (the web servers forward to it), got \"${c.http01.listen}\"."
      ++ concatMap (
        n:
        optional ((effectiveOf n) ? listenTLS) "${certOpt n}.listenTLS: tls-alpn-01 cannot work in cluster mode (the CA's TLS connection must reach the host holding the challenge certificate): use webroot or listenHTTP (with the http-01 responder) or dnsProvider."
      ) (attrNames cfg.certs)
    );

  webServerProblems = concatMap (
    s:
    concatMap (
      u:
      let
        vh = "services.${s.name}.virtualHosts.\"${u.vhostName}\"";
      in
      optional u.both "${vh}: enableACMERenew and useACMERenewHost are mutually exclusive (enableACMERenew declares a certificate of its own; useACMERenewHost serves one declared in services.acme-renew.certs)."
      ++ optional (
        u.byName && !(cfg.certs ? ${u.cert})
      ) "${vh}.useACMERenewHost = \"${u.cert}\": there is no such certificate: declare ${certOpt u.cert} (or set enableACMERenew = true to have one made for this virtual host's names). Declared: ${concatStringsSep ", " (attrNames cfg.certs)}."
    ) s.uses
  ) webServers;

  groupProblems = concatMap (
    n:
    let
      groups = serverGroups n;
      servers = serversOf n;
    in
    optional (cfg.certs.${n}.group == null && length groups > 1) "${certOpt n}: served by ${concatStringsSep " and " (map (s: "${s.name} (group ${s.group})") servers)}, but a key file has one group: set ${certOpt n}.group (the web servers get it as a supplementary group)."
  ) (attrNames cfg.certs);

  # Web servers that need the key group as a supplementary group (a group not their own).
  extraGroupsOf = s: filter (g: g != null && g != s.group) (map (n: (effectiveOf n).group or null) s.certs);
  declaredCertsOf = s: filter (n: cfg.certs ? ${n}) s.certs;
in
{
  options = {
    services.acme-renew = {
      package = mkOption {
        type = types.package;
        default = pkgs.callPackage ./package.nix { };
        defaultText = literalExpression "pkgs.callPackage ./nix/package.nix { }";
        description = "The acme-renew package.";
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
          long only by renewals that talk to the CA. Waiting for a slot never times a unit out.
        '';
      };

      migrateFromSecurityAcme = mkOption {
        type = types.bool;
        default = false;
        description = "Default of every certificate's migrateFrom: \"/var/lib/acme/<name>\" (security.acme's directory), copied once into acme-renew's empty state directory. See nix/README.md.";
      };

      useRoot = mkOption {
        type = types.bool;
        default = false;
        visible = false;
        description = "security.acme's useRoot: not supported (an assertion says what to do instead).";
      };

      defaults = mkOption {
        type = types.submodule { options = inheritableOptions; };
        default = { };
        description = "Defaults inherited by every certificate (written to /etc/acme-renew/defaults.json; unit-level ones applied per unit) unless it sets inheritDefaults = false.";
      };

      certs = mkOption {
        type = types.attrsOf (
          types.submodule [
            { options = inheritableOptions; }
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
              dnsProvider = "cloudflare";
              credentialFiles.CF_DNS_API_TOKEN_FILE = "/run/secrets/cloudflare-token";
            };
          }
        '';
        description = ''
          Certificates: /etc/acme-renew/<name>.json; files in /var/lib/acme-renew/<name>/
          (`directory`). A service using one: Wants= and After= acme-renew-ready-<name>.service
          (useACMERenewHost and enableACMERenew do it for nginx, httpd, caddy); the renewal is
          acme-renew@<name>.service (after boot, after a switch that changed the certificate,
          hourly by acme-renew-<name>.timer).
        '';
      };

      metrics = {
        enable = mkEnableOption "node_exporter textfile metrics of all certificates (acme-renew status --prometheus)";
        textfileDirectory = mkOption {
          type = types.str;
          example = "/var/lib/prometheus-node-exporter-text-files";
          description = ''
            node_exporter's textfile collector directory (--collector.textfile.directory): the
            module writes acme-renew.prom there as user acme-renew (ReadWritePaths=), creates the
            directory if it is missing and grants acme-renew write access with a POSIX ACL
            (systemd-tmpfiles `a+`; ZFS needs acltype=posixacl).
          '';
        };
        interval = mkOption {
          type = types.str;
          default = "*:0/5";
          description = "OnCalendar= of the metrics timer (also once a minute after boot).";
        };
      };

      # Cluster mode (docs/cluster.md): the program's `cluster` field, host-wide.
      cluster = {
        enable = mkEnableOption "cluster mode: the hosts of a cluster share one certificate, one ACME account and one renewal state per certificate through etcd v3 (docs/cluster.md)";
        etcd = {
          endpoints = mkOption {
            type = types.listOf types.str;
            default = [ ];
            example = [
              "https://etcd1.example.net:2379"
              "https://etcd2.example.net:2379"
            ];
            description = "etcd client URLs (`scheme://host:port`).";
          };
          caFile = mkOption (
            unset
            // {
              type = nullOr types.path;
              description = "PEM CA certificate(s) of etcd's TLS (public: a Nix path is copied into the store). null: the system trust store.";
            }
          );
          certFile = mkOption (
            unset
            // {
              type = nullOr types.path;
              description = "TLS client certificate for etcd (public), with keyFile.";
            }
          );
          keyFile = secretFileOption {
            example = "/run/secrets/etcd-client.key";
            description = "TLS client key for etcd: an absolute path string (a secret, never in the store), readable by user acme-renew.";
          };
          usernameFile = secretFileOption {
            description = "File holding the etcd user name (with passwordFile): an absolute path string, readable by user acme-renew.";
          };
          passwordFile = secretFileOption {
            example = "/run/secrets/etcd-password";
            description = "File holding the etcd password: an absolute path string (a secret), readable by user acme-renew.";
          };
        };
        prefix = mkOption {
          type = types.str;
          default = "/acme-renew";
          description = "Key prefix in etcd; the same on every host of the cluster.";
        };
        encryptionKeyFile = secretFileOption {
          example = "/run/secrets/acme-renew-cluster.key";
          description = "Key that encrypts private keys stored in etcd (AES-256-GCM; never sent to etcd): the same file on every host, an absolute path string (a secret), readable by user acme-renew. Required.";
        };
        standaloneWhenUnreachable = mkOption {
          type = types.bool;
          default = true;
          description = "With etcd unreachable, issue alone when the local certificate is missing or in its last 10 % of lifetime (published once etcd is back); else exit 75 while valid.";
        };
        http01 = {
          enable = mkOption {
            type = types.bool;
            default = cfg.cluster.enable;
            defaultText = literalExpression "config.services.acme-renew.cluster.enable";
            description = ''
              The cluster's http-01 responder: acme-renew-http01.socket (socket-activated
              acme-renew-http01.service, `acme-renew serve-http01`) answers
              `/.well-known/acme-challenge/<token>` from etcd, so that the CA may validate on
              any host. Web servers wired with useACMERenewHost/enableACMERenew (nginx, caddy)
              forward that location to it.
            '';
          };
          listen = mkOption {
            type = types.str;
            default = "127.0.0.1:8403";
            example = "/run/acme-renew-http01.sock";
            description = "ListenStream= of acme-renew-http01.socket: `IP:port` or an absolute path (a unix socket); the web servers forward to it.";
          };
        };
      };
    };

    services.nginx.virtualHosts = mkOption {
      type = types.attrsOf (types.submodule (serverDefs.nginx.vhost serverDefs.nginx));
    };
    services.httpd.virtualHosts = mkOption {
      type = types.attrsOf (types.submodule (serverDefs.httpd.vhost serverDefs.httpd));
    };
    services.caddy.virtualHosts = mkOption {
      type = types.attrsOf (types.submodule (serverDefs.caddy.vhost serverDefs.caddy));
    };
  };

  config = mkMerge [
    # enableACMERenew: the vhosts' certificates (outside the mkIf below, which tests for them).
    { services.acme-renew.certs = mkMerge declaredByVhosts; }

    # Web servers: wait for the ready units of the certificates they serve (never Requires=),
    # start before their renewals (a webroot challenge finds them serving), read the key.
    {
      systemd.services = mkMerge (
        map (
          s:
          let
            certs = declaredCertsOf s;
            groups = unique (extraGroupsOf s);
          in
          {
            ${s.name} = mkIf (certs != [ ]) {
              wants = map (n: "${readyName n}.service") certs;
              after = map (n: "${readyName n}.service") certs;
              before = map renewUnit certs;
              serviceConfig = mkIf (groups != [ ]) { SupplementaryGroups = groups; };
            };
          }
        ) webServers
      );
    }

    {
      assertions =
        map
          (message: {
            assertion = false;
            inherit message;
          })
          (
            arLib.problems {
              inherit (cfg) acceptTerms defaults;
              certs = certsIn;
            }
            ++ unsupportedSet "services.acme-renew.defaults" cfg.defaults
            ++ concatMap (n: unsupportedSet (certOpt n) cfg.certs.${n}) (attrNames cfg.certs)
            ++ webServerProblems
            ++ groupProblems
            ++ clusterProblems
            ++ secretsOf "services.acme-renew.defaults" cfg.defaults
            ++ concatMap (n: secretsOf (certOpt n) cfg.certs.${n}) (attrNames cfg.certs)
            ++ optional cfg.useRoot "services.acme-renew.useRoot (from security.acme) is not supported: acme-renew always runs as user acme-renew, and nothing of it as root. For a service that wants root-owned certificates, give it the key through group (0640 to that group) or copy the files in that service's ExecStartPre=."
            ++ optional (cfg.metrics.enable && cfg.certs ? metrics) "${certOpt "metrics"}: the name \"metrics\" is taken by acme-renew-metrics.timer (services.acme-renew.metrics.enable): rename the certificate."
            ++ optional (
              cfg.metrics.enable && builtins.match "/[^[:space:]%\"\\]*" cfg.metrics.textfileDirectory == null
            ) "services.acme-renew.metrics.textfileDirectory: must be an absolute path without spaces, quotes or '%' (it goes into ExecStart=), got \"${cfg.metrics.textfileDirectory}\"."
          )
        ++ concatMap (
          n:
          let
            creds = pick cfg.certs.${n} "credentialFiles";
          in
          map (k: {
            assertion = builtins.match "[A-Za-z_][A-Za-z0-9_]*_FILE" k != null;
            message = "${certOpt n}.credentialFiles: \"${k}\" is not an environment variable name ending in _FILE (as in security.acme: the provider reads VAR from the file VAR_FILE names, e.g. RFC2136_TSIG_SECRET_FILE).";
          }) (if creds == null then [ ] else attrNames creds)
        ) (attrNames cfg.certs);

      warnings =
        optional (cfg.defaults.enableDebugLogs != null || builtins.any (c: c.enableDebugLogs != null) (builtins.attrValues cfg.certs)) "services.acme-renew: enableDebugLogs (from security.acme) has no effect: acme-renew logs every event to the journal (journalctl -u 'acme-renew@*')."
        ++ optional (cfg.defaults.credentialsFile != null) "The option `services.acme-renew.defaults.credentialsFile' has been renamed to `services.acme-renew.defaults.environmentFile' (as in security.acme)."
        ++ concatMap (
          n: optional (cfg.certs.${n}.credentialsFile != null) "The option `${certOpt n}.credentialsFile' has been renamed to `${certOpt n}.environmentFile' (as in security.acme)."
        ) (attrNames cfg.certs)
        ++ concatMap (
          where: optional (where.o.ocspMustStaple or null == true) "${where.name}.ocspMustStaple = true (from security.acme): accepted, but no must-staple certificate is requested: Let's Encrypt has refused OCSP Must-Staple requests since 2025 (it ended its OCSP service). Remove the option."
        ) (
          [
            {
              name = "services.acme-renew.defaults";
              o = cfg.defaults;
            }
          ]
          ++ mapAttrsToList (n: c: {
            name = certOpt n;
            o = c;
          }) cfg.certs
        )
        ++ optional (http01On && builtins.any (s: s.name == "httpd" && s.certs != [ ]) webServers) "services.acme-renew.cluster.http01: httpd's virtual hosts still serve /.well-known/acme-challenge/ from the webroot; forward it to the responder (${http01Target}) yourself (ProxyPass) so that the CA can validate on every host."
        ++ optional (
          reloadUnits != [ ] && !config.security.polkit.enable
        ) "services.acme-renew: reloadServices (${toString reloadUnits}) need polkit (security.polkit.enable = false): reloads will fail, the run exits 75 and logs hook-failed, and the services keep the old certificate until reloaded.";
    }

    (mkIf (cfg.certs != { }) {
      users.users.${user} = {
        isSystemUser = true;
        group = user;
        home = stateDir;
        description = "ACME certificate renewal";
      };
      users.groups.${user} = { };

      environment.systemPackages = [ cfg.package ];

      environment.etc = mapAttrs' (f: _: nameValuePair "acme-renew/${f}" { source = "${validatedConfig}/${f}"; }) configFiles;

      systemd.services =
        {
          "acme-renew@" = renewTemplate;
        }
        // mapAttrs' (n: c: nameValuePair "acme-renew@${n}" (renewDropIn n c)) cfg.certs
        // mapAttrs' (n: c: nameValuePair (readyName n) (readyUnit n c)) cfg.certs
        // mapAttrs' (n: c: nameValuePair (migrateName n) (migrateService n c)) (filterAttrs (_: c: c.migrateFrom != null) cfg.certs);

      systemd.timers = mapAttrs' (n: c: nameValuePair (timerName n) (certTimer n c)) cfg.certs;

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

    (mkIf (cfg.certs != { } && http01On) {
      systemd.sockets.${http01Name} = http01Socket;
      systemd.services.${http01Name} = http01Service;
    })

    (mkIf cfg.metrics.enable {
      systemd.services.${metricsName} = metricsService;
      systemd.timers.${metricsName} = metricsTimer;
      systemd.tmpfiles.rules = [
        "d ${cfg.metrics.textfileDirectory} - - - -"
        "a+ ${cfg.metrics.textfileDirectory} - - - - u:${user}:rwx"
      ];
    })
  ];
}
