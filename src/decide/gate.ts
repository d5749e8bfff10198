/** Whether a run may contact the CA now, given the decision and the stored backoff. Pure. */
import type { CertState } from "../state/model.js";
import { MAX_BACKOFF_MS, MAX_RETRY_AFTER_MS, UNUSABLE_MAX_MS } from "./backoff.js";
import type { Decision } from "./decide.js";

export type Gate =
  | { action: "skip" }
  /** Not due, but the stored ARI answer is missing or old: ask the CA, then decide again. */
  | { action: "ari" }
  | { action: "renew"; forced: boolean }
  /** Due, but inside the backoff period (or a CA's Retry-After): do not contact the CA. */
  | { action: "wait"; until: Date; why: "backoff" | "retry-after" };

/**
 * `pending`: a certificate the CA already issued waits on disk to be installed; installing it needs
 * no CA, so no backoff holds it back.
 */
export function gate(d: Decision, s: CertState, now: Date, force: boolean, pending = false): Gate {
  if (d.clockUntrusted) return { action: "skip" };
  if (force || pending) return { action: "renew", forced: force };
  if (!d.renew) return d.ariRefresh ? { action: "ari" } : { action: "skip" };
  const t = now.getTime();
  // A last attempt "in the future" means the clock was wrong then (or is now going backwards):
  // the times stored with it are not to be trusted, so they must not hold a due renewal back.
  if (s.lastAttempt && s.lastAttempt.getTime() > t) return { action: "renew", forced: false };
  // A CA's Retry-After binds whatever the certificate's state: hammering a rate limit only extends it.
  if (s.retryAfter && s.retryAfter.getTime() > t && s.retryAfter.getTime() - t <= MAX_RETRY_AFTER_MS) return { action: "wait", until: s.retryAfter, why: "retry-after" };
  const next = s.nextAttemptAt?.getTime() ?? 0;
  if (d.usable) {
    // Our own backoff never exceeds 24 h: a time further out was stored by a wrong clock.
    if (next > t && next - t <= MAX_BACKOFF_MS) return { action: "wait", until: new Date(next), why: "backoff" };
    return { action: "renew", forced: false };
  }
  // Without a usable certificate no wait is longer than the short schedule's cap after the last
  // attempt, also when it was stored while the certificate still served (and it has expired since).
  const until = Math.min(next, (s.lastAttempt?.getTime() ?? t) + UNUSABLE_MAX_MS);
  if (until > t) return { action: "wait", until: new Date(until), why: "backoff" };
  return { action: "renew", forced: false };
}
