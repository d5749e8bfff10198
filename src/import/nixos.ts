/**
 * NixOS security.acme state: /var/lib/acme/<name>/{cert.pem → fullchain.pem, chain.pem, fullchain.pem,
 * full.pem, key.pem}, copied there by its renewal service from lego's files (nixos/modules/security/
 * acme/default.nix); before the first real certificate, a self-signed one from minica. Everything
 * else (challenge, email, server, hooks) is in the Nix configuration, not on disk.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { checkCertName } from "../config/names.js";
import { entries, keyTypeField, namesFields, ordered } from "./common.js";
import { readAdoptable } from "./material.js";
import { ImportError, type ImportPlan, type ImportProblem, type Importer } from "./plan.js";

async function readOne(root: string, name: string): Promise<ImportPlan> {
  const dir = join(root, name);
  const why = checkCertName(name);
  if (why) throw new ImportError(`${dir}: "${name}" cannot be an acme-renew certificate name: ${why}`);
  const chain = join(dir, "chain.pem");
  // cert.pem is a link to fullchain.pem there: the leaf is its first certificate.
  const full = join(dir, "fullchain.pem");
  const cert = await readAdoptable({ cert: existsSync(full) ? full : join(dir, "cert.pem"), key: join(dir, "key.pem"), chain: existsSync(chain) ? chain : null });
  const notes: string[] = [];
  const cfg: Record<string, unknown> = { ...namesFields(name, cert), ...keyTypeField(cert, notes) };
  const minica = cert.selfSigned || /^minica root ca/i.test(cert.issuerCN);
  if (minica) notes.push(`the certificate is security.acme's self-signed placeholder (issuer ${cert.issuerCN}): nothing to adopt, the first run orders a real one`);
  notes.push(`email, server, the challenge, group, reloadServices and postRun are in the Nix configuration (security.acme.certs."${name}"): on NixOS carry them into services.acme-renew.certs."${name}" (nix/README.md maps each option); the module writes this file itself`);
  notes.push("cert.pem: security.acme's is the full chain, acme-renew's the leaf alone: point servers at fullchain.pem");
  const needs: ImportPlan["needs"] = [{ field: "challenge", why: "the challenge is in the Nix configuration (webroot, listenHTTP, dnsProvider, …)" }];
  return { name, source: dir, config: ordered(cfg), notes, cert: minica ? null : cert, needs };
}

export const nixos: Importer = {
  tool: "nixos",
  defaultDir: () => "/var/lib/acme",
  async read(root) {
    const list = await entries(root, "security.acme's directory, default /var/lib/acme");
    const plans: ImportPlan[] = [];
    const problems: ImportProblem[] = [];
    const certDirs = list.filter((d) => !d.startsWith(".") && existsSync(join(root, d, "key.pem")));
    if (!certDirs.length) throw new ImportError(`${root}: no <name>/key.pem in it: not security.acme's directory`, 64);
    for (const d of certDirs) {
      try {
        plans.push(await readOne(root, d));
      } catch (e) {
        if (!(e instanceof ImportError)) throw e;
        problems.push({ name: d, message: e.message });
      }
    }
    return { plans, problems };
  },
};
