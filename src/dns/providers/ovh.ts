/**
 * ovh: the OVHcloud API — POST /domain/zone/{zone}/record, DELETE /domain/zone/{zone}/record/{id},
 * each followed by POST /domain/zone/{zone}/refresh (as lego does). Three ways to authenticate, as in
 * lego's providers/dns/ovh (one at a time): an application key + secret + consumer key (requests
 * signed: "$1$" + SHA-1 of secret+consumer+method+URL+body+timestamp, the timestamp corrected by
 * GET /auth/time), OAuth2 client credentials, or an access token. OVH_ENDPOINT: ovh-eu (default),
 * ovh-ca, ovh-us, kimsufi-*, soyoustart-*, or a URL. API: https://eu.api.ovh.com/console/ ,
 * signing: https://help.ovhcloud.com/csm/en-gb-api-getting-started-ovhcloud-api?id=kb_article_view&sysparm_article=KB0042784
 */
import { createHash } from "node:crypto";
import { ConfigError } from "../../config/errors.js";
import type { ProviderEnv } from "../env.js";
import { providerFailure } from "../errors.js";
import { defineProvider, zoneAndName, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { timing, timingVariables } from "../timing.js";

const P = "OVH_";
const DEFAULTS = { propagationTimeout: 60, pollingInterval: 2, ttl: 120, httpTimeout: 180 };

/** go-ovh's endpoints and, for OAuth2, their token URLs. */
const ENDPOINTS: Readonly<Record<string, { api: string; token?: string }>> = {
  "ovh-eu": { api: "https://eu.api.ovh.com/1.0", token: "https://www.ovh.com/auth/oauth2/token" },
  "ovh-ca": { api: "https://ca.api.ovh.com/1.0", token: "https://ca.ovh.com/auth/oauth2/token" },
  "ovh-us": { api: "https://api.us.ovhcloud.com/1.0", token: "https://us.ovhcloud.com/auth/oauth2/token" },
  "kimsufi-eu": { api: "https://eu.api.kimsufi.com/1.0" },
  "kimsufi-ca": { api: "https://ca.api.kimsufi.com/1.0" },
  "soyoustart-eu": { api: "https://eu.api.soyoustart.com/1.0" },
  "soyoustart-ca": { api: "https://ca.api.soyoustart.com/1.0" },
};

type Auth = { kind: "appkey"; ak: string; as: string; ck: string } | { kind: "oauth2"; id: string; secret: string; tokenUrl: string } | { kind: "token"; token: string };

interface Config {
  api: string;
  auth: Auth;
  ttl: number;
}

function configure(env: ProviderEnv) {
  const bad = (why: string): never => {
    throw new ConfigError(env.file, "dnsProvider", `${env.code}: ${why}`);
  };
  const endpoint = env.get(`${P}ENDPOINT`) ?? "ovh-eu";
  let api = ENDPOINTS[endpoint]?.api;
  if (!api) {
    try {
      if (!/^https?:$/.test(new URL(endpoint).protocol)) throw new Error();
      api = endpoint.replace(/\/+$/, "");
    } catch {
      bad(`OVH_ENDPOINT: "${endpoint}" is neither one of ${Object.keys(ENDPOINTS).join(", ")} nor a URL`);
    }
  }
  const ak = env.get(`${P}APPLICATION_KEY`);
  const as = env.get(`${P}APPLICATION_SECRET`);
  const ck = env.get(`${P}CONSUMER_KEY`);
  const id = env.get(`${P}CLIENT_ID`);
  const secret = env.get(`${P}CLIENT_SECRET`);
  const token = env.get(`${P}ACCESS_TOKEN`);
  const kinds = [ak || as || ck ? "application key" : null, id || secret ? "OAuth2" : null, token ? "access token" : null].filter(Boolean);
  if (kinds.length > 1) bad(`more than one way to authenticate is set (${kinds.join(", ")}): set only one`);
  let auth: Auth;
  if (ak || as || ck) {
    for (const [v, n] of [[ak, "APPLICATION_KEY"], [as, "APPLICATION_SECRET"], [ck, "CONSUMER_KEY"]] as const) if (!v) bad(`${P}${n}: not set (an application key needs OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY)`);
    auth = { kind: "appkey", ak: ak!, as: as!, ck: ck! };
  } else if (id || secret) {
    if (!id || !secret) bad(`${P}${id ? "CLIENT_SECRET" : "CLIENT_ID"}: not set (OAuth2 needs OVH_CLIENT_ID and OVH_CLIENT_SECRET)`);
    const tokenUrl = process.env._ACME_RENEW_TEST_OVH_TOKEN_URL ?? ENDPOINTS[endpoint]?.token ?? bad(`OAuth2 is not available with OVH_ENDPOINT ${endpoint} (only ovh-eu, ovh-ca, ovh-us)`);
    auth = { kind: "oauth2", id: id!, secret: secret!, tokenUrl };
  } else if (token) {
    auth = { kind: "token", token };
  } else {
    return bad("OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY (or OVH_CLIENT_ID and OVH_CLIENT_SECRET, or OVH_ACCESS_TOKEN): not set");
  }
  const t = timing(env, P, DEFAULTS);
  return { config: { api: api!, auth, ttl: t.ttl }, timing: t };
}

const errorText = (body: string) => {
  try {
    const j = JSON.parse(body) as { message?: string; errorCode?: string; class?: string };
    return j.message ? `${j.errorCode ?? j.class ?? ""}: ${j.message}` : undefined;
  } catch {
    return undefined;
  }
};

class Ovh implements DnsProvider {
  private delta: Promise<number> | null = null;
  private bearer: Promise<string> | null = null;
  private readonly ids = new Map<string, { zone: string; id: number }>();

  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {}

  /** Server time minus ours (go-ovh does the same once per client). */
  private timeDelta(): Promise<number> {
    this.delta ??= (async () => {
      const u = `${this.c.api}/auth/time`;
      const r = { what: "read the API's time", errorText };
      const res = await this.ctx.http.request("GET", u, r);
      const t = Number(res.body.trim());
      if (!Number.isInteger(t)) throw this.ctx.http.garbage("GET", u, r, res.status, "not a timestamp");
      return t - Math.floor(Date.now() / 1000);
    })();
    this.delta.catch(() => (this.delta = null));
    return this.delta;
  }

  private oauthToken(a: Extract<Auth, { kind: "oauth2" }>): Promise<string> {
    this.bearer ??= (async () => {
      const body = new URLSearchParams({ grant_type: "client_credentials", client_id: a.id, client_secret: a.secret, scope: "all" }).toString();
      const r = { what: "get an OAuth2 token", headers: { "content-type": "application/x-www-form-urlencoded" }, body };
      const res = await this.ctx.http.json<{ access_token?: string }>("POST", a.tokenUrl, r);
      if (!res.data?.access_token) throw this.ctx.http.garbage("POST", a.tokenUrl, r, res.status, "no access_token");
      return res.data.access_token;
    })();
    this.bearer.catch(() => (this.bearer = null));
    return this.bearer;
  }

  private async call<T>(method: string, path: string, what: string, payload?: unknown): Promise<{ status: number; data: T | null }> {
    const url = `${this.c.api}${path}`;
    const body = payload === undefined ? "" : JSON.stringify(payload);
    const headers: Record<string, string> = { "content-type": "application/json" };
    const a = this.c.auth;
    if (a.kind === "appkey") {
      const ts = String(Math.floor(Date.now() / 1000) + (await this.timeDelta()));
      headers["x-ovh-application"] = a.ak;
      headers["x-ovh-consumer"] = a.ck;
      headers["x-ovh-timestamp"] = ts;
      headers["x-ovh-signature"] = `$1$${createHash("sha1").update(`${a.as}+${a.ck}+${method}+${url}+${body}+${ts}`).digest("hex")}`;
    } else {
      headers.authorization = `Bearer ${a.kind === "token" ? a.token : await this.oauthToken(a)}`;
    }
    const res = await this.ctx.http.request(method, url, { what, errorText, headers, ...(body ? { body } : {}) });
    if (!res.body.trim()) return { status: res.status, data: null };
    try {
      return { status: res.status, data: JSON.parse(res.body) as T };
    } catch {
      throw this.ctx.http.garbage(method, url, { what }, res.status, "not JSON");
    }
  }

  private refresh(zone: string): Promise<unknown> {
    return this.call("POST", `/domain/zone/${encodeURIComponent(zone)}/refresh`, `refresh zone ${zone}`);
  }

  async present(r: TxtRecord): Promise<void> {
    const { zone, name } = await zoneAndName(this.ctx, r.fqdn);
    const res = await this.call<{ id?: number }>("POST", `/domain/zone/${encodeURIComponent(zone)}/record`, `create TXT ${r.fqdn}`, { fieldType: "TXT", subDomain: name === "@" ? "" : name, target: r.value, ttl: this.c.ttl });
    const id = res.data?.id;
    if (typeof id !== "number") throw providerFailure("ovh", "bad-answer", `create TXT ${r.fqdn}: no record id in the answer (HTTP ${res.status})`);
    this.ids.set(`${r.fqdn} ${r.value}`, { zone, id });
    await this.refresh(zone);
  }

  async cleanup(r: TxtRecord): Promise<void> {
    const rec = this.ids.get(`${r.fqdn} ${r.value}`);
    if (!rec) return;
    await this.call("DELETE", `/domain/zone/${encodeURIComponent(rec.zone)}/record/${rec.id}`, `delete TXT ${r.fqdn}`);
    this.ids.delete(`${r.fqdn} ${r.value}`);
    await this.refresh(rec.zone);
  }
}

export const definition = defineProvider<Config>({
  code: "ovh",
  required: ["OVH_APPLICATION_KEY + OVH_APPLICATION_SECRET + OVH_CONSUMER_KEY (or OVH_CLIENT_ID + OVH_CLIENT_SECRET, or OVH_ACCESS_TOKEN)"],
  optional: ["OVH_ENDPOINT", ...timingVariables(P, DEFAULTS)],
  secrets: ["OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY", "OVH_CLIENT_SECRET", "OVH_ACCESS_TOKEN"],
  configure,
  create: (config, ctx) => new Ovh(config, ctx),
});
