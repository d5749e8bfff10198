/** The validated, defaults-merged configuration of one certificate. */
import type { DnsServer } from "./names.js";
export const KEY_TYPES = ["ec256", "ec384", "rsa2048", "rsa3072", "rsa4096", "rsa8192"] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export const LETS_ENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory";
export const LETS_ENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";

export type Challenge =
  | { type: "webroot"; webroot: string }
  | { type: "listenHTTP"; host: string; port: number }
  | { type: "listenTLS"; host: string; port: number }
  | DnsChallenge;

/** dns-01 through a provider (lego's codes and variables); `dnsHook` is the exec provider. */
export interface DnsChallenge {
  type: "dns01";
  /** The provider module (dnsupdate, cloudflare, …, exec). */
  provider: string;
  /** The code as configured (e.g. "rfc2136" for dnsupdate), for messages. */
  code: string;
  /** dnsHook: the executable (the exec provider's EXEC_PATH). */
  hook: string | null;
  /** dnsResolver: where zones, name servers and CNAMEs are looked up; [] = /etc/resolv.conf. */
  resolvers: DnsServer[];
  propagationCheck: boolean;
  /** Seconds; null = the provider's <P>_PROPAGATION_TIMEOUT or lego's default for it. */
  propagationTimeout: number | null;
  environmentFile: string | null;
  /** VAR_FILE → path. */
  credentialFiles: Record<string, string>;
}

export interface EabConfig {
  kid: string;
  hmacKeyFile: string;
}

/** Cluster mode (docs/cluster.md): the etcd cluster and how records are sealed. */
export interface ClusterConfig {
  etcd: {
    endpoints: string[];
    caFile: string | null;
    certFile: string | null;
    keyFile: string | null;
    usernameFile: string | null;
    passwordFile: string | null;
  };
  prefix: string;
  encryptionKeyFile: string;
  standaloneWhenUnreachable: boolean;
}

export const DEFAULT_CLUSTER_PREFIX = "/acme-renew";

export interface CertConfig {
  /** The config file's base name: the cert's identity on disk and in logs. */
  name: string;
  /** Path of the file this came from, for error messages. */
  file: string;
  domain: string;
  extraDomainNames: string[];
  email: string | null;
  /** The CA's terms of service are accepted: an account may be registered. */
  acceptTerms: boolean;
  server: string;
  /** `run --dry-run` orders from here (null: none configured and no default, see load.ts). */
  stagingServer: string | null;
  caBundle: string | null;
  keyType: KeyType;
  reuseKey: boolean;
  validMinDays: number | null;
  challenge: Challenge;
  reloadServices: string[];
  postRun: string | null;
  group: string | null;
  profile: string | null;
  preferredChain: string | null;
  /** Set in the config (NixOS security.acme.ocspMustStaple): warned about, never requested. */
  ocspMustStaple: boolean;
  eab: EabConfig | null;
  ari: boolean;
  placeholder: boolean;
  keepVersions: number;
  timeout: number;
  hookTimeout: number;
  /** null: this host works alone. */
  cluster: ClusterConfig | null;
}

/** All names of a certificate, primary first, lower-cased, de-duplicated. */
export function allNames(c: Pick<CertConfig, "domain" | "extraDomainNames">): string[] {
  // One name, the common case (check --all asks twice for each of 10,000 certificates).
  if (c.extraDomainNames.length === 0) return [c.domain.toLowerCase()];
  return [...new Set([c.domain, ...c.extraDomainNames].map((n) => n.toLowerCase()))];
}
