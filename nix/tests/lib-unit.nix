# Unit tests of nix/lib.nix — builtins only, so a bare `nix-instantiate` can run them without
# nixpkgs (scripts/check-nix.sh does):
#
#   nix-instantiate --eval --strict --json nix/tests/lib-unit.nix     # => [] when all pass
#
# Evaluates to the list of failed cases (each "<case>: expected …, got …").
let
  l = import ../lib.nix;
  inherit (builtins) toJSON filter length head;

  eq = name: actual: expected: if actual == expected then null else "${name}: expected ${toJSON expected}, got ${toJSON actual}";
  # true when one of the problems contains `needle`
  mentions = needle: problems: builtins.any (p: builtins.match ".*${needle}.*" p != null) problems;
  problemCase =
    name: config: needle:
    let
      ps = l.problems config;
    in
    if needle == null then
      eq name ps [ ]
    else if mentions needle ps then
      null
    else
      "${name}: expected a problem mentioning \"${needle}\", got ${toJSON ps}";

  ok = {
    acceptTerms = true;
  };

  cases = [
    # --- option values -> JSON ---------------------------------------------------------------
    (eq "unset options are omitted" (l.certToJSON { } "a.example" {
      domain = "a.example";
      extraDomainNames = [ ];
      email = null;
      webroot = "/w";
      inheritDefaults = true;
      postRun = "";
      reloadServices = null;
    }) { webroot = "/w"; })
    (eq "domain other than the name is written" (l.certToJSON { } "a" {
      domain = "a.example";
      listenHTTP = ":80";
    }) {
      domain = "a.example";
      listenHTTP = ":80";
    })
    (eq "inheritDefaults = false is written" (l.certToJSON { } "a.example" {
      inheritDefaults = false;
      dnsHook = "/h";
    }) {
      inheritDefaults = false;
      dnsHook = "/h";
    })
    (eq "validMinDays = \"auto\" is an explicit null" (l.certToJSON { } "a.example" {
      validMinDays = "auto";
      webroot = "/w";
    }) {
      validMinDays = null;
      webroot = "/w";
    })
    (eq "validMinDays number" (l.defaultsToJSON { validMinDays = 21; }) { validMinDays = 21; })
    # issue 12: the program has dnsPropagationCheck (security.acme's name) as a field of its own.
    (eq "dnsPropagationCheck is written as it is, next to dnsPropagationTimeout" (l.defaultsToJSON {
      dnsPropagationCheck = false;
      dnsPropagationTimeout = 30;
    }) {
      dnsPropagationCheck = false;
      dnsPropagationTimeout = 30;
    })
    (eq "dnsPropagationCheck = true is written too (it overrides a false in defaults.json)" (l.defaultsToJSON { dnsPropagationCheck = true; }) { dnsPropagationCheck = true; })
    (eq "dnsProvider is a challenge: it replaces the defaults' webroot" (l.effective "a.example" { webroot = "/w"; } (l.certToJSON { } "a.example" { dnsProvider = "cloudflare"; })) {
      domain = "a.example";
      dnsProvider = "cloudflare";
    })
    (eq "a wildcard with dnsProvider has no problem; with webroot it has" (map (c: builtins.length (l.certProblems "w" (l.effective "w" { } c))) [
      { domain = "*.a.example"; dnsProvider = "rfc2136"; }
      { domain = "*.a.example"; webroot = "/w"; }
    ]) [ 0 1 ])
    (eq "dnsProvider with dnsHook: two challenges" (l.certProblems "a" (l.effective "a" { } { dnsProvider = "rfc2136"; dnsHook = "/h"; })) [
      "services.acme-renew.certs.\"a\".*: only one challenge may be set, found dnsHook = \"/h\", dnsProvider = \"rfc2136\". (A challenge set on the certificate replaces the one from services.acme-renew.defaults; two on the same level conflict.)"
    ])
    (eq "ocspMustStaple is written when set (issue 15: the program accepts it and warns)" (l.defaultsToJSON { ocspMustStaple = true; }) { ocspMustStaple = true; })
    # issue 13: `cluster` is host-wide: defaults.json, and the files that do not inherit it.
    (eq "cluster: into defaults.json and the files with inheritDefaults = false" (l.configFiles {
      cluster = { etcd.endpoints = [ "http://e:2379" ]; prefix = "/p"; };
      certs.a.webroot = "/w";
      certs.b = { webroot = "/w"; inheritDefaults = false; };
    }) {
      "defaults.json" = { cluster = { etcd.endpoints = [ "http://e:2379" ]; prefix = "/p"; }; };
      "a.json" = { webroot = "/w"; };
      "b.json" = { webroot = "/w"; inheritDefaults = false; cluster = { etcd.endpoints = [ "http://e:2379" ]; prefix = "/p"; }; };
    })
    (eq "unit-only options never reach the JSON" (l.defaultsToJSON {
      environmentFile = "/run/secrets/env";
      credentialFiles = {
        X_FILE = "/run/secrets/x";
      };
      renewInterval = "daily";
      extraReloadServices = [ "x.service" ];
      migrateFrom = "/var/lib/acme/x";
    }) { })
    (eq "per-cert-only keys never reach defaults.json" (l.defaultsToJSON {
      domain = "x.example";
      extraDomainNames = [ "y.example" ];
      inheritDefaults = false;
    }) { })
    (eq "extraReloadServices extends the inherited list" (l.certToJSON { reloadServices = [ "a.service" ]; } "c.example" {
      webroot = "/w";
      extraReloadServices = [
        "nginx.service"
        "a.service"
      ];
    }) {
      webroot = "/w";
      reloadServices = [
        "a.service"
        "nginx.service"
      ];
    })
    (eq "extraReloadServices extends the certificate's own list, not the defaults'" (l.certToJSON { reloadServices = [ "a.service" ]; } "c.example" {
      webroot = "/w";
      reloadServices = [ "b.service" ];
      extraReloadServices = [ "nginx.service" ];
    }) {
      webroot = "/w";
      reloadServices = [
        "b.service"
        "nginx.service"
      ];
    })
    (eq "extraReloadServices without inheritance" (l.certToJSON { reloadServices = [ "a.service" ]; } "c.example" {
      webroot = "/w";
      inheritDefaults = false;
      extraReloadServices = [ "nginx.service" ];
    }) {
      webroot = "/w";
      inheritDefaults = false;
      reloadServices = [ "nginx.service" ];
    })
    (eq "an explicit empty reloadServices is written (it overrides the defaults)" (l.certToJSON { } "c.example" {
      webroot = "/w";
      reloadServices = [ ];
    }) {
      webroot = "/w";
      reloadServices = [ ];
    })
    (eq "eab" (l.defaultsToJSON {
      eab = {
        kid = "k";
        hmacKeyFile = "/run/secrets/h";
      };
    }) {
      eab = {
        kid = "k";
        hmacKeyFile = "/run/secrets/h";
      };
    })

    # --- merge (src/config/load.ts) ------------------------------------------------------------
    (eq "effective: defaults, then the certificate; domain from the name" (l.effective "c.example" {
      email = "a@example.com";
      webroot = "/w";
    } { keyType = "ec384"; }) {
      domain = "c.example";
      email = "a@example.com";
      webroot = "/w";
      keyType = "ec384";
    })
    (eq "effective: a challenge on the certificate replaces the default challenge" (l.effective "c.example" {
      webroot = "/w";
      email = "a@example.com";
    } { dnsHook = "/h"; }) {
      domain = "c.example";
      email = "a@example.com";
      dnsHook = "/h";
    })
    (eq "effective: inheritDefaults = false ignores defaults.json" (l.effective "c.example" {
      webroot = "/w";
    } {
      inheritDefaults = false;
      listenHTTP = ":80";
    }) {
      domain = "c.example";
      inheritDefaults = false;
      listenHTTP = ":80";
    })

    # --- assertions ----------------------------------------------------------------------------
    (problemCase "a correct configuration has no problems" (ok // {
      defaults.webroot = "/w";
      certs."a.example" = { };
      certs."b.example".dnsHook = "/h";
    }) null)
    (problemCase "acceptTerms is required" {
      certs."a.example".webroot = "/w";
    } "acceptTerms")
    (problemCase "no challenge" (ok // { certs."a.example" = { }; }) "no challenge configured")
    (problemCase "no challenge once the defaults are not inherited" (ok // {
      defaults.webroot = "/w";
      certs."a.example".inheritDefaults = false;
    }) "no challenge configured")
    (problemCase "two challenges" (ok // {
      certs."a.example" = {
        webroot = "/w";
        listenHTTP = ":80";
      };
    }) "only one challenge may be set")
    (problemCase "two challenges in the defaults" (ok // {
      defaults = {
        webroot = "/w";
        dnsHook = "/h";
      };
      certs."a.example" = { };
    }) "only one challenge may be set")
    (problemCase "wildcard without dns-01" (ok // {
      certs."a.example" = {
        extraDomainNames = [ "*.a.example" ];
        webroot = "/w";
      };
    }) "can only be validated with the dns-01 challenge")
    (problemCase "wildcard domain with a default webroot" (ok // {
      defaults.webroot = "/w";
      certs."a.example".domain = "*.a.example";
    }) "wildcard name")
    (problemCase "wildcard with dns-01 is fine" (ok // {
      defaults.webroot = "/w";
      certs."a.example" = {
        domain = "*.a.example";
        dnsHook = "/h";
      };
    }) null)
    (problemCase "a '*' in the entry's name" (ok // { certs."*.a.example".dnsHook = "/h"; }) "the name becomes a file name")
    (problemCase "\"defaults\" is reserved" (ok // { certs."defaults".dnsHook = "/h"; }) "the name becomes a file name")
    (problemCase "relative eab.hmacKeyFile" (ok // {
      certs."a.example" = {
        dnsHook = "/h";
        eab = {
          kid = "k";
          hmacKeyFile = "secrets/h";
        };
      };
    }) "hmacKeyFile")

    # --- helpers ---------------------------------------------------------------------------------
    (eq "listenPort :80" (l.listenPort ":80") 80)
    (eq "listenPort host:port" (l.listenPort "127.0.0.1:8402") 8402)
    (eq "listenPort [v6]:port" (l.listenPort "[::1]:443") 443)
    (eq "listenPort garbage" (l.listenPort "80") null)
    (eq "unitName adds .service" (l.unitName "nginx") "nginx.service")
    (eq "unitName keeps a suffix" (l.unitName "nginx.service") "nginx.service")
    (eq "unitName keeps other types" (l.unitName "foo.socket") "foo.socket")
    (eq "unitName instance" (l.unitName "foo@bar") "foo@bar.service")
  ];
in
filter (c: c != null) cases
