/**
 * The per-certificate (and per-account) lock: a kernel lock, flock(2) LOCK_EX, on `<dir>/.lock`.
 * The kernel drops it when its holder dies however it dies (kill -9, OOM killer), so there is
 * nothing to reap and no guessing whether a pid is still its owner (pid reuse, pid namespaces).
 * Node has no flock(): util-linux's `flock` program takes it on *our* open file description,
 * handed to it as fd 3, and exits; the lock stays with our descriptor until we close it.
 *
 * The file exists only while held: the holder unlinks it, then closes. A waiter that meanwhile got
 * the lock on the unlinked file sees that the path no longer names it and tries again.
 * The file's content, "<pid> <start time>" of the holder, is for messages only.
 */
import { constants, promises as fs, readFileSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { describeEnd, outputLines, runProgram } from "../hooks/spawn.js";

export class LockBusy extends Error {
  constructor(
    readonly file: string,
    readonly owner: string,
  ) {
    super(`${file} is held by ${owner}`);
  }
}

export interface Lock {
  release(): Promise<void>;
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
/** One `flock -w` waits at most this long, so that a waiter killed meanwhile leaves no long-lived child. */
const WAIT_CHUNK_MS = 5_000;
const BUSY = 100;

/** flock(2) LOCK_EX on `h`, waiting up to `waitMs` (0: don't wait). True when taken. */
async function flock(h: FileHandle, waitMs: number): Promise<boolean> {
  const wait = waitMs > 0 ? ["-w", (waitMs / 1000).toFixed(3)] : ["-n"];
  const r = await runProgram("flock", ["-x", ...wait, "-E", String(BUSY), "3"], { timeoutMs: waitMs + 10_000, fds: [h.fd] });
  if (r.ok) return true;
  if (r.end === "exited" && r.exitCode === BUSY) return false;
  if (r.end === "spawn-failed" && r.error === "ENOENT") throw new Error("flock(1) (util-linux) is not on PATH; it takes acme-renew's locks");
  throw new Error(`flock(1) ${describeEnd(r, waitMs + 10_000)}${r.output ? `: ${outputLines(r, 1)[0]}` : ""}`);
}

/** Does `file` (still) name the file `h` has open? */
async function names(file: string, h: FileHandle): Promise<boolean> {
  const [mine, now] = await Promise.all([h.stat(), fs.lstat(file).catch(() => null)]);
  return now !== null && now.ino === mine.ino && now.dev === mine.dev;
}

async function ownerOf(file: string): Promise<string> {
  const text = await fs.readFile(file, "utf8").catch(() => "");
  const pid = text.trim().split(" ")[0];
  return pid ? `pid ${pid}` : "another process";
}

/** Takes the lock, waiting up to `waitMs`; throws LockBusy after that. */
export async function acquireLock(file: string, waitMs: number): Promise<Lock> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const h = await fs.open(file, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    let held = false;
    try {
      held = (await flock(h, Math.min(WAIT_CHUNK_MS, Math.max(0, deadline - Date.now())))) && (await names(file, h));
    } finally {
      if (!held) await h.close();
    }
    if (held) {
      // For messages only: a full disk must not stop us from holding the lock.
      await h.truncate(0).then(() => h.write(`${ME}\n`, 0)).catch(() => {});
      let released = false;
      return {
        release: async () => {
          if (released) return;
          released = true;
          try {
            if (await names(file, h)) await fs.unlink(file);
          } finally {
            await h.close();
          }
        },
      };
    }
    if (Date.now() >= deadline) throw new LockBusy(file, await ownerOf(file));
  }
}

/**
 * Who holds the lock, from /proc/locks (no child process, takes nothing): "pid N", or null when
 * it is free — a file left by a holder that was killed is free.
 */
export async function lockHolder(file: string): Promise<string | null> {
  let st;
  try {
    st = await fs.stat(file);
  } catch {
    return null;
  }
  // /proc/locks: "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (major:minor in hex).
  const major = Number((BigInt(st.dev) >> 8n) & 0xfffn);
  const minor = Number((BigInt(st.dev) & 0xffn) | ((BigInt(st.dev) >> 12n) & ~0xffn));
  const id = `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}:${st.ino}`;
  const locks = await fs.readFile("/proc/locks", "utf8").catch(() => "");
  const held = locks.split("\n").some((l) => !l.includes("->") && /\bFLOCK\b/.test(l) && l.split(/\s+/).includes(id));
  return held ? ownerOf(file) : null;
}
