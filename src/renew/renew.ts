/**
 * The network stage of one certificate, entered only when the offline pre-check says so:
 * lock → re-check → preflight → ACME order (retries, deadline) → verify → atomic install → state → hooks.
 * A failure never touches the certificate on disk; with none on disk, a placeholder may be written.
 */
import { randomInt } from "node:crypto";
import { readFile } from "node:fs/promises";
import { AcmeFailure, describe } from "../acme/errors.js";
import { AcmeSession } from "../acme/session.js";
import { opContext, type OpContext } from "../acme/transport.js";
import { allNames } from "../config/types.js";
import { generateKeyPair, importKeyPair, type KeyPair } from "../crypto/keys.js";
import { nextAttemptAfter } from "../decide/backoff.js";
import { runHooks } from "../hooks/run-hooks.js";
import { preflight, summarize } from "../preflight/preflight.js";
import { EXIT } from "../report/exit.js";
import type { Logger } from "../report/log.js";
import { precheck, type Precheck } from "../run/precheck.js";
import type { RunResult } from "../run/result.js";
import type { RunOptions } from "../run/run-one.js";
import { writeState } from "../state/file.js";
import type { CertState } from "../state/model.js";
import { ensureCertDir, install } from "../store/install.js";
import { acquireLock, LockBusy } from "../store/lock.js";
import { BUILD_TIME } from "../util/build-info.js";
import { groupProblem } from "./group-check.js";
import { installPlaceholder } from "./placeholder.js";
import { certIdOrNull } from "../ari/cert-id.js";
import { fetchAri, renewalInfoUrl } from "../ari/fetch.js";
import { logAri } from "./ari-refresh.js";
import { obtain } from "./obtain.js";
import { verifyMaterial } from "./verify.js";

export type RenewOptions = RunOptions & { onStage?: (stage: string) => void };

const REQUEST_TIMEOUT_MS = 30_000;

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

