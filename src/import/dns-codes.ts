/**
 * DNS plugin names of certbot (`authenticator = dns-<x>`) and acme.sh (`Le_Webroot='dns_<x>'`, its
 * dnsapi/ script names) → lego provider codes, the names `dnsProvider` takes. Whether acme-renew
 * implements a code is the config validator's call, not this table's.
 */
const CERTBOT: Record<string, string> = {
  cloudflare: "cloudflare",
  digitalocean: "digitalocean",
  dnsimple: "dnsimple",
  dnsmadeeasy: "dnsmadeeasy",
  gehirn: "gehirn",
  google: "gcloud",
  linode: "linode",
  luadns: "luadns",
  nsone: "ns1",
  ovh: "ovh",
  rfc2136: "rfc2136",
  route53: "route53",
  sakuracloud: "sakuracloud",
  // third-party plugins with a lego equivalent
  hetzner: "hetzner",
  porkbun: "porkbun",
  desec: "desec",
  gandi: "gandiv5",
  inwx: "inwx",
  namecheap: "namecheap",
  duckdns: "duckdns",
};

const ACMESH: Record<string, string> = {
  dns_cf: "cloudflare",
  dns_aws: "route53",
  dns_dgon: "digitalocean",
  dns_linode_v4: "linode",
  dns_ovh: "ovh",
  dns_nsupdate: "rfc2136",
  dns_hetzner: "hetzner",
  dns_gandi_livedns: "gandiv5",
  dns_duckdns: "duckdns",
  dns_namecheap: "namecheap",
  dns_inwx: "inwx",
  dns_porkbun: "porkbun",
  dns_desec: "desec",
  dns_acmedns: "acme-dns",
  dns_gcloud: "gcloud",
  dns_gd: "godaddy",
  dns_dnsimple: "dnsimple",
  dns_me: "dnsmadeeasy",
  dns_luadns: "luadns",
  dns_nsone: "ns1",
  dns_he: "hurricane",
  dns_azure: "azure",
  dns_cloudns: "cloudns",
  dns_ionos: "ionos",
  dns_vultr: "vultr",
  dns_namesilo: "namesilo",
  dns_netcup: "netcup",
  dns_pdns: "pdns",
};

/** certbot plugin name without "dns-" (and without an old "package:" prefix) → lego code, or null. */
export function legoCodeForCertbot(plugin: string): string | null {
  return Object.hasOwn(CERTBOT, plugin) ? CERTBOT[plugin]! : null;
}

export function legoCodeForAcmeSh(api: string): string | null {
  return Object.hasOwn(ACMESH, api) ? ACMESH[api]! : null;
}
