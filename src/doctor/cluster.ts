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
