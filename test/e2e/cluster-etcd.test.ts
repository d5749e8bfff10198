/**
 * The etcd backend against a real 3-member etcd 3.5 cluster on loopback: the storage contract,
 * request counts, and bounded, classified failures (paused member, leader killed, quorum lost,
 * all members paused or down).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { openEtcd, type EtcdBackend } from "../../src/cluster/open.js";
import { isClusterError, type ClusterError } from "../../src/cluster/errors.js";
import { decodeCertRecord, encodeCertRecord } from "../../src/cluster/records.js";
import { SealKey } from "../../src/cluster/seal.js";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd.js";
import { storageContract } from "../helpers/storage-contract.js";
import { makeLeaf } from "../helpers/pki.js";

let cluster: EtcdCluster;
const opened: EtcdBackend[] = [];
let n = 0;

async function open(o: { opTimeoutMs?: number } = {}) {
  const b = await openEtcd({ etcd: { endpoints: cluster.endpoints }, prefix: `/acme-renew/t${process.pid}-${++n}`, ...o });
  opened.push(b);
  return b;
}

before(async () => {
  cluster = await startEtcdCluster();
});
after(async () => {
  for (const b of opened) await b.close();
  await cluster?.stop();
});

storageContract("etcd", async () => {
  const backend = await open();
  return { backend, prefix: backend.layout.prefix, lockName: (tag: string) => `c-${tag}-${++n}` };
});

/** Runs `op`, expecting a ClusterError; returns it and how long it took. */
async function failure(op: () => Promise<unknown>): Promise<{ e: ClusterError; ms: number }> {
  const t0 = Date.now();
  try {
    await op();
  } catch (e) {
    if (!isClusterError(e)) throw e;
    return { e, ms: Date.now() - t0 };
  }
  assert.fail("expected a ClusterError");
}

test("etcd: requests per operation (counted by the client)", async () => {
  const b = await open();
  const count = async (op: () => Promise<unknown>) => {
    const before = b.requests();
    await op();
    return b.requests() - before;
  };
  const k = `${b.layout.prefix}/count/x`;
  assert.equal(await count(() => b.storage.get(k)), 1, "get");
  assert.equal(await count(() => b.storage.put(k, Buffer.from("1"))), 1, "put");
  const v = (await b.storage.get(k))!.version;
  assert.equal(await count(() => b.storage.compareAndSwap(k, v, Buffer.from("2"))), 1, "CAS");
  let lock: Awaited<ReturnType<typeof b.locker.lock>> | undefined;
  assert.equal(await count(async () => (lock = await b.locker.lock("count", { waitMs: 0, ttlSeconds: 10 }))), 2, "lock = lease grant + txn");
  const v2 = (await b.storage.get(k))!.version;
  assert.equal(await count(() => b.storage.compareAndSwap(k, v2, Buffer.from("3"), { fence: lock!.fence })), 1, "fenced CAS");
  assert.equal(await count(() => b.storage.getPrefix(b.layout.certPrefix("count"))), 1, "record + state + lock of one certificate");
  assert.equal(await count(() => lock!.release()), 1, "release = lease revoke");
});

test("etcd: a sealed record read back with the wrong key, or corrupted in etcd, is a clear error naming the key", async () => {
  const b = await open();
  const { key, cert, issuer } = await makeLeaf({ names: ["a.example.com"] });
  const seal = new SealKey(randomBytes(32));
  const k = b.layout.record("a.example.com");
  await b.storage.put(k, encodeCertRecord({ name: "a.example.com", generation: 1, keyPem: key.pem, certPem: `${cert.toString("pem")}\n`, chainPem: `${issuer!.cert.toString("pem")}\n`, publishedBy: "h", publishedAt: new Date() }, seal));
  const got = (await b.storage.get(k))!;
  assert.equal(decodeCertRecord(got.value, k, "a.example.com", seal).keyPem, key.pem);
  assert.throws(() => decodeCertRecord(got.value, k, "a.example.com", new SealKey(randomBytes(32))), (e) => isClusterError(e, "wrong-key") && e.message.startsWith(k));
  await b.storage.put(k, Buffer.concat([got.value.subarray(0, 100), Buffer.from("\u0000garbage")]));
  const damaged = (await b.storage.get(k))!.value;
  assert.throws(() => decodeCertRecord(damaged, k, "a.example.com", seal), (e) => isClusterError(e, "corrupt") && e.message.startsWith(`${k}: `));
});

