/**
 * Startup fast path. `check`, `ready` and `run` are what timers and boots call, many times a day, so they
 * must start about as fast as `node -e 0`. Loading and running yargs costs more than the rest of a
 * pre-check together; this recognises the plain shapes of those two commands without it. Anything
 * else — help, unknown or malformed options, other commands — returns null and goes to yargs,
 * which stays the one definition of the command line (a test asserts both parse alike).
 */
import { HOOK_VAR_NAMES } from "../hooks/env.js";
import type { LogFormat } from "../report/log.js";

export interface FastArgs {
  command: "check" | "ready" | "run";
  names: string[];
  all: boolean;
  json: boolean;
  force: boolean;
  configDir: string;
  stateDir: string;
  logFormat: LogFormat;
  concurrency: number;
}

const VALUE_OPTS: Record<string, "configDir" | "stateDir" | "logFormat"> = {
  "--config-dir": "configDir",
  "--state-dir": "stateDir",
  "--log-format": "logFormat",
};
const FLAG_OPTS: Record<string, "all" | "json" | "force"> = { "--all": "all", "--json": "json", "--force": "force" };
const LOG_FORMATS = ["auto", "journal", "json", "text"];

export function fastParse(argv: string[], env: NodeJS.ProcessEnv): FastArgs | null {
  const a: FastArgs = {
    command: "check",
    names: [],
    all: false,
    json: false,
    force: false,
    configDir: env.ACME_RENEW_CONFIG_DIR || "/etc/acme-renew",
    stateDir: env.ACME_RENEW_STATE_DIR || "/var/lib/acme-renew",
    logFormat: (env.ACME_RENEW_LOG_FORMAT as LogFormat) || "auto",
    concurrency: 4,
  };
  // Other ACME_RENEW_* variables would be options yargs knows and we do not: let yargs handle them.
  // Hook variables (we may be called by a hook) are no options: the parser ignores them too.
  const known: string[] = ["ACME_RENEW_CONFIG_DIR", "ACME_RENEW_STATE_DIR", "ACME_RENEW_LOG_FORMAT", "ACME_RENEW_DEBUG", ...HOOK_VAR_NAMES];
  if (Object.keys(env).some((k) => k.startsWith("ACME_RENEW_") && !known.includes(k))) return null;
  let command: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let inline: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const v = VALUE_OPTS[arg];
    if (v) {
      const val = inline ?? argv[++i];
      if (val === undefined || val === "" || (inline === undefined && val.startsWith("-"))) return null;
      if (v === "logFormat" && !LOG_FORMATS.includes(val)) return null;
      (a as unknown as Record<string, string>)[v] = val;
      continue;
    }
    const f = FLAG_OPTS[arg];
    if (f && inline === undefined) {
      if (f === "force" && command !== "run") return null;
      a[f] = true;
      continue;
    }
    if (arg.startsWith("-")) return null;
    if (command === null) {
      if (arg !== "check" && arg !== "ready" && arg !== "run") return null;
      command = arg;
      continue;
    }
    a.names.push(arg);
  }
  if (command === null) return null;
  if (a.all === (a.names.length > 0)) return null; // neither or both: yargs/the command reports it
  a.command = command as FastArgs["command"];
  if (a.force && a.command !== "run") return null;
  if (a.json && a.command === "ready") return null;
  return a;
}
