/** Renders pre-check results for people (table) and programs (--json). */
import type { Precheck } from "../run/precheck.js";

export function checkJson(p: Precheck): Record<string, unknown> {
  const f = p.inspection.kind === "present" ? p.inspection : null;
  return {
    name: p.config.name,
    status: p.decision.status,
    usable: p.decision.usable,
    renew: p.decision.renew,
    dueReasons: p.decision.dueReasons,
    reasons: p.decision.reasons,
    names: f?.names ?? null,
    keyType: f?.keyType ?? null,
    notBefore: f?.notBefore.toISOString() ?? null,
    notAfter: f?.notAfter.toISOString() ?? null,
    renewAt: p.decision.renewAt?.toISOString() ?? null,
    renewAtSource: p.decision.renewAtSource,
    ari: ariJson(p),
    issuer: f?.issuer ?? null,
    serial: f?.serialHex ?? null,
    consecutiveFailures: p.state.consecutiveFailures,
    nextAttemptAt: p.state.nextAttemptAt?.toISOString() ?? null,
    hooksPending: p.state.hooksPending !== null,
  };
}

export function checkLine(p: Precheck): string {
  const d = p.decision;
  return `${p.config.name}\t${d.status}\t${d.usable ? "usable" : "NOT USABLE"}\t${d.reasons.join("; ")}`;
}

function ariJson(p: Precheck): Record<string, unknown> | null {
  const a = p.state.ari;
  const f = p.inspection.kind === "present" ? p.inspection : null;
  if (!a || !f || a.certId !== f.certId) return null;
  return {
    certId: a.certId,
    windowStart: a.windowStart?.toISOString() ?? null,
    windowEnd: a.windowEnd?.toISOString() ?? null,
    selectedTime: a.selectedTime?.toISOString() ?? null,
    explanationURL: a.explanationURL,
    fetchedAt: a.fetchedAt?.toISOString() ?? null,
    nextRefreshAt: a.nextRefreshAt.toISOString(),
    unsupported: a.unsupported,
    lastError: a.lastError,
  };
}

