/**
 * digitalocean: DigitalOcean API v2 domain records — POST /v2/domains/{zone}/records,
 * DELETE /v2/domains/{zone}/records/{id}; DO_AUTH_TOKEN, DO_API_URL and the knobs of lego's
 * providers/dns/digitalocean. API: https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domain-Records
 */
import type { ProviderEnv } from "../env.js";
import { providerFailure } from "../errors.js";
import { apiBase, defineProvider, zoneAndName, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { timing, timingVariables } from "../timing.js";

const P = "DO_";
const DEFAULTS = { propagationTimeout: 60, pollingInterval: 5, ttl: 30, httpTimeout: 30 };

interface Config {
  token: string;
  base: string;
  ttl: number;
}

function configure(env: ProviderEnv) {
  const token = env.require(`${P}AUTH_TOKEN`);
  const t = timing(env, P, DEFAULTS);
  return { config: { token, base: apiBase(env, "digitalocean", "https://api.digitalocean.com", `${P}API_URL`), ttl: t.ttl }, timing: t };
}

const errorText = (body: string) => {
  try {
    const j = JSON.parse(body) as { id?: string; message?: string };
    return j.message ? `${j.id ?? ""}: ${j.message}` : undefined;
  } catch {
    return undefined;
  }
};

class DigitalOcean implements DnsProvider {
  private readonly ids = new Map<string, { zone: string; id: number }>();

  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {}

  private headers(json: boolean): Record<string, string> {
    return { authorization: `Bearer ${this.c.token}`, ...(json ? { "content-type": "application/json" } : {}) };
  }

  async present(r: TxtRecord): Promise<void> {
    const { zone, name } = await zoneAndName(this.ctx, r.fqdn);
    const url = `${this.c.base}/v2/domains/${encodeURIComponent(zone)}/records`;
    const req = { what: `create TXT ${r.fqdn}`, errorText, headers: this.headers(true), body: JSON.stringify({ type: "TXT", name, data: r.value, ttl: this.c.ttl }) };
    const res = await this.ctx.http.json<{ domain_record?: { id?: number } }>("POST", url, req);
    const id = res.data?.domain_record?.id;
    if (typeof id !== "number") throw this.ctx.http.garbage("POST", url, req, res.status, "no domain_record.id");
    this.ids.set(`${r.fqdn} ${r.value}`, { zone, id });
  }

  async cleanup(r: TxtRecord): Promise<void> {
    const rec = this.ids.get(`${r.fqdn} ${r.value}`);
    if (!rec) return;
    const res = await this.ctx.http.request("DELETE", `${this.c.base}/v2/domains/${encodeURIComponent(rec.zone)}/records/${rec.id}`, { what: `delete TXT ${r.fqdn}`, errorText, headers: this.headers(false) });
    if (res.status !== 204 && res.status !== 200) throw providerFailure("digitalocean", "bad-answer", `delete TXT ${r.fqdn}: HTTP ${res.status}`);
    this.ids.delete(`${r.fqdn} ${r.value}`);
  }
}

export const definition = defineProvider<Config>({
  code: "digitalocean",
  required: ["DO_AUTH_TOKEN"],
  optional: ["DO_API_URL", ...timingVariables(P, DEFAULTS)],
  secrets: ["DO_AUTH_TOKEN"],
  configure,
  create: (config, ctx) => new DigitalOcean(config, ctx),
});
