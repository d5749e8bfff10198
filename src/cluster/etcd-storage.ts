/**
 * Storage on etcd v3: a version is the key's mod revision; compare-and-swap and fencing are one
 * `kv/txn` each, so etcd checks them at the instant of the write (docs/cluster.md, "fencing").
 */
import { ClusterError } from "./errors.js";
import { b64, prefixEnd, unb64, type EtcdClient } from "./etcd-client.js";
import type { CasResult, Entry, Fence, Listed, Storage, Version, WriteOptions } from "./storage.js";

export const ETCD_BACKEND = "etcd";

const rev = (v: unknown): string => (typeof v === "string" && /^\d+$/.test(v) ? v : typeof v === "number" ? String(v) : "0");

function entryOf(key: string, kv: any): Entry | null {
  if (!kv) return null;
  return { key, value: unb64(kv.value), version: rev(kv.mod_revision) };
}

function checkVersion(v: Version): string {
  if (!/^[1-9]\d*$/.test(v)) throw new ClusterError("config", `not an etcd version: "${v}"`);
  return v;
}

function fenceCompare(f: Fence): object {
  if (f.backend !== ETCD_BACKEND) throw new ClusterError("config", `a ${f.backend} lock cannot fence an etcd write`);
  return { key: b64(f.lockKey), target: "CREATE", create_revision: f.token, result: "EQUAL" };
}

export class EtcdStorage implements Storage {
  constructor(private readonly client: EtcdClient) {}

  async get(key: string): Promise<Entry | null> {
    const r = await this.client.call("/v3/kv/range", { key: b64(key) });
    return entryOf(key, r.kvs?.[0]);
  }

  async put(key: string, value: Buffer, o: WriteOptions = {}): Promise<Version> {
    if (!o.fence) {
      const r = await this.client.call("/v3/kv/put", { key: b64(key), value: b64(value) });
      return rev(r.header?.revision);
    }
    const r = await this.client.call("/v3/kv/txn", { compare: [fenceCompare(o.fence)], success: [{ request_put: { key: b64(key), value: b64(value) } }] });
    if (!r.succeeded) throw new ClusterError("lock-lost", `writing ${key}: the lock ${o.fence.lockKey} is no longer held by this host`, { key });
    return rev(r.header?.revision);
  }

  async compareAndSwap(key: string, expected: Version | null, value: Buffer, o: WriteOptions = {}): Promise<CasResult> {
    const compare: object[] = [expected === null ? { key: b64(key), target: "CREATE", create_revision: "0", result: "EQUAL" } : { key: b64(key), target: "MOD", mod_revision: checkVersion(expected), result: "EQUAL" }];
    const failure: object[] = [{ request_range: { key: b64(key) } }];
    if (o.fence) {
      compare.push(fenceCompare(o.fence));
      failure.push({ request_range: { key: b64(o.fence.lockKey) } });
    }
    const r = await this.client.call("/v3/kv/txn", { compare, success: [{ request_put: { key: b64(key), value: b64(value) } }], failure });
    if (r.succeeded) return { ok: true, version: rev(r.header?.revision) };
    const current = entryOf(key, r.responses?.[0]?.response_range?.kvs?.[0]);
    // A retried txn whose first attempt was applied (answer lost): the stored bytes are ours (a sealed
    // record has a random IV, so equal bytes mean our write), and the fence must still hold.
    const lockKv = o.fence ? r.responses?.[1]?.response_range?.kvs?.[0] : null;
    const fenceHolds = !o.fence || rev(lockKv?.create_revision) === o.fence.token;
    if (!fenceHolds) return { ok: false, reason: "fence", current };
    if (current && current.value.equals(value) && expected !== current.version) return { ok: true, version: current.version };
    return { ok: false, reason: "version", current };
  }

  async list(prefix: string): Promise<Listed[]> {
    const out: Listed[] = [];
    let from = b64(prefix);
    const end = prefixEnd(prefix);
    for (let page = 0; page < 1000; page++) {
      const r = await this.client.call("/v3/kv/range", { key: from, range_end: end, keys_only: true, limit: 1000, sort_order: "ASCEND", sort_target: "KEY" });
      const kvs: any[] = r.kvs ?? [];
      for (const kv of kvs) out.push({ key: unb64(kv.key).toString("utf8"), version: rev(kv.mod_revision) });
      if (!r.more || kvs.length === 0) return out;
      // Next page: just after the last key.
      from = Buffer.concat([unb64(kvs[kvs.length - 1].key), Buffer.from([0])]).toString("base64");
    }
    throw new ClusterError("protocol", `listing ${prefix}: more than 1,000,000 keys`);
  }

  async delete(key: string, expected?: Version): Promise<boolean> {
    if (expected === undefined) {
      const r = await this.client.call("/v3/kv/deleterange", { key: b64(key) });
      return Number(r.deleted ?? 0) > 0;
    }
    const r = await this.client.call("/v3/kv/txn", { compare: [{ key: b64(key), target: "MOD", mod_revision: checkVersion(expected), result: "EQUAL" }], success: [{ request_delete_range: { key: b64(key) } }] });
    return !!r.succeeded;
  }

  /** Every key under `prefix` with its value, in one request (the record, state and lock of one certificate). */
  async getPrefix(prefix: string): Promise<Entry[]> {
    const r = await this.client.call("/v3/kv/range", { key: b64(prefix), range_end: prefixEnd(prefix), limit: 100 });
    return (r.kvs ?? []).map((kv: any) => entryOf(unb64(kv.key).toString("utf8"), kv)!);
  }
}
