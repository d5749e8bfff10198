/**
 * The pre-check's own DER reading (src/inspect/cert-der.ts, key-der.ts) against node:crypto's answer,
 * which it replaces for plain files (issue 14, item 3): equal facts wherever it answers, declined
 * (null) wherever it cannot read exactly what node:crypto prints — including DER mutated at random.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { derCertFacts } from "../../src/inspect/cert-der.js";
import { keyHoldsPublicKey } from "../../src/inspect/key-der.js";
import { factsOf, precheckFacts } from "../../src/inspect/read.js";
import { generateKeyPair } from "../../src/crypto/keys.js";
import { makeLeaf } from "../helpers/pki.js";
import type { KeyType } from "../../src/config/types.js";

const dir = mkdtempSync(join(tmpdir(), "acme-renew-certder-"));
const labels = { cert: "cert.pem", key: "key.pem" };
let n = 0;

/** A certificate made by openssl (self-signed unless `ca` is given), its key and DER. */
function openssl(o: { subj?: string; key?: string[]; args?: string[]; ca?: { cert: string; key: string } } = {}) {
  const base = join(dir, `c${n++}`);
  const subj = o.subj ?? "/CN=a.example.com";
  const key = o.key ?? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
  const ext = ["-addext", "subjectAltName=DNS:a.example.com,DNS:B.Example.Com"];
  if (o.ca) {
    execFileSync("openssl", ["req", "-new", "-nodes", "-subj", subj, "-keyout", `${base}.key`, "-out", `${base}.csr`, ...key], { stdio: "ignore" });
    writeFileSync(`${base}.ext`, "subjectAltName=DNS:a.example.com\nauthorityKeyIdentifier=keyid\n");
    execFileSync("openssl", ["x509", "-req", "-in", `${base}.csr`, "-CA", o.ca.cert, "-CAkey", o.ca.key, "-days", "30", "-extfile", `${base}.ext`, "-out", `${base}.pem`, ...(o.args ?? [])], { stdio: "ignore" });
  } else {
    execFileSync("openssl", ["req", "-x509", "-nodes", "-subj", subj, "-days", "30", "-keyout", `${base}.key`, "-out", `${base}.pem`, ...ext, ...key, ...(o.args ?? [])], { stdio: "ignore" });
  }
  const cert = readFileSync(`${base}.pem`, "utf8");
  return { cert, key: readFileSync(`${base}.key`, "utf8"), keyFile: `${base}.key`, certFile: `${base}.pem`, der: new Uint8Array(new X509Certificate(cert).raw) };
}

/** The facts node:crypto gives, for comparison (placeholder aside: cert-der declines those). */
const viaNode = (cert: string, key: string) => factsOf({ cert, key, chain: null }, labels);

test("certificates of every key type we make: the DER reading answers, and its facts are node:crypto's", async () => {
  for (const keyType of ["ec256", "ec384", "rsa2048", "rsa3072"] as KeyType[]) {
    for (const selfSigned of [false, true]) {
      const { cert, key } = await makeLeaf({ names: ["a.example.com", "*.b.example.com", "c-d.example.com"], keyType, selfSigned });
      const certPem = cert.toString("pem") + "\n";
      const der = new Uint8Array(cert.rawData);
      assert.ok(derCertFacts(der), `${keyType} answered`);
      assert.equal(keyHoldsPublicKey(key.pem, derCertFacts(der)!.publicKey), true, `${keyType}: the key is shown to match`);
      assert.deepEqual(precheckFacts({ cert: certPem, key: key.pem, chain: certPem }, labels), factsOf({ cert: certPem, key: key.pem, chain: certPem }, labels), keyType);
    }
  }
});

