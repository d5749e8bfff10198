/**
 * TLS trust for talking to a CA: the system roots plus an optional `caBundle`. Verification is never
 * turned off. The combined store is built once per bundle and shared as one SecureContext: passing
 * `ca` to each request instead makes Node parse all 144 roots for every connection (~37 ms of CPU
 * each on the 2-core test machine, blocking every other certificate of a `run --all`).
 */
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";

const contexts = new Map<string, SecureContext>();

/** The context trusting the system roots and `caPem`; undefined (Node's default roots) without one. */
export function trustContext(caPem: string | null): SecureContext | undefined {
  if (caPem === null) return undefined;
  let c = contexts.get(caPem);
  if (!c) {
    c = createSecureContext({ ca: [...rootCertificates, caPem] });
    contexts.set(caPem, c);
  }
  return c;
}
