/**
 * A self-signed TLS server certificate made with node:crypto only (an EC P-256 key, ECDSA-SHA256),
 * for the placeholder written on the boot path, where @peculiar/x509 is not loaded.
 */
import { createHash, createPublicKey, generateKeyPair, randomBytes, sign, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { bitString, boolean, explicit, octetString, oid, sequence, set, smallInteger, time, tlv, unsignedInteger, utf8String, type Der } from "./der-write.js";

const generate = promisify(generateKeyPair);

export interface SelfSignedSpec {
  /** subjectAltName DNS names (A-labels, wildcards allowed). */
  names: string[];
  /** Subject (= issuer) attributes, in order: [OID, value]. */
  subject: Array<[string, string]>;
  notBefore: Date;
  notAfter: Date;
}

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  subjectAltName: "2.5.29.17",
  subjectKeyId: "2.5.29.14",
};

const extension = (id: string, critical: boolean, value: Der) => sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));

function name(attrs: Array<[string, string]>): Der {
  return sequence(...attrs.map(([type, value]) => set(sequence(oid(type), utf8String(value)))));
}

/** The SPKI's subjectPublicKey bits (for the key identifier, RFC 5280 §4.2.1.2 method 1). */
function publicKeyBits(spki: Buffer): Buffer {
  // SEQUENCE { AlgorithmIdentifier, BIT STRING }: the BIT STRING is the last element; skip its tag,
  // length and unused-bits byte. An EC P-256 point is 65 bytes, so its length is short-form.
  return spki.subarray(spki.length - 65);
}

export async function selfSigned(s: SelfSignedSpec): Promise<{ certPem: string; keyPem: string }> {
  const { privateKey } = (await generate("ec", { namedCurve: "P-256" })) as unknown as { privateKey: KeyObject };
  const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive, 16 significant bytes
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const issuer = name(s.subject);
  const extensions = sequence(
    extension(OID.basicConstraints, true, sequence()),
    // digitalSignature (bit 0): what an ECDHE-ECDSA handshake needs.
    extension(OID.keyUsage, true, tlv(0x03, Uint8Array.of(7, 0x80))),
    extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
    extension(OID.subjectAltName, false, sequence(...s.names.map((n) => tlv(0x82, Buffer.from(n, "ascii"))))),
    extension(OID.subjectKeyId, false, octetString(createHash("sha1").update(publicKeyBits(spki)).digest())),
  );
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(serial),
    algorithm,
    issuer,
    sequence(time(s.notBefore), time(s.notAfter)),
    issuer,
    spki,
    explicit(3, extensions),
  );
  const signature = sign("sha256", tbs, privateKey); // DER ECDSA-Sig-Value
  const der = sequence(tbs, algorithm, bitString(signature));
  return { certPem: pem(der, "CERTIFICATE"), keyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string };
}

function pem(der: Der, label: string): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
}
