import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { DAY, writeCertDir } from "../helpers/pki.js";
import { sandbox } from "../helpers/cli.js";
import { createCertificate } from "../../src/crypto/certs.js";
import { generateKeyPair } from "../../src/crypto/keys.js";
import { extension, isSan, pemOf, rebuild, SAN_OID, T } from "../helpers/der-build.js";

const NAMES = ["a.example.com", "www.a.example.com"];
const cfg = { extraDomainNames: ["www.a.example.com"], webroot: "/var/www" };

async function one(name: string, leaf: Parameters<typeof writeCertDir>[2] | null, config: object = cfg) {
  const s = sandbox();
  s.writeConfig(name, config);
  if (leaf) await writeCertDir(s.stateDir, name, leaf);
  const r = await s.cli(["check", name, "--json"]);
  const out = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  return { r, out: out[0]!, s };
}

test("check: valid → exit 0, says when it will be due", async () => {
  const { r, out } = await one("a.example.com", { names: NAMES });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(out.status, "valid");
  assert.equal(out.usable, true);
  assert.ok(typeof out.renewAt === "string");
  assert.match(String((out.reasons as string[])[0]), /valid until .* due at /);
});

test("check: due (window) → exit 0, still usable", async () => {
  const { r, out } = await one("a.example.com", { names: NAMES, notBefore: new Date(Date.now() - 70 * DAY), notAfter: new Date(Date.now() + 20 * DAY) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(out.status, "due");
  assert.deepEqual(out.dueReasons, ["window"]);
});

test("check: names changed and key type changed → due", async () => {
  const names = await one("a.example.com", { names: ["a.example.com"] });
  assert.equal(names.r.code, 0);
  assert.deepEqual(names.out.dueReasons, ["names"]);
  const kt = await one("a.example.com", { names: NAMES, keyType: "rsa2048" });
  assert.deepEqual(kt.out.dueReasons, ["key-type"]);
  assert.match(String((kt.out.reasons as string[])[0]), /key type is rsa2048, configured ec256/);
});

test("check: a placeholder is due (placeholder) and not usable from the certificate alone — no state.json (crash before it was written)", async () => {
  // Written by `run` (CA down, no certificate), then state.json lost.
  const s = sandbox();
  s.writeConfig("a.example.com", { ...cfg, acceptTerms: true, server: "https://127.0.0.1:1/dir" });
  const r = await s.cli(["run", "a.example.com", "--timeout", "2"]);
  assert.ok(r.code === 1 || r.code === 3, `run: ${r.code}\n${r.stderr}`);
  rmSync(join(s.stateDir, "a.example.com", "state.json"), { force: true });
  const c = await s.cli(["check", "a.example.com", "--json"]);
  assert.equal(c.code, 1, c.stderr);
  const out = JSON.parse(c.stdout)[0];
  assert.deepEqual(out.dueReasons, ["placeholder"], JSON.stringify(out));
  assert.equal(out.usable, false);
  assert.match(out.issuer, /O=acme-renew placeholder/);
});

test("check: a placeholder written by an earlier version (CN marker, @peculiar/x509) is recognised without state.json", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", cfg);
  const key = await generateKeyPair("ec256");
  const cert = await createCertificate({ names: NAMES, key, commonName: "acme-renew placeholder for a.example.com", notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 29 * DAY) });
  const dir = join(s.stateDir, "a.example.com");
  mkdirSync(dir, { recursive: true });
  const pem = cert.toString("pem") + "\n";
  for (const [f, v] of [["cert.pem", pem], ["chain.pem", pem], ["fullchain.pem", pem + pem], ["key.pem", key.pem]]) writeFileSync(join(dir, f!), v!);
  const c = await s.cli(["check", "a.example.com", "--json"]);
  assert.equal(c.code, 1, c.stderr);
  assert.deepEqual(JSON.parse(c.stdout)[0].dueReasons, ["placeholder"]);
});

test("check: missing → exit 1", async () => {
  const { r, out } = await one("a.example.com", null);
  assert.equal(r.code, 1);
  assert.equal(out.status, "missing");
  assert.equal(out.usable, false);
});

test("check: expired → exit 1; not-yet-valid → exit 1", async () => {
  const exp = await one("a.example.com", { names: NAMES, notBefore: new Date(Date.now() - 91 * DAY), notAfter: new Date(Date.now() - 1000) });
  assert.equal(exp.r.code, 1);
  assert.equal(exp.out.status, "expired");
  const nyv = await one("a.example.com", { names: NAMES, notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 90 * DAY) });
  assert.equal(nyv.r.code, 1);
  assert.equal(nyv.out.status, "not-yet-valid");
});

