/**
 * `run` for a certificate that is not due but whose stored ARI answer is old: ask the CA within a
 * short budget, then record the answer under the cert's lock, into the state as it is then (a
 * concurrent `run --force` may have written it meanwhile). A boot-time run is delayed by at most the
 * budget, CA down or not; an answer that takes longer counts as an ARI failure (asked again in 6 h).
 */
import { randomInt } from "node:crypto";
import { fetchAri } from "../ari/fetch.js";
import { logAri } from "../ari/log.js";
import type { Logger } from "../report/log.js";
import { readState, writeState } from "../state/file.js";
import { apply } from "../state/transitions.js";
import { inspect } from "../inspect/read.js";
import { acquireLock, LockBusy } from "../store/lock.js";
import { precheck, type Precheck } from "./precheck.js";
import type { RunOptions } from "./result.js";

/** Longest a not-due run waits for the CA's renewalInfo (fetch, lock and state write together). */
export const ARI_REFRESH_BUDGET_MS = 800;
/** Of the budget, what the lock wait gets at least. */
const MIN_LOCK_WAIT_MS = 50;

export async function refreshAri(p: Precheck, o: RunOptions, log: Logger): Promise<Precheck> {
  if (p.inspection.kind !== "present" || !p.inspection.certId) return p;
  const certId = p.inspection.certId;
  const end = performance.now() + ARI_REFRESH_BUDGET_MS;
  const signal = AbortSignal.timeout(ARI_REFRESH_BUDGET_MS);
  let ari = await fetchAri({ server: p.config.server, caBundle: p.config.caBundle, signal }, certId, p.state.ari, o.now(), randomInt(1_000_000) / 1_000_000);
  if (signal.aborted && ari.lastError && /abort|deadline reached/i.test(ari.lastError)) ari = { ...ari, lastError: `no answer within ${ARI_REFRESH_BUDGET_MS} ms (a not-due run waits no longer)` };
  logAri(log, ari);
  let lock;
  try {
    lock = await acquireLock(p.paths.lock, Math.max(MIN_LOCK_WAIT_MS, end - performance.now()));
  } catch (e) {
    if (e instanceof LockBusy) log.info("ari-skipped", "another run holds the lock; not recording the renewal information now");
    else log.warn("ari-skipped", `cannot lock ${p.paths.lock}: ${(e as Error).message}`);
    return p;
  }
  try {
    // Read under the lock: the answer goes into the state as it is now, and only while the
    // certificate it is about is still the one on disk.
    const now = inspect(p.paths);
    if (now.kind !== "present" || now.certId !== certId) {
      log.info("ari-skipped", "the certificate changed meanwhile; its renewal information is not recorded");
    } else {
      const { state } = readState(p.paths.state);
      await writeState(p.paths.state, apply(state, { type: "ari-fetched", ari })).catch((e) => log.warn("state-write", `cannot write ${p.paths.state}: ${(e as Error).message}`));
    }
    return precheck(p.config, o.stateDir, o.now(), log);
  } finally {
    await lock.release();
  }
}
