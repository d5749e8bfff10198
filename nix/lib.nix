# Pure functions behind nix/module.nix: option values -> the JSON files acme-renew reads.
#
# builtins only (no nixpkgs `lib`), so that the mapping can be evaluated — and checked against the
# fixtures in nix/fixtures/ — by a bare `nix-instantiate --eval --strict` without a nixpkgs
# checkout (scripts/check-nix.sh does exactly that).
#
# The file format is defined once, in src/config/fields.ts (schema/acme-renew.schema.json). The
# rules mirrored here are the ones the module needs at evaluation time: which keys a file may hold,
# how defaults.json is merged into a certificate (src/config/load.ts) and the cross-field rules
# turned into NixOS assertions. Everything else (domain syntax, address syntax, ranges) is checked
# by the real validator, `acme-renew validate`, which the module runs at build time.
#
# Input values are attribute sets as the module's options produce them (every option present,
# unset ones null) or as a person writes them (unset options simply absent): both work.
let
  inherit (builtins)
    any
    attrNames
    concatMap
    elem
    filter
    foldl'
    fromJSON
    hasAttr
    head
    isString
    length
    listToAttrs
    match
    removeAttrs
    substring
    ;

  unique = foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ];

  # The challenge keys: exactly one must be set, in the certificate's file or in defaults.json
  # (a challenge in the certificate's file replaces the default one).
  challengeKeys = [
    "webroot"
    "listenHTTP"
    "listenTLS"
    "dnsHook"
    "dnsProvider"
  ];

  # Keys of <name>.json, in the order of src/config/fields.ts.
  certKeys = [
    "domain"
    "extraDomainNames"
    "email"
    "server"
    "caBundle"
    "keyType"
    "reuseKey"
    "validMinDays"
    "webroot"
    "listenHTTP"
    "listenTLS"
    "dnsHook"
    "dnsProvider"
    "dnsResolver"
    "dnsPropagationCheck"
    "dnsPropagationTimeout"
    "reloadServices"
    "postRun"
    "group"
    "profile"
    "preferredChain"
    "eab"
    "ari"
    "placeholder"
    "keepVersions"
    "timeout"
    "hookTimeout"
    "ocspMustStaple"
    "cluster"
    "inheritDefaults"
  ];

  # Not allowed in defaults.json: they name one certificate.
  perCertOnlyKeys = [
    "domain"
    "extraDomainNames"
    "inheritDefaults"
  ];

  defaultsKeys = filter (k: !(elem k perCertOnlyKeys)) certKeys;

  # An option's value, null when unset or absent.
  get = o: k: o.${k} or null;

  # Paths (`./ca.pem`, a derivation such as `pkgs.writeShellScript …`) become strings: a Nix path
  # literal is copied into the store, which is right for public things (a CA bundle, a hook
  # script). Strings stay as they are. Secrets (eab.hmacKeyFile) are strings only: see the module.
  pathString = v: "${v}";

  # name-value pairs of the keys every file may hold (both <name>.json and defaults.json).
  commonPairs =
    o:
    let
      v = get o;
      nonNull = k: f: if v k == null then [ ] else [ { name = k; value = f (v k); } ];
      id = x: x;
      # validMinDays: a number, or "auto" for an explicit JSON null (renew at 1/3 of the lifetime
      # left), which overrides a number inherited from defaults.json; null/absent: not set.
      validMinDays =
        if v "validMinDays" == null then
          [ ]
        else if v "validMinDays" == "auto" then
          [ { name = "validMinDays"; value = null; } ]
        else
          [ { name = "validMinDays"; value = v "validMinDays"; } ];
      # NixOS's postRun is `lines` with default "": empty means not set.
      postRun = if v "postRun" == null || v "postRun" == "" then [ ] else [ { name = "postRun"; value = v "postRun"; } ];
      eab =
        if v "eab" == null then
          [ ]
        else
          [
            {
              name = "eab";
              value = {
                kid = (v "eab").kid;
                hmacKeyFile = (v "eab").hmacKeyFile;
              };
            }
          ];
    in
    nonNull "email" id
    ++ nonNull "server" id
    ++ nonNull "caBundle" pathString
    ++ nonNull "keyType" id
    ++ nonNull "reuseKey" id
    ++ validMinDays
    ++ nonNull "webroot" pathString
    ++ nonNull "listenHTTP" id
    ++ nonNull "listenTLS" id
    ++ nonNull "dnsHook" pathString
    ++ nonNull "dnsProvider" id
    ++ nonNull "dnsResolver" id
    ++ nonNull "dnsPropagationCheck" id
    ++ nonNull "dnsPropagationTimeout" id
    ++ nonNull "reloadServices" id
    ++ postRun
    ++ nonNull "group" id
    ++ nonNull "profile" id
    ++ nonNull "preferredChain" id
    ++ eab
    ++ nonNull "ari" id
    ++ nonNull "placeholder" id
    ++ nonNull "keepVersions" id
    ++ nonNull "timeout" id
    ++ nonNull "hookTimeout" id
    ++ nonNull "ocspMustStaple" id;

  # defaults.json: the `defaults` option values -> JSON object (only what is set).
  defaultsToJSON = defaults: listToAttrs (commonPairs defaults);

  inherits = cert: get cert "inheritDefaults" != false;

  # <name>.json: one certificate's option values -> JSON object (only what is set).
  #   domain             omitted when it equals the name (the file's name is the default domain)
  #   extraDomainNames   omitted when empty
  #   inheritDefaults    written only when false
  #   reloadServices     plus `extraReloadServices` (added by the web-server integrations of the
  #                      module): when those exist, the list is written out in full — the
  #                      certificate's own list, else the inherited one — so that adding
  #                      nginx.service never silently drops a reload inherited from defaults.json.
  certToJSON =
    defaults: name: cert:
    let
      extra = get cert "extraReloadServices";
      own = get cert "reloadServices";
      inherited = if inherits cert then get defaults "reloadServices" else null;
      base =
        if own != null then
          own
        else if inherited != null then
          inherited
        else
          [ ];
      withExtra = if extra == null || extra == [ ] then cert else cert // { reloadServices = unique (base ++ extra); };
      domain = get cert "domain";
      extraNames = get cert "extraDomainNames";
    in
    listToAttrs (
      (if domain == null || domain == name then [ ] else [ { name = "domain"; value = domain; } ])
      ++ (if extraNames == null || extraNames == [ ] then [ ] else [ { name = "extraDomainNames"; value = extraNames; } ])
      ++ commonPairs withExtra
      ++ (if inherits cert then [ ] else [ { name = "inheritDefaults"; value = false; } ])
    );

  # What the tool will run with (src/config/load.ts): defaults.json unless inheritDefaults is
  # false; a challenge in the certificate's file replaces the default one; then the certificate's
  # own keys; `domain` filled in from the name. Both arguments are JSON objects as produced above.
  effective =
    name: defaultsJSON: certJSON:
    let
      d = if (certJSON.inheritDefaults or true) then defaultsJSON else { };
      ownChallenge = any (k: hasAttr k certJSON) challengeKeys;
      base = if ownChallenge then removeAttrs d challengeKeys else d;
    in
    { domain = name; } // base // certJSON;

  isWildcard = n: substring 0 2 n == "*.";

  # The port of "[host]:port", "host:port" or ":port"; null when it does not parse.
  listenPort =
    addr:
    let
      m = match "([[][0-9a-fA-F:.]+[]]|[A-Za-z0-9.-]*):([0-9]{1,5})" addr;
    in
    if m == null then null else fromJSON (head (builtins.tail m));

  # A unit name as systemd (and polkit) report it: "nginx" -> "nginx.service".
  unitName =
    u:
    if match ".+\\.(service|socket|target|device|mount|automount|swap|timer|path|slice|scope)" u != null then
      u
    else
      "${u}.service";

  # A certificate's name becomes a file name and a systemd instance name (src/config/names.ts).
  certNameOk = n: match "[A-Za-z0-9_][A-Za-z0-9._-]{0,199}" n != null && n != "defaults";

  opt = name: k: "services.acme-renew.certs.\"${name}\".${k}";

  # Problems with one certificate, as NixOS assertion messages (empty list: fine). `eff` is
  # `effective name defaultsJSON certJSON`.
  certProblems =
    name: eff:
    let
      setChallenges = filter (k: hasAttr k eff) challengeKeys;
      names = [ eff.domain ] ++ (eff.extraDomainNames or [ ]);
      wildcards = filter isWildcard names;
      hmac = if eff ? eab then eff.eab.hmacKeyFile else null;
      showChallenges = builtins.concatStringsSep ", " (map (k: "${k} = ${builtins.toJSON eff.${k}}") setChallenges);
    in
    (
      if certNameOk name then
        [ ]
      else
        [
          "services.acme-renew.certs.\"${name}\": the name becomes a file name and a systemd instance name: use letters, digits, '.', '_' or '-' (not starting with '.' or '-', not \"defaults\"; a wildcard goes into `domain`, e.g. domain = \"*.example.org\")."
        ]
    )
    ++ (
      if length setChallenges == 0 then
        [
          "${opt name "*"}: no challenge configured: set exactly one of webroot, listenHTTP, listenTLS, dnsProvider or dnsHook (here or in services.acme-renew.defaults). If this certificate exists only because a virtual host names it in useACMERenewHost, define it in services.acme-renew.certs."
        ]
      else if length setChallenges > 1 then
        [
          "${opt name "*"}: only one challenge may be set, found ${showChallenges}. (A challenge set on the certificate replaces the one from services.acme-renew.defaults; two on the same level conflict.)"
        ]
      else
        [ ]
    )
    ++ (
      if wildcards != [ ] && !(eff ? dnsHook || eff ? dnsProvider) then
        [
          "${opt name "dnsProvider"}: the wildcard name \"${head wildcards}\" can only be validated with the dns-01 challenge: set dnsProvider (or dnsHook) (wildcards are not possible with webroot, listenHTTP or listenTLS)."
        ]
      else
        [ ]
    )
    ++ (
      if hmac != null && !(isString hmac && substring 0 1 hmac == "/") then
        [
          "${opt name "eab.hmacKeyFile"}: must be an absolute path given as a string (e.g. \"/run/secrets/eab-hmac\"), so that the secret is read at run time and never copied into the world-readable Nix store."
        ]
      else
        [ ]
    );

  # Every file of a config dir, from { defaults = …; certs = { <name> = …; }; acceptTerms; } (option
  # values): { "defaults.json" = {…}; "<name>.json" = {…}; … }. defaults.json only when something is
  # set. acceptTerms = true goes into each certificate's file (also those with inheritDefaults =
  # false): the tool registers an ACME account only with it.
  #
  # `cluster` (the JSON object of the `cluster` field, or null): host-wide, so it goes into
  # defaults.json — which every certificate inherits and `serve-http01` reads — and into the files
  # of certificates with inheritDefaults = false, which do not read defaults.json.
  configFiles =
    { defaults ? { }, certs ? { }, acceptTerms ? false, cluster ? null, ... }:
    let
      withCluster = if cluster == null then { } else { inherit cluster; };
      dj = defaultsToJSON defaults // withCluster;
      terms = if acceptTerms == true then { acceptTerms = true; } else { };
    in
    (if dj == { } then { } else { "defaults.json" = dj; })
    // listToAttrs (
      map (n: {
        name = "${n}.json";
        value = certToJSON defaults n certs.${n} // terms // (if inherits certs.${n} then { } else withCluster);
      }) (attrNames certs)
    );

  # Every problem of a whole configuration (module-level ones included).
  problems =
    { defaults ? { }, certs ? { }, acceptTerms ? false, ... }:
    let
      dj = defaultsToJSON defaults;
    in
    (
      if certs != { } && acceptTerms != true then
        [
          "services.acme-renew.acceptTerms: you must accept the CA's terms of service (Let's Encrypt: https://letsencrypt.org/repository/) by setting services.acme-renew.acceptTerms = true."
        ]
      else
        [ ]
    )
    ++ concatMap (n: certProblems n (effective n dj (certToJSON defaults n certs.${n}))) (attrNames certs);
in
{
  inherit
    challengeKeys
    certKeys
    perCertOnlyKeys
    defaultsKeys
    defaultsToJSON
    certToJSON
    effective
    certProblems
    problems
    configFiles
    listenPort
    unitName
    certNameOk
    isWildcard
    unique
    ;
}