test("check: key does not match → mismatch, exit 1", async () => {
  const { r, out } = await one("a.example.com", { names: NAMES, wrongKey: true });
  assert.equal(r.code, 1);
  assert.equal(out.status, "mismatch");
});

test("check: corrupt PEM → unreadable, exit 1, one log line naming the file, no stack trace", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", cfg);
  const { dir } = await writeCertDir(s.stateDir, "a.example.com", { names: NAMES });
  writeFileSync(join(dir, "cert.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  const r = await s.cli(["check", "a.example.com", "--json"]);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout)[0].status, "unreadable");
  assert.match(r.stderr, /cert\.pem/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  writeFileSync(join(dir, "cert.pem"), readFileSync(join(dir, "fullchain.pem")));
  writeFileSync(join(dir, "key.pem"), "garbage");
  const k = await s.cli(["check", "a.example.com", "--json"]);
  assert.equal(JSON.parse(k.stdout)[0].status, "unreadable");
  assert.match(JSON.parse(k.stdout)[0].reasons[0], /key\.pem: not a private key/);
});

test("check: a certificate whose public key cannot be decoded → unreadable naming cert.pem, exit 1, no stack trace (was an internal error)", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", cfg);
  const { dir, cert } = await writeCertDir(s.stateDir, "a.example.com", { names: NAMES });
  // The SPKI's algorithm becomes an OID nobody knows: the certificate still parses, its key does not.
  const der = Buffer.from(cert.rawData);
  const at = der.indexOf(Buffer.from("2a8648ce3d0201", "hex"));
  assert.ok(at > 0);
  der[at + 6] = 0x09;
  writeFileSync(join(dir, "cert.pem"), `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`);
  const r = await s.cli(["check", "a.example.com", "--json"]);
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout)[0];
  assert.equal(out.status, "unreadable");
  assert.match(out.reasons[0], /cert\.pem: public key: /);
  assert.doesNotMatch(r.stderr, /internal-error|\n\s+at |error:[0-9A-F]{8}/);
});

test("check: a certificate with an empty subject and issuer (node:crypto: undefined) → checked, no internal error (was one)", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", cfg);
  const { dir } = await writeCertDir(s.stateDir, "a.example.com", { names: NAMES });
  execFileSync("openssl", ["req", "-x509", "-nodes", "-subj", "/", "-days", "30", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-addext", `subjectAltName=${NAMES.map((n) => `DNS:${n}`).join(",")}`, "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
  const r = await s.cli(["check", "a.example.com", "--json"]);
  assert.doesNotMatch(r.stderr, /internal-error|\n\s+at /);
  const out = JSON.parse(r.stdout)[0];
  assert.equal(out.status, "valid", r.stderr);
  assert.equal(out.issuer, "");
  assert.equal(r.code, 0);
});

test("check: a certificate whose validity OpenSSL cannot print (month 13) → unreadable naming cert.pem, exit 1 (was an internal error: Invalid Date)", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", cfg);
  const { dir, cert } = await writeCertDir(s.stateDir, "a.example.com", { names: NAMES });
  // notBefore's UTCTime (17 0d YYMMDDhhmmssZ) gets month 13; the certificate still parses.
  const der = Buffer.from(cert.rawData);
  const at = der.indexOf(Buffer.from([0x17, 0x0d]));
  assert.ok(at > 0);
  der.write("13", at + 4, "latin1");
  writeFileSync(join(dir, "cert.pem"), `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`);
  const r = await s.cli(["check", "a.example.com", "--json"]);
  assert.doesNotMatch(r.stderr, /internal-error|\n\s+at /);
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout)[0];
  assert.equal(out.status, "unreadable");
  assert.match(out.reasons[0], /cert\.pem: validity: /);
});

test("check: a subjectAltName node:crypto cannot decode → a verdict, never an internal error (Node 24+ threw in the full check)", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", cfg);
  const { dir, cert, key } = await writeCertDir(s.stateDir, "a.example.com", { names: NAMES });
  const der = rebuild(new Uint8Array(cert.rawData), key.pem, { extensions: (exts) => exts.map((e) => (isSan(e) ? extension(SAN_OID, T(0x30, [0x82, 0x05, 0x61])) : e)) });
  writeFileSync(join(dir, "cert.pem"), pemOf(der));
  const r = await s.cli(["check", "a.example.com", "--json"]);
  assert.doesNotMatch(r.stderr, /internal-error|\n\s+at /);
  const out = JSON.parse(r.stdout)[0];
  // Node 20 prints what it can of it (no name of ours: due); 24 and 26 cannot: unreadable.
  if (Number(process.versions.node.split(".")[0]) >= 24) {
    assert.equal(out.status, "unreadable");
    assert.match(out.reasons[0], /cert\.pem: subjectAltName: /);
    assert.equal(r.code, 1);
  } else assert.deepEqual([out.status, r.code], ["due", 0]);
});

