/**
 * certbot (2.x) state: renewal/<name>.conf (how certbot renews the lineage) and the files it names,
 * live/<name>/{cert,chain,fullchain,privkey}.pem (symlinks into archive/). certbot keeps no list of
 * names (they come from the certificate) and no email.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { checkCertName } from "../config/names.js";
import { certName, entries, keyTypeField, namesFields, ordered } from "./common.js";
import { legoCodeForCertbot } from "./dns-codes.js";
import { parseIni, str, type IniSection, type IniValue } from "./ini.js";
import { readAdoptable } from "./material.js";
import { ImportError, shown, type ImportPlan, type ImportProblem, type Importer } from "./plan.js";

const KNOWN_AUTHENTICATORS = "webroot, standalone, nginx, apache, manual, dns-<provider>";
/** Top-level keys certbot writes that say where the files are (used), or its version. */
const TOP_USED = new Set(["version", "archive_dir", "cert", "privkey", "chain", "fullchain", "renew_before_expiry"]);
const OWN_DIRS = ["config_dir", "work_dir", "logs_dir"];

async function readOne(dir: string, file: string): Promise<ImportPlan> {
  const name = certName(basename(file, ".conf"));
  const why = checkCertName(name);
  if (why) throw new ImportError(`${file}: the lineage name "${name}" cannot be an acme-renew certificate name: ${why}`);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new ImportError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const ini = parseIni(text, file);
  const params = ini.sections.get("renewalparams");
  if (!params) throw new ImportError(`${file}: no [renewalparams] section: not a certbot renewal configuration`);
  const p = params.values;
  const used = new Set<string>();
  const get = (k: string) => {
    used.add(k);
    return str(p.get(k));
  };
  const notes: string[] = [];
  const needs: ImportPlan["needs"] = [];
  const cfg: Record<string, unknown> = {};

  // The files: live/<name>/ of the directory given (a copy of /etc/letsencrypt reads its own files),
  // else where the conf says.
  const at = (key: string, fallback: string) => {
    const live = join(dir, "live", basename(file, ".conf"), fallback);
    const v = str(ini.top.get(key));
    return existsSync(live) || !v ? live : v;
  };
  const authenticator = get("authenticator");
  if (!authenticator) throw new ImportError(`${file}: [renewalparams] has no authenticator`);
  const cert = await readAdoptable({ cert: at("cert", "cert.pem"), key: at("privkey", "privkey.pem"), chain: at("chain", "chain.pem") });
  Object.assign(cfg, namesFields(name, cert, basename(file, ".conf")));

  const server = get("server");
  if (server) cfg.server = server;
  notes.push("email: certbot keeps no email address locally: set email to receive the CA's notices (optional)");
  if (get("account")) notes.push(`not carried over: account = ${str(p.get("account"))} (acme-renew registers its own account for this server and email)`);

  // Key: keep the certificate's type, so that the import itself makes nothing due.
  Object.assign(cfg, keyTypeField(cert, notes));
  const kt = get("key_type");
  const size = get("rsa_key_size");
  const curve = get("elliptic_curve");
  const certbotNext = kt === "rsa" ? `rsa${size ?? "2048"}` : kt === "ecdsa" ? ({ secp256r1: "ec256", secp384r1: "ec384" } as Record<string, string>)[curve ?? "secp256r1"] ?? `ecdsa ${curve}` : null;
  if (certbotNext && certbotNext !== cfg.keyType) {
    notes.push(`key_type = ${kt}${size ? `, rsa_key_size = ${size}` : ""}${curve ? `, elliptic_curve = ${curve}` : ""}: certbot would make ${certbotNext} keys next; keyType stays the certificate's ${cert.keyType}, so that nothing is re-issued now`);
  }
  if (/^true$/i.test(get("reuse_key") ?? "")) cfg.reuseKey = true;

  challenge(file, authenticator, params, get, cfg, notes, needs, cert.names);

  const installer = get("installer");
  if (installer && installer !== "None") {
    const unit = ({ nginx: "nginx.service", apache: "apache2.service" } as Record<string, string>)[installer];
    if (unit) {
      cfg.reloadServices = [unit];
      notes.push(`installer = ${installer} → reloadServices ["${unit}"]: acme-renew does not edit the server's config; point it at <state-dir>/${name}/fullchain.pem and key.pem`);
    } else notes.push(`not carried over: installer = ${installer} (acme-renew installs no server configuration; use reloadServices)`);
  }
  const deploy = [get("renew_hook"), get("deploy_hook")].filter((h): h is string => !!h);
  if (deploy.length) {
    cfg.postRun = deploy.join("\n");
    notes.push("renew_hook/deploy_hook → postRun: it runs in the cert dir with ACME_RENEW_CERT_DIR, ACME_RENEW_DOMAINS, …, not certbot's RENEWED_LINEAGE/RENEWED_DOMAINS: check the script");
  }
  for (const k of ["pre_hook", "post_hook"]) {
    const v = get(k);
    if (v) notes.push(`not carried over: ${k} = ${v} (acme-renew runs no hook before or after an attempt; only postRun after a renewal)`);
  }
  const chain = get("preferred_chain");
  if (chain) cfg.preferredChain = chain;
  if (/^true$/i.test(get("must_staple") ?? "")) notes.push("not carried over: must_staple = True (Let's Encrypt rejects must-staple requests since 2025; acme-renew does not send it)");
  const before = str(ini.top.get("renew_before_expiry"));
  const days = before ? /^(\d+)\s*days?$/.exec(before.trim()) : null;
  if (days) cfg.validMinDays = Number(days[1]);
  else if (before) notes.push(`not carried over: renew_before_expiry = ${before} (acme-renew takes whole days: set validMinDays)`);
  const own = OWN_DIRS.filter((k) => get(k) !== undefined);
  if (own.length) notes.push(`not carried over: ${own.join(", ")} (certbot's own directories)`);

  for (const [k, v] of p) if (!used.has(k)) notes.push(`not carried over: ${shown(k, str(v)!)}`);
  for (const [k, v] of ini.top) if (!TOP_USED.has(k)) notes.push(`not carried over: ${shown(k, str(v)!)}`);
  for (const [s] of ini.sections) if (s !== "renewalparams") notes.push(`not carried over: section [${s}]`);
  for (const [s] of params.subsections) if (s !== "webroot_map") notes.push(`not carried over: section [[${s}]]`);
  return { name, source: file, config: ordered(cfg), notes, cert: cert.selfSigned ? null : cert, needs };
}

