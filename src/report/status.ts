/** `status`: one row per certificate, for people (table) and programs (JSON). Pure rendering. */
import type { Precheck } from "../run/precheck.js";
import { DAY } from "../util/time.js";
import { renderTable, type Colour, type Column, type TableOptions } from "./table.js";

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

const time = (iso: string | null) => iso?.slice(0, 16).replace("T", " ") ?? "-";

/** Green when not due, yellow when due but usable, red when not usable. */
const decisionColour = (r: StatusRow): Colour => (!r.usable ? "red" : r.decision.startsWith("due") ? "yellow" : "green");

const COLUMNS: Column<StatusRow>[] = [
  { header: "NAME", cell: (r) => r.name },
  { header: "NAMES", cell: (r) => r.names.join(",") || "-", drop: 5, flex: true },
  { header: "ISSUER", cell: (r) => r.issuer?.replace(/^.*CN=/, "") ?? "-", drop: 6 },
  { header: "NOT AFTER", cell: (r) => time(r.notAfter) },
  { header: "DAYS", cell: (r) => (r.daysLeft === null ? "-" : String(r.daysLeft)), colour: (r) => (r.daysLeft === null ? null : decisionColour(r)) },
  { header: "DECISION", cell: (r) => r.decision, colour: decisionColour },
  { header: "NEXT RENEWAL", cell: (r) => (r.nextRenewal ? `${time(r.nextRenewal)} (${r.nextRenewalSource})` : "-"), drop: 0 },
  { header: "LAST ATTEMPT", cell: (r) => time(r.lastAttempt), drop: 4 },
  { header: "LAST OUTCOME", cell: (r) => `${r.lastOutcome ?? "-"}${r.hooksPending ? " (hooks owed)" : ""}${r.pendingInstall ? " (issued, not installed)" : ""}`, colour: (r) => (r.lastOutcome === "failure" ? "red" : r.lastOutcome === "soft-failure" ? "yellow" : null), drop: 1 },
  { header: "FAILURES", cell: (r) => String(r.consecutiveFailures), colour: (r) => (r.consecutiveFailures > 0 ? "yellow" : null), drop: 2 },
  { header: "NEXT ATTEMPT", cell: (r) => time(r.nextAttempt), drop: 3 },
];

/** The table: plain and whole, or (a terminal's `width`, `colour`) fitted and coloured. */
export function statusTable(rows: StatusRow[], o: TableOptions = {}): string {
  return renderTable(COLUMNS, rows, o);
}