test("etcd: one member SIGSTOPped: operations go to the others within the bound", async () => {
  const b = await open();
  const k = `${b.layout.prefix}/paused/x`;
  await b.storage.put(k, Buffer.from("0"));
  // Pause the member this client prefers (the one that answered last) so it must fail over.
  cluster.pauseMember(0);
  try {
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const cur = (await b.storage.get(k))!;
      const r = await b.storage.compareAndSwap(k, cur.version, Buffer.from(String(i + 1)));
      assert.ok(r.ok);
      assert.ok(Date.now() - t0 < 10_000, `get + CAS took ${Date.now() - t0} ms`);
      console.log(`one paused: get + CAS ${Date.now() - t0} ms`);
    }
    const l = await b.locker.lock("paused", { waitMs: 0, ttlSeconds: 5 });
    await l.release();
  } finally {
    cluster.resumeMember(0);
  }
  await cluster.waitHealthy();
});

test("etcd: leader killed while CAS increments go on: each one succeeds or fails transiently, none is lost", async () => {
  const b = await open();
  const k = `${b.layout.prefix}/leader/x`;
  await b.storage.put(k, Buffer.from("0"));
  let ok = 0;
  let transient = 0;
  const t0 = Date.now();
  for (let i = 0; i < 40; i++) {
    if (i === 10) await cluster.killMember(await cluster.leader());
    try {
      const cur = (await b.storage.get(k))!;
      const r = await b.storage.compareAndSwap(k, cur.version, Buffer.from(String(Number(cur.value.toString()) + 1)));
      if (r.ok) ok++;
    } catch (e) {
      assert.ok(isClusterError(e) && e.transient, `only transient failures: ${(e as Error).message}`);
      transient++;
    }
  }
  assert.equal(Number((await b.storage.get(k))!.value.toString()), ok, `every acknowledged increment is there (ok ${ok}, transient failures ${transient})`);
  assert.ok(ok >= 30, `most increments went through after the election (${ok})`);
  console.log(`leader killed: ${ok} increments ok, ${transient} transient failures, ${Date.now() - t0} ms`);
  assert.ok(Date.now() - t0 < 60_000);
  for (let i = 0; i < 3; i++) await cluster.startMember(i);
});

test("etcd: quorum lost (2 of 3 stopped): get, put, CAS and lock fail as unavailable/timeout within 10 s; back when restored", async () => {
  const b = await open();
  const k = `${b.layout.prefix}/quorum/x`;
  const v = await b.storage.put(k, Buffer.from("before"));
  await cluster.stopMember(1);
  await cluster.stopMember(2);
  try {
    for (const [what, op] of [
      ["get", () => b.storage.get(k)],
      ["put", () => b.storage.put(k, Buffer.from("x"))],
      ["CAS", () => b.storage.compareAndSwap(k, v, Buffer.from("x"))],
      ["lock", () => b.locker.lock("quorum", { waitMs: 0, ttlSeconds: 5 })],
    ] as const) {
      const { e, ms } = await failure(op);
      assert.ok(e.kind === "unavailable" || e.kind === "timeout", `${what}: ${e.kind}: ${e.message}`);
      assert.ok(e.transient);
      assert.ok(ms <= 10_000, `${what} failed after ${ms} ms`);
      console.log(`quorum lost: ${what} → ${e.kind} after ${ms} ms (${e.message.slice(0, 160)})`);
    }
  } finally {
    await cluster.startMember(1);
    await cluster.startMember(2);
  }
  assert.equal((await b.storage.get(k))?.value.toString(), "before", "nothing was written while quorum was lost");
});

test("etcd: every member SIGSTOPped: timeout within the bound", async () => {
  const b = await open();
  for (let i = 0; i < 3; i++) cluster.pauseMember(i);
  try {
    const { e, ms } = await failure(() => b.storage.get(`${b.layout.prefix}/x`));
    assert.equal(e.kind, "timeout", e.message);
    assert.ok(ms <= 10_000, `${ms} ms`);
    console.log(`all paused: ${e.kind} after ${ms} ms`);
  } finally {
    for (let i = 0; i < 3; i++) cluster.resumeMember(i);
  }
  await cluster.waitHealthy();
});

test("etcd: every member down: unreachable within a second; back after a restart", async () => {
  const b = await open();
  const k = `${b.layout.prefix}/down/x`;
  await b.storage.put(k, Buffer.from("kept"));
  for (let i = 0; i < 3; i++) await cluster.killMember(i);
  try {
    const { e, ms } = await failure(() => b.storage.get(k));
    assert.equal(e.kind, "unreachable", e.message);
    assert.ok(ms < 1_500, `${ms} ms`);
    console.log(`all down: ${e.kind} after ${ms} ms: ${e.message}`);
    for (const ep of cluster.endpoints) assert.ok(e.message.includes(ep), "the error names every endpoint");
  } finally {
    for (let i = 0; i < 3; i++) await cluster.startMember(i, { wait: false });
    await cluster.waitHealthy();
  }
  assert.equal((await b.storage.get(k))?.value.toString(), "kept");
});
