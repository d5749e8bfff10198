/**
 * What dns-01 asks a recursive resolver (`dnsResolver`, else the servers of /etc/resolv.conf), the
 * way lego does: the zone of a name (SOA, walking up the labels), the zone's name servers and their
 * addresses. Zones are remembered for the run (a wildcard and its base share them).
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { DnsServer } from "../config/names.js";
import { DnsError, query, serverText } from "./client.js";
import { TYPE, fqdn, nameEq, rcodeName, type Message } from "./wire.js";

/** The nameserver lines of resolv.conf (port 53). */
export function systemResolvers(file = "/etc/resolv.conf"): DnsServer[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: DnsServer[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const host = m?.[1]?.replace(/%.*$/, "");
    if (host && isIP(host)) out.push({ host, port: 53 });
  }
  return out;
}

export interface Zone {
  /** Zone apex, absolute ("example.com."). */
  name: string;
  /** The SOA's primary name server. */
  primary: string;
}

export class Lookup {
  private readonly zones = new Map<string, Promise<Zone>>();
  readonly servers: DnsServer[];

  constructor(
    servers: DnsServer[],
    /** The bound of each query (read at every query: the solver's phase changes). */
    private readonly signal: () => AbortSignal | undefined = () => undefined,
    private readonly timeoutMs = 5000,
  ) {
    this.servers = servers.length ? servers : systemResolvers();
  }

  describe(): string {
    return this.servers.length ? this.servers.map(serverText).join(", ") : "no resolver (/etc/resolv.conf lists none)";
  }

  /** One recursive query (RD set) to the resolvers, in order. */
  ask(name: string, type: number): Promise<Message> {
    if (!this.servers.length) throw new DnsError("network", "no DNS resolver: set dnsResolver, or list a nameserver in /etc/resolv.conf");
    return query(this.servers, name, type, { recursive: true, timeoutMs: this.timeoutMs, signal: this.signal() });
  }

  /** The zone holding `name`: the closest enclosing name whose SOA is in an answer (no CNAME there). */
  findZone(name: string): Promise<Zone> {
    const key = fqdn(name);
    let z = this.zones.get(key);
    if (!z) {
      z = this.walk(key);
      this.zones.set(key, z);
      z.catch(() => this.zones.delete(key));
    }
    return z;
  }

  private async walk(name: string): Promise<Zone> {
    const labels = name.slice(0, -1).split(".");
    let last = "";
    for (let i = 0; i < labels.length; i++) {
      const candidate = `${labels.slice(i).join(".")}.`;
      const m = await this.ask(candidate, TYPE.SOA);
      if (m.rcode === 3) continue;
      if (m.answers.some((rr) => rr.type === TYPE.CNAME)) continue;
      const soa = m.answers.find((rr) => rr.type === TYPE.SOA && rr.soa);
      if (soa) return { name: fqdn(soa.name), primary: fqdn(soa.soa!.mname) };
      last = `${candidate} ${rcodeName(m.rcode)} without SOA`;
    }
    throw new DnsError("rcode", `no zone found for ${name}: no SOA record above it (asked ${this.describe()}${last ? `; last: ${last}` : ""})`);
  }

  /** The NS names of a zone. */
  async nameservers(zone: string): Promise<string[]> {
    const m = await this.ask(zone, TYPE.NS);
    const ns = [...new Set(m.answers.filter((rr) => rr.type === TYPE.NS && nameEq(rr.name, zone) && rr.target).map((rr) => fqdn(rr.target!)))];
    if (!ns.length) throw new DnsError("rcode", `zone ${zone} has no NS records (asked ${this.describe()}: ${rcodeName(m.rcode)})`);
    return ns;
  }

  /** IPv4 then IPv6 addresses of a host (a literal address is itself). */
  async addresses(host: string): Promise<string[]> {
    const bare = host.replace(/\.$/, "");
    if (isIP(bare)) return [bare];
    const out: string[] = [];
    for (const type of [TYPE.A, TYPE.AAAA]) {
      try {
        const m = await this.ask(host, type);
        for (const rr of m.answers) if (rr.type === type && rr.address) out.push(rr.address);
      } catch (e) {
        if (this.signal()?.aborted) throw e;
      }
    }
    return out;
  }
}
