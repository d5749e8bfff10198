/**
 * From a certificate's dns-01 config to a configured provider: load its module, gather its
 * variables (env.ts), let it check them. No network: `validate` runs exactly this, and `run` runs it
 * before it contacts the CA, so a missing or bad variable is a configuration error (78) up front.
 */
import { ConfigError } from "../config/errors.js";
import type { RetryContext } from "../acme/retry.js";
import type { DnsServer } from "../config/names.js";
import type { CertConfig, DnsChallenge } from "../config/types.js";
import type { Logger } from "../report/log.js";
import { ProviderEnv } from "./env.js";
import { redactor } from "./errors.js";
import { HttpClient } from "./http.js";
import { Lookup } from "./lookup.js";
import type { DnsProvider, ProviderContext, ProviderDefinition, Timing } from "./provider.js";
import { PROVIDERS } from "./providers/index.js";

export interface PreparedProvider {
  definition: ProviderDefinition<unknown>;
  env: ProviderEnv;
  config: unknown;
  timing: Timing & { httpTimeout: number };
}

const prepared = new Map<string, Promise<PreparedProvider>>();

/**
 * The provider of one certificate, prepared once per process (`run` checks it before the network
 * stage; the solver then uses the same one, and its warnings are logged once).
 */
export function providerFor(cert: CertConfig, c: DnsChallenge, warn: (m: string) => void): Promise<PreparedProvider> {
  let p = prepared.get(cert.file);
  if (!p) {
    p = prepareProvider(cert, c, process.env, warn);
    prepared.set(cert.file, p);
  }
  return p;
}

export async function prepareProvider(cert: CertConfig, c: DnsChallenge, processEnv: NodeJS.ProcessEnv, warn: (m: string) => void): Promise<PreparedProvider> {
  const load = PROVIDERS[c.provider];
  if (!load) throw new ConfigError(cert.file, "dnsProvider", `no module for the DNS provider "${c.code}"`);
  const definition = await load();
  const env = new ProviderEnv({ file: cert.file, process: processEnv, environmentFile: c.environmentFile, credentialFiles: c.credentialFiles, warn }, c.code);
  const { config, timing } = definition.configure(env, { hook: c.hook });
  return { definition, env, config, timing };
}

export interface Phase {
  signal: AbortSignal;
  retry: RetryContext;
}

export interface LiveProvider {
  provider: DnsProvider;
  lookup: Lookup;
  http: HttpClient;
  redact: (s: string) => string;
}

/**
 * A provider instance with its context. `phase()` is read at every call: the solver moves from the
 * run's deadline to cleanup's own bound.
 */
export function createProvider(p: PreparedProvider, o: { log: Logger; resolvers: DnsServer[]; phase: () => Phase; cert: ProviderContext["cert"]; extraCa?: string }): LiveProvider {
  const redact = redactor(() => p.env.values(p.definition.secrets));
  const lookup = new Lookup(o.resolvers, () => o.phase().signal);
  const http = new HttpClient({
    provider: p.definition.code,
    timeoutMs: p.timing.httpTimeout * 1000,
    get signal() {
      return o.phase().signal;
    },
    get retry() {
      return o.phase().retry;
    },
    log: o.log,
    redact,
    authHint: `check ${p.definition.required.join(", ") || "the credentials"}`,
    ...(o.extraCa ? { extraCa: o.extraCa } : {}),
  });
  const ctx: ProviderContext = {
    env: p.env,
    log: o.log,
    get signal() {
      return o.phase().signal;
    },
    get retry() {
      return o.phase().retry;
    },
    http,
    lookup,
    findZone: (name) => lookup.findZone(name),
    cert: o.cert,
  };
  return { provider: p.definition.create(p.config, ctx), lookup, http, redact };
}
