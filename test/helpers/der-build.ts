/** Tests only: building and taking apart DER by hand, to make certificates and keys no tool writes. */
import { createPrivateKey, sign } from "node:crypto";

export interface Node {
  tag: number;
  head: number; // offset of the tag byte
  start: number;
  end: number;
}

/** A DER length: short form, else the fewest bytes of the long form. */
const len = (n: number) => {
  if (n < 0x80) return [n];
  const b: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) b.unshift(v % 256);
  return [0x80 | b.length, ...b];
};

/** One TLV of `tag` around the concatenated parts. */
export function T(tag: number, ...parts: Array<Uint8Array | number[]>): Buffer {
  const c = Buffer.concat(parts.map((p) => Buffer.from(p)));
  return Buffer.concat([Buffer.from([tag, ...len(c.length)]), c]);
}

export function parse(b: Uint8Array, at = 0): Node {
  let l = b[at + 1]!;
  let p = at + 2;
  if (l & 0x80) {
    const n = l & 0x7f;
    l = 0;
    for (let i = 0; i < n; i++) l = l * 256 + b[p + i]!;
    p += n;
  }
  return { tag: b[at]!, head: at, start: p, end: p + l };
}

export function kids(b: Uint8Array, t: Node): Node[] {
  const out: Node[] = [];
  for (let p = t.start; p < t.end; ) {
    const c = parse(b, p);
    out.push(c);
    p = c.end;
  }
  return out;
}

/** The whole TLV (header and content). */
export const raw = (b: Uint8Array, t: Node) => Buffer.from(b.subarray(t.head, t.end));

export const pemOf = (der: Uint8Array, label = "CERTIFICATE") =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END ${label}-----\n`;

/** The DER of a PEM text's first block. */
export const derOfPem = (pem: string) => Buffer.from(pem.split("\n").filter((l) => l && !l.startsWith("-----")).join(""), "base64");

const OIDS: Record<string, number[]> = { CN: [0x55, 4, 3], O: [0x55, 4, 10] };
/** A Name of single-valued RDNs: [attribute, string tag, value]. */
export const name = (...atvs: Array<[string, number, Uint8Array | number[]]>) =>
  T(0x30, ...atvs.map(([k, tag, v]) => T(0x31, T(0x30, T(6, OIDS[k]!), T(tag, v)))));
export const bmp = (s: string) => Buffer.from(s, "utf16le").swap16();

/** A template certificate with serial, issuer, subject, extensions or the outer signature algorithm replaced, signed again with `keyPem`. */
export function rebuild(
  template: Uint8Array,
  keyPem: string,
  o: { serial?: Uint8Array; issuer?: Uint8Array; subject?: Uint8Array; outerSigAlg?: Uint8Array; extensions?: (exts: Buffer[]) => Uint8Array[] },
): Buffer {
  const top = parse(template);
  const [tbs, sigAlg] = kids(template, top);
  const fields = kids(template, tbs!);
  const parts: Uint8Array[] = fields.map((t) => raw(template, t));
  if (o.serial) parts[1] = o.serial;
  if (o.issuer) parts[3] = o.issuer;
  if (o.subject) parts[5] = o.subject;
  if (o.extensions) {
    const seq = kids(template, fields[7]!)[0]!; // [3] { SEQUENCE OF Extension }
    parts[7] = T(0xa3, T(0x30, ...o.extensions(kids(template, seq).map((t) => raw(template, t)))));
  }
  const newTbs = T(0x30, ...parts);
  return T(0x30, newTbs, o.outerSigAlg ?? raw(template, sigAlg!), T(3, [0], sign("sha256", newTbs, createPrivateKey(keyPem))));
}

/** An Extension of the given OID content octets and value. */
export const extension = (oid: number[], value: Uint8Array) => T(0x30, T(6, oid), T(4, value));
export const SAN_OID = [0x55, 0x1d, 0x11];
/** Whether an encoded Extension is the subjectAltName. */
export const isSan = (ext: Uint8Array) => Buffer.from(ext).includes(Buffer.from([6, 3, ...SAN_OID]));