function successState(s: CertState, now: Date): CertState {
  return { ...s, lastAttempt: now, lastSuccess: now, lastOutcome: "renewed", lastError: null, consecutiveFailures: 0, nextAttemptAt: null, retryAfter: null, placeholderSerial: null, ari: null };
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

/** The certID for newOrder's `replaces`: a real certificate on disk, ARI on, and a CA that offers ARI. */
async function replacesFor(p: Precheck, signal: AbortSignal, log: Logger): Promise<string | undefined> {
  const f = p.inspection;
  if (!p.config.ari || f.kind !== "present" || !f.certId || p.decision.dueReasons.includes("placeholder")) return undefined;
  try {
    return (await renewalInfoUrl({ server: p.config.server, caBundle: p.config.caBundle, signal })) ? f.certId : undefined;
  } catch (e) {
    log.debug("replaces", `no replaces: ${(e as Error).message}`);
    return undefined;
  }
}

/** Obtains, verifies and installs a new certificate; returns its notAfter. */
async function issue(p: Precheck, o: RenewOptions, log: Logger, ctx: OpContext, deadlineAt: number, networkDown: boolean): Promise<{ notAfter: Date; serial: string; version: string; certId: string | null }> {
  const c = p.config;
  const material = await opContext.run(ctx, async () => {
    const session = await AcmeSession.open({
      server: c.server,
      caBundle: c.caBundle,
      email: c.email,
      eab: c.eab,
      stateDir: o.stateDir,
      log,
      signal: ctx.signal!,
      requestTimeoutMs: Math.min(REQUEST_TIMEOUT_MS, Math.max(1000, deadlineAt - Date.now())),
      deadlineAt,
      networkDown,
    });
    const key = await chooseKey(p);
    const replaces = await replacesFor(p, ctx.signal!, log);
    return obtain(session, { config: c, key, log, signal: ctx.signal!, ...(replaces ? { replaces } : {}), ...(o.onStage ? { onStage: o.onStage } : {}) });
  });
  const now = o.now();
  const cert = verifyMaterial(material, allNames(c), now);
  try {
    const version = await install(p.paths, material, { keep: c.keepVersions, group: c.group, now, warn: (m) => log.warn("store", m) });
    return { notAfter: new Date(cert.validTo), serial: cert.serialNumber.toLowerCase(), version, certId: certIdOrNull(cert.raw) };
  } catch (e) {
    throw new AcmeFailure("local", `storing the new certificate in ${p.paths.dir}: ${(e as Error).message}`, { cause: e });
  }
}

export async function renew(first: Precheck, opts: RunOptions): Promise<RunResult> {
  const c = first.config;
  const log = opts.log.child({ cert: c.name });
  const badGroup = await groupProblem(first, log);
  if (badGroup) return badGroup;
  const notify = opts.notify;
  const o: RenewOptions = { ...opts, onStage: (stage) => void notify?.status(`${c.name}: ${stage}`) };
  const timeoutS = o.timeout ?? c.timeout;
  // Under systemd: this run may take up to the deadline plus the hooks; never less than the unit allows.
  void notify?.extendTimeout((timeoutS + c.hookTimeout * (c.reloadServices.length + (c.postRun ? 1 : 0)) + 60) * 1_000_000);
  const deadlineAt = Date.now() + timeoutS * 1000;
  const signal = AbortSignal.timeout(timeoutS * 1000);
  try {
    await ensureCertDir(first.paths, null);
  } catch (e) {
    const msg = `cannot create ${first.paths.dir}: ${(e as Error).message}`;
    log.error("failure", msg);
    return { name: c.name, outcome: "failure", code: first.decision.usable ? EXIT.SOFT_FAILURE : EXIT.FAILURE, message: msg };
  }

  let lock;
  try {
    lock = await acquireLock(first.paths.lock, Math.min(60_000, timeoutS * 1000));
  } catch (e) {
    const code = first.decision.usable ? EXIT.SOFT_FAILURE : EXIT.FAILURE;
    if (e instanceof LockBusy) {
      log.warn("busy", `another run holds ${e.file} (${e.owner}); not renewing now`);
      return { name: c.name, outcome: "busy", code, message: "busy" };
    }
    // A lock that cannot be written (disk full, permissions) is an error of this host, not a crash.
    const msg = `cannot take the lock ${first.paths.lock}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; not renewing now`;
    log.log(first.decision.usable ? "warning" : "error", "lock-failed", msg);
    return { name: c.name, outcome: first.decision.usable ? "soft-failure" : "failure", code, message: msg };
  }
  try {
    // Another run may have renewed while we waited for the lock.
    const p = precheck(c, o.stateDir, o.now(), log);
    if (!o.force && !p.decision.renew) {
      log.info("not-due", "renewed meanwhile by another run");
      return { name: c.name, outcome: "not-due", code: EXIT.OK, message: p.decision.reasons.join("; ") };
    }
    const pre = await preflight(c.server, o.stateDir, o.now(), BUILD_TIME);
    log.notice("renewing", `renewing: ${o.force ? "forced" : p.decision.reasons.join("; ")}`, { status: p.decision.status });
    const ctx: OpContext = { last: null, requests: 0, signal };
    try {
      const r = await issue(p, o, log, ctx, deadlineAt, pre.network.down);
      let state = successState(p.state, o.now());
      if (c.ari && r.certId) {
        // Learn the new certificate's window right away (best effort: failure only delays it).
        const ari = await fetchAri({ server: c.server, caBundle: c.caBundle, signal: AbortSignal.timeout(15_000) }, r.certId, null, o.now(), randomInt(1_000_000) / 1_000_000);
        logAri(log, ari);
        state = { ...state, ari };
      }
      await writeState(p.paths.state, state).catch((e) => log.warn("state-write", `cannot write ${p.paths.state}: ${(e as Error).message}`));
      log.notice("renewed", `renewed, valid until ${r.notAfter.toISOString()}`, { not_after: r.notAfter, serial: r.serial, version: r.version, requests: ctx.requests });
      o.onStage?.(`renewed, valid until ${r.notAfter.toISOString()}`);
      const hookFailures = await runHooks(c, p.paths, log);
      if (hookFailures.length) {
        return { name: c.name, outcome: "hook-failed", code: EXIT.SOFT_FAILURE, message: hookFailures.map((h) => `${h.hook}: ${h.why}`).join("; "), notAfter: r.notAfter };
      }
      return { name: c.name, outcome: "renewed", code: EXIT.OK, message: `valid until ${r.notAfter.toISOString()}`, notAfter: r.notAfter };
    } catch (e) {
      const f = e instanceof AcmeFailure ? e : new AcmeFailure("local", (e as Error)?.message ?? String(e), { cause: e });
      const now = o.now();
      let state = failureState(p.state, f, now, p.decision.usable);
      const fields = { class: f.cls, problem: f.extra.problem?.type, next_attempt: state.nextAttemptAt ?? undefined, requests: ctx.requests };
      const why = `renewal failed (${f.cls}): ${describe(f)}; ${summarize(pre)}`;
      if (p.decision.usable) {
        const msg = `${why}; the current certificate stays in use, valid until ${p.decision.notAfter?.toISOString()}; next attempt at ${state.nextAttemptAt?.toISOString()}`;
        await writeState(p.paths.state, state).catch((we) => log.warn("state-write", `cannot write ${p.paths.state}: ${(we as Error).message}`));
        log.warn("soft-failure", msg, { ...fields, not_after: p.decision.notAfter ?? undefined });
        o.onStage?.(`renewal failed, cert valid until ${p.decision.notAfter?.toISOString()}`);
        return { name: c.name, outcome: "soft-failure", code: EXIT.SOFT_FAILURE, message: msg, ...(p.decision.notAfter ? { notAfter: p.decision.notAfter } : {}) };
      }
      let placeholderNote = "";
      if (c.placeholder && p.inspection.kind === "missing" && p.inspection.empty) {
        try {
          const ph = await installPlaceholder(c, p.paths, now);
          state = { ...state, placeholderSerial: ph.serial, lastOutcome: "placeholder" };
          placeholderNote = `; wrote a self-signed placeholder (valid until ${ph.notAfter.toISOString()}) so that services can start`;
        } catch (pe) {
          placeholderNote = `; could not write a placeholder: ${(pe as Error).message}`;
        }
      }
      await writeState(p.paths.state, state).catch((we) => log.warn("state-write", `cannot write ${p.paths.state}: ${(we as Error).message}`));
      const msg = `${why}; no usable certificate (${p.decision.status})${placeholderNote}`;
      log.error("failure", msg, fields);
      o.onStage?.(`renewal failed, no usable certificate`);
      return { name: c.name, outcome: "failure", code: EXIT.FAILURE, message: msg };
    }
  } finally {
    await lock.release();
  }
}
