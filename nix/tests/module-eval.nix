# Evaluates nix/module.nix with the real module system (nixpkgs `lib`) but WITHOUT NixOS: the
# NixOS options the module sets or reads are stubs (nixos-stub.nix), `pkgs` a stub whose
# "packages" are plain store-path strings. Nothing is built.
#
# What it checks: every option of the module (a check below fails when an option is added without
# being exercised here), the assertions, the definitions the module merges into nginx/httpd/caddy,
# the units — their graph (what boot and a switch wait for), their exit codes, their sandbox
# compared key for key with the unit files in systemd/ — the /etc files and the polkit rule. What
# it cannot check: NixOS's own rendering of units, the real packages, anything at run time — that
# is nix/tests/vm.nix.
#
#   nix-instantiate --eval --strict --json nix/tests/module-eval.nix --arg lib 'import /path/to/nixpkgs/lib'
#
# scripts/check-nix.sh runs it (ACME_RENEW_NIXPKGS_LIB, ../shared/nixpkgs.lib/lib next to the
# checkout, or <nixpkgs> on NIX_PATH). Evaluates to the list of failed checks ([] = all pass).
# Labels "#N" are the items of the issue that asked for them (issue 16 of this repository).
{
  lib,
  # The unit files the module's units are compared with.
  systemdDir ? ../../systemd,
  # A number: only that check, as { label; failure; } (to run the checks one by one, e.g.
  # against an older module.nix, where one error would otherwise stop them all).
  only ? null,
}:
let
  inherit (builtins)
    attrNames
    elem
    filter
    length
    toJSON
    ;
  stub = import ./nixos-stub.nix { inherit lib; };
  arLib = import ../lib.nix;

  evalWith =
    modules:
    lib.evalModules {
      modules = [
        stub.module
        ../module.nix
        { _module.args.pkgs = stub.pkgs; }
      ]
      ++ modules;
    };
  eval = configuration: (evalWith [ configuration ]).config;

  # A value, or the message of the error evaluating it: a check on a configuration the module
  # rejects (an unknown option, conflicting definitions) fails as a check, not the whole file.
  try =
    v:
    let
      r = builtins.tryEval (builtins.deepSeq v v);
    in
    if r.success then r.value else "<evaluation failed>";

  failedAssertions = c: map (a: a.message) (filter (a: !a.assertion) c.assertions);
  mentions = needle: msgs: builtins.any (m: builtins.match ".*${needle}.*" m != null) msgs;

  # A check: its label, and null or what failed.
  eq = label: actual: expected: {
    inherit label;
    failure = if try actual == expected then null else "${label}: expected ${toJSON expected}, got ${toJSON (try actual)}";
  };
  true' = label: v: {
    inherit label;
    failure = if try v == true then null else "${label}: false (${toJSON (try v)})";
  };
  asserts = name: needle: c: true' "${name}: an assertion mentioning \"${needle}\" (got ${toJSON (try (failedAssertions c))})" (mentions needle (failedAssertions c));
  noAssertions = name: c: eq "${name}: no failed assertions" (failedAssertions c) [ ];

  fixture = import ../fixtures/example-certs.nix;
  fixtureCerts = builtins.mapAttrs (_: c: removeAttrs c [ "extraReloadServices" ]) fixture.certs;
  fixtureFiles = builtins.listToAttrs (
    map (f: {
      name = f;
      value = builtins.fromJSON (builtins.readFile (../fixtures + "/${f}"));
    }) (filter (f: builtins.match ".*\\.json" f != null) (attrNames (builtins.readDir ../fixtures)))
  );

  ok = {
    acceptTerms = true;
  };

  # ------------------------------------------------------------------------------------------
  # The configurations. Every one is listed in `cases`, so that the coverage check below sees
  # which options they set.

  # The fixture as a NixOS configuration, plus nginx and caddy serving two of its certificates.
  mainCfg = {
    services.acme-renew = {
      inherit (fixture) acceptTerms defaults;
      certs = fixtureCerts;
    };
    services.nginx.enable = true;
    services.nginx.virtualHosts."example.com" = {
      addSSL = true;
      useACMERenewHost = "example.com";
    };
    services.caddy.enable = true;
    services.caddy.virtualHosts."shop.example.com".useACMERenewHost = "shop.example.com";
  };
  # The same with new names for example.com: what `nixos-rebuild switch` compares.
  namesChangedCfg = lib.recursiveUpdate mainCfg {
    services.acme-renew.certs."example.com".extraDomainNames = [
      "www.example.com"
      "shop2.example.com"
    ];
  };

  webrootCert = ok // {
    defaults.webroot = "/var/lib/acme-renew-challenges";
  };

  # #7: a typo in useACMERenewHost.
  typoCfg = {
    services.acme-renew = webrootCert // {
      certs."example.com" = { };
    };
    services.nginx.enable = true;
    services.nginx.virtualHosts."example.com".useACMERenewHost = "exmaple.com";
  };
  # #8: one certificate, two web servers of different groups.
  twoServers = group: {
    services.acme-renew = webrootCert // {
      certs."example.com" = lib.optionalAttrs (group != null) { inherit group; };
    };
    services.nginx.enable = true;
    services.nginx.virtualHosts."example.com".useACMERenewHost = "example.com";
    services.caddy.enable = true;
    services.caddy.virtualHosts."example.com".useACMERenewHost = "example.com";
  };
  twoServersNoGroupCfg = twoServers null;
  twoServersGroupCfg = twoServers "webcerts";
  twoServersSameGroupCfg = lib.recursiveUpdate (twoServers null) {
    services.nginx.group = "web";
    services.caddy.group = "web";
  };

  # Fidelity: enableACMERenew (nginx: serverName + aliases; httpd: hostName), acmeRenewRoot.
  enableCfg = {
    services.acme-renew = ok;
    services.nginx.enable = true;
    services.nginx.virtualHosts.site = {
      serverName = "example.com";
      serverAliases = [ "www.example.com" ];
      forceSSL = true;
      enableACMERenew = true;
    };
    services.nginx.virtualHosts.other = {
      enableACMERenew = true;
      acmeRenewRoot = "/srv/acme";
    };
    services.httpd.enable = true;
    services.httpd.virtualHosts.apache = {
      hostName = "apache.example.com";
      enableACMERenew = true;
    };
  };
  # acmeRenewRoot = null: the challenge comes from the defaults (here dns-01).
  enableDnsCfg = {
    services.acme-renew = ok // {
      defaults.dnsHook = "/etc/acme-renew/dns-hook";
    };
    services.nginx.enable = true;
    services.nginx.virtualHosts."example.com" = {
      enableACMERenew = true;
      acmeRenewRoot = null;
    };
  };
  bothCfg = {
    services.acme-renew = webrootCert // {
      certs."example.com" = { };
    };
    services.nginx.enable = true;
    services.nginx.virtualHosts."example.com" = {
      enableACMERenew = true;
      useACMERenewHost = "example.com";
    };
  };
  disabledServerCfg = {
    services.acme-renew = webrootCert // {
      certs."example.com" = { };
    };
    services.nginx.virtualHosts."example.com".useACMERenewHost = "nowhere.example";
  };

  metricsCfg = {
    services.acme-renew = webrootCert // {
      certs."example.com" = { };
      metrics = {
        enable = true;
        textfileDirectory = "/var/lib/node-exporter";
        interval = "*:0/2";
      };
    };
  };

  # Every option of a certificate set at least once, none of them to its default.
  everythingCfg = {
    services.acme-renew = {
      package = stub.fakePkg "acme-renew-custom";
      acceptTerms = true;
      maxConcurrentRenewals = 2;
      migrateFromSecurityAcme = true;
      useRoot = false;
      defaults = {
        email = "ops@example.com";
        renewInterval = "*-*-* 03:00:00";
        environmentFile = "/run/secrets/defaults.env";
        credentialFiles.DEFAULT_TOKEN_FILE = "/run/secrets/default-token";
        reloadServices = [ "default.service" ];
      };
      certs.all = {
        domain = "all.example.com";
        extraDomainNames = [ "www.all.example.com" ];
        inheritDefaults = false;
        migrateFrom = "/var/lib/acme/all.example.com";
        email = "all@example.com";
        server = "https://ca.example.com/dir";
        caBundle = "/etc/ssl/private-ca.pem";
        keyType = "rsa8192";
        reuseKey = true;
        validMinDays = 20;
        dnsHook = "/etc/acme-renew/dns-hook";
        dnsResolver = "192.0.2.53:53";
        dnsPropagationTimeout = 30;
        dnsPropagationCheck = true;
        ocspMustStaple = false;
        reloadServices = [ "postfix" ];
        postRun = "true";
        group = "mail";
        profile = "shortlived";
        preferredChain = "ISRG Root X2";
        eab = {
          kid = "kid";
          hmacKeyFile = "/run/secrets/eab";
        };
        ari = false;
        placeholder = false;
        keepVersions = 7;
        timeout = 120;
        hookTimeout = 15;
        environmentFile = "/run/secrets/all.env";
        credentialFiles.TSIG_FILE = "/run/secrets/tsig";
        renewInterval = "weekly";
      };
      # The challenge options not used above, each on a certificate of its own.
      certs.web.webroot = "/srv/web";
      certs.http.listenHTTP = ":80";
      certs.tls.listenTLS = ":8443";
      # dns-01 through a lego provider (issue 12), credentials the security.acme way.
      certs.dns = {
        domain = "*.dns.example.com";
        dnsProvider = "cloudflare";
        environmentFile = "/run/secrets/cloudflare.env";
        credentialFiles.CF_DNS_API_TOKEN_FILE = "/run/secrets/cf-token";
      };
    };
  };

  # Every inheritable option in the defaults (the challenge: one at a time, see the certificates).
  everythingDefaultsCfg = {
    services.acme-renew = {
      acceptTerms = true;
      defaults = {
        email = "d@example.com";
        server = "https://ca.example.com/dir";
        caBundle = "/etc/ssl/private-ca.pem";
        keyType = "ec384";
        reuseKey = true;
        validMinDays = "auto";
        listenHTTP = "[::]:8080";
        dnsResolver = "192.0.2.53:53";
        dnsPropagationCheck = false;
        reloadServices = [ "d.service" ];
        postRun = "echo renewed";
        group = "certs";
        profile = "classic";
        preferredChain = "ISRG Root X1";
        eab = {
          kid = "d-kid";
          hmacKeyFile = "/run/secrets/d-eab";
        };
        ari = true;
        placeholder = true;
        keepVersions = 2;
        timeout = 900;
        hookTimeout = 5;
        dnsPropagationTimeout = 10;
      };
      certs."d.example" = { };
      certs."tls.example" = {
        listenTLS = "127.0.0.1:8443";
        inheritDefaults = true;
      };
    };
  };
  # httpd through useACMERenewHost, with a certificate that has no webroot.
  httpdCfg = {
    services.acme-renew = ok // {
      certs."example.com".listenHTTP = "127.0.0.1:8080";
    };
    services.httpd.enable = true;
    services.httpd.virtualHosts.site = {
      useACMERenewHost = "example.com";
      acmeRenewRoot = "/unused"; # only enableACMERenew reads it
    };
  };
  # The challenge listenTLS from the defaults, on a low port: the capability follows the
  # effective value.
  tlsDefaultsCfg = {
    services.acme-renew = ok // {
      defaults.listenTLS = ":443";
      certs."example.com" = { };
    };
  };
  directorySetCfg = lib.recursiveUpdate mainCfg { services.acme-renew.certs."example.com".directory = "/x"; };

  # security.acme options acme-renew does not support, and the renamed one.
  unsupportedCfg = opt: value: {
    services.acme-renew = webrootCert // {
      certs."example.com".${opt} = value;
    };
  };
  unsupportedValues = {
    extraLegoFlags = [ "--foo" ];
    extraLegoRunFlags = [ "--foo" ];
    extraLegoRenewFlags = [ "--foo" ];
    s3Bucket = "bucket";
    csr = "/etc/csr.pem";
    csrKey = "/etc/csr.key";
  };
  unsupportedDefaultsCfg = unsupportedDefaults "s3Bucket" "bucket";
  unsupportedDefaults = opt: value: {
    services.acme-renew = webrootCert // {
      defaults.${opt} = value;
      certs."example.com" = { };
    };
  };
  debugLogsCfg = {
    services.acme-renew = webrootCert // {
      defaults.enableDebugLogs = true;
      certs."example.com" = { };
    };
  };
  debugLogsCertCfg = {
    services.acme-renew = webrootCert // {
      certs."example.com".enableDebugLogs = true;
    };
  };
  credentialsFileCfg = {
    services.acme-renew = ok // {
      defaults.credentialsFile = "/run/secrets/defaults-old.env";
      certs."example.com" = {
        dnsHook = "/h";
        credentialsFile = "/run/secrets/old-name.env";
      };
      certs."inherits".dnsHook = "/h";
    };
  };
  useRootCfg = {
    services.acme-renew = webrootCert // {
      useRoot = true;
      certs."example.com" = { };
    };
  };
  noSlotsCfg = {
    services.acme-renew = webrootCert // {
      maxConcurrentRenewals = 0;
      certs."example.com" = { };
    };
  };
  metricsNamedCfg = lib.recursiveUpdate metricsCfg { services.acme-renew.certs.metrics = { }; };
  metricsRelativeCfg = lib.recursiveUpdate metricsCfg { services.acme-renew.metrics.textfileDirectory = "node-exporter"; };
  polkitOffCfg = {
    services.acme-renew = webrootCert // {
      certs."example.com".reloadServices = [ "nginx" ];
    };
    security.polkit.enable = lib.mkForce false;
  };

  # --- issue 12: dns-01 through a lego provider, from the defaults -------------------------------
  dnsDefaultsCfg = {
    services.acme-renew = ok // {
      defaults = {
        dnsProvider = "rfc2136";
        dnsResolver = "192.0.2.53:53,192.0.2.54";
        environmentFile = "/run/secrets/rfc2136.env";
        credentialFiles.RFC2136_TSIG_SECRET_FILE = "/run/secrets/tsig";
        ocspMustStaple = true;
      };
      certs."wild.example.org".domain = "*.example.org";
      # a certificate's own challenge replaces the defaults' provider, and its credentials
      certs."www.example.org" = {
        webroot = "/srv/www";
        credentialFiles = { };
      };
    };
  };
  ocspCertCfg = {
    services.acme-renew = webrootCert // {
      certs."example.com".ocspMustStaple = true;
    };
  };
  # Secrets as Nix paths or store paths: assertions, never a store copy.
  secretsInStoreCfg = {
    services.acme-renew = ok // {
      defaults.environmentFile = ./nixos-stub.nix; # any path literal
      certs."a.example" = {
        dnsProvider = "cloudflare";
        credentialFiles.CF_DNS_API_TOKEN_FILE = "/nix/store/00000000000000000000000000000000-token";
      };
    };
  };

  # --- issue 13: cluster mode ---------------------------------------------------------------------
  clusterOpts = {
    enable = true;
    etcd = {
      endpoints = [
        "https://etcd1.example.net:2379"
        "https://etcd2.example.net:2379"
      ];
      caFile = "/etc/ssl/etcd-ca.pem";
      certFile = "/etc/ssl/etcd-client.pem";
      keyFile = "/run/secrets/etcd-client.key";
      usernameFile = "/run/secrets/etcd-user";
      passwordFile = "/run/secrets/etcd-password";
    };
    prefix = "/acme-renew/web";
    encryptionKeyFile = "/run/secrets/cluster.key";
    standaloneWhenUnreachable = false;
    http01 = {
      enable = true;
      listen = "127.0.0.1:8403";
    };
  };
  clusterCfg = {
    services.acme-renew = webrootCert // {
      cluster = clusterOpts;
      certs."example.com" = { };
      certs."alone.example.com" = {
        inheritDefaults = false;
        listenHTTP = ":8080";
      };
    };
    services.nginx.enable = true;
    services.nginx.virtualHosts."example.com".useACMERenewHost = "example.com";
    services.caddy.enable = true;
    services.caddy.virtualHosts."alone.example.com".useACMERenewHost = "alone.example.com";
  };
  # The minimum: endpoints and the key; the responder on a unix socket; httpd (not forwarded).
  clusterUnixCfg = {
    services.acme-renew = webrootCert // {
      cluster = {
        enable = true;
        etcd.endpoints = [ "http://127.0.0.1:2379" ];
        encryptionKeyFile = "/run/secrets/cluster.key";
        http01.listen = "/run/acme-renew-http01.sock";
      };
      certs."example.com" = { };
    };
    services.nginx.enable = true;
    services.nginx.virtualHosts."example.com".useACMERenewHost = "example.com";
    services.httpd.enable = true;
    services.httpd.virtualHosts."example.com".useACMERenewHost = "example.com";
  };
  clusterNoHttp01Cfg = lib.recursiveUpdate clusterCfg { services.acme-renew.cluster.http01.enable = false; };
  clusterBadCfg = {
    services.acme-renew = ok // {
      cluster = {
        enable = true;
        etcd.certFile = "/etc/ssl/etcd-client.pem";
        etcd.passwordFile = "/nix/store/00000000000000000000000000000000-password";
        http01.listen = "[::]:8403 x";
      };
      certs."tls.example.com".listenTLS = ":443";
    };
  };

  cases = [
    dnsDefaultsCfg
    secretsInStoreCfg
    ocspCertCfg
    clusterCfg
    clusterUnixCfg
    clusterNoHttp01Cfg
    clusterBadCfg
    mainCfg
    namesChangedCfg
    typoCfg
    twoServersNoGroupCfg
    twoServersGroupCfg
    twoServersSameGroupCfg
    enableCfg
    enableDnsCfg
    bothCfg
    disabledServerCfg
    metricsCfg
    everythingCfg
    unsupportedDefaultsCfg
    debugLogsCfg
    credentialsFileCfg
    useRootCfg
    noSlotsCfg
    metricsNamedCfg
    metricsRelativeCfg
    polkitOffCfg
    everythingDefaultsCfg
    httpdCfg
    directorySetCfg
    debugLogsCertCfg
    tlsDefaultsCfg
  ]
  ++ lib.mapAttrsToList unsupportedCfg unsupportedValues
  ++ lib.mapAttrsToList unsupportedDefaults (removeAttrs unsupportedValues [ "csr" "csrKey" ]);

  main = eval mainCfg;
  svc = main.systemd.services;
  timers = main.systemd.timers;
  renew = n: svc."acme-renew@${n}";
  ready = n: svc."acme-renew-ready-${n}";
  template = svc."acme-renew@";
  changed = eval namesChangedCfg;
  everything = eval everythingCfg;
  enable = eval enableCfg;
  metrics = eval metricsCfg;

  # ------------------------------------------------------------------------------------------
  # The unit files in systemd/, parsed: { <Section> = { <Key> = [ words… ]; }; } (repeated keys
  # accumulate, an empty assignment resets, booleans as "yes"/"no").

  bools = {
    "true" = "yes";
    "on" = "yes";
    "1" = "yes";
    "false" = "no";
    "off" = "no";
    "0" = "no";
  };
  # Words of a value; a one-word boolean as "yes"/"no".
  words =
    s:
    let
      ws = filter (w: builtins.isString w && w != "") (builtins.split "[ \t]+" s);
    in
    if length ws == 1 then [ (bools.${builtins.head ws} or (builtins.head ws)) ] else ws;
  parseUnitFile =
    file:
    let
      lines = filter (l: l != "" && builtins.substring 0 1 l != "#" && builtins.substring 0 1 l != ";") (
        map lib.trim (lib.splitString "\n" (builtins.readFile file))
      );
      step =
        acc: l:
        let
          section = builtins.match "\\[(.*)]" l;
          kv = builtins.match "([A-Za-z0-9]+)=(.*)" l;
          key = builtins.elemAt kv 0;
          value = words (builtins.elemAt kv 1);
          old = acc.units.${acc.section}.${key} or [ ];
        in
        if section != null then
          acc // { section = builtins.head section; }
        else if kv == null then
          acc
        else
          acc
          // {
            units = lib.recursiveUpdate acc.units {
              ${acc.section}.${key} = if value == [ ] then [ ] else old ++ value;
            };
          };
    in
    (builtins.foldl' step {
      section = "";
      units = { };
    } lines).units;

  # A value of the module's units in the same form.
  norm =
    v:
    if builtins.isBool v then
      [ (if v then "yes" else "no") ]
    else if builtins.isList v then
      builtins.concatMap norm v
    else if builtins.isInt v then
      [ (toString v) ]
    else
      words v;

  # Every key of the file's section has the module's value, except `differs` (with the reason
  # in the name); every key the module sets is in the file, except `adds`.
  sameAs =
    {
      label,
      file,
      section,
      attrs,
      differs ? { },
      adds ? [ ],
    }:
    let
      f = (parseUnitFile file).${section} or { };
      fileKeys = filter (k: !(differs ? ${k})) (attrNames f);
      moduleKeys = filter (k: !(elem k adds) && !(differs ? ${k})) (attrNames attrs);
    in
    map (k: eq "${label} [${section}] ${k}= as in ${toString file}" (norm (attrs.${k} or [ ])) f.${k}) fileKeys
    ++ [
      (eq "${label} [${section}]: keys the module sets that ${toString file} does not have" (filter (k: !(f ? ${k})) moduleKeys) [ ])
    ];

  unitFile = name: systemdDir + "/${name}";
  subst = n: s: builtins.replaceStrings [ "%i" ] [ n ] s;

  # ------------------------------------------------------------------------------------------
  # The coverage of the options: every option the module declares is set by some case.

  declared = (evalWith [ ]).options;
  stubOnly = (lib.evalModules { modules = [ stub.module ]; }).options;
  optionNames = o: filter (k: builtins.substring 0 1 k != "_") (attrNames o);
  subOptions = o: optionNames (o.type.getSubOptions [ ]);
  setIn = path: lib.unique (builtins.concatMap (c: attrNames (lib.attrByPath path { } c)) cases);
  setInAll = pathToSet: lib.unique (builtins.concatMap (c: builtins.concatMap attrNames (builtins.attrValues (lib.attrByPath pathToSet { } c))) cases);
  vhostOptionsOf = server: lib.subtractLists (subOptions stubOnly.services.${server}.virtualHosts) (subOptions declared.services.${server}.virtualHosts);
  uncovered = {
    "services.acme-renew" = lib.subtractLists (setIn [ "services" "acme-renew" ]) (optionNames declared.services.acme-renew);
    "services.acme-renew.defaults" = lib.subtractLists (setIn [ "services" "acme-renew" "defaults" ]) (subOptions declared.services.acme-renew.defaults);
    "services.acme-renew.certs.<name>" = lib.subtractLists (setInAll [ "services" "acme-renew" "certs" ]) (subOptions declared.services.acme-renew.certs);
    "services.acme-renew.metrics" = lib.subtractLists (setIn [ "services" "acme-renew" "metrics" ]) (optionNames declared.services.acme-renew.metrics);
  }
  // lib.genAttrs clusterGroups (
    g: lib.subtractLists (setIn ([ "services" "acme-renew" ] ++ lib.splitString "." g)) (optionNames (lib.attrByPath (lib.splitString "." g) { } declared.services.acme-renew))
  )
  // lib.genAttrs [ "nginx" "httpd" "caddy" ] (
    server: lib.subtractLists (setInAll [ "services" server "virtualHosts" ]) (vhostOptionsOf server)
  );

  # services.acme-renew.cluster and its groups: every option under them (dotted, as in the README).
  clusterGroups = [
    "cluster"
    "cluster.etcd"
    "cluster.http01"
  ];
  clusterLeaves = builtins.concatMap (
    g:
    map (n: "${g}.${n}") (
      filter (n: !(elem "${g}.${n}" clusterGroups)) (optionNames (lib.attrByPath (lib.splitString "." g) { } declared.services.acme-renew))
    )
  ) clusterGroups;

  # nix/README.md's option table (the "### Options" section) names every option of the module.
  readmeOptions = builtins.head (lib.splitString "### Keeping" (lib.last (lib.splitString "### Options" (builtins.readFile ../README.md))));
  inReadme = n: builtins.match ".*[`.]${n}`.*" (builtins.replaceStrings [ "\n" ] [ " " ] readmeOptions) != null;
  notInReadme = lib.unique (
    filter (n: !inReadme n) (
      lib.subtractLists [ "metrics" "cluster" ] (optionNames declared.services.acme-renew)
      ++ subOptions declared.services.acme-renew.defaults
      ++ subOptions declared.services.acme-renew.certs
      ++ builtins.concatMap vhostOptionsOf [ "nginx" "httpd" "caddy" ]
    )
    ++ map (n: "metrics.${n}") (filter (n: !inReadme "metrics.${n}") (optionNames declared.services.acme-renew.metrics))
    ++ filter (n: !inReadme (builtins.replaceStrings [ "." ] [ "\\." ] n)) clusterLeaves
  );

  checks = [
    # --- coverage ---------------------------------------------------------------------------
    (eq "nix/README.md's option table names every option of the module" notInReadme [ ])
    (eq "every option of the module is set by one of the cases here" (lib.filterAttrs (_: v: v != [ ]) uncovered) { })
    (eq "the coverage check sees the vhost options" (map vhostOptionsOf [ "nginx" "httpd" "caddy" ]) [
      [ "acmeRenewRoot" "enableACMERenew" "useACMERenewHost" ]
      [ "acmeRenewRoot" "enableACMERenew" "useACMERenewHost" ]
      [ "useACMERenewHost" ]
    ])

    # --- the fixture --------------------------------------------------------------------------
    (noAssertions "fixture" main)
    (eq "fixture configuration: no warnings" main.warnings [ ])
    (eq "etc files" (attrNames main.environment.etc) [
      "acme-renew/defaults.json"
      "acme-renew/example.com.json"
      "acme-renew/mail.example.net.json"
      "acme-renew/shop.example.com.json"
      "acme-renew/wildcard.example.org.json"
    ])
    (eq "etc sources are the validated config dir" main.environment.etc."acme-renew/example.com.json".source
      "/nix/store/00000000000000000000000000000000-acme-renew-config/example.com.json"
    )
    # The files: the fixture's, with what the web servers add — nginx's group (the same as the
    # defaults', written since it is not inherited but the server's) and caddy's group and reload.
    (eq "evaluated options -> the fixture files (with the web servers' additions)"
      (arLib.configFiles {
        inherit (main.services.acme-renew) acceptTerms;
        defaults = main.services.acme-renew.defaults;
        certs = builtins.mapAttrs (
          n: c:
          c
          // {
            group = if n == "example.com" then "nginx" else if n == "shop.example.com" then "caddy" else c.group;
            extraReloadServices = if n == "example.com" then [ "nginx.service" ] else if n == "shop.example.com" then [ "caddy.service" ] else [ ];
          }
        ) main.services.acme-renew.certs;
      })
      (
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
      )
    )

    # --- #1 a changed certificate is re-run at switch, whatever its name ---------------------
    (eq "#1 units a switch restarts when example.com's names change (restartTriggers differ): concrete, no '@'"
      (attrNames (lib.filterAttrs (n: u: u.restartTriggers != (changed.systemd.services.${n}.restartTriggers or null)) svc))
      [ "acme-renew-ready-example.com" ]
    )
    (eq "#1 ... and that unit starts the renewal without blocking" (ready "example.com").serviceConfig.ExecStartPost
      "-+/nix/store/00000000000000000000000000000000-systemd/bin/systemctl start --no-block acme-renew@example.com.service"
    )
    (true' "#1 ... and is wanted by multi-user.target (a new certificate is started by the switch)" (elem "multi-user.target" (ready "example.com").wantedBy))
    (eq "#1 nothing of ours relies on a switch handling template instances: no '@' unit has restartTriggers or wantedBy"
      (attrNames (
        lib.filterAttrs (n: u: lib.hasInfix "@" n && (u.restartTriggers != [ ] || u.wantedBy != [ ])) (main.systemd.services // main.systemd.timers)
      ))
      [ ]
    )
    (eq "#1 restart triggers: the certificate's file + defaults.json" (builtins.length (ready "example.com").restartTriggers) 2)
    (eq "#1 inheritDefaults = false: only its own file" (builtins.length (ready "mail.example.net").restartTriggers) 1)
    (eq "#1 `systemctl start acme-renew@<name>` stays the renewal: a drop-in on the module's template" [
      (renew "example.com").overrideStrategy
      (template.serviceConfig.ExecStart or null)
    ] [ "asDropin" "${runInSlot} 5 /nix/store/00000000000000000000000000000000-acme-renew/bin/acme-renew run %i" ])

    # --- #2 web servers wait only for the ready unit, and start before the renewal ----------
    (eq "#2 nginx wants and is after exactly the ready unit" [ svc.nginx.wants svc.nginx.after ] [
      [ "acme-renew-ready-example.com.service" ]
      [ "acme-renew-ready-example.com.service" ]
    ])
    (eq "#2 caddy likewise" [ svc.caddy.wants svc.caddy.after ] [
      [ "acme-renew-ready-shop.example.com.service" ]
      [ "acme-renew-ready-shop.example.com.service" ]
    ])
    (eq "#2 nothing a web server is after orders itself after network-online.target or talks to the network"
      (builtins.concatMap (
        s:
        filter (
          u:
          let
            unit = svc.${lib.removeSuffix ".service" u} or { };
          in
          !(lib.hasInfix "ready" u) || elem "network-online.target" (unit.after or [ ]) || (unit.serviceConfig.PrivateNetwork or false) != true
        ) svc.${s}.after
      ) [ "nginx" "caddy" ])
      [ ]
    )
    (eq "#2 the web servers are before their certificates' renewal units" [ svc.nginx.before svc.caddy.before ] [
      [ "acme-renew@example.com.service" ]
      [ "acme-renew@shop.example.com.service" ]
    ])
    (eq "#2 the renewal is after the network, the ready unit (and the migration)" [
      template.wants
      template.after
      (renew "example.com").after
      (renew "mail.example.net").after
    ] [
      [ "network-online.target" ]
      [ "network-online.target" "nss-lookup.target" ]
      [ "acme-renew-ready-example.com.service" ]
      [ "acme-renew-ready-mail.example.net.service" "acme-renew-migrate-mail.example.net.service" ]
    ])
    (eq "#2 no httpd unit settings (httpd serves nothing)" (svc ? httpd) false)

    # --- #3 nixos-rebuild switch never waits on the CA ---------------------------------------
    (eq "#3 units a switch starts and waits for (wanted by multi-user.target, or restarted by triggers): none is after network-online.target, each is offline (PrivateNetwork) or the migration"
      (attrNames (
        lib.filterAttrs (
          n: u:
          (elem "multi-user.target" u.wantedBy || u.restartTriggers != [ ])
          && (elem "network-online.target" u.after || ((u.serviceConfig.PrivateNetwork or false) != true && !(lib.hasPrefix "acme-renew-migrate-" n)))
        ) svc
      ))
      [ ]
    )
    (eq "#3 the renewal template and its instances are wanted by nothing (started by the ready unit and the timer)" (builtins.concatMap (
      n: (svc.${n}.wantedBy or [ ]) ++ (svc.${n}.requiredBy or [ ])
    ) (filter (lib.hasPrefix "acme-renew@") (attrNames svc))) [ ])
    (eq "#3 the renewal is Type=exec (nothing ordered after it waits for the run)" template.serviceConfig.Type "exec")
    (eq "#3 the ready unit is a oneshot that stays active, bounded" [
      (ready "example.com").serviceConfig.Type
      (ready "example.com").serviceConfig.RemainAfterExit
      (ready "example.com").serviceConfig.TimeoutStartSec
    ] [ "oneshot" true "30s" ])
    (eq "#3 the migration is before the ready unit (no placeholder written before it copies)" svc."acme-renew-migrate-mail.example.net".before [
      "acme-renew-ready-mail.example.net.service"
    ])
    (eq "#3 ready wants and is after its migration" [ (ready "mail.example.net").wants (ready "mail.example.net").after ] [
      [ "acme-renew-migrate-mail.example.net.service" ]
      [ "acme-renew-migrate-mail.example.net.service" ]
    ])

    # --- #4 renewal slots never time out -----------------------------------------------------
    (true' "#4 maxConcurrentRenewals: the run goes through run-in-slot.sh with the slot count" (
      lib.hasInfix "acme-renew-run-in-slot 5 " template.serviceConfig.ExecStart
    ))
    (true' "#4 run-in-slot.sh sends EXTEND_TIMEOUT_USEC while it waits" (lib.hasInfix "EXTEND_TIMEOUT_USEC=" (builtins.readFile ../run-in-slot.sh)))
    (eq "#4 ... which systemd accepts from it (NotifyAccess=all); the slots dir is shared by all instances" [
      template.serviceConfig.NotifyAccess
      template.serviceConfig.RuntimeDirectory
      template.serviceConfig.RuntimeDirectoryPreserve
    ] [ "all" "acme-renew" "yes" ])
    (eq "#4 the unit's PATH has flock, getent and systemd-notify" (map toString template.path) [
      "/nix/store/00000000000000000000000000000000-systemd"
      "/nix/store/00000000000000000000000000000000-util-linux"
      "/nix/store/00000000000000000000000000000000-getent"
    ])
    (eq "#4 maxConcurrentRenewals = 0: acme-renew directly, no slots" (
      let
        t = (eval noSlotsCfg).systemd.services."acme-renew@".serviceConfig;
      in
      [ t.ExecStart (t ? RuntimeDirectory) ]
    ) [ "/nix/store/00000000000000000000000000000000-acme-renew/bin/acme-renew run %i" false ])

    # --- #5 exit codes: 0, 75 and 3 are successes, 1 (a crash) is not --------------------------
    (eq "#5 SuccessExitStatus" template.serviceConfig.SuccessExitStatus [ "75" "3" ])
    (eq "#5 exit 3 (placeholder) and 1 are retried in 15 min; 78/64 never" [
      template.serviceConfig.Restart
      template.serviceConfig.RestartForceExitStatus
      template.serviceConfig.RestartSec
      template.serviceConfig.RestartPreventExitStatus
    ] [ "on-failure" "3" "15min" [ "78" "64" ] ])
    (eq "#5 no unit of ours counts 1 as a success" (attrNames (
      lib.filterAttrs (_: u: elem "1" (lib.toList (u.serviceConfig.SuccessExitStatus or [ ]))) svc
    )) [ ])

    # --- #6 preflight without ip(8): the unit keeps what getifaddrs and /proc/net need -------
    # (the fix is in src/preflight/; test/e2e/preflight.test.ts runs it with PATH stripped)
    (true' "#6 the renewal may open netlink sockets (getifaddrs) and read /proc/net (no ProcSubset=pid)" (
      elem "AF_NETLINK" template.serviceConfig.RestrictAddressFamilies && !(template.serviceConfig ? ProcSubset)
    ))

    # --- #7 a vhost naming an undeclared certificate is an error -------------------------------
    (asserts "#7 a typo'd useACMERenewHost" "useACMERenewHost = \"exmaple.com\": there is no such certificate" (eval typoCfg))
    (eq "#7 ... and no certificate is made up for it" (attrNames (eval typoCfg).services.acme-renew.certs) [ "example.com" ])
    (eq "#7 ... nor wired into nginx" ((eval typoCfg).systemd.services ? nginx) false)
    (eq "#7 a disabled web server's vhosts are ignored" (failedAssertions (eval disabledServerCfg)) [ ])
    (asserts "#7 enableACMERenew and useACMERenewHost together" "mutually exclusive" (eval bothCfg))

    # --- #8 one certificate, two web servers --------------------------------------------------
    (asserts "#8 nginx + caddy, different groups, no group set: asks for one" "served by caddy \\(group caddy\\) and nginx \\(group nginx\\).*set services.acme-renew.certs.\"example.com\".group" (eval twoServersNoGroupCfg))
    (
      let
        c = eval twoServersGroupCfg;
        s = c.systemd.services;
      in
      eq "#8 ... with group set: no assertion, the key is the group's, both servers read it, both are reloaded, both wait for ready and start before the renewal" [
        (failedAssertions c)
        (fileOf c "example.com")
        s.nginx.serviceConfig.SupplementaryGroups
        s.caddy.serviceConfig.SupplementaryGroups
        [ s.nginx.after s.caddy.after s.nginx.before s.caddy.before ]
      ] [
        [ ]
        {
          group = "webcerts";
          reloadServices = [ "caddy.service" "nginx.service" ];
        }
        [ "webcerts" ]
        [ "webcerts" ]
        [
          [ "acme-renew-ready-example.com.service" ]
          [ "acme-renew-ready-example.com.service" ]
          [ "acme-renew@example.com.service" ]
          [ "acme-renew@example.com.service" ]
        ]
      ]
    )
    (
      let
        c = eval twoServersSameGroupCfg;
      in
      eq "#8 two servers of the same group: that group, no supplementary group" [
        (failedAssertions c)
        (fileOf c "example.com").group
        (c.systemd.services.nginx.serviceConfig ? SupplementaryGroups)
      ] [ [ ] "web" false ]
    )

    # --- #9 the system trust store ---------------------------------------------------------------
    (eq "#9 the renewal trusts security.pki's bundle (plus caBundle)" template.environment.SSL_CERT_FILE "/etc/ssl/certs/ca-certificates.crt")

    # --- #10 metrics ------------------------------------------------------------------------------
    (
      let
        m = metrics.systemd.services.acme-renew-metrics;
      in
      eq "#10 metrics: a unit of its own writing node_exporter's textfile, ReadWritePaths= the directory, offline" [
        m.serviceConfig.ExecStart
        m.serviceConfig.ReadWritePaths
        m.serviceConfig.User
        m.serviceConfig.PrivateNetwork
        m.serviceConfig.ProtectSystem
      ] [
        "/nix/store/00000000000000000000000000000000-acme-renew/bin/acme-renew status --all --prometheus /var/lib/node-exporter/acme-renew.prom"
        [ "/var/lib/node-exporter" ]
        "acme-renew"
        true
        "strict"
      ]
    )
    (eq "#10 metrics timer" metrics.systemd.timers.acme-renew-metrics.timerConfig {
      Unit = "acme-renew-metrics.service";
      OnBootSec = "1min";
      OnCalendar = "*:0/2";
      AccuracySec = "10s";
    })
    (eq "#10 metrics: the directory is created if missing and acme-renew may write it" (lib.sublist 3 2 metrics.systemd.tmpfiles.rules) [
      "d /var/lib/node-exporter - - - -"
      "a+ /var/lib/node-exporter - - - - u:acme-renew:rwx"
    ])
    (eq "#10 no metrics unit unless enabled" (svc ? acme-renew-metrics) false)
    (asserts "#10 a certificate named like the metrics timer" "the name \"metrics\" is taken" (eval metricsNamedCfg))
    (asserts "#10 relative textfileDirectory" "textfileDirectory: must be an absolute path" (eval metricsRelativeCfg))
    (asserts "#10 textfileDirectory with a space" "textfileDirectory: must be an absolute path without spaces" (
      eval (lib.recursiveUpdate metricsCfg { services.acme-renew.metrics.textfileDirectory = "/var/lib/node exporter"; })
    ))

    # --- fidelity with security.acme ---------------------------------------------------------------
    (asserts "useRoot = true is an assertion with a hint" "useRoot \\(from security.acme\\) is not supported.*group" (eval useRootCfg))
    (
      let
        c = eval credentialsFileCfg;
      in
      eq "credentialsFile: renamed to environmentFile, with upstream's warning, inherited like it" [
        (renewOf c "example.com").serviceConfig.EnvironmentFile
        (renewOf c "inherits").serviceConfig.EnvironmentFile
        (length c.warnings)
        (mentions "certs.\"example.com\".credentialsFile' has been renamed to `services.acme-renew.certs.\"example.com\".environmentFile'" c.warnings)
        (mentions "defaults.credentialsFile' has been renamed" c.warnings)
      ] [ "/run/secrets/old-name.env" "/run/secrets/defaults-old.env" 2 true true ]
    )
    (eq "directory: read-only, readable by other modules like security.acme.certs.<n>.directory" (
      (evalWith [
        mainCfg
        (
          { config, ... }:
          {
            environment.etc."other-service.conf".text = "cert ${config.services.acme-renew.certs."example.com".directory}/fullchain.pem";
          }
        )
      ]).config.environment.etc."other-service.conf".text
    ) "cert /var/lib/acme-renew/example.com/fullchain.pem")
    (eq "directory: setting it is an error" (
      (builtins.tryEval (builtins.deepSeq (eval directorySetCfg).services.acme-renew.certs."example.com".directory null)).success
    ) false)
    (eq "group: none by default (keys 0600), not security.acme's \"acme\"" (
      let
        c = eval { services.acme-renew = webrootCert // { certs."a.example" = { }; }; };
      in
      [
        (fileOf c "a.example")
        (c.systemd.services."acme-renew@a.example".serviceConfig ? SupplementaryGroups)
      ]
    ) [ { } false ])
    (eq "keyType rsa8192" (fileOf everything "all").keyType "rsa8192")
    (eq "nss-lookup.target: After= only (a passive target)" [
      (elem "nss-lookup.target" template.wants)
      (elem "nss-lookup.target" template.after)
    ] [ false true ])
    (
      let
        c = enable.services.acme-renew.certs;
        v = enable.services.nginx.virtualHosts;
      in
      eq "enableACMERenew (nginx): a certificate named after serverName, for serverName + aliases, webroot acmeRenewRoot; the vhost serves it and its challenges" [
        (failedAssertions enable)
        (attrNames c)
        [ c."example.com".domain c."example.com".extraDomainNames c."example.com".webroot ]
        c.other.webroot
        [ v.site.sslCertificate v.site.sslCertificateKey v.site.sslTrustedCertificate ]
        v.site.locations."^~ /.well-known/acme-challenge/"
        v.other.locations."^~ /.well-known/acme-challenge/".root
      ] [
        [ ]
        [ "apache.example.com" "example.com" "other" ]
        [ "example.com" [ "www.example.com" ] "/var/lib/acme-renew-challenges" ]
        "/srv/acme"
        [
          "/var/lib/acme-renew/example.com/fullchain.pem"
          "/var/lib/acme-renew/example.com/key.pem"
          "/var/lib/acme-renew/example.com/chain.pem"
        ]
        {
          root = "/var/lib/acme-renew-challenges";
          extraConfig = "auth_basic off;";
        }
        "/srv/acme"
      ]
    )
    (
      let
        h = enable.services.httpd.virtualHosts.apache;
      in
      eq "enableACMERenew (httpd): named after hostName; paths; served challenge directory; httpd wired" [
        [ h.sslServerCert h.sslServerKey h.sslServerChain ]
        h.servedDirs
        enable.systemd.services.httpd.after
        (fileOf enable "apache.example.com")
      ] [
        [
          "/var/lib/acme-renew/apache.example.com/fullchain.pem"
          "/var/lib/acme-renew/apache.example.com/key.pem"
          "/var/lib/acme-renew/apache.example.com/chain.pem"
        ]
        [
          {
            urlPath = "/.well-known/acme-challenge";
            dir = "/var/lib/acme-renew-challenges/.well-known/acme-challenge";
          }
        ]
        [ "acme-renew-ready-apache.example.com.service" ]
        {
          group = "wwwrun";
          reloadServices = [ "httpd.service" ];
          webroot = "/var/lib/acme-renew-challenges";
        }
      ]
    )
    (
      let
        c = eval enableDnsCfg;
      in
      eq "enableACMERenew with acmeRenewRoot = null: the defaults' challenge, no challenge location" [
        (failedAssertions c)
        (fileOf c "example.com")
        (c.services.nginx.virtualHosts."example.com".locations ? "^~ /.well-known/acme-challenge/")
      ] [
        [ ]
        {
          group = "nginx";
          reloadServices = [ "nginx.service" ];
        }
        false
      ]
    )

    # --- every option: where it ends up -----------------------------------------------------------
    (noAssertions "everything" everything)
    (eq "everything: the certificate's file" (fileOf everything "all") {
      domain = "all.example.com";
      extraDomainNames = [ "www.all.example.com" ];
      inheritDefaults = false;
      email = "all@example.com";
      server = "https://ca.example.com/dir";
      caBundle = "/etc/ssl/private-ca.pem";
      keyType = "rsa8192";
      reuseKey = true;
      validMinDays = 20;
      dnsHook = "/etc/acme-renew/dns-hook";
      dnsResolver = "192.0.2.53:53";
      dnsPropagationCheck = true;
      dnsPropagationTimeout = 30;
      ocspMustStaple = false;
      reloadServices = [ "postfix" ];
      postRun = "true";
      group = "mail";
      profile = "shortlived";
      preferredChain = "ISRG Root X2";
      eab = {
        kid = "kid";
        hmacKeyFile = "/run/secrets/eab";
      };
      ari = false;
      placeholder = false;
      keepVersions = 7;
      timeout = 120;
      hookTimeout = 15;
    })
    (eq "everything: defaults.json" (defaultsOf everything "web") {
      email = "ops@example.com";
      reloadServices = [ "default.service" ];
    })
    (
      let
        a = renewOf everything "all";
        w = renewOf everything "web";
      in
      eq "everything: the renewal's unit-level options (own ones, then the defaults')" [
        a.serviceConfig.EnvironmentFile
        a.serviceConfig.LoadCredential
        a.serviceConfig.Environment
        a.serviceConfig.SupplementaryGroups
        w.serviceConfig.EnvironmentFile
        w.serviceConfig.LoadCredential
        w.serviceConfig.ReadWritePaths
      ] [
        "/run/secrets/all.env"
        [ "TSIG_FILE:/run/secrets/tsig" ]
        [ ''"TSIG_FILE=%d/TSIG_FILE"'' ]
        [ "mail" ]
        "/run/secrets/defaults.env"
        [ "DEFAULT_TOKEN_FILE:/run/secrets/default-token" ]
        [ "/srv/web/.well-known/acme-challenge" ]
      ]
    )
    (eq "everything: renewInterval (own, defaults', not inherited)" [
      everything.systemd.timers.acme-renew-all.timerConfig.OnCalendar
      everything.systemd.timers.acme-renew-web.timerConfig.OnCalendar
      timers."acme-renew-mail.example.net".timerConfig.OnCalendar
    ] [ "weekly" "*-*-* 03:00:00" "hourly" ])
    (eq "everything: listenHTTP :80 gets CAP_NET_BIND_SERVICE, listenTLS :8443 does not" [
      (renewOf everything "http").serviceConfig.AmbientCapabilities
      (renewOf everything "http").serviceConfig.CapabilityBoundingSet
      ((renewOf everything "tls").serviceConfig ? AmbientCapabilities)
    ] [ [ "CAP_NET_BIND_SERVICE" ] [ "CAP_NET_BIND_SERVICE" ] false ])
    (eq "listenTLS :443 from the defaults: CAP_NET_BIND_SERVICE" [
      (fileOf (eval tlsDefaultsCfg) "example.com")
      (renewOf (eval tlsDefaultsCfg) "example.com").serviceConfig.AmbientCapabilities
    ] [ { } [ "CAP_NET_BIND_SERVICE" ] ])
    (eq "everything: listenTLS :443 gets it too" (renew "mail.example.net").serviceConfig.AmbientCapabilities [ "CAP_NET_BIND_SERVICE" ])
    (eq "everything: package, slots, migrateFromSecurityAcme (every certificate migrated from /var/lib/acme/<name>)" [
      everything.systemd.services."acme-renew@".serviceConfig.ExecStart
      everything.services.acme-renew.certs.web.migrateFrom
      everything.services.acme-renew.certs.all.migrateFrom
      (everything.systemd.services ? "acme-renew-migrate-web")
      everything.environment.systemPackages
    ] [
      "${runInSlot} 2 /nix/store/00000000000000000000000000000000-acme-renew-custom/bin/acme-renew run %i"
      "/var/lib/acme/web"
      "/var/lib/acme/all.example.com"
      true
      [ (stub.fakePkg "acme-renew-custom") ]
    ])
    (eq "everything: the migration copies from migrateFrom" svc."acme-renew-migrate-mail.example.net".unitConfig.ConditionPathExists
      "/var/lib/acme/mail.example.net/key.pem"
    )

    (
      let
        c = eval everythingDefaultsCfg;
      in
      eq "every inheritable option in the defaults: defaults.json; a certificate's own challenge replaces the defaults'" [
        (failedAssertions c)
        (defaultsOf c "d.example")
        (fileOf c "d.example")
        (fileOf c "tls.example")
        (renewOf c "d.example").serviceConfig.SupplementaryGroups
      ] [
        [ ]
        {
          email = "d@example.com";
          server = "https://ca.example.com/dir";
          caBundle = "/etc/ssl/private-ca.pem";
          keyType = "ec384";
          reuseKey = true;
          validMinDays = null;
          listenHTTP = "[::]:8080";
          dnsResolver = "192.0.2.53:53";
          dnsPropagationCheck = false;
          dnsPropagationTimeout = 10;
          reloadServices = [ "d.service" ];
          postRun = "echo renewed";
          group = "certs";
          profile = "classic";
          preferredChain = "ISRG Root X1";
          eab = {
            kid = "d-kid";
            hmacKeyFile = "/run/secrets/d-eab";
          };
          ari = true;
          placeholder = true;
          keepVersions = 2;
          timeout = 900;
          hookTimeout = 5;
        }
        { }
        { listenTLS = "127.0.0.1:8443"; }
        [ "certs" ]
      ]
    )
    (
      let
        c = eval httpdCfg;
        v = c.services.httpd.virtualHosts.site;
      in
      eq "httpd through useACMERenewHost: paths, no challenge directory (listenHTTP), wired" [
        (failedAssertions c)
        v.sslServerCert
        v.servedDirs
        [ c.systemd.services.httpd.wants c.systemd.services.httpd.before ]
        (fileOf c "example.com")
      ] [
        [ ]
        "/var/lib/acme-renew/example.com/fullchain.pem"
        [ ]
        [ [ "acme-renew-ready-example.com.service" ] [ "acme-renew@example.com.service" ] ]
        {
          listenHTTP = "127.0.0.1:8080";
          group = "wwwrun";
          reloadServices = [ "httpd.service" ];
        }
      ]
    )

    (eq "acceptTerms reaches the files as lib.nix maps it" (map (rawFileOf main) [ "example.com" "mail.example.net" ]) (
      let
        files = arLib.configFiles {
          acceptTerms = true;
          certs = {
            a.webroot = "/w";
            b = {
              webroot = "/w";
              inheritDefaults = false;
            };
          };
        };
        terms = removeAttrs files."a.json" [ "webroot" ];
        termsNoInherit = removeAttrs files."b.json" [ "webroot" "inheritDefaults" ];
      in
      [ (fileOf main "example.com" // terms) (fileOf main "mail.example.net" // termsNoInherit) ]
    ))

    # --- the other assertions ---------------------------------------------------------------------
    (asserts "acceptTerms" "acceptTerms" (eval { services.acme-renew.certs."a.example".webroot = "/w"; }))
    (asserts "two challenges" "only one challenge" (eval { services.acme-renew = ok // { certs."a.example" = { webroot = "/w"; dnsHook = "/h"; }; }; }))
    (asserts "wildcard without dns-01" "dns-01" (eval { services.acme-renew = ok // { certs."a.example" = { domain = "*.a.example"; listenHTTP = ":80"; }; }; }))
    (asserts "no challenge" "no challenge configured" (eval { services.acme-renew = ok // { certs."a.example" = { }; }; }))
    (asserts "a name that is no file name" "the name becomes a file name" (eval { services.acme-renew = ok // { certs."*.a.example".dnsHook = "/h"; }; }))
    (asserts "a relative eab.hmacKeyFile" "hmacKeyFile" (eval { services.acme-renew = ok // { certs."a.example" = { dnsHook = "/h"; eab = { kid = "k"; hmacKeyFile = "secrets/h"; }; }; }; }))
    (asserts "a bad credential variable name" "is not an environment variable name" (eval { services.acme-renew = ok // { certs."a.example" = { dnsHook = "/h"; credentialFiles."NOT-A-NAME_FILE" = "/run/secrets/x"; }; }; }))
    (asserts "#12 a credentialFiles name without _FILE (security.acme's assertion)" "\"TSIG\" is not an environment variable name ending in _FILE" (eval { services.acme-renew = ok // { certs."a.example" = { dnsProvider = "rfc2136"; credentialFiles.TSIG = "/run/secrets/x"; }; }; }))
    (asserts "security.acme's s3Bucket in defaults" "defaults.s3Bucket.*dnsProvider" (eval unsupportedDefaultsCfg))
    (eq "security.acme's unsupported options: one assertion each, naming the option" (lib.mapAttrs (
      opt: v: mentions "certs.\"example.com\".${opt} \\(from security.acme\\) is not supported" (failedAssertions (eval (unsupportedCfg opt v)))
    ) unsupportedValues) (lib.mapAttrs (_: _: true) unsupportedValues))
    (eq "enableDebugLogs (defaults, a certificate): a warning, no effect" (map (c: mentions "enableDebugLogs \\(from security.acme\\) has no effect" (eval c).warnings) [
      debugLogsCfg
      debugLogsCertCfg
    ]) [ true true ])
    (eq "security.acme's unsupported options in defaults: one assertion each" (lib.mapAttrs (
      opt: v: mentions "defaults.${opt} \\(from security.acme\\) is not supported" (failedAssertions (eval (unsupportedDefaults opt v)))
    ) (removeAttrs unsupportedValues [ "csr" "csrKey" ])) (lib.mapAttrs (_: _: true) (removeAttrs unsupportedValues [ "csr" "csrKey" ])))
    (true' "reloadServices without polkit: a warning" (mentions "need polkit" (eval polkitOffCfg).warnings))

    # --- issue 12: dns-01 providers (dnsProvider, credentials the security.acme way) ------------
    (noAssertions "#12 dnsProvider" everything)
    (eq "#12 dnsProvider: the file has the provider, never the credentials' files (unit-level)" (fileOf everything "dns") {
      domain = "*.dns.example.com";
      dnsProvider = "cloudflare";
    })
    (
      let
        d = renewOf everything "dns";
      in
      eq "#12 credentialFiles -> LoadCredential= VAR_FILE:path + Environment= VAR_FILE=%d/VAR_FILE (as security.acme); environmentFile -> EnvironmentFile= (read by systemd as root)" [
        d.serviceConfig.LoadCredential
        d.serviceConfig.Environment
        d.serviceConfig.EnvironmentFile
      ] [
        [ "CF_DNS_API_TOKEN_FILE:/run/secrets/cf-token" ]
        [ ''"CF_DNS_API_TOKEN_FILE=%d/CF_DNS_API_TOKEN_FILE"'' ]
        "/run/secrets/cloudflare.env"
      ]
    )
    (eq "#12 the offline ready unit gets no credentials" (
      let
        r = everything.systemd.services."acme-renew-ready-dns".serviceConfig;
      in
      [ (r ? LoadCredential) (r ? EnvironmentFile) (r ? Environment) ]
    ) [ false false false ])
    (eq "#12 no secret file's name is in a file the store holds, and the build validates without the secrets" [
      (builtins.filter (f: lib.hasInfix "/run/secrets/cf-token" (toJSON f) || lib.hasInfix "cloudflare.env" (toJSON f)) (map (n: rawFileOf everything n) [ "dns" "all" "web" ]))
      (lib.hasInfix "validate --no-group-check --no-credentials" (builtins.readFile ../module.nix))
    ] [ [ ] true ])
    (
      let
        c = eval dnsDefaultsCfg;
      in
      eq "#12 dnsProvider, dnsResolver (several), credentials from the defaults; a certificate's own challenge and credentials replace them" [
        (failedAssertions c)
        (defaultsOf c "wild.example.org")
        (fileOf c "wild.example.org")
        (fileOf c "www.example.org")
        (renewOf c "wild.example.org").serviceConfig.LoadCredential
        ((renewOf c "www.example.org").serviceConfig ? LoadCredential)
        (renewOf c "www.example.org").serviceConfig.EnvironmentFile
      ] [
        [ ]
        {
          dnsProvider = "rfc2136";
          dnsResolver = "192.0.2.53:53,192.0.2.54";
          ocspMustStaple = true;
        }
        { domain = "*.example.org"; }
        { webroot = "/srv/www"; }
        [ "RFC2136_TSIG_SECRET_FILE:/run/secrets/tsig" ]
        false
        "/run/secrets/rfc2136.env"
      ]
    )
    (asserts "#12 a wildcard without dns-01 names dnsProvider" "dnsProvider: the wildcard name" (eval { services.acme-renew = ok // { certs."a.example" = { domain = "*.a.example"; listenHTTP = ":80"; }; }; }))
    (asserts "#12 dnsProvider and dnsHook together: two challenges" "only one challenge may be set, found dnsHook" (eval { services.acme-renew = ok // { certs."a.example" = { dnsProvider = "rfc2136"; dnsHook = "/h"; }; }; }))
    (
      let
        m = failedAssertions (eval secretsInStoreCfg);
      in
      eq "#12 secrets as a Nix path or a store path: an assertion each (never copied into the store)" [
        (mentions "defaults.environmentFile: must be an absolute path given as a string outside /nix/store" m)
        (mentions "credentialFiles.CF_DNS_API_TOKEN_FILE: must be an absolute path given as a string outside /nix/store" m)
      ] [ true true ]
    )

    # --- issue 15: ocspMustStaple -----------------------------------------------------------------
    (eq "#15 ocspMustStaple = true: a warning (defaults and certificate), written as the field ocspMustStaple; false: no warning" [
      (mentions "services.acme-renew.defaults.ocspMustStaple = true \\(from security.acme\\): accepted, but no must-staple" (eval dnsDefaultsCfg).warnings)
      (mentions "certs.\"example.com\".ocspMustStaple = true" (eval ocspCertCfg).warnings)
      (fileOf (eval ocspCertCfg) "example.com")
      (builtins.filter (lib.hasInfix "ocspMustStaple") everything.warnings)
      (noAssertions "" (eval dnsDefaultsCfg)).failure
    ] [ true true { ocspMustStaple = true; } [ ] null ])

    # --- issue 13: cluster mode -------------------------------------------------------------------
    (
      let
        c = eval clusterCfg;
        shape = {
          etcd = {
            endpoints = [
              "https://etcd1.example.net:2379"
              "https://etcd2.example.net:2379"
            ];
            caFile = "/etc/ssl/etcd-ca.pem";
            certFile = "/etc/ssl/etcd-client.pem";
            keyFile = "/run/secrets/etcd-client.key";
            usernameFile = "/run/secrets/etcd-user";
            passwordFile = "/run/secrets/etcd-password";
          };
          prefix = "/acme-renew/web";
          encryptionKeyFile = "/run/secrets/cluster.key";
          standaloneWhenUnreachable = false;
        };
      in
      eq "#13 cluster -> the program's field `cluster` (shape only: not in src/config/fields.ts on this branch yet), in defaults.json and in a file that does not inherit it" [
        (failedAssertions c)
        (defaultsOf c "example.com").cluster
        (fileOf c "alone.example.com").cluster
        (fileOf c "example.com" ? cluster)
      ] [ [ ] shape shape false ]
    )
    (eq "#13 the minimum: endpoints and the key; prefix and standaloneWhenUnreachable spelled out (the same on every host)" (defaultsOf (eval clusterUnixCfg) "example.com").cluster {
      etcd.endpoints = [ "http://127.0.0.1:2379" ];
      prefix = "/acme-renew";
      encryptionKeyFile = "/run/secrets/cluster.key";
      standaloneWhenUnreachable = true;
    })
    (
      let
        c = eval clusterCfg;
        sock = c.systemd.sockets.acme-renew-http01;
        srv = c.systemd.services.acme-renew-http01;
      in
      eq "#13 the http-01 responder: acme-renew-http01.socket (sockets.target) + service running `acme-renew serve-http01`, hardened, no state directory, wanted by nothing else" [
        sock.wantedBy
        sock.listenStreams
        srv.serviceConfig.ExecStart
        srv.requires
        srv.wantedBy
        (srv.serviceConfig ? StateDirectory)
        srv.serviceConfig.InaccessiblePaths
        [ srv.serviceConfig.User srv.serviceConfig.ProtectSystem srv.serviceConfig.NoNewPrivileges srv.serviceConfig.CapabilityBoundingSet ]
      ] [
        [ "sockets.target" ]
        [ "127.0.0.1:8403" ]
        "/nix/store/00000000000000000000000000000000-acme-renew/bin/acme-renew serve-http01"
        [ "acme-renew-http01.socket" ]
        [ ]
        false
        [ "-/var/lib/acme-renew" ]
        [ "acme-renew" "strict" true "" ]
      ]
    )
    (
      let
        c = eval clusterCfg;
        u = eval clusterUnixCfg;
      in
      eq "#13 web servers forward the challenge location to the responder (nginx proxyPass, caddy reverse_proxy; a unix socket too)" [
        c.services.nginx.virtualHosts."example.com".locations."^~ /.well-known/acme-challenge/".proxyPass
        c.services.nginx.virtualHosts."example.com".locations."^~ /.well-known/acme-challenge/".root
        (lib.hasInfix "reverse_proxy 127.0.0.1:8403" c.services.caddy.virtualHosts."alone.example.com".extraConfig)
        u.services.nginx.virtualHosts."example.com".locations."^~ /.well-known/acme-challenge/".proxyPass
        u.systemd.sockets.acme-renew-http01.socketConfig.SocketMode
      ] [ "http://127.0.0.1:8403" null true "http://unix:/run/acme-renew-http01.sock:" "0666" ]
    )
    (eq "#13 httpd is not forwarded: a warning says so" (mentions "httpd's virtual hosts still serve" (eval clusterUnixCfg).warnings) true)
    (
      let
        c = eval clusterNoHttp01Cfg;
      in
      eq "#13 http01.enable = false: no socket, nginx serves the webroot again" [
        c.systemd.sockets
        c.services.nginx.virtualHosts."example.com".locations."^~ /.well-known/acme-challenge/".root
      ] [ { } "/var/lib/acme-renew-challenges" ]
    )
    (eq "#13 without cluster: no cluster field, no responder" [ ((defaultsOf main "example.com") ? cluster) main.systemd.sockets ] [ false { } ])
    (
      let
        m = failedAssertions (eval clusterBadCfg);
      in
      eq "#13 cluster assertions: endpoints, the key, certFile/keyFile and username/password pairs, a secret in the store, the listen address, tls-alpn-01" (map (n: mentions n m) [
        "cluster.etcd.endpoints: at least one"
        "cluster.encryptionKeyFile: required"
        "certFile and keyFile go together"
        "usernameFile and passwordFile go together"
        "cluster.etcd.passwordFile: must be an absolute path given as a string outside /nix/store"
        "cluster.http01.listen: expected"
        "tls.example.com.\\.listenTLS: tls-alpn-01 cannot work in cluster mode"
      ]) [ true true true true true true true ]
    )
    (eq "#13 the renewal and the ready unit are unchanged in cluster mode (nothing at boot waits for etcd)" (
      let
        c = eval clusterCfg;
      in
      [ (c.systemd.services."acme-renew-ready-example.com".after) (c.systemd.services."acme-renew-ready-example.com".serviceConfig.PrivateNetwork) c.systemd.services.nginx.after ]
    ) [ [ ] true [ "acme-renew-ready-example.com.service" ] ])

    # --- polkit, tmpfiles, user, nothing at all -------------------------------------------------
    (eq "polkit enabled" main.security.polkit.enable true)
    (true' "polkit rule lists exactly the effective reloadServices" (
      lib.hasInfix (toJSON [
        "nginx.service"
        "caddy.service"
        "postfix.service"
        "dovecot2.service"
      ]) main.security.polkit.extraConfig
    ))
    (eq "tmpfiles for the webroot (once, though two certificates inherit it)" main.systemd.tmpfiles.rules [
      "d /var/lib/acme-renew-challenges - - - -"
      "d /var/lib/acme-renew-challenges/.well-known - - - -"
      "d /var/lib/acme-renew-challenges/.well-known/acme-challenge 0755 acme-renew acme-renew -"
    ])
    (eq "user" main.users.users.acme-renew.isSystemUser true)
    (eq "no certificates: nothing at all" (
      let
        c = eval { };
      in
      [
        c.systemd.services
        c.systemd.timers
        c.environment.etc
        c.users.users
        c.assertions
      ]
    ) [ { } { } { } { } [ ] ])

    # --- key group, low ports, the key group for the ready unit -------------------------------
    (eq "key group -> SupplementaryGroups (renewal and ready)" [
      (renew "example.com").serviceConfig.SupplementaryGroups
      (ready "example.com").serviceConfig.SupplementaryGroups
    ] [ [ "nginx" ] [ "nginx" ] ])
    (eq "webroot -> ReadWritePaths" (renew "example.com").serviceConfig.ReadWritePaths [
      "/var/lib/acme-renew-challenges/.well-known/acme-challenge"
    ])
    (eq "listenHTTP on 8402: no capability" ((renew "shop.example.com").serviceConfig ? AmbientCapabilities) false)
    (eq "nginx vhost: certificate paths and challenge location" [
      main.services.nginx.virtualHosts."example.com".sslCertificate
      main.services.nginx.virtualHosts."example.com".sslCertificateKey
      main.services.nginx.virtualHosts."example.com".locations."^~ /.well-known/acme-challenge/".root
    ] [
      "/var/lib/acme-renew/example.com/fullchain.pem"
      "/var/lib/acme-renew/example.com/key.pem"
      "/var/lib/acme-renew-challenges"
    ])
    (true' "caddy vhost tls line" (
      lib.hasInfix "tls /var/lib/acme-renew/shop.example.com/fullchain.pem /var/lib/acme-renew/shop.example.com/key.pem" main.services.caddy.virtualHosts."shop.example.com".extraConfig
    ))
  ]

  # --- the units, key for key, against the unit files in systemd/ ------------------------------
  ++ sameAs {
    label = "renewal template";
    file = unitFile "acme-renew@.service";
    section = "Service";
    attrs = template.serviceConfig;
    differs = {
      ExecStart = "the store path, through run-in-slot.sh with maxConcurrentRenewals";
      StateDirectoryMode = "0751: web servers in a certificate's group reach its directory";
    };
    adds = [
      "RuntimeDirectory"
      "RuntimeDirectoryMode"
      "RuntimeDirectoryPreserve"
    ];
  }
  ++ [
    (eq "renewal template [Unit] as in systemd/acme-renew@.service (After=acme-renew-ready@%i: per certificate, in the drop-in)"
      (
        let
          f = (parseUnitFile (unitFile "acme-renew@.service")).Unit;
        in
        [
          (lib.concatStringsSep " " f.Description)
          f.Wants
          (filter (u: u != "acme-renew-ready@%i.service") f.After)
        ]
      )
      [ template.description template.wants template.after ]
    )
    (eq "the renewal's drop-in is after acme-renew-ready-<name> (the file's After=acme-renew-ready@%i)" (
      elem "acme-renew-ready@%i.service" (parseUnitFile (unitFile "acme-renew@.service")).Unit.After
    ) true)
  ]
  ++ sameAs {
    label = "ready unit";
    file = unitFile "acme-renew-ready@.service";
    section = "Service";
    attrs = (ready "example.com").serviceConfig;
    differs = {
      ExecStart = "the store path";
      StateDirectoryMode = "0751 (as the renewal)";
    };
    adds = [
      "ExecStartPost" # starts the renewal (the template's users run its timer)
      "SupplementaryGroups" # the key group
    ];
  }
  ++ [
    (eq "ready unit [Unit] and [Install] as in systemd/acme-renew-ready@.service" (
      let
        f = parseUnitFile (unitFile "acme-renew-ready@.service");
      in
      [
        (subst "example.com" (lib.concatStringsSep " " f.Unit.Description))
        (f.Unit.Wants or [ ])
        (f.Unit.After or [ ])
        f.Install.WantedBy
      ]
    ) [ (ready "example.com").description (ready "example.com").wants (ready "example.com").after (ready "example.com").wantedBy ])
  ]
  ++ sameAs {
    label = "timer";
    file = unitFile "acme-renew@.timer";
    section = "Timer";
    attrs = timers."acme-renew-mail.example.net".timerConfig;
    adds = [ "Unit" ]; # a concrete timer names its service
  }
  ++ [
    (eq "timer [Unit] and [Install] as in systemd/acme-renew@.timer" (
      let
        f = parseUnitFile (unitFile "acme-renew@.timer");
      in
      [
        (subst "mail.example.net" (lib.concatStringsSep " " f.Unit.Description))
        f.Install.WantedBy
      ]
    ) [ timers."acme-renew-mail.example.net".description timers."acme-renew-mail.example.net".wantedBy ])
    (eq "timer starts the renewal" timers."acme-renew-example.com".timerConfig.Unit "acme-renew@example.com.service")
  ];

  renewOf = c: n: c.systemd.services."acme-renew@${n}";
  # The script the module embeds (the stub's writeShellScript is builtins.toFile).
  runInSlot = stub.pkgs.writeShellScript "acme-renew-run-in-slot" (builtins.readFile ../run-in-slot.sh);
  # The JSON the module writes to /etc/acme-renew/<n>.json: the first restart trigger of the
  # ready unit is that file (see the stub's formats.json).
  # acceptTerms is left out here: where it goes is lib.nix's business (fixtures.nix, lib-unit.nix);
  # "acceptTerms reaches the files" below checks that the module hands it over.
  fileOf = c: n: removeAttrs (rawFileOf c n) [ "acceptTerms" ];
  rawFileOf = c: n: (builtins.head c.systemd.services."acme-renew-ready-${n}".restartTriggers).value;
  defaultsOf = c: n: (builtins.elemAt c.systemd.services."acme-renew-ready-${n}".restartTriggers 1).value;
in
if only == null then filter (f: f != null) (map (c: c.failure) checks) else builtins.elemAt checks only
