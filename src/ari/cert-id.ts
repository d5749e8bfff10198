/** The ARI certificate identifier (RFC 9773 §4.1): base64url(AKI keyIdentifier) "." base64url(serial). */
import { certIdParts } from "../inspect/der.js";

const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");

export function certIdFromParts(authorityKeyId: Uint8Array, serial: Uint8Array): string {
  return `${b64u(authorityKeyId)}.${b64u(serial)}`;
}

/** certID of a DER certificate, or null when it has no Authority Key Identifier (e.g. self-signed). */
export function certIdOf(der: Uint8Array): string | null {
  const { serial, authorityKeyId } = certIdParts(der);
  return authorityKeyId ? certIdFromParts(authorityKeyId, serial) : null;
}

/** certIdOf, or null when the DER is beyond our minimal reader: ARI is then skipped for that certificate. */
export function certIdOrNull(der: Uint8Array): string | null {
  try {
    return certIdOf(der);
  } catch {
    return null;
  }
}
