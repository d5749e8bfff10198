/**
 * Issue 15: `run --dry-run` orders from the staging server (stagingServer, or --server) and keeps
 * nothing — the certificate's directory hashes the same before and after, no hook runs — while the
 * staging account is kept (a second dry run registers none: Pebble's log counts accounts). And
 * `ocspMustStaple`: accepted, warned about once, never requested (the CSR has no TLS Feature
 * extension). Real Pebble; the staging server is Pebble behind the fault proxy (another URL, so
 * another account, and its requests counted).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { X509Certificate, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { startFaultProxy, pass, type FaultProxy } from "../helpers/fault-proxy.js";
import { baseConfig, stubSystemctl } from "../helpers/acme-fixtures.js";
import { treeHash } from "../helpers/tree-hash.js";

const NAME = "dry.example.com";
/** openssl's text of a DER CSR or a PEM certificate. */
const text = (kind: "req" | "x509", input: Buffer | string, inform: "DER" | "PEM") =>
  execFileSync("openssl", [kind, "-inform", inform, "-noout", "-text"], { input, encoding: "utf8", timeout: 10_000 });

describe("run --dry-run and ocspMustStaple", { timeout: 300_000 }, () => {
  let pebble: Pebble;
  let staging: FaultProxy;
  const s = sandbox();
  let env: NodeJS.ProcessEnv;
  let config: Record<string, unknown>;
  const marker = join(s.root, "post-run-ran");
  before(async () => {
    pebble = await startPebble();
    staging = await startFaultProxy(pebble);
    staging.setRule(pass);
    env = { PATH: `${stubSystemctl(s.root)}:${process.env.PATH}` };
    s.writeConfig(NAME, (config = {
      ...baseConfig(pebble),
      stagingServer: staging.directoryUrl,
      listenHTTP: `127.0.0.1:${pebble.httpPort}`,
      reloadServices: ["nginx.service"],
      postRun: `touch ${marker}`,
    }));
  });
  after(async () => {
    await staging?.close();
    await pebble?.stop();
  });
  const accounts = () => [...pebble.log().matchAll(/There are now (\d+) accounts in memory/g)].length;
  const clearHooks = () => {
    rmSync(marker, { force: true });
    rmSync(join(s.root, "systemctl.log"), { force: true });
  };

  test("the whole order against stagingServer; the certificate's directory and state unchanged, no hook runs; the staging account is kept", async () => {
    const first = await s.cli(["run", NAME], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.ok(existsSync(marker), "a real run runs the hooks (the test can see them)");
    clearHooks();
    const dir = join(s.stateDir, NAME);
    const before = treeHash(dir);
    const serial = new X509Certificate(readFileSync(join(dir, "cert.pem"))).serialNumber;
    const accountsBefore = accounts();

    const r = await s.cli(["run", "--dry-run", NAME], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`dry run ok: ${staging.directoryUrl.replace(/[.]/g, "\\.")} issued serial [0-9a-f]+, valid until`));
    for (const step of ["POST /sign-me-up", "POST /order-plz", "POST /chalZ/", "POST /finalize-order/", "POST /certZ/"]) {
      assert.ok(staging.count((l) => l.startsWith(step)) >= 1, `the dry run went through ${step} at the staging server`);
    }
    assert.equal(treeHash(dir), before, "nothing in the certificate's directory changed (files, versions, state.json, lock)");
    assert.equal(new X509Certificate(readFileSync(join(dir, "cert.pem"))).serialNumber, serial);
    assert.ok(!existsSync(marker) && !existsSync(join(s.root, "systemctl.log")), "no hook ran");
    assert.equal(accounts(), accountsBefore + 1, "one staging account registered");

    const newAccounts = staging.count((l) => l === "POST /sign-me-up");
    const again = await s.cli(["run", "--dry-run", NAME], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(accounts(), accountsBefore + 1, "the second dry run registered no account");
    assert.equal(staging.count((l) => l === "POST /sign-me-up"), newAccounts, "not even looked up: the stored account URL is used");
    assert.equal(treeHash(dir), before);
    assert.ok(!existsSync(marker));
  });

  test("--server URL instead of stagingServer; none configured and server not Let's Encrypt: exit 78, one line; --server without --dry-run: 64", async () => {
    const o = sandbox();
    o.writeConfig("o.example.com", { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    const none = await o.cli(["run", "--dry-run", "o.example.com"]);
    assert.equal(none.code, 78, none.stderr);
    assert.equal(none.stderr.trim().split("\n").length, 1, none.stderr);
    assert.match(none.stderr, /o\.example\.com\.json: stagingServer: not set.*--server URL/);
    assert.ok(!existsSync(join(o.stateDir, "o.example.com")), "nothing written");
    const given = await o.cli(["run", "--dry-run", "o.example.com", "--server", staging.directoryUrl]);
    assert.equal(given.code, 0, given.stderr);
    assert.ok(!existsSync(join(o.stateDir, "o.example.com")), "the certificate's directory is not even created");
    const misuse = await o.cli(["run", "o.example.com", "--server", staging.directoryUrl]);
    assert.equal(misuse.code, 64, misuse.stderr);
    assert.match(misuse.stderr, /--server is for --dry-run only/);
  });

  test("a dry run that fails (validation): exit 1, one error line, still nothing changed", async () => {
    const dir = join(s.stateDir, NAME);
    const before = treeHash(dir);
    staging.setRule(({ path }) => (path.startsWith("/chalZ/") ? { kind: "status", status: 403, problem: "unauthorized", detail: "injected" } : { kind: "pass" }));
    // A name never validated, so that there is a challenge to fail: Pebble 2.6.0 reuses the valid
    // authorization of the earlier dry runs 1 time in 100 even with PEBBLE_AUTHZREUSE=0 (test/helpers/pebble.ts).
    s.writeConfig(NAME, { ...config, extraDomainNames: [`f${randomBytes(6).toString("hex")}.${NAME}`] });
    const r = await s.cli(["run", "--dry-run", NAME], { env });
    s.writeConfig(NAME, config);
    staging.setRule(pass);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /dry run failed \(unauthorized\)/);
    assert.equal(treeHash(dir), before);
    assert.ok(!existsSync(marker));
  });

  test("ocspMustStaple: accepted by validate, warned about once per run, not requested (no TLS Feature in the CSR nor the certificate)", async () => {
    const m = sandbox();
    const name = "ms.example.com";
    m.writeConfig(name, { ...baseConfig(pebble), server: staging.directoryUrl, listenHTTP: `127.0.0.1:${pebble.httpPort}`, ocspMustStaple: true });
    const v = await m.cli(["validate", name]);
    assert.equal(v.code, 0, v.stderr);
    const from = staging.payloads.length;
    const r = await m.cli(["run", name]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.stderr.match(/Let's Encrypt rejects must-staple requests since 2025/g) ?? []).length, 1, r.stderr);
    const finalize = staging.payloads.slice(from).find((p) => p.path.startsWith("/finalize-order/"));
    const csr = text("req", Buffer.from((finalize!.payload as { csr: string }).csr, "base64url"), "DER");
    assert.match(csr, /Subject Alternative Name/, "openssl shows the CSR's requested extensions");
    // RFC 7633 TLS Feature (status_request), OID 1.3.6.1.5.5.7.1.24: what must-staple would add.
    assert.doesNotMatch(csr, /TLS Feature|1\.3\.6\.1\.5\.5\.7\.1\.24|status_request/, csr);
    // Pebble copies must-staple from the CSR into the certificate: there is none.
    assert.doesNotMatch(text("x509", readFileSync(join(m.stateDir, name, "cert.pem"), "utf8"), "PEM"), /TLS Feature|status_request/);
  });
});
