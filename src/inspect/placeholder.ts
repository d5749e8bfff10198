/**
 * How a placeholder is recognised from the certificate itself, so that a crash between writing it and
 * writing state.json can never make it look like a CA-issued certificate: it is self-signed (its own
 * key verifies its signature) and its subject carries O=acme-renew placeholder. Placeholders of
 * earlier versions said so in their CN ("acme-renew placeholder for <domain>") instead.
 */
import type { X509Certificate } from "node:crypto";

export const PLACEHOLDER_ORG = "acme-renew placeholder";
const LEGACY_CN = "CN=acme-renew placeholder for ";

export function isPlaceholder(cert: X509Certificate): boolean {
  const subject = cert.subject;
  // node:crypto gives undefined for an empty Name.
  if (subject === undefined || subject !== cert.issuer) return false;
  const marked = subject.split("\n").includes(`O=${PLACEHOLDER_ORG}`) || subject.startsWith(LEGACY_CN);
  if (!marked) return false;
  try {
    // Only for a marked certificate (never a CA-issued one): one signature check.
    return cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}
