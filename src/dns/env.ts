/**
 * A provider's variables, read as lego reads them: `VAR`, or else the content of the file `VAR_FILE`
 * names (trailing newlines stripped). Three sources, the later ones winning per variable: the process
 * environment (systemd Environment=/EnvironmentFile=/LoadCredential=), the certificate's
 * `environmentFile` (systemd EnvironmentFile syntax) and its `credentialFiles` ({ VAR_FILE: path }).
 * A source that sets VAR or VAR_FILE hides both from the sources below it, so that a certificate's
 * own credentials are never mixed with the environment's. Values are never logged.
 */
import { readFileSync, statSync } from "node:fs";
import { ConfigError } from "../config/errors.js";

export interface EnvSources {
  /** The config file (for error messages). */
  file: string;
  process: Readonly<Record<string, string | undefined>>;
  environmentFile: string | null;
  credentialFiles: Readonly<Record<string, string>>;
  /** A warning for the log (e.g. a credentials file readable by other users). */
  warn: (message: string) => void;
}

interface Entry {
  value: string;
  origin: string;
}

const base = (k: string) => (k.endsWith("_FILE") ? k.slice(0, -5) : k);

/**
 * systemd's EnvironmentFile= syntax: `KEY=VALUE` lines; lines starting with # or ; are comments;
 * values may be '…' (literal) or "…" (backslash escapes) quoted, may continue over a newline after a
 * backslash; unquoted trailing whitespace is dropped. Bad lines are reported and skipped, as systemd does.
 */
export function parseEnvironmentFile(text: string, onBadLine: (line: number, why: string) => void = () => {}): Map<string, string> {
  const out = new Map<string, string>();
  const src = text.replace(/\r\n/g, "\n");
  let state: "pre" | "comment" | "key" | "preValue" | "value" | "single" | "double" = "pre";
  let key = "";
  let value = "";
  let trailing = 0; // unquoted whitespace at the end of value
  let line = 1;
  let keyLine = 1;
  const end = () => {
    if (state === "key") onBadLine(keyLine, "no '=' (expected KEY=VALUE)");
    else if (state !== "pre" && state !== "comment") {
      const k = key.trim();
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) out.set(k, trailing ? value.slice(0, -trailing) : value);
      else onBadLine(keyLine, `"${k.slice(0, 40)}" is not a variable name`);
    }
    state = "pre";
    key = value = "";
    trailing = 0;
  };
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === "\n") line++;
    switch (state) {
      case "pre":
        if (ch === "#" || ch === ";") state = "comment";
        else if (!/\s/.test(ch)) {
          state = "key";
          key = ch;
          keyLine = line;
        }
        break;
      case "comment":
        if (ch === "\n") state = "pre";
        break;
      case "key":
        if (ch === "=") state = "preValue";
        else if (ch === "\n") end();
        else key += ch;
        break;
      case "preValue":
      case "value":
        if (ch === "\n") end();
        else if (state === "preValue" && /[ \t]/.test(ch)) break;
        else if (ch === "'") {
          state = "single";
          trailing = 0;
        } else if (ch === '"') {
          state = "double";
          trailing = 0;
        } else if (ch === "\\") {
          const next = src[++i];
          if (next === "\n") line++;
          else if (next !== undefined) value += next;
          state = "value";
          trailing = 0;
        } else {
          state = "value";
          value += ch;
          trailing = /[ \t]/.test(ch) ? trailing + 1 : 0;
        }
        break;
      case "single":
        if (ch === "'") state = "value";
        else value += ch;
        break;
      case "double":
        if (ch === '"') state = "value";
        else if (ch === "\\") {
          const next = src[++i];
          if (next === "\n") line++;
          else if (next !== undefined) value += next;
        } else value += ch;
        break;
    }
  }
  end();
  return out;
}

/** Warns when a file holding credentials can be read by other users. */
function checkMode(path: string, what: string, warn: (m: string) => void): void {
  try {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o004) warn(`${what} ${path} is readable by other users (mode ${mode.toString(8).padStart(4, "0")}); make it 0600 or 0640`);
  } catch {
    /* reported when it is read */
  }
}

