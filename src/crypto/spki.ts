/** SHA-256 of a public key's SubjectPublicKeyInfo (hex): one identity for a key, from a key or a certificate PEM. node:crypto only. */
import { createHash, createPublicKey, X509Certificate } from "node:crypto";

export function spkiSha256(pem: string): string {
  const key = pem.includes("BEGIN CERTIFICATE") ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  return createHash("sha256").update(key.export({ type: "spki", format: "der" })).digest("hex");
}
