/** First issuance and renewal against a real ACME CA (Pebble), through the built CLI. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { baseConfig, challengeConfig, serveWebroot, stubSystemctl, type ChallengeKind } from "../helpers/acme-fixtures.js";

function pair(stateDir: string, name: string) {
  const dir = join(stateDir, name);
  const cert = new X509Certificate(readFileSync(join(dir, "cert.pem")));
  const key = createPrivateKey(readFileSync(join(dir, "key.pem")));
  assert.ok(cert.checkPrivateKey(key), "key.pem belongs to cert.pem");
  return { cert, key, dir };
}

describe("issuance against Pebble", { timeout: 240_000 }, () => {
  let pebble: Pebble;
  before(async () => {
    pebble = await startPebble();
  });
  after(async () => {
    await pebble?.stop();
  });

  const kinds: ChallengeKind[] = ["webroot", "listenHTTP", "listenTLS", "dnsHook"];
  for (const kind of kinds) {
    test(`first issuance with ${kind}; a second run is not due and stays offline`, async () => {
      const s = sandbox();
      mkdirSync(join(s.root, "www"));
      const web = kind === "webroot" ? await serveWebroot(join(s.root, "www"), pebble.httpPort) : null;
      try {
        const name = `${kind.toLowerCase()}.example.com`;
        s.writeConfig(name, { ...baseConfig(pebble), ...challengeConfig(kind, pebble, s.root), extraDomainNames: [`www.${name}`] });
        const env = { CHALLTESTSRV_URL: pebble.challtestsrvUrl };
        const r = await s.cli(["run", name], { env });
        assert.equal(r.code, 0, r.stderr);
        const { cert } = pair(s.stateDir, name);
        assert.match(cert.subjectAltName ?? "", new RegExp(`DNS:www\\.${name.replace(/\./g, "\\.")}`));
        assert.match(r.stderr, /renewed, valid until/);
        if (kind === "webroot") assert.deepEqual(readdirSync(join(s.root, "www/.well-known/acme-challenge")), [], "challenge files removed");
        const again = await s.cli(["run", name], { env, wrapper: ["unshare", "-n"] });
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stderr, /not-due/);
        const c = await s.cli(["check", name, "--json"]);
        assert.equal(JSON.parse(c.stdout)[0].status, "valid");
      } finally {
        web?.close();
      }
    });
  }

  for (const keyType of ["ec384", "rsa2048", "rsa3072", "rsa4096"]) {
    test(`key type ${keyType}`, async () => {
      const s = sandbox();
      s.writeConfig("k.example.com", { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}`, keyType });
      const r = await s.cli(["run", "k.example.com", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const c = JSON.parse((await s.cli(["check", "k.example.com", "--json"])).stdout)[0];
      assert.equal(c.keyType, keyType);
      assert.equal(c.status, "valid");
    });
  }

  test("wildcard via dns-01", async () => {
    const s = sandbox();
    s.writeConfig("wild.example.com", { ...baseConfig(pebble), ...challengeConfig("dnsHook", pebble, s.root), extraDomainNames: ["*.wild.example.com"] });
    const r = await s.cli(["run", "wild.example.com"], { env: { CHALLTESTSRV_URL: pebble.challtestsrvUrl } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(pair(s.stateDir, "wild.example.com").cert.subjectAltName ?? "", /DNS:\*\.wild\.example\.com/);
  });

  test("--force renews a valid certificate: new key, new cert, hooks run, old version kept", async () => {
    const s = sandbox();
    const bin = stubSystemctl(s.root);
    s.writeConfig("h.example.com", {
      ...baseConfig(pebble),
      listenHTTP: `127.0.0.1:${pebble.httpPort}`,
      reloadServices: ["nginx.service", "postfix.service"],
      postRun: `echo "post $ACME_RENEW_CERT_NAME $ACME_RENEW_DOMAINS" > "${join(s.root, "postrun.out")}"; test -f "$ACME_RENEW_FULLCHAIN"`,
    });
    const env = { PATH: `${bin}:${process.env.PATH}` };
    assert.equal((await s.cli(["run", "h.example.com"], { env })).code, 0);
    const first = pair(s.stateDir, "h.example.com");
    const log1 = readFileSync(join(s.root, "systemctl.log"), "utf8");
    assert.equal(log1, "try-reload-or-restart --no-block nginx.service\ntry-reload-or-restart --no-block postfix.service\n");
    const r = await s.cli(["run", "h.example.com", "--force"], { env });
    assert.equal(r.code, 0, r.stderr);
    const second = pair(s.stateDir, "h.example.com");
    assert.notEqual(second.cert.serialNumber, first.cert.serialNumber);
    assert.notEqual(second.key.export({ format: "pem", type: "pkcs8" }), first.key.export({ format: "pem", type: "pkcs8" }), "fresh key");
    assert.equal(readFileSync(join(s.root, "systemctl.log"), "utf8").split("\n").filter(Boolean).length, 4);
    assert.equal(readFileSync(join(s.root, "postrun.out"), "utf8"), "post h.example.com h.example.com\n");
    assert.equal(readdirSync(join(second.dir, "versions")).length, 2);
  });

  test("reuseKey keeps the key across renewals", async () => {
    const s = sandbox();
    s.writeConfig("r.example.com", { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}`, reuseKey: true });
    assert.equal((await s.cli(["run", "r.example.com"])).code, 0);
    const k1 = readFileSync(join(s.stateDir, "r.example.com/key.pem"), "utf8");
    assert.equal((await s.cli(["run", "r.example.com", "--force"])).code, 0);
    assert.equal(readFileSync(join(s.stateDir, "r.example.com/key.pem"), "utf8"), k1);
  });

  test("a failing hook: new cert stays installed, exit 75", async () => {
    const s = sandbox();
    const bin = stubSystemctl(s.root, 1);
    s.writeConfig("f.example.com", { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}`, reloadServices: ["nginx.service"] });
    const r = await s.cli(["run", "f.example.com"], { env: { PATH: `${bin}:${process.env.PATH}` } });
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /reload nginx\.service: exit code 1/);
    pair(s.stateDir, "f.example.com");
    assert.equal((await s.cli(["check", "f.example.com"])).code, 0);
  });

  test("two concurrent runs of one cert: one issuance, the pair matches", async () => {
    const s = sandbox();
    s.writeConfig("c.example.com", { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    const [a, b] = await Promise.all([s.cli(["run", "c.example.com"]), s.cli(["run", "c.example.com"])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const renewed = [a, b].filter((r) => /renewed, valid until/.test(r.stderr)).length;
    assert.equal(renewed, 1, `${a.stderr}\n---\n${b.stderr}`);
    pair(s.stateDir, "c.example.com");
    assert.equal(readdirSync(join(s.stateDir, "c.example.com/versions")).length, 1);
  });

  test("--all renews several certs concurrently, sharing one listener address", async () => {
    const s = sandbox();
    for (const n of ["m1", "m2", "m3", "m4", "m5"]) s.writeConfig(`${n}.example.com`, { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    const r = await s.cli(["run", "--all", "--json", "--concurrency", "3"]);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Array<{ name: string; outcome: string }>;
    assert.deepEqual(rows.map((x) => x.outcome), ["renewed", "renewed", "renewed", "renewed", "renewed"]);
    for (const n of ["m1", "m2", "m3", "m4", "m5"]) pair(s.stateDir, `${n}.example.com`);
  });

  test("account key is created once per (server, email), 0600, and reused", async () => {
    const s = sandbox();
    s.writeConfig("acc1.example.com", { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    s.writeConfig("acc2.example.com", { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    assert.equal((await s.cli(["run", "acc1.example.com"])).code, 0);
    assert.equal((await s.cli(["run", "acc2.example.com"])).code, 0);
    const accounts = readdirSync(join(s.stateDir, "accounts"));
    assert.equal(accounts.length, 1);
    const key = join(s.stateDir, "accounts", accounts[0]!, "account.key");
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.ok(existsSync(join(s.stateDir, "accounts", accounts[0]!, "account.json")));
  });
});

describe("external account binding (Pebble requiring EAB)", { timeout: 120_000 }, () => {
  let pebble: Pebble;
  const hmac = Buffer.from("acme-renew test hmac key, 32 b!!").toString("base64url");
  before(async () => {
    pebble = await startPebble({ eab: { "kid-1": hmac } });
  });
  after(async () => {
    await pebble?.stop();
  });

  test("EAB from eab.kid + eab.hmacKeyFile registers and issues; the HMAC key never appears in logs", async () => {
    const s = sandbox();
    const keyFile = join(s.root, "eab.key");
    (await import("node:fs")).writeFileSync(keyFile, `${hmac}\n`, { mode: 0o600 });
    s.writeConfig("eab.example.com", { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}`, eab: { kid: "kid-1", hmacKeyFile: keyFile } });
    const r = await s.cli(["run", "eab.example.com", "--log-format", "json"], { env: { ACME_RENEW_DEBUG: "1" } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stderr.includes(hmac) && !r.stdout.includes(hmac), "HMAC key not logged");
    pair(s.stateDir, "eab.example.com");
  });

  test("without EAB the CA refuses: no certificate → exit 1, class unauthorized", async () => {
    const s = sandbox();
    s.writeConfig("noeab.example.com", { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}`, placeholder: false });
    const r = await s.cli(["run", "noeab.example.com"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /renewal failed \(unauthorized\)/);
  });
});

describe("sd_notify from a real run", { timeout: 120_000 }, () => {
  let pebble: Pebble;
  before(async () => {
    pebble = await startPebble();
  });
  after(async () => {
    await pebble?.stop();
  });

  test("run under NOTIFY_SOCKET sends STATUS at each stage, EXTEND_TIMEOUT_USEC and EXIT_STATUS", async () => {
    const { Listener } = await import("../helpers/dgram-listener.js");
    const s = sandbox();
    const sock = join(s.root, "notify.sock");
    const l = await Listener.start(sock);
    try {
      s.writeConfig("n.example.com", { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}` });
      const r = await s.cli(["run", "n.example.com"], { env: { NOTIFY_SOCKET: sock } });
      assert.equal(r.code, 0, r.stderr);
      const got = await l.waitFor(7);
      const statuses = got.filter((m) => m.startsWith("STATUS=")).map((m) => m.split("\n")[0]);
      assert.deepEqual(statuses.slice(0, 3), ["STATUS=n.example.com: checking", "STATUS=n.example.com: ordering", "STATUS=n.example.com: waiting for validation"]);
      assert.ok(got.some((m) => /^EXTEND_TIMEOUT_USEC=\d+$/.test(m)), got.join(" | "));
      assert.ok(got.some((m) => /^STATUS=n\.example\.com: renewed, valid until \S+\nEXIT_STATUS=0$/.test(m)), got.join(" | "));
    } finally {
      l.stop();
    }
  });
});

describe("renewal in the window and chain preference", { timeout: 180_000 }, () => {
  let pebble: Pebble;
  before(async () => {
    // Short lifetimes (1 day) and two alternate roots.
    pebble = await startPebble({ validityPeriodSeconds: 86_400, env: { PEBBLE_ALTERNATE_ROOTS: "1" } });
  });
  after(async () => {
    await pebble?.stop();
  });

  test("inside the renewal window (1-day cert, half its lifetime gone): new cert, new key, hooks run — no --force", async () => {
    const s = sandbox();
    const bin = stubSystemctl(s.root);
    // ARI off: Pebble's suggested window for a 1-day certificate starts before it is even issued, and
    // this test is about the local window.
    s.writeConfig("w.example.com", { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}`, reloadServices: ["nginx.service"], ari: false });
    const env = { PATH: `${bin}:${process.env.PATH}` };
    assert.equal((await s.cli(["run", "w.example.com"], { env })).code, 0);
    const first = pair(s.stateDir, "w.example.com");
    const notBefore = Date.parse(first.cert.validFrom);
    // 11 h in: not due yet (a 1-day certificate renews at half its lifetime).
    const early = await s.cli(["run", "w.example.com"], { env: { ...env, ACME_RENEW_NOW: new Date(notBefore + 11 * 3_600_000).toISOString() }, wrapper: ["unshare", "-n"] });
    assert.equal(early.code, 0, early.stderr);
    assert.match(early.stderr, /not-due/);
    const r = await s.cli(["run", "w.example.com"], { env: { ...env, ACME_RENEW_NOW: new Date(notBefore + 13 * 3_600_000).toISOString() } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /renewing: in renewal window since/);
    const second = pair(s.stateDir, "w.example.com");
    assert.notEqual(second.cert.serialNumber, first.cert.serialNumber);
    assert.notEqual(second.key.export({ format: "pem", type: "pkcs8" }), first.key.export({ format: "pem", type: "pkcs8" }));
    assert.equal(readFileSync(join(s.root, "systemctl.log"), "utf8").split("\n").filter(Boolean).length, 2, "hooks ran after each issuance");
  });

  test("preferredChain selects the alternate chain whose root has that name", async () => {
    const { get } = await import("node:https");
    const rootPem = await new Promise<string>((res, rej) =>
      get(`${pebble.managementUrl}/roots/1`, { ca: readFileSync(pebble.caBundle) }, (r) => {
        let b = "";
        r.on("data", (d) => (b += d));
        r.on("end", () => res(b));
      }).on("error", rej),
    );
    const root1 = new X509Certificate(rootPem);
    const cn = /CN=([^\n,]+)/.exec(root1.subject)![1]!;
    const s = sandbox();
    s.writeConfig("pc.example.com", { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}`, preferredChain: cn });
    const r = await s.cli(["run", "pc.example.com"]);
    assert.equal(r.code, 0, r.stderr);
    const chain = new X509Certificate(readFileSync(join(s.stateDir, "pc.example.com", "chain.pem")));
    assert.equal(chain.issuer, root1.subject, `the intermediate is signed by ${cn}`);
  });
});
