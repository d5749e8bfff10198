/**
 * The CA's directory (RFC 8555 §7.1.1), fetched once per process and server and shared by the ACME
 * session and ARI: one GET per run, not one per user of it.
 */
import { readFile } from "node:fs/promises";
import { AcmeFailure } from "./errors.js";
import { getJson, getJsonRetryOnce } from "./http-get.js";

export interface CaAccess {
  server: string;
  caBundle: string | null;
  signal?: AbortSignal;
}

export interface Directory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
  renewalInfo?: string;
  meta?: { termsOfService?: string; externalAccountRequired?: boolean; profiles?: Record<string, unknown> };
  [k: string]: unknown;
}

const TIMEOUT_MS = 10_000;
const directories = new Map<string, Promise<Directory>>();

export async function caPem(a: CaAccess): Promise<string | null> {
  if (!a.caBundle) return null;
  try {
    return await readFile(a.caBundle, "utf8");
  } catch (e) {
    throw new AcmeFailure("local", `caBundle ${a.caBundle}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/**
 * The directory of `a.server`; a failed fetch is forgotten so that a later caller asks again.
 * `retryOnce: false` for a caller with its own retry policy (the ACME session: no retry when the
 * preflight found the network down).
 */
export function directory(a: CaAccess, o: { retryOnce?: boolean } = {}): Promise<Directory> {
  let d = directories.get(a.server);
  if (!d) {
    d = (async () => {
      const get = o.retryOnce === false ? getJson : getJsonRetryOnce;
      const r = await get(a.server, { caPem: await caPem(a), timeoutMs: TIMEOUT_MS, ...(a.signal ? { signal: a.signal } : {}) });
      const j = r.json as Partial<Directory> | null;
      if (!j || typeof j !== "object") throw new AcmeFailure("acme", `GET ${a.server}: the directory is not a JSON object`);
      return j as Directory;
    })();
    d.catch(() => directories.delete(a.server));
    directories.set(a.server, d);
  }
  return d;
}

/** A resource URL the protocol needs; its absence is the CA's fault, named. */
export function resource(d: Directory, server: string, name: "newNonce" | "newAccount" | "newOrder" | "revokeCert"): string {
  const u = d[name];
  if (typeof u !== "string" || !u) throw new AcmeFailure("acme", `GET ${server}: the directory has no ${name}`);
  return u;
}
