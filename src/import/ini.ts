/**
 * certbot's renewal/<name>.conf: the subset of ConfigObj syntax certbot writes (certbot/_internal/
 * storage.py writes it with configobj): `key = value` lines, `[section]` and `[[subsection]]`
 * headers, `#` comments, values optionally quoted, a comma making a value a list ("a, b," or "a,").
 */
import { ImportError } from "./plan.js";

export type IniValue = string | string[];

export interface IniSection {
  values: Map<string, IniValue>;
  subsections: Map<string, Map<string, IniValue>>;
}

export interface Ini {
  top: Map<string, IniValue>;
  sections: Map<string, IniSection>;
}

function unquote(v: string): string {
  const m = /^(['"])(.*)\1$/.exec(v);
  return m ? m[2]! : v;
}

function parseValue(raw: string): IniValue {
  const q = /^\s*(['"])(.*?)\1\s*(?:#.*)?$/.exec(raw);
  if (q) return q[2]!;
  const v = raw.replace(/\s+#.*$/, "").trim();
  if (!v.includes(",")) return v;
  return v
    .split(",")
    .map((s) => unquote(s.trim()))
    .filter((s) => s !== "");
}

export function parseIni(text: string, file: string): Ini {
  const ini: Ini = { top: new Map(), sections: new Map() };
  let section: IniSection | null = null;
  let sub: Map<string, IniValue> | null = null;
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) return;
    const subHead = /^\[\[\s*([^\]]+?)\s*\]\]$/.exec(t);
    if (subHead) {
      if (!section) throw new ImportError(`${file}:${i + 1}: [[${subHead[1]}]] outside a [section]`);
      sub = new Map();
      section.subsections.set(subHead[1]!, sub);
      return;
    }
    const head = /^\[\s*([^\]]+?)\s*\]$/.exec(t);
    if (head) {
      section = { values: new Map(), subsections: new Map() };
      ini.sections.set(head[1]!, section);
      sub = null;
      return;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(t);
    if (!kv) throw new ImportError(`${file}:${i + 1}: not a "key = value" line: ${JSON.stringify(t.slice(0, 80))}`);
    const key = unquote(kv[1]!.trim());
    const value = parseValue(kv[2]!);
    (sub ?? section?.values ?? ini.top).set(key, value);
  });
  return ini;
}

/** A value as one string (a list joined by ", "). */
export function str(v: IniValue | undefined): string | undefined {
  return v === undefined ? undefined : Array.isArray(v) ? v.join(", ") : v;
}
