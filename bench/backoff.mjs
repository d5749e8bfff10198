// Benchmark (issue 11, item 6): what a permanently failing host costs the CA, and how soon a host
// that only lacked network gets its certificate. Real Pebble behind the test fault proxy (counting
// newOrder POSTs), the built CLI with its clock moved by ACME_RENEW_NOW (test/helpers/fake-clock.ts),
// runs scheduled like the shipped units: once after boot, the renewal timer hourly (at :30 here), and
// Restart= 15 min after a run that exits 1 or 3 (exit 0 and 75 are successes: no restart).
//   A. no usable certificate, validation always fails (webroot not served) — 8 simulated hours
//   B. a usable certificate in its renewal window, validation always fails — 8 simulated hours
//   C. no certificate, the network down (connections reset) for 2 h, then back: minutes to certificate
// With --baseline DIST (e.g. a build of the commit before), each scenario also runs that build: the
// ratio is taken against it in the same invocation.
// Usage: npx tsc && node scripts/build.mjs && node bench/backoff.mjs [-- --hours 8 --baseline /tmp/old/dist/acme-renew.js]
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

const ROOT = resolve(import.meta.dirname, "..");
const { values } = parseArgs({ options: { hours: { type: "string", default: "8" }, baseline: { type: "string" }, only: { type: "string", default: "ABC" } } });
const ONLY = values.only;
const HOURS = Number(values.hours);
const { startPebble } = await import(join(ROOT, "build/test/helpers/pebble.js"));
const { startFaultProxy, pass } = await import(join(ROOT, "build/test/helpers/fault-proxy.js"));
const { writeCertDir, DAY } = await import(join(ROOT, "build/test/helpers/pki.js"));
const FAKE_CLOCK = pathToFileURL(join(ROOT, "build/test/helpers/fake-clock.js")).href;
const MIN = 60_000;
const NAME = "bench.example.com";

