import type { Adoptable } from "./material.js";

/**
 * What `acme-renew import` makes of another ACME client's state: per certificate, the config it would
 * write, the files it would adopt, and every setting it could not carry over (never dropped silently).
 */

/** The peer's certificate files (paths as found; read and checked by material.ts). */
export interface SourceFiles {
  /** The leaf certificate, or a full chain whose first certificate is the leaf. */
  cert: string;
  key: string;
  /** Issuer certificates; null: the certificates after the leaf in `cert`. */
  chain: string | null;
}

export interface ImportPlan {
  /** The acme-renew certificate name (config file name). */
  name: string;
  /** The peer's file the settings come from, for messages and the config's $comment. */
  source: string;
  /** The acme-renew config (field table keys), in the order it is printed. */
  config: Record<string, unknown>;
  /** Settings mapped with a caveat, or not carried over: one line each. */
  notes: string[];
  /** The certificate to adopt (read and checked), or null when there is none (e.g. a self-signed placeholder). */
  cert: Adoptable | null;
  /** Fields acme-renew needs that the peer does not record: the config is incomplete without them (or defaults.json, or --set). */
  needs: Array<{ field: string; why: string }>;
}

/**
 * Input that cannot be imported as it is (unknown authenticator, a key file missing, an unreadable
 * conf). `code` 78 for the peer's state, 64 for the command line (a DIR that does not exist).
 */
export class ImportError extends Error {
  constructor(
    message: string,
    readonly code: 64 | 78 = 78,
  ) {
    super(message);
    this.name = "ImportError";
  }
}

/** A certificate that cannot be imported, by the name it would have had. */
export interface ImportProblem {
  name: string;
  message: string;
}

/** One reader per peer tool (src/import/<tool>.ts). */
export interface Importer {
  tool: "certbot" | "lego" | "acme.sh" | "nixos";
  /** Where the tool keeps its state when DIR is not given. */
  defaultDir(env: NodeJS.ProcessEnv): string;
  /** Reads every certificate under `dir`. Throws ImportError for a problem of the input as a whole. */
  read(dir: string): Promise<{ plans: ImportPlan[]; problems: ImportProblem[] }>;
}

/** Setting names that hold secrets: their values are never printed. */
export const SECRET_SETTING = /(hmac|secret|password|passwd|token|apikey|api_key)/i;

/** `key = value` for a "not carried over" line, the value hidden when the key names a secret. */
export function shown(key: string, value: string): string {
  return SECRET_SETTING.test(key) ? `${key} = [not shown]` : `${key} = ${value}`;
}
