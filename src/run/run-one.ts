/**
 * `run` for one certificate: offline pre-check and gate first; the network stage, the ARI refresh
 * and the retry of owed reload hooks are loaded only when needed.
 */
import type { CertConfig } from "../config/types.js";
import { gate, type Gate } from "../decide/gate.js";
import type { Logger } from "../report/log.js";
import { EXIT, worst, type ExitCode } from "../report/exit.js";
import { precheck, type Precheck } from "./precheck.js";
import type { RunOptions, RunResult } from "./result.js";

export type { RunOptions } from "./result.js";

/** Exit code of a run that does not renew now: 75 while the certificate serves, 3 for a placeholder, else 1. */
function holdCode(p: Precheck): ExitCode {
  if (p.decision.usable) return EXIT.SOFT_FAILURE;
  return p.inspection.kind === "present" && p.decision.dueReasons.includes("placeholder") ? EXIT.PLACEHOLDER : EXIT.FAILURE;
}

export async function runOne(config: CertConfig, o: RunOptions): Promise<RunResult> {
  const log = o.log.child({ cert: config.name });
  let p = precheck(config, o.stateDir, o.now(), log);
  clampedWarning(p, log);
  let g = gate(p.decision, p.state, o.now(), o.force, !!p.pending?.ok);
  if (g.action === "ari") {
    // The one reason to contact the CA before a renewal is due, bounded in time. It never changes the exit code by itself.
    const { refreshAri } = await import("./ari-refresh.js");
    p = await refreshAri(p, o, log);
    g = gate(p.decision, p.state, o.now(), o.force, !!p.pending?.ok);
    if (g.action === "ari") g = { action: "skip" };
  }
  if (mustRenew(p, g)) return (await import("./renew-flow.js")).renewFlow(p, o);
  const held = hold(p, g as Exclude<Gate, { action: "ari" | "renew" }>, log);
  // Not renewing now: reload hooks still owed from an earlier install run again, until they succeed.
  if (p.decision.clockUntrusted || !p.state.hooksPending) return held;
  const hooks = await (await import("./hooks-retry.js")).retryHooks(p, o, log);
  if (!hooks) return held;
  if (held.code === EXIT.OK) return { ...hooks, ...(held.notAfter ? { notAfter: held.notAfter } : {}) };
  return { ...held, code: worst([held.code, hooks.code]), message: `${held.message}; ${hooks.message}` };
}

/**
 * The whole of `run` for a certificate that needs nothing but its files now (no renewal, no ARI
 * refresh, no owed hooks, nothing owed to the cluster): its result, logged. Null when runOne must
 * go on; what the pre-check logged then (an unusable state.json, say) is the caller's to drop, as
 * runOne logs it again — the fan-out's jobs (run/fanout-jobs.ts) do.
 */
export function runOffline(config: CertConfig, o: RunOptions): RunResult | null {
  const log = o.log.child({ cert: config.name });
  const p = precheck(config, o.stateDir, o.now(), log);
  const g = gate(p.decision, p.state, o.now(), o.force, !!p.pending?.ok);
  if (g.action === "ari" || mustRenew(p, g) || (!p.decision.clockUntrusted && p.state.hooksPending)) return null;
  clampedWarning(p, log);
  return hold(p, g as Exclude<Gate, { action: "ari" | "renew" }>, log);
}

// Once per run: the reasons of every later line say it too.
function clampedWarning(p: Precheck, log: Logger): void {
  if (p.decision.validMinDaysClamped) log.warn("valid-min-days", `${p.config.file}: ${p.decision.reasons.find((r) => r.startsWith("validMinDays"))}`);
}

/** A renewal now, or (cluster mode) a certificate issued while etcd was unreachable, owed to the cluster (state.json says so, offline). */
function mustRenew(p: Precheck, g: Gate): boolean {
  if (p.decision.clockUntrusted) return false;
  return g.action === "renew" || (g.action === "skip" && !!p.config.cluster && !!p.state.publishPending);
}

/** The result, logged, of not renewing now: not due, waiting out a backoff, or a clock not to be trusted. */
function hold(p: Precheck, g: Exclude<Gate, { action: "ari" | "renew" }>, log: Logger): RunResult {
  const name = p.config.name;
  if (p.decision.clockUntrusted) {
    const msg = p.decision.reasons.join("; ");
    log.log(p.decision.usable ? "warning" : "error", "clock", msg);
    return { name, outcome: "waiting", code: holdCode(p), message: msg };
  }
  if (g.action === "skip") {
    log.info("not-due", p.decision.reasons.join("; "), { status: p.decision.status, renew_at: p.decision.renewAt ?? undefined });
    return { name, outcome: "not-due", code: EXIT.OK, message: p.decision.reasons.join("; "), ...(p.decision.notAfter ? { notAfter: p.decision.notAfter } : {}) };
  }
  const what = g.why === "retry-after" ? "the CA asked us to wait (Retry-After)" : `backing off after ${p.state.consecutiveFailures} failed attempt(s)`;
  const msg = `${p.decision.reasons.join("; ")}; ${what}: next attempt at ${g.until.toISOString()}${p.state.lastError ? ` (last error ${p.state.lastError.class}: ${p.state.lastError.message})` : ""}`;
  if (p.decision.usable) log.warn("backoff", msg, { next_attempt: g.until, not_after: p.decision.notAfter ?? undefined });
  else log.error("backoff", msg, { next_attempt: g.until, status: p.decision.status });
  return { name, outcome: "waiting", code: holdCode(p), message: msg };
}
