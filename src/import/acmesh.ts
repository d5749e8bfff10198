/**
 * acme.sh (3.x) state under its home (default ~/.acme.sh, or $LE_CONFIG_HOME), as acme.sh's README
 * ("The certs will be placed in ~/.acme.sh/example.com/") and its _initpath() lay it out: one
 * directory per certificate, "<domain>" or "<domain>_ecc" (ECC keys), holding <domain>.cer (leaf),
 * <domain>.key, ca.cer (issuers), fullchain.cer and <domain>.conf — Key='value' lines written by
 * _save_conf(), hooks base64-encoded between __ACME_BASE64__START_ and __ACME_BASE64__END_. The
 * account email is ACCOUNT_EMAIL in <home>/account.conf.
 */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { checkCertName } from "../config/names.js";
import { LETS_ENCRYPT_PRODUCTION } from "../config/types.js";
import { LETS_ENCRYPT_STAGING, certName, entries, keyTypeField, namesFields, ordered } from "./common.js";
import { legoCodeForAcmeSh } from "./dns-codes.js";
import { readAdoptable } from "./material.js";
import { ImportError, shown, type ImportPlan, type ImportProblem, type Importer } from "./plan.js";

const B64 = /^__ACME_BASE64__START_(.*)__ACME_BASE64__END_$/;

/** acme.sh's Key='value' files (its _setopt writes exactly that; older ones may lack the quotes). */
export function parseShellConf(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(?:'([^']*)'|"([^"]*)"|(\S*))$/.exec(t);
    if (!m) throw new ImportError(`${file}:${i + 1}: not a Key='value' line: ${JSON.stringify(t.slice(0, 80))}`);
    let v = m[2] ?? m[3] ?? m[4] ?? "";
    const b = B64.exec(v);
    if (b) v = Buffer.from(b[1]!, "base64").toString("utf8");
    out.set(m[1]!, v);
  });
  return out;
}

/** Known aliases of acme.sh's --server. */
const SERVERS: Record<string, string> = {
  letsencrypt: LETS_ENCRYPT_PRODUCTION,
  letsencrypt_test: LETS_ENCRYPT_STAGING,
  zerossl: "https://acme.zerossl.com/v2/DV90",
};
const KEYLENGTH: Record<string, string> = { "ec-256": "ec256", "ec-384": "ec384", "2048": "rsa2048", "3072": "rsa3072", "4096": "rsa4096" };
/** What acme.sh writes about its own progress (orders, links, times): not settings. */
const BOOKKEEPING = ["Le_OrderFinalize", "Le_LinkOrder", "Le_LinkCert", "Le_LinkIssuer", "Le_CertCreateTime", "Le_CertCreateTimeStr", "Le_NextRenewTime", "Le_NextRenewTimeStr", "Le_Vlist"];
const INSTALLED = ["Le_RealCertPath", "Le_RealCACertPath", "Le_RealKeyPath", "Le_RealFullChainPath"];

