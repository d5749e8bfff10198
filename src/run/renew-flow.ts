/**
 * The renewal of one certificate, entered only when the gate says so. It sequences effects; every
 * change to the state is an event of state/transitions.ts:
 *
 *   lock → re-check → a pending certificate? install it (no CA)
 *        → preflight → order (renew/issue.ts) → judge → keep it as pending → install → state → hooks
 *
 * A failure never touches the certificate on disk; with none on disk, a placeholder may be written.
 * Once the CA has issued, the certificate is on disk (pending.json) before anything that can fail
 * locally, so no issued certificate is lost to a group lookup, a full disk or a crash.
 */
import { randomInt, X509Certificate } from "node:crypto";
import { AcmeFailure, asFailure, describe } from "../acme/errors.js";
import type { OpContext } from "../acme/transport.js";
import { certIdOrNull } from "../ari/cert-id.js";
import { fetchAri } from "../ari/fetch.js";
import { logAri } from "../ari/log.js";
import { allNames } from "../config/types.js";
import { spkiSha256 } from "../crypto/spki.js";
import { runHooks } from "../hooks/run-hooks.js";
import { preflight, summarize, type PreflightReport } from "../preflight/preflight.js";
import { issue } from "../renew/issue.js";
import { installPlaceholder } from "../renew/placeholder.js";
import { readiness } from "../decide/ready.js";
import { EXIT, type ExitCode } from "../report/exit.js";
import type { Logger } from "../report/log.js";
import { writeState } from "../state/file.js";
import type { AriState, CertState, IssuedRecord } from "../state/model.js";
import { apply } from "../state/transitions.js";
import { ensureCertDir, install } from "../store/install.js";
import { acquireLock, LockBusy } from "../store/lock.js";
import { removePending, savePending, type Pending } from "../store/pending.js";
import { readTextOrNullAsync } from "../util/read.js";
import { BUILD_TIME } from "../util/build-info.js";
import { MINUTE, SECOND } from "../util/time.js";
import { providerProblem, providerVariables } from "./dns-provider.js";
import { groupProblem } from "./group-check.js";
import { judgeNew } from "./judge.js";
import { policyOf, precheck, type Precheck } from "./precheck.js";
import type { RunOptions, RunResult } from "./result.js";

/** The ARI answer for a certificate just installed (best effort: a failure only delays it). */
const ARI_AFTER_INSTALL_MS = 15 * SECOND;

const jitter = () => randomInt(1_000_000) / 1_000_000;

/** Exit code when there is no usable certificate: 3 while a placeholder serves, else 1. */
export function unusableCode(p: Precheck, placeholderWritten: boolean): ExitCode {
  return placeholderWritten || (p.inspection.kind === "present" && p.decision.dueReasons.includes("placeholder")) ? EXIT.PLACEHOLDER : EXIT.FAILURE;
}

export interface Flow {
  p: Precheck;
  o: RunOptions;
  log: Logger;
  onStage: (stage: string) => void;
}

export async function saveState(f: Flow, s: CertState): Promise<void> {
  await writeState(f.p.paths.state, s).catch((e) => f.log.warn("state-write", `cannot write ${f.p.paths.state}: ${(e as Error).message}`));
}

