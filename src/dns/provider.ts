/**
 * One interface for every DNS provider: put a TXT record in place, take it away again. A provider is
 * one module under providers/, exporting a `ProviderDefinition`: lego's code, variables and
 * defaults, `configure()` (reads and checks the variables: a problem is a ConfigError naming the
 * variable, found before any network) and `create()`.
 */
import type { RetryContext } from "../acme/retry.js";
import { ConfigError } from "../config/errors.js";
import type { Logger } from "../report/log.js";
import type { ProviderEnv } from "./env.js";
import type { HttpClient } from "./http.js";
import type { Lookup, Zone } from "./lookup.js";

export interface TxtRecord {
  /** Where the record goes, absolute, after CNAME following ("_acme-challenge.example.com."). */
  fqdn: string;
  /** The TXT value: base64url(SHA-256(key authorization)). */
  value: string;
  /** The authorization's name (no "*."), as lego passes `domain`. */
  domain: string;
  /** The challenge token and key authorization (the exec provider's RAW mode). */
  token: string;
  keyAuthorization: string;
}

export interface DnsProvider {
  present(r: TxtRecord): Promise<void>;
  cleanup(r: TxtRecord): Promise<void>;
}

/** lego's per-provider knobs (seconds), after `<P>_*` variables are applied. */
export interface Timing {
  propagationTimeout: number;
  pollingInterval: number;
  ttl: number;
  /** Sequential providers: pause between two records at one name (lego's SEQUENCE_INTERVAL). */
  sequenceInterval?: number;
}

export interface ProviderContext {
  env: ProviderEnv;
  log: Logger;
  /** The run's deadline while the record is set; a fresh bound for cleanup (which also runs after a timeout). */
  signal: AbortSignal;
  /** In-run retries of transient failures (the run's backoff and deadline). */
  retry: RetryContext;
  /** HTTPS to the provider's API: timeouts, classified errors, secrets redacted. */
  http: HttpClient;
  /** The resolver (dnsResolver or /etc/resolv.conf). */
  lookup: Lookup;
  /** The zone of a record name (SOA walk through the resolver; lego's FindZoneByFqdn). */
  findZone(fqdn: string): Promise<Zone>;
  /** Config values the exec provider needs (dnsHook, hookTimeout, the certificate's name and names). */
  cert: { name: string; domains: string[]; hook: string | null; hookTimeout: number };
}

export interface ProviderDefinition<C = unknown> {
  /** lego's code of the module (aliases live in config/dns-providers.ts). */
  code: string;
  /** Variables to list in messages and the README: required (alternatives joined with " or ") and optional. */
  required: string[];
  optional: string[];
  /** Variables whose values are secrets (redacted from any text; the secret scan registers them). */
  secrets: string[];
  /**
   * Two records at one name cannot coexist (lego's Sequential providers): a wildcard and its base
   * are then validated one after the other, `sequenceInterval` apart.
   */
  sequential?: boolean;
  /** Reads and checks the variables (no network). Throws ConfigError naming the variable. */
  configure(env: ProviderEnv, opts: { hook: string | null }): { config: C; timing: Timing & { httpTimeout: number } };
  create(config: C, ctx: ProviderContext): DnsProvider;
}

/**
 * The API's base URL: lego's variable for it when the provider has one (e.g. CLOUDFLARE_BASE_URL),
 * else the public endpoint. Tests point providers without such a variable at their fakes through
 * `_ACME_RENEW_TEST_<CODE>_URL` — an internal seam, not a user option.
 */
export function apiBase(env: ProviderEnv, code: string, dflt: string, legoVar?: string): string {
  const v = (legoVar ? env.get(legoVar) : undefined) ?? process.env[`_ACME_RENEW_TEST_${code.toUpperCase()}_URL`] ?? dflt;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(env.file, "dnsProvider", `${code}: ${legoVar ?? "base URL"}: "${v}" is not a URL`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new ConfigError(env.file, "dnsProvider", `${code}: ${legoVar ?? "base URL"}: "${v}" is not an http(s) URL`);
  return v.replace(/\/+$/, "");
}

/** A definition with its config type erased (the registry holds providers of every config type). */
export function defineProvider<C>(d: ProviderDefinition<C>): ProviderDefinition<unknown> {
  return d as unknown as ProviderDefinition<unknown>;
}

/** Zone-relative name ("_acme-challenge.www" in "example.com."), "@" for the apex. */
export function relativeName(fqdn: string, zone: string): string {
  const f = fqdn.toLowerCase().replace(/\.$/, "");
  const z = zone.toLowerCase().replace(/\.$/, "");
  if (f === z) return "@";
  if (!f.endsWith(`.${z}`)) throw new Error(`${fqdn} is not in zone ${zone}`);
  return f.slice(0, -(z.length + 1));
}

export const unFqdn = (n: string) => n.replace(/\.$/, "");

/**
 * Runs read-modify-write changes of one record set one after another (a wildcard and its base
 * change the same set at once): `serial(key, fn)` waits for the previous fn with that key.
 */
export class Serial {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}

/** The zone of a record and its zone-relative name ("@" at the apex). */
export async function zoneAndName(ctx: ProviderContext, fqdn: string): Promise<{ zone: string; name: string }> {
  const zone = unFqdn((await ctx.findZone(fqdn)).name);
  return { zone, name: relativeName(fqdn, zone) };
}
