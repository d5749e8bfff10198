/**
 * The etcd backend over TLS (client certificates required) with auth on, against a real 3-member
 * etcd 3.5: the storage contract as a role-limited user, and clear, classified errors for wrong
 * credentials, a missing login, a key outside the role, the wrong CA and a missing client cert.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEtcd, type EtcdBackend, type EtcdSpec } from "../../src/cluster/open.js";
import { isClusterError } from "../../src/cluster/errors.js";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd.js";
import { storageContract } from "../helpers/storage-contract.js";

let cluster: EtcdCluster;
const opened: EtcdBackend[] = [];
let n = 0;
let dir: string;

const spec = (over: Partial<EtcdSpec["etcd"]> = {}): EtcdSpec => ({
  etcd: { endpoints: cluster.endpoints, caFile: cluster.tls!.caFile, certFile: cluster.tls!.certFile, keyFile: cluster.tls!.keyFile, usernameFile: cluster.auth!.usernameFile, passwordFile: cluster.auth!.passwordFile, ...over },
  prefix: `/acme-renew/t${process.pid}-${++n}`,
});

async function open(s: EtcdSpec = spec()) {
  const b = await openEtcd(s);
  opened.push(b);
  return b;
}

before(async () => {
  // Short auth tokens, so that one test sees a token expire and the client log in again.
  cluster = await startEtcdCluster({ tls: true, auth: true, extraArgs: ["--auth-token-ttl=2"] });
  dir = mkdtempSync(join(tmpdir(), "acme-renew-etcd-creds-"));
});
after(async () => {
  for (const b of opened) await b.close();
  await cluster?.stop();
});

storageContract("etcd TLS + auth", async () => {
  const backend = await open();
  return { backend, prefix: backend.layout.prefix, lockName: (tag: string) => `c-${tag}-${++n}` };
});

test("etcd auth: an expired token is replaced by a fresh login, once", async () => {
  const b = await open();
  const k = `${b.layout.prefix}/token/x`;
  await b.storage.put(k, Buffer.from("1"));
  const before = b.requests();
  await new Promise((r) => setTimeout(r, 4_000));
  assert.equal((await b.storage.get(k))?.value.toString(), "1");
  const used = b.requests() - before;
  assert.ok(used >= 2 && used <= 3, `refused call + login + retry (${used} requests)`);
});

test("etcd auth: a wrong password is an auth error naming the user file, never the password", async () => {
  const pw = join(dir, "wrong-password");
  writeFileSync(pw, "not-the-password\n");
  const b = await open(spec({ passwordFile: pw }));
  const t0 = Date.now();
  await assert.rejects(b.storage.get(`${b.layout.prefix}/x`), (e) => {
    assert.ok(isClusterError(e, "auth"), String(e));
    assert.ok(e.message.includes(cluster.auth!.usernameFile), e.message);
    assert.ok(!e.message.includes("not-the-password") && !e.message.includes(cluster.auth!.password));
    return true;
  });
  assert.ok(Date.now() - t0 < 2_000, "refused at once, not retried until the deadline");
  assert.equal(b.requests(), 1, "one login attempt");
});

test("etcd auth: no credentials against a cluster with auth is an auth error saying what to set", async () => {
  const b = await open(spec({ usernameFile: null, passwordFile: null }));
  await assert.rejects(b.storage.get(`${b.layout.prefix}/x`), (e) => isClusterError(e, "auth") && /usernameFile/.test(e.message));
});

test("etcd auth: a key outside the role's prefix is a permission error", async () => {
  const b = await open({ ...spec(), prefix: "/elsewhere" });
  await assert.rejects(b.storage.put("/elsewhere/x", Buffer.from("1")), (e) => isClusterError(e, "permission") && /readwrite/.test(e.message));
  await assert.rejects(b.locker.lock("x", { waitMs: 0 }), (e) => isClusterError(e, "permission"));
});

test("etcd TLS: the wrong CA and a missing client certificate are tls errors, not retried to the deadline", async () => {
  const otherCa = join(dir, "other-ca.pem");
  writeFileSync(otherCa, (await import("node:fs")).readFileSync(join(cluster.dir, "server.pem")));
  for (const [what, s] of [
    ["wrong CA", spec({ caFile: otherCa })],
    ["no client certificate", spec({ certFile: null, keyFile: null })],
  ] as const) {
    const b = await open(s);
    const t0 = Date.now();
    await assert.rejects(b.storage.get(`${b.layout.prefix}/x`), (e) => {
      assert.ok(isClusterError(e, "tls"), `${what}: ${String(e)}`);
      for (const ep of cluster.endpoints) assert.ok(e.message.includes(ep), `${what}: names ${ep}: ${e.message}`);
      return true;
    });
    assert.ok(Date.now() - t0 < 3_000, `${what}: ${Date.now() - t0} ms`);
  }
});

test("etcd config: a missing credential file or a bad endpoint is a config error naming it", async () => {
  await assert.rejects(openEtcd(spec({ passwordFile: join(dir, "none") })), (e) => isClusterError(e, "config") && e.message === `cluster.etcd.passwordFile ${join(dir, "none")}: not found`);
  await assert.rejects(openEtcd({ etcd: { endpoints: ["ftp://x:1"] } }), (e) => isClusterError(e, "config") && /ftp:\/\/x:1/.test(e.message));
  await assert.rejects(openEtcd({ etcd: { endpoints: ["https://x:1/v3"] } }), (e) => isClusterError(e, "config"));
  await assert.rejects(openEtcd({ etcd: { endpoints: cluster.endpoints, certFile: cluster.tls!.certFile } }), (e) => isClusterError(e, "config") && /go together/.test(e.message));
});