function challenge(
  file: string,
  authenticator: string,
  params: IniSection,
  get: (k: string) => string | undefined,
  cfg: Record<string, unknown>,
  notes: string[],
  needs: ImportPlan["needs"],
  names: string[],
): void {
  const plugin = authenticator.replace(/^[a-z0-9_.-]+:/i, ""); // the old "certbot-dns-x:dns-x" spelling
  if (plugin === "webroot") {
    // [[webroot_map]] (name = path) is what certbot uses; webroot_path lists the -w arguments.
    const map = params.subsections.get("webroot_map") ?? new Map<string, IniValue>();
    const listed = params.values.get("webroot_path");
    get("webroot_path");
    const roots = new Set(map.size ? names.map((n) => str(map.get(n))).filter((r): r is string => !!r) : listed === undefined ? [] : Array.isArray(listed) ? listed : [listed]);
    const unmapped = map.size ? names.filter((n) => !map.has(n)) : [];
    if (unmapped.length) needs.push({ field: "challenge", why: `[[webroot_map]] has no webroot for ${unmapped.join(", ")}` });
    else if (roots.size === 1) cfg.webroot = [...roots][0]!.replace(/(.)\/$/, "$1");
    else if (roots.size === 0) needs.push({ field: "challenge", why: "authenticator = webroot without a webroot_path" });
    else needs.push({ field: "challenge", why: `certbot serves the names from ${roots.size} webroots (${[...roots].join(", ")}); acme-renew has one webroot per certificate` });
    return;
  }
  if (plugin === "standalone") {
    const port = get("http01_port") ?? "80";
    const addr = get("http01_address") ?? "";
    cfg.listenHTTP = `${addr.includes(":") ? `[${addr}]` : addr}:${port}`;
    notes.push(`authenticator = standalone → listenHTTP "${cfg.listenHTTP as string}" (from http01_address and http01_port)`);
    return;
  }
  const dns = /^dns-(.+)$/.exec(plugin);
  if (dns) {
    const x = dns[1]!;
    const code = legoCodeForCertbot(x);
    const credKey = `dns_${x.replace(/-/g, "_")}_credentials`;
    const propKey = `dns_${x.replace(/-/g, "_")}_propagation_seconds`;
    const cred = get(credKey);
    const prop = get(propKey);
    if (code) {
      cfg.dnsProvider = code;
      notes.push(`authenticator = ${authenticator} → dnsProvider "${code}" (lego's provider code): it reads lego's variables for ${code}, from an environmentFile or credentialFiles`);
    } else needs.push({ field: "challenge", why: `authenticator = ${authenticator}: no lego provider code known for it (use dnsHook with a script, or dnsProvider "exec")` });
    if (cred) notes.push(`not carried over: ${credKey} = ${cred} (certbot's INI file; acme-renew does not read it: give the provider's variables instead)`);
    if (prop) notes.push(`not carried over: ${propKey} = ${prop} (certbot sleeps that long; acme-renew asks the name servers, bounded by dnsPropagationTimeout)`);
    return;
  }
  if (plugin === "nginx" || plugin === "apache") {
    needs.push({ field: "challenge", why: `authenticator = ${plugin}: certbot's ${plugin} plugin edits ${plugin}'s config to answer http-01, acme-renew does not: serve /.well-known/acme-challenge/ from a directory and set webroot (or listenHTTP)` });
    return;
  }
  if (plugin === "manual") {
    for (const k of ["manual_auth_hook", "manual_cleanup_hook", "pref_challs"]) {
      const v = get(k);
      if (v) notes.push(`not carried over: ${k} = ${v} (certbot's CERTBOT_DOMAIN/CERTBOT_VALIDATION protocol; dnsHook is called as "HOOK present|cleanup <fqdn> <value>")`);
    }
    needs.push({ field: "challenge", why: "authenticator = manual: set a challenge (dnsHook, webroot, listenHTTP, …)" });
    return;
  }
  throw new ImportError(`${file}: authenticator = ${authenticator}: not a certbot authenticator acme-renew knows (${KNOWN_AUTHENTICATORS})`);
}

export const certbot: Importer = {
  tool: "certbot",
  defaultDir: () => "/etc/letsencrypt",
  async read(dir) {
    await entries(dir, "certbot's config directory, --config-dir, default /etc/letsencrypt");
    const renewal = join(dir, "renewal");
    if (!existsSync(renewal)) throw new ImportError(`${dir}: no renewal/ directory in it: not certbot's config directory`, 64);
    const plans: ImportPlan[] = [];
    const problems: ImportProblem[] = [];
    for (const f of (await entries(renewal, "certbot's renewal configurations")).filter((f) => f.endsWith(".conf"))) {
      try {
        plans.push(await readOne(dir, join(renewal, f)));
      } catch (e) {
        if (!(e instanceof ImportError)) throw e;
        problems.push({ name: certName(f.slice(0, -5)), message: e.message });
      }
    }
    return { plans, problems };
  },
};
