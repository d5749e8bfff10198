/**
 * Storage on a local directory, for one host (CertMagic's FileStorage, plus versions): a key is a
 * relative path, a value a file written atomically (src/store/atomic.ts). Each file starts with a
 * header line naming its version, so compare-and-swap compares a real version, not an mtime; writers
 * of one key serialize on the per-certificate lock (src/store/lock.ts, flock) under `.locks/`.
 */
import { promises as fs } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../store/atomic.js";
import { acquireLock, LockBusy } from "../store/lock.js";
import { ClusterError } from "./errors.js";
import type { CasResult, Entry, Fence, Listed, Storage, Version, WriteOptions } from "./storage.js";

export const FILE_BACKEND = "file";
const MAGIC = "acme-renew-kv 1 ";
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Checks a fence the FileLocker of this process issued (the only ones a file store can judge). */
export type FenceCheck = (f: Fence) => boolean;

export class FileStorage implements Storage {
  constructor(
    readonly root: string,
    private readonly fenceHolds: FenceCheck = () => false,
    private readonly lockWaitMs = 10_000,
  ) {}

  private path(key: string): string {
    const segs = key.replace(/^\/+/, "").split("/");
    if (segs.length === 0 || segs.some((s) => !SEGMENT.test(s))) throw new ClusterError("config", `storage key "${key}": segments must be letters, digits, '.', '_' or '-', not starting with '.' or '-'`);
    return join(this.root, ...segs);
  }

  private async read(key: string): Promise<Entry | null> {
    let raw: Buffer;
    try {
      raw = await fs.readFile(this.path(key));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return null;
      if (code === "EISDIR") throw new ClusterError("corrupt", `${this.path(key)}: a directory where a value should be`, { key });
      throw e;
    }
    const nl = raw.indexOf(0x0a);
    const head = nl < 0 ? "" : raw.subarray(0, nl).toString("latin1");
    if (!head.startsWith(MAGIC) || !/^\d+-[0-9a-f]{8}$/.test(head.slice(MAGIC.length))) throw new ClusterError("corrupt", `${this.path(key)}: not a value written by acme-renew (bad header)`, { key });
    return { key, value: raw.subarray(nl + 1), version: head.slice(MAGIC.length) };
  }

  /** Runs `fn` holding the key's write lock. */
  private async exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lockFile = join(this.root, ".locks", `${createHash("sha256").update(key).digest("hex").slice(0, 32)}.lock`);
    await fs.mkdir(dirname(lockFile), { recursive: true, mode: 0o700 });
    let lock;
    try {
      lock = await acquireLock(lockFile, this.lockWaitMs);
    } catch (e) {
      if (e instanceof LockBusy) throw new ClusterError("timeout", `writing ${key}: ${e.message}`, { key });
      throw e;
    }
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  private async write(key: string, value: Buffer, previous: Entry | null): Promise<Version> {
    const n = previous ? Number(previous.version.split("-")[0]) + 1 : 1;
    const version = `${n}-${randomBytes(4).toString("hex")}`;
    const file = this.path(key);
    await fs.mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, Buffer.concat([Buffer.from(`${MAGIC}${version}\n`, "latin1"), value]), 0o600);
    return version;
  }

  private checkFence(key: string, f: Fence | undefined): boolean {
    if (!f) return true;
    if (f.backend !== FILE_BACKEND) throw new ClusterError("config", `a ${f.backend} lock cannot fence a file write (${key})`);
    return this.fenceHolds(f);
  }

  get(key: string): Promise<Entry | null> {
    return this.read(key);
  }

  put(key: string, value: Buffer, o: WriteOptions = {}): Promise<Version> {
    return this.exclusive(key, async () => {
      if (!this.checkFence(key, o.fence)) throw new ClusterError("lock-lost", `writing ${key}: the lock ${o.fence!.lockKey} is no longer held`, { key });
      return this.write(key, value, await this.read(key));
    });
  }

  compareAndSwap(key: string, expected: Version | null, value: Buffer, o: WriteOptions = {}): Promise<CasResult> {
    return this.exclusive(key, async () => {
      const current = await this.read(key);
      if (!this.checkFence(key, o.fence)) return { ok: false, reason: "fence", current };
      if ((current?.version ?? null) !== expected) return { ok: false, reason: "version", current };
      return { ok: true, version: await this.write(key, value, current) };
    });
  }

  async list(prefix: string): Promise<Listed[]> {
    // Keys are paths: walk the directory the prefix names (or its parent for a partial last segment).
    const rel = prefix.replace(/^\/+/, "");
    const start = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
    const out: Listed[] = [];
    const walk = async (dir: string, keyBase: string): Promise<void> => {
      let names: string[];
      try {
        names = (await fs.readdir(dir)).sort();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return;
        throw e;
      }
      for (const n of names) {
        if (!SEGMENT.test(n)) continue; // .locks, temp files
        const k = keyBase ? `${keyBase}/${n}` : n;
        const st = await fs.lstat(join(dir, n));
        if (st.isDirectory()) {
          if (`${k}/`.startsWith(rel) || rel.startsWith(`${k}/`)) await walk(join(dir, n), k);
        } else if (st.isFile() && k.startsWith(rel)) {
          const e = await this.read(k);
          if (e) out.push({ key: prefix.startsWith("/") ? `/${k}` : k, version: e.version });
        }
      }
    };
    await walk(start ? join(this.root, ...start.split("/")) : this.root, start);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  delete(key: string, expected?: Version): Promise<boolean> {
    return this.exclusive(key, async () => {
      const current = await this.read(key);
      if (!current || (expected !== undefined && current.version !== expected)) return false;
      await fs.rm(this.path(key), { force: true });
      return true;
    });
  }
}
