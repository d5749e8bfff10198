/**
 * Does a key.pem hold a certificate's public key, in a form OpenSSL surely loads? The comparison
 * X509_check_private_key makes (EVP_PKEY_eq: an EC key's curve and point, an RSA key's modulus and
 * exponent), read from the DER without importing the key (createPrivateKey costs ~45 µs). It answers
 * only "yes, shown", and only for the exact templates: one PEM block as OpenSSL writes it, PKCS#8 of
 * exactly version 0, algorithm and key; SEC1 version 1 with d, [0] curve, [1] point in that order;
 * PKCS#1 version 0 with its 8 integers; every INTEGER minimal and positive, the EC point the
 * certificate's (found on its curve there) and 0 < d < n. Anything else — a mismatch, an encrypted or unusual key — is null and the caller asks
 * node:crypto, whose answer stands.
 */
import { children, equal, isNull, isPositiveInteger, OID_EC, OID_RSA, tlv, type Tlv } from "./der.js";
import { validScalar } from "./ec-curve.js";
import type { PublicKeyParts } from "./cert-der.js";
import { strictPem } from "./pem-strict.js";

const LABELS = ["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"];

export function keyHoldsPublicKey(keyText: string, pub: PublicKeyParts): true | null {
  // One block, nothing else in the file; no key of ours is near 16 KiB (RSA-4096 PKCS#8: ~2.4 KiB).
  if (keyText.length > 16384) return null;
  const pem = strictPem(keyText, LABELS);
  if (!pem || pem.end !== keyText.length) return null;
  try {
    return shown(pem.der, pem.label, pub) ? true : null;
  } catch {
    return null; // DER beyond the reader
  }
}

const bytes = (b: Uint8Array, t: Tlv) => b.subarray(t.start, t.end);
/** INTEGER with the one-byte value v. */
const small = (b: Uint8Array, t: Tlv | undefined, v: number) => t?.tag === 0x02 && t.end - t.start === 1 && b[t.start] === v;

function shown(der: Uint8Array, label: string, pub: PublicKeyParts): boolean {
  const top = tlv(der, 0);
  if (top.tag !== 0x30 || top.end !== der.length) return false;
  if (label === "EC PRIVATE KEY") return pub.kind === "ec" && ecKeyShown(der, top, null, pub);
  if (label === "RSA PRIVATE KEY") return pub.kind === "rsa" && rsaKeyShown(der, top, pub);
  // PKCS#8 PrivateKeyInfo (RFC 5208) of exactly version 0, AlgorithmIdentifier, privateKey.
  const parts = children(der, top);
  const [version, alg, octets] = parts;
  if (parts.length !== 3 || !small(der, version, 0) || alg?.tag !== 0x30 || octets?.tag !== 0x04) return false;
  const algParts = children(der, alg);
  const [oid, params] = algParts;
  if (algParts.length !== 2 || oid?.tag !== 0x06 || !params) return false;
  const inner = tlv(der, octets.start, octets.end);
  if (inner.tag !== 0x30 || inner.end !== octets.end) return false;
  if (pub.kind === "ec" && equal(der, oid, OID_EC) && params.tag === 0x06) return ecKeyShown(der, inner, params, pub);
  if (pub.kind === "rsa" && equal(der, oid, OID_RSA) && isNull(params)) return rsaKeyShown(der, inner, pub);
  return false;
}

/** ECPrivateKey (RFC 5915): version 1, privateKey, [0] curve (required unless PKCS#8 names it), [1] publicKey. */
function ecKeyShown(der: Uint8Array, seq: Tlv, outerCurve: Tlv | null, pub: Extract<PublicKeyParts, { kind: "ec" }>): boolean {
  const parts = children(der, seq);
  const [version, d] = parts;
  if (!small(der, version, 1) || d?.tag !== 0x04) return false;
  let i = 2;
  let curve = outerCurve;
  if (parts[i]?.tag === 0xa0) {
    const inner = children(der, parts[i++]!);
    if (inner.length !== 1 || inner[0]!.tag !== 0x06) return false;
    if (curve && !equal(der, curve, bytes(der, inner[0]!))) return false;
    curve = inner[0]!;
  }
  if (parts[i]?.tag !== 0xa1) return false; // no point: OpenSSL derives it, we let it
  const wrapped = children(der, parts[i++]!);
  const point = wrapped[0];
  if (wrapped.length !== 1 || point?.tag !== 0x03 || point.end === point.start || der[point.start] !== 0 || i !== parts.length) return false;
  // The certificate's point, which cert-der.ts found on the curve: the same bytes need no second check.
  return curve !== null && equal(der, curve, pub.curve.oid) && validScalar(pub.curve, bytes(der, d)) && equal(der, { tag: 3, start: point.start + 1, end: point.end }, pub.point);
}

/**
 * RSAPrivateKey (RFC 8017) of two primes: version 0, then n, e, d, p, q, dP, dQ, qInv, each of its
 * size: d below n, the others at most half n's length (OpenSSL 3.5 calls a key with a longer one no
 * match for its certificate).
 */
function rsaKeyShown(der: Uint8Array, seq: Tlv, pub: Extract<PublicKeyParts, { kind: "rsa" }>): boolean {
  const parts = children(der, seq);
  if (parts.length !== 9 || !small(der, parts[0], 0) || !parts.slice(1).every((t) => isPositiveInteger(der, t))) return false;
  if (!equal(der, parts[1]!, pub.n) || !equal(der, parts[2]!, pub.e)) return false;
  const nBytes = pub.n.length - (pub.n[0] === 0 ? 1 : 0);
  const half = Math.ceil(nBytes / 2) + 1; // a leading 0x00 before a set top bit
  return below(der, parts[3]!, pub.n) && parts.slice(4).every((t) => t.end - t.start <= half);
}

/** A minimal positive INTEGER's content below another's (both minimal: the longer is the larger). */
function below(der: Uint8Array, t: Tlv, than: Uint8Array): boolean {
  const len = t.end - t.start;
  if (len !== than.length) return len < than.length;
  for (let i = 0; i < len; i++) if (der[t.start + i] !== than[i]) return der[t.start + i]! < than[i]!;
  return false;
}
