/**
 * Just enough DER encoding to write one X.509 certificate (src/crypto/self-signed.ts) with
 * node:crypto alone: the boot path (`ready`) must not load @peculiar/x509.
 */
export type Der = Uint8Array;

function length(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

/** One TLV: `tag` and the concatenated `content`. */
export function tlv(tag: number, ...content: Der[]): Der {
  const body = Buffer.concat(content);
  return Buffer.concat([Uint8Array.from([tag, ...length(body.length)]), body]);
}

export const sequence = (...items: Der[]) => tlv(0x30, ...items);
export const set = (...items: Der[]) => tlv(0x31, ...items);
/** [n] EXPLICIT (constructed, context-specific). */
export const explicit = (n: number, inner: Der) => tlv(0xa0 | n, inner);
export const octetString = (b: Der) => tlv(0x04, b);
/** BIT STRING with no unused bits. */
export const bitString = (b: Der) => tlv(0x03, Uint8Array.of(0), b);
export const nullValue = () => Uint8Array.of(0x05, 0x00);
export const boolean = (v: boolean) => Uint8Array.of(0x01, 0x01, v ? 0xff : 0x00);
export const utf8String = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));

/** INTEGER from unsigned big-endian bytes (a 0x00 is prepended when the top bit is set). */
export function unsignedInteger(b: Der): Der {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return tlv(0x02, (v[0]! & 0x80) !== 0 ? Buffer.concat([Uint8Array.of(0), v]) : v);
}

export const smallInteger = (n: number) => unsignedInteger(Uint8Array.of(n));

export function oid(dotted: string): Der {
  const parts = dotted.split(".").map(Number);
  const bytes = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(bytes));
}

/** RFC 5280 §4.1.2.5: UTCTime for 1950–2049, GeneralizedTime otherwise; seconds, always Z. */
export function time(d: Date): Der {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  const year = d.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, "ascii"));
  return tlv(0x18, Buffer.from(`${digits}Z`, "ascii"));
}
