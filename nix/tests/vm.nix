# NixOS VM test of nix/module.nix, in the style of nixpkgs' nixos/tests/acme/: Pebble as the CA,
# pebble-challtestsrv as its DNS (A records for http-01, TXT records for dns-01).
#
#   nix-build nix/tests -A vm             (needs KVM; nix/tests/default.nix)
#   $(nix-build nix/tests -A vm.driverInteractive)/bin/nixos-test-driver   # to poke around
#
# Nodes
#   acme       Pebble (https://acme.test/dir) + challtestsrv (DNS :8053, management :8055)
#   server     nginx serving server.example.test through useACMERenewHost; dns-01 via a hook
#              that writes TXT records into challtestsrv; validMinDays = 3650, so that every run
#              is due (Pebble issues 5-year certificates)
#   firstboot  no web server; http-01 with our own listener on :80; boots while the CA is down
#
# Subtests
#   1. first boot with the CA unreachable: placeholder, unit active (exited) with status 1, the
#      system is "running" (no failed unit), and a `switch` while the CA is still down succeeds
#   2. CA back: the timer's unit (acme-renew-rerun@) issues the certificate
#   3. first issuance at boot (server), key/dir permissions, nginx serves it
#   4. renewal through acme-renew-rerun@ (the timer's unit); nginx reloaded through polkit
#   5. switch to a configuration where nothing is due: re-run, no renewal
#   6. config change of names -> re-issued by the switch itself
#   7. webroot challenge served by nginx (useACMERenewHost adds the location)
#   8. CA down at boot: nginx still starts with the old certificate, the unit is
#      active (exited) with ExecMainStatus 75, nothing failed
{ pkgs, acme-renew }:
let
  inherit (pkgs) lib;

  caDomain = "acme.test";
  domain = "example.test";
  serverCert = "server.${domain}";
  firstbootCert = "firstboot.${domain}";
  webroot = "/var/lib/acme-renew-challenges";

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

  # dns-01 hook (lego's exec protocol) writing into challtestsrv's management API.
  dnsHook = pkgs.writeShellScript "challtestsrv-dns-hook" ''
    set -eu
    case "$1" in
      present) exec ${pkgs.curl}/bin/curl -fsS -d "{\"host\":\"$2\",\"value\":\"$3\"}" http://${caDomain}:8055/set-txt ;;
      cleanup) exec ${pkgs.curl}/bin/curl -fsS -d "{\"host\":\"$2\"}" http://${caDomain}:8055/clear-txt ;;
      *) echo "unknown action $1" >&2; exit 2 ;;
    esac
  '';

  # What every client node has: the module, the test CA, Pebble as the server.
  client =
    { lib, ... }:
    {
      imports = [ ../module.nix ];
      networking.domain = domain;
      environment.systemPackages = [
        pkgs.openssl
        pkgs.curl
      ];
      services.acme-renew = {
        package = acme-renew;
        acceptTerms = true;
        defaults = {
          server = "https://${caDomain}/dir";
          email = "hostmaster@${domain}";
          # Node.js trusts its own CA list, not the system's: the test CA comes in here.
          caBundle = "${testCA}/ca.cert.pem";
          # Bounds how long a boot waits for an unreachable CA.
          timeout = 20;
        };
      };
    };

  # The test triggers runs itself (acme-renew-rerun@<name>.service is what the timer starts):
  # no timer may renew behind its back.
  noTimer = name: {
    systemd.timers."acme-renew@${name}".wantedBy = lib.mkForce [ ];
  };