function cli(dist, etc, state, args, nowMs) {
  return new Promise((res) => {
    const t0 = performance.now();
    const c = spawn(process.execPath, [dist, "--config-dir", etc, "--state-dir", state, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ACME_RENEW_NOW: new Date(nowMs).toISOString(), NODE_OPTIONS: `--import=${FAKE_CLOCK}` },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    c.stderr.on("data", (d) => (err = (err + d).slice(-4000)));
    const kill = setTimeout(() => c.kill("SIGKILL"), 120_000);
    c.on("close", (code) => {
      clearTimeout(kill);
      res({ code, ms: performance.now() - t0, err });
    });
  });
}

/**
 * Runs the unit's schedule for `hours` simulated hours. `onMinute(m)` may change the proxy's rule.
 * Returns the run log: [{ minute, code, orders }].
 */
async function schedule(dist, dirs, hours, proxy, onMinute = () => {}) {
  const t0 = Date.now();
  const queue = new Set([0]);
  for (let m = 30; m < hours * 60; m += 60) queue.add(m);
  const log = [];
  for (let m = 0; m < hours * 60; m++) {
    if (!queue.has(m)) continue;
    onMinute(m);
    const before = proxy.count((l) => l.startsWith("POST /order-plz"));
    const r = await cli(dist, dirs.etc, dirs.state, ["run", NAME, "--timeout", "20"], t0 + m * MIN);
    log.push({ minute: m, code: r.code, orders: proxy.count((l) => l.startsWith("POST /order-plz")) - before, ms: r.ms });
    if (r.code === 1 || r.code === 3) queue.add(m + 15);
  }
  return log;
}

const runsPerHour = (log, hours) => Array.from({ length: hours }, (_, h) => log.filter((r) => r.minute >= h * 60 && r.minute < (h + 1) * 60 && r.orders > 0).length);
const perHour = (log, hours) => Array.from({ length: hours }, (_, h) => log.filter((r) => r.minute >= h * 60 && r.minute < (h + 1) * 60).reduce((n, r) => n + r.orders, 0));

const work = mkdtempSync(join(tmpdir(), "acme-renew-bench-backoff-"));
let seq = 0;
function dirs() {
  const d = join(work, String(seq++));
  const etc = join(d, "etc");
  const state = join(d, "state");
  const www = join(d, "www");
  for (const x of [etc, state, www]) mkdirSync(x, { recursive: true });
  return { etc, state, www };
}

const pebble = await startPebble();
const proxy = await startFaultProxy(pebble);
// Interrupted: stop Pebble too (its processes would outlive us).
for (const sig of ["SIGINT", "SIGTERM"]) process.once(sig, () => void Promise.allSettled([proxy.close(), pebble.stop()]).then(() => process.exit(130)));
const builds = [["this build", join(ROOT, "dist/acme-renew.js")], ...(values.baseline ? [["baseline", resolve(values.baseline)]] : [])];
const rows = [];
try {
  for (const [label, dist] of builds) {
    // A: no certificate, validation always fails.
    proxy.setRule(pass);
    let la = [];
    if (ONLY.includes("A")) {
      const a = dirs();
      writeFileSync(join(a.etc, `${NAME}.json`), JSON.stringify({ server: proxy.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, webroot: a.www }));
      la = await schedule(dist, a, HOURS, proxy);
    }
    // B: a usable certificate in its window (80 of 90 days), validation always fails. ARI off: the
    // test CA's certificate is unknown to Pebble, so `replaces` would cost a second newOrder each run.
    let lb = [];
    if (ONLY.includes("B")) {
      const b = dirs();
      writeFileSync(join(b.etc, `${NAME}.json`), JSON.stringify({ server: proxy.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, webroot: b.www, ari: false }));
      await writeCertDir(b.state, NAME, { names: [NAME], notBefore: new Date(Date.now() - 80 * DAY), notAfter: new Date(Date.now() + 10 * DAY) });
      lb = await schedule(dist, b, HOURS, proxy);
    }
    // C: no certificate, no network for 2 h (nothing reaches the CA), then the network is back.
    let lc = [];
    const back = 121; // just after a run: the worst case of the 15-min restart
    if (ONLY.includes("C")) {
      const c = dirs();
      writeFileSync(join(c.etc, `${NAME}.json`), JSON.stringify({ server: proxy.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}` }));
      lc = await schedule(dist, c, 4, proxy, (m) => proxy.setRule(m < back ? () => ({ kind: "reset" }) : pass));
    }
    proxy.setRule(pass);
    const got = lc.find((r) => r.minute >= back && r.code === 0);
    rows.push({ label, a: perHour(la, HOURS), aRuns: runsPerHour(la, HOURS), aCodes: [...new Set(la.map((r) => r.code))], b: perHour(lb, HOURS), bRuns: runsPerHour(lb, HOURS), bCodes: [...new Set(lb.map((r) => r.code))], cMinutes: got ? got.minute - back : null, cRuns: lc.length, cMs: got?.ms ?? null });
  }
} finally {
  await proxy.close();
  await pebble.stop();
}

console.log(`## Orders sent by a permanently failing host (newOrder POSTs per simulated hour, ${HOURS} h)\n`);
console.log("Schedule: one run at boot, the timer hourly at :30, Restart= 15 min after exit 1 or 3. Validation always fails (webroot not served).\n");
console.log("| build | certificate | newOrder POSTs per hour | runs that ordered, per hour | total POSTs | exit codes |\n|---|---|---|---|---:|---|");
for (const r of rows) {
  if (ONLY.includes("A")) console.log(`| ${r.label} | none (placeholder) | ${r.a.join(", ")} | ${r.aRuns.join(", ")} | ${r.a.reduce((x, y) => x + y, 0)} | ${r.aCodes.join(",")} |`);
  if (ONLY.includes("B")) console.log(`| ${r.label} | usable, in its window | ${r.b.join(", ")} | ${r.bRuns.join(", ")} | ${r.b.reduce((x, y) => x + y, 0)} | ${r.bCodes.join(",")} |`);
}
if (ONLY.includes("C")) {
  console.log(`\n## No network for 2 h (connections reset before any answer), then back: simulated minutes to the certificate\n`);
  console.log("| build | minutes after the network returned | runs in 4 h | wall ms of the run that got it |\n|---|---:|---:|---:|");
  for (const r of rows) console.log(`| ${r.label} | ${r.cMinutes ?? "never"} | ${r.cRuns} | ${r.cMs === null ? "-" : r.cMs.toFixed(0)} |`);
}
