/**
 * desec: the deSEC API — GET /api/v1/domains/?owns_qname= (the zone), then the TXT RRset of the name:
 * GET …/rrsets/{subname}/TXT/, POST …/rrsets/ to create it, PATCH to change its values (an empty
 * list deletes it). DESEC_TOKEN and the knobs of lego's providers/dns/desec. Changes of one RRset
 * are serialized (a wildcard and its base share it). API: https://desec.readthedocs.io/en/latest/dns/rrsets.html
 */
import type { ProviderEnv } from "../env.js";
import { providerFailure } from "../errors.js";
import { apiBase, defineProvider, relativeName, Serial, unFqdn, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { timing, timingVariables } from "../timing.js";

const P = "DESEC_";
const DEFAULTS = { propagationTimeout: 120, pollingInterval: 4, ttl: 3600, httpTimeout: 30 };

interface Config {
  token: string;
  base: string;
  ttl: number;
}

function configure(env: ProviderEnv) {
  const token = env.require(`${P}TOKEN`);
  const t = timing(env, P, DEFAULTS);
  return { config: { token, base: apiBase(env, "desec", "https://desec.io/api/v1"), ttl: t.ttl }, timing: t };
}

const errorText = (body: string) => {
  try {
    const j = JSON.parse(body) as unknown;
    if (j && typeof j === "object" && "detail" in j) return String((j as { detail: unknown }).detail);
    return JSON.stringify(j).slice(0, 200);
  } catch {
    return undefined;
  }
};

class Desec implements DnsProvider {
  private readonly serial = new Serial();

  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {}

  private req(what: string, body?: unknown) {
    return { what, errorText, headers: { authorization: `Token ${this.c.token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) };
  }

  /** The deSEC domain that owns the name (its "responsible domain"). */
  private async domainOf(fqdn: string): Promise<string> {
    const url = `${this.c.base}/domains/?owns_qname=${encodeURIComponent(unFqdn(fqdn))}`;
    const r = this.req(`find the domain of ${fqdn}`);
    const res = await this.ctx.http.json<Array<{ name?: string }>>("GET", url, r);
    if (!Array.isArray(res.data)) throw this.ctx.http.garbage("GET", url, r, res.status, "not a list of domains");
    const name = res.data[0]?.name;
    if (!name) throw providerFailure("desec", "not-found", `no domain of this account owns ${unFqdn(fqdn)}`);
    return name;
  }

  private async change(r: TxtRecord, edit: (values: string[]) => string[]): Promise<void> {
    const domain = await this.domainOf(r.fqdn);
    const rel = relativeName(r.fqdn, domain);
    const sub = rel === "@" ? "" : rel;
    await this.serial.run(`${domain} ${sub}`, async () => {
      // The apex RRset is "@" in the URL (its subname is "").
      const url = `${this.c.base}/domains/${encodeURIComponent(domain)}/rrsets/${encodeURIComponent(sub || "@")}/TXT/`;
      const got = this.req(`read TXT ${r.fqdn}`);
      const res = await this.ctx.http.request("GET", url, { ...got, accept: [404] });
      let current: string[] | null = null;
      if (res.status !== 404) {
        try {
          const j = JSON.parse(res.body) as { records?: unknown };
          if (!Array.isArray(j.records)) throw new Error();
          current = j.records.map(String);
        } catch {
          throw this.ctx.http.garbage("GET", url, got, res.status, "no records list");
        }
      }
      const next = edit(current ?? []);
      if (current === null) {
        if (!next.length) return;
        await this.ctx.http.json("POST", `${this.c.base}/domains/${encodeURIComponent(domain)}/rrsets/`, this.req(`create TXT ${r.fqdn}`, { subname: sub, type: "TXT", ttl: this.c.ttl, records: next }));
      } else {
        await this.ctx.http.request("PATCH", url, this.req(`update TXT ${r.fqdn}`, { records: next }));
      }
    });
  }

  present(r: TxtRecord): Promise<void> {
    const v = JSON.stringify(r.value);
    return this.change(r, (values) => (values.includes(v) ? values : [...values, v]));
  }

  cleanup(r: TxtRecord): Promise<void> {
    const v = JSON.stringify(r.value);
    return this.change(r, (values) => values.filter((x) => x !== v));
  }
}

export const definition = defineProvider<Config>({
  code: "desec",
  required: ["DESEC_TOKEN"],
  optional: timingVariables(P, DEFAULTS),
  secrets: ["DESEC_TOKEN"],
  configure,
  create: (config, ctx) => new Desec(config, ctx),
});
