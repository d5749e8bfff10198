/** Whether a run may contact the CA now, given the decision and the stored backoff. Pure. */
import type { CertState } from "../state/model.js";
import type { Decision } from "./decide.js";

export type Gate =
  | { action: "skip" }
  /** Not due, but the stored ARI answer is missing or old: ask the CA, then decide again. */
  | { action: "ari" }
  | { action: "renew"; forced: boolean }
  /** Due, but inside the backoff period (or a CA's Retry-After): do not contact the CA. */
  | { action: "wait"; until: Date; why: "backoff" | "retry-after" };

/** Our own backoff never exceeds 24 h; a stored time further out was written by a wrong clock. */
const MAX_BACKOFF_MS = 24 * 3_600_000;
/** Longest Retry-After we keep honouring (rate limits are hours, at most days). */
const MAX_RETRY_AFTER_MS = 7 * 24 * 3_600_000;

export function gate(d: Decision, s: CertState, now: Date, force: boolean): Gate {
  if (force) return { action: "renew", forced: true };
  if (!d.renew) return d.ariRefresh ? { action: "ari" } : { action: "skip" };
  const t = now.getTime();
  // A last attempt "in the future" means the clock was wrong then (or is now going backwards):
  // the times stored with it are not to be trusted, so they must not hold a due renewal back.
  if (s.lastAttempt && s.lastAttempt.getTime() > t) return { action: "renew", forced: false };
  // A CA's Retry-After binds even without a usable certificate: hammering a rate limit only extends it.
  if (s.retryAfter && s.retryAfter.getTime() > t && s.retryAfter.getTime() - t <= MAX_RETRY_AFTER_MS) return { action: "wait", until: s.retryAfter, why: "retry-after" };
  // Our own backoff only applies while the certificate on disk still serves.
  if (d.usable && s.nextAttemptAt && s.nextAttemptAt.getTime() > t && s.nextAttemptAt.getTime() - t <= MAX_BACKOFF_MS)
    return { action: "wait", until: s.nextAttemptAt, why: "backoff" };
  return { action: "renew", forced: false };
}
