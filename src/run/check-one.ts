/** `check` for one certificate: its pre-check, logged, as the line or JSON object the command prints. */
import { ConfigError } from "../config/errors.js";
import type { ConfigLoader } from "../config/load.js";
import { checkJson, checkLine } from "../report/check.js";
import { EXIT, type ExitCode } from "../report/exit.js";
import type { Logger } from "../report/log.js";
import { precheck, type Precheck } from "./precheck.js";

export interface CheckOneOptions {
  configs: ConfigLoader;
  stateDir: string;
  now: Date;
  log: Logger;
  /** What to make of the pre-check: the line (text), the --json object, or the record itself (the terminal's table). */
  output: "line" | "json" | "record";
  /** No log lines for the facts (the terminal's table shows them). */
  quiet: boolean;
}

export type CheckOutput = string | Record<string, unknown> | Precheck;

/** The exit code and output of one certificate's check; `out` is null after a config error (logged). */
export function checkOne(name: string, o: CheckOneOptions): { code: ExitCode; out: CheckOutput | null } {
  try {
    const p = precheck(o.configs.load(name), o.stateDir, o.now, o.log);
    const d = p.decision;
    const level = !d.usable ? "error" : d.validMinDaysClamped ? "warning" : d.renew ? "notice" : "info";
    if (!o.quiet) o.log.log(level, "check", d.reasons.join("; "), { cert: name, status: d.status, usable: d.usable, not_after: d.notAfter ?? undefined, renew_at: d.renewAt ?? undefined });
    const out = o.output === "json" ? checkJson(p) : o.output === "line" ? checkLine(p) : p;
    return { code: d.usable ? EXIT.OK : EXIT.FAILURE, out };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    o.log.error("config-error", e.message, { cert: name });
    return { code: EXIT.CONFIG, out: null };
  }
}
