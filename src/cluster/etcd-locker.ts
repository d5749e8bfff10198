/**
 * Locks on etcd: a lease, a lock key created only if absent and attached to the lease, the key's
 * create revision as fencing token. The lease is kept alive while the lock is held (or waited for);
 * kill -9 or SIGSTOP of the holder lets it expire after its TTL, and etcd deletes the key with it.
 */
import { hostname } from "node:os";
import { ClusterError, isClusterError } from "./errors.js";
import { b64, LeaseNotFound, unb64, type EtcdClient } from "./etcd-client.js";
import { ETCD_BACKEND } from "./etcd-storage.js";
import type { KeyLayout } from "./keys.js";
import { decodeLock, encodeLock } from "./records.js";
import type { Lock, LockHolder, LockOptions, Locker } from "./storage.js";

export const DEFAULT_TTL_SECONDS = 15;

const rev = (v: unknown): string => (typeof v === "string" && /^\d+$/.test(v) ? v : "0");

/** A granted lease kept alive every TTL/3 until stopped; `lost` fires when it is (or must be assumed) gone. */
class Lease {
  readonly lost = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private lastOk: number;
  private stopped = false;

  constructor(private readonly client: EtcdClient, readonly id: string, readonly ttlMs: number) {
    this.lastOk = performance.now();
    this.schedule(ttlMs / 3);
  }

  static async grant(client: EtcdClient, ttlSeconds: number): Promise<Lease> {
    const r = await client.call("/v3/lease/grant", { TTL: String(ttlSeconds) });
    const id = rev(r.ID);
    if (id === "0") throw new ClusterError("protocol", "etcd granted a lease without an ID");
    return new Lease(client, id, Number(r.TTL ?? ttlSeconds) * 1000);
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.beat(), ms);
    this.timer.unref();
  }

  /** Has the lease been renewed recently enough to still exist? (After a SIGSTOP it has not.) */
  private expiredLocally(): boolean {
    return performance.now() - this.lastOk >= this.ttlMs;
  }

  private async beat() {
    if (this.stopped) return;
    if (this.expiredLocally()) return this.markLost();
    const started = performance.now();
    try {
      const r = await this.client.call("/v3/lease/keepalive", { ID: this.id }, { timeoutMs: Math.max(500, this.ttlMs - (started - this.lastOk) - 250) });
      const ttl = Number(r?.result?.TTL ?? r?.TTL ?? 0);
      if (!(ttl > 0)) return this.markLost();
      this.lastOk = started;
      this.schedule(this.ttlMs / 3);
    } catch (e) {
      if (e instanceof LeaseNotFound) return this.markLost();
      // Transient: try again soon, until the lease would have expired.
      if (this.expiredLocally()) return this.markLost();
      this.schedule(Math.min(1_000, this.ttlMs / 6));
    }
  }

  private markLost() {
    this.stop();
    this.lost.abort(new ClusterError("lock-lost", `etcd lease ${this.id} expired or could not be renewed in time`));
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  async revoke(): Promise<void> {
    this.stop();
    try {
      await this.client.call("/v3/lease/revoke", { ID: this.id }, { timeoutMs: 2_000 });
    } catch {
      /* best effort: it expires after its TTL anyway */
    }
  }
}

export class EtcdLocker implements Locker {
  constructor(
    private readonly client: EtcdClient,
    private readonly layout: KeyLayout,
    private readonly owner = { host: hostname(), pid: process.pid },
  ) {}

  async lock(name: string, o: LockOptions): Promise<Lock> {
    const key = this.layout.lock(name);
    const deadline = Date.now() + o.waitMs;
    const lease = await Lease.grant(this.client, o.ttlSeconds ?? DEFAULT_TTL_SECONDS);
    try {
      const value = encodeLock({ ...this.owner, since: new Date() });
      for (;;) {
        if (lease.lost.signal.aborted) throw new ClusterError("lock-lost", `waiting for ${key}: our lease expired meanwhile`);
        const r = await this.client.call("/v3/kv/txn", {
          compare: [{ key: b64(key), target: "CREATE", create_revision: "0", result: "EQUAL" }],
          success: [{ request_put: { key: b64(key), value: b64(value), lease: lease.id } }],
          failure: [{ request_range: { key: b64(key) } }],
        }, o.signal ? { signal: o.signal } : {});
        if (r.succeeded) return this.held(name, key, rev(r.header?.revision), lease);
        const kv = r.responses?.[0]?.response_range?.kvs?.[0];
        // An earlier attempt of this very txn was applied but its answer was lost: the key is ours.
        if (kv && rev(kv.lease) === lease.id) return this.held(name, key, rev(kv.create_revision), lease);
        const left = deadline - Date.now();
        if (left <= 0 || o.signal?.aborted) {
          const h = kv ? this.describe(key, kv) : null;
          throw new ClusterError("busy", `${key} is held by ${h ? `${h.host} pid ${h.pid}${h.since ? ` since ${h.since.toISOString()}` : ""}` : "another host"}`, { key });
        }
        // Wait for the holder's key to go (release or lease expiry), bounded so a lost stream cannot hang us.
        const seen = rev(r.header?.revision);
        await this.client.stream(
          "/v3/watch",
          { create_request: { key: b64(key), start_revision: String(BigInt(seen) + 1n) } },
          (m) => Array.isArray(m?.events) && m.events.some((ev: any) => ev?.type === "DELETE") || m?.canceled === true,
          Math.min(left, Math.max(1_000, lease.ttlMs)),
          o.signal,
        );
        await new Promise((res) => setTimeout(res, Math.random() * 50)); // spread the stampede a little
      }
    } catch (e) {
      await lease.revoke();
      throw e;
    }
  }

  private held(name: string, key: string, token: string, lease: Lease): Lock {
    let released = false;
    return {
      name,
      fence: { backend: ETCD_BACKEND, lockKey: key, token },
      lost: lease.lost.signal,
      release: async () => {
        if (released) return;
        released = true;
        await lease.revoke(); // deletes the lock key with it
      },
    };
  }

  private describe(key: string, kv: any): LockHolder {
    try {
      const l = decodeLock(unb64(kv.value), key);
      return { host: l.host, pid: l.pid, since: l.since };
    } catch (e) {
      if (isClusterError(e, "corrupt")) return { host: "?", pid: 0, since: null };
      throw e;
    }
  }

  async holder(name: string): Promise<LockHolder | null> {
    const key = this.layout.lock(name);
    const r = await this.client.call("/v3/kv/range", { key: b64(key) });
    const kv = r.kvs?.[0];
    return kv ? this.describe(key, kv) : null;
  }
}