in
{
  name = "acme-renew";

  nodes = {
    acme =
      { ... }:
      {
        networking.domain = "test"; # -> acme.test in every node's /etc/hosts
        networking.firewall.allowedTCPPorts = [
          443
          15000
          8053
          8055
        ];
        networking.firewall.allowedUDPPorts = [ 8053 ];
        environment.systemPackages = [ pkgs.curl ];

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

    server =
      { nodes, lib, ... }:
      {
        imports = [
          client
          (noTimer serverCert)
        ];
        networking.firewall.allowedTCPPorts = [
          80
          443
        ];

        services.acme-renew.certs.${serverCert} = {
          dnsHook = dnsHook;
          # Node's resolver takes an IP address.
          dnsResolver = "${nodes.acme.networking.primaryIPAddress}:8053";
          dnsPropagationTimeout = 30;
          validMinDays = lib.mkDefault 3650;
        };

        services.nginx = {
          enable = true;
          virtualHosts.${serverCert} = {
            addSSL = true;
            useACMERenewHost = serverCert;
            locations."/".return = "200 'hello from ${serverCert}'";
            # What useACMERenewHost adds once the certificate has a webroot (the "webroot"
            # specialisation), set here from the start: nginx's config must not change between
            # base and "webroot", or the switch could stop nginx while acme-renew@ runs (nginx is
            # ordered after it) and the http-01 validation would find no web server.
            # nix/tests/module-eval.nix checks that the module adds exactly this location.
            locations."^~ /.well-known/acme-challenge/".root = webroot;
          };
        };

        specialisation = {
          notdue.configuration = {
            services.acme-renew.certs.${serverCert}.validMinDays = "auto";
          };
          names.configuration = {
            services.acme-renew.certs.${serverCert} = {
              validMinDays = "auto";
              extraDomainNames = [ "www.${domain}" ];
            };
            services.nginx.virtualHosts.${serverCert}.serverAliases = [ "www.${domain}" ];
          };
          webroot.configuration = {
            services.acme-renew.certs.${serverCert} = {
              dnsHook = lib.mkForce null;
              dnsResolver = lib.mkForce null;
              dnsPropagationTimeout = lib.mkForce null;
              webroot = webroot;
            };
          };
        };
      };

    firstboot =
      { lib, ... }:
      {
        imports = [
          client
          (noTimer firstbootCert)
        ];
        networking.firewall.allowedTCPPorts = [ 80 ];
        # Our own listener on a port < 1024: the module grants CAP_NET_BIND_SERVICE.
        services.acme-renew.certs.${firstbootCert}.listenHTTP = ":80";
        specialisation.keytype.configuration = {
          services.acme-renew.certs.${firstbootCert}.keyType = "ec384";
        };
      };
  };

  testScript =
    { nodes, ... }:
    ''
      import json

      SERVER = "${serverCert}"
      FIRSTBOOT = "${firstbootCert}"


      def unit_state(node, name):
          """(ActiveState, SubState, ExecMainStatus) of acme-renew@<name>.service."""
          out = node.succeed(f"systemctl show -p ActiveState -p SubState -p ExecMainStatus acme-renew@{name}.service")
          p = dict(line.split("=", 1) for line in out.strip().splitlines())
          return (p["ActiveState"], p["SubState"], int(p["ExecMainStatus"]))


      def assert_unit(node, name, status):
          state = unit_state(node, name)
          assert state == ("active", "exited", status), f"acme-renew@{name}: expected active/exited/{status}, got {state}"


      def wait_for_running(node):
          # "running" only when no unit failed ("degraded" fails this)
          node.succeed("systemctl is-system-running --wait")


      def switch_to(node, name):
          """switch-to-configuration test to a specialisation (or back to "base"); must succeed."""
          node.succeed("test -e /tmp/base-system || ln -s $(readlink -f /run/current-system) /tmp/base-system")
          target = "/tmp/base-system" if name == "base" else f"/tmp/base-system/specialisation/{name}"
          node.succeed(f"{target}/bin/switch-to-configuration test")


      def cert_file(name, f="cert.pem"):
          return f"/var/lib/acme-renew/{name}/{f}"


      def fingerprint(node, name):
          return node.succeed(f"openssl x509 -noout -fingerprint -sha256 -in {cert_file(name)}").strip()


      def issuer(node, name):
          return node.succeed(f"openssl x509 -noout -issuer -in {cert_file(name)}").strip()


      def has_name(node, name, host):
          out = node.succeed(f"openssl x509 -noout -checkhost {host} -in {cert_file(name)}")
          return "does match" in out and "NOT" not in out


      def served_fingerprint(node, host):
          return node.succeed(
              f"openssl s_client -connect {host}:443 -servername {host} </dev/null 2>/dev/null"
              " | openssl x509 -noout -fingerprint -sha256"
          ).strip()


      def wait_served(node, host, fp):
          # the reload is asked for with --no-block: poll
          node.wait_until_succeeds(
              f"openssl s_client -connect {host}:443 -servername {host} </dev/null 2>/dev/null"
              f" | openssl x509 -noout -fingerprint -sha256 | grep -qF '{fp}'",
              timeout=60,
          )


      def rerun(node, name):
          """What the timer does: acme-renew-rerun@<name>.service restarts the unit, exits with its status."""
          node.succeed(f"systemctl start acme-renew-rerun@{name}.service")


      def add_a(host, ip):
          acme.succeed(
              "curl -fsS -d " + json.dumps(json.dumps({"host": host + ".", "addresses": [ip]}))
              + " http://localhost:8055/add-a"
          )


      with subtest("first boot with the CA unreachable: placeholder, exit 1 is not a failure"):
          firstboot.start()
          firstboot.wait_for_unit("multi-user.target")
          wait_for_running(firstboot)
          assert_unit(firstboot, FIRSTBOOT, 1)
          assert "placeholder" in issuer(firstboot, FIRSTBOOT), issuer(firstboot, FIRSTBOOT)
          firstboot.succeed("journalctl -u acme-renew@${firstbootCert}.service -o cat | grep -q 'wrote a self-signed placeholder'")
          # nixos-rebuild switch with a changed config and the CA still down: must not fail
          switch_to(firstboot, "keytype")
          wait_for_running(firstboot)
          assert_unit(firstboot, FIRSTBOOT, 1)

      with subtest("the CA comes up: the timer's unit issues the certificate"):
          acme.start()
          acme.wait_for_unit("pebble.service")
          acme.wait_for_open_port(443)
          acme.wait_for_open_port(8055)
          add_a(FIRSTBOOT, "${nodes.firstboot.networking.primaryIPAddress}")
          add_a(SERVER, "${nodes.server.networking.primaryIPAddress}")
          rerun(firstboot, FIRSTBOOT)
          assert_unit(firstboot, FIRSTBOOT, 0)
          assert "Pebble" in issuer(firstboot, FIRSTBOOT), issuer(firstboot, FIRSTBOOT)
          assert has_name(firstboot, FIRSTBOOT, FIRSTBOOT)
          firstboot.succeed(f"openssl x509 -noout -text -in {cert_file(FIRSTBOOT)} | grep -q 'Public-Key: (384 bit)'")
          # no group configured: the key is the service user's alone
          firstboot.succeed(f"test \"$(stat -L -c '%a %U %G' {cert_file(FIRSTBOOT, 'key.pem')})\" = '600 acme-renew acme-renew'")

      with subtest("first issuance at boot; nginx serves it"):
          server.start()
          server.wait_for_unit("nginx.service")
          wait_for_running(server)
          assert_unit(server, SERVER, 0)
          assert "Pebble" in issuer(server, SERVER), issuer(server, SERVER)
          assert has_name(server, SERVER, SERVER)
          # useACMERenewHost: the key belongs to nginx's group; the state dir can be traversed
          server.succeed(f"test \"$(stat -L -c '%a %U %G' {cert_file(SERVER, 'key.pem')})\" = '640 acme-renew nginx'")
          server.succeed("test \"$(stat -c '%a' /var/lib/acme-renew)\" = 751")
          server.succeed("test \"$(stat -c '%a' /var/lib/acme-renew/accounts)\" = 700")
          first = fingerprint(server, SERVER)
          wait_served(server, SERVER, first)

      with subtest("renewal through the timer's unit; nginx reloaded (polkit)"):
          rerun(server, SERVER)
          assert_unit(server, SERVER, 0)
          renewed = fingerprint(server, SERVER)
          assert renewed != first, "not renewed"
          wait_served(server, SERVER, renewed)
          server.succeed("journalctl -u acme-renew@${serverCert}.service -o cat | grep -q 'asked systemd to reload nginx.service'")

      with subtest("switch to a configuration where nothing is due: no renewal"):
          switch_to(server, "notdue")
          wait_for_running(server)
          assert_unit(server, SERVER, 0)
          assert fingerprint(server, SERVER) == renewed, "renewed although not due"

      with subtest("config change of names: the switch re-issues"):
          switch_to(server, "names")
          wait_for_running(server)
          assert_unit(server, SERVER, 0)
          assert has_name(server, SERVER, "www.${domain}"), "www name missing"
          with_www = fingerprint(server, SERVER)
          assert with_www != renewed
          wait_served(server, SERVER, with_www)

      with subtest("webroot challenge served by nginx"):
          # Back to base first (nginx drops the www alias, a dns-01 renewal since validMinDays
          # = 3650 again): from base to "webroot" nginx's config does not change, so nginx keeps
          # running through the switch and can answer the http-01 validation.
          switch_to(server, "base")
          wait_for_running(server)
          assert_unit(server, SERVER, 0)
          assert not has_name(server, SERVER, "www.${domain}")
          before_webroot = fingerprint(server, SERVER)
          switch_to(server, "webroot")
          wait_for_running(server)
          assert_unit(server, SERVER, 0)
          server.succeed("test -d ${webroot}/.well-known/acme-challenge")
          via_webroot = fingerprint(server, SERVER)
          assert via_webroot != before_webroot, "not re-issued through the webroot"
          wait_served(server, SERVER, via_webroot)

      with subtest("CA down at boot: nginx starts with the old certificate, exit 75"):
          switch_to(server, "base")
          before = fingerprint(server, SERVER)
          acme.succeed("systemctl stop pebble.service")
          server.shutdown()
          server.start()
          server.wait_for_unit("nginx.service")
          wait_for_running(server)
          # validMinDays = 3650: due, the CA refuses connections, the certificate stays
          assert_unit(server, SERVER, 75)
          assert fingerprint(server, SERVER) == before, "certificate changed"
          assert served_fingerprint(server, SERVER) == before, "nginx does not serve the old certificate"
          server.succeed("journalctl -b -u acme-renew@${serverCert}.service -o cat | grep -q 'the current certificate stays in use'")
    '';
}
