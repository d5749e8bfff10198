/** Validates one parsed JSON config object against the field table. */
import { ConfigError } from "./errors.js";
import { FIELDS, IGNORED_KEYS, type FieldSpec } from "./fields.js";

export type RawConfig = Record<string, unknown>;

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function checkValue(file: string, path: string, spec: FieldSpec, v: unknown): void {
  const fail = (p: string) => {
    throw new ConfigError(file, path, p);
  };
  switch (spec.kind) {
    case "string": {
      if (typeof v !== "string") return fail(`expected a string, got ${typeName(v)}`);
      if (v.length === 0) return fail("must not be empty");
      const why = spec.check?.(v);
      if (why) fail(why);
      return;
    }
    case "boolean":
      if (typeof v !== "boolean") fail(`expected true or false, got ${typeName(v)}`);
      return;
    case "number": {
      if (v === null && spec.nullable) return;
      if (typeof v !== "number" || !Number.isFinite(v)) return fail(`expected a number${spec.nullable ? " or null" : ""}, got ${typeName(v)}`);
      if (spec.integer && !Number.isInteger(v)) return fail("expected a whole number");
      if (v < spec.min || v > spec.max) fail(`must be between ${spec.min} and ${spec.max}`);
      return;
    }
    case "enum":
      if (typeof v !== "string" || !spec.values.includes(v)) fail(`expected one of ${spec.values.join(", ")}, got ${JSON.stringify(v)}`);
      return;
    case "stringArray": {
      if (!Array.isArray(v)) return fail(`expected an array of strings, got ${typeName(v)}`);
      v.forEach((item, i) => checkValue(file, `${path}[${i}]`, { kind: "string", ...(spec.check ? { check: spec.check } : {}) }, item));
      return;
    }
    case "object": {
      if (typeName(v) !== "object") return fail(`expected an object, got ${typeName(v)}`);
      const o = v as RawConfig;
      for (const k of Object.keys(o)) {
        const sub = Object.hasOwn(spec.fields, k) ? spec.fields[k] : undefined;
        if (!sub) throw new ConfigError(file, `${path}.${k}`, `unknown key (allowed: ${Object.keys(spec.fields).join(", ")})`);
        checkValue(file, `${path}.${k}`, sub, o[k]);
      }
      for (const k of spec.required) if (!(k in o)) throw new ConfigError(file, `${path}.${k}`, "is required");
      return;
    }
    case "stringMap": {
      if (typeName(v) !== "object") return fail(`expected an object, got ${typeName(v)}`);
      const keyRe = new RegExp(spec.keyPattern);
      for (const [k, item] of Object.entries(v as RawConfig)) {
        if (!keyRe.test(k)) throw new ConfigError(file, `${path}.${k}`, `not ${spec.keyHint}`);
        checkValue(file, `${path}.${k}`, { kind: "string", ...(spec.check ? { check: spec.check } : {}) }, item);
      }
      return;
    }
  }
}

/** Throws ConfigError naming the first bad field; returns the object without ignored keys. */
export function validateRaw(file: string, v: unknown, opts: { defaults: boolean }): RawConfig {
  if (typeName(v) !== "object") throw new ConfigError(file, null, `expected a JSON object, got ${typeName(v)}`);
  const o = v as RawConfig;
  // A plain object: only FIELDS' own names get here (an unknown key, "__proto__" too, has thrown).
  const out: RawConfig = {};
  for (const [k, val] of Object.entries(o)) {
    if (IGNORED_KEYS.includes(k)) continue;
    // Own properties only: "constructor", "__proto__", "toString" … are unknown keys, not Object's.
    const f = Object.hasOwn(FIELDS, k) ? FIELDS[k] : undefined;
    if (!f) throw new ConfigError(file, k, `unknown key${suggest(k)}`);
    if (opts.defaults && f.perCertOnly) throw new ConfigError(file, k, "not allowed in defaults.json (set it in the certificate's file)");
    checkValue(file, k, f, val);
    out[k] = val;
  }
  return out;
}

function suggest(k: string): string {
  const lower = k.toLowerCase();
  const near = Object.keys(FIELDS).find((f) => f.toLowerCase() === lower || editDistance(f.toLowerCase(), lower) <= 2);
  return near ? ` (did you mean "${near}"?)` : "";
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}
