/** RFC 8555 §7.6: revokeCert, signed by whatever the session signs with (account URL or the certificate's key). */
import { AcmeFailure, isProblem } from "./errors.js";
import { resource } from "./directory.js";
import type { AcmeSession } from "./session.js";

/** RFC 5280 §5.3.1 CRLReason codes of the reasons a subscriber may give (Let's Encrypt's list). */
export const REVOCATION_REASONS = { unspecified: 0, keyCompromise: 1, superseded: 4, cessationOfOperation: 5 } as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

/**
 * Asks the CA to revoke `certDer`. "already" when the CA says it already is (a repeated revoke, or
 * an answer lost before): the outcome the caller wanted. Retried like any request that may be repeated.
 */
export async function revokeCert(s: AcmeSession, certDer: Buffer, reason: RevocationReason): Promise<"revoked" | "already"> {
  const url = resource(s.directory, s.opts.server, "revokeCert");
  try {
    await s.post("revokeCert", url, { certificate: certDer.toString("base64url"), reason: REVOCATION_REASONS[reason] });
    return "revoked";
  } catch (e) {
    if (e instanceof AcmeFailure && isProblem(e, "alreadyRevoked")) return "already";
    throw e;
  }
}
