/**
 * The per-certificate lock under a takeover hammer: many processes take it in turn, some die while
 * holding it (SIGKILL by themselves, so a stale lock must be taken over) and the test SIGKILLs others
 * at random instants (inside acquire, release, takeover). Never may two live processes hold it at once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { acquireLock, lockHolder, LockBusy } from "../../src/store/lock.js";

const WORKER = resolve(import.meta.dirname, "../helpers/lock-worker.js");
const PROCS = Number(process.env.LOCK_HAMMER_PROCS ?? 10);
const ROUNDS = Number(process.env.LOCK_HAMMER_ROUNDS ?? 30);
const KILL_EVERY_MS = Number(process.env.LOCK_HAMMER_KILL_EVERY_MS ?? 60);

async function hammer(o: { procs: number; rounds: number; die: number; killEveryMs: number; pauseEveryMs: number; limitMs: number }) {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-lock-hammer-"));
  const lock = join(root, ".lock");
  const marker = join(root, "inside");
  const log = join(root, "log");
  writeFileSync(log, "");
  const target = o.procs * o.rounds;
  const live = new Set<ChildProcess>();
  let started = 0;
  let killed = 0;
  let paused = 0;
  const errors: string[] = [];
  /** pid → when it was sent SIGKILL (by us, or by itself: "dying" lines). */
  const deaths = new Map<number, number>();
  const rounds = () => readFileSync(log, "utf8").split("\n").filter((l) => l.startsWith("round")).length;
  const t0 = Date.now();
  await new Promise<void>((done) => {
    const start = () => {
      started++;
      const c = spawn(process.execPath, [WORKER, lock, marker, log, String(o.rounds), String(o.die)], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      c.stderr!.on("data", (d) => (err += d));
      live.add(c);
      c.on("exit", (code, signal) => {
        live.delete(c);
        if (code !== 0 && signal !== "SIGKILL") errors.push(`worker exit ${code}: ${err.slice(0, 500)}`);
        if (rounds() < target && Date.now() - t0 < o.limitMs) start();
        else if (live.size === 0) done();
      });
    };
    for (let i = 0; i < o.procs; i++) start();
    const killer = setInterval(() => {
      if (live.size === 0) return clearInterval(killer);
      // At most one kill per two finished rounds, so that a loaded machine still makes progress.
      if (killed > rounds() / 2) return;
      const victims = [...live];
      const v = victims[Math.floor(Math.random() * victims.length)]!;
      killed++;
      if (v.pid) deaths.set(v.pid, performance.timeOrigin + performance.now());
      v.kill("SIGKILL");
    }, o.killEveryMs);
    killer.unref();
    // A loaded machine: a process stopped for a while at any instant (between creating and writing a
    // file, between reading and removing one), then continued.
    const pauser = setInterval(() => {
      if (live.size === 0) return clearInterval(pauser);
      const victims = [...live];
      const v = victims[Math.floor(Math.random() * victims.length)]!;
      if (!v.kill("SIGSTOP")) return;
      paused++;
      setTimeout(() => v.kill("SIGCONT"), 100 + Math.random() * 300);
    }, o.pauseEveryMs);
    pauser.unref();
  });
  const lines = readFileSync(log, "utf8").split("\n");
  for (const l of lines.filter((x) => x.startsWith("dying"))) deaths.set(Number(l.split(" ")[1]), Number(l.split(" ")[2]));
  // A holder found inside after it had been sent SIGKILL is dying, not holding: the kernel released
  // its lock (closing its files) before /proc shows it as a zombie.
  const seen = lines.filter((l) => l.startsWith("double")).map((l) => l.split(" ").map(Number) as [number, number, number, number]);
  const dying = seen.filter(([, , owner, at]) => (deaths.get(owner) ?? Infinity) < at);
  return {
    doubles: seen.filter((d) => !dying.includes(d)).map((d) => `pids ${d[1]} and ${d[2]} at ${d[3]}`),
    dyingSeen: dying.length,
    rounds: lines.filter((l) => l.startsWith("round")).length,
    busy: lines.filter((l) => l.startsWith("busy")).length,
    started,
    killed,
    paused,
    errors,
    ms: Date.now() - t0,
    target,
  };
}

