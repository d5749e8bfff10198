/**
 * namecheap: the Namecheap XML API — namecheap.domains.dns.getHosts, then namecheap.domains.dns.setHosts
 * with the whole host list plus (or minus) the TXT record: the API has no call for one record, so
 * every change rewrites the domain's records, as lego does (changes of one domain are serialized).
 * The API only answers whitelisted client IPs: like lego, the public IP is asked of
 * https://dynamicdns.park-your-domain.com/getip. NAMECHEAP_API_USER, NAMECHEAP_API_KEY,
 * NAMECHEAP_SANDBOX and the knobs of lego's providers/dns/namecheap.
 * API: https://www.namecheap.com/support/api/methods/domains-dns/get-hosts/ and …/set-hosts/
 */
import { ConfigError } from "../../config/errors.js";
import type { ProviderEnv } from "../env.js";
import { providerFailure } from "../errors.js";
import { apiBase, defineProvider, Serial, unFqdn, zoneAndName, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { timing, timingVariables } from "../timing.js";
import { attributes, decodeXml as decode } from "../xml.js";

const P = "NAMECHEAP_";
const DEFAULTS = { propagationTimeout: 3600, pollingInterval: 15, ttl: 120, httpTimeout: 60 };

interface Config {
  user: string;
  key: string;
  base: string;
  ipUrl: string;
  ttl: number;
}

function configure(env: ProviderEnv) {
  const user = env.require(`${P}API_USER`);
  const key = env.require(`${P}API_KEY`);
  const sandbox = env.bool(`${P}SANDBOX`, false);
  const t = timing(env, P, DEFAULTS);
  const base = apiBase(env, "namecheap", sandbox ? "https://api.sandbox.namecheap.com/xml.response" : "https://api.namecheap.com/xml.response");
  const ipUrl = process.env._ACME_RENEW_TEST_NAMECHEAP_IP_URL ?? "https://dynamicdns.park-your-domain.com/getip";
  if (!/^[\w.@-]+$/.test(user)) throw new ConfigError(env.file, "dnsProvider", `${env.code}: ${P}API_USER: "${user.slice(0, 40)}" is not a Namecheap user name`);
  return { config: { user, key, base, ipUrl, ttl: t.ttl }, timing: t };
}

interface Host {
  Name: string;
  Type: string;
  Address: string;
  MXPref: string;
  TTL: string;
}

/** What an ApiResponse says: its status, errors and the attributes of its <host> (or other) elements. */
function parseApiResponse(xml: string, element: string): { status: string | null; errors: string[]; items: Array<Record<string, string>> } | null {
  const root = /<ApiResponse\b([^>]*)>/.exec(xml);
  if (!root) return null;
  const status = attributes(root[1]!).Status ?? null;
  const errors = [...xml.matchAll(/<Error\b([^>]*)>([\s\S]*?)<\/Error>/g)].map((m) => `${decode(m[2]!.trim())}${attributes(m[1]!).Number ? ` [${attributes(m[1]!).Number}]` : ""}`);
  const items = [...xml.matchAll(new RegExp(`<${element}\\b([^>]*?)/?>`, "g"))].map((m) => attributes(m[1]!));
  return { status, errors, items };
}

class Namecheap implements DnsProvider {
  private ip: Promise<string> | null = null;
  private readonly serial = new Serial();

  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {}

  private clientIp(): Promise<string> {
    this.ip ??= (async () => {
      const res = await this.ctx.http.request("GET", this.c.ipUrl, { what: "find this host's public IP (for Namecheap's whitelist)", headers: { accept: "text/plain" } });
      const ip = res.body.trim();
      if (!/^[0-9a-f.:]+$/i.test(ip)) throw providerFailure("namecheap", "bad-answer", `the public-IP service answered something else than an address (HTTP ${res.status})`);
      return ip;
    })();
    this.ip.catch(() => (this.ip = null));
    return this.ip;
  }

  private async call(command: string, domain: string, extra: Array<[string, string]>, what: string): Promise<NonNullable<ReturnType<typeof parseApiResponse>>> {
    const [sld, ...rest] = domain.split(".");
    const params = new URLSearchParams([["ApiUser", this.c.user], ["ApiKey", this.c.key], ["UserName", this.c.user], ["Command", command], ["ClientIp", await this.clientIp()], ["SLD", sld!], ["TLD", rest.join(".")], ...extra]);
    const post = command.endsWith("setHosts");
    const url = post ? this.c.base : `${this.c.base}?${params}`;
    const r = { what, headers: { accept: "application/xml", ...(post ? { "content-type": "application/x-www-form-urlencoded" } : {}) }, ...(post ? { body: params.toString() } : {}) };
    const res = await this.ctx.http.request(post ? "POST" : "GET", url, r);
    const parsed = parseApiResponse(res.body, post ? "DomainDNSSetHostsResult" : "host");
    if (!parsed) throw this.ctx.http.garbage(post ? "POST" : "GET", url, r, res.status, "not an ApiResponse");
    if (parsed.status !== "OK" || parsed.errors.length) {
      const text = parsed.errors.join("; ") || `Status ${parsed.status}`;
      throw providerFailure("namecheap", /API Key|ApiUser|IP|authoriz|permission/i.test(text) ? "auth" : "rejected", `${what}: ${text}${/IP/i.test(text) ? " (is this host's IP whitelisted in Namecheap's API settings?)" : ""}`);
    }
    return parsed;
  }

  private async change(r: TxtRecord, edit: (hosts: Host[], name: string) => Host[] | null): Promise<void> {
    const { zone, name } = await zoneAndName(this.ctx, r.fqdn);
    const domain = unFqdn(zone);
    await this.serial.run(domain, async () => {
      const got = await this.call("namecheap.domains.dns.getHosts", domain, [], `read the records of ${domain}`);
      const hosts: Host[] = got.items.map((h) => ({ Name: h.Name ?? "", Type: h.Type ?? "", Address: h.Address ?? "", MXPref: h.MXPref ?? "10", TTL: h.TTL ?? "1800" }));
      const next = edit(hosts, name);
      if (!next) return;
      const extra: Array<[string, string]> = [];
      next.forEach((h, i) => extra.push([`HostName${i + 1}`, h.Name], [`RecordType${i + 1}`, h.Type], [`Address${i + 1}`, h.Address], [`MXPref${i + 1}`, h.MXPref], [`TTL${i + 1}`, h.TTL]));
      const set = await this.call("namecheap.domains.dns.setHosts", domain, extra, `write the records of ${domain}`);
      if (set.items[0]?.IsSuccess !== "true") throw providerFailure("namecheap", "bad-answer", `write the records of ${domain}: IsSuccess is not true`);
    });
  }

  present(r: TxtRecord): Promise<void> {
    return this.change(r, (hosts, name) => (hosts.some((h) => h.Type === "TXT" && h.Name === name && h.Address === r.value) ? null : [...hosts, { Name: name, Type: "TXT", Address: r.value, MXPref: "10", TTL: String(this.c.ttl) }]));
  }

  cleanup(r: TxtRecord): Promise<void> {
    return this.change(r, (hosts, name) => {
      const next = hosts.filter((h) => !(h.Type === "TXT" && h.Name === name && h.Address === r.value));
      return next.length === hosts.length ? null : next;
    });
  }
}

export const definition = defineProvider<Config>({
  code: "namecheap",
  required: ["NAMECHEAP_API_USER", "NAMECHEAP_API_KEY"],
  optional: ["NAMECHEAP_SANDBOX", ...timingVariables(P, DEFAULTS)],
  secrets: ["NAMECHEAP_API_KEY"],
  configure,
  create: (config, ctx) => new Namecheap(config, ctx),
});
