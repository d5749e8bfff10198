/**
 * The HTTP-API DNS providers against local fakes of their APIs (test/helpers/fakes/<code>.ts, each
 * written from the provider's public API reference and citing it). For every provider:
 *  - present + cleanup of one record: the exact requests, each checked by the fake (method, path,
 *    authentication, body) — no violation;
 *  - the API answering 401, 403, 404, 500 and garbage: classified (dns: not retried; 500: server,
 *    retried), no secret in the message; a 429 with Retry-After waited for and retried; a zone the
 *    account does not have: class dns, naming it, not retried;
 *  - missing or bad variables: a configuration error naming the variable;
 *  - through the built CLI on Pebble: a wildcard and its base issued, the fake writing the TXT records
 *    into pebble-challtestsrv (which Pebble and the propagation check ask); then the API failing
 *    (401) on a forced renewal: exit 75, no stack trace, the certificate untouched; no secret in any
 *    output.
 * Zones and name servers come from a BIND holding each provider's zone (SOA, NS → 127.0.0.1), the
 * "authoritative" TXT answers from challtestsrv (_ACME_RENEW_TEST_AUTH_DNS_PORT, a test-only seam).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AcmeFailure } from "../../src/acme/errors.js";
import { ConfigError } from "../../src/config/errors.js";
import { sandbox } from "../helpers/cli.js";
import { freeDnsPort, startBind, type DnsServerHandle } from "../helpers/dns-servers.js";
import { driveProvider, record } from "../helpers/dns-provider.js";
import { fakeTls, TxtStore, type FakeApi } from "../helpers/fake-api.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { SPECS, type ProviderSpec } from "../helpers/fakes/specs.js";

const only = process.env.DNS_PROVIDERS?.split(",");
const specs = SPECS.filter((s) => !only || only.includes(s.code));

describe("HTTP-API DNS providers against fakes of their APIs", { timeout: 600_000 }, () => {
  let pebble: Pebble;
  let bind: DnsServerHandle;
  const outputs: string[] = [];
  before(async () => {
    const port = await freeDnsPort(["127.0.0.1"]);
    bind = await startBind({ address: "127.0.0.1", port, zones: [...specs.map((s) => ({ name: s.zone, records: ["@ NS ns1", "ns1 A 127.0.0.1", ...(s.records ?? [])] })), { name: "unowned.test", records: ["@ NS ns1", "ns1 A 127.0.0.1"] }] });
    pebble = await startPebble();
    for (const s of specs) await s.setup?.(pebble);
  });
  after(async () => {
    await pebble?.stop();
    await bind?.stop();
  });

  const resolvers = () => [{ host: bind.address, port: bind.port }];

  for (const spec of specs) {
    describe(spec.code, () => {
      let fake: FakeApi;
      before(async () => {
        fake = await spec.start(new TxtStore(pebble));
        Object.assign(process.env, spec.internalEnv?.(fake) ?? {});
      });
      after(async () => {
        for (const k of Object.keys(spec.internalEnv?.(fake) ?? {})) delete process.env[k];
        await fake?.stop();
      });
      const drive = (vars = spec.vars(fake)) => driveProvider(spec.code, vars, { resolvers: resolvers(), extraCa: fakeTls().caPem, retryBaseMs: 20 });

      test("present + cleanup: the documented requests, each checked by the fake", async () => {
        fake.requests.length = 0;
        const p = await drive();
        const name = spec.drive?.fqdn ?? `_acme-challenge.a.${spec.zone}.`;
        const rec = { ...record(name, "txt-value-1-0123456789012345678901234567890".slice(0, 43)), ...(spec.drive ? { domain: spec.drive.domain } : {}) };
        await p.provider.present(rec);
        assert.deepEqual(fake.store.get(name), [rec.value]);
        await p.provider.cleanup(rec);
        if (spec.code !== "acmedns") assert.deepEqual(fake.store.get(name), [], "removed");
        assert.deepEqual(fake.violations, []);
        assert.deepEqual(fake.requests.map((r) => `${r.method} ${r.path}`), spec.requests);
        p.http.close();
      });

      for (const [what, reply, cls] of [
        ["401", { status: 401, json: { error: "unauthorized" } }, "dns"],
        ["403", { status: 403, json: { error: "forbidden" } }, "dns"],
        ["404", { status: 404, json: { error: "not found" } }, "dns"],
        ["500", { status: 500, body: "internal error" }, "server"],
        ["garbage", { status: 200, body: "<html>proxy error</html>" }, "dns"],
      ] as const) {
        test(`the API answers ${what}: class ${cls}${cls === "server" ? ", retried" : ", not retried"}`, async () => {
          const p = await drive();
          fake.requests.length = 0;
          fake.fault = () => reply;
          try {
            const rec = { ...record(spec.drive?.fqdn ?? `_acme-challenge.f.${spec.zone}.`, "v".repeat(43)), ...(spec.drive ? { domain: spec.drive.domain } : {}) };
            const e = await p.provider.present(rec).then(
              () => assert.fail("must fail"),
              (x: unknown) => x,
            );
            assert.ok(e instanceof AcmeFailure, String(e));
            assert.equal(e.cls, cls, e.message);
            assert.match(e.message, new RegExp(`^dns provider ${spec.code}: `));
            if (what !== "garbage") assert.match(e.message, new RegExp(`HTTP ${what}|${what}`));
            if (what === "401" || what === "403") assert.match(e.message, /\(check /, "names what to check");
            for (const secret of spec.secrets(fake)) assert.ok(!e.message.includes(secret), "no secret in the message");
            if (cls === "server") assert.ok(fake.requests.length >= 2, `retried (${fake.requests.length} requests)`);
            else {
              const seen = fake.requests.map((q) => `${q.method} ${q.path}`);
              assert.equal(new Set(seen).size, seen.length, `not retried: ${seen.join(", ")}`);
            }
          } finally {
            fake.fault = null;
            p.http.close();
          }
        });
      }

      test("the API answers 429 with Retry-After: 1 once: the request is sent again after that second, then the record is set", async () => {
        const p = await drive();
        fake.requests.length = 0;
        let n = 0;
        fake.fault = () => (n++ === 0 ? { status: 429, headers: { "retry-after": "1" }, json: { error: "rate limited" } } : undefined);
        try {
          // The name the present + cleanup test uses (the fakes of duckdns and acme-dns know only that one).
          const name = spec.drive?.fqdn ?? `_acme-challenge.a.${spec.zone}.`;
          const rec = { ...record(name, "txt-value-429-0123456789012345678901234567890".slice(0, 43)), ...(spec.drive ? { domain: spec.drive.domain } : {}) };
          const t0 = Date.now();
          await p.provider.present(rec);
          const ms = Date.now() - t0;
          assert.ok(ms >= 900, `waited for Retry-After (${ms} ms)`);
          const seen = fake.requests.map((q) => `${q.method} ${q.path}`);
          assert.equal(seen[1], seen[0], `the refused request was sent again: ${seen.join(", ")}`);
          assert.ok(fake.store.get(name).includes(rec.value), "then the record was set");
          fake.fault = null;
          await p.provider.cleanup(rec);
        } finally {
          fake.fault = null;
          p.http.close();
        }
      });

      if (!["acmedns", "duckdns"].includes(spec.code))
        test("a zone the account does not have: class dns, not retried, the message names the provider and the zone", async () => {
          // unowned.test is served by the test's BIND (so the zone lookup finds it) but is no zone of the fake's account.
          const p = await drive();
          fake.requests.length = 0;
          try {
            const e = await p.provider.present(record("_acme-challenge.x.unowned.test.", "u".repeat(43))).then(
              () => assert.fail("must fail"),
              (x: unknown) => x,
            );
            assert.ok(e instanceof AcmeFailure, String(e));
            assert.equal(e.cls, "dns", e.message);
            assert.match(e.message, new RegExp(`^dns provider ${spec.code}: .*unowned\\.test`));
            // Bodies too: a JSON-RPC API (inwx) sends every call to one path.
            const seen = fake.requests.map((q) => `${q.method} ${q.path} ${q.body}`);
            assert.equal(new Set(seen).size, seen.length, `not retried: ${seen.join(", ")}`);
          } finally {
            p.http.close();
          }
        });

      test("missing or bad variables: a configuration error naming the variable", async () => {
        for (const [vars, pattern] of spec.bad(fake)) {
          const e = await drive(vars).then(
            () => null,
            (x: unknown) => x,
          );
          assert.ok(e instanceof ConfigError, `${JSON.stringify(Object.keys(vars))}: expected a ConfigError, got ${String(e)}`);
          assert.match(e.message, pattern);
          assert.match(e.message, new RegExp(`dnsProvider: ${spec.code}: `));
        }
      });

      test("through the CLI: a bad, an unreadable and an empty credential are exit 78 naming the variable", async () => {
        const s = sandbox(`acme-renew-${spec.code}-bad-`);
        const name = `v.${spec.zone}`;
        const [badVars, badPattern] = spec.bad(fake)[0]!;
        const [firstVar, ...others] = Object.keys(spec.vars(fake));
        const first = firstVar!.replace(/_FILE$/, "");
        const rest = Object.fromEntries(others.map((k) => [k, spec.vars(fake)[k]!]));
        const empty = join(s.root, "empty");
        writeFileSync(empty, "\n", { mode: 0o600 });
        const cases: Array<[Record<string, unknown>, Record<string, string>, RegExp]> = [
          [{}, badVars, badPattern],
          [{ credentialFiles: { [`${first}_FILE`]: "/nonexistent/credential" } }, rest, new RegExp(`${first}_FILE \\(from credentialFiles\\): cannot read /nonexistent/credential \\(ENOENT\\)`)],
          [{ credentialFiles: { [`${first}_FILE`]: empty } }, rest, new RegExp(`${first}_FILE ${empty.replace(/[.]/g, "\\.")} is empty`)],
        ];
        for (const [extra, env, pattern] of cases) {
          s.writeConfig(name, { dnsProvider: spec.code, ...extra });
          const r = await s.cli(["validate", name], { env });
          assert.equal(r.code, 78, `${JSON.stringify(extra)}: ${r.stderr}`);
          assert.match(r.stderr, pattern);
          assert.match(r.stderr, new RegExp(`v\\.${spec.zone.replace(/\./g, "\\.")}\\.json: (dnsProvider|credentialFiles\\.${first}_FILE): `));
          assert.doesNotMatch(r.stderr, /\n\s+at /);
        }
      });

      test("end to end on Pebble: a wildcard and its base; then a 401 on renewal: 75, the certificate untouched", async () => {
        const s = sandbox(`acme-renew-${spec.code}-`);
        const name = `www.${spec.zone}`;
        // The variables come from the process environment here (as from systemd's EnvironmentFile=);
        // postRun records what it inherits: none of them.
        const hookOut = join(s.root, "postrun.env");
        s.writeConfig(name, {
          postRun: `env > "${hookOut}"`,
          server: pebble.directoryUrl,
          caBundle: pebble.caBundle,
          acceptTerms: true,
          extraDomainNames: [`*.${name}`],
          dnsProvider: spec.code,
          dnsResolver: `${bind.address}:${bind.port}`,
          dnsPropagationTimeout: 20,
          ari: false,
          timeout: 90,
        });
        const env = { ...spec.vars(fake), NODE_EXTRA_CA_CERTS: fakeTls().caFile, _ACME_RENEW_TEST_AUTH_DNS_PORT: String(pebble.dnsPort), ...spec.internalEnv?.(fake), ...spec.cliEnv?.(fake) };
        fake.violations.length = 0;
        const r = await s.cli(["run", name], { env, timeoutMs: 150_000 });
        outputs.push(r.stdout, r.stderr);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(fake.violations, []);
        const pem = readFileSync(join(s.stateDir, name, "cert.pem"), "utf8");
        assert.match(new X509Certificate(pem).subjectAltName ?? "", new RegExp(`DNS:\\*\\.${name.replace(/\./g, "\\.")}`));
        assert.deepEqual(fake.store.get(`_acme-challenge.${name}`), [], "cleaned up");
        const inherited = readFileSync(hookOut, "utf8");
        assert.match(inherited, /ACME_RENEW_CERT_NAME=/, "postRun ran");
        for (const k of Object.keys(spec.vars(fake))) assert.doesNotMatch(inherited, new RegExp(`^${k}=`, "m"), `postRun does not inherit ${k}`);
        outputs.push(inherited);
        // A name Pebble has no valid authorization for (it reuses one for the others 1 time in 100): the provider is asked.
        s.writeConfig(name, { ...(JSON.parse(readFileSync(join(s.configDir, `${name}.json`), "utf8")) as Record<string, unknown>), extraDomainNames: [`*.${name}`, `f.${spec.zone}`] });
        fake.fault = () => ({ status: 401, json: { message: "invalid credentials" } });
        try {
          const f = await s.cli(["run", name, "--force"], { env, timeoutMs: 150_000 });
          outputs.push(f.stdout, f.stderr);
          assert.equal(f.code, 75, f.stderr);
          assert.match(f.stderr, new RegExp(`renewal failed \\(dns\\): dns provider ${spec.code}: .*HTTP 401`));
          assert.doesNotMatch(f.stderr, /\n\s+at /, "no stack trace");
          assert.equal(readFileSync(join(s.stateDir, name, "cert.pem"), "utf8"), pem, "the certificate on disk is untouched");
        } finally {
          fake.fault = null;
          s.writeConfig(name, { ...(JSON.parse(readFileSync(join(s.configDir, `${name}.json`), "utf8")) as Record<string, unknown>), extraDomainNames: [`*.${name}`] });
        }
        // validate, status and doctor (debug on) name the provider and where its variables come from, never their values
        const debug = { ...env, ACME_RENEW_DEBUG: "1" };
        for (const args of [["validate", name], ["status", name, "--json"], ["doctor", name, "--json"], ["run", name, "--force", "--log-format", "json"]]) {
          const o = await s.cli(args, { env: debug, timeoutMs: 150_000 });
          outputs.push(o.stdout, o.stderr);
          assert.ok(o.code === 0 || (args[0] === "doctor" && o.code === 1), `${args.join(" ")}: ${o.code}\n${o.stderr}`);
          if (args[0] === "doctor") {
            const dns = (JSON.parse(o.stdout) as Array<{ findings: Array<{ what: string; mark: string; detail: string }> }>)[0]!.findings.find((x) => x.what === "dns");
            assert.ok(dns && dns.mark === "ok", `doctor's dns finding: ${JSON.stringify(dns)}`);
            assert.match(dns.detail, new RegExp(`^${spec.code}: .*${Object.keys(spec.vars(fake))[0]!.replace(/_FILE$/, "")} from the environment`));
          }
        }
        for (const secret of spec.secrets(fake)) for (const o of outputs) assert.ok(!o.includes(secret), `a ${spec.code} secret appeared in the output`);
      });
    });
  }
});

export type { ProviderSpec };
