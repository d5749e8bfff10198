/**
 * The contract every cluster backend (src/cluster/storage.ts) must meet, as node:test cases: the
 * file backend runs it in test/unit/cluster-file.test.ts, etcd in test/e2e/cluster-etcd.test.ts.
 * A future S3 or PostgreSQL backend runs the same function.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Backend } from "../../src/cluster/storage.js";
import { isClusterError } from "../../src/cluster/errors.js";

export interface ContractTarget {
  backend: Backend;
  /** A key prefix of this run (keys are `${prefix}/...`). */
  prefix: string;
  /** A certificate name whose lock this run may take. */
  lockName: (tag: string) => string;
}

const buf = (s: string) => Buffer.from(s, "utf8");

export function storageContract(label: string, target: () => Promise<ContractTarget>) {
  test(`${label}: get of a missing key is null; create-only CAS succeeds once`, async () => {
    const { backend: b, prefix } = await target();
    const k = `${prefix}/create/x`;
    assert.equal(await b.storage.get(k), null);
    const first = await b.storage.compareAndSwap(k, null, buf("one"));
    assert.equal(first.ok, true);
    const second = await b.storage.compareAndSwap(k, null, buf("two"));
    assert.equal(second.ok, false);
    assert.ok(!second.ok && second.reason === "version" && second.current?.value.toString() === "one", "the loser sees the winner's value");
    const got = await b.storage.get(k);
    assert.equal(got?.value.toString(), "one");
    assert.equal(got?.version, first.ok ? first.version : "");
  });

  test(`${label}: CAS with the current version wins, with a stale version loses and sees the current value`, async () => {
    const { backend: b, prefix } = await target();
    const k = `${prefix}/cas/x`;
    const v1 = await b.storage.put(k, buf("a"));
    const r2 = await b.storage.compareAndSwap(k, v1, buf("b"));
    assert.ok(r2.ok);
    assert.notEqual(r2.version, v1, "a write makes a new version");
    const stale = await b.storage.compareAndSwap(k, v1, buf("c"));
    assert.ok(!stale.ok && stale.reason === "version");
    assert.equal(stale.current?.value.toString(), "b");
    assert.equal(stale.current?.version, r2.version);
    assert.equal((await b.storage.get(k))?.value.toString(), "b");
  });

  test(`${label}: values are bytes (all 256 byte values round-trip), put returns the version get sees`, async () => {
    const { backend: b, prefix } = await target();
    const k = `${prefix}/bytes/x`;
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const v = await b.storage.put(k, all);
    const got = await b.storage.get(k);
    assert.ok(got && got.value.equals(all));
    assert.equal(got.version, v);
  });

  test(`${label}: list returns the keys under a prefix in order, with their versions, and nothing outside it`, async () => {
    const { backend: b, prefix } = await target();
    const v: Record<string, string> = {};
    for (const k of ["c/2", "c/1", "c/10/z", "cc/1", "d"]) v[k] = await b.storage.put(`${prefix}/list/${k}`, buf(k));
    const got = await b.storage.list(`${prefix}/list/c/`);
    assert.deepEqual(got.map((e) => e.key), [`${prefix}/list/c/1`, `${prefix}/list/c/10/z`, `${prefix}/list/c/2`]);
    assert.deepEqual(got.map((e) => e.version), [v["c/1"], v["c/10/z"], v["c/2"]]);
    assert.deepEqual(await b.storage.list(`${prefix}/list/none/`), []);
  });

  test(`${label}: delete at a wrong version keeps the key; at the right version or unconditionally removes it`, async () => {
    const { backend: b, prefix } = await target();
    const k = `${prefix}/del/x`;
    const v1 = await b.storage.put(k, buf("1"));
    const v2 = await b.storage.put(k, buf("2"));
    assert.equal(await b.storage.delete(k, v1), false);
    assert.equal((await b.storage.get(k))?.value.toString(), "2");
    assert.equal(await b.storage.delete(k, v2), true);
    assert.equal(await b.storage.get(k), null);
    assert.equal(await b.storage.delete(k), false, "nothing left to delete");
    await b.storage.put(k, buf("3"));
    assert.equal(await b.storage.delete(k), true);
  });

  test(`${label}: a lock excludes a second taker, names its holder, and passes on after release`, async () => {
    const { backend: b, lockName } = await target();
    const name = lockName("excl");
    const l1 = await b.locker.lock(name, { waitMs: 0, ttlSeconds: 5 });
    await assert.rejects(b.locker.lock(name, { waitMs: 0, ttlSeconds: 5 }), (e) => isClusterError(e, "busy"));
    const h = await b.locker.holder(name);
    assert.equal(h?.pid, process.pid);
    const t0 = Date.now();
    setTimeout(() => void l1.release(), 300);
    const l2 = await b.locker.lock(name, { waitMs: 10_000, ttlSeconds: 5 });
    const waited = Date.now() - t0;
    assert.ok(waited >= 250 && waited < 8_000, `the waiter got the lock soon after the release (${waited} ms)`);
    assert.notEqual(l2.fence.token, l1.fence.token, "each acquisition has its own fencing token");
    await l2.release();
    await l2.release(); // idempotent
    assert.equal(await b.locker.holder(name), null);
  });

  test(`${label}: a fenced write succeeds while the lock is held and is refused after it is released`, async () => {
    const { backend: b, prefix, lockName } = await target();
    const k = `${prefix}/fence/x`;
    const l = await b.locker.lock(lockName("fence"), { waitMs: 0, ttlSeconds: 5 });
    const r1 = await b.storage.compareAndSwap(k, null, buf("held"), { fence: l.fence });
    assert.ok(r1.ok);
    const v = await b.storage.put(k, buf("held-put"), { fence: l.fence });
    await l.release();
    const r2 = await b.storage.compareAndSwap(k, v, buf("stale"), { fence: l.fence });
    assert.ok(!r2.ok && r2.reason === "fence", "the stale holder's CAS is refused by the fence");
    assert.equal(r2.current?.value.toString(), "held-put");
    await assert.rejects(b.storage.put(k, buf("stale-put"), { fence: l.fence }), (e) => isClusterError(e, "lock-lost"));
    assert.equal((await b.storage.get(k))?.value.toString(), "held-put", "nothing the stale holder sent was stored");
  });
}
