/** ACME Renewal Information against Pebble 2.6.0 (which advertises renewalInfo), through the built CLI. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { Agent } from "node:https";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { createRequire } from "node:module";
import { sandbox } from "../helpers/cli.js";
import { replaceableByPebble, startPebble, type Pebble } from "../helpers/pebble.js";
import { startFaultProxy, pass, type Action, type FaultProxy } from "../helpers/fault-proxy.js";
import { writeDnsHook } from "../helpers/acme-fixtures.js";
import { writeCertDir } from "../helpers/pki.js";


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
    s.writeConfig(NAME, { server: proxy.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    proxy.setRule(pass);
    const r = await s.cli(["run", NAME]);
    assert.equal(r.code, 0, r.stderr);
    // Tests here expect Pebble to accept `replaces` (test/helpers/pebble.ts).
    await replaceableByPebble(s, NAME);
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
    // A not-due run waits for the CA at most 800 ms: on a loaded machine that can run out before the
    // renewalInfo GET is even sent (asked again after the 6 h that follow). Up to 3 refresh times.
    let before = 0;
    let later = "";
    for (let attempt = 1; ; attempt++) {
      before = renewalInfoGets();
      later = new Date(Date.parse(state(s.stateDir).ari.nextRefreshAt) + 60_000).toISOString();
      const r = await s.cli(["run", NAME], { env: { ACME_RENEW_NOW: later } });
      assert.equal(r.code, 0, r.stderr);
      if (!/no answer within 800 ms/.test(r.stderr) || attempt === 3) break;
    }
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
    // The not-due run waits for the CA at most 800 ms; on a loaded machine that can run out (asked
    // again 6 h later): up to 3 refresh times, as in the test above.
    let later = "";
    let mark = 0;
    let r;
    for (let attempt = 1; ; attempt++) {
      later = new Date(Date.parse(state(s.stateDir).ari.nextRefreshAt) + 60_000).toISOString();
      mark = proxy.payloads.length;
      r = await s.cli(["run", NAME], { env: { ACME_RENEW_NOW: later } });
      assert.equal(r.code, 0, r.stderr);
      if (!/no answer within 800 ms/.test(r.stderr) || attempt === 3) break;
    }
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
    // (On a loaded machine the answer can miss the not-due run's 800 ms budget: a failure all the same.)
    assert.match(r.stderr, /renewal information unavailable \((server|no answer within 800 ms)/);
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
    s.writeConfig(NAME, { server: proxy.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}`, keyType: "ec384" });
    proxy.setRule(({ path }) => (path.includes("renewalInfo") ? { kind: "status", status: 503 } : { kind: "pass" }));
    const r = await s.cli(["run", NAME]);
    proxy.setRule(pass);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /renewed, valid until/);
  });

  test("a not-due run whose ARI answer is old, the CA not answering at all: the refresh adds at most its budget (800 ms)", async () => {
    // A CA that accepts connections and never says a word (what a dead load balancer looks like).
    const held = new Set<Socket>();
    const hole = createServer((c) => held.add(c));
    await new Promise<void>((r) => hole.listen(0, "127.0.0.1", () => r()));
    try {
      const server = `https://127.0.0.1:${(hole.address() as { port: number }).port}/dir`;
      const s = sandbox();
      await writeCertDir(s.stateDir, NAME, { names: [NAME] });
      const state = join(s.stateDir, NAME, "state.json");
      const added: number[] = [];
      for (let i = 0; i < 3; i++) {
        s.writeConfig(NAME, { server, caBundle: pebble.caBundle, listenHTTP: ":80", ari: false });
        const base = await s.cli(["run", NAME]);
        assert.equal(base.code, 0, base.stderr);
        s.writeConfig(NAME, { server, caBundle: pebble.caBundle, listenHTTP: ":80" });
        rmSync(state, { force: true }); // no stored answer: this run refreshes it
        const r = await s.cli(["run", NAME]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /renewal information unavailable \(no answer within 800 ms/);
        added.push(r.ms - base.ms);
      }
      added.sort((x, y) => x - y);
      process.stderr.write(`# not-due run, CA silent: added by the ARI refresh ${added.map((x) => `${x} ms`).join(", ")}\n`);
      assert.ok(added[1]! < 1500, `median added time ${added[1]} ms (budget 800 ms, headroom for a loaded machine)`);
      assert.ok(Date.parse(JSON.parse(readFileSync(state, "utf8")).ari.nextRefreshAt) > Date.now() + 5 * HOUR, "asked again in 6 h, not at every run");
    } finally {
      for (const c of held) c.destroy();
      hole.close();
    }
  });

  test("the ARI refresh records its answer into state.json as it is under the lock: a failure a concurrent run wrote while the answer was on its way is kept", async () => {
    const s = await issued();
    const file = join(s.stateDir, NAME, "state.json");
    // What a concurrent `run --force` that failed leaves (it held the lock and released it): written
    // after the refresh read state.json at its start, before it takes the lock to record its answer.
    const failure = { lastOutcome: "soft-failure", lastError: { class: "server", message: "written by a concurrent run" }, consecutiveFailures: 1 };
    let written = false;
    proxy.setRule(({ method, path }) => {
      if (method !== "GET" || !/renewalInfo\//.test(path) || written) return { kind: "pass" };
      const current = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      writeFileSync(`${file}.concurrent`, JSON.stringify({ ...current, ...failure, answeredFailures: 1 }));
      renameSync(`${file}.concurrent`, file);
      written = true;
      return { kind: "delay", ms: 150, then: { kind: "pass" } };
    });
    let later = "";
    try {
      // The refresh waits at most 800 ms; on a loaded machine that can run out before the GET is
      // sent (asked again 6 h later): up to 3 refresh times.
      for (let attempt = 1; !written && attempt <= 3; attempt++) {
        later = new Date(Date.parse(state(s.stateDir).ari.nextRefreshAt) + 60_000).toISOString();
        const r = await s.cli(["run", NAME], { env: { ACME_RENEW_NOW: later } });
        assert.equal(r.code, 0, r.stderr);
      }
    } finally {
      proxy.setRule(pass);
    }
    assert.ok(written, "the not-due run asked for its renewal information");
    const st = state(s.stateDir);
    // Answered or not within the budget, the refresh records when to ask next.
    assert.ok(Date.parse(st.ari.nextRefreshAt) > Date.parse(later), `the refresh recorded its answer (next refresh ${st.ari.nextRefreshAt})`);
    assert.deepEqual({ lastOutcome: st.lastOutcome, lastError: st.lastError, consecutiveFailures: st.consecutiveFailures }, failure, "the concurrent run's record survives the refresh");
  });

  test("the ARI refresh of a not-due run does not overwrite what a concurrent `run --force` wrote (state read under the lock)", async () => {
    proxy.setRule(pass);
    const s = sandbox();
    const inner = writeDnsHook(s.root);
    const slow = join(s.root, "slow");
    const inPresent = join(s.root, "in-present");
    const hook = join(s.root, "dns-hook.sh");
    // While `slow` exists, the dns-01 `present` step signals and takes 1.5 s: the forced run holds the lock then.
    writeFileSync(hook, `#!/bin/sh\nif [ "$1" = present ] && [ -e "${slow}" ]; then touch "${inPresent}"; sleep 1.5; fi\nexec "${inner}" "$@"\n`);
    chmodSync(hook, 0o755);
    s.writeConfig(NAME, { server: proxy.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, dnsHook: hook, dnsResolver: `127.0.0.1:${pebble.dnsPort}`, dnsPropagationCheck: false });
    const env = { CHALLTESTSRV_URL: pebble.challtestsrvUrl };
    assert.equal((await s.cli(["run", NAME], { env })).code, 0);
    const a0 = state(s.stateDir);
    const oldSerial = JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0].serial;
    writeFileSync(slow, "");
    // Pebble 2.6.0 reuses a valid authorization 1 time in 100 even with PEBBLE_AUTHZREUSE=0: then the
    // forced run has no challenge, never enters `present`, and renews at once — such a run is done again (≤ 3).
    let forced = s.cli(["run", NAME, "--force"], { env });
    for (let attempt = 1; attempt <= 3 && !existsSync(inPresent); attempt++) {
      let renewedAtOnce = false;
      void forced.then((r) => (renewedAtOnce = r.code === 0));
      for (let i = 0; i < 300 && !existsSync(inPresent) && !renewedAtOnce; i++) await new Promise((r) => setTimeout(r, 100));
      if (!existsSync(inPresent) && renewedAtOnce && attempt < 3) forced = s.cli(["run", NAME, "--force"], { env });
      else break;
    }
    assert.ok(existsSync(inPresent), "the forced run is inside its order");
    // Not due; its ARI answer is old at this (injected) time: it refreshes, while the forced run holds the lock.
    const later = new Date(Date.parse(a0.ari.nextRefreshAt) + 60_000).toISOString();
    const refresh = await s.cli(["run", NAME], { env: { ...env, ACME_RENEW_NOW: later } });
    const f = await forced;
    assert.equal(f.code, 0, f.stderr);
    assert.equal(refresh.code, 0, refresh.stderr);
    const st = state(s.stateDir);
    const c = JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0];
    assert.notEqual(c.serial, oldSerial, "renewed by the forced run");
    assert.equal(st.lastOutcome, "renewed");
    assert.ok(Date.parse(st.lastSuccess) > Date.parse(a0.lastSuccess), `the forced run's state survives (lastSuccess ${st.lastSuccess})`);
    assert.ok(c.ari, "the stored ARI answer is about the certificate on disk");
  });
});

