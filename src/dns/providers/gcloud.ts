/**
 * gcloud: Google Cloud DNS API v1 — the managed zone (GCE_ZONE_ID, else managedZones?dnsName= for the
 * zone found in DNS, public unless GCE_ALLOW_PRIVATE_ZONE), the TXT rrset (rrsets?name=&type=TXT),
 * a change that deletes the old set and adds it with the value added (or removed), polled until
 * "done". Credentials as lego reads them: GCE_SERVICE_ACCOUNT (the key JSON; GCE_SERVICE_ACCOUNT_FILE
 * its path), else Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, else the metadata
 * server: GCE_METADATA_HOST); GCE_IMPERSONATE_SERVICE_ACCOUNT through the IAM Credentials API.
 * A service-account key becomes an access token by a signed JWT (RFC 7523, RS256, node:crypto)
 * instead of the Google client libraries. GCE_PROJECT, else the key's project_id, else the metadata
 * server's. API: https://cloud.google.com/dns/docs/reference/rest/v1 ,
 * https://developers.google.com/identity/protocols/oauth2/service-account#httprest
 */
import { createPrivateKey, createSign } from "node:crypto";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { ConfigError } from "../../config/errors.js";
import type { ProviderEnv } from "../env.js";
import { providerFailure } from "../errors.js";
import { apiBase, defineProvider, Serial, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { timing, timingVariables } from "../timing.js";
import { fqdn } from "../wire.js";

const P = "GCE_";
const DEFAULTS = { propagationTimeout: 180, pollingInterval: 5, ttl: 120 };
const SCOPE_DNS = "https://www.googleapis.com/auth/ndev.clouddns.readwrite";
const SCOPE_CLOUD = "https://www.googleapis.com/auth/cloud-platform";

interface ServiceAccount {
  client_email: string;
  private_key: string;
  token_uri: string;
  project_id?: string;
}

interface Config {
  key: ServiceAccount | null;
  keyFrom: string;
  metadata: string;
  project: string | null;
  zoneId: string | null;
  allowPrivate: boolean;
  impersonate: string | null;
  base: string;
  iam: string;
  ttl: number;
}

function parseKey(env: ProviderEnv, text: string, where: string): ServiceAccount {
  const bad = (why: string): never => {
    throw new ConfigError(env.file, "dnsProvider", `${env.code}: ${where}: ${why}`);
  };
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return bad("not JSON (expected a service account key file)");
  }
  if (j.type !== "service_account") bad(`type is ${JSON.stringify(j.type)}, expected "service_account" (a key created for a service account)`);
  for (const k of ["client_email", "private_key"]) if (typeof j[k] !== "string" || !j[k]) bad(`${k} missing`);
  try {
    createPrivateKey(j.private_key as string);
  } catch {
    bad("private_key is not a PEM private key");
  }
  return { client_email: j.client_email as string, private_key: j.private_key as string, token_uri: typeof j.token_uri === "string" && j.token_uri ? j.token_uri : "https://oauth2.googleapis.com/token", ...(typeof j.project_id === "string" ? { project_id: j.project_id } : {}) };
}

