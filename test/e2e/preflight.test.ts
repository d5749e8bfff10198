/**
 * The preflight's network facts without any external program (NixOS units have no iproute2 on
 * PATH): the built CLI's `doctor` runs with PATH pointing nowhere, inside network namespaces made
 * with `unshare -n` — one with nothing but loopback, one that looks like an IPv4-only host (a veth
 * pair, an address, a default route, IPv6 disabled). The namespace is set up with ip(8) before
 * the CLI starts; the CLI itself gets PATH=/nonexistent.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { sandbox } from "../helpers/cli.js";

const NAME = "p.example.com";

// Runs "$0" "$@" (node + CLI args) in a fresh network namespace after `setup`, with PATH stripped.
const inNetns = (setup: string) => ["unshare", "-n", "sh", "-euc", `${setup}\nexec env PATH=/nonexistent "$0" "$@"`];

const IPV4_ONLY_HOST = [
  "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1",
  "ip link set lo up",
  "ip link add v0 type veth peer name v1",
  "ip addr add 192.0.2.2/24 dev v0",
  "ip addr add 192.0.2.1/24 dev v1",
  "ip link set v0 up",
  "ip link set v1 up",
  "ip route add default via 192.0.2.1 dev v0",
].join("\n");

describe("preflight: no ip(8) on PATH", { timeout: 120_000 }, () => {
  test("IPv4-only host with a default route: network up, the route named", async () => {
    const s = sandbox();
    // The CA "is" the peer address: connecting is refused at once, so doctor does not wait.
    s.writeConfig(NAME, { server: "https://192.0.2.1/dir", listenHTTP: ":80" });
    const r = await s.cli(["doctor", NAME], { wrapper: inNetns(IPV4_ONLY_HOST) });
    assert.match(r.stdout, /ok {3}network {6}interfaces up: (v0, v1|v1, v0); default route: default via 192\.0\.2\.1 dev v0\n/, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL CA\s+https:\/\/192\.0\.2\.1\/dir: ECONNREFUSED/, r.stdout + r.stderr);
  });

  test("a point-to-point default route (no gateway) counts", async () => {
    const s = sandbox();
    s.writeConfig(NAME, { server: "https://192.0.2.1/dir", listenHTTP: ":80" });
    const setup = IPV4_ONLY_HOST.replace("ip route add default via 192.0.2.1 dev v0", "ip route add default dev v0");
    const r = await s.cli(["doctor", NAME], { wrapper: inNetns(setup) });
    assert.match(r.stdout, /ok {3}network {6}interfaces up: .*; default route: default dev v0\n/, r.stdout + r.stderr);
  });

  test("unshare -n (loopback only): network down", async () => {
    const s = sandbox();
    s.writeConfig(NAME, { server: "https://192.0.2.1/dir", listenHTTP: ":80" });
    const r = await s.cli(["doctor", NAME], { wrapper: inNetns("true") });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL network {6}interfaces up: none; default route: none\n/, r.stdout + r.stderr);
  });

  test("interfaces up but no default route: network down", async () => {
    const s = sandbox();
    s.writeConfig(NAME, { server: "https://192.0.2.1/dir", listenHTTP: ":80" });
    const setup = IPV4_ONLY_HOST.replace("ip route add default via 192.0.2.1 dev v0", "true");
    const r = await s.cli(["doctor", NAME], { wrapper: inNetns(setup) });
    assert.match(r.stdout, /FAIL network {6}interfaces up: .*v0.*; default route: none\n/, r.stdout + r.stderr);
  });
});
