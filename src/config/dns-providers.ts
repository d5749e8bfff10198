/**
 * The dns-01 provider codes `dnsProvider` accepts: lego's codes (current names, and the names lego
 * v4 and security.acme configurations use). Each maps to one module under src/dns/providers/; only
 * this table is on the offline path (a unit test keeps it equal to the provider registry).
 */
export const DNS_PROVIDER_CODES: Readonly<Record<string, string>> = {
  dnsupdate: "dnsupdate",
  rfc2136: "dnsupdate",
  cloudflare: "cloudflare",
  route53: "route53",
  hetzner: "hetzner",
  porkbun: "porkbun",
  desec: "desec",
  digitalocean: "digitalocean",
  ovh: "ovh",
  gandiv5: "gandiv5",
  namecheap: "namecheap",
  inwx: "inwx",
  acmedns: "acmedns",
  "acme-dns": "acmedns",
  duckdns: "duckdns",
  gcloud: "gcloud",
  exec: "exec",
};

/** The provider module a code (or alias) names, or null. */
export function canonicalProvider(code: string): string | null {
  return Object.hasOwn(DNS_PROVIDER_CODES, code) ? DNS_PROVIDER_CODES[code]! : null;
}

export function checkDnsProvider(code: string): string | null {
  if (canonicalProvider(code)) return null;
  return `"${code}" is not a provider acme-renew implements (${Object.keys(DNS_PROVIDER_CODES).join(", ")}); for another lego provider use "exec" with a script (EXEC_PATH), or dnsHook`;
}
