/**
 * A certificate's pre-check facts read from its DER by our own walk instead of node:crypto's
 * X509Certificate (~70 µs a certificate with its getters, a quarter of a plain-file `check --all`).
 * It answers only for the narrow form CAs issue and OpenSSL surely accepts — stricter than OpenSSL
 * everywhere, never looser: minimal DER, v3, AlgorithmIdentifier parameters absent or NULL, names of
 * single ASCII Printable/IA5/UTF8 values, times to the second, a positive serial, an EC point on its
 * curve or an RSA key of our sizes with exponent 65537. Anything else is null and the caller asks
 * node:crypto (test/unit/cert-der.test.ts compares the two on many certificates and mutated DER).
 */
import { hash } from "node:crypto";
import { children, equal, isNull, isPositiveInteger, OID_EC, OID_RSA, spkiKeyType, tlv, type Tlv } from "./der.js";
import { curveOf, onCurve, type Curve } from "./ec-curve.js";

/** The public key of a certificate as the key-pair check compares it (inspect/key-der.ts). */
/** `point`: on `curve` (checked here); `n`, `e`: content octets of minimal positive INTEGERs. */
export type PublicKeyParts = { kind: "ec"; curve: Curve; point: Uint8Array } | { kind: "rsa"; n: Uint8Array; e: Uint8Array };

export interface DerCertFacts {
  notBefore: Date;
  notAfter: Date;
  names: string[];
  keyType: string;
  serialHex: string;
  issuer: string;
  fingerprint256: string;
  publicKey: PublicKeyParts;
}

/** OpenSSL's short names (XN_FLAG_FN_SN) of the attributes we print, by their OID's content octets in hex. */
const ATTRIBUTES: Record<string, string> = {
  "550403": "CN",
  "550406": "C",
  "550407": "L",
  "550408": "ST",
  "55040a": "O",
  "55040b": "OU",
  "550405": "serialNumber",
  "0992268993f22c640119": "DC",
  "2a864886f70d010901": "emailAddress",
};
const SAN_OID = Uint8Array.from([0x55, 0x1d, 0x11]); // 2.5.29.17
const MARK = Buffer.from("acme-renew placeholder", "latin1");

class Decline extends Error {}
const need: (ok: boolean) => asserts ok = (ok) => {
  if (!ok) throw new Decline();
};
const hex = (b: Uint8Array, t: Tlv) => Buffer.from(b.buffer, b.byteOffset + t.start, t.end - t.start).toString("hex");
const latin1 = (b: Uint8Array, t: Tlv) => Buffer.from(b.buffer, b.byteOffset + t.start, t.end - t.start).toString("latin1");

/** The facts of a DER certificate, or null when it is beyond this reader (or not one). */
export function derCertFacts(der: Uint8Array): DerCertFacts | null {
  try {
    return read(der);
  } catch {
    return null; // Decline, or a DER error from tlv(): node:crypto decides
  }
}

/** Far above any CA's certificate (a few KiB), far below OpenSSL's limits (a Name of 1 MiB, a serial's bignum). */
const MAX_DER = 65536;

function read(der: Uint8Array): DerCertFacts {
  need(der.length <= MAX_DER);
  const top = tlv(der, 0);
  need(top.tag === 0x30 && top.end === der.length);
  const [tbs, sigAlg, sig, ...rest] = children(der, top);
  need(tbs?.tag === 0x30 && sigAlg?.tag === 0x30 && sig?.tag === 0x03 && rest.length === 0);
  algorithm(der, sigAlg);
  // OpenSSL encodes the signature anew for `raw` (the TBSCertificate keeps its bytes): whole bytes, so the fingerprints agree.
  need(sig.end > sig.start && der[sig.start] === 0);
  const f = children(der, tbs);
  need(f[0]?.tag === 0xa0); // v3: the version is there (extensions need it)
  const version = children(der, f[0]);
  need(version.length === 1 && version[0]!.tag === 0x02 && version[0]!.end - version[0]!.start === 1 && der[version[0]!.start] === 2);
  const [serial, signature, issuer, validity, subject, spki, ...tail] = f.slice(1);
  need(serial?.tag === 0x02 && signature?.tag === 0x30 && issuer?.tag === 0x30 && validity?.tag === 0x30 && subject?.tag === 0x30 && spki?.tag === 0x30);
  algorithm(der, signature);
  const [nb, na, ...moreTimes] = children(der, validity);
  need(nb !== undefined && na !== undefined && moreTimes.length === 0);
  const issuerText = name(der, issuer, true);
  name(der, subject, false);
  // A placeholder (inspect/placeholder.ts) is told by a signature check: node:crypto's.
  need(Buffer.from(der.buffer, der.byteOffset + subject.start, subject.end - subject.start).indexOf(MARK) < 0);
  const publicKey = publicKeyOf(der, spki);
  const keyType = spkiKeyType(der);
  need(keyType !== null);
  // Then the extensions alone (the unique IDs nobody issues decline).
  need(tail.length === 0 || (tail.length === 1 && tail[0]!.tag === 0xa3));
  const names = tail.length ? extensions(der, tail[0]!) : [];
  return {
    notBefore: time(der, nb),
    notAfter: time(der, na),
    names,
    keyType,
    serialHex: serialHex(der, serial),
    issuer: issuerText,
    fingerprint256: colonHex(hash("sha256", der, "buffer")),
    publicKey,
  };
}

