/**
 * DNS provider credentials in play, for the suite's secret scan: every HTTP-API provider (against its
 * fake, test/helpers/fakes/) renews the due certificate through dns-01 with ACME_RENEW_DEBUG=1, its
 * variables in the process environment (as systemd's EnvironmentFile= puts them) and, for half of
 * them, in an environmentFile; then a failing renewal (the API answering 401), validate, status and
 * doctor. rfc2136 runs against a BIND with the right TSIG key and a wrong one. Every secret is
 * registered, so that `secrets-never-logged` checks all of these outputs; postRun's environment is
 * checked here.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freeDnsPort, newKey, startBind } from "../helpers/dns-servers.js";
import { fakeTls, TxtStore } from "../helpers/fake-api.js";
import { SPECS } from "../helpers/fakes/specs.js";
import { assertCleanOutput, assertNothingLost, rcli, registerSecret } from "../helpers/reliability.js";
import { scenario } from "./faults.js";
import { NAME, S, dueManaged } from "./setup.js";

export function registerDnsScenarios(): void {
  scenario("dns-provider-secrets", 300_000, async (t) => {
    // The zones of every provider (SOA, NS → challtestsrv's address) for the zone lookup and the check.
    const zones = SPECS.map((s) => ({ name: s.zone, records: ["@ NS ns1", "ns1 A 127.0.0.1", ...(s.records ?? [])] }));
    const key = newKey("rel-key", "hmac-sha512");
    registerSecret("TSIG secret (rfc2136)", key.secret);
    const bind = await startBind({ address: "127.0.0.1", port: await freeDnsPort(["127.0.0.1"]), keys: [key], zones: [...zones, { name: "example.com", records: ["@ NS ns1", "ns1 A 127.0.0.1"], updateKeys: [key.name] }] });
    try {
      for (const [i, spec] of SPECS.entries()) {
        const fake = await spec.start(new TxtStore(S().pebble));
        try {
          await spec.setup?.(S().pebble);
          for (const secret of spec.secrets(fake)) registerSecret(`${spec.code} credential`, secret);
          const { s, before } = dueManaged(S().pebble.directoryUrl);
          const hookOut = join(s.root, "postrun.env");
          const viaFile = i % 2 === 0;
          const envFile = join(s.root, "dns.env");
          writeFileSync(envFile, Object.entries(spec.vars(fake)).map(([k, v]) => `${k}=${v}\n`).join(""), { mode: 0o600 });
          // The due certificate, renewed for a name in the provider's zone.
          const name = `www.${spec.zone}`;
          const cfgText = JSON.parse(readFileSync(join(s.configDir, `${NAME}.json`), "utf8")) as Record<string, unknown>;
          delete cfgText.webroot;
          s.writeConfig(NAME, { ...cfgText, domain: name, dnsProvider: spec.code, ...(viaFile ? { environmentFile: envFile } : {}), dnsResolver: `${bind.address}:${bind.port}`, dnsPropagationTimeout: 20, postRun: `env > "${hookOut}"`, ari: false });
          const env = { ...(viaFile ? {} : spec.vars(fake)), ...spec.internalEnv?.(fake), NODE_EXTRA_CA_CERTS: fakeTls().caFile, _ACME_RENEW_TEST_AUTH_DNS_PORT: String(S().pebble.dnsPort), ACME_RENEW_DEBUG: "1" };
          const r = await rcli(s, "dns-provider-secrets", ["run", NAME, "--force"], { env, timeoutMs: 150_000 });
          assert.equal(r.code, 0, `${spec.code}: ${r.stderr}`);
          assertCleanOutput(r);
          const inherited = readFileSync(hookOut, "utf8");
          for (const secret of spec.secrets(fake)) assert.ok(!inherited.includes(secret), `${spec.code}: postRun inherited a credential`);
          // A name Pebble has no valid authorization for (it may reuse one for the others): the provider is asked.
          s.writeConfig(NAME, { ...(JSON.parse(readFileSync(join(s.configDir, `${NAME}.json`), "utf8")) as Record<string, unknown>), extraDomainNames: [`f.${spec.zone}`] });
          fake.fault = () => ({ status: 401, json: { message: "bad credentials" } });
          const f = await rcli(s, "dns-provider-secrets", ["run", NAME, "--force", "--log-format", "json"], { env, timeoutMs: 150_000 });
          assert.equal(f.code, 75, `${spec.code}: ${f.stderr}`);
          fake.fault = null;
          for (const args of [["validate", NAME], ["status", NAME, "--json"], ["doctor", NAME]]) await rcli(s, "dns-provider-secrets", args, { env, timeoutMs: 60_000 });
          assertNothingLost(s.stateDir, NAME, before);
        } finally {
          await fake.stop();
        }
      }
      // rfc2136 against BIND: the right key (Pebble cannot see BIND's record: validation fails, 75) and a wrong one.
      for (const [label, secret] of [["right", key.secret], ["wrong", newKey("rel-key", "hmac-sha512").secret]] as const) {
        registerSecret(`TSIG secret (${label})`, secret);
        const { s, before } = dueManaged(S().pebble.directoryUrl, { dnsProvider: "rfc2136", dnsResolver: `${bind.address}:${bind.port}`, dnsPropagationTimeout: 10, ari: false });
        const env = { RFC2136_NAMESERVER: `${bind.address}:${bind.port}`, RFC2136_TSIG_KEY: key.name, RFC2136_TSIG_SECRET: secret, RFC2136_TSIG_ALGORITHM: "hmac-sha512", _ACME_RENEW_TEST_AUTH_DNS_PORT: String(bind.port), ACME_RENEW_DEBUG: "1" };
        const r = await rcli(s, "dns-provider-secrets", ["run", NAME, "--force", "--timeout", "30"], { env, timeoutMs: 120_000 });
        assert.equal(r.code, 75, `rfc2136 ${label} key: ${r.stderr}`);
        if (label === "wrong") assert.match(r.stderr, /BADSIG/);
        assertNothingLost(s.stateDir, NAME, before);
      }
      t.diagnostic(`${SPECS.length} HTTP providers and rfc2136 exercised with their secrets registered`);
    } finally {
      await bind.stop();
    }
  });
}
