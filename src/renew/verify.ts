/** Checks what the CA sent before it goes anywhere near the disk: parses, matches our key, has our names. */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { AcmeFailure } from "../acme/errors.js";
import { sanNames } from "../inspect/read.js";
import type { Material } from "../store/install.js";

export function verifyMaterial(m: Material, names: string[], now: Date): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(m.certPem);
  } catch (e) {
    throw new AcmeFailure("acme", `download: the CA's certificate does not parse (${(e as Error).message})`);
  }
  if (!cert.checkPrivateKey(createPrivateKey(m.keyPem))) throw new AcmeFailure("acme", "download: the CA's certificate is not for our key");
  const have = new Set(sanNames(cert));
  const missing = names.filter((n) => !have.has(n));
  if (missing.length) throw new AcmeFailure("acme", `download: the CA's certificate lacks ${missing.join(", ")}`);
  if (new Date(cert.validTo).getTime() <= now.getTime()) throw new AcmeFailure("acme", "download: the CA's certificate is already expired");
  return cert;
}
