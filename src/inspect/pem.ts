/** PEM helpers that need nothing beyond node:crypto. */
const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----\r?\n?/g;

export function pemBlocks(text: string, label?: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(BLOCK)) if (!label || m[1] === label) out.push(m[0].endsWith("\n") ? m[0] : `${m[0]}\n`);
  return out;
}

