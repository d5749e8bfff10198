/**
 * One contender of the lock hammer (test/unit/lock.test.ts): takes the lock ROUNDS times; inside,
 * claims a marker file with O_EXCL — finding one whose writer is still alive means two holders at
 * once — unless that process had already been sent SIGKILL (the kernel drops its locks before /proc
 * shows it as a zombie; the test compares times). With probability DIE a worker kills itself while
 * holding the lock (a stale lock to take over).
 *   node lock-worker.js <lockfile> <marker> <log> <rounds> <dieProbability>
 */
import { appendFileSync, linkSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { acquireLock, LockBusy } from "../../src/store/lock.js";

const [lockFile, marker, log, roundsS, dieS] = process.argv.slice(2) as [string, string, string, string, string];

/** Wall-clock milliseconds, comparable between processes. */
const now = () => performance.timeOrigin + performance.now();

/** Alive and not a zombie (a SIGKILLed worker stays a zombie until the test reaps it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Claims the marker atomically (written, then linked: never seen empty). */
function claim(): void {
  const mine = `${marker}.${process.pid}`;
  writeFileSync(mine, String(process.pid));
  try {
    for (;;) {
      try {
        linkSync(mine, marker);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      let owner: number;
      try {
        owner = Number(readFileSync(marker, "utf8"));
      } catch {
        continue; // removed meanwhile
      }
      if (alive(owner)) appendFileSync(log, `double ${process.pid} ${owner} ${now()}\n`);
      rmSync(marker, { force: true }); // a dead holder's (its lock was taken over), or recorded above
    }
  } finally {
    rmSync(mine, { force: true });
  }
}

for (let i = 0; i < Number(roundsS); i++) {
  let lock;
  try {
    lock = await acquireLock(lockFile, 30_000);
  } catch (e) {
    if (e instanceof LockBusy) {
      appendFileSync(log, `busy ${process.pid}\n`);
      continue;
    }
    throw e;
  }
  claim();
  if (Math.random() < Number(dieS)) {
    appendFileSync(log, `dying ${process.pid} ${now()}\n`);
    process.kill(process.pid, "SIGKILL");
  }
  await sleep(Math.random() * 3);
  rmSync(marker, { force: true });
  appendFileSync(log, `round ${process.pid}\n`);
  await lock.release();
}
