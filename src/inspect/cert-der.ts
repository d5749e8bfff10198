/**
 * A certificate's pre-check facts read from its DER by our own walk instead of node:crypto's
 * X509Certificate, which costs ~120 µs a certificate with its getters (a third of a plain-file
 * `check --all`). The walk checks the whole X.509 structure, as OpenSSL's parser does, and answers
 * only where it reads exactly what node:crypto prints: issuers of the common attributes in plain
 * ASCII, dNSNames of host-name characters, times to the second, a positive serial, our key types.
 * Anything else is null and the caller asks node:crypto (test/unit/cert-der.test.ts compares the two
 * on many certificates and on mutated DER).
 */
import { isUtf8 } from "node:buffer";
import { hash } from "node:crypto";
import { children, equal, OID_EC, OID_RSA, spkiKeyType, tlv, type Tlv } from "./der.js";

/** The public key of a certificate as the key-pair check compares it (inspect/key-der.ts). */
export type PublicKeyParts = { kind: "ec"; curve: Uint8Array; bits: Uint8Array } | { kind: "rsa"; n: Uint8Array; e: Uint8Array };

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

function read(der: Uint8Array): DerCertFacts {
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

function algorithm(der: Uint8Array, t: Tlv): void {
  const [oid, ...params] = children(der, t);
  need(oid !== undefined && params.length <= 1);
  objectId(der, oid);
}

/** An OBJECT IDENTIFIER OpenSSL decodes: non-empty, no subidentifier padded with 0x80, the last one ended. */
function objectId(der: Uint8Array, t: Tlv): void {
  need(t.tag === 0x06 && t.end > t.start && (der[t.end - 1]! & 0x80) === 0);
  for (let p = t.start; p < t.end; p++) need(der[p] !== 0x80 || (p > t.start && (der[p - 1]! & 0x80) !== 0));
}

/** A positive serial as node:crypto prints it (OpenSSL's BN_bn2hex: no leading zero bytes), lower-case. */
function serialHex(der: Uint8Array, t: Tlv): string {
  need(t.end > t.start && (der[t.start]! & 0x80) === 0);
  need(t.end - t.start === 1 || der[t.start] !== 0 || (der[t.start + 1]! & 0x80) !== 0); // minimal, as OpenSSL insists
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

/** A Name; with `print`, as node:crypto's `issuer` (one attribute a line), else only checked. */
function name(der: Uint8Array, t: Tlv, print: boolean): string {
  const lines: string[] = [];
  for (const rdn of children(der, t)) {
    need(rdn.tag === 0x31);
    const atvs = children(der, rdn);
    need(atvs.length === 1); // multi-valued RDNs print with " + "
    const [type, value, ...more] = children(der, atvs[0]!);
    need(atvs[0]!.tag === 0x30 && type !== undefined && value !== undefined && more.length === 0);
    objectId(der, type);
    need(decodable(der, value));
    if (!print) continue;
    const short = ATTRIBUTES[hex(der, type)];
    need(short !== undefined && (value.tag === 0x13 || value.tag === 0x0c || value.tag === 0x16));
    const text = latin1(der, value);
    need(PLAIN_VALUE.test(text));
    lines.push(`${short}=${text}`);
  }
  return lines.join("\n");
}

/**
 * An attribute value OpenSSL decodes: one of the directory string types (Numeric, Printable, T61,
 * IA5, Universal, BMP, UTF8 String), UTF-8 valid, BMP and Universal of whole characters.
 */
function decodable(der: Uint8Array, t: Tlv): boolean {
  const len = t.end - t.start;
  if (t.tag === 0x0c) return isUtf8(der.subarray(t.start, t.end));
  if (t.tag === 0x1e) return len % 2 === 0;
  if (t.tag === 0x1c) return len % 4 === 0;
  return t.tag === 0x12 || t.tag === 0x13 || t.tag === 0x14 || t.tag === 0x16;
}

function publicKeyOf(der: Uint8Array, spki: Tlv): PublicKeyParts {
  const [alg, bits, ...more] = children(der, spki);
  need(alg?.tag === 0x30 && bits?.tag === 0x03 && bits.end > bits.start && more.length === 0);
  const [oid, params, ...extra] = children(der, alg);
  need(oid !== undefined && der[bits.start] === 0 && extra.length === 0);
  objectId(der, oid);
  if (equal(der, oid, OID_EC)) {
    need(params !== undefined);
    objectId(der, params);
    return { kind: "ec", curve: der.subarray(params.start, params.end), bits: der.subarray(bits.start + 1, bits.end) };
  }
  need(equal(der, oid, OID_RSA));
  const seq = tlv(der, bits.start + 1, bits.end);
  need(seq.tag === 0x30 && seq.end === bits.end);
  const [n, e, ...rest] = children(der, seq);
  need(n?.tag === 0x02 && e?.tag === 0x02 && rest.length === 0);
  return { kind: "rsa", n: der.subarray(n.start, n.end), e: der.subarray(e.start, e.end) };
}

/** Checks the extensions; the dNSNames of subjectAltName, lower-case. Duplicates decline (OpenSSL marks them invalid). */
function extensions(der: Uint8Array, wrapper: Tlv): string[] {
  const inner = children(der, wrapper);
  need(inner.length === 1 && inner[0]!.tag === 0x30);
  const seen = new Set<string>();
  let names: string[] = [];
  for (const ext of children(der, inner[0]!)) {
    need(ext.tag === 0x30);
    const parts = children(der, ext);
    const [oid, second, third] = parts;
    need(oid !== undefined && parts.length >= 2 && parts.length <= 3);
    objectId(der, oid);
    const value = parts.length === 3 ? third! : second!;
    need(value.tag === 0x04 && (parts.length === 2 || (second!.tag === 0x01 && second!.end - second!.start === 1)));
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
  for (const g of children(der, seq)) {
    // GeneralNames OpenSSL decodes for sure: rfc822Name, dNSName, URI, iPAddress; the others decline.
    need(g.tag === 0x81 || g.tag === 0x82 || g.tag === 0x86 || (g.tag === 0x87 && (g.end - g.start === 4 || g.end - g.start === 16)));
    if (g.tag !== 0x82) continue;
    const n = latin1(der, g);
    need(HOST.test(n));
    names.push(n.toLowerCase());
  }
  return names;
}
