/**
 * The pre-check's own DER reading (src/inspect/cert-der.ts, key-der.ts, pem-strict.ts) against
 * node:crypto's answer, which it replaces for plain files (issue 14, item 3): equal facts wherever it
 * answers, declined wherever it cannot read exactly what node:crypto prints — including the inputs a
 * review found read too loosely, and certificates, keys and PEM text mutated at random.
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
import { factsOf, precheckFacts, quickFacts } from "../../src/inspect/read.js";
import { generateKeyPair } from "../../src/crypto/keys.js";
import { makeLeaf } from "../helpers/pki.js";
import { bmp, derOfPem, extension, isSan, kids, name, parse, pemOf, raw, rebuild, SAN_OID, T } from "../helpers/der-build.js";
import type { KeyType } from "../../src/config/types.js";
import type { Inspection } from "../../src/inspect/facts.js";

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

const fixtures = join(import.meta.dirname, "../../../test/fixtures/der-fuzz");
/** Committed seeds (test-only keys): P-256 and RSA-2048 leaves of one CA, SANs with an IP, AKI, critical extensions, a GeneralizedTime. */
const seeds = ["ec", "rsa"].map((k) => {
  const cert = readFileSync(join(fixtures, `${k}.pem`), "utf8");
  const key = readFileSync(join(fixtures, `${k}.key`), "utf8");
  return { k, cert, key, der: new Uint8Array(new X509Certificate(cert).raw), keyDer: derOfPem(key) };
});
const EC = seeds[0]!;
const RSA = seeds[1]!;
/** The other PEM forms of a seed's key, by openssl. */
const keyForm = (key: string, args: string[]) => execFileSync("openssl", args, { input: key, encoding: "utf8", stdio: ["pipe", "pipe", "ignore"] });
const sec1 = keyForm(EC.key, ["ec"]);
const pkcs1 = keyForm(RSA.key, ["rsa", "-traditional"]);
/** Whether the quick path answered itself (true) or left it to node:crypto. */
const quick = (cert: string, key: string) => quickFacts({ cert, key, chain: null }) !== null;
/**
 * Compared as JSON (an invalid Date, node:crypto's for a time it cannot read, would break the
 * reporter); of "unreadable" only the file: OpenSSL's reason text can be a leftover of an earlier call.
 */
const comparable = (i: Inspection) => JSON.stringify(i.kind === "unreadable" ? { kind: i.kind, file: i.what.split(":")[0] } : i);
const same = (what: string, cert: string, key: string) =>
  assert.equal(comparable(precheckFacts({ cert, key, chain: null }, labels)), comparable(viaNode(cert, key)), what);

test("the seeds in each key form are answered by the quick path, with node:crypto's facts", () => {
  for (const [cert, key] of [[EC.cert, EC.key], [EC.cert, sec1], [RSA.cert, RSA.key], [RSA.cert, pkcs1]] as const) {
    assert.ok(quick(cert, key));
    same("seed", cert, key);
  }
});

