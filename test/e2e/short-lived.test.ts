/**
 * Issue 15: 6-day certificates stay valid under the shipped timer with failures injected. Pebble
 * issues certificates of certificateValidityPeriod 518400 s (6 days); the built CLI runs as
 * acme-renew@.service does (`run <name>`), at the cadence systemd/acme-renew@.timer gives (read from
 * the unit: hourly at a fixed random offset), through 12 simulated days on the injected test clock
 * (ACME_RENEW_NOW). The first two attempts of every renewal fail — the CA refuses the finalize, then
 * rate-limits the new order (429, Retry-After 5 min) — and the third succeeds. After every run the
 * certificate in place must still be valid at the next run.
 *
 * Pebble's own clock is the real one; the simulated days reach it through the order: the fault
 * proxy adds RFC 8555 §7.4 `notBefore` (the simulated time) to each newOrder and re-signs the JWS
 * with the account's key, so every certificate (and Pebble's ARI window for it) is dated on the
 * simulated clock the CLI runs on.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, sign, X509Certificate } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { startFaultProxy, type Action, type FaultProxy } from "../helpers/fault-proxy.js";
import { baseConfig } from "../helpers/acme-fixtures.js";

const NAME = "six.example.com";
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const VALIDITY_S = 518_400;

/** The shipped timer's schedule: the interval between runs, from OnCalendar= (and its fixed random delay). */
function timerCadence(): { everyMs: number; maxDelayMs: number } {
  const unit = readFileSync(join(ROOT, "systemd/acme-renew@.timer"), "utf8");
  const value = (k: string) => unit.match(new RegExp(`^${k}=(.*)$`, "m"))?.[1]?.trim();
  const every: Record<string, number> = { minutely: MIN, hourly: HOUR, daily: DAY };
  const cal = value("OnCalendar");
  assert.ok(cal && every[cal], `OnCalendar=${cal}: this test knows ${Object.keys(every).join(", ")}`);
  assert.equal(value("FixedRandomDelay"), "true", "a fixed per-host offset: runs stay one interval apart");
  const d = value("RandomizedDelaySec")?.match(/^(\d+)min$/);
  return { everyMs: every[cal]!, maxDelayMs: d ? Number(d[1]) * MIN : 0 };
}

