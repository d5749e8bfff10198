/**
 * porkbun: the Porkbun API v3 — POST /dns/create/{domain} and /dns/delete/{domain}/{id}, the keys in
 * the JSON body; PORKBUN_API_KEY, PORKBUN_SECRET_API_KEY and the knobs of lego's
 * providers/dns/porkbun. API: https://porkbun.com/api/json/v3/documentation
 */
import type { ProviderEnv } from "../env.js";
import { providerFailure } from "../errors.js";
import { apiBase, defineProvider, zoneAndName, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { timing, timingVariables } from "../timing.js";

const P = "PORKBUN_";
const DEFAULTS = { propagationTimeout: 600, pollingInterval: 10, ttl: 300, httpTimeout: 30 };

interface Config {
  apikey: string;
  secretapikey: string;
  base: string;
  ttl: number;
}

function configure(env: ProviderEnv) {
  const secretapikey = env.require(`${P}SECRET_API_KEY`);
  const apikey = env.require(`${P}API_KEY`);
  const t = timing(env, P, DEFAULTS);
  return { config: { apikey, secretapikey, base: apiBase(env, "porkbun", "https://api.porkbun.com/api/json/v3"), ttl: t.ttl }, timing: t };
}

interface Answer {
  status?: string;
  message?: string;
  id?: number | string;
}

class Porkbun implements DnsProvider {
  private readonly ids = new Map<string, { zone: string; id: string }>();

  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {}

  private async call(path: string, what: string, extra: Record<string, string> = {}): Promise<Answer> {
    const url = `${this.c.base}${path}`;
    const r = { what, headers: { "content-type": "application/json" }, body: JSON.stringify({ secretapikey: this.c.secretapikey, apikey: this.c.apikey, ...extra }) };
    const res = await this.ctx.http.json<Answer>("POST", url, r);
    if (res.data?.status !== "SUCCESS") {
      if (res.data?.status === "ERROR") throw providerFailure("porkbun", "rejected", `${what}: ${res.data.message ?? "ERROR"}`);
      throw this.ctx.http.garbage("POST", url, r, res.status, "no status SUCCESS");
    }
    return res.data;
  }

  async present(r: TxtRecord): Promise<void> {
    const { zone, name } = await zoneAndName(this.ctx, r.fqdn);
    const a = await this.call(`/dns/create/${encodeURIComponent(zone)}`, `create TXT ${r.fqdn}`, { name: name === "@" ? "" : name, type: "TXT", content: r.value, ttl: String(this.c.ttl) });
    if (a.id === undefined || a.id === null || a.id === "") throw providerFailure("porkbun", "bad-answer", `create TXT ${r.fqdn}: no record id in the answer`);
    this.ids.set(`${r.fqdn} ${r.value}`, { zone, id: String(a.id) });
  }

  async cleanup(r: TxtRecord): Promise<void> {
    const rec = this.ids.get(`${r.fqdn} ${r.value}`);
    if (!rec) return;
    await this.call(`/dns/delete/${encodeURIComponent(rec.zone)}/${encodeURIComponent(rec.id)}`, `delete TXT ${r.fqdn}`);
    this.ids.delete(`${r.fqdn} ${r.value}`);
  }
}

export const definition = defineProvider<Config>({
  code: "porkbun",
  required: ["PORKBUN_API_KEY", "PORKBUN_SECRET_API_KEY"],
  optional: timingVariables(P, DEFAULTS),
  secrets: ["PORKBUN_API_KEY", "PORKBUN_SECRET_API_KEY"],
  configure,
  create: (config, ctx) => new Porkbun(config, ctx),
});