test("issuers as node:crypto prints them: common attributes in ASCII answered, anything needing escapes declined", () => {
  const answered = [
    "/C=US/O=Let's Encrypt/CN=R3",
    "/C=US/ST=California/L=San Francisco/O=Example Inc./OU=Web/CN=Example CA",
    "/DC=com/DC=example/CN=Issuing CA 01",
    "/CN=Pebble Intermediate CA 1a2b3c",
    "/serialNumber=12345/CN=x/emailAddress=ca@example.com",
    "/O=a-b_c.d(e)f:g=h?i@j/CN=in#ner#",
  ];
  const declined = ["/O=Example, Inc./CN=x", "/CN=a\\,b", "/CN=a\\+b", "/CN= lead", "/CN=#lead", "/CN=trail ", "/CN=quo\"te", "/CN=semi;colon", "/CN=less<than", "/CN=back\\\\slash", "/CN=Grüße", "/CN=a/title=Dr", "/CN=x+O=multi"];
  for (const subj of [...answered, ...declined]) {
    const c = openssl({ subj, args: subj.endsWith("+O=multi") ? ["-multivalue-rdn"] : [] });
    const x = new X509Certificate(c.cert);
    const d = derCertFacts(c.der);
    if (d) assert.equal(d.issuer, x.issuer, subj);
    if (answered.includes(subj)) assert.ok(d, `${subj}: answered`);
    if (declined.includes(subj)) assert.equal(d, null, `${subj}: declined`);
    assert.deepEqual(precheckFacts({ cert: c.cert, key: c.key, chain: null }, labels), viaNode(c.cert, c.key), subj);
  }
});

