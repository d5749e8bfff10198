/** ACME Renewal Information against Pebble 2.6.0 (which advertises renewalInfo), through the built CLI. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { Agent } from "node:https";
import { join } from "node:path";
import { createRequire } from "node:module";
import { sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { startFaultProxy, pass, type Action, type FaultProxy } from "../helpers/fault-proxy.js";

const NAME = "ari.example.com";
const HOUR = 3_600_000;

function state(stateDir: string) {
  return JSON.parse(readFileSync(join(stateDir, NAME, "state.json"), "utf8"));
}

/** Revokes the certificate on disk with the account acme-renew created (acme-client, in this test process). */
async function revoke(pebble: Pebble, directoryUrl: string, stateDir: string) {
  const require = createRequire(import.meta.url);
  const acme = require("acme-client");
  acme.axios.defaults.httpsAgent = new Agent({ ca: readFileSync(pebble.caBundle) });
  const dir = join(stateDir, "accounts", readdirSync(join(stateDir, "accounts"))[0]!);
  const meta = JSON.parse(readFileSync(join(dir, "account.json"), "utf8"));
  const client = new acme.Client({ directoryUrl, accountKey: readFileSync(join(dir, "account.key")), accountUrl: meta.url });
  await client.revokeCertificate(readFileSync(join(stateDir, NAME, "cert.pem"), "utf8"));
}

