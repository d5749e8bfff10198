/** Reads (tolerantly) and writes (atomically) the per-cert state file. */
import { STATE_VERSION, emptyState, type CertState, type Outcome } from "./model.js";
import { writeFileAtomic } from "../store/atomic.js";
import { readTextOrNull } from "../util/read.js";

export interface StateRead {
  state: CertState;
  /** Set when the file existed but could not be used: the caller logs it, then carries on with empty state. */
  problem: string | null;
}

const date = (v: unknown): Date | null => {
  if (typeof v !== "string") return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
};
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const OUTCOMES: Outcome[] = ["renewed", "synced", "not-due", "soft-failure", "failure", "placeholder", "hook-failed"];
const count = (v: unknown): number => (Number.isInteger(v) && (v as number) >= 0 ? (v as number) : 0);
const obj = (v: unknown): Record<string, unknown> | null => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

export function parseState(text: string): CertState {
  const o = JSON.parse(text) as Record<string, unknown>;
  if (typeof o !== "object" || o === null) throw new Error("not a JSON object");
  if (typeof o.version === "number" && o.version > STATE_VERSION) throw new Error(`written by a newer version (state version ${o.version})`);
  const s = emptyState();
  s.lastAttempt = date(o.lastAttempt);
  s.lastSuccess = date(o.lastSuccess);
  s.lastOutcome = OUTCOMES.includes(o.lastOutcome as Outcome) ? (o.lastOutcome as Outcome) : null;
  const le = o.lastError as Record<string, unknown> | undefined;
  s.lastError = le && typeof le === "object" && str(le.class) && str(le.message) ? { class: le.class as string, message: le.message as string } : null;
  s.consecutiveFailures = count(o.consecutiveFailures);
  // Written before answeredFailures existed: every failure counted.
  s.answeredFailures = o.answeredFailures === undefined ? s.consecutiveFailures : Math.min(count(o.answeredFailures), s.consecutiveFailures);
  s.nextAttemptAt = date(o.nextAttemptAt);
  s.retryAfter = date(o.retryAfter);
  s.placeholderSerial = str(o.placeholderSerial);
  const a = o.ari as Record<string, unknown> | null | undefined;
  const next = a && typeof a === "object" ? date(a.nextRefreshAt) : null;
  if (a && typeof a === "object" && str(a.certId) && next) {
    s.ari = {
      certId: a.certId as string,
      windowStart: date(a.windowStart),
      windowEnd: date(a.windowEnd),
      selectedTime: date(a.selectedTime),
      explanationURL: str(a.explanationURL),
      fetchedAt: date(a.fetchedAt),
      nextRefreshAt: next,
      unsupported: a.unsupported === true,
      lastError: str(a.lastError),
    };
  }
  const i = obj(o.issued);
  if (i && str(i.serial) && str(i.server) && Array.isArray(i.names) && i.names.every((n) => typeof n === "string")) {
    s.issued = { serial: i.serial as string, server: i.server as string, profile: str(i.profile), names: i.names as string[], chain: i.chain !== false };
  }
  const h = obj(o.hooksPending);
  const since = h ? date(h.since) : null;
  if (h && since) s.hooksPending = { since, attempts: count(h.attempts), lastError: str(h.lastError) };
  const rv = obj(o.revoked);
  const rvAt = rv ? date(rv.at) : null;
  if (rv && rvAt && str(rv.serial) && str(rv.reason)) s.revoked = { serial: rv.serial as string, at: rvAt, reason: rv.reason as string };
  if (Array.isArray(o.compromisedKeys)) s.compromisedKeys = o.compromisedKeys.filter((k): k is string => typeof k === "string" && /^[0-9a-f]{64}$/.test(k));
  s.publishPending = str(o.publishPending);
  return s;
}

export function readState(file: string): StateRead {
  let text: string | null;
  try {
    text = readTextOrNull(file);
  } catch (e) {
    return { state: emptyState(), problem: `cannot read ${file} (${(e as NodeJS.ErrnoException).code}); using empty state` };
  }
  if (text === null) return { state: emptyState(), problem: null };
  try {
    return { state: parseState(text), problem: null };
  } catch (e) {
    return { state: emptyState(), problem: `state file ${file} is unusable (${(e as Error).message}); using empty state` };
  }
}

export function serializeState(s: CertState): string {
  return `${JSON.stringify({ version: STATE_VERSION, ...s }, null, 2)}\n`;
}

export async function writeState(file: string, s: CertState): Promise<void> {
  await writeFileAtomic(file, serializeState(s), 0o640);
}
