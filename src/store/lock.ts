/**
 * A per-certificate lock file that survives kill -9: it names its owner (pid + process start time),
 * so a later run can tell a dead owner's lock from a live one and take it over. Taking over a stale
 * lock happens under a second, short-lived "reap" lock so that two runs cannot both remove it.
 */
import { constants, promises as fs, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export class LockBusy extends Error {
  constructor(readonly file: string, readonly owner: string) {
    super(`${file} is held by ${owner}`);
  }
}

function startTime(pid: number): string {
  try {
    // Field 22 of /proc/<pid>/stat, after the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}

const ME = `${process.pid} ${startTime(process.pid)}`;

function ownerAlive(owner: string): boolean {
  const [pidS, start] = owner.trim().split(" ");
  const pid = Number(pidS);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  // The pid exists: the same process only if its start time matches (pids are reused).
  return !start || startTime(pid) === start;
}

async function tryCreate(file: string): Promise<boolean> {
  let h;
  try {
    h = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
  try {
    await h.writeFile(ME);
    await h.close();
    return true;
  } catch (e) {
    // Ours but nameless (e.g. ENOSPC): leave no empty lock for the next run to wait out.
    await h.close().catch(() => {});
    await fs.rm(file, { force: true });
    throw e;
  }
}

/**
 * A lock file is empty between its owner's O_EXCL create and the write of its name: microseconds,
 * but more than 5 ms on a loaded machine (seen). Empty, it counts as stale only once it is this old
 * (its owner died in between); before, it is held. Shorter than `ready`'s 5 s lock wait, so that
 * the boot step still takes over such a lock.
 */
const EMPTY_GRACE_MS = 2_000;

/** Whether the lock `file` whose content is `owner` belongs to nobody alive. */
async function isStale(file: string, owner: string): Promise<boolean> {
  if (owner !== "") return !ownerAlive(owner);
  try {
    return Math.abs(Date.now() - (await fs.stat(file)).mtimeMs) >= EMPTY_GRACE_MS;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false; // gone: the caller retries
    throw e;
  }
}

async function readOwner(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** Removes `file` if its owner is dead. Returns true if the caller should retry creating it. */
async function reapIfStale(file: string): Promise<boolean> {
  const reap = `${file}.reap`;
  if (!(await tryCreate(reap))) {
    // Another run is reaping; a reap lock of a dead process (crash inside the few ms of reaping) goes too.
    const o = await readOwner(reap);
    if (o !== null && (await isStale(reap, o))) await fs.rm(reap, { force: true });
    return true;
  }
  try {
    const owner = await readOwner(file);
    if (owner === null) return true;
    // An owner that died between O_EXCL create and writing its name leaves an empty file.
    if (await isStale(file, owner)) {
      await fs.rm(file, { force: true });
      return true;
    }
    return false;
  } finally {
    await fs.rm(reap, { force: true });
  }
}

export interface Lock {
  release(): Promise<void>;
}

/** Takes the lock, waiting up to `waitMs`; throws LockBusy after that. */
export async function acquireLock(file: string, waitMs: number, pollMs = 100): Promise<Lock> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await tryCreate(file)) {
      return {
        release: async () => {
          if ((await readOwner(file)) === ME) await fs.rm(file, { force: true });
        },
      };
    }
    const owner = await readOwner(file);
    if (owner === null || (await isStale(file, owner))) {
      if (await reapIfStale(file)) {
        await sleep(5 + Math.random() * 20);
        if (Date.now() < deadline) continue;
      }
    }
    if (Date.now() >= deadline) throw new LockBusy(file, `pid ${(owner ?? "?").split(" ")[0]}`);
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
  }
}
