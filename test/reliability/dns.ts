/**
 * DNS provider credentials in play, for the suite's secret scan: every HTTP-API provider (against its
 * fake, test/helpers/fakes/) renews the due certificate through dns-01 with ACME_RENEW_DEBUG=1, its
 * variables in the process environment (as systemd's EnvironmentFile= puts them) and, for half of
 * them, in an environmentFile; then a failing renewal (the API answering 401), validate, status and
 * doctor. rfc2136 runs against a BIND with the right TSIG key and a wrong one; the exec provider
 * (dnsHook) with a credential of its own in an environmentFile, which its script echoes.
 *
 * What is registered for `secrets-never-logged`: the value of every variable the provider's
 * definition calls secret (src/dns/providers/<code>.ts `secrets`, read from the spec's variables, the
 * files of `_FILE` variables included), the spec's own list (e.g. acme-dns passwords from its storage
 * file), and every credential the provider sent to its fake (bearer tokens, API key headers, session
 * cookies). postRun's environment of every run is recorded into the transcript, so the scan covers
 * hook environments too.
 */
import assert from "node:assert/strict";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalProvider } from "../../src/config/dns-providers.js";
import { PROVIDERS } from "../../src/dns/providers/index.js";
import { writeDnsHook } from "../helpers/acme-fixtures.js";
import { freeDnsPort, newKey, startBind } from "../helpers/dns-servers.js";
import { credentialsInTransit, fakeTls, TxtStore } from "../helpers/fake-api.js";
import { SPECS } from "../helpers/fakes/specs.js";
import { assertCleanOutput, assertNothingLost, rcli, recordHookEnv, registerSecret, secretLeaks } from "../helpers/reliability.js";
import { scenario } from "./faults.js";
import { NAME, S, dueManaged } from "./setup.js";

/** The value of a variable as the provider reads it (VAR, or VAR_FILE's content), split into searchable pieces. */
function secretPieces(value: string): string[] {
  const pem = [...value.replace(/\\n/g, "\n").matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----([\s\S]*?)-----END/g)];
  if (pem.length) return pem.flatMap((m) => m[1]!.split("\n").map((l) => l.trim()).filter((l) => l.length >= 40));
  return value.length >= 8 ? [value] : [];
}

/** Registers every secret variable of `code` found in `vars`; returns how many values were registered. */
async function registerDefinitionSecrets(code: string, vars: Record<string, string>): Promise<number> {
  const d = await PROVIDERS[canonicalProvider(code)!]!();
  let n = 0;
  for (const [k, v] of Object.entries(vars)) {
    const name = k.endsWith("_FILE") ? k.slice(0, -5) : k;
    if (!d.secrets.includes(name)) continue;
    const value = k.endsWith("_FILE") ? readFileSync(v, "utf8").replace(/[\r\n]+$/, "") : v;
    for (const piece of secretPieces(value)) {
      registerSecret(`${code} ${name}`, piece);
      n++;
    }
  }
  return n;
}

