/** Test certificates made on the fly: a CA and leaf certificates with chosen dates, names and keys. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KeyType } from "../../src/config/types.js";
import { createCertificate, x509 } from "../../src/crypto/certs.js";
import { generateKeyPair, type KeyPair } from "../../src/crypto/keys.js";

export const DAY = 86_400_000;

let ca: Promise<{ key: KeyPair; cert: x509.X509Certificate }> | null = null;
export function testCa() {
  ca ??= (async () => {
    const key = await generateKeyPair("ec256");
    const cert = await createCertificate({
      names: [],
      commonName: "acme-renew test CA",
      key,
      ca: true,
      notBefore: new Date(Date.now() - 3650 * DAY),
      notAfter: new Date(Date.now() + 3650 * DAY),
    });
    return { key, cert };
  })();
  return ca;
}

export interface LeafOptions {
  names: string[];
  keyType?: KeyType;
  notBefore?: Date;
  notAfter?: Date;
  /** Write a key.pem that does not belong to the certificate. */
  wrongKey?: boolean;
  /** Leave chain.pem out. */
  noChain?: boolean;
  selfSigned?: boolean;
}

export async function makeLeaf(o: LeafOptions) {
  const issuer = o.selfSigned ? undefined : await testCa();
  const key = await generateKeyPair(o.keyType ?? "ec256");
  const cert = await createCertificate({
    names: o.names,
    key,
    ...(issuer ? { issuer } : {}),
    notBefore: o.notBefore ?? new Date(Date.now() - DAY),
    notAfter: o.notAfter ?? new Date(Date.now() + 89 * DAY),
  });
  return { key, cert, issuer };
}

/** Writes <stateDir>/<name>/{cert,chain,fullchain,key,full}.pem the way a lego/NixOS setup would. */
export async function writeCertDir(stateDir: string, name: string, o: LeafOptions) {
  const { key, cert, issuer } = await makeLeaf(o);
  const dir = join(stateDir, name);
  mkdirSync(dir, { recursive: true });
  const certPem = cert.toString("pem") + "\n";
  const chainPem = issuer ? issuer.cert.toString("pem") + "\n" : "";
  const keyPem = o.wrongKey ? (await generateKeyPair(o.keyType ?? "ec256")).pem : key.pem;
  writeFileSync(join(dir, "cert.pem"), certPem);
  if (!o.noChain) writeFileSync(join(dir, "chain.pem"), chainPem);
  writeFileSync(join(dir, "fullchain.pem"), certPem + chainPem);
  writeFileSync(join(dir, "key.pem"), keyPem, { mode: 0o600 });
  writeFileSync(join(dir, "full.pem"), keyPem + certPem + chainPem, { mode: 0o600 });
  return { cert, key, dir };
}