function readCredentialFile(sources: EnvSources, path: string, field: string, variable: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(sources.file, field, `${variable}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

export class ProviderEnv {
  private readonly entries = new Map<string, Entry>();
  private readonly read = new Map<string, string>();
  private readonly checked = new Set<string>();

  constructor(
    private readonly sources: EnvSources,
    /** Names this provider reads (VAR; VAR_FILE is implied): only those are taken from the process. */
    private readonly provider: string,
  ) {
    for (const [k, v] of Object.entries(sources.process)) if (v !== undefined) this.entries.set(k, { value: v, origin: "the environment" });
    if (sources.environmentFile) {
      const f = sources.environmentFile;
      checkMode(f, "environmentFile", sources.warn);
      const text = readCredentialFile(sources, f, "environmentFile", "the file");
      const vars = parseEnvironmentFile(text, (line, why) => sources.warn(`environmentFile ${f}:${line}: ignored (${why})`));
      this.layer(vars, `environmentFile ${f}`);
    }
    const cf = new Map(Object.entries(sources.credentialFiles));
    this.layer(cf, "credentialFiles");
  }

  /** The config file, for ConfigErrors. */
  get file(): string {
    return this.sources.file;
  }

  /** The provider code as configured (rfc2136, acme-dns …), for messages. */
  get code(): string {
    return this.provider;
  }

  private layer(vars: Map<string, string>, origin: string): void {
    for (const k of vars.keys()) {
      this.entries.delete(base(k));
      this.entries.delete(`${base(k)}_FILE`);
    }
    for (const [k, v] of vars) this.entries.set(k, { value: v, origin });
  }

  /** lego's GetOrFile: the value of VAR, or the content of VAR_FILE; undefined when unset or empty. */
  get(name: string): string | undefined {
    if (this.read.has(name)) return this.read.get(name) || undefined;
    let value = this.entries.get(name)?.value ?? "";
    if (value === "") {
      const f = this.entries.get(`${name}_FILE`);
      if (f && f.value !== "") {
        const field = f.origin === "credentialFiles" ? `credentialFiles.${name}_FILE` : "dnsProvider";
        if (!this.checked.has(f.value)) {
          this.checked.add(f.value);
          checkMode(f.value, `${name}_FILE`, this.sources.warn);
        }
        value = readCredentialFile(this.sources, f.value, field, `${this.provider}: ${name}_FILE (from ${f.origin})`).replace(/[\r\n]+$/, "");
        if (value === "") throw new ConfigError(this.sources.file, field, `${this.provider}: ${name}_FILE ${f.value} is empty`);
      }
    }
    this.read.set(name, value);
    return value || undefined;
  }

  /** The first of several names that is set (lego's fallbacks and aliases). */
  first(...names: string[]): string | undefined {
    for (const n of names) {
      const v = this.get(n);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /** Where a variable (or its _FILE) came from, for messages. */
  origin(name: string): string | null {
    return this.entries.get(name)?.origin ?? this.entries.get(`${name}_FILE`)?.origin ?? null;
  }

  private bad(name: string, why: string): never {
    throw new ConfigError(this.sources.file, "dnsProvider", `${this.provider}: ${name}: ${why}`);
  }

  /** A required variable (one of `names`, lego's aliases): its value, or exit 78 naming it. */
  require(...names: string[]): string {
    const v = this.first(...names);
    if (v === undefined) this.bad(names.join(" or "), `not set (set it in the environment, environmentFile, or as ${names[0]}_FILE in credentialFiles)`);
    return v;
  }

  /** A whole number of seconds (lego's ParseSecond), or the default. */
  seconds(name: string, dflt: number, ...aliases: string[]): number {
    return this.int(name, dflt, 0, ...aliases);
  }

  int(name: string, dflt: number, min = 0, ...aliases: string[]): number {
    const v = this.first(name, ...aliases);
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v.trim()) || Number(v) < min) this.bad(name, `expected a whole number${min ? ` ≥ ${min}` : ""}, got "${v.slice(0, 20)}"`);
    return Number(v);
  }

  /** lego's ParseBool: 1/t/true/0/f/false (any case). */
  bool(name: string, dflt: boolean): boolean {
    const v = this.get(name);
    if (v === undefined) return dflt;
    if (/^(1|t|true)$/i.test(v)) return true;
    if (/^(0|f|false)$/i.test(v)) return false;
    return this.bad(name, `expected true or false, got "${v.slice(0, 20)}"`);
  }

  /** The variables read that have a value, and where each came from (for doctor: names, never values). */
  setVariables(): Array<{ name: string; origin: string }> {
    return [...this.read.entries()].filter(([, v]) => v !== "").map(([name]) => ({ name, origin: this.entries.get(name) ? this.origin(name)! : `${this.origin(name)} (${name}_FILE)` }));
  }

  /** Every variable the provider read (and its _FILE form): what a postRun hook must not inherit. */
  variables(): string[] {
    return [...this.read.keys()].flatMap((k) => [k, `${k}_FILE`]);
  }

  /** The values read so far of `names` (all when omitted), to redact from error texts. */
  values(names?: readonly string[]): string[] {
    return [...this.read.entries()].filter(([k, v]) => v.length >= 4 && (!names || names.includes(k))).map(([, v]) => v);
  }

  /** A variable for the exec provider's child environment: every entry of the config's own sources. */
  ownEntries(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, e] of this.entries) if (e.origin !== "the environment") out[k] = e.value;
    return out;
  }
}
