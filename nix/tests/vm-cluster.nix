# NixOS VM test of the module's cluster mode (issue 13): two hosts serve one certificate, shared
# through etcd; Pebble validates http-01 on the host that did not place the order.
#
#   nix-build nix/tests -A vm-cluster     (needs KVM; nix/tests/default.nix)
#
# Without KVM and nixpkgs, scripts/check-nix.sh evaluates it (nix/tests/vm-eval.nix): the nodes'
# configurations under the module and the NixOS stubs, and the test script. It has never run here.
#
# Nodes
#   etcd       etcd 3.5 (one member, plain HTTP on :2379) and the CA: Pebble (https://etcd.test/dir)
#              + pebble-challtestsrv as its DNS; Pebble's TLS certificate is signed by a test CA the
#              hosts trust through security.pki.certificateFiles
#   node1      nginx serving shared.example.test (useACMERenewHost, webroot), cluster mode; its
#              renewal places the order
#   node2      the same configuration; its renewal is held back until the test allows it (a
#              ConditionPathExists= drop-in), and the certificate's A record points at it
#
# Subtests
#   1. node1 renews: the order's http-01 token is published to etcd, Pebble asks node2, whose nginx
#      forwards /.well-known/acme-challenge/ to acme-renew-http01.socket (serve-http01 answers from
#      etcd): node1 gets the certificate although the CA's request reached the other host
#   2. node2's renewal, allowed now: the shared certificate is installed (synced), no second order
#      at Pebble; both serve the same certificate
#   3. etcd down: a not-due run on either host exits 0 at once (it never connects), `check` is
#      unaffected, nginx keeps serving
{ pkgs, acme-renew }:
let
  inherit (pkgs) lib;

  caDomain = "etcd.test";
  domain = "example.test";
  cert = "shared.${domain}";
  webroot = "/var/lib/acme-renew-challenges";
  allowFlag = "/run/test-allow-renewal";
  # A test secret, hence in the store here — never do that on a real host (the module's options
  # take the file's name only; the key reaches the hosts through tmpfiles).
  clusterKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

  testCA = pkgs.runCommand "acme-renew-test-ca" { nativeBuildInputs = [ pkgs.minica ]; } ''
    minica --ca-key ca.key.pem --ca-cert ca.cert.pem --domains ${caDomain}
    mkdir -p $out
    mv ca.cert.pem ca.key.pem $out/
    mv ${caDomain}/cert.pem $out/${caDomain}.cert.pem
    mv ${caDomain}/key.pem $out/${caDomain}.key.pem
  '';

  pebbleConfig = pkgs.writeText "pebble.json" (
    builtins.toJSON {
      pebble = {
        listenAddress = "0.0.0.0:443";
        managementListenAddress = "0.0.0.0:15000";
        certificate = "${testCA}/${caDomain}.cert.pem";
        privateKey = "${testCA}/${caDomain}.key.pem";
        httpPort = 80;
        tlsPort = 443;
        ocspResponderURL = "";
        externalAccountBindingRequired = false;
      };
    }
  );

  clusterNode =
    { config, ... }:
    {
      imports = [ ../module.nix ];
      networking.domain = domain;
      networking.firewall.allowedTCPPorts = [
        80
        443
      ];
      environment.systemPackages = [
        pkgs.openssl
        pkgs.curl
      ];
      security.pki.certificateFiles = [ "${testCA}/ca.cert.pem" ];
      systemd.tmpfiles.rules = [
        "d /run/secrets 0755 root root -"
        "f /run/secrets/acme-renew-cluster.key 0400 acme-renew acme-renew - ${clusterKey}"
      ];
      services.acme-renew = {
        package = acme-renew;
        acceptTerms = true;
        defaults = {
          server = "https://${caDomain}/dir";
          email = "hostmaster@${domain}";
          timeout = 120;
        };
        cluster = {
          enable = true;
          etcd.endpoints = [ "http://${caDomain}:2379" ];
          prefix = "/acme-renew-test";
          encryptionKeyFile = "/run/secrets/acme-renew-cluster.key";
          # http01 is on with cluster.enable: acme-renew-http01.socket on 127.0.0.1:8403
        };
        certs.${cert} = {
          inherit webroot;
        };
      };
      services.nginx = {
        enable = true;
        virtualHosts.${cert} = {
          addSSL = true;
          useACMERenewHost = cert;
          locations."/".return = "200 'hello from ${config.networking.hostName}'";
        };
      };
      # The test starts the renewals itself (or the ready units do): no timer behind its back.
      systemd.timers."acme-renew-${cert}".wantedBy = lib.mkForce [ ];
    };