/** The attempt failed before anything new was installed: record it, maybe write a placeholder, report. */
export async function failed(f: Flow, state: CertState, err: AcmeFailure, costsCa: boolean, pre: PreflightReport | null, requests: number): Promise<RunResult> {
  const { p, o, log } = f;
  const c = p.config;
  const now = o.now();
  let s = apply(state, { type: "failed", at: now, class: err.cls, message: describe(err), retryAfter: err.extra.retryAfter ?? null, costsCa, usable: p.decision.usable, random: jitter() });
  const fields = { class: err.cls, problem: err.extra.problem?.type, next_attempt: s.nextAttemptAt ?? undefined, requests };
  const why = `renewal failed (${err.cls}): ${describe(err)}${pre ? `; ${summarize(pre)}` : ""}`;
  // A configuration this CA cannot work with (terms not accepted) is a config error: 78.
  const codeOr = (fallback: ExitCode): ExitCode => (err.cls === "config" ? EXIT.CONFIG : fallback);
  if (p.decision.usable) {
    const msg = `${why}; the current certificate stays in use, valid until ${p.decision.notAfter?.toISOString()}; next attempt at ${s.nextAttemptAt?.toISOString() ?? "the next run"}`;
    await saveState(f, s);
    log.warn("soft-failure", msg, { ...fields, not_after: p.decision.notAfter ?? undefined });
    f.onStage(`renewal failed, cert valid until ${p.decision.notAfter?.toISOString()}`);
    return { name: c.name, outcome: "soft-failure", code: codeOr(EXIT.SOFT_FAILURE), message: msg, ...(p.decision.notAfter ? { notAfter: p.decision.notAfter } : {}) };
  }
  let placeholderNote = "";
  let placeholderWritten = false;
  // Where `ready` would write one: nothing to start with, and nothing but an expired placeholder of ours replaced.
  if (readiness(p.inspection, p.decision, c.placeholder).action === "write-placeholder") {
    try {
      const ph = await installPlaceholder(c, p.paths, now, { clockFloor: BUILD_TIME });
      s = apply(s, { type: "placeholder", at: now, serial: ph.serial });
      placeholderWritten = true;
      placeholderNote = `; wrote a self-signed placeholder (valid until ${ph.notAfter.toISOString()}) so that services can start`;
    } catch (pe) {
      placeholderNote = `; could not write a placeholder: ${(pe as Error).message}`;
    }
  }
  await saveState(f, s);
  const code = codeOr(unusableCode(p, placeholderWritten));
  const msg = `${why}; no usable certificate (${p.decision.status})${placeholderNote}${code === EXIT.PLACEHOLDER && !placeholderWritten ? "; the placeholder stays in place" : ""}${s.nextAttemptAt ? `; next attempt at ${s.nextAttemptAt.toISOString()}` : ""}`;
  log.error("failure", msg, fields);
  f.onStage(code === EXIT.PLACEHOLDER ? "renewal failed, placeholder in place" : "renewal failed, no usable certificate");
  return { name: c.name, outcome: "failure", code, message: msg };
}

/**
 * Installs an issued certificate (fresh or pending), then records it and runs the reload hooks.
 * `synced`: it is the certificate another host published (cluster mode): recorded as synced, with
 * the cluster's ARI answer instead of a fetch of our own.
 */