describe("6-day certificates under the shipped timer, two failing attempts per renewal", { timeout: 1_500_000 }, () => {
  let pebble: Pebble;
  let proxy: FaultProxy;
  const s = sandbox();
  /** The simulated time of the run in progress: the notBefore the proxy puts into a newOrder. */
  let simNow = 0;
  /** Injected failures left for the renewal in progress: 2 → finalize refused, 1 → newOrder rate-limited. */
  let failuresLeft = 0;
  before(async () => {
    pebble = await startPebble({ validityPeriodSeconds: VALIDITY_S });
    proxy = await startFaultProxy(pebble);
    proxy.setRule(rule);
    s.writeConfig(NAME, { ...baseConfig(pebble), server: proxy.directoryUrl, listenHTTP: `127.0.0.1:${pebble.httpPort}` });
  });
  after(async () => {
    await proxy?.close();
    await pebble?.stop();
  });

  /** The account key acme-renew created (one account in this state dir). */
  const accountKey = () => {
    const dir = join(s.stateDir, "accounts");
    const [id] = readdirSync(dir).filter((d) => !d.includes("."));
    return createPrivateKey(readFileSync(join(dir, id!, "account.key")));
  };
  /** newOrder with notBefore = the simulated time, re-signed with the account key (ES256). */
  const dated = (body: string): string => {
    const jws = JSON.parse(body) as { protected: string; payload: string; signature: string };
    const payload = JSON.parse(Buffer.from(jws.payload, "base64url").toString());
    const p = Buffer.from(JSON.stringify({ ...payload, notBefore: new Date(Math.floor(simNow / 1000) * 1000).toISOString().replace(".000Z", "Z") })).toString("base64url");
    const sig = sign("sha256", Buffer.from(`${jws.protected}.${p}`), { key: accountKey(), dsaEncoding: "ieee-p1363" });
    return JSON.stringify({ protected: jws.protected, payload: p, signature: sig.toString("base64url") });
  };
  function rule({ method, path, body }: { method: string; path: string; body: string }): Action {
    if (method !== "POST") return { kind: "pass" };
    if (path === "/order-plz") {
      if (failuresLeft === 1) return { kind: "status", status: 429, problem: "rateLimited", detail: "injected: too many new orders", retryAfter: "300" };
      return { kind: "rewrite", body: dated(body) };
    }
    if (path.startsWith("/finalize-order/") && failuresLeft === 2) return { kind: "status", status: 403, problem: "unauthorized", detail: "injected: finalize refused" };
    return { kind: "pass" };
  }

  test("12 simulated days: the certificate never expires; every renewal survives two failed attempts", async () => {
    const { everyMs, maxDelayMs } = timerCadence();
    const T0 = Date.now();
    // OnBootSec=1min, then OnCalendar at a fixed offset within RandomizedDelaySec.
    const offset = Math.floor(maxDelayMs * 0.47);
    const ticks = [T0 + MIN];
    for (let t = Math.ceil((T0 + MIN) / everyMs) * everyMs + offset; t < T0 + 12 * DAY; t += everyMs) ticks.push(t);
    const orders = () => proxy.count((l) => l === "POST /order-plz");
    const codes = new Map<number, number>();
    const renewals: Array<{ at: number; age: number; failuresBefore: number }> = [];
    let minMarginMs = Infinity;
    let serial: string | null = null;
    let issuedAt = 0;
    let failedRuns = 0;
    for (let i = 0; i < ticks.length; i++) {
      simNow = ticks[i]!;
      const before = orders();
      const r = await s.cli(["run", NAME], { env: { ACME_RENEW_NOW: new Date(simNow).toISOString() }, timeoutMs: 120_000 });
      codes.set(r.code ?? -1, (codes.get(r.code ?? -1) ?? 0) + 1);
      assert.ok(r.code === 0 || (r.code === 75 && serial !== null), `run at +${((simNow - T0) / DAY).toFixed(3)} d: exit ${r.code}\n${r.stderr}`);
      const cert = new X509Certificate(readFileSync(join(s.stateDir, NAME, "cert.pem")));
      const sn = cert.serialNumber;
      if (sn !== serial) {
        if (serial !== null) renewals.push({ at: simNow - T0, age: simNow - issuedAt, failuresBefore: failedRuns });
        assert.ok(Math.abs(Date.parse(cert.validFrom) - simNow) < 2000 + 1000, `dated on the simulated clock: ${cert.validFrom}`);
        serial = sn;
        issuedAt = Date.parse(cert.validFrom);
        failedRuns = 0;
        // Every renewal from now on meets two failing attempts first.
        failuresLeft = 2;
      } else if (r.code === 75) {
        assert.ok(orders() > before || /rate/i.test(r.stderr), `a failed run reached the CA\n${r.stderr}`);
        failedRuns++;
        failuresLeft = Math.max(0, failuresLeft - 1);
      }
      // Until the next run, the certificate in place must stay valid.
      const next = ticks[i + 1] ?? T0 + 12 * DAY;
      minMarginMs = Math.min(minMarginMs, Date.parse(cert.validTo) - next);
      assert.ok(Date.parse(cert.validTo) > next, `the certificate expires (${cert.validTo}) before the next run at ${new Date(next).toISOString()}`);
    }
    const days = (ms: number) => (ms / DAY).toFixed(2);
    process.stderr.write(
      `# 6-day certificates, ${ticks.length} runs over 12 simulated days (every ${everyMs / MIN} min + ${offset / MIN} min): ${renewals.length} renewals at certificate ages ${renewals.map((r) => days(r.age)).join(", ")} d, ` +
        `each after ${renewals.map((r) => r.failuresBefore).join(", ")} failed attempts; least validity left at a run: ${days(minMarginMs)} d; exit codes ${[...codes].map(([c, n]) => `${c}×${n}`).join(", ")}\n`,
    );
    assert.ok(renewals.length >= 3, `renewed at least 3 times in 12 days: ${JSON.stringify(renewals)}`);
    for (const r of renewals) assert.equal(r.failuresBefore, 2, `two failed attempts before each renewal: ${JSON.stringify(renewals)}`);
    assert.ok(minMarginMs > DAY, `more than a day of validity always left: ${days(minMarginMs)} d`);
  });
});
