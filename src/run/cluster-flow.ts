/**
 * The renewal of one certificate in cluster mode (docs/cluster.md, "flow of one renewal"), entered
 * by renew-flow.ts under the local lock when the pre-check found it due (or a publish owed):
 *
 *   read the shared record + state ── unreachable ──► hold (75) or, near expiry, issue alone
 *     ├─ shared certificate newer and not due ──► install it (`synced`, no CA contact)
 *     ├─ cluster-wide backoff / Retry-After ──► adopt it, hold
 *     └─ cluster lock ─► re-read ─► synced | backoff | order (shared account) ─► install locally
 *                        ─► fenced CAS of the record and the state ─► release
 *
 * Newer notAfter wins every conflict; a write whose fence no longer holds is refused by etcd.
 */
import { readFileSync, realpathSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { X509Certificate } from "node:crypto";
import { readAccount } from "../acme/account.js";
import { accountFiles } from "../acme/account-files.js";
import { ClusterError, isClusterError } from "../cluster/errors.js";
import { accountId } from "../cluster/keys.js";
import { openEtcd, type EtcdBackend } from "../cluster/open.js";
import { decodeAccount, decodeCertRecord, decodeState, encodeAccount, encodeCertRecord, encodeState, type CertRecord, type SharedState } from "../cluster/records.js";
import { SealKey } from "../cluster/seal.js";
import type { Entry, Lock } from "../cluster/storage.js";
import { allNames } from "../config/types.js";
import { EXIT, type ExitCode } from "../report/exit.js";
import { readState } from "../state/file.js";
import type { AriState, CertState } from "../state/model.js";
import { apply } from "../state/transitions.js";
import { writeFileAtomic } from "../store/atomic.js";
import type { Material } from "../store/install.js";
import { currentBase } from "../store/paths.js";
import { removePending, type Pending } from "../store/pending.js";
import { SECOND } from "../util/time.js";
import { judgeNew } from "./judge.js";
import { policyOf, precheck } from "./precheck.js";
import { installIssued, order, saveState, unusableCode, type Flow } from "./renew-flow.js";
import type { RunResult } from "./result.js";

/**
 * Deadline of each etcd call of a run (retries across endpoints included; an election takes ~1 s):
 * with etcd down or without quorum the first read fails after it, and the whole run, process start
 * included, ends within 10 s (measured 9.8 s on a loaded 2-core machine with 8 s).
 */
const CALL_TIMEOUT_MS = 6 * SECOND;
/** Lease of the cluster lock: how long a killed or paused holder blocks the others. */
const LEASE_TTL_S = 15;
/** A certificate in its last 10 % of lifetime (or none) may be issued without etcd. */
const STANDALONE_LIFE_LEFT = 0.1;

interface Shared {
  record: { entry: Entry; rec: CertRecord } | null;
  state: { entry: Entry; st: SharedState } | null;
}

interface Ctx {
  f: Flow;
  b: EtcdBackend;
  key: SealKey;
  deadlineAt: number;
  signal: AbortSignal;
}

const host = () => hostname();

// ---------------------------------------------------------------------------------------
// Results that end a run without a new certificate

function holdCode(f: Flow): ExitCode {
  return f.p.decision.usable ? EXIT.SOFT_FAILURE : unusableCode(f.p, false);
}

/** Not renewing now because of the cluster (etcd down, bad credentials, bad record): the certificate on disk stays. */
function hold(f: Flow, why: string, code = holdCode(f)): RunResult {
  const { p, log } = f;
  const c = p.config;
  if (code === EXIT.CONFIG) {
    log.error("config-error", why);
    return { name: c.name, outcome: "config-error", code, message: why };
  }
  if (p.decision.usable) {
    const msg = `${why}; not renewing now; the current certificate stays in use, valid until ${p.decision.notAfter?.toISOString()}`;
    log.warn("soft-failure", msg, { not_after: p.decision.notAfter ?? undefined });
    f.onStage(`cluster: not renewed, cert valid until ${p.decision.notAfter?.toISOString()}`);
    return { name: c.name, outcome: "soft-failure", code, message: msg, ...(p.decision.notAfter ? { notAfter: p.decision.notAfter } : {}) };
  }
  const msg = `${why}; no usable certificate (${p.decision.status})`;
  log.error("failure", msg);
  f.onStage("cluster: no usable certificate");
  return { name: c.name, outcome: "failure", code, message: msg };
}

/** A cluster error as a one-line reason; config problems (key file, credential files) are 78. */
function problem(f: Flow, e: unknown): RunResult {
  if (isClusterError(e)) return hold(f, `cluster (${e.kind}): ${e.message}`, e.kind === "config" ? EXIT.CONFIG : holdCode(f));
  return hold(f, `cluster: ${(e as Error)?.message ?? String(e)}`);
}

// ---------------------------------------------------------------------------------------
// Reading and converting shared records

async function readShared(x: Ctx): Promise<Shared> {
  const name = x.f.p.config.name;
  const L = x.b.layout;
  const entries = await x.b.storage.getPrefix(L.certPrefix(name));
  const rec = entries.find((e) => e.key === L.record(name));
  const st = entries.find((e) => e.key === L.state(name));
  return {
    record: rec ? { entry: rec, rec: decodeCertRecord(rec.value, rec.key, name, x.key) } : null,
    state: st ? { entry: st, st: decodeState(st.value, st.key, name) } : null,
  };
}

const materialOf = (r: CertRecord): Material => ({ keyPem: r.keyPem, certPem: r.certPem, chainPem: r.chainPem });

function ariOf(s: SharedState | undefined | null): AriState | null {
  const a = s?.ari;
  if (!a) return null;
  return { certId: a.certId, windowStart: a.windowStart, windowEnd: a.windowEnd, selectedTime: a.selectedTime, explanationURL: a.explanationURL, fetchedAt: null, nextRefreshAt: a.nextRefreshAt, unsupported: false, lastError: null };
}

function sharedStateOf(name: string, s: CertState, now: Date): SharedState {
  return {
    name,
    lastAttempt: s.lastAttempt,
    lastOutcome: s.lastOutcome,
    lastError: s.lastError,
    consecutiveFailures: s.consecutiveFailures,
    nextAttemptAt: s.nextAttemptAt,
    retryAfter: s.retryAfter,
    ari: s.ari ? { certId: s.ari.certId, windowStart: s.ari.windowStart, windowEnd: s.ari.windowEnd, selectedTime: s.ari.selectedTime, explanationURL: s.ari.explanationURL, nextRefreshAt: s.ari.nextRefreshAt } : null,
    updatedBy: host(),
    updatedAt: now,
  };
}

/** The shared certificate, when it is newer than ours and the pre-check would accept it as not due. */
function syncable(f: Flow, shared: Shared): { pending: Pending; issued: ReturnType<typeof judgeNew>["issued"]; rec: CertRecord } | null {
  const { p, o } = f;
  const r = shared.record?.rec;
  if (!r) return null;
  const local = p.inspection.kind === "present" && p.decision.usable && !p.decision.dueReasons.includes("placeholder") ? p.inspection : null;
  if (local && (local.serialHex === r.serial || local.notAfter.getTime() >= r.notAfter.getTime())) return null;
  const c = p.config;
  const orderedWith = { server: c.server, profile: c.profile, names: allNames(c) };
  const j = judgeNew(materialOf(r), orderedWith, p.state, policyOf(c), o.now(), shared.record!.entry.key);
  if (!j.ok || j.decision.renew) return null;
  return { pending: { material: materialOf(r), ...orderedWith, at: r.publishedAt }, issued: j.issued, rec: r };
}

async function sync(x: Ctx, s: NonNullable<ReturnType<typeof syncable>>, shared: Shared): Promise<RunResult> {
  const { f } = x;
  f.log.notice("syncing", `the cluster has a newer certificate (serial ${s.rec.serial}, valid until ${s.rec.notAfter.toISOString()}, published by ${s.rec.publishedBy}): installing it, no order`);
  return installIssued(f, f.p.state, s.pending, s.issued, false, { ari: ariOf(shared.state?.st), from: s.rec.publishedBy });
}

/**
 * A failure the cluster recorded (backoff, Retry-After) that binds every host, if it holds this run.
 * As locally, a revocation ends the backoff recorded before it — not the backoff of attempts at its
 * replacement that failed since, nor the CA's own Retry-After.
 */
export function sharedBackoff(f: Pick<Flow, "o" | "p">, shared: Pick<Shared, "state">): SharedState | null {
  const st = shared.state?.st;
  if (!st || f.o.force) return null;
  const t = f.o.now().getTime();
  const revokedAt = f.p.decision.dueReasons.includes("revoked") ? f.p.state.revoked?.at.getTime() : undefined;
  const endedByRevocation = revokedAt !== undefined && (st.lastAttempt?.getTime() ?? 0) < revokedAt;
  const until = Math.max(endedByRevocation ? 0 : (st.nextAttemptAt?.getTime() ?? 0), st.retryAfter?.getTime() ?? 0);
  return until > t ? st : null;
}

async function adoptBackoff(f: Flow, st: SharedState): Promise<RunResult> {
  const s = apply(f.p.state, { type: "cluster-backoff", lastAttempt: st.lastAttempt, lastError: st.lastError, consecutiveFailures: st.consecutiveFailures, nextAttemptAt: st.nextAttemptAt, retryAfter: st.retryAfter });
  await saveState(f, s);
  const until = [s.retryAfter, s.nextAttemptAt].filter((d): d is Date => !!d && d.getTime() > f.o.now().getTime()).sort((a, b) => a.getTime() - b.getTime())[0] ?? s.nextAttemptAt;
  const why = `the cluster is backing off (${st.updatedBy}: ${st.lastError ? `${st.lastError.class}: ${st.lastError.message}` : "failed"}): next attempt at ${until?.toISOString() ?? "the next run"}`;
  const r = hold(f, why);
  return { ...r, outcome: "waiting" };
}

// ---------------------------------------------------------------------------------------
// The shared ACME account: one per (server, email) for the whole cluster

async function adoptAccount(x: Ctx): Promise<Entry | null> {
  const c = x.f.p.config;
  const key = x.b.layout.account(accountId(c.server, c.email));
  const e = await x.b.storage.get(key);
  if (!e) return null;
  const a = decodeAccount(e.value, key, c.server, c.email, x.key);
  const files = accountFiles(x.f.o.stateDir, c.server, c.email);
  const local = await readAccount(files, c.server).catch(() => ({ keyPem: null, url: null }));
  if (local.keyPem !== a.keyPem || local.url !== a.url) {
    await mkdir(files.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(files.key, a.keyPem, 0o600);
    await writeFileAtomic(files.meta, `${JSON.stringify({ server: a.server, email: a.email, url: a.url }, null, 2)}\n`, 0o600);
    x.f.log.info("account", `using the cluster's ACME account ${a.url}`);
  }
  return e;
}

/** Publishes this host's account when the cluster has none yet (create-only: the first one wins). */
async function publishAccount(x: Ctx): Promise<void> {
  const c = x.f.p.config;
  const local = await readAccount(accountFiles(x.f.o.stateDir, c.server, c.email), c.server).catch(() => null);
  if (!local?.keyPem || !local.url) return;
  const key = x.b.layout.account(accountId(c.server, c.email));
  const r = await x.b.storage.compareAndSwap(key, null, encodeAccount({ server: c.server, email: c.email, url: local.url, keyPem: local.keyPem }, x.key));
  if (r.ok) x.f.log.info("account", `published the ACME account ${local.url} for the cluster`);
}

// ---------------------------------------------------------------------------------------
// Publishing what is installed here

function readCurrent(f: Flow): Material | null {
  const base = currentBase(f.p.paths, realpathSync);
  try {
    const rd = (n: string) => readFileSync(`${base}/${n}`, "utf8");
    return { certPem: rd("cert.pem"), keyPem: rd("key.pem"), chainPem: rd("chain.pem") };
  } catch {
    return null;
  }
}

type Published = { ok: true; serial: string } | { ok: false; why: string; current: Shared };

/** Fenced CAS of the record: only over the version seen under the lock, only while the lock is ours. */
async function publishCert(x: Ctx, lock: Lock, seen: Shared, m: Material): Promise<Published> {
  const { f, b } = x;
  const name = f.p.config.name;
  const cert = new X509Certificate(m.certPem);
  const serial = cert.serialNumber.toLowerCase();
  const prev = seen.record;
  if (prev && prev.rec.notAfter.getTime() >= new Date(cert.validTo).getTime()) return { ok: false, why: `the shared certificate (serial ${prev.rec.serial}) expires no earlier`, current: seen };
  const value = encodeCertRecord({ name, generation: (prev?.rec.generation ?? 0) + 1, ...m, publishedBy: host(), publishedAt: f.o.now() }, x.key);
  const r = await b.storage.compareAndSwap(b.layout.record(name), prev?.entry.version ?? null, value, { fence: lock.fence });
  if (r.ok) {
    f.log.info("published", `published serial ${serial} to the cluster (${b.layout.record(name)})`);
    return { ok: true, serial };
  }
  const why = r.reason === "fence" ? `refused by the fencing check: the lock ${lock.fence.lockKey} is no longer ours (our lease expired)` : "refused: another host wrote the record meanwhile";
  return { ok: false, why, current: await readShared(x) };
}

async function publishState(x: Ctx, lock: Lock): Promise<void> {
  const { f, b } = x;
  const s = readState(f.p.paths.state).state;
  await b.storage.put(b.layout.state(f.p.config.name), encodeState(sharedStateOf(f.p.config.name, s, f.o.now())), { fence: lock.fence });
}

async function markUnpublished(f: Flow, serial: string, why: string): Promise<void> {
  const s = apply(readState(f.p.paths.state).state, { type: "unpublished", serial });
  await saveState(f, s);
  f.log.warn("publish-pending", `serial ${serial} is installed here but not published to the cluster (${why}); the next run publishes it`);
}

/** Nothing is owed to the cluster any more (`serial` published, or a newer one is shared). */
async function markPublished(f: Flow, serial?: string): Promise<void> {
  const s = readState(f.p.paths.state).state;
  if (s.publishPending) await saveState(f, apply(s, { type: "published", serial: serial ?? s.publishPending }));
}

/**
 * After this host installed a certificate (ordered, or a pending one): publish it. A refusal leaves
 * the newer certificate everywhere: the shared one is installed here when it is newer, ours stays
 * owed to the cluster when ours is.
 */
async function publishInstalled(x: Ctx, lock: Lock, seen: Shared, r: RunResult): Promise<RunResult> {
  const { f } = x;
  const m = readCurrent(f);
  if (!m) return r;
  const serial = new X509Certificate(m.certPem).serialNumber.toLowerCase();
  let res: Published;
  try {
    res = await publishCert(x, lock, seen, m);
  } catch (e) {
    await markUnpublished(f, serial, isClusterError(e) ? e.message : String(e));
    return r;
  }
  if (res.ok) {
    await markPublished(f, res.serial);
    return r;
  }
  f.log.warn("publish-refused", `not publishing serial ${serial}: ${res.why}`);
  const shared = res.current.record?.rec ?? null;
  const ours = new Date(new X509Certificate(m.certPem).validTo);
  if (shared && shared.notAfter.getTime() >= ours.getTime()) {
    // Newer notAfter wins: install the shared one when the pre-check accepts it; either way the
    // cluster no longer needs ours.
    const again = { ...f, p: precheck(f.p.config, f.o.stateDir, f.o.now(), f.log) };
    const s = syncable(again, res.current);
    if (s) return sync({ ...x, f: again }, s, res.current);
    await markPublished(f);
    return r;
  }
  // Ours is newer but the write was refused (the lock is gone, or another host wrote meanwhile): still owed.
  await markUnpublished(f, serial, res.why);
  return r;
}

// ---------------------------------------------------------------------------------------
// etcd unreachable: like the CA down, except near expiry

async function unreachable(x: Ctx, e: ClusterError, needed: boolean): Promise<RunResult> {
  const { f } = x;
  const { p, o, log } = f;
  const c = p.config;
  const why = `etcd unreachable (${e.kind}): ${e.message}`;
  if (!needed) {
    log.info("publish-pending", `${why}; the certificate stays owed to the cluster`);
    return { name: c.name, outcome: "not-due", code: EXIT.OK, message: p.decision.reasons.join("; ") };
  }
  const i = p.inspection;
  const lifeLeft = i.kind === "present" && p.decision.usable ? (i.notAfter.getTime() - o.now().getTime()) / Math.max(1, i.notAfter.getTime() - i.notBefore.getTime()) : 0;
  if (!c.cluster!.standaloneWhenUnreachable || lifeLeft > STANDALONE_LIFE_LEFT) return hold(f, why);
  log.warn("standalone", `${why}; ${p.decision.usable ? "the certificate is in its last 10 % of lifetime" : "there is no usable certificate"}: issuing without the cluster (published once etcd is back)`);
  const r = await order(f, x.deadlineAt, x.signal);
  if (r.outcome === "renewed" || r.outcome === "hook-failed") {
    const m = readCurrent(f);
    if (m) await markUnpublished(f, new X509Certificate(m.certPem).serialNumber.toLowerCase(), "etcd was unreachable");
  }
  return r;
}

// ---------------------------------------------------------------------------------------

async function underLock(x: Ctx, needed: boolean): Promise<RunResult> {
  const { f, b, deadlineAt, signal } = x;
  const { p, o, log } = f;
  const c = p.config;
  let lock: Lock;
  try {
    lock = await b.locker.lock(c.name, { waitMs: Math.max(0, deadlineAt - Date.now() - 30 * SECOND), ttlSeconds: LEASE_TTL_S, signal });
  } catch (e) {
    if (isClusterError(e, "busy")) return hold(f, `cluster lock busy: ${e.message}`);
    return problem(f, e);
  }
  try {
    // Whatever happened while we waited: the holder may have published, or failed.
    let shared: Shared;
    try {
      shared = await readShared(x);
    } catch (e) {
      return problem(f, e);
    }
    const s = o.force ? null : syncable(f, shared);
    if (s) return await sync(x, s, shared);
    if (!needed) {
      // Only a publish is owed (a certificate issued while etcd was unreachable).
      return await publishInstalled(x, lock, shared, { name: c.name, outcome: "not-due", code: EXIT.OK, message: p.decision.reasons.join("; ") });
    }
    const backoff = sharedBackoff(f, shared);
    if (backoff) return await adoptBackoff(f, backoff);
    let account: Entry | null;
    try {
      account = await adoptAccount(x);
    } catch (e) {
      return problem(f, e);
    }
    const r = await order(f, deadlineAt, signal);
    const out = r.outcome === "renewed" || r.outcome === "hook-failed" ? await publishInstalled(x, lock, shared, r) : r;
    // The outcome (success, or the failure and its backoff) for every host; the account once.
    if (!lock.lost.aborted) {
      try {
        if (!account) await publishAccount(x);
        if (out.outcome !== "synced") await publishState(x, lock);
      } catch (e) {
        log.warn("publish-failed", `cannot update the cluster's records: ${isClusterError(e) ? e.message : String(e)}`);
      }
    }
    return out;
  } finally {
    await lock.release();
  }
}

export async function clusterFlow(f: Flow, deadlineAt: number, signal: AbortSignal): Promise<RunResult> {
  const { p } = f;
  const cl = p.config.cluster!;
  let key: SealKey;
  let b: EtcdBackend;
  try {
    key = SealKey.fromFile(cl.encryptionKeyFile);
    b = await openEtcd({ etcd: cl.etcd, prefix: cl.prefix, opTimeoutMs: CALL_TIMEOUT_MS });
  } catch (e) {
    return problem(f, e);
  }
  try {
    return await main({ f, b, key, deadlineAt, signal });
  } finally {
    await b.close();
  }
}

async function main(x: Ctx): Promise<RunResult> {
  const { f } = x;
  const { p, o, log } = f;
  {
    // A certificate the CA issued to an earlier run of ours: installed first, published below.
    if (p.pendingProblem) {
      log.warn("pending-unusable", `${p.pendingProblem}; removing it`);
      await removePending(p.paths).catch(() => {});
    }
    if (p.pending && !p.pending.ok) {
      log.warn("pending-stale", `not installing the certificate kept in ${p.paths.pending}: ${p.pending.decision.reasons.join("; ")}; removing it`);
      await removePending(p.paths).catch(() => {});
    }
    if (p.pending?.ok) {
      log.notice("renewing", `installing the certificate the CA issued at ${p.pending.pending.at.toISOString()} (kept in ${p.paths.pending}); no new order`);
      const r = await installIssued(f, p.state, p.pending.pending, p.pending.issued, true);
      const m = readCurrent(f);
      if (!m || (r.outcome !== "renewed" && r.outcome !== "hook-failed")) return r;
      await markUnpublished(f, new X509Certificate(m.certPem).serialNumber.toLowerCase(), "installed from pending.json");
      // Now publish it (or take the cluster's newer one): the same as a run that owes a publish.
      const again = await main({ ...x, f: { ...f, p: precheck(p.config, o.stateDir, o.now(), log) } });
      return again.outcome === "not-due" ? r : again;
    }
    const needed = o.force || p.decision.renew;
    if (!needed && !p.state.publishPending) {
      log.info("not-due", "renewed meanwhile by another run");
      return { name: p.config.name, outcome: "not-due", code: EXIT.OK, message: p.decision.reasons.join("; ") };
    }
    let shared: Shared;
    try {
      shared = await readShared(x);
    } catch (e) {
      if (isClusterError(e) && e.transient) return await unreachable(x, e, needed);
      return problem(f, e);
    }
    // Without the lock: a record at one version never changes, and installing needs no CA.
    const s = o.force ? null : syncable(f, shared);
    if (s) return await sync(x, s, shared);
    if (needed) {
      const backoff = sharedBackoff(f, shared);
      if (backoff) return await adoptBackoff(f, backoff);
    }
    return await underLock(x, needed);
  }
}