export async function installIssued(f: Flow, state: CertState, pending: Pending, issued: IssuedRecord | null, kept: boolean, synced?: { ari: AriState | null; from: string }): Promise<RunResult> {
  const { p, o, log } = f;
  const c = p.config;
  let version: string;
  try {
    version = await install(p.paths, pending.material, { keep: c.keepVersions, group: c.group, now: o.now(), warn: (m) => log.warn("store", m) });
  } catch (e) {
    const where = kept ? `; the issued certificate is kept in ${p.paths.pending} and installed by the next run, without a new order` : "";
    const err = new AcmeFailure("local", `storing the new certificate in ${p.paths.dir}: ${(e as Error).message}${where}`, { cause: e });
    return failed(f, state, err, false, null, 0);
  }
  if (kept) await removePending(p.paths).catch((e) => log.warn("pending", `installed, but cannot remove ${p.paths.pending}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
  const cert = new X509Certificate(pending.material.certPem);
  const notAfter = new Date(cert.validTo);
  const certId = certIdOrNull(cert.raw);
  let s = apply(state, synced ? { type: "synced", at: o.now(), issued, ari: synced.ari && synced.ari.certId === certId ? synced.ari : null } : { type: "installed", at: o.now(), issued });
  if (c.ari && certId && !s.ari) {
    const ari = await fetchAri({ server: c.server, caBundle: c.caBundle, signal: AbortSignal.timeout(ARI_AFTER_INSTALL_MS) }, certId, null, o.now(), jitter());
    logAri(log, ari);
    s = apply(s, { type: "ari-fetched", ari });
  }
  // Written before the hooks: a run that dies in them leaves hooks owed, and the next run owes them.
  await saveState(f, s);
  const what = synced ? "synced" : "renewed";
  log.notice(what, `${synced ? `installed the certificate ${synced.from} published (no CA contact)` : "renewed"}, valid until ${notAfter.toISOString()}`, { not_after: notAfter, serial: cert.serialNumber.toLowerCase(), version });
  f.onStage(`${what}, valid until ${notAfter.toISOString()}`);
  const failures = await runHooks(c, p.paths, log, { unset: await providerVariables(c) });
  const message = failures.map((h) => `${h.hook}: ${h.why}`).join("; ");
  s = apply(s, failures.length ? { type: "hook-failed", at: o.now(), message } : { type: "hooks-ok", at: o.now() });
  await saveState(f, s);
  if (failures.length) return { name: c.name, outcome: "hook-failed", code: EXIT.SOFT_FAILURE, message, notAfter };
  return { name: c.name, outcome: what, code: EXIT.OK, message: `valid until ${notAfter.toISOString()}`, notAfter };
}

/** The key on disk for reuseKey, unless it was revoked for keyCompromise (then a fresh one, always). */
async function reusableKey(f: Flow): Promise<string | null> {
  const pem = await readTextOrNullAsync(f.p.paths.key).catch(() => null);
  if (pem === null || !f.p.state.compromisedKeys.length) return pem;
  let id: string | null = null;
  try {
    id = spkiSha256(pem);
  } catch {
    return null;
  }
  if (!f.p.state.compromisedKeys.includes(id)) return pem;
  f.log.notice("key-compromised", "reuseKey: the key on disk was revoked for keyCompromise; ordering with a new key");
  return null;
}

/** Orders a certificate from the CA, keeps it as pending, installs it. */
export async function order(f: Flow, deadlineAt: number, signal: AbortSignal): Promise<RunResult> {
  const { p, o, log } = f;
  const c = p.config;
  const pre = await preflight(c.server, o.stateDir, o.now(), BUILD_TIME);
  log.notice("renewing", `renewing: ${o.force ? "forced" : p.decision.reasons.join("; ")}`, { status: p.decision.status });
  const ctx: OpContext & { signal: AbortSignal } = { requests: 0, signal };
  const f0 = p.inspection;
  const real = f0.kind === "present" && !p.decision.dueReasons.includes("placeholder");
  let ordered = false;
  const orderedWith = { server: c.server, profile: c.profile, names: allNames(c) };
  let pending: Pending;
  let issued: IssuedRecord | null;
  try {
    const material = await issue({
      config: c,
      stateDir: o.stateDir,
      log,
      ctx,
      deadlineAt,
      networkDown: pre.network.down,
      reuseKeyPem: c.reuseKey && f0.kind === "present" && f0.keyMatches && f0.keyType === c.keyType ? await reusableKey(f) : null,
      replacesCertId: c.ari && real && f0.kind === "present" ? f0.certId : null,
      onStage: f.onStage,
      onOrder: () => (ordered = true),
    });
    // What the pre-check would say right after installing it: a certificate it would call due is not installed.
    const j = judgeNew(material, orderedWith, p.state, policyOf(c), o.now(), "download");
    if (!j.ok) throw new AcmeFailure("acme", `download: the pre-check would not accept the CA's certificate (${j.decision.reasons.join("; ")}); not installing it`);
    pending = { material, ...orderedWith, at: o.now() };
    issued = j.issued;
  } catch (e) {
    const err = asFailure(e);
    // An answer from the CA, or an order it created, cost it something; a request that never got there did not.
    return failed(f, p.state, err, err.extra.status !== undefined || ordered, pre, ctx.requests);
  }
  // Issued: on disk before anything that can fail locally.
  let kept = false;
  try {
    for (const w of await savePending(p.paths, pending)) log.warn("pending", `kept the issued certificate, but ${w}`);
    kept = true;
  } catch (e) {
    log.error("pending-failed", `cannot keep the issued certificate in ${p.paths.pending} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); installing it directly`);
  }
  return installIssued(f, apply(p.state, { type: "issued", at: o.now() }), pending, issued, kept);
}

export async function renewFlow(first: Precheck, o: RunOptions): Promise<RunResult> {
  const c = first.config;
  const log = o.log.child({ cert: c.name });
  const notify = o.notify;
  const onStage = (stage: string) => void notify?.status(`${c.name}: ${stage}`);
  const timeoutS = o.timeout ?? c.timeout;
  // Under systemd: this run may take up to the deadline plus the hooks; never less than the unit allows.
  void notify?.extendTimeout((timeoutS + c.hookTimeout * (c.reloadServices.length + (c.postRun ? 1 : 0)) + 60) * 1_000_000);
  const deadlineAt = Date.now() + timeoutS * SECOND;
  const signal = AbortSignal.timeout(timeoutS * SECOND);
  const failCode = first.decision.usable ? EXIT.SOFT_FAILURE : unusableCode(first, false);
  const badGroup = await groupProblem(first, log, failCode);
  if (badGroup) return badGroup;
  const badProvider = await providerProblem(c, log);
  if (badProvider) return badProvider;
  try {
    await ensureCertDir(first.paths, null);
  } catch (e) {
    const msg = `cannot create ${first.paths.dir}: ${(e as Error).message}`;
    log.error("failure", msg);
    return { name: c.name, outcome: "failure", code: failCode, message: msg };
  }
  let lock;
  try {
    lock = await acquireLock(first.paths.lock, Math.min(MINUTE, timeoutS * SECOND));
  } catch (e) {
    if (e instanceof LockBusy) {
      log.warn("busy", `another run holds ${e.file} (${e.owner}); not renewing now`);
      return { name: c.name, outcome: "busy", code: failCode, message: "busy" };
    }
    // A lock that cannot be written (disk full, permissions) is an error of this host, not a crash.
    const msg = `cannot take the lock ${first.paths.lock}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; not renewing now`;
    log.log(first.decision.usable ? "warning" : "error", "lock-failed", msg);
    return { name: c.name, outcome: first.decision.usable ? "soft-failure" : "failure", code: failCode, message: msg };
  }
  try {
    // Another run may have renewed while we waited for the lock.
    const p = precheck(c, o.stateDir, o.now(), log);
    const f: Flow = { p, o, log, onStage };
    // Cluster mode: the shared record, lock and state in etcd decide what happens (cluster-flow.ts).
    if (c.cluster) return await (await import("./cluster-flow.js")).clusterFlow(f, deadlineAt, signal);
    if (p.pendingProblem) {
      log.warn("pending-unusable", `${p.pendingProblem}; removing it`);
      await removePending(p.paths).catch(() => {});
    }
    if (p.pending) {
      if (p.pending.ok) {
        log.notice("renewing", `installing the certificate the CA issued at ${p.pending.pending.at.toISOString()} (kept in ${p.paths.pending}); no new order`);
        return await installIssued(f, p.state, p.pending.pending, p.pending.issued, true);
      }
      log.warn("pending-stale", `not installing the certificate kept in ${p.paths.pending}: ${p.pending.decision.reasons.join("; ")}; removing it`);
      await removePending(p.paths).catch(() => {});
    }
    if (!o.force && !p.decision.renew) {
      log.info("not-due", "renewed meanwhile by another run");
      return { name: c.name, outcome: "not-due", code: EXIT.OK, message: p.decision.reasons.join("; ") };
    }
    return await order(f, deadlineAt, signal);
  } finally {
    await lock.release();
  }
}
