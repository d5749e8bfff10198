/**
 * Locks for one host: the per-certificate lock (src/store/lock.ts, a flock(2) kernel lock), unchanged.
 * Its fence is checked in-process: the lock passes to another process only once the holder released
 * it or died (the kernel drops a dead holder's flock), and a dead process writes nothing, so
 * "still held" means "not released".
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { hostname } from "node:os";
import { acquireLock, lockHolder, LockBusy } from "../store/lock.js";
import { ClusterError } from "./errors.js";
import { FILE_BACKEND } from "./file-storage.js";
import type { Fence, Lock, LockHolder, LockOptions, Locker } from "./storage.js";

export class FileLocker implements Locker {
  private readonly held = new Set<string>();
  private seq = 0;

  /** `lockFile(name)`: the lock file of a certificate (today: certPaths(stateDir, name).lock). */
  constructor(private readonly lockFile: (name: string) => string) {}

  /** For FileStorage: does this process still hold the lock behind `f`? */
  readonly fenceHolds = (f: Fence): boolean => f.backend === FILE_BACKEND && this.held.has(f.token);

  async lock(name: string, o: LockOptions): Promise<Lock> {
    const file = this.lockFile(name);
    let l;
    try {
      l = await acquireLock(file, o.waitMs);
    } catch (e) {
      if (e instanceof LockBusy) throw new ClusterError("busy", e.message, { key: file });
      throw e;
    }
    const token = `${++this.seq}-${randomBytes(6).toString("hex")}`;
    this.held.add(token);
    let released = false;
    return {
      name,
      fence: { backend: FILE_BACKEND, lockKey: file, token },
      lost: new AbortController().signal, // a live process never loses its local lock
      release: async () => {
        if (released) return;
        released = true;
        this.held.delete(token);
        await l.release();
      },
    };
  }

  async holder(name: string): Promise<LockHolder | null> {
    const file = this.lockFile(name);
    if (!(await lockHolder(file))) return null; // a file a killed holder left is no lock
    try {
      const [text, st] = await Promise.all([fs.readFile(file, "utf8"), fs.stat(file)]);
      const pid = Number(text.trim().split(" ")[0]);
      return { host: hostname(), pid: Number.isInteger(pid) ? pid : 0, since: st.mtime };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
  }
}