/** AlgorithmIdentifier with no parameters or NULL (05 00): what every CA signature algorithm but RSA-PSS carries. */
function algorithm(der: Uint8Array, t: Tlv): void {
  const [oid, ...params] = children(der, t);
  need(oid !== undefined && params.length <= 1 && (params.length === 0 || isNull(params[0]!)));
  objectId(der, oid);
}

/** An OBJECT IDENTIFIER OpenSSL decodes: non-empty, no subidentifier padded with 0x80, the last one ended. */
function objectId(der: Uint8Array, t: Tlv): void {
  need(t.tag === 0x06 && t.end > t.start && (der[t.end - 1]! & 0x80) === 0);
  for (let p = t.start; p < t.end; p++) need(der[p] !== 0x80 || (p > t.start && (der[p - 1]! & 0x80) !== 0));
}

/** A positive serial as node:crypto prints it (OpenSSL's BN_bn2hex: no leading zero bytes), lower-case. */
function serialHex(der: Uint8Array, t: Tlv): string {
  need(isPositiveInteger(der, t)); // minimal, as OpenSSL insists
  let p = t.start;
  while (p < t.end && der[p] === 0) p++;
  need(p < t.end);
  return hex(der, { tag: 2, start: p, end: t.end });
}

/** UTCTime or GeneralizedTime to the second in UTC ("…Z"); other forms decline. */
function time(der: Uint8Array, t: Tlv): Date {
  const long = t.tag === 0x18;
  need((t.tag === 0x17 || long) && t.end - t.start === (long ? 15 : 13) && der[t.end - 1] === 0x5a); // "Z"
  const two = (i: number) => {
    const a = der[t.start + i]! - 0x30;
    const b = der[t.start + i + 1]! - 0x30;
    need(a >= 0 && a <= 9 && b >= 0 && b <= 9);
    return a * 10 + b;
  };
  const y = long ? two(0) * 100 + two(2) : two(0);
  const o = long ? 4 : 2;
  const year = long ? y : y < 50 ? 2000 + y : 1900 + y;
  const [mo, d, h, mi, sec] = [two(o), two(o + 2), two(o + 4), two(o + 6), two(o + 8)];
  need(year >= 1950 && h < 24 && mi < 60 && sec < 60);
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, sec));
  need(date.getUTCMonth() === mo - 1 && date.getUTCDate() === d); // no rollover (Feb 30…)
  return date;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, "0"));
/** "AB:CD:…", as node:crypto's fingerprint256. */
function colonHex(b: Uint8Array): string {
  let s = HEX[b[0]!]!;
  for (let i = 1; i < b.length; i++) s += `:${HEX[b[i]!]!}`;
  return s;
}

