/**
 * Item 6 of issue 11: the cross-run backoff protects the CA also when there is no usable
 * certificate, honours a Retry-After on any error, and costs a host that merely had no network
 * nothing once the network is back. Real Pebble behind a fault proxy, the built CLI with its clock
 * moved by ACME_RENEW_NOW (test/helpers/fake-clock.ts).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { startFaultProxy, pass, type FaultProxy } from "../helpers/fault-proxy.js";

const NAME = "b.example.com";
const MIN = 60_000;

function state(stateDir: string) {
  return JSON.parse(readFileSync(join(stateDir, NAME, "state.json"), "utf8"));
}

describe("backoff without a usable certificate", { timeout: 600_000 }, () => {
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
  const orders = () => proxy.count((l) => l.startsWith("POST /order-plz"));
  const at = (t0: number, minute: number) => ({ env: { ACME_RENEW_NOW: new Date(t0 + minute * MIN).toISOString() } });

  test("validation always fails, no certificate: a run every 5 minutes sends ≤ 6 orders in the first hour, ≤ 1 an hour after", async () => {
    proxy.setRule(pass);
    const s = sandbox();
    // The token goes to a webroot nobody serves: Pebble's validation gets a 404, every time.
    mkdirSync(join(s.root, "www"));
    s.writeConfig(NAME, { server: proxy.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, webroot: join(s.root, "www") });
    const t0 = Date.now();
    const perHour = [0, 0, 0];
    const codes = new Set<number | null>();
    for (let minute = 0; minute < 180; minute += 5) {
      const before = orders();
      const r = await s.cli(["run", NAME, "--timeout", "20"], at(t0, minute));
      codes.add(r.code);
      perHour[Math.floor(minute / 60)]! += orders() - before;
    }
    process.stderr.write(`# backoff, no usable certificate, validation failing: orders per simulated hour ${perHour.join(", ")}\n`);
    assert.deepEqual([...codes], [3], "a placeholder serves (exit 3) in every run");
    assert.ok(perHour[0]! >= 2 && perHour[0]! <= 6, `first hour: ${perHour[0]}`);
    assert.ok(perHour[1]! <= 1 && perHour[2]! <= 1, `after: ${perHour.join(", ")}`);
    assert.equal(state(s.stateDir).lastError.class, "challenge");
  });

  test("503 with Retry-After: 3600 and no certificate: the run stops at once, no CA contact for an hour, then it tries again", async () => {
    const s = sandbox();
    s.writeConfig(NAME, { server: proxy.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}`, placeholder: false });
    proxy.setRule(({ path }) => (path.startsWith("/order-plz") ? { kind: "status", status: 503, detail: "down for maintenance", retryAfter: "3600" } : { kind: "pass" }));
    const t0 = Date.now();
    const before = orders();
    const r = await s.cli(["run", NAME], at(t0, 0));
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.ms < 30_000, `not waiting inside the run for a Retry-After it cannot honour: took ${r.ms} ms`);
    assert.equal(orders() - before, 1, "one newOrder, not retried after 2 minutes");
    const ra = Date.parse(state(s.stateDir).retryAfter);
    assert.ok(Math.abs(ra - (t0 + 60 * MIN)) < 2 * MIN, `retryAfter stored for a 503: ${state(s.stateDir).retryAfter}`);
    const seen = proxy.seen.length;
    for (const minute of [15, 30, 45, 59]) {
      const w = await s.cli(["run", NAME], at(t0, minute));
      assert.equal(w.code, 1, w.stderr);
      assert.match(w.stderr, /Retry-After/);
    }
    assert.equal(proxy.seen.length, seen, "no request to the CA within the hour");
    proxy.setRule(pass);
    const ok = await s.cli(["run", NAME], at(t0, 62));
    assert.equal(ok.code, 0, ok.stderr);
  });

  test("no network (nothing reaches the CA), no certificate: no backoff builds up; the first run after the network returns gets the certificate", async () => {
    const s = sandbox();
    s.writeConfig(NAME, { server: proxy.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}`, placeholder: false });
    proxy.setRule(() => ({ kind: "reset" }));
    const t0 = Date.now();
    for (const minute of [0, 15, 30, 45, 60, 75]) {
      const r = await s.cli(["run", NAME, "--timeout", "4"], at(t0, minute));
      assert.equal(r.code, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /event=backoff/, `minute ${minute}: not held back`);
    }
    const st = state(s.stateDir);
    assert.equal(st.consecutiveFailures, 6);
    assert.equal(st.answeredFailures, 0);
    assert.equal(st.nextAttemptAt, null);
    proxy.setRule(pass);
    const r = await s.cli(["run", NAME], at(t0, 90));
    assert.equal(r.code, 0, r.stderr);
  });
});
