/** RFC 8555 §7.6: revokeCert, signed by whatever the session signs with (account URL or the certificate's key). */
import { AcmeFailure, isProblem } from "./errors.js";
import { resource } from "./directory.js";
import { REVOCATION_REASONS, type RevocationReason } from "./reasons.js";
import type { AcmeSession } from "./session.js";

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