async function readOne(home: string, dirName: string, email: string | undefined): Promise<ImportPlan> {
  const base = dirName.replace(/_ecc$/, "");
  const dir = join(home, dirName);
  const file = join(dir, `${base}.conf`);
  const conf = parseShellConf(await readFile(file, "utf8"), file);
  const used = new Set<string>();
  const get = (k: string) => {
    used.add(k);
    const v = conf.get(k);
    return v === undefined || v === "" ? undefined : v;
  };
  const domain = get("Le_Domain");
  if (!domain) throw new ImportError(`${file}: no Le_Domain in it: not an acme.sh domain configuration`);
  const name = certName(domain);
  const why = checkCertName(name);
  if (why) throw new ImportError(`${file}: the domain "${domain}" cannot be an acme-renew certificate name: ${why}`);
  const key = join(dir, `${base}.key`);
  if (!existsSync(key)) throw new ImportError(`${key}: missing (the private key): nothing to adopt`);
  const chain = join(dir, "ca.cer");
  const cert = await readAdoptable({ cert: join(dir, `${base}.cer`), key, chain: existsSync(chain) ? chain : null });
  const notes: string[] = [];
  const needs: ImportPlan["needs"] = [];
  const cfg: Record<string, unknown> = { ...namesFields(name, cert, domain) };
  const alt = get("Le_Alt");
  const confNames = [domain, ...(alt && alt !== "no" ? alt.split(",") : [])].map((n) => n.trim().toLowerCase()).filter(Boolean);
  const certNames = new Set(cert.names);
  if (confNames.length !== certNames.size || confNames.some((n) => !certNames.has(n))) {
    notes.push(`Le_Domain/Le_Alt name ${confNames.join(", ")}, the certificate has ${cert.names.join(", ")}: the config follows the certificate (change the names to renew for the others)`);
  }
  if (email) cfg.email = email;
  const api = get("Le_API");
  if (api) cfg.server = SERVERS[api] ?? api;
  if (String(cfg.server ?? "").startsWith("https://acme.zerossl.com/")) notes.push("server is ZeroSSL (acme.sh's default CA): it needs external account binding, set eab { kid, hmacKeyFile } from your ZeroSSL account");
  if (!api) needs.push({ field: "server", why: "Le_API is not set" });

  Object.assign(cfg, keyTypeField(cert, notes));
  const kl = get("Le_Keylength");
  if (kl && KEYLENGTH[kl] !== cfg.keyType) notes.push(`Le_Keylength = ${kl}: acme.sh would make ${KEYLENGTH[kl] ?? kl} keys next; keyType stays the certificate's ${cert.keyType}, so that nothing is re-issued now`);
  if (get("Le_ForceNewDomainKey") !== "1") notes.push("acme.sh keeps the key at renewal (no --always-force-new-domain-key): acme-renew makes a new one each time; set reuseKey: true to keep acme.sh's behaviour");

  challenge(file, get, cfg, notes, needs);

  const hooks = [get("Le_RenewHook"), get("Le_ReloadCmd")].filter((h): h is string => !!h);
  if (hooks.length) {
    cfg.postRun = hooks.join("\n");
    notes.push("Le_RenewHook/Le_ReloadCmd → postRun: it runs in the cert dir with ACME_RENEW_CERT, ACME_RENEW_KEY, …, not acme.sh's CERT_PATH/CERT_KEY_PATH: check the command");
  }
  for (const k of ["Le_PreHook", "Le_PostHook", "Le_DeployHook"]) {
    const v = get(k);
    if (v) notes.push(`not carried over: ${k} = ${v} (acme-renew runs only postRun, after a renewal)`);
  }
  const installed = INSTALLED.filter((k) => get(k) && get(k) !== "no");
  if (installed.length) notes.push(`not carried over: ${installed.map((k) => `${k} = ${conf.get(k)}`).join(", ")} (--install-cert copies; point services at acme-renew's files, or copy them in postRun)`);
  const pc = get("Le_Preferred_Chain");
  if (pc) cfg.preferredChain = pc;
  const profile = get("Le_Certificate_Profile");
  if (profile) cfg.profile = profile;
  const days = get("Le_RenewalDays");
  if (days) notes.push(`not carried over: Le_RenewalDays = ${days} (acme.sh renews that many days after issuance; acme-renew renews when 1/3 of the lifetime is left, or validMinDays days)`);
  if (get("Le_OCSP_Staple") === "1") notes.push("not carried over: Le_OCSP_Staple = 1 (Let's Encrypt rejects must-staple requests since 2025; acme-renew does not send it)");
  for (const k of ["Le_Valid_From", "Le_Valid_To", "Le_ChallengeAlias", "Le_DNSSleep", "Le_ExtKeyUse", "Le_PFXPassword"]) {
    const v = get(k);
    if (v) notes.push(`not carried over: ${shown(k, v)}`);
  }
  const kept = BOOKKEEPING.filter((k) => conf.has(k));
  kept.forEach((k) => used.add(k));
  if (kept.length) notes.push(`not needed: ${kept.join(", ")} (acme.sh's bookkeeping)`);
  for (const [k, v] of conf) if (!used.has(k)) notes.push(`not carried over: ${shown(k, v)}`);
  return { name, source: file, config: ordered(cfg), notes, cert: cert.selfSigned ? null : cert, needs };
}

