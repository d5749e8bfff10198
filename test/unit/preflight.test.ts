/** The preflight's readers of the kernel's routing tables (/proc/net/route, /proc/net/ipv6_route). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ipv4DefaultRoute, ipv6DefaultRoute } from "../../src/preflight/preflight.js";

const V4_HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT";
const v4 = (...rows: string[]) => [V4_HEADER, ...rows].join("\n") + "\n";

test("IPv4: the default route with its gateway (little-endian hex)", () => {
  const t = v4("eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0", "eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0");
  assert.equal(ipv4DefaultRoute(t), "default via 192.0.2.1 dev eth0");
});

test("IPv4: a point-to-point default route has no gateway", () => {
  assert.equal(ipv4DefaultRoute(v4("wg0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0")), "default dev wg0");
});

test("IPv4: no default route, a reject route, a route that is not up, the header alone", () => {
  assert.equal(ipv4DefaultRoute(v4("eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0")), null);
  assert.equal(ipv4DefaultRoute(v4("eth0\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0")), null);
  assert.equal(ipv4DefaultRoute(v4("eth0\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0")), null);
  assert.equal(ipv4DefaultRoute(v4()), null);
  assert.equal(ipv4DefaultRoute(""), null);
});

test("IPv4: a 0.0.0.0 destination with a non-zero mask is not a default route", () => {
  assert.equal(ipv4DefaultRoute(v4("eth0\t00000000\t010200C0\t0003\t0\t0\t0\t000000FF\t0\t0\t0")), null);
});

const Z = "00000000000000000000000000000000";
test("IPv6: the default route via a link-local gateway", () => {
  const t = [
    `fe800000000000000000000000000000 40 ${Z} 00 ${Z} 00000100 00000001 00000000 00000001 eth0`,
    `${Z} 00 ${Z} 00 fe800000000000000000000000000001 00000400 00000001 00000000 00450003 eth0`,
  ].join("\n");
  assert.equal(ipv6DefaultRoute(t), "default via fe80:0:0:0:0:0:0:1 dev eth0");
});

test("IPv6: the unreachable default on lo (hosts without IPv6) and reject routes do not count", () => {
  assert.equal(ipv6DefaultRoute(`${Z} 00 ${Z} 00 ${Z} ffffffff 00000001 00000000 00200200 lo`), null);
  assert.equal(ipv6DefaultRoute(`${Z} 00 ${Z} 00 ${Z} ffffffff 00000001 00000000 00200201 eth0`), null);
  assert.equal(ipv6DefaultRoute(""), null);
});

test("IPv6: a default route without a next hop", () => {
  assert.equal(ipv6DefaultRoute(`${Z} 00 ${Z} 00 ${Z} 00000400 00000001 00000000 00000001 tun0`), "default dev tun0");
});
