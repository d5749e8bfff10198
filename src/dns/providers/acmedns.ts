/**
 * acmedns (alias acme-dns): joohoi's acme-dns — POST {ACME_DNS_API_BASE}/update with the account of
 * the domain (X-Api-User, X-Api-Key, { subdomain, txt }). Accounts live in ACME_DNS_STORAGE_PATH (a
 * JSON file, domain → account, as lego's goacmedns writes it) or behind ACME_DNS_STORAGE_BASE_URL
 * (lego's HTTP storage: GET/POST <base>/<domain>). A domain without an account gets one (POST
 * /register, stored), and the run stops naming the CNAME to create, as lego does. Before updating,
 * the CNAME from _acme-challenge.<domain> must lead to the account's fulldomain (lego does not
 * check; the CA would fail later). Cleanup is a no-op (acme-dns keeps the last two values).
 * API: https://github.com/joohoi/acme-dns#api
 */
import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { ConfigError } from "../../config/errors.js";
import type { ProviderEnv } from "../env.js";
import { providerFailure } from "../errors.js";
import { defineProvider, Serial, unFqdn, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { fqdn } from "../wire.js";

interface Config {
  api: string;
  storagePath: string | null;
  storageUrl: string | null;
  allowFrom: string[];
}

interface Account {
  fulldomain: string;
  subdomain: string;
  username: string;
  password: string;
  server_url?: string;
}

const url = (env: ProviderEnv, name: string): string | null => {
  const v = env.get(name);
  if (v === undefined) return null;
  try {
    const u = new URL(v);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    throw new ConfigError(env.file, "dnsProvider", `${env.code}: ${name}: "${v}" is not an http(s) URL`);
  }
  return v.replace(/\/+$/, "");
};

function configure(env: ProviderEnv) {
  env.require("ACME_DNS_API_BASE");
  const api = url(env, "ACME_DNS_API_BASE")!;
  const storagePath = env.get("ACME_DNS_STORAGE_PATH") ?? null;
  const storageUrl = url(env, "ACME_DNS_STORAGE_BASE_URL");
  if (!storagePath && !storageUrl) throw new ConfigError(env.file, "dnsProvider", `${env.code}: ACME_DNS_STORAGE_PATH or ACME_DNS_STORAGE_BASE_URL: not set (where the acme-dns accounts are kept)`);
  if (storagePath && storageUrl) throw new ConfigError(env.file, "dnsProvider", `${env.code}: ACME_DNS_STORAGE_PATH and ACME_DNS_STORAGE_BASE_URL: set only one`);
  if (storagePath && !storagePath.startsWith("/")) throw new ConfigError(env.file, "dnsProvider", `${env.code}: ACME_DNS_STORAGE_PATH: "${storagePath}" must be an absolute path`);
  const allowFrom = (env.get("ACME_DNS_ALLOWLIST") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  // lego's common knobs do not apply to acme-dns (it has none); the solver's defaults are lego's dns01 ones.
  return { config: { api, storagePath, storageUrl, allowFrom }, timing: { propagationTimeout: 60, pollingInterval: 2, ttl: 120, httpTimeout: 30 } };
}

function isAccount(a: unknown): a is Account {
  const o = a as Record<string, unknown>;
  return !!o && typeof o === "object" && ["fulldomain", "subdomain", "username", "password"].every((k) => typeof o[k] === "string" && o[k] !== "");
}

class AcmeDns implements DnsProvider {
  private readonly serial = new Serial();

  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {}

  private readFile(): Record<string, unknown> {
    let text: string;
    try {
      text = readFileSync(this.c.storagePath!, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw providerFailure("acmedns", "rejected", `ACME_DNS_STORAGE_PATH ${this.c.storagePath}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    try {
      const j = JSON.parse(text) as unknown;
      if (!j || typeof j !== "object" || Array.isArray(j)) throw new Error();
      return j as Record<string, unknown>;
    } catch {
      throw providerFailure("acmedns", "bad-answer", `ACME_DNS_STORAGE_PATH ${this.c.storagePath}: not a JSON object of accounts`);
    }
  }

  private async fetch(domain: string): Promise<Account | null> {
    if (this.c.storagePath) {
      const a = this.readFile()[domain];
      if (a === undefined) return null;
      if (!isAccount(a)) throw providerFailure("acmedns", "bad-answer", `ACME_DNS_STORAGE_PATH ${this.c.storagePath}: the account of ${domain} is incomplete`);
      return a;
    }
    const u = `${this.c.storageUrl}/${encodeURIComponent(domain)}`;
    const r = { what: `fetch the acme-dns account of ${domain}`, accept: [404] };
    const res = await this.ctx.http.request("GET", u, r);
    if (res.status === 404) return null;
    try {
      const a = JSON.parse(res.body) as unknown;
      if (isAccount(a)) return a;
    } catch {
      /* below */
    }
    throw this.ctx.http.garbage("GET", u, r, res.status, "not an account");
  }

  private async store(domain: string, a: Account): Promise<void> {
    if (this.c.storagePath) {
      const all = this.readFile();
      all[domain] = a;
      const tmp = `${this.c.storagePath}.${randomBytes(4).toString("hex")}.tmp`;
      try {
        writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
        chmodSync(tmp, 0o600);
        renameSync(tmp, this.c.storagePath);
      } catch (e) {
        throw providerFailure("acmedns", "rejected", `ACME_DNS_STORAGE_PATH ${this.c.storagePath}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)}); the new account for ${domain} is lost`);
      }
      return;
    }
    await this.ctx.http.request("POST", `${this.c.storageUrl}/${encodeURIComponent(domain)}`, { what: `store the acme-dns account of ${domain}`, headers: { "content-type": "application/json" }, body: JSON.stringify(a) });
  }

  private async register(domain: string, challenge: string): Promise<never> {
    const u = `${this.c.api}/register`;
    const r = { what: `register an acme-dns account for ${domain}`, headers: { "content-type": "application/json" }, body: JSON.stringify(this.c.allowFrom.length ? { allowfrom: this.c.allowFrom } : {}) };
    const res = await this.ctx.http.json<unknown>("POST", u, r);
    if (!isAccount(res.data)) throw this.ctx.http.garbage("POST", u, r, res.status, "not an account");
    const a: Account = { fulldomain: res.data.fulldomain, subdomain: res.data.subdomain, username: res.data.username, password: res.data.password, server_url: this.c.api };
    await this.store(domain, a);
    throw providerFailure("acmedns", "rejected", `registered a new acme-dns account for ${domain}: create the record "${challenge} CNAME ${fqdn(a.fulldomain)}" in your DNS zone, then run again`);
  }

  async present(r: TxtRecord): Promise<void> {
    const challenge = `_acme-challenge.${r.domain}.`;
    const account = await this.serial.run(r.domain, async () => (await this.fetch(r.domain)) ?? this.register(r.domain, challenge));
    if (fqdn(r.fqdn) !== fqdn(account.fulldomain))
      throw providerFailure("acmedns", "rejected", `${challenge} must be a CNAME to ${fqdn(account.fulldomain)} (the acme-dns account's fulldomain), but it ${fqdn(r.fqdn) === challenge ? "is not a CNAME" : `leads to ${r.fqdn}`}`);
    const u = `${this.c.api}/update`;
    const req = { what: `update TXT of ${unFqdn(account.fulldomain)}`, headers: { "x-api-user": account.username, "x-api-key": account.password, "content-type": "application/json" }, body: JSON.stringify({ subdomain: account.subdomain, txt: r.value }) };
    const res = await this.ctx.http.json<{ txt?: string }>("POST", u, req);
    if (res.data?.txt !== r.value) throw this.ctx.http.garbage("POST", u, req, res.status, "the answer does not echo the value");
  }

  async cleanup(): Promise<void> {}
}

export const definition = defineProvider<Config>({
  code: "acmedns",
  required: ["ACME_DNS_API_BASE", "ACME_DNS_STORAGE_PATH or ACME_DNS_STORAGE_BASE_URL"],
  optional: ["ACME_DNS_ALLOWLIST"],
  secrets: [],
  configure,
  create: (config, ctx) => new AcmeDns(config, ctx),
});
