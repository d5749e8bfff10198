/**
 * Just enough DER to read what node:crypto's X509Certificate does not give raw: the serial number's
 * content octets (with a leading 0x00 when the encoding has one) and the Authority Key Identifier's
 * keyIdentifier — the two halves of an ARI certID (RFC 9773 §4.1) — and the key type. The TLV walk
 * is strict (definite, minimal lengths inside their parent) and also serves inspect/cert-der.ts.
 */
export interface Tlv {
  tag: number;
  start: number; // content start
  end: number; // content end (exclusive)
}

/** The TLV at `at`, ending at or before `limit` (default: the buffer's end). Throws on anything but DER. */
export function tlv(b: Uint8Array, at: number, limit = b.length): Tlv {
  if (at + 2 > limit) throw new Error("truncated DER");
  const tag = b[at]!;
  if ((tag & 0x1f) === 0x1f) throw new Error("unsupported DER tag");
  let len = b[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit || b[p] === 0) throw new Error("unsupported DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p + i]!;
    p += n;
    if (len < 0x80) throw new Error("non-minimal DER length");
  }
  if (p + len > limit) throw new Error("truncated DER");
  return { tag, start: p, end: p + len };
}

/** The TLVs filling `parent`'s content exactly. */
export function children(b: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.start; p < parent.end; ) {
    const t = tlv(b, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

/** NULL (05 00): AlgorithmIdentifier parameters of RSA. */
export const isNull = (t: Tlv | undefined): boolean => t?.tag === 0x05 && t.end === t.start;

/** A minimal, positive, non-empty INTEGER (OpenSSL refuses padding; a negative one we leave to it). */
export const isPositiveInteger = (b: Uint8Array, t: Tlv): boolean =>
  t.tag === 0x02 && t.end > t.start && (b[t.start]! & 0x80) === 0 && (b[t.start] !== 0 || (t.end - t.start > 1 && (b[t.start + 1]! & 0x80) !== 0));

const AKI_OID = Uint8Array.from([0x55, 0x1d, 0x23]); // 2.5.29.35

export function equal(b: Uint8Array, t: Tlv, v: Uint8Array): boolean {
  if (t.end - t.start !== v.length) return false;
  for (let i = 0; i < v.length; i++) if (b[t.start + i] !== v[i]) return false;
  return true;
}

export interface CertIdParts {
  /** Serial number content octets, as encoded (a leading 0x00 kept). */
  serial: Uint8Array;
  /** keyIdentifier of the Authority Key Identifier extension, or null when absent. */
  authorityKeyId: Uint8Array | null;
}

/** The TBSCertificate's fields, and the index of serialNumber (1 when the [0] version is present). */
export function tbsFields(der: Uint8Array): { fields: Tlv[]; i: number } {
  const fields = children(der, children(der, tlv(der, 0))[0]!);
  return { fields, i: fields[0]!.tag === 0xa0 ? 1 : 0 };
}

export function certIdParts(der: Uint8Array): CertIdParts {
  const { fields, i } = tbsFields(der);
  const serialTlv = fields[i]!;
  if (serialTlv.tag !== 0x02) throw new Error("no serial number");
  const serial = der.slice(serialTlv.start, serialTlv.end);
  let authorityKeyId: Uint8Array | null = null;
  const extsWrapper = fields.find((f) => f.tag === 0xa3); // [3] extensions
  if (extsWrapper) {
    const exts = children(der, children(der, extsWrapper)[0]!);
    for (const ext of exts) {
      const parts = children(der, ext);
      if (!equal(der, parts[0]!, AKI_OID)) continue;
      const value = parts[parts.length - 1]!; // OCTET STRING wrapping AuthorityKeyIdentifier
      const aki = tlv(der, value.start);
      for (const f of children(der, aki)) if (f.tag === 0x80) authorityKeyId = der.slice(f.start, f.end);
    }
  }
  return { serial, authorityKeyId };
}

export const OID_EC = Uint8Array.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]); // 1.2.840.10045.2.1
export const OID_P256 = Uint8Array.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]); // 1.2.840.10045.3.1.7
export const OID_P384 = Uint8Array.from([0x2b, 0x81, 0x04, 0x00, 0x22]); // 1.3.132.0.34
export const OID_RSA = Uint8Array.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]); // 1.2.840.113549.1.1.1

/**
 * The key type of a certificate's subjectPublicKeyInfo, in config terms ("ec256", "ec384",
 * "rsa2048"…), read from the DER: `cert.publicKey.asymmetricKeyDetails` costs a key import per
 * certificate (a 1,000-certificate `check --all` went from 1,084 to 960 ms without it). null for
 * anything else and for DER beyond this reader: the caller asks node:crypto then.
 */
export function spkiKeyType(der: Uint8Array): string | null {
  try {
    return readSpkiKeyType(der);
  } catch {
    return null;
  }
}

function readSpkiKeyType(der: Uint8Array): string | null {
  const { fields, i } = tbsFields(der);
  const spki = fields[i + 5]; // serial, signature, issuer, validity, subject, subjectPublicKeyInfo
  if (!spki || spki.tag !== 0x30) return null;
  const [alg, bits] = children(der, spki);
  if (!alg || !bits || bits.tag !== 0x03) return null;
  const [oid, params] = children(der, alg);
  if (!oid || oid.tag !== 0x06) return null;
  if (equal(der, oid, OID_EC)) {
    if (params?.tag !== 0x06) return null;
    if (equal(der, params, OID_P256)) return "ec256";
    if (equal(der, params, OID_P384)) return "ec384";
    return null;
  }
  if (equal(der, oid, OID_RSA)) {
    // BIT STRING: one byte of unused bits, then RSAPublicKey ::= SEQUENCE { modulus INTEGER, … }
    const rsaKey = tlv(der, bits.start + 1);
    const modulus = children(der, rsaKey)[0];
    if (!modulus || modulus.tag !== 0x02) return null;
    let p = modulus.start;
    while (p < modulus.end && der[p] === 0) p++;
    if (p === modulus.end) return null;
    const n = (modulus.end - p) * 8 - Math.clz32(der[p]!) + 24;
    return [2048, 3072, 4096, 8192].includes(n) ? `rsa${n}` : `rsa(${n})`;
  }
  return null;
}
