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

  evalNode =
    modules:
    (lib.evalModules {
      modules = [
        stub.freeformModule
        {
          _module.args.pkgs = stub.pkgs;
          # The test framework's `nodes` argument, as far as vm.nix uses it.
          _module.args.nodes = testNodes;
        }
      ]
      ++ modules;
    }).config;

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
    (eq "acme: Pebble and challtestsrv" (builtins.all (u: nodes.acme.systemd.services ? ${u}) [ "pebble" "pebble-challtestsrv" ]) true)
    (eq "the test script renders, with the nodes' addresses" (lib.hasInfix ''add_a(SERVER, "192.168.1.2")'' script) true)
    (eq "the test script names the module's units" (map (u: lib.hasInfix u script) [ "acme-renew-ready-{name}.service" "acme-renew@{name}.service" "acme-renew@{SERVER}.service" ]) [ true true true ])
  ];
in
builtins.filter (c: c != null) checks
