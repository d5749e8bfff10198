/**
 * Other ACME clients' state written from their documented layouts, with certificates from the test
 * CA (pki.ts) — for where no such client runs (acme.sh, NixOS) or a real run would be slow (the
 * README's examples; test/e2e/import.test.ts imports real certbot and lego state).
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificate } from "../../src/crypto/certs.js";
import { generateKeyPair } from "../../src/crypto/keys.js";
import { DAY, makeLeaf } from "./pki.js";

type Leaf = Awaited<ReturnType<typeof makeLeaf>>;
const pem = (c: { toString(f: "pem"): string }) => `${c.toString("pem")}\n`;

/**
 * An acme.sh home as acme.sh 3.x lays it out — README.md ("The certs will be placed in
 * ~/.acme.sh/example.com/"), acme.sh's _initpath() (<domain>.cer, <domain>.key, ca.cer,
 * fullchain.cer, <domain>.conf; "<domain>_ecc" for ECC keys) and _save_conf() (Key='value' lines,
 * hooks base64 between __ACME_BASE64__START_ and __ACME_BASE64__END_); ACCOUNT_EMAIL in account.conf.
 */
export async function acmeShHome(certs: Array<{ domain: string; alt?: string[]; ecc?: boolean; conf: Record<string, string> }>, home = mkdtempSync(join(tmpdir(), "acme-renew-acmesh-"))) {
  writeFileSync(join(home, "account.conf"), "ACCOUNT_EMAIL='ops@example.com'\nUPGRADE_HASH='0123abcd'\nSAVED_CF_Token='secret-token'\n");
  mkdirSync(join(home, "ca", "acme-v02.api.letsencrypt.org", "directory"), { recursive: true });
  for (const c of certs) {
    const leaf = await makeLeaf({ names: [c.domain, ...(c.alt ?? [])], keyType: c.ecc === false ? "rsa2048" : "ec256" });
    const dir = join(home, `${c.domain}${c.ecc === false ? "" : "_ecc"}`);
    mkdirSync(dir);
    const cert = pem(leaf.cert);
    const ca = pem(leaf.issuer!.cert);
    writeFileSync(join(dir, `${c.domain}.cer`), cert);
    writeFileSync(join(dir, `${c.domain}.key`), leaf.key.pem, { mode: 0o600 });
    writeFileSync(join(dir, "ca.cer"), ca);
    writeFileSync(join(dir, "fullchain.cer"), cert + ca);
    writeFileSync(join(dir, `${c.domain}.csr`), "-----BEGIN CERTIFICATE REQUEST-----\nMA==\n-----END CERTIFICATE REQUEST-----\n");
    const conf = {
      Le_Domain: c.domain,
      Le_Alt: (c.alt ?? []).join(",") || "no",
      Le_Webroot: "/var/www/html",
      Le_PreHook: "",
      Le_PostHook: "",
      Le_RenewHook: "",
      Le_API: "https://acme-v02.api.letsencrypt.org/directory",
      Le_Keylength: c.ecc === false ? "2048" : "ec-256",
      Le_OrderFinalize: "https://acme-v02.api.letsencrypt.org/acme/finalize/1/2",
      Le_LinkOrder: "https://acme-v02.api.letsencrypt.org/acme/order/1/2",
      Le_LinkCert: "https://acme-v02.api.letsencrypt.org/acme/cert/03ab",
      Le_CertCreateTime: "1764580000",
      Le_CertCreateTimeStr: "2025-12-01T09:06:40Z",
      Le_NextRenewTimeStr: "2026-01-30T09:06:40Z",
      Le_NextRenewTime: "1769763999",
      ...c.conf,
    };
    writeFileSync(join(dir, `${c.domain}.conf`), Object.entries(conf).map(([k, v]) => `${k}='${v}'`).join("\n") + "\n");
  }
  return home;
}

export const acmeShBase64 = (s: string) => `__ACME_BASE64__START_${Buffer.from(s).toString("base64")}__ACME_BASE64__END_`;

/** security.acme's /var/lib/acme/<name>/ (nixos/modules/security/acme/default.nix): fullchain.pem, chain.pem, key.pem, full.pem, cert.pem -> fullchain.pem. */
export function writeNixosCert(root: string, name: string, leaf: { cert: { toString(f: "pem"): string }; key: { pem: string } }, issuerPem: string): void {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const full = `${pem(leaf.cert)}${issuerPem}`;
  writeFileSync(join(dir, "fullchain.pem"), full);
  writeFileSync(join(dir, "chain.pem"), issuerPem);
  writeFileSync(join(dir, "key.pem"), leaf.key.pem);
  writeFileSync(join(dir, "full.pem"), leaf.key.pem + full);
  symlinkSync("fullchain.pem", join(dir, "cert.pem"));
}

