/**
 * When there is no certificate at all and the first issuance fails (CA down at first boot), a
 * self-signed placeholder for the configured names lets dependent services start. It is recorded in
 * the state so the pre-check reports it as due (placeholder) and the next run replaces it. Never
 * written over a real certificate.
 */
import type { CertConfig } from "../config/types.js";
import { allNames } from "../config/types.js";
import { createCertificate } from "../crypto/certs.js";
import { generateKeyPair } from "../crypto/keys.js";
import { install } from "../store/install.js";
import type { CertPaths } from "../store/paths.js";

const DAY = 86_400_000;

/** Installs a placeholder; returns its serial (hex, as node:crypto prints it, lower-case). */
export async function installPlaceholder(c: CertConfig, paths: CertPaths, now: Date): Promise<{ serial: string; notAfter: Date }> {
  const key = await generateKeyPair(c.keyType);
  const notAfter = new Date(now.getTime() + 30 * DAY);
  const cert = await createCertificate({
    names: allNames(c),
    key,
    commonName: `acme-renew placeholder for ${c.domain}`,
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter,
  });
  const certPem = cert.toString("pem");
  // The chain of a self-signed certificate is itself, so fullchain/chain are never empty.
  await install(paths, { keyPem: key.pem, certPem, chainPem: certPem }, { keep: c.keepVersions, group: c.group, now });
  const { X509Certificate } = await import("node:crypto");
  return { serial: new X509Certificate(certPem).serialNumber.toLowerCase(), notAfter };
}
