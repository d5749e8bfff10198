/** `run` for a certificate that is not due but whose ARI answer is old: ask the CA, store, decide again. */
import { randomInt } from "node:crypto";
import { fetchAri } from "../ari/fetch.js";
import type { Logger } from "../report/log.js";
import { precheck, type Precheck } from "../run/precheck.js";
import { writeState } from "../state/file.js";
import type { AriState } from "../state/model.js";
import { acquireLock, LockBusy } from "../store/lock.js";
import { ensureCertDir } from "../store/install.js";

export function logAri(log: Logger, a: AriState): void {
  if (a.lastError) log.warn("ari-failed", `renewal information unavailable (${a.lastError}); the local policy decides; asking again at ${a.nextRefreshAt.toISOString()}`);
  else if (a.unsupported) log.info("ari-unsupported", "the CA does not offer renewal information (no renewalInfo in its directory)");
  else
    log.info("ari", `CA suggests renewing between ${a.windowStart?.toISOString()} and ${a.windowEnd?.toISOString()}; selected ${a.selectedTime?.toISOString()}${a.explanationURL ? `; see ${a.explanationURL}` : ""}`, {
      next_refresh: a.nextRefreshAt,
    });
}

/** Refreshes the stored ARI answer under the cert's lock; returns the pre-check made with it. */
export async function refreshAri(p: Precheck, stateDir: string, log: Logger, now: () => Date): Promise<Precheck> {
  if (p.inspection.kind !== "present" || !p.inspection.certId) return p;
  let lock;
  try {
    await ensureCertDir(p.paths, null);
    lock = await acquireLock(p.paths.lock, 5_000);
  } catch (e) {
    if (e instanceof LockBusy) log.info("ari-skipped", "another run holds the lock; not asking for renewal information now");
    else log.warn("ari-skipped", `cannot lock ${p.paths.lock}: ${(e as Error).message}`);
    return p;
  }
  try {
    const ari = await fetchAri({ server: p.config.server, caBundle: p.config.caBundle, signal: AbortSignal.timeout(25_000) }, p.inspection.certId, p.state.ari, now(), randomInt(1_000_000) / 1_000_000);
    logAri(log, ari);
    await writeState(p.paths.state, { ...p.state, ari }).catch((e) => log.warn("state-write", `cannot write ${p.paths.state}: ${(e as Error).message}`));
    return precheck(p.config, stateDir, now(), log);
  } finally {
    await lock.release();
  }
}
