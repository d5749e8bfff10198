/** Every provider module, loaded on demand (one chunk each): lego code → definition. */
import type { ProviderDefinition } from "../provider.js";

type Load = () => Promise<ProviderDefinition<unknown>>;

export const PROVIDERS: Readonly<Record<string, Load>> = {
  dnsupdate: async () => (await import("./dnsupdate.js")).definition,
  cloudflare: async () => (await import("./cloudflare.js")).definition,
  hetzner: async () => (await import("./hetzner.js")).definition,
  digitalocean: async () => (await import("./digitalocean.js")).definition,
  desec: async () => (await import("./desec.js")).definition,
  porkbun: async () => (await import("./porkbun.js")).definition,
  gandiv5: async () => (await import("./gandiv5.js")).definition,
  duckdns: async () => (await import("./duckdns.js")).definition,
  acmedns: async () => (await import("./acmedns.js")).definition,
  ovh: async () => (await import("./ovh.js")).definition,
  namecheap: async () => (await import("./namecheap.js")).definition,
  inwx: async () => (await import("./inwx.js")).definition,
  route53: async () => (await import("./route53.js")).definition,
  gcloud: async () => (await import("./gcloud.js")).definition,
  exec: async () => (await import("./exec.js")).definition,
};
