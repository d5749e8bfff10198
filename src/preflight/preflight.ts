/**
 * Cheap facts gathered before the network stage, so that a failure can say why and the retries can
 * stop early when there is no network at all: interfaces and default route, the clock, free space.
 *
 * No external program: the interfaces come from getifaddrs(3) (os.networkInterfaces(), which lists
 * only interfaces that are up and running), the default routes from the kernel's tables in
 * /proc/net/route and /proc/net/ipv6_route (both follow the reader's network namespace). A unit's
 * PATH need not hold iproute2 — NixOS units have none.
 */
import { readFile, statfs } from "node:fs/promises";
import { networkInterfaces } from "node:os";

export interface PreflightReport {
  network: {
    /** Non-loopback interfaces that are up (with an address). */
    interfacesUp: string[];
    defaultRoute: string | null;
    /** The CA is on this machine: routes do not matter. */
    loopbackServer: boolean;
    /** No way out: neither an interface up nor a default route (and the CA is not local). */
    down: boolean;
  };
  clock: { now: string; floor: string | null; sane: boolean };
  disk: { path: string; freeBytes: number | null; low: boolean };
}

const LOW_DISK = 1024 * 1024;
// route flags (linux/route.h)
const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

function isLoopbackHost(url: string): boolean {
  try {
    const h = new URL(url).hostname.replace(/^\[|\]$/g, "");
    return h === "localhost" || h === "::1" || /^127\./.test(h);
  } catch {
    return false;
  }
}

/** "0101A8C0" (the kernel's little-endian hex) -> "192.168.1.1". */
function ipv4FromHex(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join(".");
}

/** "fe800000000000000000000000000001" -> "fe80:0:0:0:0:0:0:1". */
function ipv6FromHex(hex: string): string {
  return (hex.match(/.{4}/g) ?? []).map((g) => Number.parseInt(g, 16).toString(16)).join(":");
}

/**
 * The first usable IPv4 default route of /proc/net/route ("Iface Destination Gateway Flags … Mask"
 * per line, hex), as "default via <gw> dev <if>" or "default dev <if>"; null when there is none.
 */
export function ipv4DefaultRoute(table: string): string | null {
  for (const line of table.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, gw, flagsHex, , , , mask] = f as [string, string, string, string, string, string, string, string];
    const flags = Number.parseInt(flagsHex, 16);
    if (dest !== "00000000" || mask !== "00000000" || iface === "lo" || !(flags & RTF_UP) || flags & RTF_REJECT) continue;
    return gw === "00000000" ? `default dev ${iface}` : `default via ${ipv4FromHex(gw)} dev ${iface}`;
  }
  return null;
}

/**
 * The first usable IPv6 default route of /proc/net/ipv6_route (dest, dest prefix, src, src prefix,
 * next hop, metric, refcnt, use, flags, iface per line); reject routes (e.g. the "unreachable
 * default" on lo of hosts without IPv6) do not count.
 */
export function ipv6DefaultRoute(table: string): string | null {
  for (const line of table.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [dest, prefix, , , via, , , , flagsHex, iface] = f as [string, string, string, string, string, string, string, string, string, string];
    const flags = Number.parseInt(flagsHex, 16);
    if (!/^0{32}$/.test(dest) || prefix !== "00" || iface === "lo" || !(flags & RTF_UP) || flags & RTF_REJECT) continue;
    return /^0{32}$/.test(via) ? `default dev ${iface}` : `default via ${ipv6FromHex(via)} dev ${iface}`;
  }
  return null;
}

async function readOrEmpty(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return ""; // no IPv6 (or no /proc): no route from this table
  }
}

interface NetworkFacts {
  interfacesUp: string[];
  defaultRoute: string | null;
}

async function networkFacts(): Promise<NetworkFacts> {
  let interfacesUp: string[];
  try {
    interfacesUp = Object.entries(networkInterfaces())
      .filter(([, addrs]) => (addrs ?? []).some((a) => !a.internal))
      .map(([name]) => name);
  } catch {
    // getifaddrs refused (e.g. no AF_NETLINK in the sandbox): unknown, do not claim "down".
    interfacesUp = ["?"];
  }
  const [v4, v6] = await Promise.all([readOrEmpty("/proc/net/route"), readOrEmpty("/proc/net/ipv6_route")]);
  if (v4 === "" && v6 === "") return { interfacesUp, defaultRoute: "?" }; // no /proc/net at all: unknown
  return { interfacesUp, defaultRoute: ipv4DefaultRoute(v4) ?? ipv6DefaultRoute(v6) };
}

export async function preflight(server: string, stateDir: string, now: Date, floor: Date | null): Promise<PreflightReport> {
  const loopbackServer = isLoopbackHost(server);
  const { interfacesUp, defaultRoute } = await networkFacts();
  let freeBytes: number | null = null;
  try {
    const s = await statfs(stateDir);
    freeBytes = s.bavail * s.bsize;
  } catch {
    freeBytes = null;
  }
  return {
    network: { interfacesUp, defaultRoute, loopbackServer, down: !loopbackServer && (interfacesUp.length === 0 || defaultRoute === null) },
    clock: { now: now.toISOString(), floor: floor?.toISOString() ?? null, sane: !floor || now.getTime() >= floor.getTime() },
    disk: { path: stateDir, freeBytes, low: freeBytes !== null && freeBytes < LOW_DISK },
  };
}

/** One line for a failure's log entry. */
export function summarize(r: PreflightReport): string {
  const n = r.network;
  const net = n.loopbackServer ? "CA on loopback" : n.down ? `network down (interfaces up: ${n.interfacesUp.join(",") || "none"}; default route: ${n.defaultRoute ?? "none"})` : `network up (${n.interfacesUp.join(",")}; ${n.defaultRoute})`;
  const disk = r.disk.freeBytes === null ? "free space unknown" : `${(r.disk.freeBytes / 1048576).toFixed(0)} MiB free in ${r.disk.path}`;
  return `preflight: ${net}; clock ${r.clock.sane ? "sane" : `before build time ${r.clock.floor}`}; ${disk}`;
}
