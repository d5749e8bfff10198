/**
 * A version directory written by acme-renew carries proof that its key and certificate belong
 * together: the SHA-256 of both files, recorded after the pair was verified. The pre-check then
 * recognises the exact same bytes without loading the private key (the slowest step of a check:
 * importing an EC key costs ~0.6 ms). Any change to either file changes its hash, and the full
 * check runs again.
 */
import { createHash } from "node:crypto";

export const PROOF_FILE = ".pair-verified";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export function pairProof(keyText: string, certText: string): string {
  return `${JSON.stringify({ key: sha256(keyText), cert: sha256(certText) })}\n`;
}

export function provesPair(proof: string | null, keyText: string, certText: string): boolean {
  return proof !== null && proof === pairProof(keyText, certText);
}