test("times, serials and names at their edges equal node:crypto's; the ones it prints differently are declined", () => {
  const cases: Array<{ args?: string[]; subj?: string; answers: boolean }> = [
    { args: ["-days", "9000"], answers: true }, // notAfter past 2049: GeneralizedTime
    { args: ["-set_serial", "0x80"], answers: true }, // a leading 0x00 in the encoding
    { args: ["-set_serial", "0x0a0b"], answers: true }, // a leading zero nibble is printed
    { args: ["-set_serial", "1"], answers: true },
    { args: ["-set_serial", "0"], answers: false }, // zero: printed as "0" by OpenSSL
    { args: ["-set_serial", "-5"], answers: false }, // negative
    { args: ["-addext", "subjectAltName=DNS:a.example.com,IP:127.0.0.1,email:x@example.com,URI:https://e.example/"], answers: true },
  ];
  for (const c0 of cases) {
    const base = join(dir, `c${n++}`);
    execFileSync("openssl", ["req", "-x509", "-nodes", "-subj", c0.subj ?? "/CN=x", "-days", "30", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout", `${base}.key`, "-out", `${base}.pem`, ...(c0.args ?? [])], { stdio: "ignore" });
    const cert = readFileSync(`${base}.pem`, "utf8");
    const key = readFileSync(`${base}.key`, "utf8");
    const d = derCertFacts(new Uint8Array(new X509Certificate(cert).raw));
    assert.equal(d !== null, c0.answers, (c0.args ?? []).join(" "));
    assert.deepEqual(precheckFacts({ cert, key, chain: null }, labels), viaNode(cert, key), (c0.args ?? []).join(" "));
  }
});

test("key files in every common format: shown to match when they carry the public key, else node:crypto decides", async () => {
  const ec = openssl();
  const rsa = openssl({ key: ["-newkey", "rsa:2048"] });
  const conv = (from: string, args: string[]) => execFileSync("openssl", [...args, "-in", from], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const forms: Array<{ what: string; c: typeof ec; key: string; shown: boolean }> = [
    { what: "EC PKCS#8", c: ec, key: conv(ec.keyFile, ["pkey"]), shown: true },
    { what: "EC SEC1", c: ec, key: conv(ec.keyFile, ["ec"]), shown: true },
    { what: "EC SEC1 without the public key", c: ec, key: conv(ec.keyFile, ["ec", "-no_public"]), shown: false },
    { what: "EC SEC1 after its parameters block", c: ec, key: conv(ec.keyFile, ["ec", "-param_out"]), shown: false },
    { what: "EC encrypted PKCS#8", c: ec, key: conv(ec.keyFile, ["pkcs8", "-topk8", "-passout", "pass:x"]), shown: false },
    { what: "RSA PKCS#8", c: rsa, key: conv(rsa.keyFile, ["pkey"]), shown: true },
    { what: "RSA PKCS#1", c: rsa, key: conv(rsa.keyFile, ["rsa", "-traditional"]), shown: true },
    { what: "another EC key", c: ec, key: (await generateKeyPair("ec256")).pem, shown: false },
    { what: "the RSA key for the EC certificate", c: ec, key: conv(rsa.keyFile, ["pkey"]), shown: false },
    { what: "key and certificate in one file", c: ec, key: conv(ec.keyFile, ["pkey"]) + ec.cert, shown: false },
    { what: "garbage", c: ec, key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", shown: false },
  ];
  for (const f of forms) {
    const pub = derCertFacts(f.c.der)!.publicKey;
    assert.equal(keyHoldsPublicKey(f.key, pub), f.shown ? true : null, f.what);
    const quick = precheckFacts({ cert: f.c.cert, key: f.key, chain: null }, labels);
    assert.deepEqual(quick, viaNode(f.c.cert, f.key), f.what);
  }
  // Not shown means node:crypto's answer, whatever it is: a match, a mismatch, an unreadable key.
  assert.equal((precheckFacts({ cert: ec.cert, key: conv(ec.keyFile, ["ec", "-no_public"]), chain: null }, labels) as { keyMatches: boolean }).keyMatches, true);
  assert.equal((precheckFacts({ cert: ec.cert, key: (await generateKeyPair("ec256")).pem, chain: null }, labels) as { keyMatches: boolean }).keyMatches, false);
  assert.equal(precheckFacts({ cert: ec.cert, key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", chain: null }, labels).kind, "unreadable");
});

test("DER mutated at random: wherever the reading answers, node:crypto parses the same bytes to the same facts", () => {
  // Committed seeds (test-only keys), so that the same mutations meet the same bytes on every run:
  // P-256 and RSA-2048 leaves of one CA, SANs with an IP, AKI, critical extensions, a GeneralizedTime.
  const fixtures = join(import.meta.dirname, "../../../test/fixtures/der-fuzz");
  const seeds = ["ec", "rsa"].map((k) => {
    const cert = readFileSync(join(fixtures, `${k}.pem`), "utf8");
    return { cert, key: readFileSync(join(fixtures, `${k}.key`), "utf8"), der: new Uint8Array(new X509Certificate(cert).raw) };
  });
  assert.ok(seeds.every((s) => derCertFacts(s.der)));
  let state = 0x2545f491;
  const rand = (k: number) => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0), (state >>> 8) % k);
  let answered = 0;
  let tried = 0;
  for (const s of seeds) {
    for (let i = 0; i < 3000; i++) {
      const m = Uint8Array.from(s.der);
      const at = rand(m.length);
      const kind = rand(4);
      let der: Uint8Array = m;
      if (kind === 0) m[at] = rand(256);
      else if (kind === 1) m[at] = m[at]! ^ (1 << rand(8));
      else if (kind === 2) der = m.subarray(0, at);
      else m[at] = [0x00, 0x80, 0x81, 0x82, 0xff, 0x30, 0x31, 0x17, 0x18, 0x2c, 0x20][rand(11)]!;
      tried++;
      const d = derCertFacts(der);
      if (!d) continue;
      answered++;
      const what = `byte ${at} → ${der[at]} of ${Buffer.from(s.der).toString("base64")}`;
      let x: X509Certificate;
      try {
        x = new X509Certificate(Buffer.from(der));
      } catch (e) {
        assert.fail(`answered DER node:crypto rejects (${(e as Error).message}), ${what}`);
      }
      const node = viaNode(x.toString(), s.key);
      if (node.kind !== "present") assert.fail(`node:crypto: ${node.kind}, ${what}`);
      const { publicKey: _, ...mine } = d;
      const theirs = { notBefore: node.notBefore, notAfter: node.notAfter, names: node.names, keyType: node.keyType, serialHex: node.serialHex, issuer: x.issuer, fingerprint256: node.fingerprint256 };
      assert.deepEqual(mine, theirs, what);
    }
  }
  // The mutations reach both sides: some are still read (a changed signature or name), most declined.
  assert.ok(answered > tried / 20 && answered < tried / 2, `${answered} of ${tried} answered`);
});
