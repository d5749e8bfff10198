/** The per-cert state file's content (versioned). Dates are ISO strings on disk, Date in memory. */
export const STATE_VERSION = 1;

export type Outcome = "renewed" | "not-due" | "soft-failure" | "failure" | "placeholder";

/** What the CA last said about renewing one certificate (RFC 9773), or that it does not say. */
export interface AriState {
  /** The certificate this is about: ignored once another certificate is on disk. */
  certId: string;
  windowStart: Date | null;
  windowEnd: Date | null;
  /** Our random pick inside the window, kept while the window stays the same. */
  selectedTime: Date | null;
  explanationURL: string | null;
  fetchedAt: Date | null;
  /** Do not ask again before this (Retry-After, clamped; 6 h after an error). */
  nextRefreshAt: Date;
  /** The CA's directory has no renewalInfo. */
  unsupported: boolean;
  lastError: string | null;
}

export interface CertState {
  lastAttempt: Date | null;
  lastSuccess: Date | null;
  lastOutcome: Outcome | null;
  lastError: { class: string; message: string } | null;
  consecutiveFailures: number;
  /** Earliest time the CA may be contacted again for this cert (cross-run backoff). */
  nextAttemptAt: Date | null;
  /** A Retry-After the CA imposed (rate limit): respected even when there is no usable certificate. */
  retryAfter: Date | null;
  /** Serial (hex) of a self-signed placeholder we wrote; the cert on disk is a placeholder while it matches. */
  placeholderSerial: string | null;
  ari: AriState | null;
}

export function emptyState(): CertState {
  return {
    lastAttempt: null,
    lastSuccess: null,
    lastOutcome: null,
    lastError: null,
    consecutiveFailures: 0,
    nextAttemptAt: null,
    retryAfter: null,
    placeholderSerial: null,
    ari: null,
  };
}
