# NixOS VM test of nix/module.nix, in the style of nixpkgs' nixos/tests/acme/: Pebble as the CA,
# BIND as its DNS (A records for http-01, the zone dns-01 updates through RFC 2136).
#
#   nix-build nix/tests -A vm             (needs KVM; nix/tests/default.nix)
#   $(nix-build nix/tests -A vm.driverInteractive)/bin/nixos-test-driver   # to poke around
#
# Without KVM and nixpkgs, scripts/check-nix.sh evaluates it (nix/tests/vm-eval.nix): the nodes'
# configurations under the module and the NixOS stubs, and the test script.
#
# Nodes
#   acme       Pebble (https://acme.test/dir) + BIND 9 (:53, authoritative for example.test:
#              the test hosts' A records; dynamic updates signed with a TSIG key); Pebble's TLS
#              certificate is signed by a test CA that the clients trust through
#              security.pki.certificateFiles (the system trust store), not caBundle
#   server     nginx serving server.example.test through useACMERenewHost; http-01 through
#              nginx (webroot): the renewal needs nginx running, nginx needs only the ready unit;
#              and *.dns.example.test by dns-01, dnsProvider = "rfc2136" against the BIND, its
#              credentials the security.acme way (environmentFile, credentialFiles)
#   firstboot  no web server; http-01 with our own listener on :80 (CAP_NET_BIND_SERVICE)
#
# Subtests
#   1. first boot, CA unreachable: nginx is up at once with the placeholder; the renewal exits 3
#      and waits for its 15 min retry; nothing failed; a switch with the CA still down succeeds
#   2. the CA comes up: the renewal issues the certificate through nginx's webroot, nginx is
#      reloaded (polkit) and serves it; first issuance on the listenHTTP node, key type; the
#      wildcard through rfc2136 (TSIG) against BIND, the record removed afterwards, the secret in
#      no log
#   3. a switch that changes the names: it returns at once although the CA does not answer (the
#      renewal runs after it, started by the ready unit); once the CA answers, the new names
#   4. reboot with the network (and the CA) down and a valid certificate: nginx is active while
#      network-online.target is still waiting; the old certificate is served; the renewal, once
#      the network is back and the CA is not, exits 75
{ pkgs, acme-renew }:
let
  inherit (pkgs) lib;

  caDomain = "acme.test";
  domain = "example.test";
  serverCert = "server.${domain}";
  firstbootCert = "firstboot.${domain}";
  webroot = "/var/lib/acme-renew-challenges";
  wildCert = "wild.${domain}";
  # Present on the server: its boot cannot reach network-online.target for two minutes.
  netDownFlag = "/var/lib/test-network-down";

  # dns-01: BIND's TSIG key for dynamic updates of example.test. A test secret, hence in the store
  # here — a real host never does that (the module takes file names only and asserts they are
  # outside the store); the server gets it as a root-only file before its units start.
  tsigKey = "acme-renew.";
  tsigSecret = "fh1YAX1EguZrGvZHnVd7wuXejP/LT4OwaTUZvUy8dd4=";

  # The CA's own TLS certificate (Pebble's WFE) and the CA that signs it, made with minica like
  # nixpkgs' acme tests do (common/acme/server/generate-certs.nix).
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

  # What every client node has: the module, the test CA in the system trust store, Pebble as the
  # server.
  client =
    { ... }:
    {
      imports = [ ../module.nix ];
      networking.domain = domain;
      environment.systemPackages = [
        pkgs.openssl
        pkgs.curl
      ];
      # security.pki: /etc/ssl/certs/ca-certificates.crt, which the renewal trusts (#9).
      security.pki.certificateFiles = [ "${testCA}/ca.cert.pem" ];
      services.acme-renew = {
        package = acme-renew;
        acceptTerms = true;
        defaults = {
          server = "https://${caDomain}/dir";
          email = "hostmaster@${domain}";
          # Bounds how long one renewal waits for an unreachable CA.
          timeout = 60;
        };
      };
    };

  # The test starts the renewals itself (or the ready units do): no timer behind its back.
  noTimer = name: {
    systemd.timers."acme-renew-${name}".wantedBy = lib.mkForce [ ];
  };
