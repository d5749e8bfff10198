/** Every provider module, loaded on demand (one chunk each): lego code → definition. */
import type { ProviderDefinition } from "../provider.js";

type Load = () => Promise<ProviderDefinition<unknown>>;

export const PROVIDERS: Readonly<Record<string, Load>> = {
  dnsupdate: async () => (await import("./dnsupdate.js")).definition,
  cloudflare: async () => (await import("./cloudflare.js")).definition,
};