function challenge(file: string, get: (k: string) => string | undefined, cfg: Record<string, unknown>, notes: string[], needs: ImportPlan["needs"]): void {
  const modes = [...new Set((get("Le_Webroot") ?? "").split(",").filter(Boolean))];
  const local = get("Le_LocalAddress")?.split(",").find(Boolean) ?? "";
  const addr = local.includes(":") && !local.startsWith("[") ? `[${local}]` : local;
  for (const k of ["Le_Listen_V4", "Le_Listen_V6"]) {
    const v = get(k);
    if (v) notes.push(`not carried over: ${k} = ${v} (listenHTTP/listenTLS take the address to bind)`);
  }
  if (modes.length !== 1) {
    needs.push({ field: "challenge", why: modes.length ? `Le_Webroot = ${modes.join(",")}: one mode per name; acme-renew has one challenge per certificate` : "Le_Webroot is not set" });
    return;
  }
  const m = modes[0]!;
  if (m.startsWith("/")) cfg.webroot = m.replace(/(.)\/$/, "$1");
  else if (m === "no") {
    cfg.listenHTTP = `${addr}:${get("Le_HTTPPort") ?? "80"}`;
    notes.push(`Le_Webroot = no (standalone) → listenHTTP "${cfg.listenHTTP as string}"`);
  } else if (m === "alpn") {
    cfg.listenTLS = `${addr}:${get("Le_TLSPort") ?? "443"}`;
    notes.push(`Le_Webroot = alpn → listenTLS "${cfg.listenTLS as string}"`);
  } else if (/^dns_[a-z0-9_]+$/.test(m)) {
    const code = legoCodeForAcmeSh(m);
    if (code) {
      cfg.dnsProvider = code;
      notes.push(`Le_Webroot = ${m} → dnsProvider "${code}" (lego's provider code): it reads lego's variables for ${code}; acme.sh's saved credentials (account.conf SAVED_*) are not read`);
    } else needs.push({ field: "challenge", why: `Le_Webroot = ${m}: no lego provider code known for this acme.sh dnsapi script (use dnsHook, or dnsProvider "exec")` });
  } else if (m === "dns" || m === "dns_persist" || m === "stateless" || m === "apache" || m.startsWith("nginx")) {
    needs.push({ field: "challenge", why: `Le_Webroot = ${m}: acme.sh's ${m} mode has no acme-renew equivalent: set webroot, listenHTTP, listenTLS, dnsHook or dnsProvider` });
  } else throw new ImportError(`${file}: Le_Webroot = ${m}: not an acme.sh validation mode acme-renew knows (a webroot path, no, alpn, dns, dns_<api>, apache, nginx, stateless)`);
}

export const acmesh: Importer = {
  tool: "acme.sh",
  defaultDir: (env) => env.LE_CONFIG_HOME || join(env.HOME || homedir(), ".acme.sh"),
  async read(home) {
    const list = await entries(home, "acme.sh's home, default ~/.acme.sh");
    let email: string | undefined;
    const account = join(home, "account.conf");
    if (existsSync(account)) email = parseShellConf(await readFile(account, "utf8"), account).get("ACCOUNT_EMAIL") || undefined;
    const plans: ImportPlan[] = [];
    const problems: ImportProblem[] = [];
    const certDirs = list.filter((d) => {
      try {
        return statSync(join(home, d)).isDirectory() && existsSync(join(home, d, `${d.replace(/_ecc$/, "")}.conf`));
      } catch {
        return false;
      }
    });
    if (!certDirs.length && !existsSync(account)) throw new ImportError(`${home}: no account.conf and no <domain>/<domain>.conf in it: not acme.sh's home`, 64);
    for (const d of certDirs) {
      try {
        plans.push(await readOne(home, d, email));
      } catch (e) {
        if (!(e instanceof ImportError)) throw e;
        problems.push({ name: certName(d.replace(/_ecc$/, "")), message: e.message });
      }
    }
    return { plans, problems };
  },
};
