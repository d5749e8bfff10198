/** Certificates we make ourselves: CSRs, placeholders, the tls-alpn-01 answer, and test fixtures. */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import type { KeyPair } from "./keys.js";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface CertSpec {
  names: string[];
  key: KeyPair;
  notBefore: Date;
  notAfter: Date;
  /** Signs with this issuer; self-signed when absent. */
  issuer?: { key: KeyPair; cert: x509.X509Certificate };
  ca?: boolean;
  commonName?: string;
  extraExtensions?: x509.Extension[];
  serialHex?: string;
}

export async function createCertificate(s: CertSpec): Promise<x509.X509Certificate> {
  const cn = s.commonName ?? s.names[0] ?? "acme-renew";
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(!!s.ca, undefined, true),
    await x509.SubjectKeyIdentifierExtension.create(s.key.keys.publicKey),
  ];
  if (s.issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(s.issuer.key.keys.publicKey));
  if (s.names.length) extensions.push(new x509.SubjectAlternativeNameExtension(s.names.map((n) => ({ type: "dns" as const, value: n }))));
  extensions.push(...(s.extraExtensions ?? []));
  const serialNumber = s.serialHex ?? `01${Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString("hex")}`;
  const subject = `CN=${cn}`;
  if (!s.issuer) {
    return x509.X509CertificateGenerator.createSelfSigned({
      serialNumber,
      name: subject,
      notBefore: s.notBefore,
      notAfter: s.notAfter,
      keys: s.key.keys,
      signingAlgorithm: s.key.signing,
      extensions,
    });
  }
  return x509.X509CertificateGenerator.create({
    serialNumber,
    subject,
    issuer: s.issuer.cert.subject,
    notBefore: s.notBefore,
    notAfter: s.notAfter,
    publicKey: s.key.keys.publicKey,
    signingKey: s.issuer.key.keys.privateKey,
    signingAlgorithm: s.issuer.key.signing,
    extensions,
  });
}

export async function createCsr(names: string[], key: KeyPair): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${names[0]}`,
    keys: key.keys,
    signingAlgorithm: key.signing,
    extensions: [new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: "dns" as const, value: n })))],
  });
  return csr.toString("pem");
}

export { x509 };