describe("ARI", { timeout: 300_000 }, () => {
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

  async function issued() {
    const s = sandbox();
    s.writeConfig(NAME, { server: proxy.directoryUrl, caBundle: pebble.caBundle, listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    proxy.setRule(pass);
    const r = await s.cli(["run", NAME]);
    assert.equal(r.code, 0, r.stderr);
    return s;
  }
  const renewalInfoGets = () => proxy.count((l) => /^GET .*renewalInfo\//.test(l));

  test("after issuance the state holds the window, a selected time inside it and the refresh time; check shows them", async () => {
    const s = await issued();
    const a = state(s.stateDir).ari;
    assert.ok(a, "ari stored");
    const [start, end, sel, next] = [a.windowStart, a.windowEnd, a.selectedTime, a.nextRefreshAt].map(Date.parse);
    assert.ok(start! <= sel! && sel! <= end!, JSON.stringify(a));
    assert.ok(Math.abs(next! - (Date.now() + 6 * HOUR)) < 10 * 60_000, "Pebble's Retry-After: 21600 → 6 h");
    const c = JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0];
    assert.equal(c.ari.selectedTime, a.selectedTime);
    assert.equal(c.ari.windowStart, a.windowStart);
  });

  test("a second run inside the refresh period makes no network call (strace)", async () => {
    const s = await issued();
    const trace = join(s.root, "trace");
    const r = await s.cli(["run", NAME], { wrapper: ["strace", "-f", "-qq", "-o", trace, "-e", "trace=connect"] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(trace, "utf8").split("\n").filter((l) => /connect\(/.test(l)), []);
  });

  test("after the refresh time: exactly one GET renewalInfo; the selected time is kept for the same window", async () => {
    const s = await issued();
    const a = state(s.stateDir).ari;
    const before = renewalInfoGets();
    const later = new Date(Date.parse(a.nextRefreshAt) + 60_000).toISOString();
    const r = await s.cli(["run", NAME], { env: { ACME_RENEW_NOW: later } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(renewalInfoGets() - before, 1);
    const b = state(s.stateDir).ari;
    assert.equal(b.selectedTime, a.selectedTime, "not re-rolled");
    assert.ok(Date.parse(b.nextRefreshAt) > Date.parse(later));
    // And right after, inside the new period: none.
    const r2 = await s.cli(["run", NAME], { env: { ACME_RENEW_NOW: later } });
    assert.equal(r2.code, 0);
    assert.equal(renewalInfoGets() - before, 1);
  });

  test("revoked → the window moves into the past → the next run renews with replaces=<certID>", async () => {
    const s = await issued();
    const a = state(s.stateDir).ari;
    const oldSerial = JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0].serial;
    await revoke(pebble, proxy.directoryUrl, s.stateDir);
    const later = new Date(Date.parse(a.nextRefreshAt) + 60_000).toISOString();
    const mark = proxy.payloads.length;
    const r = await s.cli(["run", NAME], { env: { ACME_RENEW_NOW: later } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /the CA suggests renewing \(ARI window/);
    assert.match(r.stderr, /renewed, valid until/);
    const orders = proxy.payloads.slice(mark).filter((p) => p.path.includes("order-plz"));
    assert.equal(orders.length, 1);
    assert.equal((orders[0]!.payload as { replaces?: string }).replaces, a.certId);
    const now = JSON.parse((await s.cli(["check", NAME, "--json"], { env: { ACME_RENEW_NOW: later } })).stdout)[0];
    assert.notEqual(now.serial, oldSerial);
    assert.equal(now.status, "valid");
  });

  /** Answers the first `times` newOrders that carry `replaces` with `answer`; returns how many carried it. */
  function onReplacesOrder(answer: Action, times = Infinity): { seen: number } {
    const c = { seen: 0 };
    proxy.setRule(({ path, payload }) => {
      if (!path.includes("order-plz") || !(payload as { replaces?: string } | null)?.replaces) return { kind: "pass" };
      return ++c.seen <= times ? answer : { kind: "pass" };
    });
    return c;
  }

  test("replaces refused (409 alreadyReplaced) → the order is retried once without it", async () => {
    const s = await issued();
    const orders = onReplacesOrder({ kind: "status", status: 409, problem: "alreadyReplaced", detail: "this certificate was already replaced" });
    const r = await s.cli(["run", NAME, "--force"]);
    proxy.setRule(pass);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(orders.seen, 1);
    assert.match(r.stderr, /refused replaces=.*ordering without it/);
  });

  test("replaces answered with 500 about the replaced certificate (Pebble after a killed run) → not retried as is, ordered without it", async () => {
    const s = await issued();
    const detail = "could not find an order for the given certificate: could not find order resulting in the given certificate serial number";
    const orders = onReplacesOrder({ kind: "status", status: 500, problem: "serverInternal", detail });
    const r = await s.cli(["run", NAME, "--force"]);
    proxy.setRule(pass);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(orders.seen, 1, "one attempt with replaces, no in-run retries of it");
    assert.doesNotMatch(r.stderr, /retry 1/);
    assert.match(r.stderr, /refused replaces=.*ordering without it/);
  });

  test("a plain 503 on newOrder with replaces is retried with replaces (not mistaken for a refusal)", async () => {
    const s = await issued();
    const orders = onReplacesOrder({ kind: "status", status: 503, problem: "serverInternal", detail: "try again later" }, 1);
    const r = await s.cli(["run", NAME, "--force"]);
    proxy.setRule(pass);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(orders.seen, 2, "retried, still carrying replaces");
    assert.match(r.stderr, /retry 1/);
    assert.doesNotMatch(r.stderr, /ordering without it/);
  });

  test("ARI endpoint failing (500): warning, the local policy decides, exit code unchanged, retry in 6 h", async () => {
    const s = await issued();
    const a = state(s.stateDir).ari;
    proxy.setRule(({ path }) => (path.includes("renewalInfo") ? { kind: "status", status: 500 } : { kind: "pass" }));
    const later = new Date(Date.parse(a.nextRefreshAt) + 60_000);
    const r = await s.cli(["run", NAME], { env: { ACME_RENEW_NOW: later.toISOString() } });
    proxy.setRule(pass);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /renewal information unavailable \(server/);
    const b = state(s.stateDir).ari;
    assert.equal(b.selectedTime, a.selectedTime, "the known window is kept");
    assert.ok(Math.abs(Date.parse(b.nextRefreshAt) - (later.getTime() + 6 * HOUR)) < 60_000);
  });

  test("ARI endpoint hanging: bounded, warning, exit 0", async () => {
    const s = await issued();
    const a = state(s.stateDir).ari;
    proxy.setRule(({ path }) => (path.includes("renewalInfo") ? { kind: "stall" } : { kind: "pass" }));
    const r = await s.cli(["run", NAME], { env: { ACME_RENEW_NOW: new Date(Date.parse(a.nextRefreshAt) + 60_000).toISOString() } });
    proxy.setRule(pass);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.ms < 30_000, `took ${r.ms}`);
    assert.match(r.stderr, /renewal information unavailable \(no answer within 800 ms/);
  });

  test("ARI failing while a renewal is due by the local policy: the renewal still happens", async () => {
    const s = await issued();
    // Due by the config (another key type), whatever ARI says.
    s.writeConfig(NAME, { server: proxy.directoryUrl, caBundle: pebble.caBundle, listenHTTP: `127.0.0.1:${pebble.httpPort}`, keyType: "ec384" });
    proxy.setRule(({ path }) => (path.includes("renewalInfo") ? { kind: "status", status: 503 } : { kind: "pass" }));
    const r = await s.cli(["run", NAME]);
    proxy.setRule(pass);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /renewed, valid until/);
  });
});