function configure(env: ProviderEnv) {
  let key: ServiceAccount | null = null;
  let keyFrom = "the metadata server";
  const sa = env.get(`${P}SERVICE_ACCOUNT`);
  if (sa) {
    key = parseKey(env, sa, env.origin(`${P}SERVICE_ACCOUNT`)?.includes("_FILE") || !sa.trim().startsWith("{") ? "GCE_SERVICE_ACCOUNT(_FILE)" : "GCE_SERVICE_ACCOUNT");
    keyFrom = "GCE_SERVICE_ACCOUNT";
  } else {
    const adc = env.get("GOOGLE_APPLICATION_CREDENTIALS");
    if (adc) {
      let text: string;
      try {
        text = readFileSync(adc, "utf8");
      } catch (e) {
        throw new ConfigError(env.file, "dnsProvider", `${env.code}: GOOGLE_APPLICATION_CREDENTIALS: cannot read ${adc} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      }
      key = parseKey(env, text, `GOOGLE_APPLICATION_CREDENTIALS ${adc}`);
      keyFrom = "GOOGLE_APPLICATION_CREDENTIALS";
    }
  }
  const t = timing(env, P, DEFAULTS);
  const metadata = `http://${env.get("GCE_METADATA_HOST") ?? "metadata.google.internal"}`;
  return {
    config: {
      key,
      keyFrom,
      metadata,
      project: env.get(`${P}PROJECT`) ?? key?.project_id ?? null,
      zoneId: env.get(`${P}ZONE_ID`) ?? null,
      allowPrivate: env.bool(`${P}ALLOW_PRIVATE_ZONE`, false),
      impersonate: env.get(`${P}IMPERSONATE_SERVICE_ACCOUNT`) ?? null,
      base: apiBase(env, "gcloud", "https://dns.googleapis.com/dns/v1"),
      iam: apiBase(env, "gcloud_iam", "https://iamcredentials.googleapis.com/v1"),
      ttl: t.ttl,
    },
    timing: t,
  };
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

interface Rrset {
  name: string;
  type: string;
  ttl?: number;
  rrdatas?: string[];
}

const errorText = (body: string) => {
  try {
    const e = (JSON.parse(body) as { error?: { message?: string; status?: string } | string; error_description?: string }).error;
    return typeof e === "string" ? e : e ? `${e.status ?? ""}: ${e.message ?? ""}` : undefined;
  } catch {
    return undefined;
  }
};

class GoogleCloud implements DnsProvider {
  private token: Promise<{ value: string; until: number }> | null = null;
  private project: Promise<string> | null = null;
  private readonly zones = new Map<string, Promise<string>>();
  private readonly serial = new Serial();

  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {}

  /** An OAuth2 access token from a signed JWT (RFC 7523). */
  private async jwtToken(key: ServiceAccount, scope: string): Promise<{ value: string; until: number }> {
    const now = Math.floor(Date.now() / 1000);
    const head = b64url(JSON.stringify({ alg: "RS256", typ: "JWT" }));
    const claims = b64url(JSON.stringify({ iss: key.client_email, scope, aud: key.token_uri, iat: now, exp: now + 3600 }));
    const sig = createSign("RSA-SHA256").update(`${head}.${claims}`).sign(key.private_key);
    const body = new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: `${head}.${claims}.${b64url(sig)}` }).toString();
    const r = { what: `get an access token for ${key.client_email}`, errorText, headers: { "content-type": "application/x-www-form-urlencoded" }, body };
    const res = await this.ctx.http.json<{ access_token?: string; expires_in?: number }>("POST", key.token_uri, r);
    if (!res.data?.access_token) throw this.ctx.http.garbage("POST", key.token_uri, r, res.status, "no access_token");
    return { value: res.data.access_token, until: Date.now() + ((res.data.expires_in ?? 3600) - 60) * 1000 };
  }

  private async metadataToken(): Promise<{ value: string; until: number }> {
    const u = `${this.c.metadata}/computeMetadata/v1/instance/service-accounts/default/token`;
    const r = { what: "get an access token from the metadata server (no GCE_SERVICE_ACCOUNT, no GOOGLE_APPLICATION_CREDENTIALS)", errorText, headers: { "metadata-flavor": "Google" } };
    const res = await this.ctx.http.json<{ access_token?: string; expires_in?: number }>("GET", u, r);
    if (!res.data?.access_token) throw this.ctx.http.garbage("GET", u, r, res.status, "no access_token");
    return { value: res.data.access_token, until: Date.now() + ((res.data.expires_in ?? 300) - 30) * 1000 };
  }

  private accessToken(): Promise<string> {
    const fresh = async () => {
      const scope = this.c.impersonate ? SCOPE_CLOUD : SCOPE_DNS;
      const base = this.c.key ? await this.jwtToken(this.c.key, scope) : await this.metadataToken();
      if (!this.c.impersonate) return base;
      const u = `${this.c.iam}/projects/-/serviceAccounts/${encodeURIComponent(this.c.impersonate)}:generateAccessToken`;
      const r = { what: `impersonate ${this.c.impersonate}`, errorText, headers: { authorization: `Bearer ${base.value}`, "content-type": "application/json" }, body: JSON.stringify({ scope: [SCOPE_DNS], lifetime: "3600s" }) };
      const res = await this.ctx.http.json<{ accessToken?: string }>("POST", u, r);
      if (!res.data?.accessToken) throw this.ctx.http.garbage("POST", u, r, res.status, "no accessToken");
      return { value: res.data.accessToken, until: Date.now() + 3500_000 };
    };
    const p = (this.token ??= fresh());
    p.catch(() => (this.token = null));
    return p.then((t) => {
      if (Date.now() < t.until) return t.value;
      this.token = null;
      return this.accessToken();
    });
  }

  private projectId(): Promise<string> {
    this.project ??= (async () => {
      if (this.c.project) return this.c.project;
      const u = `${this.c.metadata}/computeMetadata/v1/project/project-id`;
      const res = await this.ctx.http.request("GET", u, { what: "read the project id from the metadata server (GCE_PROJECT is not set)", headers: { "metadata-flavor": "Google", accept: "text/plain" } });
      const id = res.body.trim();
      if (!/^[a-z][a-z0-9-:.]{2,}$/.test(id)) throw providerFailure("gcloud", "bad-answer", "the metadata server gave no project id: set GCE_PROJECT");
      return id;
    })();
    this.project.catch(() => (this.project = null));
    return this.project;
  }

  private async api<T>(method: string, path: string, what: string, body?: unknown): Promise<T> {
    const url = `${this.c.base}/projects/${encodeURIComponent(await this.projectId())}${path}`;
    const r = { what, errorText, headers: { authorization: `Bearer ${await this.accessToken()}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) };
    return (await this.ctx.http.json<T>(method, url, r)).data;
  }

  private zone(name: string): Promise<string> {
    if (this.c.zoneId) return Promise.resolve(this.c.zoneId);
    let p = this.zones.get(name);
    if (!p) {
      p = (async () => {
        const zone = (await this.ctx.findZone(name)).name;
        const j = await this.api<{ managedZones?: Array<{ name?: string; dnsName?: string; visibility?: string }> }>("GET", `/managedZones?dnsName=${encodeURIComponent(zone)}`, `find the managed zone of ${zone}`);
        const z = (j.managedZones ?? []).find((m) => fqdn(m.dnsName ?? "") === zone && (m.visibility === "public" || !m.visibility || (m.visibility === "private" && this.c.allowPrivate)));
        if (!z?.name) throw providerFailure("gcloud", "not-found", `no ${this.c.allowPrivate ? "" : "public "}managed zone for ${zone} in the project`);
        return z.name;
      })();
      this.zones.set(name, p);
      p.catch(() => this.zones.delete(name));
    }
    return p;
  }

  private async apply(zone: string, change: { additions?: Rrset[]; deletions?: Rrset[] }, what: string): Promise<void> {
    const c = await this.api<{ id?: string; status?: string }>("POST", `/managedZones/${encodeURIComponent(zone)}/changes`, what, change);
    if (!c?.id) throw providerFailure("gcloud", "bad-answer", `${what}: no change id in the answer`);
    const deadline = Date.now() + 30_000;
    for (let status = c.status; status !== "done"; ) {
      if (Date.now() > deadline) throw providerFailure("gcloud", "timeout", `${what}: change ${c.id} still ${status} after 30s`);
      await sleep(1000, undefined, { signal: this.ctx.signal }).catch(() => {});
      status = (await this.api<{ status?: string }>("GET", `/managedZones/${encodeURIComponent(zone)}/changes/${encodeURIComponent(c.id)}`, `${what}: status`)).status;
    }
  }

  private async modify(r: TxtRecord, edit: (values: string[]) => string[] | null): Promise<void> {
    const zone = await this.zone(r.fqdn);
    await this.serial.run(r.fqdn, async () => {
      const j = await this.api<{ rrsets?: Rrset[] }>("GET", `/managedZones/${encodeURIComponent(zone)}/rrsets?name=${encodeURIComponent(r.fqdn)}&type=TXT`, `read TXT ${r.fqdn}`);
      const old = (j.rrsets ?? []).find((s) => fqdn(s.name) === fqdn(r.fqdn) && s.type === "TXT");
      const next = edit((old?.rrdatas ?? []).map((v) => v.replace(/^"(.*)"$/, "$1")));
      if (!next) return;
      const change = {
        ...(old ? { deletions: [old] } : {}),
        ...(next.length ? { additions: [{ name: r.fqdn, type: "TXT", ttl: this.c.ttl, rrdatas: next.map((v) => JSON.stringify(v)) }] } : {}),
      };
      await this.apply(zone, change, `change TXT ${r.fqdn}`);
    });
  }

  present(r: TxtRecord): Promise<void> {
    return this.modify(r, (values) => (values.includes(r.value) ? null : [...values, r.value]));
  }

  cleanup(r: TxtRecord): Promise<void> {
    return this.modify(r, (values) => (values.includes(r.value) ? values.filter((v) => v !== r.value) : null));
  }
}

export const definition = defineProvider<Config>({
  code: "gcloud",
  required: ["GCE_SERVICE_ACCOUNT_FILE or GCE_SERVICE_ACCOUNT (or Application Default Credentials)", "GCE_PROJECT (or the key's project_id)"],
  optional: ["GCE_ZONE_ID", "GCE_ALLOW_PRIVATE_ZONE", "GCE_IMPERSONATE_SERVICE_ACCOUNT", "GOOGLE_APPLICATION_CREDENTIALS", ...timingVariables(P, DEFAULTS)],
  secrets: ["GCE_SERVICE_ACCOUNT"],
  configure,
  create: (config, ctx) => new GoogleCloud(config, ctx),
});
