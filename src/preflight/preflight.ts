/**
 * Cheap facts gathered before the network stage, so that a failure can say why and the retries can
 * stop early when there is no network at all: interfaces and default route, the clock, free space.
 */
import { readFile, statfs } from "node:fs/promises";

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

function isLoopbackHost(url: string): boolean {
  try {
    const h = new URL(url).hostname.replace(/^\[|\]$/g, "");
    return h === "localhost" || h === "::1" || /^127\./.test(h);
  } catch {
    return false;
  }
}

/** An IPv6 default route from /proc (systeminformation reports the IPv4 gateway only). */
async function ipv6DefaultRoute(): Promise<string | null> {
  try {
    const text = await readFile("/proc/net/ipv6_route", "utf8");
    for (const l of text.split("\n")) {
      const f = l.trim().split(/\s+/);
      if (f[0] === "00000000000000000000000000000000" && f[1] === "00" && f[9] !== "lo") return `default via ${f[4]} dev ${f[9]}`;
    }
  } catch {
    /* no IPv6 */
  }
  return null;
}

interface NetworkFacts {
  interfacesUp: string[];
  defaultRoute: string | null;
}

async function gatherNetwork(): Promise<NetworkFacts> {
  try {
    const si = (await import("systeminformation")).default;
    const [ifaces, gw] = await Promise.all([si.networkInterfaces(), si.networkGatewayDefault()]);
    const list = Array.isArray(ifaces) ? ifaces : [ifaces];
    const interfacesUp = list.filter((i) => !i.internal && i.operstate === "up" && (i.ip4 || i.ip6)).map((i) => i.iface);
    return { interfacesUp, defaultRoute: gw ? `default via ${gw}` : await ipv6DefaultRoute() };
  } catch {
    // Unknown: do not claim the network is down.
    return { interfacesUp: ["?"], defaultRoute: "?" };
  }
}

/**
 * systeminformation runs blocking helper commands (~135 ms of stalled event loop per call, measured
 * in a 20-certificate `run --all`), so one process asks at most once a minute, however many
 * certificates it renews.
 */
const NETWORK_TTL_MS = 60_000;
let network: { at: number; facts: Promise<NetworkFacts> } | null = null;
function networkFacts(): Promise<NetworkFacts> {
  const t = performance.now();
  if (!network || t - network.at > NETWORK_TTL_MS) network = { at: t, facts: gatherNetwork() };
  return network.facts;
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
