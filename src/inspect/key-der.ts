/**
 * Does a private key's PEM hold a certificate's public key? The comparison OpenSSL's
 * X509_check_private_key makes (EVP_PKEY_eq: an EC key's curve and point as its encoding carries
 * them, an RSA key's modulus and exponent), read from the DER without importing the key (~57 µs).
 * Answers only "yes, shown": anything else — no match, an encrypted key, a point left out, another
 * format or algorithm — is null, and the caller asks node:crypto (which also tells a mismatch).
 */
import { children, equal, OID_EC, OID_RSA, tlv, type Tlv } from "./der.js";
import type { PublicKeyParts } from "./cert-der.js";

const LABELS = new Set(["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"]);
const BLOCK = /-----BEGIN ([A-Z ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END \1-----/g;

export function keyHoldsPublicKey(keyText: string, pub: PublicKeyParts): true | null {
  const blocks = [...keyText.matchAll(BLOCK)];
  // One block of a plain key format; other text around it is skipped by OpenSSL's reader as by ours.
  if (blocks.length !== 1 || keyText.split("-----BEGIN ").length !== 2 || !LABELS.has(blocks[0]![1]!)) return null;
  const der = new Uint8Array(Buffer.from(blocks[0]![2]!, "base64"));
  try {
    return shown(der, blocks[0]![1]!, pub) ? true : null;
  } catch {
    return null; // DER beyond the reader
  }
}

const same = (b: Uint8Array, t: Tlv | undefined, v: Uint8Array) => t !== undefined && equal(b, t, v);

function shown(der: Uint8Array, label: string, pub: PublicKeyParts): boolean {
  const top = tlv(der, 0);
  if (top.tag !== 0x30 || top.end !== der.length) return false;
  if (label === "EC PRIVATE KEY") return pub.kind === "ec" && ecKeyShown(der, top, null, pub);
  if (label === "RSA PRIVATE KEY") return pub.kind === "rsa" && rsaKeyShown(der, top, pub);
  // PKCS#8 PrivateKeyInfo: version, AlgorithmIdentifier, privateKey OCTET STRING, [0] attributes, [1] publicKey (v2).
  const [version, alg, octets] = children(der, top);
  if (version?.tag !== 0x02 || alg?.tag !== 0x30 || octets?.tag !== 0x04) return false;
  const [oid, params] = children(der, alg);
  const inner = tlv(der, octets.start, octets.end);
  if (inner.tag !== 0x30 || inner.end !== octets.end) return false;
  if (pub.kind === "ec" && same(der, oid, OID_EC) && params?.tag === 0x06) return ecKeyShown(der, inner, params, pub);
  if (pub.kind === "rsa" && same(der, oid, OID_RSA)) return rsaKeyShown(der, inner, pub);
  return false;
}

/** ECPrivateKey (RFC 5915): version 1, privateKey, [0] curve, [1] publicKey BIT STRING. */
function ecKeyShown(der: Uint8Array, seq: Tlv, outerCurve: Tlv | null, pub: Extract<PublicKeyParts, { kind: "ec" }>): boolean {
  const [version, d, ...tagged] = children(der, seq);
  if (version?.tag !== 0x02 || version.end - version.start !== 1 || der[version.start] !== 1 || d?.tag !== 0x04 || d.end === d.start) return false;
  let curve = outerCurve;
  let point: Tlv | null = null;
  for (const t of tagged) {
    const [v, ...more] = children(der, t);
    if (!v || more.length) return false;
    if (t.tag === 0xa0 && v.tag === 0x06) {
      if (curve && !equal(der, curve, der.subarray(v.start, v.end))) return false;
      curve = v;
    } else if (t.tag === 0xa1 && v.tag === 0x03) point = v;
    else return false;
  }
  return curve !== null && point !== null && equal(der, curve, pub.curve) && der[point.start] === 0 && equal(der, { tag: 3, start: point.start + 1, end: point.end }, pub.bits);
}

/** RSAPrivateKey (RFC 8017): version, modulus, publicExponent, privateExponent, primes, exponents, coefficient, … */
function rsaKeyShown(der: Uint8Array, seq: Tlv, pub: Extract<PublicKeyParts, { kind: "rsa" }>): boolean {
  const [version, n, e, ...rest] = children(der, seq);
  return version?.tag === 0x02 && n?.tag === 0x02 && e?.tag === 0x02 && rest.length >= 6 && rest.slice(0, 6).every((t) => t.tag === 0x02) && equal(der, n, pub.n) && equal(der, e, pub.e);
}
