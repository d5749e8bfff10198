/**
 * `doctor` in cluster mode: the encryption key, etcd (reachable, credentials, permission on the
 * prefix), the shared record against the local certificate, and who holds the cluster lock.
 * Loaded only for certificates with `cluster`; one range request and one lock read per certificate.
 */
import { isClusterError } from "../cluster/errors.js";
import { openEtcd } from "../cluster/open.js";
import { decodeCertRecord, decodeState } from "../cluster/records.js";
import { SealKey } from "../cluster/seal.js";
import type { CertConfig } from "../config/types.js";
import type { Precheck } from "../run/precheck.js";
import type { Finding } from "./doctor.js";

const why = (e: unknown) => (isClusterError(e) ? `${e.kind}: ${e.message}` : (e as Error)?.message ?? String(e));

export async function clusterFindings(config: CertConfig, p: Precheck): Promise<Finding[]> {
  const cl = config.cluster!;
  const f: Finding[] = [];
  let key: SealKey | null = null;
  try {
    key = SealKey.fromFile(cl.encryptionKeyFile);
    f.push({ mark: "ok", what: "cluster key", detail: `${cl.encryptionKeyFile}: key id ${key.kid}` });
  } catch (e) {
    f.push({ mark: "fail", what: "cluster key", detail: why(e) });
  }
  let b;
  try {
    b = await openEtcd({ etcd: cl.etcd, prefix: cl.prefix });
  } catch (e) {
    f.push({ mark: "fail", what: "etcd", detail: why(e) });
    return f;
  }
  try {
    const t0 = Date.now();
    const entries = await b.storage.getPrefix(b.layout.certPrefix(config.name));
    f.push({ mark: "ok", what: "etcd", detail: `${cl.etcd.endpoints.join(", ")}: read ${b.layout.certPrefix(config.name)} in ${Date.now() - t0} ms${cl.etcd.usernameFile ? ` (user from ${cl.etcd.usernameFile})` : ""}` });
    const rec = entries.find((e) => e.key === b.layout.record(config.name));
    const local = p.inspection.kind === "present" ? p.inspection : null;
    if (!rec) f.push({ mark: "warn", what: "shared cert", detail: `no record yet (${b.layout.record(config.name)}); the next renewal publishes one` });
    else if (key) {
      try {
        const r = decodeCertRecord(rec.value, rec.key, config.name, key);
        const same = local?.serialHex === r.serial;
        const vs = same ? "the same as the local one" : `local: ${local ? `serial ${local.serialHex}, valid until ${local.notAfter.toISOString()}` : "none"}`;
        f.push({ mark: same ? "ok" : "warn", what: "shared cert", detail: `generation ${r.generation}, serial ${r.serial}, valid until ${r.notAfter.toISOString()}, published by ${r.publishedBy} at ${r.publishedAt.toISOString()}; ${vs}` });
      } catch (e) {
        f.push({ mark: "fail", what: "shared cert", detail: why(e) });
      }
    }
    const st = entries.find((e) => e.key === b.layout.state(config.name));
    if (st) {
      try {
        const s = decodeState(st.value, st.key, config.name);
        f.push({ mark: s.consecutiveFailures ? "warn" : "ok", what: "shared state", detail: `outcome ${s.lastOutcome ?? "-"} by ${s.updatedBy} at ${s.updatedAt.toISOString()}, consecutive failures ${s.consecutiveFailures}${s.nextAttemptAt ? `, next attempt ${s.nextAttemptAt.toISOString()}` : ""}${s.ari?.selectedTime ? `, ARI selected time ${s.ari.selectedTime.toISOString()}` : ""}` });
      } catch (e) {
        f.push({ mark: "fail", what: "shared state", detail: why(e) });
      }
    }
    const h = await b.locker.holder(config.name);
    f.push(h ? { mark: "warn", what: "cluster lock", detail: `held by ${h.host} pid ${h.pid}${h.since ? ` since ${h.since.toISOString()}` : ""} (a renewal in progress)` } : { mark: "ok", what: "cluster lock", detail: "free" });
    if (p.state.publishPending) f.push({ mark: "warn", what: "publish", detail: `serial ${p.state.publishPending} was issued here while etcd was unreachable; the next run publishes it` });
  } catch (e) {
    f.push({ mark: "fail", what: "etcd", detail: why(e) });
  } finally {
    await b.close();
  }
  return f;
}

/** What `status --cluster` shows of one certificate: the shared record against the local one, and the lock. */
export interface ClusterView {
  shared: { serial: string; generation: number; notAfter: string; publishedBy: string; publishedAt: string } | null;
  local: { serial: string; notAfter: string } | null;
  /** same: the shared certificate is the local one; newer/older: the shared one expires later/earlier. */
  relation: "same" | "shared-newer" | "local-newer" | "no-shared" | "no-local";
  lock: { host: string; pid: number; since: string | null } | null;
  publishPending: string | null;
  error: string | null;
}

export async function clusterView(config: CertConfig, p: Precheck): Promise<ClusterView> {
  const cl = config.cluster!;
  const local = p.inspection.kind === "present" ? { serial: p.inspection.serialHex, notAfter: p.inspection.notAfter.toISOString() } : null;
  const base: ClusterView = { shared: null, local, relation: local ? "no-shared" : "no-local", lock: null, publishPending: p.state.publishPending, error: null };
  let b;
  try {
    const key = SealKey.fromFile(cl.encryptionKeyFile);
    b = await openEtcd({ etcd: cl.etcd, prefix: cl.prefix, opTimeoutMs: 5_000 });
    try {
      const e = await b.storage.get(b.layout.record(config.name));
      const h = await b.locker.holder(config.name);
      const lock = h ? { host: h.host, pid: h.pid, since: h.since?.toISOString() ?? null } : null;
      if (!e) return { ...base, lock };
      const r = decodeCertRecord(e.value, e.key, config.name, key);
      const shared = { serial: r.serial, generation: r.generation, notAfter: r.notAfter.toISOString(), publishedBy: r.publishedBy, publishedAt: r.publishedAt.toISOString() };
      const relation = !local ? "no-local" : local.serial === r.serial ? "same" : r.notAfter.getTime() > Date.parse(local.notAfter) ? "shared-newer" : "local-newer";
      return { ...base, shared, relation, lock };
    } finally {
      await b.close();
    }
  } catch (e) {
    return { ...base, error: why(e) };
  }
}

export function renderClusterViews(views: Array<{ name: string; view: ClusterView }>): string {
  const lines = views.map(({ name, view: v }) => {
    if (v.error) return `${name}: cluster: ${v.error}`;
    const shared = v.shared ? `shared serial ${v.shared.serial} (generation ${v.shared.generation}, valid until ${v.shared.notAfter}, published by ${v.shared.publishedBy})` : "no shared certificate yet";
    const rel = { same: "the local certificate is the shared one", "shared-newer": "the shared one is newer (the next due run installs it)", "local-newer": "the local one is newer", "no-shared": "", "no-local": "no local certificate" }[v.relation];
    const lock = v.lock ? `lock held by ${v.lock.host} pid ${v.lock.pid}${v.lock.since ? ` since ${v.lock.since}` : ""}` : "lock free";
    return `${name}: ${shared}; ${v.local ? `local serial ${v.local.serial}` : "no local certificate"}${rel && v.local ? ` (${rel})` : ""}; ${lock}${v.publishPending ? `; serial ${v.publishPending} owed to the cluster` : ""}`;
  });
  return `${lines.join("\n")}\n`;
}
