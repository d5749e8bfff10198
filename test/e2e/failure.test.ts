/** Failure semantics end to end: real Pebble, a fault-injecting proxy, the built CLI. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { startFaultProxy, pass, type FaultProxy } from "../helpers/fault-proxy.js";
import { DAY, writeCertDir } from "../helpers/pki.js";

const NAME = "f.example.com";

/** Snapshot of the cert files; `same()` asserts they are byte-identical and still a matching pair. */
function snapshot(stateDir: string) {
  const dir = join(stateDir, NAME);
  const read = () => ["cert.pem", "key.pem", "chain.pem", "fullchain.pem"].map((f) => readFileSync(join(dir, f), "utf8"));
  const before = read();
  return {
    same() {
      assert.deepEqual(read(), before, "certificate files untouched");
      const cert = new X509Certificate(readFileSync(join(dir, "cert.pem")));
      assert.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(join(dir, "key.pem")))), "pair matches");
    },
  };
}

function state(stateDir: string) {
  return JSON.parse(readFileSync(join(stateDir, NAME, "state.json"), "utf8"));
}

describe("failure semantics", { timeout: 600_000 }, () => {
  let pebble: Pebble;
  let proxy: FaultProxy;
  before(async () => {
    pebble = await startPebble();
    proxy = await startFaultProxy(pebble);
  });
  after(async () => {
    await proxy?.close();
    await pebble?.stop();
  });

  /** A sandbox with a valid certificate in its renewal window (80 of 90 days gone), pointed at `server`. */
  async function dueCert(server: string, extra: Record<string, unknown> = {}) {
    const s = sandbox();
    s.writeConfig(NAME, { server, caBundle: pebble.caBundle, acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}`, ...extra });
    await writeCertDir(s.stateDir, NAME, { names: [NAME], notBefore: new Date(Date.now() - 80 * DAY), notAfter: new Date(Date.now() + 10 * DAY) });
    return { s, snap: snapshot(s.stateDir) };
  }

  test("CA down (connection refused), cert valid but due → 75, files untouched, within the deadline", async () => {
    const { s, snap } = await dueCert("https://127.0.0.1:1/dir");
    const r = await s.cli(["run", NAME, "--timeout", "15"]);
    assert.equal(r.code, 75, r.stderr);
    assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
    assert.match(r.stderr, /renewal failed \(network\).*ECONNREFUSED.*the current certificate stays in use, valid until .*next attempt at/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    snap.same();
    const st = state(s.stateDir);
    assert.equal(st.consecutiveFailures, 1);
    assert.equal(st.lastError.class, "network");
  });

  test("CA down and no certificate → exit 3 and a placeholder; check says due (placeholder); a later run replaces it", async () => {
    const s = sandbox();
    s.writeConfig(NAME, { server: proxy.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    proxy.setRule(() => ({ kind: "reset" }));
    const r = await s.cli(["run", NAME, "--timeout", "10"]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /wrote a self-signed placeholder/);
    // Still no CA: the placeholder stays, and so does exit 3.
    const again = await s.cli(["run", NAME, "--timeout", "10", "--force"]);
    assert.equal(again.code, 3, again.stderr);
    assert.match(again.stderr, /the placeholder stays in place/);
    const c = await s.cli(["check", NAME, "--json"]);
    const out = JSON.parse(c.stdout)[0];
    assert.equal(out.status, "due");
    assert.deepEqual(out.dueReasons, ["placeholder"]);
    assert.equal(c.code, 1, "a placeholder is not a usable certificate");
    proxy.setRule(pass);
    const r2 = await s.cli(["run", NAME]);
    assert.equal(r2.code, 0, r2.stderr);
    const c2 = JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0];
    assert.equal(c2.status, "valid");
    assert.doesNotMatch(c2.issuer, /placeholder/);
  });

  test("placeholder: false → no placeholder written", async () => {
    const s = sandbox();
    s.writeConfig(NAME, { server: "https://127.0.0.1:1/dir", caBundle: pebble.caBundle, acceptTerms: true, listenHTTP: ":1", placeholder: false });
    const r = await s.cli(["run", NAME, "--timeout", "10"]);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0].status, "missing");
  });

  test("no network at all (unshare -n), due → 75 fast: preflight stops the retries", async () => {
    const { s, snap } = await dueCert("https://acme.example.invalid/dir");
    const r = await s.cli(["run", NAME], { wrapper: ["unshare", "-n"] });
    assert.equal(r.code, 75, r.stderr);
    // "no retry 1" below is the proof; the bound catches a run waiting through backoffs (seconds each)
    // with room for a loaded machine (5475 ms seen at load 26 on 2 cores, against 5000 before).
    assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
    assert.match(r.stderr, /network down/);
    assert.doesNotMatch(r.stderr, /retry 1/);
    snap.same();
  });

  test("5xx: retried with backoff, then renews", async () => {
    const { s } = await dueCert(proxy.directoryUrl);
    let fails = 2;
    proxy.setRule(({ path }) => (path.includes("order-plz") && fails-- > 0 ? { kind: "status", status: 503 } : { kind: "pass" }));
    const r = await s.cli(["run", NAME]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.stderr.match(/\(server\); retry/g) ?? []).length, 2);
    proxy.setRule(pass);
  });

  test("5xx forever: soft failure within the deadline, class server", async () => {
    const { s, snap } = await dueCert(proxy.directoryUrl);
    proxy.setRule(() => ({ kind: "status", status: 500 }));
    const r = await s.cli(["run", NAME, "--timeout", "12"]);
    proxy.setRule(pass);
    assert.equal(r.code, 75, r.stderr);
    // The deadline plus start-up and exit: 16 s was not enough at load 31 on 2 cores (16.1 s).
    assert.ok(r.ms < 20_000, `took ${r.ms}`);
    assert.match(r.stderr, /renewal failed \(server\)/);
    snap.same();
  });

  test("connection resets: class network, retried, soft failure", async () => {
    const { s, snap } = await dueCert(proxy.directoryUrl);
    proxy.setRule(() => ({ kind: "reset" }));
    const r = await s.cli(["run", NAME, "--timeout", "8"]);
    proxy.setRule(pass);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /\(network\); retry 1/);
    assert.match(r.stderr, /renewal failed \(network\)/);
    snap.same();
  });

  test("a request that stalls is cut by the deadline: class timeout, exit 75 in time", async () => {
    const { s, snap } = await dueCert(proxy.directoryUrl);
    proxy.setRule(({ path }) => (path.includes("order-plz") ? { kind: "stall" } : { kind: "pass" }));
    const r = await s.cli(["run", NAME, "--timeout", "6"]);
    proxy.setRule(pass);
    assert.equal(r.code, 75, r.stderr);
    assert.ok(r.ms < 12_000, `took ${r.ms}`);
    assert.match(r.stderr, /renewal failed \(timeout\)/);
    snap.same();
  });

  test("429 rateLimited with a long Retry-After: not retried, stored; the next run waits without contacting the CA", async () => {
    const { s, snap } = await dueCert(proxy.directoryUrl);
    proxy.setRule(({ path }) => (path.includes("order-plz") ? { kind: "status", status: 429, problem: "rateLimited", detail: "too many certificates", retryAfter: "7200" } : { kind: "pass" }));
    const r = await s.cli(["run", NAME]);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /renewal failed \(rateLimited\): newOrder: too many certificates/);
    assert.doesNotMatch(r.stderr, /retry 1/);
    const st = state(s.stateDir);
    const ra = Date.parse(st.retryAfter);
    assert.ok(Math.abs(ra - (Date.now() + 7200_000)) < 60_000, st.retryAfter);
    const before = proxy.seen.length;
    const r2 = await s.cli(["run", NAME]);
    assert.equal(r2.code, 75);
    assert.match(r2.stderr, /Retry-After.*next attempt at/);
    assert.equal(proxy.seen.length, before, "no request to the CA");
    proxy.setRule(pass);
    snap.same();
    // --force overrides.
    assert.equal((await s.cli(["run", NAME, "--force"])).code, 0);
  });

  test("429 with a short Retry-After (HTTP date): waited for, then renews", async () => {
    const { s } = await dueCert(proxy.directoryUrl);
    let once = true;
    proxy.setRule(({ path }) => {
      if (path.includes("order-plz") && once) {
        once = false;
        return { kind: "status", status: 429, problem: "rateLimited", retryAfter: new Date(Date.now() + 2000).toUTCString() };
      }
      return { kind: "pass" };
    });
    const r = await s.cli(["run", NAME]);
    proxy.setRule(pass);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\(rateLimited\); retry 1/);
  });

  test("TLS failure (CA certificate not trusted: wrong caBundle) → tls class, not retried, 75", async () => {
    const { s, snap } = await dueCert(pebble.directoryUrl, { caBundle: "/etc/ssl/certs/ca-certificates.crt" });
    const r = await s.cli(["run", NAME, "--timeout", "8"]);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /renewal failed \(tls\).*(certificate|self-signed|issuer).*caBundle/i);
    assert.doesNotMatch(r.stderr, /retry 1/);
    snap.same();
  });

  test("challenge invalid (nothing answers on the validation port) → class challenge, CA detail logged, 75", async () => {
    // webroot: the token is written, but no web server serves it on Pebble's validation port.
    const { s, snap } = await dueCert(pebble.directoryUrl);
    mkdirSync(join(s.root, "www"));
    s.writeConfig(NAME, { server: pebble.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, webroot: join(s.root, "www") });
    const r = await s.cli(["run", NAME]);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /renewal failed \(challenge\).*http-01 validation failed/);
    snap.same();
  });

  test("cross-run backoff with an injected clock: a timer every 5 min causes ≤ 6 requests per hour after the first hour", async () => {
    const { s, snap } = await dueCert(proxy.directoryUrl);
    proxy.setRule(() => ({ kind: "status", status: 503 }));
    const t0 = Date.now();
    const perHour = [0, 0, 0];
    const outcomes: number[] = [];
    for (let minute = 0; minute < 180; minute += 5) {
      const before = proxy.seen.length;
      const r = await s.cli(["run", NAME, "--timeout", "4"], { env: { ACME_RENEW_NOW: new Date(t0 + minute * 60_000).toISOString() } });
      outcomes.push(r.code ?? -1);
      perHour[Math.floor(minute / 60)]! += proxy.seen.length - before;
    }
    proxy.setRule(pass);
    assert.ok(outcomes.every((c) => c === 75), outcomes.join(","));
    assert.ok(perHour[1]! <= 6 && perHour[2]! <= 6, `requests per hour: ${perHour.join(", ")}`);
    assert.ok(perHour[0]! > 0, "it did try");
    process.stderr.write(`# backoff: CA requests per simulated hour: ${perHour.join(", ")}\n`);
    const st = state(s.stateDir);
    assert.equal(st.consecutiveFailures, 4, JSON.stringify(st));
    snap.same();
  });

  test("success resets the failure counters", async () => {
    const { s } = await dueCert(proxy.directoryUrl);
    proxy.setRule(() => ({ kind: "status", status: 503 }));
    assert.equal((await s.cli(["run", NAME, "--timeout", "3"])).code, 75);
    proxy.setRule(pass);
    assert.equal(state(s.stateDir).consecutiveFailures, 1);
    assert.equal((await s.cli(["run", NAME, "--force"])).code, 0);
    const st = state(s.stateDir);
    assert.equal(st.consecutiveFailures, 0);
    assert.equal(st.nextAttemptAt, null);
    assert.equal(st.lastOutcome, "renewed");
  });

  test("badNonce storm (PEBBLE_WFE_NONCEREJECT=50) → renews", async () => {
    const p2 = await startPebble({ env: { PEBBLE_WFE_NONCEREJECT: "50" } });
    try {
      const s = sandbox();
      s.writeConfig(NAME, { server: p2.directoryUrl, caBundle: p2.caBundle, acceptTerms: true, listenHTTP: `127.0.0.1:${p2.httpPort}` });
      const r = await s.cli(["run", NAME]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await p2.stop();
    }
  });

  test("clock at 1970 (injected): no renewal, clear message; check still counts the cert usable", async () => {
    const { s, snap } = await dueCert(proxy.directoryUrl);
    const before = proxy.seen.length;
    const r = await s.cli(["run", NAME], { env: { ACME_RENEW_NOW: "1970-01-01T00:00:10Z" } });
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /clock says 1970-01-01.*before this build of acme-renew/);
    assert.equal(proxy.seen.length, before);
    const c = await s.cli(["check", NAME], { env: { ACME_RENEW_NOW: "1970-01-01T00:00:10Z" } });
    assert.equal(c.code, 0);
    snap.same();
  });

  test("doctor: reports config, certificate, lock, network, clock, disk and CA reachability", async () => {
    const { s } = await dueCert(pebble.directoryUrl);
    const ok = await s.cli(["doctor", NAME]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    for (const what of ["config", "certificate", "permissions", "lock", "state", "network", "clock", "disk", "CA"]) assert.match(ok.stdout, new RegExp(`\\b${what}\\b`));
    assert.match(ok.stdout, /CA\s+https:\/\/127\.0\.0\.1:\d+\/dir answered 200/);
    s.writeConfig(NAME, { server: "https://127.0.0.1:1/dir", caBundle: pebble.caBundle, listenHTTP: ":80" });
    const bad = await s.cli(["doctor", NAME]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /FAIL CA\s+https:\/\/127\.0\.0\.1:1\/dir: ECONNREFUSED/);
  });
});
