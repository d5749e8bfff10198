/** Hooks through the built CLI against Pebble: their environment, and a hook calling acme-renew itself. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { baseConfig, writeDnsHook } from "../helpers/acme-fixtures.js";

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe("hooks against Pebble", { timeout: 240_000 }, () => {
  let pebble: Pebble;
  before(async () => {
    pebble = await startPebble();
  });
  after(async () => {
    await pebble?.stop();
  });

  test("postRun can call acme-renew check and status: the hook's variables are no options", async () => {
    const s = sandbox();
    const self = `${q(process.execPath)} ${q(CLI)} --config-dir ${q(s.configDir)} --state-dir ${q(s.stateDir)}`;
    const out = (f: string) => q(join(s.root, f));
    s.writeConfig("p.example.com", {
      ...baseConfig(pebble),
      listenHTTP: `127.0.0.1:${pebble.httpPort}`,
      postRun: [
        `${self} check "$ACME_RENEW_CERT_NAME" --json > ${out("check.json")}; echo $? > ${out("check.code")}`,
        `${self} status "$ACME_RENEW_CERT_NAME" --json > ${out("status.json")}; echo $? > ${out("status.code")}`,
        `${self} check --all > /dev/null 2> ${out("check-all.err")}; echo $? > ${out("check-all.code")}`,
      ].join("\n"),
    });
    const r = await s.cli(["run", "p.example.com"]);
    assert.equal(r.code, 0, r.stderr);
    const read = (f: string) => readFileSync(join(s.root, f), "utf8").trim();
    assert.equal(read("check.code"), "0", read("check-all.err"));
    assert.equal(JSON.parse(read("check.json"))[0].status, "valid", "the nested check sees the new certificate");
    assert.equal(read("status.code"), "0");
    assert.equal(JSON.parse(read("status.json"))[0].name, "p.example.com");
    assert.equal(read("check-all.code"), "0", read("check-all.err"));
  });

  test("dnsHook environment: the certificate's name as ACME_RENEW_CERT_NAME, its names as ACME_RENEW_DOMAINS, no path variables", async () => {
    const s = sandbox();
    const inner = writeDnsHook(s.root);
    const hook = join(s.root, "env-hook.sh");
    const envOut = join(s.root, "hook.env");
    writeFileSync(hook, `#!/bin/sh\nenv | grep '^ACME_RENEW_' | sort >> ${q(envOut)}\nexec ${q(inner)} "$@"\n`);
    chmodSync(hook, 0o755);
    s.writeConfig("d.example.com", { ...baseConfig(pebble), extraDomainNames: ["www.d.example.com"], dnsHook: hook, dnsResolver: `127.0.0.1:${pebble.dnsPort}`, dnsPropagationCheck: false });
    // As if this run itself were started by an outer postRun: its variables must not reach our hook.
    const r = await s.cli(["run", "d.example.com"], { env: { CHALLTESTSRV_URL: pebble.challtestsrvUrl, ACME_RENEW_CERT: "/outer/cert.pem", ACME_RENEW_CERT_NAME: "outer" } });
    assert.equal(r.code, 0, r.stderr);
    const seen = new Set(readFileSync(envOut, "utf8").trim().split("\n"));
    assert.deepEqual([...seen].sort(), ["ACME_RENEW_CERT_NAME=d.example.com", "ACME_RENEW_DOMAINS=d.example.com www.d.example.com"]);
  });
});
