/**
 * hetzner: the Hetzner Cloud API's DNS (where Hetzner moved DNS, and what lego uses now):
 * POST /v1/zones/{zone}/rrsets/{name}/TXT/actions/add_records and …/remove_records, then
 * GET /v1/actions/{id} until the action is no longer running. HETZNER_API_TOKEN as in lego's
 * providers/dns/hetzner (lego's legacy HETZNER_API_KEY for the old dns.hetzner.com API is refused
 * with a hint). API: https://docs.hetzner.cloud/reference/cloud#dns
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ConfigError } from "../../config/errors.js";
import type { ProviderEnv } from "../env.js";
import { providerFailure } from "../errors.js";
import { apiBase, defineProvider, zoneAndName, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { timing, timingVariables } from "../timing.js";

const P = "HETZNER_";
const DEFAULTS = { propagationTimeout: 60, pollingInterval: 2, ttl: 120, httpTimeout: 30 };

interface Config {
  token: string;
  base: string;
  ttl: number;
  pollMs: number;
  actionTimeoutMs: number;
}

function configure(env: ProviderEnv) {
  if (!env.get(`${P}API_TOKEN`) && env.get(`${P}API_KEY`))
    throw new ConfigError(env.file, "dnsProvider", `${env.code}: HETZNER_API_KEY is a token of the old Hetzner DNS Console API, which Hetzner replaced by the Cloud API (lego deprecated it); create an API token in the Hetzner Cloud Console (project → Security → API tokens, read & write) and set HETZNER_API_TOKEN`);
  const token = env.require(`${P}API_TOKEN`);
  const t = timing(env, P, DEFAULTS);
  return { config: { token, base: apiBase(env, "hetzner", "https://api.hetzner.cloud/v1"), ttl: t.ttl, pollMs: t.pollingInterval * 1000, actionTimeoutMs: t.propagationTimeout * 1000 }, timing: t };
}

interface Action {
  id?: number;
  status?: string;
  error?: { code?: string; message?: string };
}

const errorText = (body: string) => {
  try {
    const e = (JSON.parse(body) as { error?: { code?: string; message?: string } }).error;
    return e ? `${e.code ?? ""}: ${e.message ?? ""}` : undefined;
  } catch {
    return undefined;
  }
};

class Hetzner implements DnsProvider {
  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {}

  private async action(fqdn: string, verb: "add_records" | "remove_records", value: string): Promise<void> {
    const { zone, name } = await zoneAndName(this.ctx, fqdn);
    const url = `${this.c.base}/zones/${encodeURIComponent(zone)}/rrsets/${encodeURIComponent(name)}/TXT/actions/${verb}`;
    const body = verb === "add_records" ? { ttl: this.c.ttl, records: [{ value: JSON.stringify(value) }] } : { records: [{ value: JSON.stringify(value) }] };
    const what = `${verb === "add_records" ? "add" : "remove"} TXT ${fqdn}`;
    const r = { what, errorText, headers: { authorization: `Bearer ${this.c.token}`, "content-type": "application/json" }, body: JSON.stringify(body) };
    const res = await this.ctx.http.json<{ action?: Action }>("POST", url, r);
    const first = res.data?.action;
    if (!first || typeof first.id !== "number") throw this.ctx.http.garbage("POST", url, r, res.status, "no action in the answer");
    let a: Action = first;
    // The change is an asynchronous action: wait until it has run (bounded like lego: the propagation timeout).
    const deadline = Date.now() + this.c.actionTimeoutMs;
    while (a.status === "running") {
      if (Date.now() > deadline) throw providerFailure("hetzner", "timeout", `${what}: action ${a.id} still running after ${this.c.actionTimeoutMs / 1000}s`);
      await sleep(Math.min(this.c.pollMs, 1000), undefined, { signal: this.ctx.signal }).catch(() => {});
      const aurl: string = `${this.c.base}/actions/${first.id}`;
      const ar = { what: `${what}: action ${first.id}`, errorText, headers: { authorization: `Bearer ${this.c.token}` } };
      const next: Action | undefined = (await this.ctx.http.json<{ action?: Action }>("GET", aurl, ar)).data?.action;
      if (!next?.status) throw this.ctx.http.garbage("GET", aurl, ar, 200, "no action status");
      a = next;
    }
    if (a.status === "error") throw providerFailure("hetzner", "rejected", `${what}: action ${a.id} failed: ${a.error?.code ?? ""} ${a.error?.message ?? ""}`.trim());
  }

  present(r: TxtRecord): Promise<void> {
    return this.action(r.fqdn, "add_records", r.value);
  }

  cleanup(r: TxtRecord): Promise<void> {
    return this.action(r.fqdn, "remove_records", r.value);
  }
}

export const definition = defineProvider<Config>({
  code: "hetzner",
  required: ["HETZNER_API_TOKEN"],
  optional: timingVariables(P, DEFAULTS),
  secrets: ["HETZNER_API_TOKEN", "HETZNER_API_KEY"],
  configure,
  create: (config, ctx) => new Hetzner(config, ctx),
});
