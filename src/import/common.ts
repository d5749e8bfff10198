/** What every importer does alike: names and key type from the certificate, the order of the fields. */
import { readdir } from "node:fs/promises";
import { KEY_TYPES, LETS_ENCRYPT_PRODUCTION } from "../config/types.js";
import type { Adoptable } from "./material.js";
import { ImportError } from "./plan.js";

export const LETS_ENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";

/** A peer's name for a certificate made fit for a config file name ("*" as lego and security.acme write it: "_"). */
export function certName(s: string): string {
  return s.replace(/\*/g, "_");
}

/**
 * domain / extraDomainNames from the certificate's names: the config's name is the primary name when
 * the certificate has it, else the subject's CN, else the first SAN.
 */
export function namesFields(name: string, c: Adoptable, primaryHint?: string): Record<string, unknown> {
  const cn = (c.cert.subject ?? "").split("\n").find((l) => l.startsWith("CN="))?.slice(3).toLowerCase();
  const primary = [primaryHint?.toLowerCase(), name.toLowerCase(), cn].find((n) => n && c.names.includes(n)) ?? c.names[0] ?? name;
  const out: Record<string, unknown> = {};
  if (primary !== name.toLowerCase()) out.domain = primary;
  const extra = c.names.filter((n) => n !== primary);
  if (extra.length) out.extraDomainNames = extra;
  return out;
}

/** keyType of the certificate's key, or a note when acme-renew has no such key type. */
export function keyTypeField(c: Adoptable, notes: string[]): Record<string, unknown> {
  if ((KEY_TYPES as readonly string[]).includes(c.keyType)) return { keyType: c.keyType };
  notes.push(`key type ${c.keyType} of the certificate is not one acme-renew makes: the next certificate gets the default (${KEY_TYPES[0]})`);
  return {};
}

/** A human line about the certificate that will be adopted. */
export function certSummary(c: Adoptable): string {
  return `${c.names.join(" ")}; ${c.keyType}; valid until ${c.notAfter.toISOString().replace(/\.\d+Z$/, "Z")}; issuer ${c.issuerCN}`;
}

const ORDER = ["domain", "extraDomainNames", "email", "server", "caBundle", "keyType", "reuseKey", "validMinDays", "webroot", "listenHTTP", "listenTLS", "dnsHook", "dnsProvider", "environmentFile", "dnsResolver", "dnsPropagationTimeout", "profile", "preferredChain", "reloadServices", "postRun", "group"];

/** The config's fields in a stable, readable order (known fields first, then the rest). */
export function ordered(cfg: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ORDER) if (k in cfg) out[k] = cfg[k];
  for (const k of Object.keys(cfg)) if (!(k in out)) out[k] = cfg[k];
  return out;
}

export function isLetsEncrypt(url: string): boolean {
  return url === LETS_ENCRYPT_PRODUCTION || url === LETS_ENCRYPT_STAGING;
}

/** Lists a directory's entries; a missing directory is the caller's ImportError. */
export async function entries(dir: string, what: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImportError(code === "ENOENT" || code === "ENOTDIR" ? `${dir}: no such directory (${what})` : `${dir}: cannot list (${code ?? (e as Error).message})`, 64);
  }
}