/** Characters printed as they are by OpenSSL's RFC 2253 escaping (no , + " \ < > ; control or non-ASCII). */
const PLAIN_VALUE = /^[A-Za-z0-9'()*./:=?@_~!$%&[\]^`{|}-](?:[ A-Za-z0-9'()*./:=?@_~!$%&[\]^`{|}#-]*[A-Za-z0-9'()*./:=?@_~!$%&[\]^`{|}#-])?$/;

/** A Name; with `print`, as node:crypto's `issuer` (one attribute a line), else only checked. Empty names decline. */
function name(der: Uint8Array, t: Tlv, print: boolean): string {
  const lines: string[] = [];
  const rdns = children(der, t);
  need(rdns.length > 0); // node:crypto: undefined
  for (const rdn of rdns) {
    need(rdn.tag === 0x31);
    const atvs = children(der, rdn);
    need(atvs.length === 1); // multi-valued RDNs print with " + "
    const [type, value, ...more] = children(der, atvs[0]!);
    need(atvs[0]!.tag === 0x30 && type !== undefined && value !== undefined && more.length === 0);
    objectId(der, type);
    need(plainString(der, value));
    if (!print) continue;
    const short = ATTRIBUTES[hex(der, type)];
    need(short !== undefined);
    const text = latin1(der, value);
    need(PLAIN_VALUE.test(text));
    lines.push(`${short}=${text}`);
  }
  return lines.join("\n");
}

/**
 * An attribute value of PrintableString, UTF8String or IA5String in printable ASCII, non-empty:
 * read the same by every decoder and by the placeholder test (BMP, Universal, T61, Numeric decline).
 */
function plainString(der: Uint8Array, t: Tlv): boolean {
  if ((t.tag !== 0x13 && t.tag !== 0x0c && t.tag !== 0x16) || t.end === t.start) return false;
  for (let p = t.start; p < t.end; p++) if (der[p]! < 0x20 || der[p]! > 0x7e) return false;
  return true;
}

const E_65537 = Uint8Array.from([1, 0, 1]);

/**
 * The subjectPublicKeyInfo of our key types in the one form each has: a named P-256/P-384 curve and an
 * uncompressed point on it; rsaEncryption with NULL parameters, a 2048/3072/4096-bit modulus and 65537.
 */
function publicKeyOf(der: Uint8Array, spki: Tlv): PublicKeyParts {
  const [alg, bits, ...more] = children(der, spki);
  need(alg?.tag === 0x30 && bits?.tag === 0x03 && bits.end > bits.start && der[bits.start] === 0 && more.length === 0);
  const [oid, params, ...extra] = children(der, alg);
  need(oid !== undefined && params !== undefined && extra.length === 0);
  objectId(der, oid);
  if (equal(der, oid, OID_EC)) {
    need(params.tag === 0x06);
    const curve = curveOf(der, params);
    const point = der.subarray(bits.start + 1, bits.end);
    need(curve !== null && onCurve(curve, point));
    return { kind: "ec", curve, point };
  }
  need(equal(der, oid, OID_RSA) && isNull(params));
  const seq = tlv(der, bits.start + 1, bits.end);
  need(seq.tag === 0x30 && seq.end === bits.end);
  const [n, e, ...rest] = children(der, seq);
  need(n !== undefined && e?.tag === 0x02 && rest.length === 0 && equal(der, e, E_65537) && isPositiveInteger(der, n));
  // 00 then a byte with its top bit set: 2048, 3072 or 4096 bits.
  const len = n.end - n.start;
  need(der[n.start] === 0 && (len === 257 || len === 385 || len === 513));
  return { kind: "rsa", n: der.subarray(n.start, n.end), e: der.subarray(e.start, e.end) };
}

/** Checks the extensions; the dNSNames of subjectAltName, lower-case. Duplicates decline (OpenSSL marks them invalid). */
function extensions(der: Uint8Array, wrapper: Tlv): string[] {
  const inner = children(der, wrapper);
  need(inner.length === 1 && inner[0]!.tag === 0x30);
  const seen = new Set<string>();
  let names: string[] = [];
  const all = children(der, inner[0]!);
  need(all.length > 0); // SIZE (1..MAX)
  for (const ext of all) {
    need(ext.tag === 0x30);
    const parts = children(der, ext);
    const [oid, second, third] = parts;
    need(oid !== undefined && parts.length >= 2 && parts.length <= 3);
    objectId(der, oid);
    const value = parts.length === 3 ? third! : second!;
    need(value.tag === 0x04 && (parts.length === 2 || (second!.tag === 0x01 && second!.end - second!.start === 1 && der[second!.start] === 0xff)));
    const id = hex(der, oid);
    need(!seen.has(id));
    seen.add(id);
    if (equal(der, oid, SAN_OID)) names = sanDnsNames(der, value);
  }
  return names;
}

const HOST = /^[A-Za-z0-9*_.-]+$/;

function sanDnsNames(der: Uint8Array, octets: Tlv): string[] {
  const seq = tlv(der, octets.start, octets.end);
  need(seq.tag === 0x30 && seq.end === octets.end);
  const names: string[] = [];
  const all = children(der, seq);
  need(all.length > 0); // SIZE (1..MAX): node:crypto 24+ cannot print an empty one
  for (const g of all) {
    // GeneralNames OpenSSL decodes for sure: rfc822Name, dNSName, URI, iPAddress; the others decline.
    need(g.tag === 0x81 || g.tag === 0x82 || g.tag === 0x86 || (g.tag === 0x87 && (g.end - g.start === 4 || g.end - g.start === 16)));
    if (g.tag !== 0x82) continue;
    const n = latin1(der, g);
    need(HOST.test(n));
    names.push(n.toLowerCase());
  }
  return names;
}