export function registerDnsScenarios(): void {
  // ~30 CLI runs against Pebble: 300 s was not enough at a load average of 28 on 2 cores.
  scenario("dns-provider-secrets", 600_000, async (t) => {
    // The zones of every provider (SOA, NS → challtestsrv's address) for the zone lookup and the check.
    const zones = [...SPECS.map((s) => ({ name: s.zone, records: ["@ NS ns1", "ns1 A 127.0.0.1", ...(s.records ?? [])] })), { name: "exec.test", records: ["@ NS ns1", "ns1 A 127.0.0.1"] }];
    const key = newKey("rel-key", "hmac-sha512");
    registerSecret("TSIG secret (rfc2136)", key.secret);
    const bind = await startBind({ address: "127.0.0.1", port: await freeDnsPort(["127.0.0.1"]), keys: [key], zones: [...zones, { name: "example.com", records: ["@ NS ns1", "ns1 A 127.0.0.1"], updateKeys: [key.name] }] });
    let fromDefinitions = 0;
    let inTransit = 0;
    try {
      for (const [i, spec] of SPECS.entries()) {
        const fake = await spec.start(new TxtStore(S().pebble));
        try {
          await spec.setup?.(S().pebble);
          for (const secret of spec.secrets(fake)) registerSecret(`${spec.code} credential`, secret);
          fromDefinitions += await registerDefinitionSecrets(spec.code, spec.vars(fake));
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
          recordHookEnv("dns-provider-secrets", `postRun (${spec.code})`, inherited);
          for (const secret of spec.secrets(fake)) assert.ok(!inherited.includes(secret), `${spec.code}: postRun inherited a credential`);
          // A name Pebble has no valid authorization for (it may reuse one for the others): the provider is asked.
          s.writeConfig(NAME, { ...(JSON.parse(readFileSync(join(s.configDir, `${NAME}.json`), "utf8")) as Record<string, unknown>), extraDomainNames: [`f.${spec.zone}`] });
          fake.fault = () => ({ status: 401, json: { message: "bad credentials" } });
          const f = await rcli(s, "dns-provider-secrets", ["run", NAME, "--force", "--log-format", "json"], { env, timeoutMs: 150_000 });
          assert.equal(f.code, 75, `${spec.code}: ${f.stderr}`);
          fake.fault = null;
          for (const args of [["validate", NAME], ["status", NAME, "--json"], ["status", NAME], ["doctor", NAME]]) await rcli(s, "dns-provider-secrets", args, { env, timeoutMs: 60_000 });
          assertNothingLost(s.stateDir, NAME, before);
          for (const c of credentialsInTransit(fake.requests)) {
            registerSecret(`${spec.code} credential sent to its API`, c);
            inTransit++;
          }
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
        for (const args of [["validate", NAME], ["status", NAME], ["doctor", NAME, "--json"]]) await rcli(s, "dns-provider-secrets", args, { env, timeoutMs: 60_000 });
        assertNothingLost(s.stateDir, NAME, before);
      }
      // exec (dnsHook): the script's own credential comes from the environmentFile; the script echoes it
      // (redacted in our log), postRun must not get it.
      {
        const token = "exec-script-token-4e5d6c7b8a90";
        registerSecret("exec script credential", token);
        const { s, before } = dueManaged(S().pebble.directoryUrl);
        const inner = writeDnsHook(s.root);
        const hook = join(s.root, "exec-hook.sh");
        writeFileSync(hook, `#!/bin/sh\n[ -n "$MY_DNS_TOKEN" ] || { echo "exec-hook: no token" >&2; exit 9; }\necho "exec-hook: token $MY_DNS_TOKEN"\nexec "${inner}" "$@"\n`);
        chmodSync(hook, 0o755);
        const envFile = join(s.root, "exec.env");
        writeFileSync(envFile, `MY_DNS_TOKEN=${token}\nCHALLTESTSRV_URL=${S().pebble.challtestsrvUrl}\n`, { mode: 0o600 });
        const hookOut = join(s.root, "postrun.env");
        const cfg = JSON.parse(readFileSync(join(s.configDir, `${NAME}.json`), "utf8")) as Record<string, unknown>;
        delete cfg.webroot;
        s.writeConfig(NAME, { ...cfg, domain: "www.exec.test", dnsHook: hook, environmentFile: envFile, dnsResolver: `${bind.address}:${bind.port}`, dnsPropagationTimeout: 20, postRun: `env > "${hookOut}"`, ari: false });
        const env = { _ACME_RENEW_TEST_AUTH_DNS_PORT: String(S().pebble.dnsPort), ACME_RENEW_DEBUG: "1" };
        const r = await rcli(s, "dns-provider-secrets", ["run", NAME, "--force"], { env, timeoutMs: 150_000 });
        assert.equal(r.code, 0, `exec: ${r.stderr}`);
        assert.match(r.stderr, /exec-hook: token \[redacted\]/, "the script had its token; its output line is redacted");
        recordHookEnv("dns-provider-secrets", "postRun (exec)", readFileSync(hookOut, "utf8"));
        for (const args of [["validate", NAME], ["status", NAME, "--json"], ["doctor", NAME], ["doctor", NAME, "--json"]]) await rcli(s, "dns-provider-secrets", args, { env, timeoutMs: 60_000 });
        assertNothingLost(s.stateDir, NAME, before);
      }
      // Checked here too (the suite's last test checks every run of every scenario again).
      assert.deepEqual(secretLeaks().filter((l) => l.startsWith("dns-provider-secrets:")), []);
      assert.ok(fromDefinitions >= SPECS.length - 1, `secret variables registered from the definitions: ${fromDefinitions}`);
      t.diagnostic(`${SPECS.length} HTTP providers, rfc2136 and exec exercised; ${fromDefinitions} secret variable values (from the definitions) and ${inTransit} credentials seen in transit registered`);
    } finally {
      await bind.stop();
    }
  });
}
