/**
 * The network stage of one certificate, entered only when the offline pre-check says so:
 * lock → re-check → ACME order → verify → atomic install → state → hooks.
 */
import { randomInt } from "node:crypto";
import { readFile } from "node:fs/promises";
import { AcmeFailure, describe } from "../acme/errors.js";
import { AcmeSession } from "../acme/session.js";
import { opContext } from "../acme/transport.js";
import { generateKeyPair, importKeyPair, type KeyPair } from "../crypto/keys.js";
import { nextAttemptAfter } from "../decide/backoff.js";
import { runHooks } from "../hooks/run-hooks.js";
import { EXIT } from "../report/exit.js";
import type { Logger } from "../report/log.js";
import { precheck, type Precheck } from "../run/precheck.js";
import type { RunResult } from "../run/result.js";
import { writeState } from "../state/file.js";
import type { CertState } from "../state/model.js";
import { ensureCertDir, install } from "../store/install.js";
import { acquireLock, LockBusy } from "../store/lock.js";
import { allNames } from "../config/types.js";
import { verifyMaterial } from "./verify.js";
import { obtain } from "./obtain.js";

export interface RenewOptions {
  stateDir: string;
  log: Logger;
  now: () => Date;
  force: boolean;
  /** Overall deadline in seconds (overrides the config's timeout). */
  timeout?: number;
  onStage?: (stage: string) => void;
}

async function chooseKey(p: Precheck): Promise<KeyPair> {
  const c = p.config;
  if (c.reuseKey && p.inspection.kind === "present" && p.inspection.keyMatches && p.inspection.keyType === c.keyType) {
    try {
      return await importKeyPair(await readFile(p.paths.key, "utf8"), c.keyType);
    } catch {
      /* fall through to a fresh key */
    }
  }
  return generateKeyPair(c.keyType);
}

function failureState(s: CertState, f: AcmeFailure, now: Date, usable: boolean): CertState {
  const failures = s.consecutiveFailures + 1;
  const retryAfter = f.extra.retryAfter && f.extra.retryAfter.getTime() > now.getTime() ? f.extra.retryAfter : null;
  return {
    ...s,
    lastAttempt: now,
    lastOutcome: usable ? "soft-failure" : "failure",
    lastError: { class: f.cls, message: describe(f) },
    consecutiveFailures: failures,
    nextAttemptAt: nextAttemptAfter(failures, now, randomInt(1_000_000) / 1_000_000, retryAfter),
    retryAfter: f.cls === "rateLimited" ? retryAfter : null,
  };
}

export async function renew(first: Precheck, o: RenewOptions): Promise<RunResult> {
  const c = first.config;
  const log = o.log.child({ cert: c.name });
  const timeoutS = o.timeout ?? c.timeout;
  const deadline = AbortSignal.timeout(timeoutS * 1000);
  await ensureCertDir(first.paths, null).catch(() => {});

  let lock;
  try {
    lock = await acquireLock(first.paths.lock, Math.min(60_000, timeoutS * 1000));
  } catch (e) {
    if (!(e instanceof LockBusy)) throw e;
    const usable = first.decision.usable;
    log.warn("busy", `another run holds ${e.file} (${e.owner}); not renewing now`);
    return { name: c.name, outcome: "busy", code: usable ? EXIT.SOFT_FAILURE : EXIT.FAILURE, message: "busy" };
  }
  try {
    // Another run may have renewed while we waited for the lock.
    const p = precheck(c, o.stateDir, o.now(), log);
    if (!o.force && !p.decision.renew) {
      log.info("not-due", "renewed meanwhile by another run");
      return { name: c.name, outcome: "not-due", code: EXIT.OK, message: p.decision.reasons.join("; ") };
    }
    log.notice("renewing", `renewing: ${o.force ? "forced" : p.decision.reasons.join("; ")}`, { status: p.decision.status });
    const ctx = { last: null, requests: 0, signal: deadline };
    try {
      const material = await opContext.run(ctx, async () => {
        const session = await AcmeSession.open({
          server: c.server,
          caBundle: c.caBundle,
          email: c.email,
          eab: c.eab,
          stateDir: o.stateDir,
          log,
          signal: deadline,
          requestTimeoutMs: 30_000,
        });
        const key = await chooseKey(p);
        return obtain(session, { config: c, key, log, signal: deadline, ...(o.onStage ? { onStage: o.onStage } : {}) });
      });
      const now = o.now();
      const cert = verifyMaterial(material, allNames(c), now);
      let version: string;
      try {
        version = await install(p.paths, material, { keep: c.keepVersions, group: c.group, now });
      } catch (e) {
        throw new AcmeFailure("local", `storing the new certificate in ${p.paths.dir}: ${(e as Error).message}`);
      }
      const notAfter = new Date(cert.validTo);
      const state: CertState = {
        ...p.state,
        lastAttempt: now,
        lastSuccess: now,
        lastOutcome: "renewed",
        lastError: null,
        consecutiveFailures: 0,
        nextAttemptAt: null,
        retryAfter: null,
        placeholderSerial: null,
      };
      await writeState(p.paths.state, state).catch((e) => log.warn("state-write", `cannot write ${p.paths.state}: ${(e as Error).message}`));
      log.notice("renewed", `renewed, valid until ${notAfter.toISOString()}`, { not_after: notAfter, serial: cert.serialNumber.toLowerCase(), version, requests: ctx.requests });
      o.onStage?.(`renewed, valid until ${notAfter.toISOString()}`);
      const hookFailures = await runHooks(c, p.paths, log);
      if (hookFailures.length) {
        return { name: c.name, outcome: "hook-failed", code: EXIT.SOFT_FAILURE, message: hookFailures.map((h) => `${h.hook}: ${h.why}`).join("; "), notAfter };
      }
      return { name: c.name, outcome: "renewed", code: EXIT.OK, message: `valid until ${notAfter.toISOString()}`, notAfter };
    } catch (e) {
      const f = e instanceof AcmeFailure ? e : new AcmeFailure("local", (e as Error)?.message ?? String(e), { cause: e });
      const now = o.now();
      const state = failureState(p.state, f, now, p.decision.usable);
      await writeState(p.paths.state, state).catch((we) => log.warn("state-write", `cannot write ${p.paths.state}: ${(we as Error).message}`));
      const fields = { class: f.cls, problem: f.extra.problem?.type, next_attempt: state.nextAttemptAt ?? undefined, requests: ctx.requests };
      if (p.decision.usable) {
        const msg = `renewal failed (${f.cls}): ${describe(f)}; the current certificate stays in use, valid until ${p.decision.notAfter?.toISOString()}; next attempt at ${state.nextAttemptAt?.toISOString()}`;
        log.warn("soft-failure", msg, { ...fields, not_after: p.decision.notAfter ?? undefined });
        o.onStage?.(`renewal failed, cert valid until ${p.decision.notAfter?.toISOString()}`);
        return { name: c.name, outcome: "soft-failure", code: EXIT.SOFT_FAILURE, message: msg, ...(p.decision.notAfter ? { notAfter: p.decision.notAfter } : {}) };
      }
      const msg = `renewal failed (${f.cls}): ${describe(f)}; no usable certificate (${p.decision.status})`;
      log.error("failure", msg, fields);
      return { name: c.name, outcome: "failure", code: EXIT.FAILURE, message: msg };
    }
  } finally {
    await lock.release();
  }
}
