/**
 * Cluster mode through the built CLI (issue 13): three "hosts" (separate config and state dirs) on a
 * real 3-member etcd 3.5 and one Pebble. One order for the cluster, the same certificate everywhere,
 * one ACME account; fencing against a holder paused past its lease; etcd without quorum handled like
 * the CA down; bad keys, credentials and records reported without touching what is on disk.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { X509Certificate, createPrivateKey, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { childEnv, CLI, ROOT, sandbox, type CliResult } from "../helpers/cli.js";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { baseConfig, writeDnsHook } from "../helpers/acme-fixtures.js";
import { openEtcd } from "../../src/cluster/open.js";
import { KeyLayout } from "../../src/cluster/keys.js";

const STOP_BEFORE_PUBLISH = pathToFileURL(join(ROOT, "build/test/helpers/stop-before-publish.js")).href;
const YEAR = 365 * 86_400_000;

let etcd: EtcdCluster;
let pebble: Pebble;
let n = 0;

before(async () => {
  [etcd, pebble] = await Promise.all([startEtcdCluster(), startPebble()]);
});
after(async () => {
  await Promise.all([etcd?.stop(), pebble?.stop()]);
});

const orders = () => pebble.log().split("\n").filter((l) => /POST \/order-plz/.test(l)).length;
const registrations = () => pebble.log().split("\n").filter((l) => /POST \/sign-me-up/.test(l)).length;

function keyFile(dir: string, bytes: Buffer = randomBytes(32)): string {
  const f = join(dir, "cluster.key");
  writeFileSync(f, `${bytes.toString("base64")}\n`, { mode: 0o600 });
  return f;
}

/** `count` hosts sharing one cluster prefix and key; each has its own config dir and state dir. */
function hosts(count: number, o: { key?: Buffer; extra?: Record<string, unknown>; cluster?: Record<string, unknown> } = {}) {
  const prefix = `/acme-renew/t${process.pid}-${++n}`;
  const name = `c${n}.example.com`;
  const key: Buffer = o.key ?? randomBytes(32);
  const list = Array.from({ length: count }, () => {
    const s = sandbox("acme-renew-cluster-");
    const cluster = { etcd: { endpoints: etcd.endpoints }, prefix, encryptionKeyFile: keyFile(s.root, key), ...o.cluster };
    writeFileSync(join(s.configDir, "defaults.json"), JSON.stringify({ ...baseConfig(pebble), cluster }));
    // challtestsrv serves no SOA: the authoritative check (tested against BIND in dns-*.test.ts) is off.
    s.writeConfig(name, { dnsHook: writeDnsHook(s.root), dnsResolver: `127.0.0.1:${pebble.dnsPort}`, dnsPropagationCheck: false, ...o.extra });
    const run = (args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000) => s.cli(args, { env: { CHALLTESTSRV_URL: pebble.challtestsrvUrl, ...env }, timeoutMs });
    return { ...s, run, certFile: join(s.stateDir, name, "cert.pem") };
  });
  return { prefix, name, key, list };
}

function serialOf(file: string): string {
  return new X509Certificate(readFileSync(file)).serialNumber.toLowerCase();
}

function assertPair(stateDir: string, name: string): string {
  const dir = join(stateDir, name);
  const cert = new X509Certificate(readFileSync(join(dir, "cert.pem")));
  assert.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(join(dir, "key.pem")))), `${dir}: key.pem belongs to cert.pem`);
  return cert.serialNumber.toLowerCase();
}

/** The certificate's challenge fails at the CA (the DNS hook refuses). */
function s_failingHook(root: string, name: string, configDir: string): void {
  writeFileSync(join(configDir, `${name}.json`), JSON.stringify({ dnsHook: writeDnsHook(root, { fail: true }), dnsResolver: `127.0.0.1:${pebble.dnsPort}`, dnsPropagationCheck: false }));
}

const dueLater = () => new Date(Date.now() + 3.5 * YEAR).toISOString(); // Pebble: 5-year certificates; due (< 1/3 left), not in the last 10 %

