/**
 * `acme-renew revoke`: the certificate on disk revoked at its CA (RFC 8555 §7.6), then recorded as a
 * state event so that the next run replaces it at once. Signed with the account key, or with the
 * certificate's own key when there is no account (deleted, lost) or for keyCompromise — Let's
 * Encrypt accepts keyCompromise only when the request proves possession of the key. Nothing on
 * disk changes unless the CA revoked it.
 */
import { X509Certificate } from "node:crypto";
import { accountFiles } from "../acme/account-files.js";
import { readAccount } from "../acme/account.js";
import { AcmeFailure, asFailure, describe } from "../acme/errors.js";
import { readTextOrNullAsync } from "../util/read.js";
import type { RevocationReason } from "../acme/reasons.js";
import { revokeCert } from "../acme/revoke.js";
import { AcmeSession, sessionFor } from "../acme/session.js";
import { opContext } from "../acme/transport.js";
import { certIdOrNull } from "../ari/cert-id.js";
import { fetchAri } from "../ari/fetch.js";
import { logAri } from "../ari/log.js";
import type { CertConfig } from "../config/types.js";
import { spkiSha256 } from "../crypto/spki.js";
import { isPlaceholder } from "../inspect/placeholder.js";
import { EXIT, type ExitCode } from "../report/exit.js";
import type { Logger } from "../report/log.js";
import { readState, writeState } from "../state/file.js";
import { apply } from "../state/transitions.js";
import { acquireLock, LockBusy } from "../store/lock.js";
import { certPaths } from "../store/paths.js";
import { SECOND } from "../util/time.js";

export interface RevokeOptions {
  stateDir: string;
  log: Logger;
  now: () => Date;
  reason: RevocationReason;
}

export async function revoke(c: CertConfig, o: RevokeOptions): Promise<ExitCode> {
  const log = o.log.child({ cert: c.name });
  const paths = certPaths(o.stateDir, c.name);
  const [certPem, keyPem] = await Promise.all([readTextOrNullAsync(paths.cert), readTextOrNullAsync(paths.key)]);
  if (certPem === null) {
    log.error("revoke", `no certificate to revoke: ${paths.cert} does not exist`);
    return EXIT.FAILURE;
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (e) {
    log.error("revoke", `${paths.cert}: not a certificate (${(e as Error).message}); nothing revoked`);
    return EXIT.FAILURE;
  }
  if (isPlaceholder(cert)) {
    log.error("revoke", `${paths.cert} is acme-renew's self-signed placeholder, not a certificate of the CA: nothing to revoke`);
    return EXIT.FAILURE;
  }
  const serial = cert.serialNumber.toLowerCase();
  // The state change must not race a run renewing this certificate.
  let lock;
  try {
    lock = await acquireLock(paths.lock, 10 * SECOND);
  } catch (e) {
    log.error("revoke", e instanceof LockBusy ? `another run holds ${e.file} (${e.owner}): nothing revoked, try again when it is done` : `cannot take the lock ${paths.lock}: ${(e as Error).message}; nothing revoked`);
    return EXIT.FAILURE;
  }
  try {
    const signal = AbortSignal.timeout(c.timeout * SECOND);
    const so = sessionFor(c, {
      // Revoking never registers an account: without one, the certificate's key signs.
      acceptTerms: false,
      stateDir: o.stateDir,
      log,
      signal,
      requestTimeoutMs: 30 * SECOND,
      deadlineAt: Date.now() + c.timeout * SECOND,
    });
    const account = await readAccount(accountFiles(o.stateDir, c.server, c.email), c.server);
    const byCertKey = o.reason === "keyCompromise" || !account.keyPem;
    const certKey = keyPem !== null && keyMatches(keyPem, cert) ? keyPem : null;
    if (byCertKey && !certKey) {
      const why = o.reason === "keyCompromise" ? "keyCompromise must be signed with the certificate's key" : `there is no ACME account for ${c.server}${c.email ? ` and ${c.email}` : ""}`;
      log.error("revoke", `${why}, and ${paths.key} ${keyPem === null ? "does not exist" : "does not belong to the certificate"}: nothing revoked`);
      return EXIT.FAILURE;
    }
    let outcome: "revoked" | "already";
    let signer: string;
    try {
      ({ outcome, signer } = await opContext.run({ requests: 0, signal }, async () => {
        if (!byCertKey) {
          try {
            const s = await AcmeSession.open(so);
            return { outcome: await revokeCert(s, Buffer.from(cert.raw), o.reason), signer: `the account ${s.accountUrl}` };
          } catch (e) {
            // Deactivated, or not the account that ordered it: the certificate's key is authorized too.
            if (!(e instanceof AcmeFailure && e.cls === "unauthorized" && certKey)) throw e;
            log.warn("revoke", `the CA refused the account (${describe(e)}); signing with the certificate's key instead`);
          }
        }
        const s = await AcmeSession.withKey(so, certKey!);
        return { outcome: await revokeCert(s, Buffer.from(cert.raw), o.reason), signer: "the certificate's key" };
      }));
    } catch (e) {
      const f = asFailure(e);
      log.error("revoke", `not revoked (${f.cls}): ${describe(f)}; nothing changed`, { class: f.cls });
      return f.cls === "config" ? EXIT.CONFIG : EXIT.FAILURE;
    }
    const at = o.now();
    const { state, problem } = readState(paths.state);
    if (problem) log.warn("state-unusable", problem);
    let s = apply(state, { type: "revoked", at, serial, reason: o.reason, keyFingerprint: o.reason === "keyCompromise" ? spkiSha256(certPem) : null });
    // The CA's renewal window for a revoked certificate (RFC 9773: it asks for an immediate renewal).
    const certId = certIdOrNull(cert.raw);
    if (c.ari && certId) {
      const ari = await fetchAri({ server: c.server, caBundle: c.caBundle, signal: AbortSignal.timeout(15 * SECOND) }, certId, state.ari, at, Math.random());
      logAri(log, ari);
      s = apply(s, { type: "ari-fetched", ari });
    }
    try {
      await writeState(paths.state, s);
    } catch (e) {
      log.error("revoke", `the CA ${outcome === "already" ? "had already revoked" : "revoked"} the certificate (serial ${serial}), but ${paths.state} cannot be written (${(e as Error).message}): run \`acme-renew run ${c.name} --force\` to replace it`);
      return EXIT.FAILURE;
    }
    const note = o.reason === "keyCompromise" ? "; its key is never used again (also with reuseKey)" : "";
    log.notice("revoked", `${outcome === "already" ? "the CA had already revoked" : `revoked (${o.reason}, signed with ${signer})`} the certificate with serial ${serial}; it is due: the next run replaces it${note}`, { serial, reason: o.reason });
    return EXIT.OK;
  } finally {
    await lock.release();
  }
}

function keyMatches(keyPem: string, cert: X509Certificate): boolean {
  try {
    return spkiSha256(keyPem) === spkiSha256(cert.toString());
  } catch {
    return false;
  }
}
