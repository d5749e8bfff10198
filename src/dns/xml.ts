/**
 * Just enough XML for the two XML APIs (Namecheap, Route 53): element texts and attributes, entities
 * decoded. Not a general parser: both APIs answer flat, documented shapes.
 */
const ENTITIES: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

export function decodeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e: string) => (e[0] === "#" ? String.fromCodePoint(e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : (ENTITIES[e] ?? m)));
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${({ "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos" } as Record<string, string>)[c]};`);
}

/** The attributes of one start tag's inside (`name="value" …`). */
export function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:-]+)\s*=\s*"([^"]*)"/g)) out[m[1]!] = decodeXml(m[2]!);
  return out;
}

/** The inner XML of every <tag>…</tag> (or the attributes of <tag …/> when `empty`). */
export function elements(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, "g"))].map((m) => m[1]!);
}

/** The decoded text of the first <tag>. */
export function text(xml: string, tag: string): string | undefined {
  const e = elements(xml, tag)[0];
  return e === undefined ? undefined : decodeXml(e.trim());
}