/** A /var/lib/acme with one real certificate per name (and the directories security.acme keeps beside them). */
export async function nixosDir(names: string[], root = mkdtempSync(join(tmpdir(), "acme-renew-nixos-"))): Promise<string> {
  for (const n of names) {
    const leaf: Leaf = await makeLeaf({ names: [n] });
    writeNixosCert(root, n, leaf, pem(leaf.issuer!.cert));
  }
  mkdirSync(join(root, ".lego", "accounts"), { recursive: true });
  mkdirSync(join(root, "acme-challenge"), { recursive: true });
  return root;
}

/** A certificate issued by security.acme's minica CA (its placeholder before the first real one). */
export async function minicaLeaf(name: string) {
  const caKey = await generateKeyPair("ec256");
  const now = Date.now();
  const ca = await createCertificate({ names: [], commonName: "minica root ca 5d1b2a", key: caKey, ca: true, notBefore: new Date(now - DAY), notAfter: new Date(now + 3650 * DAY) });
  const key = await generateKeyPair("ec256");
  const cert = await createCertificate({ names: [name], key, issuer: { key: caKey, cert: ca }, notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) });
  return { cert, key, caPem: pem(ca) };
}

/** lego's --path (certificates/, accounts/<host_port>/<email>/), as lego 4.9 writes it. */
export async function legoDir(certs: Array<{ domain: string; alt?: string[] }>, o: { host: string; email: string }, root = mkdtempSync(join(tmpdir(), "acme-renew-lego-"))): Promise<string> {
  const dir = join(root, "certificates");
  mkdirSync(dir, { recursive: true });
  const acct = join(root, "accounts", o.host.replace(/:/g, "_"), o.email);
  mkdirSync(join(acct, "keys"), { recursive: true });
  writeFileSync(join(acct, "account.json"), JSON.stringify({ email: o.email, registration: { body: { status: "valid" }, uri: `https://${o.host}/acct/1` } }));
  for (const c of certs) {
    const leaf = await makeLeaf({ names: [c.domain, ...(c.alt ?? [])] });
    const base = c.domain.replace(/\*/g, "_");
    writeFileSync(join(dir, `${base}.crt`), pem(leaf.cert) + pem(leaf.issuer!.cert));
    writeFileSync(join(dir, `${base}.issuer.crt`), pem(leaf.issuer!.cert));
    writeFileSync(join(dir, `${base}.key`), leaf.key.pem, { mode: 0o600 });
    writeFileSync(join(dir, `${base}.json`), JSON.stringify({ domain: c.domain, certUrl: `https://${o.host}/certZ/1`, certStableUrl: `https://${o.host}/certZ/1` }, null, "\t"));
  }
  return root;
}

/** certbot's --config-dir, as certbot 2.1 writes it: renewal/<name>.conf, archive/<name>/*1.pem, live/<name>/*.pem -> archive. */
export async function certbotDir(lineages: Array<{ name: string; names: string[]; params: Record<string, string> }>, root = mkdtempSync(join(tmpdir(), "acme-renew-certbot-"))): Promise<string> {
  for (const l of lineages) {
    const leaf = await makeLeaf({ names: l.names });
    const archive = join(root, "archive", l.name);
    const live = join(root, "live", l.name);
    mkdirSync(archive, { recursive: true });
    mkdirSync(live, { recursive: true });
    mkdirSync(join(root, "renewal"), { recursive: true });
    const files = { cert: pem(leaf.cert), chain: pem(leaf.issuer!.cert), fullchain: pem(leaf.cert) + pem(leaf.issuer!.cert), privkey: leaf.key.pem };
    for (const [k, v] of Object.entries(files)) {
      writeFileSync(join(archive, `${k}1.pem`), v, { mode: k === "privkey" ? 0o600 : 0o644 });
      symlinkSync(`../../archive/${l.name}/${k}1.pem`, join(live, `${k}.pem`));
    }
    const conf = [
      "# renew_before_expiry = 30 days",
      "version = 2.1.0",
      `archive_dir = ${archive}`,
      ...["cert", "privkey", "chain", "fullchain"].map((k) => `${k} = ${join(live, `${k}.pem`)}`),
      "",
      "# Options used in the renewal process",
      "[renewalparams]",
      "account = 43515cc914ed832a869790ca0068acb0",
      ...Object.entries(l.params).map(([k, v]) => `${k} = ${v}`),
      `config_dir = ${root}`,
      "",
    ];
    writeFileSync(join(root, "renewal", `${l.name}.conf`), conf.join("\n"));
  }
  return root;
}
