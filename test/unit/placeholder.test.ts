/**
 * The placeholder is recognisable from the certificate alone (issue 11, item 4), is made with
 * node:crypto alone, and `readiness()` (the boot path's decision) covers every case.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfSigned } from "../../src/crypto/self-signed.js";
import { time } from "../../src/crypto/der-write.js";
import { isPlaceholder } from "../../src/inspect/placeholder.js";
import { inspect } from "../../src/inspect/read.js";
import { decide } from "../../src/decide/decide.js";
import { placeholderMayReplace, readiness } from "../../src/decide/ready.js";
import { installPlaceholder } from "../../src/renew/placeholder.js";
import { certPaths } from "../../src/store/paths.js";
import { emptyState } from "../../src/state/model.js";
import { createCertificate } from "../../src/crypto/certs.js";
import { generateKeyPair } from "../../src/crypto/keys.js";
import { makeLeaf, DAY } from "../helpers/pki.js";
import type { CertConfig } from "../../src/config/types.js";
import type { Inspection } from "../../src/inspect/facts.js";

const tmp = () => mkdtempSync(join(tmpdir(), "acme-renew-ph-"));

function config(o: Partial<CertConfig> = {}): CertConfig {
  return {
    name: "a.example.com",
    file: "/etc/acme-renew/a.example.com.json",
    domain: "a.example.com",
    extraDomainNames: ["*.a.example.com"],
    email: null,
    acceptTerms: false,
    server: "https://127.0.0.1:1/dir",
    caBundle: null,
    keyType: "rsa4096",
    reuseKey: false,
    validMinDays: null,
    challenge: { type: "dns01", provider: "exec", code: "exec", hook: "/bin/true", resolvers: [], propagationCheck: false, propagationTimeout: 0, environmentFile: null, credentialFiles: {} },
    reloadServices: [],
    postRun: null,
    group: null,
    profile: null,
    preferredChain: null,
    stagingServer: null,
    ocspMustStaple: false,
    eab: null,
    ari: true,
    placeholder: true,
    keepVersions: 3,
    timeout: 600,
    hookTimeout: 60,
    cluster: null,
    ...o,
  };
}

const policy = (c: CertConfig) => ({ names: [c.domain, ...c.extraDomainNames], keyType: c.keyType, validMinDays: null, clockFloor: null, ari: true, server: c.server, profile: c.profile });

test("selfSigned(): a certificate OpenSSL accepts as a TLS server certificate for its names, and its key", async () => {
  const dir = tmp();
  const { certPem, keyPem } = await selfSigned({
    names: ["a.example.com", "*.b.example.com"],
    subject: [["2.5.4.3", "a.example.com"], ["2.5.4.10", "acme-renew placeholder"]],
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 30 * DAY),
  });
  writeFileSync(join(dir, "c.pem"), certPem);
  writeFileSync(join(dir, "k.pem"), keyPem);
  // openssl verify: structure, signature, extensions, purpose — exits non-zero on any of them.
  execFileSync("openssl", ["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", join(dir, "c.pem"), join(dir, "c.pem")], { stdio: "pipe" });
  execFileSync("openssl", ["x509", "-in", join(dir, "c.pem"), "-noout", "-checkhost", "x.b.example.com"], { stdio: "pipe" });
  const c = new X509Certificate(certPem);
  assert.equal(c.subjectAltName, "DNS:a.example.com, DNS:*.b.example.com");
  assert.equal(c.subject, c.issuer);
  assert.ok(c.checkPrivateKey(createPrivateKey(keyPem)));
  assert.ok(c.verify(c.publicKey));
  assert.equal(c.ca, false);
  assert.deepEqual(c.keyUsage, ["1.3.6.1.5.5.7.3.1"]);
});

test("DER time: UTCTime 1950–2049, GeneralizedTime outside; node reads both back", async () => {
  assert.equal(time(new Date("2049-12-31T23:59:59Z"))[0], 0x17);
  assert.equal(time(new Date("1950-01-01T00:00:00Z"))[0], 0x17);
  assert.equal(time(new Date("2050-01-01T00:00:00Z"))[0], 0x18);
  assert.equal(time(new Date("1949-12-31T23:59:59Z"))[0], 0x18);
  for (const [from, to] of [["1969-12-31T23:00:00Z", "2051-01-01T00:00:00Z"], ["2026-03-04T05:06:07Z", "2026-04-03T05:06:07Z"]] as const) {
    const { certPem } = await selfSigned({ names: ["x.example"], subject: [["2.5.4.3", "x"]], notBefore: new Date(from), notAfter: new Date(to) });
    const c = new X509Certificate(certPem);
    assert.equal(new Date(c.validFrom).toISOString(), new Date(from).toISOString());
    assert.equal(new Date(c.validTo).toISOString(), new Date(to).toISOString());
  }
});

test("isPlaceholder: ours and earlier versions' yes; CA-issued, plain self-signed and forged markers no", async () => {
  const dir = tmp();
  const paths = certPaths(dir, "a.example.com");
  await installPlaceholder(config(), paths, new Date());
  assert.equal(isPlaceholder(new X509Certificate(readFileSync(paths.cert))), true, "written by installPlaceholder");

  // What acme-renew ≤ 0.1 wrote (through @peculiar/x509): CN "acme-renew placeholder for <domain>".
  const key = await generateKeyPair("ec256");
  const legacy = await createCertificate({ names: ["a.example.com"], key, commonName: "acme-renew placeholder for a.example.com", notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + DAY) });
  assert.equal(isPlaceholder(new X509Certificate(legacy.toString("pem"))), true, "legacy placeholder");

  const issued = await makeLeaf({ names: ["a.example.com"] });
  assert.equal(isPlaceholder(new X509Certificate(issued.cert.toString("pem"))), false, "issued by a CA");
  const plain = await makeLeaf({ names: ["a.example.com"], selfSigned: true });
  assert.equal(isPlaceholder(new X509Certificate(plain.cert.toString("pem"))), false, "self-signed without the marker");

  // A marker in a certificate signed by another key (issuer name = subject name, but not self-signed).
  const subj = "/CN=a.example.com/O=acme-renew placeholder";
  const o = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  o(["req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-subj", subj, "-days", "2", "-keyout", "ca.key", "-out", "ca.pem"]);
  o(["req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-subj", subj, "-keyout", "leaf.key", "-out", "leaf.csr"]);
  o(["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-out", "leaf.pem"]);
  const forged = new X509Certificate(readFileSync(join(dir, "leaf.pem")));
  assert.equal(forged.subject, forged.issuer);
  assert.equal(isPlaceholder(forged), false, "same names, but its own key does not verify it");
  // …while the self-signed one with the marker is a placeholder: whoever made it, it is untrusted.
  assert.equal(isPlaceholder(new X509Certificate(readFileSync(join(dir, "ca.pem")))), true);
});

test("inspect + decide: a placeholder is due (placeholder) and not usable with empty state, and at an untrusted clock", async () => {
  const dir = tmp();
  const c = config();
  const paths = certPaths(dir, c.name);
  await installPlaceholder(c, paths, new Date());
  const i = inspect(paths);
  assert.ok(i.kind === "present" && i.placeholder && i.keyMatches && i.chainPresent);
  const d = decide(i, emptyState(), policy(c), new Date());
  assert.equal(d.usable, false);
  assert.equal(d.status, "due");
  assert.ok(d.dueReasons.includes("placeholder"));
  const floor = new Date(Date.now() + 365 * DAY);
  const untrusted = decide(i, emptyState(), { ...policy(c), clockFloor: floor }, new Date());
  assert.equal(untrusted.clockUntrusted, true);
  assert.equal(untrusted.usable, false, "a clock before the build time does not make a placeholder usable");
  assert.equal(untrusted.renew, false);
});

test("installPlaceholder: EC P-256 whatever the configured key type; with a clock before the floor, valid at both", async () => {
  const dir = tmp();
  const now = new Date("1970-01-01T00:00:10Z");
  const floor = new Date("2026-06-01T00:00:00Z");
  const t0 = Date.now();
  const ph = await installPlaceholder(config({ keyType: "rsa4096" }), certPaths(dir, "a.example.com"), now, { clockFloor: floor });
  assert.ok(Date.now() - t0 < 5000, "no RSA-4096 key generation on the boot path");
  const c = new X509Certificate(readFileSync(join(dir, "a.example.com/cert.pem")));
  assert.equal(c.publicKey.asymmetricKeyType, "ec");
  assert.ok(new Date(c.validFrom) <= now && new Date(c.validTo) > floor, `${c.validFrom} – ${c.validTo}`);
  assert.equal(ph.notAfter.getTime(), floor.getTime() + 30 * DAY);
  assert.equal(c.serialNumber.toLowerCase(), ph.serial);
});

test("readiness(): usable → ok; placeholder in its dates → ok; else a placeholder only where nothing real would be replaced", async () => {
  const dir = tmp();
  const c = config();
  const now = new Date();
  const decision = (i: Inspection, at = now) => decide(i, emptyState(), policy(c), at);
  const missing: Inspection = { kind: "missing", what: "no certificate yet", empty: true };
  assert.deepEqual(readiness(missing, decision(missing), true), { action: "write-placeholder" });
  assert.equal(readiness(missing, decision(missing), false).action, "fail");
  const partial: Inspection = { kind: "missing", what: "key.pem is missing", empty: false };
  assert.match((readiness(partial, decision(partial), true) as { why: string }).why, /never written over/);
  const unreadable: Inspection = { kind: "unreadable", what: "cert.pem: garbage" };
  assert.equal(readiness(unreadable, decision(unreadable), true).action, "fail");
  assert.equal(placeholderMayReplace(unreadable), false);

  await installPlaceholder(c, certPaths(dir, c.name), now);
  const ph = inspect(certPaths(dir, c.name));
  assert.deepEqual(readiness(ph, decision(ph), true), { action: "ok", what: "placeholder" });
  assert.deepEqual(readiness(ph, decision(ph), false), { action: "ok", what: "placeholder" }, "one in place stays, even when turned off");
  const later = new Date(now.getTime() + 40 * DAY);
  assert.deepEqual(readiness(ph, decision(ph, later), true), { action: "write-placeholder" }, "an expired placeholder of ours is replaced");
  assert.ok(ph.kind === "present");
  const mismatched = { ...ph, keyMatches: false };
  assert.deepEqual(readiness(mismatched, decision(mismatched), true), { action: "write-placeholder" });

  const real = (o: Parameters<typeof makeLeaf>[0]) => makeLeaf(o).then(({ cert }) => new X509Certificate(cert.toString("pem")));
  const facts = (x: X509Certificate, more: object = {}): Inspection => ({
    kind: "present", notBefore: new Date(x.validFrom), notAfter: new Date(x.validTo), names: [c.domain, ...c.extraDomainNames], keyType: "rsa4096",
    keyMatches: true, chainPresent: true, serialHex: x.serialNumber, issuer: x.issuer, fingerprint256: x.fingerprint256, certId: null, placeholder: false, ...more,
  });
  const valid = facts(await real({ names: [c.domain] }));
  assert.deepEqual(readiness(valid, decision(valid), true), { action: "ok", what: "usable" });
  const dueValid = facts(await real({ names: [c.domain], notBefore: new Date(now.getTime() - 80 * DAY), notAfter: new Date(now.getTime() + 10 * DAY) }));
  assert.equal(decision(dueValid).status, "due");
  assert.deepEqual(readiness(dueValid, decision(dueValid), true), { action: "ok", what: "usable" });
  const expired = facts(await real({ names: [c.domain], notBefore: new Date(now.getTime() - 90 * DAY), notAfter: new Date(now.getTime() - DAY) }));
  assert.match((readiness(expired, decision(expired), true) as { why: string }).why, /expired.*never written over/);
  const wrongKey = { ...valid, keyMatches: false };
  assert.equal(readiness(wrongKey, decision(wrongKey), true).action, "fail");
});