in
{
  name = "acme-renew";

  nodes = {
    acme =
      { nodes, ... }:
      let
        ip = n: nodes.${n}.networking.primaryIPAddress;
        # The zone's file must be writable (dynamic updates, journal): copied to /run/named.
        zone = pkgs.writeText "example.test.zone" ''
          $TTL 60
          @         IN SOA ns.${domain}. hostmaster.${domain}. ( 1 60 60 600 60 )
          @         IN NS  ns.${domain}.
          ns        IN A   ${ip "acme"}
          server    IN A   ${ip "server"}
          www       IN A   ${ip "server"}
          firstboot IN A   ${ip "firstboot"}
        '';
      in
      {
        networking.domain = "test"; # -> acme.test in every node's /etc/hosts
        networking.firewall.allowedTCPPorts = [
          53
          443
          15000
        ];
        networking.firewall.allowedUDPPorts = [ 53 ];
        environment.systemPackages = [
          pkgs.curl
          pkgs.dig
        ];

        services.bind = {
          enable = true;
          extraConfig = ''
            key "${tsigKey}" { algorithm hmac-sha256; secret "${tsigSecret}"; };
          '';
          zones.${domain} = {
            master = true;
            file = "/run/named/${domain}.zone";
            extraConfig = ''allow-update { key "${tsigKey}"; };'';
          };
        };
        systemd.services.bind.preStart = lib.mkAfter ''
          install -m 0644 -o named ${zone} /run/named/${domain}.zone
        '';

        systemd.services.pebble = {
          description = "Pebble ACME test CA";
          wantedBy = [ "multi-user.target" ];
          wants = [ "bind.service" ];
          after = [ "bind.service" ];
          environment = {
            PEBBLE_VA_NOSLEEP = "1";
            PEBBLE_WFE_NONCEREJECT = "0";
            PEBBLE_AUTHZREUSE = "0";
          };
          serviceConfig = {
            ExecStart = "${pkgs.pebble}/bin/pebble -config ${pebbleConfig} -dnsserver 127.0.0.1:53";
            AmbientCapabilities = [ "CAP_NET_BIND_SERVICE" ];
          };
        };
      };

    server =
      { nodes, ... }:
      {
        imports = [
          client
          (noTimer serverCert)
          (noTimer wildCert)
        ];
        networking.firewall.allowedTCPPorts = [
          80
          443
        ];

        services.acme-renew.certs.${serverCert} = {
          inherit webroot;
          # Pebble issues 5-year certificates: with this every run is due, and talks to the CA.
          validMinDays = 3650;
        };

        # dns-01 as a security.acme user has it: lego's provider code and variables.
        services.acme-renew.certs.${wildCert} = {
          domain = "*.dns.${domain}";
          dnsProvider = "rfc2136";
          # where to find the zone and its name servers (the VMs have no other DNS)
          dnsResolver = nodes.acme.networking.primaryIPAddress;
          environmentFile = "/run/secrets/rfc2136.env";
          credentialFiles.RFC2136_TSIG_SECRET_FILE = "/run/secrets/tsig-secret";
        };
        # The test's secrets as root-only files (the renewal gets them through systemd, as root).
        systemd.services.test-secrets = {
          wantedBy = [ "multi-user.target" ];
          before = [ "acme-renew-ready-${wildCert}.service" ];
          serviceConfig = {
            Type = "oneshot";
            RemainAfterExit = true;
          };
          script = ''
            install -d -m 0700 /run/secrets
            printf '%s\n' 'RFC2136_NAMESERVER=${nodes.acme.networking.primaryIPAddress}:53' 'RFC2136_TSIG_KEY=${tsigKey}' 'RFC2136_TSIG_ALGORITHM=hmac-sha256.' > /run/secrets/rfc2136.env
            printf '%s\n' '${tsigSecret}' > /run/secrets/tsig-secret
            chmod 0400 /run/secrets/rfc2136.env /run/secrets/tsig-secret
          '';
        };

        services.nginx = {
          enable = true;
          virtualHosts.${serverCert} = {
            addSSL = true;
            useACMERenewHost = serverCert;
            locations."/".return = "200 'hello from ${serverCert}'";
          };
        };

        # Subtest 4: with the flag file, the boot's network-online.target waits two minutes and
        # the link is down meanwhile — what a host without network sees at boot.
        systemd.services.test-network-down = {
          unitConfig.ConditionPathExists = netDownFlag;
          wantedBy = [ "network-online.target" ];
          before = [ "network-online.target" ];
          after = [ "network.target" ];
          path = [ pkgs.iproute2 ];
          serviceConfig = {
            Type = "oneshot";
            ExecStart = "${pkgs.bash}/bin/bash -c 'ip link set eth1 down; sleep 120; ip link set eth1 up'";
            TimeoutStartSec = "5min";
          };
        };

        specialisation = {
          names.configuration = {
            services.acme-renew.certs.${serverCert}.extraDomainNames = [ "www.${domain}" ];
            services.nginx.virtualHosts.${serverCert}.serverAliases = [ "www.${domain}" ];
          };
          keytype.configuration = {
            services.acme-renew.certs.${serverCert}.keyType = "ec384";
          };
        };
      };

    firstboot =
      { ... }:
      {
        imports = [
          client
          (noTimer firstbootCert)
        ];
        networking.firewall.allowedTCPPorts = [ 80 ];
        # Our own listener on a port < 1024: the module grants CAP_NET_BIND_SERVICE.
        services.acme-renew.certs.${firstbootCert} = {
          listenHTTP = ":80";
          keyType = "ec384";
        };
      };
  };

  testScript =
    { nodes, ... }:
    ''
      import json
      import time

      SERVER = "${serverCert}"
      FIRSTBOOT = "${firstbootCert}"
      WILD = "${wildCert}"


      def renewal(node, name):
          """(ActiveState, SubState, ExecMainStatus) of the renewal acme-renew@<name>.service."""
          out = node.succeed(f"systemctl show -p ActiveState -p SubState -p ExecMainStatus acme-renew@{name}.service")
          p = dict(line.split("=", 1) for line in out.strip().splitlines())
          return (p["ActiveState"], p["SubState"], int(p["ExecMainStatus"]))


      def wait_renewal(node, name, status, timeout=120):
          """Until the renewal has ended with `status`: 0/75 leave it inactive, 3 waits for its
          retry (activating/auto-restart)."""
          want = ("activating", "auto-restart", 3) if status == 3 else ("inactive", "dead", status)
          deadline = time.monotonic() + timeout
          while renewal(node, name) != want:
              assert time.monotonic() < deadline, f"acme-renew@{name}: expected {want}, got {renewal(node, name)}"
              time.sleep(1)


      def renew_now(node, name):
          """What the timer (or the 15 min retry) does: start the renewal."""
          node.succeed(f"systemctl start acme-renew@{name}.service")


      def assert_ready(node, name):
          node.succeed(f"systemctl is-active acme-renew-ready-{name}.service")


      def no_failed_units(node):
          node.succeed("test -z \"$(systemctl list-units --state=failed --no-legend)\"")


      def switch_to(node, name):
          """switch-to-configuration test to a specialisation (or back to "base"); must succeed.
          Returns how long it took."""
          node.succeed("test -e /tmp/base-system || ln -s $(readlink -f /run/current-system) /tmp/base-system")
          target = "/tmp/base-system" if name == "base" else f"/tmp/base-system/specialisation/{name}"
          t0 = time.monotonic()
          node.succeed(f"{target}/bin/switch-to-configuration test")
          return time.monotonic() - t0


      def cert_file(name, f="cert.pem"):
          return f"/var/lib/acme-renew/{name}/{f}"


      def fingerprint(node, name):
          return node.succeed(f"openssl x509 -noout -fingerprint -sha256 -in {cert_file(name)}").strip()


      def issuer(node, name):
          return node.succeed(f"openssl x509 -noout -issuer -in {cert_file(name)}").strip()


      def has_name(node, name, host):
          out = node.succeed(f"openssl x509 -noout -checkhost {host} -in {cert_file(name)}")
          return "does match" in out and "NOT" not in out


      def served(node, host):
          return node.succeed(
              f"openssl s_client -connect {host}:443 -servername {host} </dev/null 2>/dev/null"
              " | openssl x509 -noout -fingerprint -sha256 -issuer"
          )


      def wait_served(node, host, fp):
          # the reload is asked for with --no-block: poll
          node.wait_until_succeeds(
              f"openssl s_client -connect {host}:443 -servername {host} </dev/null 2>/dev/null"
              f" | openssl x509 -noout -fingerprint -sha256 | grep -qF '{fp}'",
              timeout=60,
          )


      def ca_silent(on):
          """The CA drops packets (a connection hangs, as an overloaded or filtered CA does)."""
          acme.succeed(f"iptables -{'I' if on else 'D'} INPUT -p tcp --dport 443 -j DROP")


      with subtest("1. first boot, CA unreachable: nginx up with the placeholder, renewal waits for its retry"):
          server.start()
          server.wait_for_unit("nginx.service")
          assert_ready(server, SERVER)
          assert "placeholder" in issuer(server, SERVER), issuer(server, SERVER)
          assert "placeholder" in served(server, SERVER)
          server.succeed(f"journalctl -u acme-renew-ready-{SERVER}.service -o cat | grep -q 'wrote a self-signed placeholder'")
          # the ready unit started the renewal; no CA: exit 3, retried in 15 min, not a failure
          wait_renewal(server, SERVER, 3, timeout=180)
          no_failed_units(server)
          # a switch while the CA is down succeeds and does not wait for it
          took = switch_to(server, "keytype")
          assert took < 60, f"switch took {took:.0f} s"
          no_failed_units(server)
          switch_to(server, "base")
          # the switches started the renewal again; let it end before the CA appears
          wait_renewal(server, SERVER, 3, timeout=180)

          firstboot.start()
          firstboot.wait_for_unit("multi-user.target")
          assert_ready(firstboot, FIRSTBOOT)
          assert "placeholder" in issuer(firstboot, FIRSTBOOT), issuer(firstboot, FIRSTBOOT)
          wait_renewal(firstboot, FIRSTBOOT, 3, timeout=180)
          no_failed_units(firstboot)

      with subtest("2. the CA comes up: issued through nginx's webroot, nginx reloaded and serving it"):
          acme.start()
          acme.wait_for_unit("pebble.service")
          acme.wait_for_unit("bind.service")
          acme.wait_for_open_port(443)
          # the A records the CA resolves (BIND's zone, from the nodes' addresses)
          assert acme.succeed(f"dig +short @127.0.0.1 A {SERVER}").strip() == "${nodes.server.networking.primaryIPAddress}"
          renew_now(server, SERVER)
          wait_renewal(server, SERVER, 0)
          assert "Pebble" in issuer(server, SERVER), issuer(server, SERVER)
          assert has_name(server, SERVER, SERVER)
          first = fingerprint(server, SERVER)
          wait_served(server, SERVER, first)
          server.succeed(f"journalctl -u acme-renew@{SERVER}.service -o cat | grep -q 'asked systemd to reload nginx.service'")
          # useACMERenewHost: the key belongs to nginx's group; the state dir can be traversed
          server.succeed(f"test \"$(stat -L -c '%a %U %G' {cert_file(SERVER, 'key.pem')})\" = '640 acme-renew nginx'")
          server.succeed("test \"$(stat -c '%a' /var/lib/acme-renew)\" = 751")
          server.succeed("test -d ${webroot}/.well-known/acme-challenge")
          no_failed_units(server)

          renew_now(firstboot, FIRSTBOOT)
          wait_renewal(firstboot, FIRSTBOOT, 0)
          assert "Pebble" in issuer(firstboot, FIRSTBOOT), issuer(firstboot, FIRSTBOOT)
          firstboot.succeed(f"openssl x509 -noout -text -in {cert_file(FIRSTBOOT)} | grep -q 'Public-Key: (384 bit)'")
          # no group configured: the key is the service user's alone
          firstboot.succeed(f"test \"$(stat -L -c '%a %U %G' {cert_file(FIRSTBOOT, 'key.pem')})\" = '600 acme-renew acme-renew'")

          # dns-01: rfc2136 (TSIG hmac-sha256) against BIND, the authoritative check, cleanup
          renew_now(server, WILD)
          wait_renewal(server, WILD, 0)
          assert "Pebble" in issuer(server, WILD), issuer(server, WILD)
          assert has_name(server, WILD, "x.dns.${domain}")
          acme.succeed("test -z \"$(dig +short @127.0.0.1 TXT _acme-challenge.dns.${domain})\"")
          # the credentials came through EnvironmentFile= and LoadCredential=, and are in no log
          server.succeed(f"systemctl show -P LoadCredential acme-renew@{WILD}.service | grep -q RFC2136_TSIG_SECRET_FILE")
          server.fail("journalctl -o cat | grep -qF '${tsigSecret}'")
          no_failed_units(server)

      with subtest("3. a switch that changes the names returns at once, the renewal follows"):
          ca_silent(True)
          took = switch_to(server, "names")
          # the renewal hangs on the silent CA meanwhile; the switch did not wait for it
          assert took < 60, f"switch took {took:.0f} s"
          server.wait_until_succeeds(f"systemctl is-active acme-renew@{SERVER}.service", timeout=60)
          ca_silent(False)
          server.wait_until_succeeds(f"openssl x509 -noout -checkhost www.${domain} -in {cert_file(SERVER)} | grep -q 'does match'", timeout=300)
          wait_renewal(server, SERVER, 0, timeout=300)
          with_www = fingerprint(server, SERVER)
          assert with_www != first
          wait_served(server, SERVER, with_www)
          no_failed_units(server)

      with subtest("4. reboot, network and CA down, valid certificate: nginx does not wait"):
          switch_to(server, "base")
          before = fingerprint(server, SERVER)
          acme.shutdown()
          server.succeed("touch ${netDownFlag}")
          server.shutdown()
          server.start()
          server.wait_for_unit("nginx.service", timeout=60)
          # nginx is up while the boot still waits for the network
          state = server.succeed("systemctl show -P ActiveState network-online.target").strip()
          assert state != "active", f"network-online.target is {state}: the test's network outage did not happen"
          assert_ready(server, SERVER)
          assert before in served(server, SERVER), "nginx does not serve the old certificate"
          # the renewal waits for the network (a queued start job), nothing waits for it
          server.succeed(f"systemctl list-jobs --no-legend | grep -q 'acme-renew@{SERVER}.service'")
          # the network comes back, the CA does not: the certificate stays, exit 75
          server.succeed("rm ${netDownFlag}")
          server.wait_for_unit("network-online.target", timeout=300)
          wait_renewal(server, SERVER, 75, timeout=300)
          assert fingerprint(server, SERVER) == before, "certificate changed"
          no_failed_units(server)
    '';
}
