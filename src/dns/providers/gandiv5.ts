/**
 * gandiv5: Gandi LiveDNS (API v5) — the TXT RRset of a name: GET, PUT with its values, DELETE when
 * the last value goes. GANDIV5_PERSONAL_ACCESS_TOKEN (Bearer) or the deprecated GANDIV5_API_KEY
 * (Apikey), and the knobs of lego's providers/dns/gandiv5. Unlike lego, cleanup removes only its own
 * value (a wildcard and its base share the RRset). API: https://api.gandi.net/docs/livedns/
 */
import { ConfigError } from "../../config/errors.js";
import type { ProviderEnv } from "../env.js";
import { apiBase, defineProvider, Serial, zoneAndName, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { timing, timingVariables } from "../timing.js";

const P = "GANDIV5_";
const DEFAULTS = { propagationTimeout: 1200, pollingInterval: 20, ttl: 300, httpTimeout: 10 };

interface Config {
  authorization: string;
  base: string;
  ttl: number;
}

function configure(env: ProviderEnv) {
  const pat = env.get(`${P}PERSONAL_ACCESS_TOKEN`);
  const key = env.get(`${P}API_KEY`);
  if (!pat && !key) throw new ConfigError(env.file, "dnsProvider", `${env.code}: GANDIV5_PERSONAL_ACCESS_TOKEN: not set (set it in the environment, environmentFile, or as GANDIV5_PERSONAL_ACCESS_TOKEN_FILE in credentialFiles)`);
  const t = timing(env, P, DEFAULTS);
  if (t.ttl < 300) throw new ConfigError(env.file, "dnsProvider", `${env.code}: GANDIV5_TTL: ${t.ttl} is below Gandi's minimum of 300`);
  return { config: { authorization: pat ? `Bearer ${pat}` : `Apikey ${key}`, base: apiBase(env, "gandiv5", "https://api.gandi.net/v5/livedns"), ttl: t.ttl }, timing: t };
}

const unquote = (v: string) => (/^".*"$/.test(v) ? v.slice(1, -1) : v);

class Gandi implements DnsProvider {
  private readonly serial = new Serial();

  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {}

  private req(what: string, body?: unknown) {
    return { what, headers: { authorization: this.c.authorization, ...(body !== undefined ? { "content-type": "application/json" } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) };
  }

  private async change(r: TxtRecord, edit: (values: string[]) => string[]): Promise<void> {
    const { zone, name } = await zoneAndName(this.ctx, r.fqdn);
    await this.serial.run(`${zone} ${name}`, async () => {
      const url = `${this.c.base}/domains/${encodeURIComponent(zone)}/records/${encodeURIComponent(name)}/TXT`;
      const got = this.req(`read TXT ${r.fqdn}`);
      const res = await this.ctx.http.request("GET", url, { ...got, accept: [404] });
      let current: string[] = [];
      if (res.status !== 404) {
        try {
          const v = (JSON.parse(res.body) as { rrset_values?: unknown }).rrset_values;
          if (!Array.isArray(v)) throw new Error();
          current = v.map(String);
        } catch {
          throw this.ctx.http.garbage("GET", url, got, res.status, "no rrset_values");
        }
      }
      const next = edit(current);
      if (next.length) await this.ctx.http.request("PUT", url, this.req(`set TXT ${r.fqdn}`, { rrset_ttl: this.c.ttl, rrset_values: next }));
      else if (current.length) await this.ctx.http.request("DELETE", url, { ...this.req(`delete TXT ${r.fqdn}`), accept: [404] });
    });
  }

  present(r: TxtRecord): Promise<void> {
    return this.change(r, (values) => (values.map(unquote).includes(r.value) ? values : [r.value, ...values]));
  }

  cleanup(r: TxtRecord): Promise<void> {
    return this.change(r, (values) => values.filter((v) => unquote(v) !== r.value));
  }
}

export const definition = defineProvider<Config>({
  code: "gandiv5",
  required: ["GANDIV5_PERSONAL_ACCESS_TOKEN (or the deprecated GANDIV5_API_KEY)"],
  optional: timingVariables(P, DEFAULTS),
  secrets: ["GANDIV5_PERSONAL_ACCESS_TOKEN", "GANDIV5_API_KEY"],
  configure,
  create: (config, ctx) => new Gandi(config, ctx),
});
