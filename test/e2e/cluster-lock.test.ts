/**
 * Locks and fencing on a real 3-member etcd 3.5, with holders in separate processes: exclusivity
 * under contention, a lease that expires after kill -9 of its holder, and a holder paused
 * (SIGSTOP) past its lease whose write the fencing check refuses.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { openEtcd, type EtcdBackend } from "../../src/cluster/open.js";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd.js";

const WORKER = join(import.meta.dirname, "../helpers/cluster-worker.js");
let cluster: EtcdCluster;
const opened: EtcdBackend[] = [];
const children = new Set<ChildProcess>();
let n = 0;

before(async () => {
  cluster = await startEtcdCluster();
});
after(async () => {
  for (const c of children) c.kill("SIGKILL");
  for (const b of opened) await b.close();
  await cluster?.stop();
});

const prefix = () => `/acme-renew/t${process.pid}-${++n}`;

async function open(p: string) {
  const b = await openEtcd({ etcd: { endpoints: cluster.endpoints }, prefix: p });
  opened.push(b);
  return b;
}

interface Msg {
  pid: number;
  t: number;
  ev: string;
  [k: string]: unknown;
}

/** Starts a worker; `next(ev)` resolves with its next message of that kind (bounded). */
function worker(args: object) {
  const child = spawn(process.execPath, [WORKER, JSON.stringify({ endpoints: cluster.endpoints, ...args })], { stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  const msgs: Msg[] = [];
  const waiters: Array<() => void> = [];
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  createInterface({ input: child.stdout! }).on("line", (l) => {
    msgs.push(JSON.parse(l) as Msg);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => (children.delete(child), r(code))));
  let seen = 0;
  const next = async (ev: string, timeoutMs = 60_000): Promise<Msg> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = msgs.findIndex((m, k) => k >= seen && m.ev === ev);
      if (i >= 0) {
        seen = i + 1;
        return msgs[i]!;
      }
      if (Date.now() > deadline) throw new Error(`worker ${child.pid}: no "${ev}" within ${timeoutMs} ms; stderr: ${err}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  return { child, msgs, next, exited, stderr: () => err };
}

test("lock: 8 processes × 4 rounds contend; the holds never overlap and every fenced increment lands", async () => {
  const p = prefix();
  const key = `${p}/counter`;
  const ws = Array.from({ length: 8 }, () => worker({ mode: "contend", prefix: p, name: "contended", key, ttlSeconds: 5, rounds: 4 }));
  const codes = await Promise.all(ws.map((w) => Promise.race([w.exited, new Promise<string>((r) => setTimeout(() => r("timeout"), 240_000).unref())])));
  assert.deepEqual(codes, ws.map(() => 0), ws.map((w) => w.stderr()).join("\n"));
  const all = ws.flatMap((w) => w.msgs);
  const cas = all.filter((m) => m.ev === "cas");
  assert.equal(cas.length, 32);
  assert.ok(cas.every((m) => m.ok === true), "no CAS lost to a concurrent holder");
  const b = await open(p);
  assert.equal((await b.storage.get(key))?.value.toString(), "32");
  // Holds are [locked, unlock] per worker in order; sorted by start they must not overlap.
  const holds = ws.flatMap((w) => {
    const l = w.msgs.filter((m) => m.ev === "locked");
    const u = w.msgs.filter((m) => m.ev === "unlock");
    return l.map((m, i) => ({ start: m.t, end: u[i]!.t, token: BigInt(m.token as string) }));
  }).sort((a, b) => (a.token < b.token ? -1 : 1));
  for (let i = 1; i < holds.length; i++) assert.ok(holds[i]!.start >= holds[i - 1]!.end, `hold ${i} began before hold ${i - 1} ended`);
  const reqs = ws.map((w) => w.msgs.find((m) => m.ev === "done")!.requests as number);
  console.log(`contention: etcd requests per round (lock + get + CAS + release, waits included): min ${Math.min(...reqs) / 4}, max ${Math.max(...reqs) / 4}`);
});

test("lock: 30 contenders in one process: at most one holds at a time, all get it", async () => {
  const p = prefix();
  const bs = await Promise.all(Array.from({ length: 30 }, () => open(p)));
  let holding = 0;
  let maxHolding = 0;
  let got = 0;
  await Promise.all(
    bs.map(async (b) => {
      const l = await b.locker.lock("inproc", { waitMs: 120_000, ttlSeconds: 5 });
      holding++;
      maxHolding = Math.max(maxHolding, holding);
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
      holding--;
      got++;
      await l.release();
    }),
  );
  assert.equal(maxHolding, 1);
  assert.equal(got, 30);
});

test("lock: kill -9 of the holder: its lease expires within the TTL and another host takes the lock", async () => {
  const p = prefix();
  const ttl = 3;
  const w = worker({ mode: "hold", prefix: p, name: "killed", key: `${p}/record`, ttlSeconds: ttl });
  await w.next("locked");
  const b = await open(p);
  assert.equal((await b.locker.holder("killed"))?.pid, w.child.pid);
  w.child.kill("SIGKILL");
  await w.exited;
  const t0 = Date.now();
  const l = await b.locker.lock("killed", { waitMs: 30_000, ttlSeconds: ttl });
  const waited = Date.now() - t0;
  console.log(`kill -9: lock taken over ${waited} ms after the holder died (TTL ${ttl} s)`);
  assert.ok(waited <= ttl * 1000 + 3_000, `${waited} ms`);
  assert.equal((await b.locker.holder("killed"))?.pid, process.pid);
  await l.release();
});

test("fencing: a holder SIGSTOPped past its lease cannot overwrite the newer record written meanwhile", async () => {
  const p = prefix();
  const key = `${p}/record`;
  const b = await open(p);
  await b.storage.put(key, Buffer.from("original"));
  const ttl = 2;
  const w = worker({ mode: "hold", prefix: p, name: "stopped", key, ttlSeconds: ttl });
  const locked = await w.next("locked");
  assert.ok(locked.version, "the holder read the record's version under its lock");
  w.child.kill("SIGSTOP");
  try {
    // The lease runs out while the holder is stopped; this host takes the lock and writes a newer record.
    const l = await b.locker.lock("stopped", { waitMs: 30_000, ttlSeconds: ttl });
    const cur = (await b.storage.get(key))!;
    const r = await b.storage.compareAndSwap(key, cur.version, Buffer.from("newer"), { fence: l.fence });
    assert.ok(r.ok);
    await l.release();
  } finally {
    w.child.kill("SIGCONT");
  }
  await new Promise((r) => setTimeout(r, 200));
  w.child.stdin!.write("write stale\n");
  const res = await w.next("cas");
  assert.equal(res.ok, false);
  assert.equal(res.reason, "fence", "refused by the fencing check (the stale holder's version is outdated too)");
  assert.equal(res.current, "newer");
  assert.equal(res.lost, true, "the stale holder knows its lock is lost once it runs again");
  assert.equal((await b.storage.get(key))?.value.toString(), "newer", "the newer record stays");
  w.child.stdin!.write("exit\n");
  assert.equal(await w.exited, 0, w.stderr());
});

test("fencing: a stale holder whose version is still current is refused by the fence alone", async () => {
  const p = prefix();
  const key = `${p}/record`;
  const b = await open(p);
  await b.storage.put(key, Buffer.from("original"));
  const w = worker({ mode: "hold", prefix: p, name: "stale", key, ttlSeconds: 2 });
  await w.next("locked");
  w.child.kill("SIGSTOP");
  let l;
  try {
    l = await b.locker.lock("stale", { waitMs: 30_000, ttlSeconds: 5 }); // taken over, nothing written yet
  } finally {
    w.child.kill("SIGCONT");
  }
  const before = (await b.storage.get(key))!;
  w.child.stdin!.write("write stale\n");
  const res = await w.next("cas");
  assert.equal(res.ok, false);
  assert.equal(res.reason, "fence", "the version alone would have let this write through");
  const after = (await b.storage.get(key))!;
  assert.equal(after.version, before.version, "the record was not touched");
  const mine = await b.storage.compareAndSwap(key, before.version, Buffer.from("new holder"), { fence: l.fence });
  assert.ok(mine.ok, "the new holder's write goes through");
  await l.release();
  w.child.stdin!.write("exit\n");
  assert.equal(await w.exited, 0, w.stderr());
});
