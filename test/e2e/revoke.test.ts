/**
 * Issue 15: `acme-renew revoke` (RFC 8555 §7.6) and `acme-renew account show|deactivate` on real
 * Pebble behind a fault proxy (to read the JWS of each request), through the built CLI: the
 * revocation, Pebble's ARI window for the revoked certificate moving into the past, the renewal by
 * the next run; keyCompromise signed with the certificate's key and never reused; bad input.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CLI, childEnv, sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { startFaultProxy, type FaultProxy } from "../helpers/fault-proxy.js";
import { baseConfig } from "../helpers/acme-fixtures.js";
import { treeHash } from "../helpers/tree-hash.js";
import { spkiSha256 } from "../../src/crypto/spki.js";

const NAME = "rv.example.com";

describe("revoke and account", { timeout: 400_000 }, () => {
  let pebble: Pebble;
  let proxy: FaultProxy;
  /** Protected headers of the revokeCert requests. */
  const revokes: Array<{ header: Record<string, unknown>; payload: { reason?: number } }> = [];
  const s = sandbox();
  before(async () => {
    pebble = await startPebble();
    proxy = await startFaultProxy(pebble);
    proxy.setRule(watch);
    s.writeConfig(NAME, { ...baseConfig(pebble), server: proxy.directoryUrl, listenHTTP: `127.0.0.1:${pebble.httpPort}`, reuseKey: true });
  });
  after(async () => {
    await proxy?.close();
    await pebble?.stop();
  });
  function watch({ path, body }: { path: string; body: string }) {
    if (path === "/revoke-cert") {
      const jws = JSON.parse(body) as { protected: string; payload: string };
      revokes.push({ header: JSON.parse(Buffer.from(jws.protected, "base64url").toString()), payload: JSON.parse(Buffer.from(jws.payload, "base64url").toString()) });
    }
    return { kind: "pass" } as const;
  }
  const orders = () => proxy.count((l) => l.startsWith("POST /order-plz"));
  const accountsInPebble = () => [...pebble.log().matchAll(/There are now (\d+) accounts in memory/g)].length;
  const state = () => JSON.parse(readFileSync(join(s.stateDir, NAME, "state.json"), "utf8"));
  const cert = () => new X509Certificate(readFileSync(join(s.stateDir, NAME, "cert.pem")));
  const keyId = () => spkiSha256(readFileSync(join(s.stateDir, NAME, "key.pem"), "utf8"));
  const check = async () => JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0];

  test("revoke (superseded): signed by the account, ARI's window moves into the past, the next run replaces it at once", async () => {
    const r0 = await s.cli(["run", NAME]);
    assert.equal(r0.code, 0, r0.stderr);
    const serial1 = cert().serialNumber.toLowerCase();
    const key1 = keyId();
    const ari1 = state().ari;
    assert.ok(Date.parse(ari1.windowStart) > Date.now() + 365 * 86_400_000, `Pebble's window for a fresh 5-year certificate lies years ahead: ${ari1.windowStart}`);
    assert.equal((await check()).status, "valid");

    const r = await s.cli(["revoke", NAME, "--reason", "superseded"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /revoked \(superseded, signed with the account https:\/\/127\.0\.0\.1:\d+\/my-account\/[0-9a-f]+\) the certificate with serial/);
    const req = revokes.at(-1)!;
    assert.ok(typeof req.header.kid === "string" && !req.header.jwk, "signed with the account (kid)");
    assert.equal(req.payload.reason, 4);
    const st = state();
    assert.equal(st.revoked.serial, serial1);
    assert.equal(st.revoked.reason, "superseded");
    // Pebble answers renewalInfo for a revoked certificate with a window that ended 30 min ago.
    assert.ok(Date.parse(st.ari.windowEnd) < Date.now(), `the window moved into the past: ${st.ari.windowStart} – ${st.ari.windowEnd}`);
    assert.ok(Date.parse(st.ari.windowStart) < Date.parse(ari1.windowStart));
    const c = await check();
    assert.equal(c.status, "due");
    assert.ok(c.dueReasons.includes("revoked"), JSON.stringify(c));

    const before = orders();
    const r2 = await s.cli(["run", NAME]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(orders(), before + 1, "the next run ordered at once, without --force");
    assert.notEqual(cert().serialNumber.toLowerCase(), serial1);
    assert.equal(keyId(), key1, "reuseKey keeps the key when it was not compromised");
    assert.equal(state().revoked, null);
    assert.equal((await check()).status, "valid");
  });

  test("revoke --reason keyCompromise: signed with the certificate's key; the next key is a new one, even with reuseKey", async () => {
    const key2 = keyId();
    const r = await s.cli(["revoke", NAME, "--reason", "keyCompromise"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /signed with the certificate's key/);
    const req = revokes.at(-1)!;
    assert.ok(req.header.jwk && !req.header.kid, "an embedded JWK, no account");
    assert.equal(req.payload.reason, 1);
    assert.deepEqual(state().compromisedKeys, [key2]);
    const r2 = await s.cli(["run", NAME]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /the key on disk was revoked for keyCompromise; ordering with a new key/);
    const key3 = keyId();
    assert.notEqual(key3, key2);
    // The new key is not compromised: reuseKey keeps it again.
    assert.equal((await s.cli(["run", NAME, "--force"])).code, 0);
    assert.equal(keyId(), key3);
    assert.deepEqual(state().compromisedKeys, [key2], "kept after installs");
  });

  test("bad input and refusals: one line each, the right exit code, nothing on disk changes", async () => {
    const disk = () => treeHash(s.stateDir, s.configDir);
    const was = disk();
    // One error line (a usage error adds main's "run acme-renew --help for usage").
    const oneLine = (t: string) => t.trim().split("\n").filter((l) => /^error:/.test(l)).length === 1 && t.trim().split("\n").length <= 2;
    const unknown = await s.cli(["revoke", "nope.example.com"]);
    assert.equal(unknown.code, 64, unknown.stderr);
    assert.ok(oneLine(unknown.stderr) && /no certificate "nope\.example\.com"/.test(unknown.stderr), unknown.stderr);
    const reason = await s.cli(["revoke", NAME, "--reason", "lostIt"]);
    assert.equal(reason.code, 64, reason.stderr);
    assert.ok(oneLine(reason.stderr) && /reason/.test(reason.stderr), reason.stderr);
    // The CA refuses (here: whoever signs): nothing recorded.
    proxy.setRule(({ path }) => (path === "/revoke-cert" ? { kind: "status", status: 403, problem: "unauthorized", detail: "no" } : { kind: "pass" }));
    const refused = await s.cli(["revoke", NAME]);
    proxy.setRule(watch);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /not revoked \(unauthorized\).*nothing changed/);
    assert.ok(!/\n\s+at /.test(refused.stderr), "no stack trace");
    const deact = await s.cli(["account", "deactivate", NAME]);
    assert.equal(deact.code, 64, deact.stderr);
    assert.ok(oneLine(deact.stderr) && /give --yes/.test(deact.stderr), deact.stderr);
    assert.equal(disk(), was);
  });

  test("the CA refuses the account (not the one that ordered it): the certificate's key signs instead, one warning", async () => {
    const serial = cert().serialNumber.toLowerCase();
    const before = revokes.length;
    // Refused when signed by an account (kid), accepted when signed by the certificate's key (jwk).
    proxy.setRule((req) => {
      if (req.path !== "/revoke-cert") return { kind: "pass" };
      const header = JSON.parse(Buffer.from((JSON.parse(req.body) as { protected: string }).protected, "base64url").toString()) as { kid?: string };
      if (header.kid) return { kind: "status", status: 403, problem: "unauthorized", detail: "not the account of this certificate" };
      return watch(req);
    });
    const r = await s.cli(["revoke", NAME, "--reason", "superseded"]);
    proxy.setRule(watch);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /the CA refused the account \(.*\); signing with the certificate's key instead/);
    assert.match(r.stderr, new RegExp(`revoked \\(superseded, signed with the certificate's key\\) the certificate with serial ${serial}`));
    assert.equal(revokes.length, before + 1, "the account's request never reached Pebble; the certificate key's did");
    assert.ok(revokes.at(-1)!.header.jwk && !revokes.at(-1)!.header.kid);
    assert.equal(state().revoked.serial, serial);
    // As after any revocation: the next run replaces it.
    const run = await s.cli(["run", NAME]);
    assert.equal(run.code, 0, run.stderr);
    assert.notEqual(cert().serialNumber.toLowerCase(), serial);
    assert.equal((await check()).status, "valid");
  });

  test("account show: the account of the certificate, as stored and as the CA sees it", async () => {
    const r = await s.cli(["account", "show", NAME]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^account: https:\/\/127\.0\.0\.1:\d+\/my-account\/[0-9a-f]+$/m);
    assert.match(r.stdout, /^status: valid$/m);
    assert.match(r.stdout, /^contact: mailto:ops@example\.com$/m);
    const j = JSON.parse((await s.cli(["account", "show", "--json"])).stdout);
    assert.equal(j.length, 1);
    assert.deepEqual(j[0].certificates, [NAME]);
    assert.equal(j[0].status, "valid");
  });

  test("account deactivate on a terminal asks; answered no: exit 1, nothing changes at the CA or on disk", async () => {
    const was = treeHash(s.stateDir, s.configDir);
    const q = (x: string) => `'${x.replace(/'/g, "'\\''")}'`;
    const cmd = [process.execPath, CLI, "--config-dir", s.configDir, "--state-dir", s.stateDir, "account", "deactivate", NAME].map(q).join(" ");
    // util-linux script: the CLI on a pty; what we type comes from script's stdin.
    const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { env: childEnv(), input: "n\n", encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /Deactivate the ACME account of ops@example\.com at https:\/\/127\.0\.0\.1:\d+\/dir \(used by rv\.example\.com\)\? The CA cannot undo this\. \[y\/N\]/);
    assert.match(r.stdout, /not deactivated/);
    assert.equal(treeHash(s.stateDir, s.configDir), was);
    assert.match((await s.cli(["account", "show", NAME])).stdout, /^status: valid$/m);
  });

  test("account deactivate --yes: the CA deactivates it, its directory is kept aside; revoking then signs with the certificate's key; the next order registers a new account", async () => {
    const accounts = accountsInPebble();
    const r = await s.cli(["account", "deactivate", NAME, "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /deactivated https:\/\/127\.0\.0\.1:\d+\/my-account\/[0-9a-f]+/);
    assert.ok(readdirSync(join(s.stateDir, "accounts")).some((d) => d.includes(".deactivated-")), "kept aside");
    const shown = await s.cli(["account", "show", NAME]);
    assert.match(shown.stdout, /^account: none yet/m);
    // The account is gone: the certificate's key signs.
    const rv = await s.cli(["revoke", NAME, "--reason", "cessationOfOperation"]);
    assert.equal(rv.code, 0, rv.stderr);
    assert.ok(revokes.at(-1)!.header.jwk, "embedded JWK");
    assert.equal(revokes.at(-1)!.payload.reason, 5);
    // Revoked again: the CA says it already is; still exit 0.
    const again = await s.cli(["revoke", NAME, "--reason", "cessationOfOperation"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /the CA had already revoked/);
    const run = await s.cli(["run", NAME]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(accountsInPebble(), accounts + 1, "one new account registered");
    assert.match((await s.cli(["account", "show", NAME])).stdout, /^status: valid$/m);
  });

  test("revoke without any account files: signed with the certificate's key", async () => {
    rmSync(join(s.stateDir, "accounts"), { recursive: true, force: true });
    const r = await s.cli(["revoke", NAME]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(revokes.at(-1)!.header.jwk && !revokes.at(-1)!.header.kid);
    assert.equal(revokes.at(-1)!.payload.reason, 0);
  });
});
