/** Reads and checks the certificate and key a peer left, as the pair acme-renew would adopt. */
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { keyTypeOf, sanNames } from "../inspect/read.js";
import { pemBlocks } from "../inspect/pem.js";
import type { Material } from "../store/install.js";
import { ImportError, type SourceFiles } from "./plan.js";

export interface Adoptable {
  material: Material;
  cert: X509Certificate;
  names: string[];
  /** Key type of the key (ec256, rsa2048, … or a description of another kind). */
  keyType: string;
  notAfter: Date;
  issuerCN: string;
  /** Self-signed (a peer's placeholder, e.g. security.acme's minica one). */
  selfSigned: boolean;
}

async function text(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImportError(`${file}: ${code === "ENOENT" ? `missing (the ${what})` : `cannot read the ${what} (${code ?? (e as Error).message})`}`);
  }
}

export async function readAdoptable(f: SourceFiles): Promise<Adoptable> {
  const certText = await text(f.cert, "certificate");
  const keyText = await text(f.key, "private key");
  const certs = pemBlocks(certText, "CERTIFICATE");
  if (!certs.length) throw new ImportError(`${f.cert}: no PEM certificate in it`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certs[0]!);
  } catch (e) {
    throw new ImportError(`${f.cert}: not a certificate (${(e as Error).message})`);
  }
  const keyPem = pemBlocks(keyText).find((b) => /^-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(b));
  if (!keyPem) throw new ImportError(`${f.key}: no PEM private key in it`);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (e) {
    throw new ImportError(`${f.key}: not a private key (${(e as Error).message})`);
  }
  if (!cert.checkPrivateKey(key)) throw new ImportError(`${f.key}: does not belong to the certificate ${f.cert}`);
  const chainPem = f.chain === null ? certs.slice(1).join("") : pemBlocks(await text(f.chain, "issuer chain"), "CERTIFICATE").join("");
  const issuer = (cert.issuer ?? "").split("\n").find((l) => l.startsWith("CN="))?.slice(3) ?? (cert.issuer ?? "").replace(/\n/g, ", ");
  return {
    material: { certPem: certs[0]!, keyPem, chainPem },
    cert,
    names: sanNames(cert),
    keyType: keyTypeOf(key),
    notAfter: new Date(cert.validTo),
    issuerCN: issuer,
    selfSigned: cert.subject === cert.issuer && cert.verify(cert.publicKey),
  };
}
