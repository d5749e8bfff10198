# nix/tests/vm.nix as far as it can be evaluated without nixpkgs and KVM: every node's
# configuration — and every specialisation, what the test's switches go to — under the real
# module system with nix/module.nix and the NixOS stubs (nixos-stub.nix, lenient: the nodes set
# NixOS options the stubs do not model, which are accepted as they are), and the test script
# rendered. It does not boot anything and cannot tell whether the Python script passes; it catches
# a vm.nix that no longer fits the module (renamed units or options, failed assertions, wiring the
# subtests rely on).
#
#   nix-instantiate --eval --strict --json nix/tests/vm-eval.nix --arg lib 'import /path/to/nixpkgs/lib'
#
# Evaluates to the list of failed checks ([] = all pass).
{ lib }:
let
  stub = import ./nixos-stub.nix { inherit lib; };
  test = import ./vm.nix {
    inherit (stub) pkgs;
    acme-renew = stub.fakePkg "acme-renew";
  };

  evalNodeOf =
    t: modules:
    (lib.evalModules {
      modules = [
        stub.freeformModule
        {
          _module.args.pkgs = stub.pkgs;
          # The test framework's `nodes` argument, as far as the tests use it.
          _module.args.nodes = builtins.mapAttrs (_: _: ip) t.nodes;
          # What the test framework sets for every node.
          networking.hostName = lib.mkDefault "node";
        }
      ]
      ++ modules;
    }).config;
  evalNode = evalNodeOf test;

  nodes = builtins.mapAttrs (_: m: evalNode [ m ]) test.nodes;
  specialisations = lib.concatMapAttrs (
    node: c:
    lib.mapAttrs' (spec: s: lib.nameValuePair "${node}/${spec}" (evalNode [
      test.nodes.${node}
      s.configuration
    ])) (c.specialisation or { })
  ) nodes;

  failedAssertions = c: map (a: a.message) (builtins.filter (a: !a.assertion) (c.assertions or [ ]));
  eq = name: actual: expected: if actual == expected then null else "${name}: expected ${builtins.toJSON expected}, got ${builtins.toJSON actual}";

  server = nodes.server;
  svc = server.systemd.services;
  cert = "server.example.test";
  ip = {
    networking.primaryIPAddress = "192.168.1.2";
  };
  testNodes = builtins.mapAttrs (_: _: ip) test.nodes;
  script = test.testScript { nodes = testNodes; };

  checks = [
    (eq "the nodes" (builtins.attrNames test.nodes) [ "acme" "firstboot" "server" ])
    (eq "the specialisations the script switches to" (builtins.attrNames specialisations) [ "server/keytype" "server/names" ])
  ]
  ++ lib.mapAttrsToList (n: c: eq "${n}: no failed assertions" (failedAssertions c) [ ]) (nodes // specialisations)
  ++ [
    # What the subtests rely on.
    (eq "server: nginx waits for the ready unit only, starts before the renewal" [ svc.nginx.wants svc.nginx.after svc.nginx.before ] [
      [ "acme-renew-ready-${cert}.service" ]
      [ "acme-renew-ready-${cert}.service" ]
      [ "acme-renew@${cert}.service" ]
    ])
    (eq "server: nginx serves the webroot challenge (http-01 through nginx)" server.services.nginx.virtualHosts.${cert}.locations."^~ /.well-known/acme-challenge/".root "/var/lib/acme-renew-challenges")
    (eq "server: the test CA is trusted the NixOS way, not through caBundle" [
      (builtins.length server.security.pki.certificateFiles)
      server.services.acme-renew.defaults.caBundle
    ] [ 1 null ])
    (eq "server: no timer renews behind the test's back" server.systemd.timers."acme-renew-${cert}".wantedBy [ ])
    (eq "server: the ready unit starts the renewal" (lib.hasSuffix "start --no-block acme-renew@${cert}.service" svc."acme-renew-ready-${cert}".serviceConfig.ExecStartPost) true)
    (eq "server: the outage unit of subtest 4 holds network-online.target" [
      svc.test-network-down.wantedBy
      svc.test-network-down.before
    ] [ [ "network-online.target" ] [ "network-online.target" ] ])
    (eq "names: the switch changes the certificate's file (its ready unit restarts)" (
      svc."acme-renew-ready-${cert}".restartTriggers != specialisations."server/names".systemd.services."acme-renew-ready-${cert}".restartTriggers
    ) true)
    (eq "names: www in the certificate" specialisations."server/names".services.acme-renew.certs.${cert}.extraDomainNames [ "www.example.test" ])
    (eq "keytype: ec384" specialisations."server/keytype".services.acme-renew.certs.${cert}.keyType "ec384")
    (eq "firstboot: listenHTTP :80 gets CAP_NET_BIND_SERVICE" nodes.firstboot.systemd.services."acme-renew@firstboot.example.test".serviceConfig.AmbientCapabilities [
      "CAP_NET_BIND_SERVICE"
    ])
    (eq "acme: Pebble and BIND (its DNS: the hosts' A records, the zone dns-01 updates)" [
      (nodes.acme.systemd.services ? pebble)
      nodes.acme.services.bind.enable
      (lib.hasInfix "allow-update { key \"acme-renew.\"; }" nodes.acme.services.bind.zones."example.test".extraConfig)
      (lib.hasInfix "-dnsserver 127.0.0.1:53" nodes.acme.systemd.services.pebble.serviceConfig.ExecStart)
    ] [ true true true true ])
    (
      let
        w = svc."acme-renew@wild.example.test";
      in
      eq "server: the wildcard by dnsProvider rfc2136, credentials through EnvironmentFile= and LoadCredential=, after the test's secrets" [
        server.services.acme-renew.certs."wild.example.test".dnsProvider
        w.serviceConfig.EnvironmentFile
        w.serviceConfig.LoadCredential
        svc.test-secrets.before
      ] [ "rfc2136" "/run/secrets/rfc2136.env" [ "RFC2136_TSIG_SECRET_FILE:/run/secrets/tsig-secret" ] [ "acme-renew-ready-wild.example.test.service" ] ]
    )
    (eq "the test script renders, with the nodes' addresses" (lib.hasInfix ''== "192.168.1.2"'' script) true)
    (eq "the test script names the module's units" (map (u: lib.hasInfix u script) [ "acme-renew-ready-{name}.service" "acme-renew@{name}.service" "acme-renew@{SERVER}.service" ]) [ true true true ])
  ]

  # --- vm-cluster.nix (issue 13): 2 hosts + 1 etcd node ------------------------------------------
  ++ lib.mapAttrsToList (n: c: eq "cluster ${n}: no failed assertions" (failedAssertions c) [ ]) cnodes
  ++ [
    (eq "cluster: the nodes" (builtins.attrNames cluster.nodes) [ "etcd" "node1" "node2" ])
    (eq "cluster: both hosts have the same cluster field (etcd on the etcd node) in defaults.json" (map (
      n: (builtins.elemAt cnodes.${n}.systemd.services."acme-renew-ready-${ccert}".restartTriggers 1).value.cluster
    ) [ "node1" "node2" ]) (
      let
        c = {
          etcd.endpoints = [ "http://etcd.test:2379" ];
          prefix = "/acme-renew-test";
          encryptionKeyFile = "/run/secrets/acme-renew-cluster.key";
          standaloneWhenUnreachable = true;
        };
      in
      [ c c ]
    ))
    (eq "cluster: the etcd node runs etcd and the CA" [
      cnodes.etcd.services.etcd.enable
      (builtins.all (u: cnodes.etcd.systemd.services ? ${u}) [ "pebble" "pebble-challtestsrv" ])
    ] [ true true ])
    (eq "cluster: each host has the responder socket, and nginx forwards the challenge to it" (map (n: [
      cnodes.${n}.systemd.sockets.acme-renew-http01.listenStreams
      cnodes.${n}.services.nginx.virtualHosts.${ccert}.locations."^~ /.well-known/acme-challenge/".proxyPass
    ]) [ "node1" "node2" ]) [
      [ [ "127.0.0.1:8403" ] "http://127.0.0.1:8403" ]
      [ [ "127.0.0.1:8403" ] "http://127.0.0.1:8403" ]
    ])
    (eq "cluster: node2's renewal is held back by the test's flag, node1's is not" [
      (cnodes.node2.systemd.services."acme-renew@${ccert}".unitConfig.ConditionPathExists or null)
      (cnodes.node1.systemd.services."acme-renew@${ccert}".unitConfig.ConditionPathExists or null)
    ] [ "/run/test-allow-renewal" null ])
    (eq "cluster: the test script renders, with node2's address for the A record" (lib.hasInfix ''add_a(CERT, "192.168.1.2")'' cscript) true)
    (eq "cluster: the script names the units" (map (u: lib.hasInfix u cscript) [ "acme-renew@{CERT}.service" "acme-renew-http01.socket" "acme-renew-http01.service" ]) [ true true true ])
  ];

  cluster = import ./vm-cluster.nix {
    inherit (stub) pkgs;
    acme-renew = stub.fakePkg "acme-renew";
  };
  ccert = "shared.example.test";
  cnodes = builtins.mapAttrs (_: m: evalNodeOf cluster [ m ]) cluster.nodes;
  cscript = cluster.testScript { nodes = builtins.mapAttrs (_: _: ip) cluster.nodes; };
in
builtins.filter (c: c != null) checks
