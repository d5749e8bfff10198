/** `run` for one certificate: offline pre-check and gate first; the network stage is loaded only when needed. */
import type { CertConfig } from "../config/types.js";
import { gate } from "../decide/gate.js";
import { EXIT } from "../report/exit.js";
import type { Logger } from "../report/log.js";
import { precheck } from "./precheck.js";
import type { RunResult } from "./result.js";
import type { Notifier } from "../systemd/notify.js";

export interface RunOptions {
  stateDir: string;
  log: Logger;
  now: () => Date;
  force: boolean;
  timeout?: number;
  /** sd_notify (a no-op outside systemd). */
  notify?: Notifier;
}

export async function runOne(config: CertConfig, o: RunOptions): Promise<RunResult> {
  const log = o.log.child({ cert: config.name });
  let p = precheck(config, o.stateDir, o.now(), log);
  let g = gate(p.decision, p.state, o.now(), o.force);
  if (g.action === "ari" && !p.decision.clockUntrusted) {
    // The one reason to contact the CA before a renewal is due. It never changes the exit code by itself.
    const { refreshAri } = await import("../renew/ari-refresh.js");
    p = await refreshAri(p, o.stateDir, log, o.now);
    g = gate(p.decision, p.state, o.now(), o.force);
    if (g.action === "ari") g = { action: "skip" };
  }
  if (p.decision.clockUntrusted) {
    log.warn("clock", p.decision.reasons.join("; "));
    return { name: config.name, outcome: "waiting", code: EXIT.SOFT_FAILURE, message: p.decision.reasons.join("; ") };
  }
  if (g.action === "skip") {
    log.info("not-due", p.decision.reasons.join("; "), { status: p.decision.status, renew_at: p.decision.renewAt ?? undefined });
    return { name: config.name, outcome: "not-due", code: EXIT.OK, message: p.decision.reasons.join("; "), ...(p.decision.notAfter ? { notAfter: p.decision.notAfter } : {}) };
  }
  if (g.action === "wait") {
    const what = g.why === "retry-after" ? "the CA asked us to wait (Retry-After)" : `backing off after ${p.state.consecutiveFailures} failed attempt(s)`;
    const msg = `${p.decision.reasons.join("; ")}; ${what}: next attempt at ${g.until.toISOString()}${p.state.lastError ? ` (last error ${p.state.lastError.class}: ${p.state.lastError.message})` : ""}`;
    if (p.decision.usable) log.warn("backoff", msg, { next_attempt: g.until, not_after: p.decision.notAfter ?? undefined });
    else log.error("backoff", msg, { next_attempt: g.until, status: p.decision.status });
    return { name: config.name, outcome: "waiting", code: p.decision.usable ? EXIT.SOFT_FAILURE : EXIT.FAILURE, message: msg };
  }
  const { renew } = await import("../renew/renew.js");
  return renew(p, o);
}
