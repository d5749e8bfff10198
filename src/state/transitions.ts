/**
 * The per-certificate state machine: `apply(state, event)` is the only way a run changes what
 * state.json says. Pure (no clock, no randomness: both come in the event); the orchestrator
 * (src/run/) applies events as effects happen and writes the result.
 */
import { backoffDelay, unusableDelay } from "../decide/backoff.js";
import type { AriState, CertState, IssuedRecord } from "./model.js";

export type StateEvent =
  /** An attempt to renew failed before a new certificate was installed. */
  | {
      type: "failed";
      at: Date;
      class: string;
      message: string;
      /** The CA's Retry-After with the error, whatever its class. */
      retryAfter: Date | null;
      /** The CA answered (or an order was created): this attempt cost it something. */
      costsCa: boolean;
      /** The certificate on disk still serves: the longer schedule applies. */
      usable: boolean;
      /** Jitter in [0, 1). */
      random: number;
    }
  /** A self-signed placeholder was installed (there was no certificate at all). */
  | { type: "placeholder"; at: Date; serial: string }
  /** The CA issued a certificate; it is kept as pending until it is installed. */
  | { type: "issued"; at: Date }
  /** A CA-issued certificate became current; its reload hooks are now owed. `issued`: null when unknown. */
  | { type: "installed"; at: Date; issued: IssuedRecord | null }
  /** The owed reload hooks ran and at least one failed. */
  | { type: "hook-failed"; at: Date; message: string }
  /** The owed reload hooks ran and all succeeded. */
  | { type: "hooks-ok"; at: Date }
  /** A renewalInfo answer (or the failure to get one) for the certificate on disk. */
  | { type: "ari-fetched"; ari: AriState }
  /**
   * The CA revoked the certificate with `serial` (or said it already was): it is due until another
   * one is installed; `keyFingerprint` (SPKI SHA-256) is set for keyCompromise and never reused.
   */
  | { type: "revoked"; at: Date; serial: string; reason: string; keyFingerprint: string | null }
  /** Cluster mode: the certificate another host published became current (no CA contact); its reload hooks are owed. */
  | { type: "synced"; at: Date; issued: IssuedRecord | null; ari: AriState | null }
  /** Cluster mode: the cluster's renewal state (a failure another host had: backoff, Retry-After) is adopted. */
  | { type: "cluster-backoff"; lastAttempt: Date | null; lastError: { class: string; message: string } | null; consecutiveFailures: number; nextAttemptAt: Date | null; retryAfter: Date | null }
  /** Cluster mode: a certificate issued without etcd is current but not published yet. */
  | { type: "unpublished"; serial: string }
  /** Cluster mode: the certificate with `serial` is in the shared record (or a newer one replaced it). */
  | { type: "published"; serial: string };

const later = (a: Date | null, b: Date | null): Date | null => (a && b ? (a.getTime() >= b.getTime() ? a : b) : (a ?? b));

export function apply(s: CertState, e: StateEvent): CertState {
  switch (e.type) {
    case "failed": {
      const t = e.at.getTime();
      const consecutiveFailures = s.consecutiveFailures + 1;
      const answeredFailures = s.answeredFailures + (e.costsCa ? 1 : 0);
      // A Retry-After binds until it has passed, also when a later error brings none.
      const retryAfter = later(e.retryAfter && e.retryAfter.getTime() > t ? e.retryAfter : null, s.retryAfter && s.retryAfter.getTime() > t ? s.retryAfter : null);
      const delay = e.usable ? backoffDelay(consecutiveFailures, e.random) : e.costsCa ? unusableDelay(answeredFailures) : 0;
      const own = delay > 0 ? new Date(t + delay) : null;
      return {
        ...s,
        lastAttempt: e.at,
        lastOutcome: e.usable ? "soft-failure" : "failure",
        lastError: { class: e.class, message: e.message },
        consecutiveFailures,
        answeredFailures,
        nextAttemptAt: later(own, retryAfter),
        retryAfter,
      };
    }
    case "placeholder":
      return { ...s, placeholderSerial: e.serial, lastOutcome: "placeholder" };
    case "issued":
      // The CA said yes: its side of the backoff starts over (installing may still fail locally).
      return { ...s, lastAttempt: e.at, answeredFailures: 0 };
    case "installed":
      return {
        ...s,
        lastAttempt: e.at,
        lastSuccess: e.at,
        lastOutcome: "renewed",
        lastError: null,
        consecutiveFailures: 0,
        answeredFailures: 0,
        nextAttemptAt: null,
        retryAfter: null,
        placeholderSerial: null,
        ari: null,
        issued: e.issued,
        hooksPending: { since: e.at, attempts: 0, lastError: null },
        revoked: null,
        publishPending: null,
      };
    case "hook-failed":
      return {
        ...s,
        lastOutcome: "hook-failed",
        hooksPending: { since: s.hooksPending?.since ?? e.at, attempts: (s.hooksPending?.attempts ?? 0) + 1, lastError: e.message },
      };
    case "hooks-ok":
      return { ...s, hooksPending: null, lastOutcome: s.lastOutcome === "hook-failed" ? "renewed" : s.lastOutcome };
    case "ari-fetched":
      return { ...s, ari: e.ari };
    case "revoked": {
      const keys = e.keyFingerprint && !s.compromisedKeys.includes(e.keyFingerprint) ? [...s.compromisedKeys, e.keyFingerprint] : s.compromisedKeys;
      // A backoff from failures before the revocation must not hold its replacement back.
      return { ...s, revoked: { serial: e.serial, at: e.at, reason: e.reason }, compromisedKeys: keys, nextAttemptAt: null, consecutiveFailures: 0, answeredFailures: 0 };
    }
    case "synced":
      // Like an install of our own, but nothing was asked of the CA: the cluster's ARI answer is kept.
      return { ...apply(s, { type: "installed", at: e.at, issued: e.issued }), lastOutcome: "synced", ari: e.ari };
    case "cluster-backoff":
      // The cluster's schedule binds this host too: never earlier than what it already had.
      return {
        ...s,
        lastAttempt: later(s.lastAttempt, e.lastAttempt),
        lastOutcome: s.lastOutcome === "renewed" || s.lastOutcome === "synced" || s.lastOutcome === null ? "soft-failure" : s.lastOutcome,
        lastError: e.lastError ?? s.lastError,
        consecutiveFailures: Math.max(s.consecutiveFailures, e.consecutiveFailures),
        nextAttemptAt: later(s.nextAttemptAt, e.nextAttemptAt),
        retryAfter: later(s.retryAfter, e.retryAfter),
      };
    case "unpublished":
      return { ...s, publishPending: e.serial };
    case "published":
      return s.publishPending === null || s.publishPending === e.serial ? { ...s, publishPending: null } : s;
  }
}
