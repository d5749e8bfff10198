/** The per-cert state file's content (versioned). Dates are ISO strings on disk, Date in memory. */
export const STATE_VERSION = 1;

export type Outcome = "renewed" | "synced" | "not-due" | "soft-failure" | "failure" | "placeholder" | "hook-failed";

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

/**
 * What the certificate with `serial` was issued with, recorded when acme-renew installs it. The
 * pre-check compares it with the config (server, profile changed?) and uses it to tell names and a
 * missing chain the CA chose from names the config dropped. Absent for adopted certificates.
 */
export interface IssuedRecord {
  serial: string;
  server: string;
  profile: string | null;
  /** The names ordered (lower-case). */
  names: string[];
  /** The CA sent at least one chain certificate. */
  chain: boolean;
}

/** Reload hooks owed to a certificate that was installed: set by the install, cleared once they succeed. */
export interface HooksPending {
  since: Date;
  /** Failed runs of the hooks so far. */
  attempts: number;
  lastError: string | null;
}

/** The certificate with `serial` was revoked (acme-renew revoke): due at once, until another one is installed. */
export interface RevokedRecord {
  serial: string;
  at: Date;
  /** RFC 5280 reason name (unspecified, keyCompromise, superseded, cessationOfOperation). */
  reason: string;
}

export interface CertState {
  lastAttempt: Date | null;
  lastSuccess: Date | null;
  lastOutcome: Outcome | null;
  lastError: { class: string; message: string } | null;
  /** Failed attempts in a row, of any kind (what alerts count). */
  consecutiveFailures: number;
  /** Of those, the attempts that cost the CA something (it answered, or an order was created). */
  answeredFailures: number;
  /** Earliest time the CA may be contacted again for this cert (cross-run backoff). */
  nextAttemptAt: Date | null;
  /** The latest Retry-After the CA sent with an error: respected whatever the certificate's state. */
  retryAfter: Date | null;
  /** Serial (hex) of a self-signed placeholder we wrote; the cert on disk is a placeholder while it matches. */
  placeholderSerial: string | null;
  ari: AriState | null;
  issued: IssuedRecord | null;
  hooksPending: HooksPending | null;
  /** The certificate on disk was revoked: set by `revoke`, cleared when another certificate is installed. */
  revoked: RevokedRecord | null;
  /** SHA-256 (hex) of the SubjectPublicKeyInfo of keys revoked for keyCompromise: never used again (reuseKey). */
  compromisedKeys: string[];
  /** Cluster mode: serial of a certificate this host issued alone (etcd unreachable) and has not published yet. */
  publishPending: string | null;
}

export function emptyState(): CertState {
  return {
    lastAttempt: null,
    lastSuccess: null,
    lastOutcome: null,
    lastError: null,
    consecutiveFailures: 0,
    answeredFailures: 0,
    nextAttemptAt: null,
    retryAfter: null,
    placeholderSerial: null,
    ari: null,
    issued: null,
    hooksPending: null,
    revoked: null,
    compromisedKeys: [],
    publishPending: null,
  };
}
