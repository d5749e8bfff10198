/** Generates the published JSON Schema from the field table. */
import { CHALLENGE_FIELDS, FIELDS, IGNORED_KEYS, type Field, type FieldSpec } from "./fields.js";

type Json = Record<string, unknown>;

function specSchema(f: FieldSpec): Json {
  switch (f.kind) {
    case "string":
      return { type: "string", minLength: 1, ...(f.format ? { format: f.format } : {}) };
    case "boolean":
      return { type: "boolean" };
    case "number": {
      const t = f.integer ? "integer" : "number";
      return { type: f.nullable ? [t, "null"] : t, minimum: f.min, maximum: f.max };
    }
    case "enum":
      return { enum: [...f.values] };
    case "stringArray":
      return { type: "array", items: { type: "string", minLength: 1 } };
    case "stringMap":
      return { type: "object", propertyNames: { pattern: f.keyPattern }, additionalProperties: { type: "string", minLength: 1 } };
    case "object":
      return {
        type: "object",
        additionalProperties: false,
        required: f.required,
        properties: Object.fromEntries(Object.entries(f.fields).map(([k, v]) => [k, fieldSchema(v)])),
      };
  }
}

function fieldSchema(f: FieldSpec & { description: string; default?: unknown }): Json {
  return { description: f.description, ...specSchema(f), ...(f.default !== undefined ? { default: f.default } : {}) };
}

function properties(filter: (f: Field) => boolean): Json {
  const props: Json = {};
  for (const k of IGNORED_KEYS) props[k] = { type: "string" };
  for (const [k, f] of Object.entries(FIELDS)) if (filter(f)) props[k] = fieldSchema(f);
  return props;
}

const atMostOneChallenge = {
  not: {
    anyOf: CHALLENGE_FIELDS.flatMap((a, i) => CHALLENGE_FIELDS.slice(i + 1).map((b) => ({ required: [a, b] }))),
  },
};

export function jsonSchema(): Json {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://acme-renew.invalid/schema/cert.json",
    title: "acme-renew certificate configuration (<config-dir>/<name>.json)",
    description:
      `One file per certificate. Exactly one challenge (${CHALLENGE_FIELDS.join(", ")}) must be set here or in defaults.json. Wildcard names need dns-01 (dnsProvider or dnsHook).`,
    type: "object",
    additionalProperties: false,
    properties: properties(() => true),
    ...atMostOneChallenge,
    $defs: {
      defaults: {
        title: "acme-renew defaults (<config-dir>/defaults.json)",
        type: "object",
        additionalProperties: false,
        properties: properties((f) => !f.perCertOnly),
        ...atMostOneChallenge,
      },
    },
  };
}