in
{
  name = "acme-renew-cluster";

  nodes = {
    etcd =
      { ... }:
      {
        networking.domain = "test"; # -> etcd.test in every node's /etc/hosts
        networking.firewall.allowedTCPPorts = [
          443
          2379
          15000
          8055
        ];
        environment.systemPackages = [
          pkgs.curl
          pkgs.etcd
        ];

        services.etcd = {
          enable = true;
          listenClientUrls = [ "http://0.0.0.0:2379" ];
          advertiseClientUrls = [ "http://${caDomain}:2379" ];
          listenPeerUrls = [ "http://127.0.0.1:2380" ];
          initialAdvertisePeerUrls = [ "http://127.0.0.1:2380" ];
          initialCluster = [ "etcd=http://127.0.0.1:2380" ];
        };

        systemd.services.pebble-challtestsrv = {
          description = "Pebble's DNS test server";
          wantedBy = [ "multi-user.target" ];
          serviceConfig.ExecStart = lib.escapeShellArgs [
            "${pkgs.pebble}/bin/pebble-challtestsrv"
            "-defaultIPv4"
            ""
            "-defaultIPv6"
            ""
            "-dns01"
            ":8053"
            "-management"
            ":8055"
            "-http01"
            ""
            "-https01"
            ""
            "-tlsalpn01"
            ""
            "-doh"
            ""
          ];
        };
        systemd.services.pebble = {
          description = "Pebble ACME test CA";
          wantedBy = [ "multi-user.target" ];
          wants = [ "pebble-challtestsrv.service" ];
          after = [ "pebble-challtestsrv.service" ];
          environment = {
            PEBBLE_VA_NOSLEEP = "1";
            PEBBLE_WFE_NONCEREJECT = "0";
            PEBBLE_AUTHZREUSE = "0";
          };
          serviceConfig = {
            ExecStart = "${pkgs.pebble}/bin/pebble -config ${pebbleConfig} -dnsserver 127.0.0.1:8053";
            AmbientCapabilities = [ "CAP_NET_BIND_SERVICE" ];
          };
        };
      };

    node1 = clusterNode;

    node2 =
      { ... }:
      {
        imports = [ clusterNode ];
        # Held back until subtest 2: the ready unit's start (boot) does nothing before the flag.
        systemd.services."acme-renew@${cert}".unitConfig.ConditionPathExists = allowFlag;
      };
  };

  testScript =
    { nodes, ... }:
    ''
      import json
      import time

      CERT = "${cert}"


      def renewal(node):
          out = node.succeed(f"systemctl show -p ActiveState -p SubState -p ExecMainStatus acme-renew@{CERT}.service")
          p = dict(line.split("=", 1) for line in out.strip().splitlines())
          return (p["ActiveState"], p["SubState"], int(p["ExecMainStatus"]))


      def wait_renewal(node, status, timeout=180):
          deadline = time.monotonic() + timeout
          while renewal(node) != ("inactive", "dead", status):
              assert time.monotonic() < deadline, f"{node.name}: expected exit {status}, got {renewal(node)}"
              time.sleep(1)


      def wait_ended(node, timeout=300):
          """Until a run has ended, whatever its exit (0/75 dead, 1 failed, 3 auto-restart)."""
          deadline = time.monotonic() + timeout
          while renewal(node)[1] not in ("dead", "failed", "auto-restart"):
              assert time.monotonic() < deadline, f"{node.name}: still {renewal(node)}"
              time.sleep(1)


      def fingerprint(node):
          return node.succeed(f"openssl x509 -noout -fingerprint -sha256 -in /var/lib/acme-renew/{CERT}/cert.pem").strip()


      def issuer(node):
          return node.succeed(f"openssl x509 -noout -issuer -in /var/lib/acme-renew/{CERT}/cert.pem").strip()


      def served(node):
          return node.succeed(
              f"openssl s_client -connect {CERT}:443 -servername {CERT} </dev/null 2>/dev/null"
              " | openssl x509 -noout -fingerprint -sha256"
          ).strip()


      def orders():
          return int(etcd.succeed("journalctl -u pebble.service -o cat | grep -c 'POST /order-plz' || true").strip())


      def add_a(host, ip):
          etcd.succeed(
              "curl -fsS -d " + json.dumps(json.dumps({"host": host + ".", "addresses": [ip]}))
              + " http://localhost:8055/add-a"
          )


      etcd.start()
      etcd.wait_for_unit("etcd.service")
      etcd.wait_for_unit("pebble.service")
      etcd.wait_for_open_port(443)
      etcd.wait_for_open_port(8055)
      # The CA validates on node2, which will not place the order.
      add_a(CERT, "${nodes.node2.networking.primaryIPAddress}")

      start_all()
      for n in (node1, node2):
          n.wait_for_unit("nginx.service")
          n.wait_for_unit("acme-renew-http01.socket")
          n.succeed(f"systemctl is-active acme-renew-ready-{CERT}.service")
          # each host resolves the name to itself for the served-certificate checks
          n.succeed(f"echo '127.0.0.1 {CERT}' >> /etc/hosts")

      with subtest("1. node1 renews; Pebble validates on node2 through its http-01 responder (etcd)"):
          # the ready unit started node1's renewal at boot (it may have issued already): let it
          # end, then once more — 0 either way (issued now, or not due any more)
          wait_ended(node1)
          node1.succeed(f"systemctl start acme-renew@{CERT}.service")
          wait_renewal(node1, 0, timeout=300)
          assert "Pebble" in issuer(node1), issuer(node1)
          # the CA's request reached node2: its nginx forwarded it to the socket-activated
          # responder, which answered from etcd (200)
          node2.succeed("grep '/.well-known/acme-challenge/' /var/log/nginx/access.log | grep -q '\" 200 '")
          node2.succeed("test \"$(systemctl show -P ExecMainStartTimestampMonotonic acme-renew-http01.service)\" != 0")
          node1.fail("grep -q '/.well-known/acme-challenge/' /var/log/nginx/access.log")
          assert orders() == 1, f"{orders()} orders"
          node1.wait_until_succeeds(f"openssl s_client -connect {CERT}:443 -servername {CERT} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | grep -qF '{fingerprint(node1)}'", timeout=60)

      with subtest("2. node2 takes the shared certificate: synced, no second order"):
          node2.succeed("touch ${allowFlag}")
          node2.succeed(f"systemctl start acme-renew@{CERT}.service")
          wait_renewal(node2, 0)
          assert fingerprint(node2) == fingerprint(node1), "the hosts have different certificates"
          assert orders() == 1, f"{orders()} orders: node2 placed one of its own"
          node2.succeed(f"journalctl -u acme-renew@{CERT}.service -o cat | grep -qi synced")
          node2.wait_until_succeeds(f"openssl s_client -connect {CERT}:443 -servername {CERT} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | grep -qF '{fingerprint(node1)}'", timeout=60)

      with subtest("3. etcd down: a not-due run never connects, check unaffected, nginx serves"):
          etcd.succeed("systemctl stop etcd.service")
          for n in (node1, node2):
              t0 = time.monotonic()
              n.succeed(f"systemctl start acme-renew@{CERT}.service")
              wait_renewal(n, 0, timeout=30)
              assert time.monotonic() - t0 < 20, f"{n.name}: a not-due run took {time.monotonic() - t0:.0f} s"
              n.succeed(f"acme-renew check {CERT}")
              assert served(n) == fingerprint(n)
              n.succeed("test -z \"$(systemctl list-units --state=failed --no-legend)\"")
    '';
}