describe("cluster mode (3 hosts, 3-member etcd, one Pebble)", { timeout: 600_000 }, () => {
  test("3 hosts due at once, run concurrently: one newOrder, the same serial everywhere, one account (a later forced renewal on another host reuses it)", async (t) => {
    const h = hosts(3);
    const o0 = orders();
    const t0 = Date.now();
    const rs = await Promise.all(h.list.map((x) => x.run(["run", h.name])));
    t.diagnostic(`3 hosts concurrently: ${Date.now() - t0} ms wall, runs ${rs.map((r) => r.ms).join("/")} ms`);
    for (const r of rs) assert.equal(r.code, 0, r.stderr);
    assert.equal(orders() - o0, 1, `newOrder POSTs at Pebble\n${rs.map((r) => r.stderr).join("\n---\n")}`);
    const serials = h.list.map((x) => assertPair(x.stateDir, h.name));
    assert.equal(new Set(serials).size, 1, `serials: ${serials.join(" ")}`);
    assert.equal(rs.filter((r) => /renewed, valid until/.test(r.stderr)).length, 1, "one host renewed");
    assert.equal(rs.filter((r) => /no CA contact/.test(r.stderr)).length, 2, "two hosts synced");
    // The record in etcd: the key sealed (no PEM key in clear), the same serial.
    const b = await openEtcd({ etcd: { endpoints: etcd.endpoints }, prefix: h.prefix });
    try {
      const rec = await b.storage.get(new KeyLayout(h.prefix).record(h.name));
      assert.ok(rec, "the record is in etcd");
      assert.doesNotMatch(rec.value.toString(), /PRIVATE KEY/);
      assert.equal(JSON.parse(rec.value.toString()).serial, serials[0]);
      assert.equal((await b.storage.list(`${h.prefix}/v1/accounts/`)).length, 1, "one shared account record");
    } finally {
      await b.close();
    }
    // status --cluster: the shared record against the local one, the lock.
    const st = await h.list[1]!.run(["status", h.name, "--cluster", "--json"]);
    assert.equal(st.code, 0, st.stderr);
    const view = JSON.parse(st.stdout)[0].cluster;
    assert.equal(view.relation, "same", st.stdout);
    assert.equal(view.shared.serial, serials[0]);
    assert.equal(view.lock, null);
    const text = await h.list[1]!.run(["status", h.name, "--cluster"]);
    assert.match(text.stdout, new RegExp(`${h.name}: shared serial ${serials[0]} \\(generation 1, .*the local certificate is the shared one\\); lock free`));
    // A later forced renewal on a host that never ordered uses the cluster's account: no registration.
    const reg0 = registrations();
    const o1 = orders();
    const syncer = h.list[rs.findIndex((r) => /no CA contact/.test(r.stderr))]!;
    const forced = await syncer.run(["run", "--force", h.name]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(orders() - o1, 1);
    assert.equal(registrations() - reg0, 0, `the forced renewal registered no account\n${forced.stderr}`);
    assert.match(forced.stderr, /using the cluster's ACME account/);
    // The others are not due: they stay offline until they are, then sync (the holder SIGSTOP test and the 3-host run above show the sync).
    const other = h.list.find((x) => x !== syncer)!;
    const quiet = await other.run(["run", h.name]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.match(quiet.stderr, /not-due/);
  });

  test("3 hosts due at once whose challenge fails: one order at the CA for the cluster; the others adopt the cluster's backoff without contacting it", async (t) => {
    const h = hosts(3);
    for (const x of h.list) s_failingHook(x.root, h.name, x.configDir);
    const o0 = orders();
    const rs = await Promise.all(h.list.map((x) => x.run(["run", h.name])));
    t.diagnostic(`exit codes ${rs.map((r) => r.code).join(" ")}, orders ${orders() - o0}`);
    assert.equal(orders() - o0, 1, rs.map((r) => r.stderr).join("\n---\n"));
    assert.equal(rs.filter((r) => /the cluster is backing off/.test(r.stderr)).length, 2, rs.map((r) => r.stderr).join("\n---\n"));
    for (const r of rs) assert.ok(r.code === 1 || r.code === 3, `${r.code}: ${r.stderr}`);
    // The backoff is in each host's own state now: the next run holds without connecting anywhere.
    const x = h.list.find((_, i) => /the cluster is backing off/.test(rs[i]!.stderr))!;
    const trace = join(x.root, "trace");
    const again = await x.cli(["run", h.name], { wrapper: ["strace", "-f", "-qq", "-o", trace, "-e", "trace=connect"] });
    assert.match(again.stderr, /backing off/);
    assert.deepEqual(readFileSync(trace, "utf8").split("\n").filter((l) => /connect\(/.test(l)), [], "held by the local state, offline");
  });

  test("http-01 across hosts: Pebble validates against a host that did not place the order (its serve-http01 answers from etcd)", async (t) => {
    const h = hosts(2, { extra: { dnsHook: undefined, dnsResolver: undefined, dnsPropagationCheck: undefined } });
    const [a, b] = h.list as [ReturnType<typeof hosts>["list"][number], ReturnType<typeof hosts>["list"][number]];
    // A's webroot exists but nothing serves it: only B's responder can answer the CA.
    mkdirSync(join(a.root, "www"));
    a.writeConfig(h.name, { webroot: join(a.root, "www") });
    const responder = spawn(process.execPath, [CLI, "--config-dir", b.configDir, "--state-dir", b.stateDir, "serve-http01", "--listen", `127.0.0.1:${pebble.httpPort}`], { env: childEnv({}), stdio: ["ignore", "ignore", "pipe"] });
    let rErr = "";
    const exited = new Promise<number | null>((res) => responder.on("close", (c) => res(c)));
    try {
      await new Promise<void>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`serve-http01 did not start:\n${rErr}`)), 30_000);
        responder.stderr.on("data", (d) => {
          rErr += d;
          if (/http01-serving/.test(rErr)) (clearTimeout(timer), res());
        });
      });
      const miss = await fetch(`http://127.0.0.1:${pebble.httpPort}/.well-known/acme-challenge/nosuchtoken`);
      assert.equal(miss.status, 404);
      const r = await a.run(["run", h.name]);
      assert.equal(r.code, 0, `${r.stderr}\n--- responder:\n${rErr}`);
      assert.match(r.stderr, /renewed, valid until/);
      t.diagnostic(`A ordered, B answered the CA: run ${r.ms} ms`);
      responder.kill("SIGTERM");
      assert.equal(await exited, 0, rErr);
    } finally {
      responder.kill("SIGKILL");
    }
  });

  test("serve-http01 without any cluster config: 78 naming it; without --listen or a socket: 64", async () => {
    const s = sandbox("acme-renew-cluster-");
    s.writeConfig("x.example.com", { webroot: "/var/www" });
    const r = await s.cli(["serve-http01", "--listen", "127.0.0.1:1"]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /no certificate config \(or defaults\.json\) sets cluster/);
    const u = await s.cli(["serve-http01"]);
    assert.equal(u.code, 64, u.stderr);
  });

  test("a not-due run in cluster mode makes no connection at all (strace)", async () => {
    const h = hosts(1);
    const x = h.list[0]!;
    assert.equal((await x.run(["run", h.name])).code, 0);
    const trace = join(x.root, "trace");
    const r = await x.cli(["run", h.name], { wrapper: ["strace", "-f", "-qq", "-o", trace, "-e", "trace=connect,socket"] });
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(trace, "utf8").split("\n");
    assert.deepEqual(lines.filter((l) => /connect\(|socket\(AF_INET/.test(l)), [], "no connect() and no inet socket");
  });

  test("holder SIGSTOPped past its lease before it publishes: another host renews; on SIGCONT the stale write is refused by the fencing check and the newer certificate stays", async (t) => {
    const h = hosts(2);
    const [a, b] = h.list as [ReturnType<typeof hosts>["list"][number], ReturnType<typeof hosts>["list"][number]];
    // A: orders, installs locally, and stops itself right before the record's txn.
    const env = childEnv({ CHALLTESTSRV_URL: pebble.challtestsrvUrl, NODE_OPTIONS: `--import=${STOP_BEFORE_PUBLISH}` });
    const child = spawn(process.execPath, [CLI, "--config-dir", a.configDir, "--state-dir", a.stateDir, "run", h.name], { env, stdio: ["ignore", "pipe", "pipe"] });
    let aErr = "";
    const stopped = new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`A never reached the publish:\n${aErr}`)), 120_000);
      child.stderr.on("data", (d) => {
        aErr += d;
        if (aErr.includes("stop-before-publish")) (clearTimeout(t), res());
      });
    });
    const aDone = new Promise<number | null>((res) => child.on("close", (c) => res(c)));
    try {
      await stopped;
      const aSerial = serialOf(a.certFile);
      // B: waits for the lock until A's lease (15 s) expires, then orders and publishes.
      const o0 = orders();
      const rb = await b.run(["run", h.name]);
      t.diagnostic(`B waited for A's lease and renewed in ${rb.ms} ms (lease TTL 15 s)`);
      assert.equal(rb.code, 0, rb.stderr);
      assert.match(rb.stderr, /renewed, valid until/);
      assert.equal(orders() - o0, 1);
      const bSerial = assertPair(b.stateDir, h.name);
      assert.notEqual(aSerial, bSerial);
      child.kill("SIGCONT");
      const code = await aDone;
      assert.equal(code, 0, aErr);
      assert.match(aErr, /refused by the fencing check/);
      assert.equal(assertPair(a.stateDir, h.name), bSerial, "A installed B's newer certificate");
      const bo = await openEtcd({ etcd: { endpoints: etcd.endpoints }, prefix: h.prefix });
      try {
        const rec = await bo.storage.get(new KeyLayout(h.prefix).record(h.name));
        assert.equal(JSON.parse(rec!.value.toString()).serial, bSerial, "the record is B's");
      } finally {
        await bo.close();
      }
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("quorum lost (2 of 3 members stopped): a due host with a valid certificate exits 75 within 10 s, no order; check is unaffected", async (t) => {
    const h = hosts(1);
    const x = h.list[0]!;
    assert.equal((await x.run(["run", h.name])).code, 0);
    const before = serialOf(x.certFile);
    await etcd.stopMember(1);
    await etcd.stopMember(2);
    try {
      const o0 = orders();
      const r = await x.run(["run", h.name], { ACME_RENEW_NOW: dueLater() });
      assert.equal(r.code, 75, r.stderr);
      t.diagnostic(`quorum lost: run exited ${r.code} after ${r.ms} ms (whole process)`);
      assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
      assert.match(r.stderr, /etcd unreachable \((unavailable|timeout|unreachable)\)/);
      assert.equal(orders() - o0, 0);
      assert.equal(serialOf(x.certFile), before);
      const c = await x.cli(["check", h.name], { env: { ACME_RENEW_NOW: dueLater() } });
      assert.ok(c.code === 0 || c.code === 75 || c.code === 1, c.stderr);
      assert.ok(c.ms < 5_000, `check took ${c.ms} ms`);
    } finally {
      await etcd.startMember(1);
      await etcd.startMember(2);
      await etcd.waitHealthy();
    }
  });

  test("leader killed mid-run (while the holder orders): the run completes or soft-fails, nothing lost, the cluster recovers", async (t) => {
    const h = hosts(2);
    const [a, b] = h.list as [ReturnType<typeof hosts>["list"][number], ReturnType<typeof hosts>["list"][number]];
    let killed: Promise<void> | null = null;
    const r = await a.cli(["run", h.name], {
      env: { CHALLTESTSRV_URL: pebble.challtestsrvUrl },
      timeoutMs: 120_000,
      onStderr: (chunk) => {
        // The lock is held and the order is under way: kill whoever leads etcd now.
        if (!killed && /order created/.test(chunk)) killed = etcd.leader().then((i) => (i >= 0 ? etcd.killMember(i).then(() => t.diagnostic(`killed leader ${i}`)) : undefined));
      },
    });
    await killed;
    try {
      assert.ok(killed, "the run reached the order");
      assert.ok(r.code === 0 || r.code === 1 || r.code === 3, `${r.code}: ${r.stderr}`);
      t.diagnostic(`holder exit ${r.code} after ${r.ms} ms`);
      if (r.code === 0) assertPair(a.stateDir, h.name);
      // With a new leader elected, the other host gets the certificate (synced) or orders one itself.
      await etcd.waitHealthy();
      const rb = await b.run(["run", h.name]);
      assert.equal(rb.code, 0, rb.stderr);
      const sb = assertPair(b.stateDir, h.name);
      if (r.code === 0 && !/publish-pending|publish-failed/.test(r.stderr)) assert.equal(sb, assertPair(a.stateDir, h.name), `B synced A's certificate\n${r.stderr}\n---\n${rb.stderr}`);
    } finally {
      for (let i = 0; i < etcd.members.length; i++) if (!etcd.members[i]!.running()) await etcd.startMember(i);
      await etcd.waitHealthy();
    }
  });

  test("etcd unreachable and no certificate: issued alone (standaloneWhenUnreachable), published by the next run once etcd is back", async () => {
    const h = hosts(1, { cluster: { etcd: { endpoints: ["http://127.0.0.1:9"] } } });
    const x = h.list[0]!;
    const r = await x.run(["run", h.name]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /issuing without the cluster/);
    const serial = assertPair(x.stateDir, h.name);
    assert.equal(JSON.parse(readFileSync(join(x.stateDir, h.name, "state.json"), "utf8")).publishPending, serial);
    // etcd is "back": the same host now points at the real cluster.
    writeFileSync(join(x.configDir, "defaults.json"), JSON.stringify({ ...baseConfig(pebble), cluster: { etcd: { endpoints: etcd.endpoints }, prefix: h.prefix, encryptionKeyFile: join(x.root, "cluster.key") } }));
    const o0 = orders();
    const again = await x.run(["run", h.name]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(orders() - o0, 0);
    assert.match(again.stderr, /published serial/);
    assert.equal(JSON.parse(readFileSync(join(x.stateDir, h.name, "state.json"), "utf8")).publishPending, null);
  });

  test("standaloneWhenUnreachable false, etcd unreachable, no certificate: no order, exit 3 or 1", async () => {
    const h = hosts(1, { cluster: { etcd: { endpoints: ["http://127.0.0.1:9"] }, standaloneWhenUnreachable: false } });
    const o0 = orders();
    const r = await h.list[0]!.run(["run", h.name]);
    assert.ok(r.code === 1 || r.code === 3, `${r.code}: ${r.stderr}`);
    assert.match(r.stderr, /etcd unreachable/);
    assert.equal(orders() - o0, 0);
  });

  describe("bad keys and records: one line naming what, the right exit code, nothing on disk replaced", () => {
    async function issued() {
      const h = hosts(2);
      const r = await h.list[0]!.run(["run", h.name]);
      assert.equal(r.code, 0, r.stderr);
      const x = h.list[1]!;
      const r2 = await x.run(["run", h.name]);
      assert.equal(r2.code, 0, r2.stderr);
      return { h, x, before: readFileSync(x.certFile, "utf8") };
    }
    const oneLine = (r: CliResult, re: RegExp) => {
      const hit = r.stderr.split("\n").filter((l) => re.test(l));
      assert.equal(hit.length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    };

    test("wrong encryption key: 75 while valid, naming the record and both key ids; no order; doctor shows the cluster (ok, then the wrong key)", async () => {
      const { h, x, before } = await issued();
      const doctor = async () => {
        const d = await x.run(["doctor", h.name, "--json"]);
        return (JSON.parse(d.stdout) as Array<{ findings: Array<{ mark: string; what: string; detail: string }> }>)[0]!.findings;
      };
      const good = await doctor();
      for (const what of ["cluster key", "etcd", "shared cert", "shared state", "cluster lock"]) assert.equal(good.find((g) => g.what === what)?.mark, "ok", `doctor ${what}: ${JSON.stringify(good)}`);
      assert.match(good.find((g) => g.what === "shared cert")!.detail, /the same as the local one/);
      keyFile(x.root);
      const bad = (await doctor()).find((g) => g.what === "shared cert");
      assert.equal(bad?.mark, "fail");
      assert.match(bad!.detail, /wrong-key: .*sealed with encryption key id/);
      const o0 = orders();
      const r = await x.run(["run", h.name], { ACME_RENEW_NOW: dueLater() });
      assert.equal(r.code, 75, r.stderr);
      oneLine(r, /cluster \(wrong-key\): .*\/record: sealed with encryption key id [0-9a-f]{16}, this host's encryptionKeyFile has key id [0-9a-f]{16}/);
      assert.equal(orders() - o0, 0);
      assert.equal(readFileSync(x.certFile, "utf8"), before);
    });

    test("missing encryption key file: 78 naming the file; etcd not contacted, nothing replaced", async () => {
      const { h, x, before } = await issued();
      const file = join(x.root, "cluster.key");
      writeFileSync(file, "short\n");
      const r = await x.run(["run", h.name], { ACME_RENEW_NOW: dueLater() });
      assert.equal(r.code, 78, r.stderr);
      oneLine(r, new RegExp(`encryptionKeyFile ${file}: must hold 32 random bytes`));
      const gone = await x.run(["run", h.name], { ACME_RENEW_NOW: dueLater() });
      void gone;
      assert.equal(readFileSync(x.certFile, "utf8"), before);
    });

    test("corrupt record in etcd: 75 naming the key; no order, the record is not overwritten", async () => {
      const { h, x, before } = await issued();
      const b = await openEtcd({ etcd: { endpoints: etcd.endpoints }, prefix: h.prefix });
      const key = new KeyLayout(h.prefix).record(h.name);
      try {
        await b.storage.put(key, Buffer.from('{"format":"acme-renew/cert","v":1,"name":"x"'));
        const o0 = orders();
        const r = await x.run(["run", h.name], { ACME_RENEW_NOW: dueLater() });
        assert.equal(r.code, 75, r.stderr);
        oneLine(r, new RegExp(`cluster \\(corrupt\\): ${key.replace(/[.]/g, "\\.")}: not JSON`));
        assert.equal(orders() - o0, 0);
        assert.equal(readFileSync(x.certFile, "utf8"), before);
        assert.equal((await b.storage.get(key))!.value.toString(), '{"format":"acme-renew/cert","v":1,"name":"x"');
      } finally {
        await b.close();
      }
    });
  });

  test("wrong etcd credentials (TLS + auth cluster): 75 while valid naming the user file, never the password; no order", async () => {
    const secure = await startEtcdCluster({ members: 1, tls: true, auth: true });
    try {
      const t = secure.tls!;
      const a = secure.auth!;
      const etcdCfg = { endpoints: secure.endpoints, caFile: t.caFile, certFile: t.certFile, keyFile: t.keyFile, usernameFile: a.usernameFile, passwordFile: a.passwordFile };
      const h = hosts(1, { cluster: { etcd: etcdCfg, prefix: a.prefix.replace(/\/$/, "") } });
      const x = h.list[0]!;
      const r0 = await x.run(["run", h.name]);
      assert.equal(r0.code, 0, r0.stderr);
      const before = readFileSync(x.certFile, "utf8");
      const wrong = join(x.root, "wrong-password");
      writeFileSync(wrong, "not-the-password\n");
      writeFileSync(join(x.configDir, "defaults.json"), JSON.stringify({ ...baseConfig(pebble), cluster: { etcd: { ...etcdCfg, passwordFile: wrong }, prefix: a.prefix.replace(/\/$/, ""), encryptionKeyFile: join(x.root, "cluster.key") } }));
      const o0 = orders();
      const r = await x.run(["run", h.name], { ACME_RENEW_NOW: dueLater() });
      assert.equal(r.code, 75, r.stderr);
      assert.match(r.stderr, /cluster \(auth\)/);
      assert.ok(r.stderr.includes(a.usernameFile), r.stderr);
      assert.ok(!r.stderr.includes("not-the-password") && !r.stderr.includes(a.password), "no password in the output");
      assert.equal(orders() - o0, 0);
      assert.equal(readFileSync(x.certFile, "utf8"), before);
      assert.ok(existsSync(x.certFile));
    } finally {
      await secure.stop();
    }
  });
});
