/**
 * duckdns: GET https://www.duckdns.org/update?domains=&token=&txt=&clear= — one TXT value per DuckDNS
 * domain, so it is Sequential (as in lego): a wildcard and its base are validated one after the
 * other, DUCKDNS_SEQUENCE_INTERVAL apart. DUCKDNS_TOKEN and the knobs of lego's
 * providers/dns/duckdns. The token travels in the query string: URLs are never logged with it.
 * API: https://www.duckdns.org/spec.jsp
 */
import type { ProviderEnv } from "../env.js";
import { providerFailure } from "../errors.js";
import { apiBase, defineProvider, unFqdn, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { timing, timingVariables } from "../timing.js";

const P = "DUCKDNS_";
const DEFAULTS = { propagationTimeout: 60, pollingInterval: 2, ttl: 60, httpTimeout: 30, sequenceInterval: 60 };

interface Config {
  token: string;
  base: string;
}

function configure(env: ProviderEnv) {
  const token = env.require(`${P}TOKEN`);
  const t = timing(env, P, DEFAULTS);
  return { config: { token, base: apiBase(env, "duckdns", "https://www.duckdns.org/update") }, timing: t };
}

/** The DuckDNS domain a name belongs to: "<sub>.duckdns.org" (lego's getMainDomain), else the last label. */
function mainDomain(fqdn: string): string | null {
  const labels = unFqdn(fqdn).split(".");
  if (/\.?duckdns\.org$/i.test(unFqdn(fqdn))) return labels.length >= 3 ? labels.slice(-3).join(".") : null;
  return labels.at(-1) ?? null;
}

class DuckDns implements DnsProvider {
  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {}

  private async update(r: TxtRecord, clear: boolean): Promise<void> {
    const domain = mainDomain(r.fqdn);
    if (!domain) throw providerFailure("duckdns", "not-found", `${r.fqdn} is not under a DuckDNS domain (<name>.duckdns.org)`);
    const q = new URLSearchParams({ domains: domain, token: this.c.token, clear: String(clear), txt: clear ? "" : r.value });
    const what = `${clear ? "clear" : "set"} TXT of ${domain}`;
    const res = await this.ctx.http.request("GET", `${this.c.base}?${q}`, { what, headers: { accept: "text/plain" } });
    const body = res.body.trim();
    if (body === "KO") throw providerFailure("duckdns", "auth", `${what}: DuckDNS answered KO (a wrong DUCKDNS_TOKEN, or ${domain} is not this account's)`);
    if (!body.startsWith("OK")) throw providerFailure("duckdns", "bad-answer", `${what}: unexpected answer (HTTP ${res.status}, not OK/KO)`);
  }

  present(r: TxtRecord): Promise<void> {
    return this.update(r, false);
  }

  cleanup(r: TxtRecord): Promise<void> {
    return this.update(r, true);
  }
}

export const definition = defineProvider<Config>({
  code: "duckdns",
  required: ["DUCKDNS_TOKEN"],
  optional: timingVariables(P, DEFAULTS).filter((v) => v !== `${P}TTL`),
  secrets: ["DUCKDNS_TOKEN"],
  sequential: true,
  configure,
  create: (config, ctx) => new DuckDns(config, ctx),
});
