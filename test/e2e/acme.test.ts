/**
 * The ACME engine (src/acme/) end to end, through the built CLI against Pebble: lost answers to
 * non-idempotent POSTs, each call classified from its own answer while authorizations run side by
 * side, TLS trust from the system store, explicit acceptance of the CA's terms.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { startFaultProxy, pass, type FaultProxy, type Rule } from "../helpers/fault-proxy.js";
import { writeCertDir } from "../helpers/pki.js";
import { accountFiles } from "../../src/acme/account-files.js";
import { generateKeyPair } from "../../src/crypto/keys.js";

const NAME = "e.example.com";

function state(stateDir: string, name = NAME) {
  return JSON.parse(readFileSync(join(stateDir, name, "state.json"), "utf8"));
}

async function challtestsrv(p: Pebble, path: string, body: unknown): Promise<void> {
  const r = await fetch(`${p.challtestsrvUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
  assert.equal(r.status, 200, `challtestsrv ${path}`);
}

describe("ACME engine", { timeout: 300_000 }, () => {
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

  /** A sandbox issuing NAME (plus `extra` names) through the proxy with our own http-01 listener. */
  function viaProxy(extra: Record<string, unknown> = {}) {
    const s = sandbox();
    s.writeConfig(NAME, { server: proxy.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}`, ...extra });
    return s;
  }
  const finalizes = () => proxy.count((l) => l.startsWith("POST /finalize-order/"));

  test("finalize answer lost after the CA took the CSR: the order is read again, not finalized twice; the certificate is installed", async () => {
    const s = viaProxy();
    let lost = false;
    proxy.setRule(({ path }) => (path.startsWith("/finalize-order/") && !lost ? ((lost = true), { kind: "lose" }) : { kind: "pass" }));
    const before = finalizes();
    const r = await s.cli(["run", NAME]);
    proxy.setRule(pass);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(lost, "the rule fired");
    assert.equal(finalizes() - before, 1, "one finalize request reached the CA");
    assert.match(r.stderr, /reading the order instead of sending the CSR again/);
    assert.doesNotMatch(r.stderr, /unauthorized|orderNotReady/);
    assert.equal(JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0].status, "valid");
  });

  test("finalize answered 500 after the CA acted on it: no second finalize (whose orderNotReady is not 'unauthorized'); renewed", async () => {
    const s = viaProxy();
    let once = false;
    proxy.setRule(({ path }) =>
      path.startsWith("/finalize-order/") && !once ? ((once = true), { kind: "lose", answer: { status: 500, detail: "gateway lost the upstream answer" } }) : { kind: "pass" },
    );
    const before = finalizes();
    const r = await s.cli(["run", NAME]);
    proxy.setRule(pass);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(finalizes() - before, 1);
    assert.equal(JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0].status, "valid");
  });

  test("challenge answer lost after the CA started validating: the authorization is read again, the challenge not re-posted", async () => {
    const s = viaProxy();
    let lost = false;
    proxy.setRule(({ path, payload }) =>
      path.startsWith("/chalZ/") && payload !== null && !lost ? ((lost = true), { kind: "lose" }) : { kind: "pass" },
    );
    const before = proxy.payloads.filter((p) => p.path.startsWith("/chalZ/") && p.payload !== null).length;
    const r = await s.cli(["run", NAME]);
    proxy.setRule(pass);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(proxy.payloads.filter((p) => p.path.startsWith("/chalZ/") && p.payload !== null).length - before, 1, "one challenge POST");
    assert.doesNotMatch(r.stderr, /cannot be updated/);
  });

  test("concurrent authorizations failing differently: each failure is classified and reported from its own answer", async () => {
    // bad: Pebble's validation really fails (its name resolves to 127.0.0.2, where nothing listens).
    // good: its challenge POST gets an injected 503 (Retry-After 3) while bad's validation is read.
    const bad = "bad.e.example.com";
    const good = "good.e.example.com";
    await challtestsrv(pebble, "/add-a", { host: bad, addresses: ["127.0.0.2"] });
    const s = sandbox();
    s.writeConfig("pair", { domain: bad, extraDomainNames: [good], server: proxy.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    let injected = false;
    let challengePosts = 0;
    const rule: Rule = ({ path, payload }) => {
      if (path.startsWith("/chalZ/") && payload !== null) {
        challengePosts++;
        if (proxy.identifierOf(path) === good && !injected) {
          injected = true;
          return { kind: "delay", ms: 500, then: { kind: "status", status: 503, detail: `injected for ${good}`, retryAfter: "3" } };
        }
        return { kind: "pass" };
      }
      // Reads of authorizations, challenges and the order once validation started: answered late,
      // so that they come back while good's 503 is the latest error answer of the run.
      if (challengePosts > 0 && payload === null && /^\/(chalZ|authZ|my-order)\//.test(path)) return { kind: "delay", ms: 1500, then: { kind: "pass" } };
      return { kind: "pass" };
    };
    proxy.setRule(rule);
    try {
      const r = await s.cli(["run", "pair"]);
      assert.ok(injected, "the 503 was injected");
      assert.equal(r.code, 3, r.stderr); // no certificate: a placeholder serves
      // good's 503 is good's: named so, class server, and it never becomes bad's verdict.
      assert.match(r.stderr, new RegExp(`challenge ${good.replace(/\./g, "\\.")}: injected for ${good.replace(/\./g, "\\.")} \\(HTTP 503\\) \\(server\\)`));
      assert.doesNotMatch(r.stderr, new RegExp(`${bad.replace(/\./g, "\\.")}: [^\\n]*injected`), "no failure of bad carries good's answer");
      // bad's failure is its validation's, from Pebble's answer about it.
      assert.match(r.stderr, new RegExp(`renewal failed \\(challenge\\): ${bad.replace(/\./g, "\\.")}: http-01 validation failed: [^\\n]*(connect|refused)`, "i"));
      const st = state(s.stateDir, "pair");
      assert.equal(st.lastError.class, "challenge");
      assert.doesNotMatch(st.lastError.message, /injected/);
    } finally {
      proxy.setRule(pass);
      await challtestsrv(pebble, "/clear-a", { host: bad });
    }
  });

  test("TLS trust: a private root in SSL_CERT_FILE (no caBundle) is trusted for the CA; without it the CA's certificate is not", async () => {
    const s = sandbox();
    const bundle = join(s.root, "private-roots.pem");
    writeFileSync(bundle, readFileSync(pebble.caBundle));
    s.writeConfig(NAME, { server: pebble.directoryUrl, acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    const untrusted = await s.cli(["run", NAME, "--timeout", "10"]);
    assert.equal(untrusted.code, 3, untrusted.stderr); // no certificate: a placeholder serves
    assert.match(untrusted.stderr, /renewal failed \(tls\)/);
    const r = await s.cli(["run", NAME], { env: { SSL_CERT_FILE: bundle } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0].status, "valid");
  });

  test("TLS trust: a root installed in the distribution's bundle (/etc/ssl/certs/ca-certificates.crt, seen through a mount namespace) is trusted", async () => {
    const system = "/etc/ssl/certs/ca-certificates.crt";
    assert.ok(existsSync(system), `${system} (Debian's ca-certificates) is needed`);
    const s = sandbox();
    // What update-ca-certificates leaves after a proxy's root was added: the system roots plus it.
    const bundle = join(s.root, "ca-certificates.crt");
    writeFileSync(bundle, `${readFileSync(system, "utf8")}\n${readFileSync(pebble.caBundle, "utf8")}`);
    s.writeConfig(NAME, { server: pebble.directoryUrl, acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    const wrapper = ["unshare", "-m", "sh", "-c", `mount --bind "$0" ${system} && exec "$@"`, bundle];
    const r = await s.cli(["run", NAME], { wrapper });
    assert.equal(r.code, 0, r.stderr);
  });

  test("acceptTerms: registering without it is a 78 naming the option, before any request; validate says so; a certificate on disk still checks fine", async () => {
    const s = sandbox();
    s.writeConfig(NAME, { server: proxy.directoryUrl, caBundle: pebble.caBundle, listenHTTP: `127.0.0.1:${pebble.httpPort}`, placeholder: false });
    const before = proxy.seen.length;
    const r = await s.cli(["run", NAME]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /acceptTerms: not set: registering an ACME account with .* means accepting its terms of service; set "acceptTerms": true in .*e\.example\.com\.json or in defaults\.json/);
    assert.equal(proxy.seen.length, before, "no request to the CA");
    assert.ok(!existsSync(join(s.stateDir, "accounts")), "no account key generated");
    const v = await s.cli(["validate", NAME]);
    assert.equal(v.code, 78, v.stderr);
    assert.match(v.stderr, /acceptTerms: not set/);

    // A valid certificate on disk: the offline pre-check and a not-due run need no terms.
    const t = sandbox();
    t.writeConfig(NAME, { server: "https://127.0.0.1:1/dir", caBundle: pebble.caBundle, listenHTTP: ":80" });
    await writeCertDir(t.stateDir, NAME, { names: [NAME] });
    const c = await t.cli(["check", NAME]);
    assert.equal(c.code, 0, c.stderr);
    const n = await t.cli(["run", NAME], { wrapper: ["unshare", "-n"] });
    assert.equal(n.code, 0, n.stderr);
    assert.match(n.stderr, /not-due/);
  });

  test("acceptTerms: an account registered earlier keeps working without it (no registration); validate warns instead of failing", async () => {
    const s = viaProxy();
    assert.equal((await s.cli(["run", NAME])).code, 0);
    s.writeConfig(NAME, { server: proxy.directoryUrl, caBundle: pebble.caBundle, listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    const accountCalls = () => proxy.count((l) => l.startsWith("POST /sign-me-up"));
    const before = accountCalls();
    const r = await s.cli(["run", NAME, "--force"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(accountCalls(), before, "the stored account URL is used: no account request");
    const v = await s.cli(["validate", NAME]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stderr, /acceptTerms: not set; the account already registered/);
  });

  test("acceptTerms: a key without a stored account URL is only looked up (onlyReturnExisting); not found → 78", async () => {
    const s = viaProxy();
    assert.equal((await s.cli(["run", NAME])).code, 0);
    // Another directory URL (the same Pebble behind another spelling): a key, no account URL.
    const other = proxy.directoryUrl.replace("/dir", "/dir?x");
    s.writeConfig(NAME, { server: other, caBundle: pebble.caBundle, listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    // A key for `other` that Pebble has never seen, and no account URL stored for it.
    const to = accountFiles(s.stateDir, other, null);
    mkdirSync(to.dir, { recursive: true });
    writeFileSync(to.key, (await generateKeyPair("ec256")).pem, { mode: 0o600 });
    proxy.payloads.length = 0;
    const r = await s.cli(["run", NAME, "--force"]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /acceptTerms: not set/);
    const account = proxy.payloads.filter((p) => p.path.startsWith("/sign-me-up"));
    assert.equal(account.length, 1, "one lookup");
    assert.deepEqual(account[0]!.payload, { onlyReturnExisting: true });
  });
});
