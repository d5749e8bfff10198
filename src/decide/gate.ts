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

export function gate(d: Decision, s: CertState, now: Date, force: boolean): Gate {
  if (force) return { action: "renew", forced: true };
  if (!d.renew) return d.ariRefresh ? { action: "ari" } : { action: "skip" };
  const t = now.getTime();
  // A CA's Retry-After binds even without a usable certificate: hammering a rate limit only extends it.
  if (s.retryAfter && s.retryAfter.getTime() > t) return { action: "wait", until: s.retryAfter, why: "retry-after" };
  // Our own backoff only applies while the certificate on disk still serves.
  if (d.usable && s.nextAttemptAt && s.nextAttemptAt.getTime() > t) return { action: "wait", until: s.nextAttemptAt, why: "backoff" };
  return { action: "renew", forced: false };
}
