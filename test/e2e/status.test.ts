/** `status`: exact output for fixture states; the Prometheus textfile parses. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox } from "../helpers/cli.js";
import { writeCertDir } from "../helpers/pki.js";

// After this build's time (the clock floor), so dates are judged. a: 90 days, due at 2/3 → 06-30;
// b: 101 days, due 1/3 before its end → 05-07 08:00. The child's clock starts at NOW and runs on
// (test/helpers/fake-clock.ts): a minute before midnight keeps the day counts whole.
const Y = new Date().getUTCFullYear() + 1;
const NOW = `${Y}-05-31T23:59:00.000Z`;

async function fixture() {
  const s = sandbox();
  s.writeConfig("a.example.com", { webroot: "/w", ari: false });
  s.writeConfig("b.example.com", { webroot: "/w", extraDomainNames: ["www.b.example.com"], ari: false });
  s.writeConfig("c.example.com", { webroot: "/w" });
  await writeCertDir(s.stateDir, "a.example.com", { names: ["a.example.com"], notBefore: new Date(`${Y}-05-01T00:00:00Z`), notAfter: new Date(`${Y}-07-30T00:00:00Z`) });
  await writeCertDir(s.stateDir, "b.example.com", { names: ["b.example.com", "www.b.example.com"], notBefore: new Date(`${Y}-03-01T00:00:00Z`), notAfter: new Date(`${Y}-06-10T00:00:00Z`) });
  writeFileSync(
    join(s.stateDir, "b.example.com", "state.json"),
    JSON.stringify({ version: 1, lastAttempt: `${Y}-05-31T23:00:00.000Z`, lastSuccess: `${Y}-03-01T00:00:00.000Z`, lastOutcome: "soft-failure", lastError: { class: "network", message: "ECONNREFUSED" }, consecutiveFailures: 3, nextAttemptAt: `${Y}-06-01T01:40:00.000Z` }),
  );
  return s;
}

test("status table: exact rows for the fixture", async () => {
  const s = await fixture();
  const r = await s.cli(["status"], { env: { ACME_RENEW_NOW: NOW } });
  assert.equal(r.code, 0, r.stderr);
  const expected = [
    "NAME           NAMES                            ISSUER              NOT AFTER         DAYS  DECISION      NEXT RENEWAL              LAST ATTEMPT      LAST OUTCOME  FAILURES  NEXT ATTEMPT",
    `a.example.com  a.example.com                    acme-renew test CA  ${Y}-07-30 00:00  59    valid         ${Y}-06-30 00:00 (local)  -                 -             0         -`,
    `b.example.com  b.example.com,www.b.example.com  acme-renew test CA  ${Y}-06-10 00:00  9     due (window)  ${Y}-05-07 08:00 (local)  ${Y}-05-31 23:00  soft-failure  3         ${Y}-06-01 01:40`,
    "c.example.com  -                                -                   -                 -     missing       -                         -                 -             0         -",
    "",
  ];
  assert.equal(r.stdout, expected.join("\n"));
});

test("status --json: one object per certificate with the state's fields", async () => {
  const s = await fixture();
  const rows = JSON.parse((await s.cli(["status", "--json"], { env: { ACME_RENEW_NOW: NOW } })).stdout);
  assert.deepEqual(
    rows.map((r: Record<string, unknown>) => [r.name, r.decision, r.daysLeft, r.consecutiveFailures, r.nextAttempt, r.lastError]),
    [
      ["a.example.com", "valid", 59, 0, null, null],
      ["b.example.com", "due (window)", 9, 3, `${Y}-06-01T01:40:00.000Z`, "network: ECONNREFUSED"],
      ["c.example.com", "missing", null, 0, null, null],
    ],
  );
});

/** A strict reader of the Prometheus text exposition format (what node_exporter's textfile collector accepts). */
function parseExposition(text: string): Map<string, Map<string, number>> {
  assert.ok(text.endsWith("\n"), "ends with a newline");
  const metrics = new Map<string, Map<string, number>>();
  const typed = new Set<string>();
  for (const line of text.slice(0, -1).split("\n")) {
    let m: RegExpExecArray | null;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line))) continue;
    if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|untyped)$/.exec(line))) {
      assert.ok(!typed.has(m[1]!), `one TYPE per metric: ${m[1]}`);
      typed.add(m[1]!);
      metrics.set(m[1]!, new Map());
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{name="((?:[^"\\\n]|\\["\\n])*)"\} (-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)$/.exec(line);
    assert.ok(m, `sample line: ${line}`);
    assert.ok(typed.has(m[1]!), `TYPE before samples: ${m[1]}`);
    metrics.get(m[1]!)!.set(m[2]!, Number(m[3]));
  }
  return metrics;
}

test("status --prometheus writes a valid textfile atomically with the documented metrics", async () => {
  const s = await fixture();
  const file = join(s.root, "acme.prom");
  const r = await s.cli(["status", "--prometheus", file], { env: { ACME_RENEW_NOW: NOW } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
  const m = parseExposition(readFileSync(file, "utf8"));
  assert.deepEqual([...m.keys()], [
    "acme_renew_cert_not_after_seconds",
    "acme_renew_cert_renewal_time_seconds",
    "acme_renew_last_attempt_timestamp_seconds",
    "acme_renew_last_success_timestamp_seconds",
    "acme_renew_consecutive_failures",
    "acme_renew_cert_usable",
    "acme_renew_hooks_pending",
  ]);
  assert.equal(m.get("acme_renew_cert_not_after_seconds")!.get("b.example.com"), Date.parse(`${Y}-06-10T00:00:00Z`) / 1000);
  assert.equal(m.get("acme_renew_consecutive_failures")!.get("b.example.com"), 3);
  assert.equal(m.get("acme_renew_cert_usable")!.get("c.example.com"), 0);
  assert.equal(m.get("acme_renew_cert_usable")!.get("a.example.com"), 1);
  assert.equal(m.get("acme_renew_last_attempt_timestamp_seconds")!.has("a.example.com"), false, "no sample without a value");
});
