/**
 * The config file format, declared once: the validator (validate.ts) and the
 * published JSON Schema (schema.ts) are both generated from this table.
 */
import { KEY_TYPES } from "./types.js";
import {
  checkAbsolutePath,
  checkClusterPrefix,
  checkDomain,
  checkEtcdEndpoint,
  checkEmail,
  checkHttpsUrl,
  checkUnitName,
  parseDnsResolvers,
  parseHostPort,
} from "./names.js";
import { checkDnsProvider } from "./dns-providers.js";

export type Check = (s: string) => string | null;

export type FieldSpec =
  | { kind: "string"; check?: Check; format?: string; pattern?: string }
  | { kind: "boolean" }
  | { kind: "number"; min: number; max: number; integer?: boolean; nullable?: boolean }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "stringArray"; check?: Check; pattern?: string }
  | { kind: "object"; fields: Record<string, FieldSpec & { description: string }>; required: string[] }
  /** An object of string values whose keys match `keyPattern` (e.g. credentialFiles). */
  | { kind: "stringMap"; keyPattern: string; keyHint: string; check?: Check };

export type Field = FieldSpec & {
  description: string;
  default?: unknown;
  /** Not allowed in defaults.json (identity of one certificate). */
  perCertOnly?: boolean;
};

const hostPort: Check = (s) => (parseHostPort(s) ? null : 'expected "[host]:port", "host:port" or ":port"');

export const CHALLENGE_FIELDS = ["webroot", "listenHTTP", "listenTLS", "dnsHook", "dnsProvider"] as const;

const resolvers: Check = (s) => {
  const r = parseDnsResolvers(s);
  return typeof r === "string" ? r : null;
};

