/**
 * cloudflare: Cloudflare API v4 — GET /zones?name= (zone id), POST /zones/{id}/dns_records,
 * DELETE /zones/{id}/dns_records/{record}. Variables as lego's providers/dns/cloudflare
 * (CLOUDFLARE_* with the CF_* names as aliases): an API token (optionally a separate Zone:Read token
 * for the zone lookup), or the account email and global API key. API:
 * https://developers.cloudflare.com/api/resources/dns/subresources/records/
 */
import { ConfigError } from "../../config/errors.js";
import type { ProviderEnv } from "../env.js";
import { providerFailure } from "../errors.js";
import { apiBase, defineProvider, unFqdn, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { timing, timingVariables } from "../timing.js";

const P = "CLOUDFLARE_";
const DEFAULTS = { propagationTimeout: 120, pollingInterval: 2, ttl: 120, httpTimeout: 30 };
const MIN_TTL = 120;

type Auth = { token: string } | { email: string; key: string };

interface Config {
  edit: Auth;
  read: Auth;
  base: string;
  ttl: number;
}

interface Envelope<T> {
  success?: boolean;
  errors?: Array<{ code?: number; message?: string }>;
  result?: T;
}

const alias = (name: string) => [P + name, `CF_${name === "EMAIL" ? "API_EMAIL" : name}`];

function configure(env: ProviderEnv) {
  const get = (name: string) => env.first(...alias(name));
  const token = get("DNS_API_TOKEN");
  const zoneToken = get("ZONE_API_TOKEN");
  const email = get("EMAIL");
  const key = get("API_KEY");
  let edit: Auth;
  if (token) edit = { token };
  else if (email && key) edit = { email, key };
  else if (email || key) throw new ConfigError(env.file, "dnsProvider", `${env.code}: ${email ? "CLOUDFLARE_API_KEY (or CF_API_KEY)" : "CLOUDFLARE_EMAIL (or CF_API_EMAIL)"}: not set, but ${email ? "the email" : "the API key"} is (the global API key needs both)`);
  else throw new ConfigError(env.file, "dnsProvider", `${env.code}: CLOUDFLARE_DNS_API_TOKEN (or CF_DNS_API_TOKEN), or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY: not set (set them in the environment, environmentFile, or credentialFiles)`);
  const t = timing(env, P, DEFAULTS, ["CF_"]);
  if (t.ttl < MIN_TTL) throw new ConfigError(env.file, "dnsProvider", `${env.code}: CLOUDFLARE_TTL: ${t.ttl} is below Cloudflare's minimum of ${MIN_TTL}`);
  const config: Config = { edit, read: zoneToken ? { token: zoneToken } : edit, base: apiBase(env, "cloudflare", "https://api.cloudflare.com/client/v4", `${P}BASE_URL`), ttl: t.ttl };
  return { config, timing: t };
}

function headers(a: Auth): Record<string, string> {
  return "token" in a ? { authorization: `Bearer ${a.token}` } : { "x-auth-email": a.email, "x-auth-key": a.key };
}

const errorText = (body: string) => {
  try {
    const j = JSON.parse(body) as Envelope<unknown>;
    return j.errors?.map((e) => `${e.code ?? ""}: ${e.message ?? ""}`).join("; ") || undefined;
  } catch {
    return undefined;
  }
};

class Cloudflare implements DnsProvider {
  private readonly zoneIds = new Map<string, Promise<string>>();
  private readonly recordIds = new Map<string, string>();

  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {}

  private async call<T>(method: string, path: string, auth: Auth, what: string, body?: unknown): Promise<T> {
    const url = `${this.c.base}${path}`;
    const r = { what, errorText, headers: { ...headers(auth), ...(body ? { "content-type": "application/json" } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) };
    const res = await this.ctx.http.json<Envelope<T>>(method, url, r);
    if (res.data?.success !== true || res.data.result === undefined) throw this.ctx.http.garbage(method, url, r, res.status, res.data?.success === false ? `success false: ${errorText(JSON.stringify(res.data)) ?? "no error given"}` : "no result");
    return res.data.result;
  }

  private zoneId(fqdn: string): Promise<string> {
    const get = async () => {
      const zone = unFqdn((await this.ctx.findZone(fqdn)).name);
      const zones = await this.call<Array<{ id?: string; name?: string }>>("GET", `/zones?name=${encodeURIComponent(zone)}&per_page=50`, this.c.read, `look up zone ${zone}`);
      if (!Array.isArray(zones)) throw providerFailure("cloudflare", "bad-answer", `look up zone ${zone}: the result is not a list`);
      if (zones.length === 0) throw providerFailure("cloudflare", "not-found", `zone ${zone} not found in this account (does the token have Zone:Read on it?)`);
      if (zones.length > 1 || !zones[0]!.id) throw providerFailure("cloudflare", "bad-answer", `zone ${zone}: ${zones.length} zones of that name`);
      return zones[0]!.id!;
    };
    const key = fqdn;
    let p = this.zoneIds.get(key);
    if (!p) {
      p = get();
      this.zoneIds.set(key, p);
      p.catch(() => this.zoneIds.delete(key));
    }
    return p;
  }

  async present(r: TxtRecord): Promise<void> {
    const zone = await this.zoneId(r.fqdn);
    const rec = await this.call<{ id?: string }>("POST", `/zones/${encodeURIComponent(zone)}/dns_records`, this.c.edit, `create TXT ${r.fqdn}`, { type: "TXT", name: unFqdn(r.fqdn), content: `"${r.value}"`, ttl: this.c.ttl });
    if (!rec.id) throw providerFailure("cloudflare", "bad-answer", `create TXT ${r.fqdn}: no record id in the answer`);
    this.recordIds.set(`${r.fqdn} ${r.value}`, rec.id);
  }

  async cleanup(r: TxtRecord): Promise<void> {
    const id = this.recordIds.get(`${r.fqdn} ${r.value}`);
    if (!id) return; // never created
    const zone = await this.zoneId(r.fqdn);
    await this.call("DELETE", `/zones/${encodeURIComponent(zone)}/dns_records/${encodeURIComponent(id)}`, this.c.edit, `delete TXT ${r.fqdn}`);
    this.recordIds.delete(`${r.fqdn} ${r.value}`);
  }
}

export const definition = defineProvider<Config>({
  code: "cloudflare",
  required: ["CLOUDFLARE_DNS_API_TOKEN (or CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY)"],
  optional: ["CLOUDFLARE_ZONE_API_TOKEN", "CLOUDFLARE_BASE_URL", ...timingVariables(P, DEFAULTS), "(CF_* aliases)"],
  secrets: ["CLOUDFLARE_DNS_API_TOKEN", "CF_DNS_API_TOKEN", "CLOUDFLARE_ZONE_API_TOKEN", "CF_ZONE_API_TOKEN", "CLOUDFLARE_API_KEY", "CF_API_KEY"],
  configure,
  create: (config, ctx) => new Cloudflare(config, ctx),
});
