/**
 * Before the CA is asked: can the certificate be stored with its `group`? An unknown group is a
 * config error (78) found now, not after issuance; a lookup that fails (an NSS source not up yet)
 * is a local failure of this attempt (75 while the certificate in place is usable, else 1).
 */
import { EXIT, type ExitCode } from "../report/exit.js";
import type { Logger } from "../report/log.js";
import type { Precheck } from "./precheck.js";
import type { RunResult } from "./result.js";
import { gidOf, UnknownGroup } from "../store/group.js";

/** `failCode`: the exit code of a failed attempt for this certificate (1, or 3 while a placeholder serves). */
export async function groupProblem(p: Precheck, log: Logger, failCode: ExitCode): Promise<RunResult | null> {
  const c = p.config;
  if (!c.group) return null;
  try {
    await gidOf(c.group);
    return null;
  } catch (e) {
    const why = (e as Error).message;
    if (e instanceof UnknownGroup) {
      const msg = `config ${c.file}: group: ${why}; not asking the CA for a certificate that could not be stored`;
      log.error("config-error", msg);
      return { name: c.name, outcome: "config-error", code: EXIT.CONFIG, message: msg };
    }
    const usable = p.decision.usable;
    const msg = `${why}; not renewing now${usable ? `, the current certificate stays in use` : ""}`;
    log.log(usable ? "warning" : "error", "group-lookup", msg);
    return { name: c.name, outcome: usable ? "soft-failure" : "failure", code: usable ? EXIT.SOFT_FAILURE : failCode, message: msg };
  }
}
