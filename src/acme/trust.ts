/**
 * TLS trust for talking to a CA: the system's trust store (`SSL_CERT_FILE`, else the distribution's
 * bundle such as /etc/ssl/certs/ca-certificates.crt, else Node's bundled roots), plus
 * `NODE_EXTRA_CA_CERTS`, plus an optional `caBundle`. So a root installed with update-ca-certificates
 * (a TLS-inspecting proxy, a private CA) is trusted as curl and OpenSSL trust it. Verification is
 * never turned off. The store is built once per bundle and shared as one SecureContext: passing `ca`
 * to each request instead makes Node parse every root for every connection.
 */
import { readFileSync } from "node:fs";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import { AcmeFailure } from "./errors.js";

/** Where distributions keep the system bundle: Debian/Ubuntu/NixOS/Arch, Fedora/RHEL, Alpine/BSD. */
export const SYSTEM_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"];

export interface TrustSources {
  /** Where the system roots came from: a file, or "node" (Node's bundled roots). */
  system: string;
  extra: string | null;
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new AcmeFailure("tls", `${what}=${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** The PEM text of the system roots and NODE_EXTRA_CA_CERTS, and where they came from. */
export function systemRoots(env: NodeJS.ProcessEnv = process.env): { pem: string; sources: TrustSources } {
  let pem: string | null = null;
  let system = "node";
  if (env.SSL_CERT_FILE) {
    pem = readPem(env.SSL_CERT_FILE, "SSL_CERT_FILE");
    system = env.SSL_CERT_FILE;
  } else {
    for (const f of SYSTEM_BUNDLES) {
      try {
        pem = readFileSync(f, "utf8");
        system = f;
        break;
      } catch {
        /* next candidate */
      }
    }
  }
  pem ??= rootCertificates.join("\n");
  const extra = env.NODE_EXTRA_CA_CERTS || null;
  if (extra) pem += `\n${readPem(extra, "NODE_EXTRA_CA_CERTS")}`;
  return { pem, sources: { system, extra } };
}

const contexts = new Map<string, SecureContext>();
let system: string | null = null;

/** The context trusting the system store and `caPem`, built once per bundle. */
export function trustContext(caPem: string | null): SecureContext {
  const key = caPem ?? "";
  let c = contexts.get(key);
  if (!c) {
    system ??= systemRoots().pem;
    try {
      c = createSecureContext({ ca: caPem ? `${system}\n${caPem}` : system });
    } catch (e) {
      throw new AcmeFailure("tls", `the trusted CA certificates cannot be loaded (${(e as Error).message}); check caBundle, SSL_CERT_FILE and NODE_EXTRA_CA_CERTS`);
    }
    contexts.set(key, c);
  }
  return c;
}