test("PEM text OpenSSL's reader refuses or reads otherwise is left to node:crypto", () => {
  const lines = Buffer.from(EC.der).toString("base64").match(/.{1,64}/g)!;
  const cert = (body: string) => `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
  const keyLines = EC.keyDer.toString("base64").match(/.{1,64}/g)!;
  const key = (body: string) => `-----BEGIN PRIVATE KEY-----\n${body}-----END PRIVATE KEY-----\n`;
  const certTexts = {
    "END on the last data line": cert(lines.join("\n")),
    "a blank line": cert(`${lines.slice(0, 2).join("\n")}\n\n${lines.slice(2).join("\n")}\n`),
    "a stray line": cert(`${lines.join("\n")}\nA\n`),
    "a stray padding line": cert(`${lines.join("\n")}\n=\n`),
    "one long line": cert(`${lines.join("")}\n`),
    CRLF: cert(`${lines.join("\r\n")}\r\n`).replace(/-----\n/g, "-----\r\n"),
    "a short line first": cert(`${lines.join("").slice(0, 60)}\n${lines.join("").slice(60).match(/.{1,64}/g)!.join("\n")}\n`),
    "more base64 after the padding": cert(`${lines.join("\n")}\nAA==\nAAAA\n`),
    "text before BEGIN": `junk${EC.cert}`,
    "BEGIN after a line of text": `junk\n${EC.cert}`,
    "no newline after END": EC.cert.slice(0, -1),
    "a header line": cert(`Proc-Type: 4,ENCRYPTED\n${lines.join("\n")}\n`),
    "text right after END": `${EC.cert}junk\n`,
  };
  for (const [what, text] of Object.entries(certTexts)) {
    assert.equal(quick(text, EC.key), false, what);
    same(`cert: ${what}`, text, EC.key);
  }
  const keyTexts = {
    "END on the last data line": key(keyLines.join("\n")),
    "a blank line": key(`${keyLines[0]}\n\n${keyLines.slice(1).join("\n")}\n`),
    "a stray line": key(`${keyLines.join("\n")}\nA\n`),
    "text before BEGIN": `junk${EC.key}`,
    "the certificate after the key": EC.key + EC.cert,
    "parameters before the key": keyForm(EC.key, ["ec", "-param_out"]),
    "encrypted": keyForm(EC.key, ["pkcs8", "-topk8", "-passout", "pass:x"]),
  };
  for (const [what, text] of Object.entries(keyTexts)) {
    assert.equal(keyHoldsPublicKey(text, derCertFacts(EC.der)!.publicKey), null, what);
    same(`key: ${what}`, EC.cert, text);
  }
});

test("certificates beyond the narrow form are left to node:crypto: parameters, string types, empty names", () => {
  const ecdsa = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
  const PH = "acme-renew placeholder";
  const built: Record<string, Uint8Array> = {
    "placeholder with a BMPString subject": rebuild(EC.der, EC.key, { issuer: name(["O", 0x13, Buffer.from(PH)]), subject: name(["O", 0x1e, bmp(PH)]) }),
    "legacy placeholder, BMPString CN": rebuild(EC.der, EC.key, { issuer: name(["CN", 0x0c, Buffer.from(`${PH} for a.example.com`)]), subject: name(["CN", 0x1e, bmp(`${PH} for a.example.com`)]) }),
    "a T61String subject": rebuild(EC.der, EC.key, { subject: name(["CN", 0x14, Buffer.from("a.example.com")]) }),
    "an empty issuer": rebuild(EC.der, EC.key, { issuer: T(0x30) }),
    "an empty subject": rebuild(EC.der, EC.key, { subject: T(0x30) }),
    "a control character in the issuer": rebuild(EC.der, EC.key, { issuer: name(["CN", 0x13, Buffer.from("a\x01b")]) }),
    "signature parameters BIT STRING": rebuild(EC.der, EC.key, { outerSigAlg: T(0x30, T(6, ecdsa), T(3, [4, 0xff])) }),
    "signature parameters constructed": rebuild(EC.der, EC.key, { outerSigAlg: T(0x30, T(6, ecdsa), T(0x24, T(4, [0x41]), T(4, [0x42]))) }),
    "signature parameters BOOLEAN": rebuild(EC.der, EC.key, { outerSigAlg: T(0x30, T(6, ecdsa), T(0x01, [0x01])) }),
  };
  // A second review: OpenSSL's limits (a Name above 1 MiB), a subjectAltName node:crypto 24+ cannot print.
  built["an issuer above 1 MiB"] = rebuild(EC.der, EC.key, { issuer: name(["CN", 0x0c, Buffer.alloc(1048577, 0x61)]) });
  built["an empty subjectAltName"] = rebuild(EC.der, EC.key, { extensions: (exts) => exts.map((e) => (isSan(e) ? extension(SAN_OID, T(0x30)) : e)) });
  built["a subjectAltName that does not decode"] = rebuild(EC.der, EC.key, { extensions: (exts) => exts.map((e) => (isSan(e) ? extension(SAN_OID, T(0x30, [0x82, 0x05, 0x61])) : e)) });
  // NULL (05 00) after sha256WithRSAEncryption and rsaEncryption, replaced by other tags (02 00 is an empty INTEGER).
  const rsaDer = Buffer.from(RSA.der);
  for (let i = 2; i < rsaDer.length - 1; i++) {
    if (rsaDer[i] !== 0x05 || rsaDer[i + 1] !== 0x00 || rsaDer[i - 2] !== 0x01) continue;
    for (const tag of [0x02, 0x01, 0x06, 0x03, 0x17]) {
      const m = Buffer.from(rsaDer);
      m[i] = tag;
      built[`RSA parameters at ${i} as tag ${tag}`] = m;
    }
  }
  for (const [what, der] of Object.entries(built)) {
    const key = what.startsWith("RSA") ? RSA.key : EC.key;
    assert.equal(quick(pemOf(der), key), false, what);
    same(what, pemOf(der), key);
  }
});

test("a serial too large for OpenSSL's bignums (node:crypto: undefined) is unreadable, not a crash (factsOf threw)", () => {
  // 70,000,000 bytes: above OpenSSL's bignum limit (~64 MiB); the certificate itself still parses.
  const der = rebuild(EC.der, EC.key, { serial: T(0x02, Buffer.alloc(70_000_000, 0x11)) });
  const facts = factsOf({ cert: pemOf(der), key: EC.key, chain: null }, labels);
  assert.deepEqual(facts, { kind: "unreadable", what: "cert.pem: serial number: too large" });
  assert.equal(quickFacts({ cert: pemOf(der), key: EC.key, chain: null }), null, "above the quick path's 64 KiB");
});

test("keys beyond their templates are left to node:crypto: extra, repeated or reordered elements, bad scalars and points", () => {
  const p8 = EC.keyDer;
  const pk = kids(p8, parse(p8));
  const s1 = derOfPem(sec1);
  const sk = kids(s1, parse(s1)); // version, d, [0], [1]
  const r1 = derOfPem(pkcs1);
  const rk = kids(r1, parse(r1));
  const rp8 = RSA.keyDer;
  const rpk = kids(rp8, parse(rp8));
  const rsaOid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
  const s = (i: number) => raw(s1, sk[i]!);
  const ecKeys: Record<string, string> = {
    "PKCS#8 and a trailing INTEGER": pemOf(T(0x30, ...pk.map((t) => raw(p8, t)), T(2, [1])), "PRIVATE KEY"),
    "PKCS#8 v2 with a [1] public key": pemOf(T(0x30, T(2, [1]), ...pk.slice(1).map((t) => raw(p8, t)), T(0x81, [0, 1, 2])), "PRIVATE KEY"),
    "PKCS#8 version 7": pemOf(T(0x30, T(2, [7]), ...pk.slice(1).map((t) => raw(p8, t))), "PRIVATE KEY"),
    "SEC1 [1] before [0]": pemOf(T(0x30, s(0), s(1), s(3), s(2)), "EC PRIVATE KEY"),
    "SEC1 [1] twice": pemOf(T(0x30, s(0), s(1), s(2), s(3), s(3)), "EC PRIVATE KEY"),
    "SEC1 without [0]": pemOf(T(0x30, s(0), s(1), s(3)), "EC PRIVATE KEY"),
    "SEC1 d = 0": pemOf(T(0x30, s(0), T(4, Buffer.alloc(32)), s(2), s(3)), "EC PRIVATE KEY"),
    "SEC1 d = ff…ff (≥ n)": pemOf(T(0x30, s(0), T(4, Buffer.alloc(32, 0xff)), s(2), s(3)), "EC PRIVATE KEY"),
    "SEC1 d of 40 bytes": pemOf(T(0x30, s(0), T(4, Buffer.alloc(40, 1)), s(2), s(3)), "EC PRIVATE KEY"),
  };
  for (const [what, key] of Object.entries(ecKeys)) {
    assert.equal(quick(EC.cert, key), false, what);
    same(what, EC.cert, key);
  }
  const r = (i: number) => raw(r1, rk[i]!);
  const rsaKeys: Record<string, string> = {
    "PKCS#1 version 1 without otherPrimeInfos": pemOf(T(0x30, T(2, [1]), ...rk.slice(1).map((t) => raw(r1, t))), "RSA PRIVATE KEY"),
    "PKCS#1 version 5": pemOf(T(0x30, T(2, [5]), ...rk.slice(1).map((t) => raw(r1, t))), "RSA PRIVATE KEY"),
    "PKCS#1 and a trailing INTEGER": pemOf(T(0x30, ...rk.map((t) => raw(r1, t)), T(2, [1])), "RSA PRIVATE KEY"),
    "PKCS#1 d an empty INTEGER": pemOf(T(0x30, r(0), r(1), r(2), T(2, []), ...rk.slice(4).map((t) => raw(r1, t))), "RSA PRIVATE KEY"),
    "PKCS#1 d negative": pemOf(T(0x30, r(0), r(1), r(2), T(2, [0x80, 1]), ...rk.slice(4).map((t) => raw(r1, t))), "RSA PRIVATE KEY"),
    "PKCS#1 d padded": pemOf(T(0x30, r(0), r(1), r(2), T(2, [0, 1]), ...rk.slice(4).map((t) => raw(r1, t))), "RSA PRIVATE KEY"),
    "PKCS#8 RSA parameters an empty INTEGER": pemOf(T(0x30, raw(rp8, rpk[0]!), T(0x30, T(6, rsaOid), T(2, [])), raw(rp8, rpk[2]!)), "PRIVATE KEY"),
    "PKCS#1 d above n (2^2048)": pemOf(T(0x30, r(0), r(1), r(2), T(2, [1, ...Buffer.alloc(256)]), ...rk.slice(4).map((t) => raw(r1, t))), "RSA PRIVATE KEY"),
    "PKCS#1 qInv longer than half n": pemOf(T(0x30, ...rk.slice(0, 8).map((t) => raw(r1, t)), T(2, [1, ...Buffer.alloc(129)])), "RSA PRIVATE KEY"),
    "PKCS#8 RSA, d above n inside": pemOf(T(0x30, raw(rp8, rpk[0]!), raw(rp8, rpk[1]!), T(4, T(0x30, r(0), r(1), r(2), T(2, [1, ...Buffer.alloc(256)]), ...rk.slice(4).map((t) => raw(r1, t))))), "PRIVATE KEY"),
    "PKCS#8 RSA without parameters": pemOf(T(0x30, raw(rp8, rpk[0]!), T(0x30, T(6, rsaOid)), raw(rp8, rpk[2]!)), "PRIVATE KEY"),
    "PKCS#8 RSA, PKCS#1 inside with a trailing INTEGER": pemOf(T(0x30, raw(rp8, rpk[0]!), raw(rp8, rpk[1]!), T(4, T(0x30, ...rk.map((t) => raw(r1, t)), T(2, [1])))), "PRIVATE KEY"),
  };
  for (const [what, key] of Object.entries(rsaKeys)) {
    assert.equal(quick(RSA.cert, key), false, what);
    same(what, RSA.cert, key);
  }
  // The same point off the curve in the certificate and the key: OpenSSL refuses both.
  const point = raw(s1, kids(s1, sk[3]!)[0]!).subarray(3); // 04 ‖ x ‖ y
  const cert = Buffer.from(EC.der);
  const key = Buffer.from(s1);
  cert[cert.indexOf(point) + point.length - 1]! ^= 1;
  key[key.indexOf(point) + point.length - 1]! ^= 1;
  assert.equal(derCertFacts(cert), null, "off-curve point in the certificate");
  same("the same off-curve point in both", pemOf(cert), pemOf(key, "EC PRIVATE KEY"));
});

test("certificates, keys and PEM text mutated at random: the quick path's answer is always node:crypto's", () => {
  let state = 0x2545f491;
  const rand = (k: number) => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0), (state >>> 8) % k);
  const SPECIAL = [0x00, 0x80, 0x81, 0x82, 0xff, 0x30, 0x31, 0x17, 0x18, 0x2c, 0x20, 0x05, 0x02, 0x04, 0x1e, 0x0c];
  const mutateBytes = (b: Uint8Array): Uint8Array => {
    const m = Uint8Array.from(b);
    const at = rand(m.length);
    const kind = rand(4);
    if (kind === 0) m[at] = rand(256);
    else if (kind === 1) m[at] = m[at]! ^ (1 << rand(8));
    else if (kind === 2) return m.subarray(0, at);
    else m[at] = SPECIAL[rand(SPECIAL.length)]!;
    return m;
  };
  const INSERT = ["\n", "\r", " ", "=", "A", "-", "\n\n", "\t", "+", "/"];
  const mutateText = (t: string): string => {
    const at = rand(t.length);
    const kind = rand(3);
    if (kind === 0) return t.slice(0, at) + t.slice(at + 1);
    const c = INSERT[rand(INSERT.length)]!;
    return kind === 1 ? t.slice(0, at) + c + t.slice(at) : t.slice(0, at) + c + t.slice(at + 1);
  };
  const pairs = [
    { cert: EC, key: EC.key, label: "PRIVATE KEY" },
    { cert: EC, key: sec1, label: "EC PRIVATE KEY" },
    { cert: RSA, key: RSA.key, label: "PRIVATE KEY" },
    { cert: RSA, key: pkcs1, label: "RSA PRIVATE KEY" },
  ];
  let answered = 0;
  let tried = 0;
  for (const p of pairs) {
    const keyDer = derOfPem(p.key);
    for (let i = 0; i < 1500; i++) {
      const kind = i % 4;
      let cert = p.cert.cert;
      let key = p.key;
      if (kind === 0) cert = pemOf(mutateBytes(p.cert.der));
      else if (kind === 1) key = pemOf(mutateBytes(keyDer), p.label);
      else if (kind === 2) cert = mutateText(cert);
      else key = mutateText(key);
      tried++;
      if (quick(cert, key)) answered++;
      same(`${p.cert.k}/${p.label}, mutation ${i}: ${JSON.stringify(kind % 2 === 0 ? cert : key)}`, cert, key);
    }
  }
  // The mutations reach both sides: some still answered quickly (a changed signature or name), most declined.
  assert.ok(answered > tried / 20 && answered < tried / 2, `${answered} of ${tried} answered`);
});
