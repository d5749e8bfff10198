/** `status`: one row per certificate, for people (table) and programs (JSON). Pure rendering. */
import type { Precheck } from "../run/precheck.js";
import { DAY } from "../util/time.js";

export interface StatusRow {
  name: string;
  names: string[];
  issuer: string | null;
  notAfter: string | null;
  daysLeft: number | null;
  decision: string;
  usable: boolean;
  nextRenewal: string | null;
  nextRenewalSource: "local" | "ari" | null;
  ariWindow: { start: string | null; end: string | null } | null;
  lastAttempt: string | null;
  lastSuccess: string | null;
  lastOutcome: string | null;
  lastError: string | null;
  consecutiveFailures: number;
  nextAttempt: string | null;
  /** Reload hooks of the installed certificate are owed (they failed, or the run died before them). */
  hooksPending: boolean;
  /** A certificate the CA issued waits in pending.json to be installed by the next run. */
  pendingInstall: { serial: string | null; issuedAt: string; installable: boolean } | null;
}

const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;
const later = (a: Date | null, b: Date | null) => (a && b ? (a > b ? a : b) : (a ?? b));

export function statusRow(p: Precheck, now: Date): StatusRow {
  const f = p.inspection.kind === "present" ? p.inspection : null;
  const d = p.decision;
  const s = p.state;
  return {
    name: p.config.name,
    names: f?.names ?? [],
    issuer: f?.issuer ?? null,
    notAfter: iso(f?.notAfter),
    daysLeft: f ? Math.floor((f.notAfter.getTime() - now.getTime()) / DAY) : null,
    decision: d.status === "due" ? `due (${d.dueReasons.join(", ")})` : d.status,
    usable: d.usable,
    nextRenewal: iso(d.renewAt),
    nextRenewalSource: d.renewAtSource,
    ariWindow: d.ari ? { start: iso(d.ari.windowStart), end: iso(d.ari.windowEnd) } : null,
    lastAttempt: iso(s.lastAttempt),
    lastSuccess: iso(s.lastSuccess),
    lastOutcome: s.lastOutcome,
    lastError: s.lastError ? `${s.lastError.class}: ${s.lastError.message}` : null,
    consecutiveFailures: s.consecutiveFailures,
    nextAttempt: iso(later(s.nextAttemptAt, s.retryAfter)),
    hooksPending: s.hooksPending !== null,
    pendingInstall: p.pending ? { serial: p.pending.facts.kind === "present" ? p.pending.facts.serialHex : null, issuedAt: p.pending.pending.at.toISOString(), installable: p.pending.ok } : null,
  };
}

const COLUMNS: Array<[string, (r: StatusRow) => string]> = [
  ["NAME", (r) => r.name],
  ["NAMES", (r) => r.names.join(",") || "-"],
  ["ISSUER", (r) => r.issuer?.replace(/^.*CN=/, "") ?? "-"],
  ["NOT AFTER", (r) => r.notAfter?.slice(0, 16).replace("T", " ") ?? "-"],
  ["DAYS", (r) => (r.daysLeft === null ? "-" : String(r.daysLeft))],
  ["DECISION", (r) => r.decision],
  ["NEXT RENEWAL", (r) => (r.nextRenewal ? `${r.nextRenewal.slice(0, 16).replace("T", " ")} (${r.nextRenewalSource})` : "-")],
  ["LAST ATTEMPT", (r) => r.lastAttempt?.slice(0, 16).replace("T", " ") ?? "-"],
  ["LAST OUTCOME", (r) => `${r.lastOutcome ?? "-"}${r.hooksPending ? " (hooks owed)" : ""}${r.pendingInstall ? " (issued, not installed)" : ""}`],
  ["FAILURES", (r) => String(r.consecutiveFailures)],
  ["NEXT ATTEMPT", (r) => r.nextAttempt?.slice(0, 16).replace("T", " ") ?? "-"],
];

export function statusTable(rows: StatusRow[]): string {
  const cells = [COLUMNS.map(([h]) => h), ...rows.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}
