/**
 * Issue 11, items 8, 9, 15 and 17: what a run installs and what the pre-check then says agree.
 *  8: validMinDays beyond the lifetime (30 with 6-day certificates) does not make each new one due.
 *  9: a CA answer with no chain, or with names it added, is not "due" right after it is installed.
 * 15: with the clock before the build time and no certificate, nothing is ordered and no placeholder written.
 * 17: a certificate issued by another server or with another profile than configured is due.
 * Pebble issuing 6-day certificates behind a fault proxy, the built CLI.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { startFaultProxy, pass, type FaultProxy } from "../helpers/fault-proxy.js";
import { writeCertDir } from "../helpers/pki.js";

const NAME = "agree.example.com";
const serial = (stateDir: string) => new X509Certificate(readFileSync(join(stateDir, NAME, "cert.pem"))).serialNumber;

describe("install and check agree", { timeout: 300_000 }, () => {
  let pebble: Pebble;
  let proxy: FaultProxy;
  before(async () => {
    pebble = await startPebble({ validityPeriodSeconds: 6 * 86_400 });
    proxy = await startFaultProxy(pebble);
  });
  after(async () => {
    await proxy?.close();
    await pebble?.stop();
  });
  const orders = () => proxy.count((l) => l.startsWith("POST /order-plz"));
  const cfg = (extra: Record<string, unknown> = {}) => ({ server: proxy.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}`, ari: false, ...extra });

  test("8: validMinDays 30 with 6-day certificates: issued once, then not due (the lifetime-based window), warned once per run", async () => {
    proxy.setRule(pass);
    const s = sandbox();
    s.writeConfig(NAME, cfg({ validMinDays: 30 }));
    const r = await s.cli(["run", NAME]);
    assert.equal(r.code, 0, r.stderr);
    const first = serial(s.stateDir);
    const before = orders();
    const again = await s.cli(["run", NAME], { wrapper: ["unshare", "-n"] });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /event=not-due/);
    assert.equal((again.stderr.match(/event=valid-min-days/g) ?? []).length, 1, again.stderr);
    assert.match(again.stderr, /validMinDays 30 is more than 2\/3 of the certificate's lifetime \(6 days\)/);
    assert.equal(orders(), before);
    assert.equal(serial(s.stateDir), first);
    const c = JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0];
    assert.equal(c.status, "valid");
    const half = (Date.parse(c.notBefore) + Date.parse(c.notAfter)) / 2;
    assert.ok(Math.abs(Date.parse(c.renewAt) - half) <= 1000, `renewal at half the lifetime: ${c.renewAt}`);
  });

  test("9: a CA that sends no chain: installed, and the next run does not order again", async () => {
    const s = sandbox();
    s.writeConfig(NAME, cfg());
    // The certificate download answers with the leaf only.
    proxy.setRule(({ path }) => (path.startsWith("/certZ/") ? { kind: "edit", edit: (pem) => pem.slice(0, pem.indexOf("-----END CERTIFICATE-----") + 26) } : { kind: "pass" }));
    const r = await s.cli(["run", NAME]);
    proxy.setRule(pass);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(s.stateDir, NAME, "chain.pem"), "utf8"), "", "no chain from the CA");
    const c = JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0];
    assert.equal(c.status, "valid", JSON.stringify(c.reasons));
    const before = orders();
    const again = await s.cli(["run", NAME]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(orders(), before, "not due: no renewal loop");
    assert.equal(JSON.parse(readFileSync(join(s.stateDir, NAME, "state.json"), "utf8")).issued.chain, false);
  });

  test("9: names the CA added are no reason to renew; a name dropped from the config is", async () => {
    const s = sandbox();
    s.writeConfig(NAME, cfg({ extraDomainNames: ["www.agree.example.com"] }));
    proxy.setRule(pass);
    assert.equal((await s.cli(["run", NAME])).code, 0);
    // Pebble adds no names: record the order as if the CA had added www. itself (what acme-renew writes).
    const st = JSON.parse(readFileSync(join(s.stateDir, NAME, "state.json"), "utf8"));
    assert.deepEqual(st.issued.names, [NAME, "www.agree.example.com"]);
    s.writeConfig(NAME, cfg());
    const dropped = JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0];
    assert.deepEqual(dropped.dueReasons, ["names"], "ordered, then dropped from the config: due");
    writeFileSync(join(s.stateDir, NAME, "state.json"), JSON.stringify({ ...st, issued: { ...st.issued, names: [NAME] } }));
    const added = JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0];
    assert.equal(added.status, "valid", `added by the CA: not due (${added.reasons.join("; ")})`);
  });

  test("17: another server or another profile than the certificate was issued with makes it due; adopted files are not", async () => {
    proxy.setRule(pass);
    const s = sandbox();
    s.writeConfig(NAME, cfg());
    assert.equal((await s.cli(["run", NAME])).code, 0);
    const first = serial(s.stateDir);
    // Same CA, other directory URL (staging → production, in real life).
    s.writeConfig(NAME, cfg({ server: pebble.directoryUrl }));
    const c = JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0];
    assert.deepEqual(c.dueReasons, ["server-changed"]);
    assert.equal(c.usable, true);
    const r = await s.cli(["run", NAME]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /renewing: issued by https:\/\/127\.0\.0\.1:\d+\/dir, configured https:\/\/127\.0\.0\.1:\d+\/dir/);
    assert.notEqual(serial(s.stateDir), first);
    assert.equal(JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0].status, "valid");
    s.writeConfig(NAME, cfg({ server: pebble.directoryUrl, profile: "shortlived" }));
    assert.deepEqual(JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0].dueReasons, ["profile-changed"]);
    // A certificate acme-renew did not issue has no record: a server change is no reason.
    const a = sandbox();
    await writeCertDir(a.stateDir, NAME, { names: [NAME] });
    a.writeConfig(NAME, cfg({ server: pebble.directoryUrl, profile: "shortlived" }));
    assert.equal(JSON.parse((await a.cli(["check", NAME, "--json"])).stdout)[0].status, "valid");
  });

  test("15: clock at 1970 and no certificate: no CA contact, no placeholder, exit 1 saying why", async () => {
    proxy.setRule(pass);
    const s = sandbox();
    s.writeConfig(NAME, cfg());
    const seen = proxy.seen.length;
    const r = await s.cli(["run", NAME], { env: { ACME_RENEW_NOW: "1970-01-01T00:00:10Z" } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no certificate yet; the clock says 1970-01-01.*not renewing until the clock is right/);
    assert.equal(proxy.seen.length, seen, "the CA is not contacted");
    assert.ok(!existsSync(join(s.stateDir, NAME, "cert.pem")), "no placeholder dated 1970");
    const c = await s.cli(["check", NAME, "--json"], { env: { ACME_RENEW_NOW: "1970-01-01T00:00:10Z" } });
    assert.equal(c.code, 1);
    assert.equal(JSON.parse(c.stdout)[0].renew, false);
  });
});