test("lock hammer: processes taking, dying with and taking over the lock; never two holders", { timeout: 300_000 }, async (t) => {
  const r = await hammer({ procs: PROCS, rounds: ROUNDS, die: 0.08, killEveryMs: KILL_EVERY_MS, pauseEveryMs: 250, limitMs: 150_000 });
  t.diagnostic(`${r.started} processes (${PROCS} at a time), ${r.rounds} lock rounds in ${r.ms} ms, ${r.killed} SIGKILLed from outside (one every ${KILL_EVERY_MS} ms) + ~8 % of rounds dying while holding, ${r.paused} SIGSTOPped for 0.1–0.4 s; ${r.busy} LockBusy; a dying holder's marker met ${r.dyingSeen} times; double holders: ${r.doubles.length}`);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.doubles.slice(0, 10), [], "never two live holders at once");
  assert.ok(r.rounds >= r.target, `the hammer made progress: ${r.rounds} of ${r.target} rounds`);
});

test("lock: a holder killed with SIGKILL is taken over at once; a live holder is not", { timeout: 60_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-lock-"));
  const file = join(root, ".lock");
  const holder = spawn(process.execPath, ["--input-type=module", "-e", `const { acquireLock } = await import(${JSON.stringify(resolve(import.meta.dirname, "../../src/store/lock.js"))}); await acquireLock(${JSON.stringify(file)}, 5000); console.log("held"); setInterval(() => {}, 1000);`], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((r) => holder.stdout!.on("data", (d) => String(d).includes("held") && r()));
  const t0 = Date.now();
  await assert.rejects(acquireLock(file, 500), (e: unknown) => e instanceof LockBusy && e.owner.includes(String(holder.pid)));
  assert.ok(Date.now() - t0 >= 450, "waited for the live holder");
  holder.kill("SIGKILL");
  await new Promise((r) => holder.on("exit", r));
  const t1 = Date.now();
  const l = await acquireLock(file, 5000);
  const took = Date.now() - t1;
  assert.ok(took < 2000, `a dead holder's lock taken over in ${took} ms`);
  await l.release();
  assert.equal(existsSync(file), false, "released: no lock file left");
});

/** A process that takes the lock, says when, holds it `holdMs`, says when it lets go. */
function holder(file: string, holdMs: number, wrapper: string[] = []) {
  const lockModule = JSON.stringify(resolve(import.meta.dirname, "../../src/store/lock.js"));
  const script = `const { acquireLock } = await import(${lockModule}); const now = () => performance.timeOrigin + performance.now();
const l = await acquireLock(${JSON.stringify(file)}, 30000); const t = now(); await new Promise((r) => setTimeout(r, ${holdMs}));
console.log(JSON.stringify({ from: t, to: now() })); await l.release();`;
  const cmd = [...wrapper, process.execPath, "--input-type=module", "-e", script];
  const c = spawn(cmd[0]!, cmd.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  c.stdout!.on("data", (d) => (out += d));
  return new Promise<{ from: number; to: number }>((res, rej) => c.on("exit", (code) => (code === 0 ? res(JSON.parse(out)) : rej(new Error(`holder exit ${code}: ${out}`)))));
}

test("lock: a taker slowed down between creating the lock file and naming itself in it is not joined by a second holder", { timeout: 120_000 }, async (t) => {
  // strace delays every write(2) of the first taker by 300 ms — a loaded machine, made repeatable.
  const probe = spawnSync("strace", ["-qq", "-o", "/dev/null", "-e", "inject=write:delay_enter=1", "true"]);
  if (probe.status !== 0) return t.skip(`strace cannot inject delays here: ${String(probe.stderr).trim()}`);
  const root = mkdtempSync(join(tmpdir(), "acme-renew-lock-slow-"));
  const file = join(root, ".lock");
  const slow = holder(file, 2000, ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=write", "-e", "inject=write:delay_enter=300000"]);
  // The second taker starts as soon as the lock file exists (created, its owner not yet written).
  const t0 = Date.now();
  while (!existsSync(file) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 2));
  const fast = holder(file, 2000);
  const [a, b] = await Promise.all([slow, fast]);
  const overlap = Math.min(a.to, b.to) - Math.max(a.from, b.from);
  t.diagnostic(`held ${Math.round(a.to - a.from)} ms and ${Math.round(b.to - b.from)} ms; overlap ${Math.round(Math.max(0, overlap))} ms`);
  assert.ok(overlap <= 0, `both held the lock for ${Math.round(overlap)} ms at once`);
});

test("lockHolder (doctor): held → its pid, from /proc/locks; a file left by a killed holder → free", { timeout: 30_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), "acme-renew-lock-"));
  const file = join(root, ".lock");
  assert.equal(await lockHolder(file), null, "no file: free");
  const l = await acquireLock(file, 1000);
  assert.equal(await lockHolder(file), `pid ${process.pid}`);
  await l.release();
  writeFileSync(file, "4194305 123"); // as a killed holder leaves it: content, but no flock
  assert.equal(await lockHolder(file), null);
});
