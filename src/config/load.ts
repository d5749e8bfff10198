/** Reads <config-dir>/<name>.json (+ defaults.json) into a validated CertConfig. */
import { readdirSync } from "node:fs";
import { ConfigError } from "./errors.js";
import { CHALLENGE_FIELDS, FIELDS } from "./fields.js";
import { canonicalProvider } from "./dns-providers.js";
import { checkCertName, checkDomain, isWildcard, parseDnsResolvers, parseHostPort, type DnsServer } from "./names.js";
import { allNames, DEFAULT_CLUSTER_PREFIX, LETS_ENCRYPT_PRODUCTION, LETS_ENCRYPT_STAGING, type CertConfig, type Challenge, type ClusterConfig, type KeyType } from "./types.js";
import { validateRaw, type RawConfig } from "./validate.js";
import { joinPrefix } from "../util/path.js";
import { readTextOrNull } from "../util/read.js";

const DEFAULTS_FILE = "defaults.json";

function readJson(file: string, required: boolean): unknown {
  let text: string | null;
  try {
    text = readTextOrNull(file);
  } catch (e) {
    throw new ConfigError(file, null, `cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (text === null) {
    if (!required) return undefined;
    throw new ConfigError(file, null, "no such file");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, null, `not valid JSON (${(e as Error).message})`);
  }
}

export class ConfigLoader {
  private defaults: RawConfig | null | undefined;

  /** <dir>/ as join() writes it (util/path.ts). */
  private readonly prefix: string;

  constructor(readonly dir: string) {
    this.prefix = joinPrefix(dir);
  }

  private loadDefaults(): RawConfig | null {
    if (this.defaults === undefined) {
      const file = this.prefix + DEFAULTS_FILE;
      const raw = readJson(file, false);
      this.defaults = raw === undefined ? null : validateRaw(file, raw, { defaults: true });
    }
    return this.defaults;
  }

  /** defaults.json as validated (null when there is none). */
  defaultsRaw(): RawConfig | null {
    return this.loadDefaults();
  }

  /** Names of all certificate configs in the directory, sorted. */
  listNames(): string[] {
    let entries: string[];
    try {
      entries = readdirSync(this.dir);
    } catch (e) {
      throw new ConfigError(this.dir, null, `cannot list config directory (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    return entries
      .filter((f) => f.endsWith(".json") && f !== DEFAULTS_FILE && !f.startsWith("."))
      .map((f) => f.slice(0, -5))
      .sort();
  }

  load(name: string): CertConfig {
    const file = `${this.prefix}${name}.json`;
    const nameProblem = checkCertName(name);
    if (nameProblem) throw new ConfigError(file, null, `certificate name "${name}" ${nameProblem}`);
    return this.fromObject(name, readJson(file, true));
  }

  /** Validates `v` as the content of <dir>/<name>.json would be (defaults merged): `import` checks what it writes with this. */
  fromObject(name: string, v: unknown): CertConfig {
    const file = `${this.prefix}${name}.json`;
    const nameProblem = checkCertName(name);
    if (nameProblem) throw new ConfigError(file, null, `certificate name "${name}" ${nameProblem}`);
    const own = validateRaw(file, v, { defaults: false });
    const inherit = own.inheritDefaults !== false;
    const defaults = inherit ? this.loadDefaults() : null;
    if (!defaults) return build(name, file, own);
    const merged: RawConfig = { ...defaults };
    if (CHALLENGE_FIELDS.some((c) => c in own)) for (const c of CHALLENGE_FIELDS) delete merged[c];
    Object.assign(merged, own);
    return build(name, file, merged);
  }
}

function get<T>(raw: RawConfig, key: string): T {
  return (key in raw ? raw[key] : FIELDS[key]?.default) as T;
}

function build(name: string, file: string, raw: RawConfig): CertConfig {
  const domain = (raw.domain as string | undefined) ?? name;
  if (raw.domain === undefined) {
    const why = checkDomain(domain);
    if (why) throw new ConfigError(file, "domain", `not set, and the file name "${name}" is not a domain name: ${why}`);
  }
  const cfg: CertConfig = {
    name,
    file,
    domain: domain.toLowerCase(),
    extraDomainNames: get<string[]>(raw, "extraDomainNames").map((n) => n.toLowerCase()),
    email: get<string | undefined>(raw, "email") ?? null,
    acceptTerms: get<boolean>(raw, "acceptTerms"),
    server: get<string | undefined>(raw, "server") ?? LETS_ENCRYPT_PRODUCTION,
    stagingServer: null,
    caBundle: get<string | undefined>(raw, "caBundle") ?? null,
    keyType: get<KeyType>(raw, "keyType"),
    reuseKey: get<boolean>(raw, "reuseKey"),
    validMinDays: get<number | null>(raw, "validMinDays"),
    challenge: challengeOf(file, raw),
    reloadServices: get<string[]>(raw, "reloadServices"),
    postRun: get<string | undefined>(raw, "postRun") ?? null,
    group: get<string | undefined>(raw, "group") ?? null,
    profile: get<string | undefined>(raw, "profile") ?? null,
    preferredChain: get<string | undefined>(raw, "preferredChain") ?? null,
    ocspMustStaple: get<boolean>(raw, "ocspMustStaple"),
    eab: (raw.eab as CertConfig["eab"] | undefined) ?? null,
    ari: get<boolean>(raw, "ari"),
    placeholder: get<boolean>(raw, "placeholder"),
    keepVersions: get<number>(raw, "keepVersions"),
    timeout: get<number>(raw, "timeout"),
    hookTimeout: get<number>(raw, "hookTimeout"),
    cluster: clusterOf(file, raw.cluster as Record<string, unknown> | undefined),
  };
  cfg.stagingServer = get<string | undefined>(raw, "stagingServer") ?? (cfg.server === LETS_ENCRYPT_PRODUCTION ? LETS_ENCRYPT_STAGING : null);
  if (cfg.cluster && cfg.challenge.type === "listenTLS") {
    throw new ConfigError(file, "listenTLS", "tls-alpn-01 cannot work in cluster mode (the CA's TLS connection must reach the host holding the challenge certificate): use dns-01, or http-01 with serve-http01");
  }
  const wildcard = allNames(cfg).find(isWildcard);
  if (wildcard && cfg.challenge?.type !== "dns01") {
    throw new ConfigError(file, "dnsProvider", `the wildcard name "${wildcard}" needs the dns-01 challenge (dnsProvider or dnsHook)`);
  }
  return cfg;
}

/** The cluster settings of a validated config object (`raw.cluster`), defaults filled in. */
export function clusterOf(file: string, raw: Record<string, unknown> | undefined): ClusterConfig | null {
  if (!raw) return null;
  const e = raw.etcd as Record<string, unknown>;
  const opt = (k: string) => (e[k] as string | undefined) ?? null;
  const etcd = { endpoints: e.endpoints as string[], caFile: opt("caFile"), certFile: opt("certFile"), keyFile: opt("keyFile"), usernameFile: opt("usernameFile"), passwordFile: opt("passwordFile") };
  if (etcd.endpoints.length === 0) throw new ConfigError(file, "cluster.etcd.endpoints", "needs at least one endpoint");
  for (const [a, b] of [["certFile", "keyFile"], ["usernameFile", "passwordFile"]] as const) {
    if (!!etcd[a] !== !!etcd[b]) throw new ConfigError(file, `cluster.etcd.${etcd[a] ? b : a}`, `is required with ${etcd[a] ? a : b}`);
  }
  return {
    etcd,
    prefix: (raw.prefix as string | undefined) ?? DEFAULT_CLUSTER_PREFIX,
    encryptionKeyFile: raw.encryptionKeyFile as string,
    standaloneWhenUnreachable: (raw.standaloneWhenUnreachable as boolean | undefined) ?? true,
  };
}

function challengeOf(file: string, raw: RawConfig): Challenge {
  const set = CHALLENGE_FIELDS.filter((c) => c in raw);
  if (set.length === 0) throw new ConfigError(file, null, `no challenge configured: set exactly one of ${CHALLENGE_FIELDS.join(", ")}`);
  if (set.length > 1) throw new ConfigError(file, set[1]!, `only one challenge may be set, found ${set.join(" and ")}`);
  const kind = set[0]!;
  const value = raw[kind] as string;
  switch (kind) {
    case "webroot":
      return { type: "webroot", webroot: value };
    case "listenHTTP":
    case "listenTLS":
      return { type: kind, ...parseHostPort(value)! };
    case "dnsHook":
    case "dnsProvider": {
      const resolver = get<string | undefined>(raw, "dnsResolver");
      return {
        type: "dns01",
        provider: kind === "dnsHook" ? "exec" : canonicalProvider(value)!,
        code: kind === "dnsHook" ? "exec" : value,
        hook: kind === "dnsHook" ? value : null,
        resolvers: resolver === undefined ? [] : (parseDnsResolvers(resolver) as DnsServer[]),
        propagationCheck: get<boolean>(raw, "dnsPropagationCheck"),
        propagationTimeout: get<number | null>(raw, "dnsPropagationTimeout"),
        environmentFile: get<string | undefined>(raw, "environmentFile") ?? null,
        credentialFiles: { ...(get<Record<string, string> | undefined>(raw, "credentialFiles") ?? {}) },
      };
    }
  }
}

