/**
 * lego (4.x) state under its --path (default ./.lego): certificates/<domain>.{crt,key,issuer.crt,json}
 * ("*" written as "_") and accounts/<CA host_port>/<email>/. lego records neither the challenge it
 * used nor the ACME directory's path (only the CA's host): both are command-line flags.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { checkCertName } from "../config/names.js";
import { LETS_ENCRYPT_PRODUCTION } from "../config/types.js";
import { LETS_ENCRYPT_STAGING, certName, entries, keyTypeField, namesFields, ordered } from "./common.js";
import { readAdoptable } from "./material.js";
import { ImportError, shown, type ImportPlan, type ImportProblem, type Importer } from "./plan.js";

/** Directory URLs of CAs whose host says which directory it is. */
const KNOWN_HOSTS: Record<string, string> = {
  "acme-v02.api.letsencrypt.org": LETS_ENCRYPT_PRODUCTION,
  "acme-staging-v02.api.letsencrypt.org": LETS_ENCRYPT_STAGING,
  "acme.zerossl.com": "https://acme.zerossl.com/v2/DV90",
  "dv.acme-v02.api.pki.goog": "https://dv.acme-v02.api.pki.goog/directory",
};
const JSON_USED = new Set(["domain", "certUrl", "certStableUrl"]);

async function readOne(root: string, file: string): Promise<ImportPlan> {
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new ImportError(`${file}: not lego's certificate resource (${e instanceof SyntaxError ? "not JSON" : ((e as NodeJS.ErrnoException).code ?? (e as Error).message)})`);
  }
  if (typeof meta !== "object" || meta === null || typeof meta.domain !== "string" || !meta.domain) throw new ImportError(`${file}: no "domain" in it: not lego's certificate resource`);
  const base = basename(file, ".json");
  const name = certName(meta.domain);
  const why = checkCertName(name);
  if (why) throw new ImportError(`${file}: the domain "${meta.domain}" cannot be an acme-renew certificate name: ${why}`);
  const dir = join(root, "certificates");
  const issuer = join(dir, `${base}.issuer.crt`);
  const key = join(dir, `${base}.key`);
  if (!existsSync(key)) throw new ImportError(`${key}: missing (the private key; lego writes none for a certificate ordered with --csr): nothing to adopt`);
  const cert = await readAdoptable({ cert: join(dir, `${base}.crt`), key, chain: existsSync(issuer) ? issuer : null });
  const notes: string[] = [];
  const needs: ImportPlan["needs"] = [];
  const cfg: Record<string, unknown> = { ...namesFields(name, cert, meta.domain) };

  let host: string | null = null;
  for (const k of ["certUrl", "certStableUrl"]) {
    try {
      if (typeof meta[k] === "string") host ??= new URL(meta[k]).host;
    } catch {
      /* not a URL: host stays unknown */
    }
  }
  const server = host ? KNOWN_HOSTS[host.replace(/:443$/, "")] : undefined;
  if (server) cfg.server = server;
  else needs.push({ field: "server", why: `lego records the CA's host (${host ?? "unknown"}), not its directory URL` });
  if (host) {
    const accounts = join(root, "accounts", host.replace(/:/g, "_"));
    const emails = existsSync(accounts) ? (await entries(accounts, "lego's accounts")).filter((e) => e.includes("@")) : [];
    if (emails.length === 1) cfg.email = emails[0];
    else if (emails.length > 1) notes.push(`email: lego has ${emails.length} accounts for ${host} (${emails.join(", ")}): set email`);
  }
  notes.push(`not carried over: lego's account for ${host ?? "the CA"} (acme-renew registers its own account for this server and email)`);
  Object.assign(cfg, keyTypeField(cert, notes));
  needs.push({ field: "challenge", why: "lego does not record how it validated (--http, --http.webroot, --tls, --dns): set one of webroot, listenHTTP, listenTLS, dnsHook, dnsProvider" });
  for (const [k, v] of Object.entries(meta)) if (!JSON_USED.has(k)) notes.push(`not carried over: ${shown(k, JSON.stringify(v))}`);
  return { name, source: file, config: ordered(cfg), notes, cert: cert.selfSigned ? null : cert, needs };
}

export const lego: Importer = {
  tool: "lego",
  defaultDir: (env) => env.LEGO_PATH || join(process.cwd(), ".lego"),
  async read(dir) {
    await entries(dir, "lego's --path, default ./.lego");
    // Accept the directory holding .lego as well.
    const root = !existsSync(join(dir, "certificates")) && existsSync(join(dir, ".lego", "certificates")) ? join(dir, ".lego") : dir;
    if (!existsSync(join(root, "certificates"))) throw new ImportError(`${dir}: no certificates/ directory in it: not lego's --path`, 64);
    const plans: ImportPlan[] = [];
    const problems: ImportProblem[] = [];
    for (const f of (await entries(join(root, "certificates"), "lego's certificates")).filter((f) => f.endsWith(".json"))) {
      try {
        plans.push(await readOne(root, join(root, "certificates", f)));
      } catch (e) {
        if (!(e instanceof ImportError)) throw e;
        problems.push({ name: f.slice(0, -5), message: e.message });
      }
    }
    return { plans, problems };
  },
};