test("check: chain.pem missing → due (chain), usable", async () => {
  const { r, out } = await one("a.example.com", { names: NAMES, noChain: true });
  assert.equal(r.code, 0);
  assert.deepEqual(out.dueReasons, ["chain"]);
});

test("check: corrupt state file is logged and treated as empty, never fatal", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", cfg);
  await writeCertDir(s.stateDir, "a.example.com", { names: NAMES });
  writeFileSync(join(s.stateDir, "a.example.com", "state.json"), "{not json");
  const r = await s.cli(["check", "a.example.com"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /state file .*state\.json is unusable/);
});

test("check --all: worst outcome wins; config error → 78 while other certs are still reported", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", cfg);
  await writeCertDir(s.stateDir, "a.example.com", { names: NAMES });
  let r = await s.cli(["check", "--all", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  s.writeConfig("b.example.com", { webroot: "/w" });
  r = await s.cli(["check", "--all", "--json"]);
  assert.equal(r.code, 1);
  assert.deepEqual(JSON.parse(r.stdout).map((o: { name: string; status: string }) => `${o.name}:${o.status}`), ["a.example.com:valid", "b.example.com:missing"]);
  s.writeConfig("c.example.com", { webroot: "/w", keyType: "dsa" });
  r = await s.cli(["check", "--all", "--json"]);
  assert.equal(r.code, 78);
  assert.equal(JSON.parse(r.stdout).length, 2);
  assert.match(r.stderr, /config .*c\.example\.com\.json: keyType: expected one of ec256/);
});

test("usage errors → 64; validate → 0/78; schema prints JSON Schema", async () => {
  const s = sandbox();
  assert.equal((await s.cli(["check"])).code, 64);
  assert.equal((await s.cli(["frobnicate"])).code, 64);
  assert.equal((await s.cli(["check", "--bogus", "x"])).code, 64);
  s.writeConfig("a.example.com", { ...cfg, acceptTerms: true });
  assert.equal((await s.cli(["validate"])).code, 0);
  s.writeConfig("b.example.com", { webroot: "/w", listenTLS: ":443" });
  const v = await s.cli(["validate"]);
  assert.equal(v.code, 78);
  assert.match(v.stderr, /b\.example\.com\.json: listenTLS: only one challenge/);
  assert.equal((await s.cli(["validate", "a.example.com"])).code, 0);
  const sc = await s.cli(["schema"]);
  assert.equal(sc.code, 0);
  const schema = JSON.parse(sc.stdout);
  assert.equal(schema.additionalProperties, false);
  assert.ok(schema.properties.keyType.enum.includes("rsa4096"));
  assert.deepEqual(JSON.parse(readFileSync(join(import.meta.dirname, "../../../schema/acme-renew.schema.json"), "utf8")), schema, "schema/acme-renew.schema.json is up to date (npm run schema)");
});

test("--version prints package.json's version from any working directory", async () => {
  const { version } = JSON.parse(readFileSync(join(import.meta.dirname, "../../../package.json"), "utf8")) as { version: string };
  const s = sandbox();
  const r = await s.cli(["--version"], { cwd: s.root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${version}\n`);
});

test("log formats: journal lines carry <N> priority and key=value; json lines parse", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", cfg);
  const j = await s.cli(["check", "a.example.com", "--log-format", "journal"]);
  assert.match(j.stderr.trim(), /^<3>event=check cert=a\.example\.com status=missing usable=false msg="no certificate yet"$/);
  const js = await s.cli(["check", "a.example.com", "--log-format", "json"]);
  const line = JSON.parse(js.stderr.trim());
  assert.equal(line.level, "error");
  assert.equal(line.event, "check");
  assert.equal(line.cert, "a.example.com");
});

test("check: the certificate's directory is a file (ENOTDIR) → not usable, said as such, no internal error", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", cfg);
  writeFileSync(join(s.stateDir, "a.example.com"), "not a directory");
  const r = await s.cli(["check", "a.example.com"]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^a\.example\.com\t\S+\tNOT USABLE\t.*ENOTDIR/);
  assert.doesNotMatch(r.stderr, /internal-error|internal error/);
});
