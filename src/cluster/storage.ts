/**
 * The shared store behind cluster mode (CertMagic's Storage + Locker, plus versions and fencing).
 * Values are bytes; a version is an opaque string that is equal only for the same write. Backends:
 * file-storage.ts + file-locker.ts (one host), etcd-storage.ts + etcd-locker.ts (etcd v3). See
 * docs/cluster.md for how an S3 or PostgreSQL backend maps onto it.
 */

export type Version = string;

export interface Entry {
  key: string;
  value: Buffer;
  version: Version;
}

export interface Listed {
  key: string;
  version: Version;
}

/**
 * Proof of holding a lock, checked by the backend at the instant of a write. Only the backend that
 * issued it can check it; `token` grows with every acquisition of the same lock.
 */
export interface Fence {
  readonly backend: string;
  readonly lockKey: string;
  readonly token: string;
}

export interface WriteOptions {
  /** Refuse the write unless the lock behind this fence is still held. */
  fence?: Fence;
}

export type CasResult =
  | { ok: true; version: Version }
  /** `version`: the key was not at the expected version (current is what it is now); `fence`: the lock is no longer ours. */
  | { ok: false; reason: "version" | "fence"; current: Entry | null };

export interface Storage {
  get(key: string): Promise<Entry | null>;
  /** Unconditional write (still fenced when a fence is given); returns the new version. */
  put(key: string, value: Buffer, o?: WriteOptions): Promise<Version>;
  /** Writes only when the key is at `expected` (`null`: must not exist) and the fence holds. */
  compareAndSwap(key: string, expected: Version | null, value: Buffer, o?: WriteOptions): Promise<CasResult>;
  /** Keys under `prefix`, in key order, with their versions. */
  list(prefix: string): Promise<Listed[]>;
  /** Removes the key (only at `expected`, when given); true when something was removed. */
  delete(key: string, expected?: Version): Promise<boolean>;
}

export interface LockOwner {
  host: string;
  pid: number;
}

export interface LockHolder extends LockOwner {
  since: Date | null;
}

export interface LockOptions {
  /** How long to wait for a lock someone else holds (0: try once). */
  waitMs: number;
  /** Lease of the lock: how long it outlives a holder that stops renewing it. */
  ttlSeconds?: number;
  signal?: AbortSignal;
}

export interface Lock {
  readonly name: string;
  readonly fence: Fence;
  /** Aborted when the lock is known (or must be assumed) lost: its lease expired or could not be renewed in time. */
  readonly lost: AbortSignal;
  /** Gives the lock up (best effort: a lease expires by itself). Idempotent. */
  release(): Promise<void>;
}

export interface Locker {
  /** Takes the lock for `name`; throws ClusterError "busy" after `waitMs`. */
  lock(name: string, o: LockOptions): Promise<Lock>;
  /** Who holds the lock now, if anyone (for status). */
  holder(name: string): Promise<LockHolder | null>;
}

/** A backend: its Storage and the Locker whose fences that Storage checks. */
export interface Backend {
  readonly name: string;
  readonly storage: Storage;
  readonly locker: Locker;
  close(): Promise<void>;
}
