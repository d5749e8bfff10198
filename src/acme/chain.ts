/**
 * Alternate certificate chains (RFC 8555 §7.4.2): the CA offers the default chain and, in Link
 * rel="alternate" headers, others. `preferredChain` names an issuer's common name; the chain in
 * which that issuer sits closest to the root wins (certbot's and acme-client's rule); none → default.
 */
import { X509Certificate } from "node:crypto";
import { pemBlocks } from "../inspect/pem.js";

/** URLs of Link headers with rel="alternate". */
export function alternateLinks(link: string | undefined): string[] {
  if (!link) return [];
  const out: string[] = [];
  for (const part of link.split(/,\s*(?=<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(^|;)\s*rel\s*=\s*"?alternate"?\s*(;|$)/i.test(m[2]!)) out.push(m[1]!);
  }
  return out;
}

function issuerCn(pem: string): string | null {
  try {
    const m = /(?:^|\n)CN=([^\n]*)/.exec(new X509Certificate(pem).issuer);
    return m ? m[1]!.trim() : null;
  } catch {
    return null;
  }
}

/** The chain to use among `chains` (the default first) for the preferred issuer `cn`. */
export function pickChain(chains: string[], cn: string): string {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const chain of chains) {
    const issuers = pemBlocks(chain, "CERTIFICATE").map(issuerCn);
    const i = issuers.indexOf(cn);
    if (i === -1) continue;
    const distance = issuers.length - i;
    if (distance < bestDistance) {
      best = chain;
      bestDistance = distance;
    }
  }
  return best ?? chains[0]!;
}
