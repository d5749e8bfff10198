/**
 * The first PEM block of a text, decoded, only when it is written exactly as OpenSSL writes one: the
 * BEGIN line at the start of the text, base64 in lines of 64 characters (the last one shorter), no
 * blank, stray or header lines, canonical padding, the END line on its own line ending in "\n".
 * Anything else is null and the caller gives the text to node:crypto, whose reader decides — so the
 * pre-check's own reading (cert-der.ts, key-der.ts) never sees bytes OpenSSL's reader would refuse.
 */
const B64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;

export interface StrictPem {
  label: string;
  der: Uint8Array;
  /** Offset just past the END line. */
  end: number;
}

export function strictPem(text: string, labels: readonly string[]): StrictPem | null {
  if (!text.startsWith("-----BEGIN ")) return null;
  const nl = text.indexOf("\n");
  if (nl < 0) return null;
  const label = text.slice(11, nl - 5);
  if (text.slice(nl - 5, nl) !== "-----" || !labels.includes(label)) return null;
  const endLine = `\n-----END ${label}-----\n`;
  const endAt = text.indexOf(endLine, nl);
  if (endAt < 0) return null;
  const lines = text.slice(nl + 1, endAt).split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const last = i === lines.length - 1;
    if ((last ? line.length === 0 || line.length > 64 : line.length !== 64) || !B64_LINE.test(line)) return null;
    if (!last && line.includes("=")) return null;
  }
  const body = lines.join("");
  if (body.length % 4 !== 0) return null;
  const der = Buffer.from(body, "base64");
  // Padding bits and "=" placement: only the one encoding that decodes to these bytes.
  if (der.toString("base64") !== body) return null;
  return { label, der: new Uint8Array(der.buffer, der.byteOffset, der.length), end: endAt + endLine.length };
}