export const FIELDS: Record<string, Field> = {
  domain: { kind: "string", check: checkDomain, description: "Primary domain name of the certificate. Default: the config file's name.", perCertOnly: true },
  extraDomainNames: { kind: "stringArray", check: checkDomain, description: "Further names (subject alternative names).", default: [], perCertOnly: true },
  email: { kind: "string", check: checkEmail, format: "email", description: "Contact email for the ACME account." },
  acceptTerms: { kind: "boolean", description: "Accept the CA's terms of service: needed to register an ACME account (security.acme.acceptTerms).", default: false },
  server: { kind: "string", check: checkHttpsUrl, format: "uri", description: "ACME directory URL. Default: Let's Encrypt production." },
  stagingServer: { kind: "string", check: checkHttpsUrl, format: "uri", description: "ACME directory URL for `run --dry-run`. Default: Let's Encrypt staging when server is Let's Encrypt production; otherwise needed for a dry run (or --server)." },
  caBundle: { kind: "string", check: checkAbsolutePath, description: "PEM file of CA certificates trusted (in addition to the system's) for the ACME server's TLS." },
  keyType: { kind: "enum", values: KEY_TYPES, description: "Key type of the certificate key.", default: "ec256" },
  reuseKey: { kind: "boolean", description: "Keep the certificate key across renewals.", default: false },
  validMinDays: { kind: "number", min: 0, max: 3650, nullable: true, description: "Renew when fewer than this many days remain. null: when 1/3 of the lifetime remains (1/2 for certificates of 10 days or less).", default: null },
  webroot: { kind: "string", check: checkAbsolutePath, description: "http-01: directory served as http://<domain>/ ; the token goes to .well-known/acme-challenge/." },
  listenHTTP: { kind: "string", check: hostPort, description: "http-01: run our own HTTP listener on this address, e.g. \":80\"." },
  listenTLS: { kind: "string", check: hostPort, description: "tls-alpn-01: run our own TLS listener (ALPN acme-tls/1) on this address, e.g. \":443\"." },
  // --- dns-01 (lego's provider codes and variables; security.acme's option names)
  dnsHook: { kind: "string", check: checkAbsolutePath, description: "dns-01: executable called as `HOOK present|cleanup <fqdn> <value>` (lego's exec provider; the same as dnsProvider \"exec\" with EXEC_PATH)." },
  dnsProvider: { kind: "string", check: checkDnsProvider, description: "dns-01: a lego provider code (rfc2136, cloudflare, route53, …); its credentials come from lego's environment variables." },
  environmentFile: { kind: "string", check: checkAbsolutePath, description: "dns-01: file of the provider's variables (systemd EnvironmentFile syntax), read at run time." },
  credentialFiles: { kind: "stringMap", keyPattern: "^[A-Za-z_][A-Za-z0-9_]*_FILE$", keyHint: "a variable name ending in _FILE, e.g. CF_DNS_API_TOKEN_FILE", check: checkAbsolutePath, description: "dns-01: { \"VAR_FILE\": \"/path\" }: the variable VAR is the file's content (lego's VAR_FILE convention)." },
  dnsResolver: { kind: "string", check: resolvers, description: "dns-01: DNS server(s) \"IP[:port]\" (comma-separated) used to find the zone, its name servers and CNAMEs (lego's --dns.resolvers). Default: /etc/resolv.conf." },
  dnsPropagationCheck: { kind: "boolean", description: "dns-01: wait until every authoritative name server of the zone serves the TXT record.", default: true },
  dnsPropagationTimeout: { kind: "number", min: 0, max: 86400, integer: true, nullable: true, description: "dns-01: seconds to wait for the record (0: do not wait). null: the provider's <P>_PROPAGATION_TIMEOUT, or lego's default for it.", default: null },
  reloadServices: { kind: "stringArray", check: checkUnitName, description: "Units reloaded (try-reload-or-restart) after a renewal.", default: [] },
  postRun: { kind: "string", description: "Shell snippet run after a renewal, with the cert paths in the environment." },
  group: { kind: "string", check: (s) => (/^[a-z_][a-z0-9_-]*\$?$/i.test(s) ? null : "not a group name"), description: "Group owning the key files (mode 0640)." },
  profile: { kind: "string", check: (s) => (/^[\x21-\x7e]{1,64}$/.test(s) ? null : "not a profile name"), description: "ACME profile to request." },
  ocspMustStaple: { kind: "boolean", description: "Accepted for NixOS security.acme compatibility and ignored with a warning: Let's Encrypt rejects must-staple requests since 2025, so it is never requested.", default: false },
  preferredChain: { kind: "string", description: "Issuer common name of the preferred alternate chain." },
  eab: {
    kind: "object",
    required: ["kid", "hmacKeyFile"],
    fields: {
      kid: { kind: "string", description: "External account binding key id." },
      hmacKeyFile: { kind: "string", check: checkAbsolutePath, description: "File holding the base64url HMAC key (read at run time, never logged)." },
    },
    description: "External account binding.",
  },
  ari: { kind: "boolean", description: "Use ACME Renewal Information (RFC 9773).", default: true },
  placeholder: { kind: "boolean", description: "Write a self-signed placeholder when there is no certificate and issuance fails.", default: true },
  keepVersions: { kind: "number", min: 1, max: 100, integer: true, description: "How many versions of key and certificate to keep on disk.", default: 3 },
  timeout: { kind: "number", min: 10, max: 86400, integer: true, description: "Overall deadline of one renewal, seconds.", default: 600 },
  hookTimeout: { kind: "number", min: 1, max: 3600, integer: true, description: "Timeout of each hook (reload, postRun, dnsHook/exec), seconds.", default: 60 },
  cluster: {
    kind: "object",
    required: ["etcd", "encryptionKeyFile"],
    fields: {
      etcd: {
        kind: "object",
        required: ["endpoints"],
        fields: {
          endpoints: { kind: "stringArray", check: checkEtcdEndpoint, description: "etcd v3 client URLs, e.g. [\"https://10.0.0.1:2379\", …] (at least one)." },
          caFile: { kind: "string", check: checkAbsolutePath, description: "PEM CA that signs the etcd members' TLS certificates." },
          certFile: { kind: "string", check: checkAbsolutePath, description: "Client certificate for etcd (with keyFile)." },
          keyFile: { kind: "string", check: checkAbsolutePath, description: "Client certificate key for etcd (with certFile)." },
          usernameFile: { kind: "string", check: checkAbsolutePath, description: "File holding the etcd user name (with passwordFile)." },
          passwordFile: { kind: "string", check: checkAbsolutePath, description: "File holding the etcd password (read at run time, never logged)." },
        },
        description: "The etcd v3 cluster that holds the shared records.",
      },
      prefix: { kind: "string", check: checkClusterPrefix, description: "Key prefix in etcd. Default: \"/acme-renew\"." },
      encryptionKeyFile: { kind: "string", check: checkAbsolutePath, description: "File of 32 random bytes (64 hex digits or base64) sealing the private keys stored in etcd (AES-256-GCM)." },
      standaloneWhenUnreachable: { kind: "boolean", description: "With etcd unreachable, issue alone when the certificate is missing or in its last 10 % of lifetime (published once etcd is back). Default: true." },
    },
    description: "Cluster mode: hosts share the certificate, the ACME account and the renewal state through etcd (docs/cluster.md).",
  },
  inheritDefaults: { kind: "boolean", description: "Inherit defaults.json.", default: true, perCertOnly: true },
};

/** Keys that are accepted and ignored (editor support). */
export const IGNORED_KEYS = ["$schema", "$comment"];
