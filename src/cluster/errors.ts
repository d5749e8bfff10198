/**
 * One error type for the cluster store. The kind decides what happens next: transient kinds are
 * handled like the CA being down (exit 75 while the certificate is valid); the others are
 * configuration or data problems that retrying does not fix.
 */
export type ClusterErrorKind =
  | "unreachable" // no endpoint answered (refused, reset, DNS)
  | "unavailable" // an endpoint answered but cannot serve: no leader, no quorum, leader changed
  | "timeout" // no answer within the per-attempt or overall deadline
  | "tls" // TLS handshake or certificate verification failed
  | "auth" // wrong or missing credentials
  | "permission" // the user's role may not read or write this key
  | "corrupt" // a record read back does not validate (or does not decrypt with the right key)
  | "wrong-key" // a record was sealed with another encryption key
  | "config" // bad endpoint, unreadable or malformed credential/key file
  | "busy" // the lock is held by someone else (after waiting)
  | "lock-lost" // our lease is gone: a fenced write would be refused
  | "protocol"; // an answer we do not understand

const TRANSIENT: ReadonlySet<ClusterErrorKind> = new Set(["unreachable", "unavailable", "timeout"]);

export class ClusterError extends Error {
  constructor(
    readonly kind: ClusterErrorKind,
    message: string,
    readonly extra: { key?: string; endpoint?: string; cause?: unknown } = {},
  ) {
    super(message);
    this.name = "ClusterError";
  }
  /** Worth trying again (another endpoint now, or a later run). */
  get transient(): boolean {
    return TRANSIENT.has(this.kind);
  }
}

export const isClusterError = (e: unknown, kind?: ClusterErrorKind): e is ClusterError =>
  e instanceof ClusterError && (kind === undefined || e.kind === kind);
