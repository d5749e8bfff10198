/** Sealing and the record codec: everything read back is validated; corrupt or foreign data is a clear error naming the key. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SealKey, parseKeyFile } from "../../src/cluster/seal.js";
import { decodeAccount, decodeCertRecord, decodeLock, decodeState, encodeAccount, encodeCertRecord, encodeLock, encodeState, type SharedState } from "../../src/cluster/records.js";
import { isClusterError } from "../../src/cluster/errors.js";
import { KeyLayout, accountId, checkPrefix } from "../../src/cluster/keys.js";
import { generateKeyPair } from "../../src/crypto/keys.js";
import { makeLeaf } from "../helpers/pki.js";

const KEY = new SealKey(randomBytes(32));
const WHERE = "/acme-renew/v1/certs/a.example.com/record";

async function material(names = ["a.example.com", "www.a.example.com"]) {
  const { key, cert, issuer } = await makeLeaf({ names });
  return { keyPem: key.pem, certPem: `${cert.toString("pem")}\n`, chainPem: `${issuer!.cert.toString("pem")}\n` };
}

async function record(generation = 1) {
  const m = await material();
  return encodeCertRecord({ name: "a.example.com", generation, ...m, publishedBy: "host-a", publishedAt: new Date("2026-01-02T03:04:05Z") }, KEY);
}

const corrupt = (e: unknown, what: RegExp) => isClusterError(e, "corrupt") && e.message.startsWith(`${WHERE}: `) && what.test(e.message);
const edit = (buf: Buffer, f: (o: any) => void) => {
  const o = JSON.parse(buf.toString());
  f(o);
  return Buffer.from(JSON.stringify(o));
};

test("key file: 64 hex, 44 base64 (newline allowed) and 32 raw bytes are accepted; anything else is not", () => {
  const k = randomBytes(32);
  assert.deepEqual(parseKeyFile(Buffer.from(`${k.toString("hex")}\n`)), k);
  assert.deepEqual(parseKeyFile(Buffer.from(k.toString("base64"))), k);
  assert.deepEqual(parseKeyFile(k), k);
  for (const bad of ["", "short", k.toString("hex").slice(2), `${k.toString("base64")}\n\n`, "x".repeat(64), randomBytes(31).toString("hex")]) assert.equal(parseKeyFile(Buffer.from(bad)), null, JSON.stringify(bad));
});

test("key file: a missing or malformed file is a config error naming the file, never its content", () => {
  const dir = mkdtempSync(join(tmpdir(), "acme-renew-key-"));
  assert.throws(() => SealKey.fromFile(join(dir, "none")), (e) => isClusterError(e, "config") && e.message === `encryptionKeyFile ${join(dir, "none")}: not found`);
  const bad = join(dir, "bad");
  writeFileSync(bad, "correct horse battery staple");
  assert.throws(() => SealKey.fromFile(bad), (e) => isClusterError(e, "config") && e.message.includes(bad) && !e.message.includes("horse"));
  const good = join(dir, "good");
  const k = randomBytes(32);
  writeFileSync(good, `${k.toString("base64")}\n`);
  assert.equal(SealKey.fromFile(good).kid, new SealKey(k).kid);
});

test("seal: round trip; the key id differs per key and does not reveal the key", () => {
  const s = KEY.seal(Buffer.from("secret"), "aad");
  assert.equal(KEY.open(s, "aad", "k").toString(), "secret");
  assert.notEqual(new SealKey(randomBytes(32)).kid, KEY.kid);
  assert.ok(!JSON.stringify(s).includes(Buffer.from("secret").toString("base64")));
  const again = KEY.seal(Buffer.from("secret"), "aad");
  assert.notEqual(again.iv, s.iv, "a fresh IV every time");
});

test("seal: other associated data, a flipped bit or another key fail with corrupt / wrong-key", () => {
  const s = KEY.seal(Buffer.from("secret"), "aad");
  assert.throws(() => KEY.open(s, "other", "k"), (e) => isClusterError(e, "corrupt"));
  const ct = Buffer.from(s.ct, "base64");
  ct[0]! ^= 1;
  assert.throws(() => KEY.open({ ...s, ct: ct.toString("base64") }, "aad", "k"), (e) => isClusterError(e, "corrupt"));
  const other = new SealKey(randomBytes(32));
  assert.throws(() => other.open(s, "aad", "k"), (e) => isClusterError(e, "wrong-key") && e.message.includes(s.kid) && e.message.includes(other.kid));
});

test("cert record: round trip; the key stays sealed in the stored bytes", async () => {
  const m = await material();
  const buf = encodeCertRecord({ name: "a.example.com", generation: 3, ...m, publishedBy: "host-a", publishedAt: new Date("2026-01-02T03:04:05Z") }, KEY);
  assert.ok(!buf.toString().includes("PRIVATE KEY"), "no private key in clear");
  const r = decodeCertRecord(buf, WHERE, "a.example.com", KEY);
  assert.equal(r.keyPem, m.keyPem);
  assert.equal(r.certPem, m.certPem);
  assert.equal(r.chainPem, m.chainPem);
  assert.equal(r.generation, 3);
  assert.deepEqual(r.names, ["a.example.com", "www.a.example.com"]);
  assert.equal(r.publishedBy, "host-a");
  assert.ok(r.notAfter > new Date());
});

test("cert record: a mismatched key and certificate are never encoded", async () => {
  const m = await material();
  const other = await generateKeyPair("ec256");
  assert.throws(() => encodeCertRecord({ name: "a.example.com", generation: 1, ...m, keyPem: other.pem, publishedBy: "h", publishedAt: new Date() }, KEY), /does not belong/);
});

test("cert record: every kind of damage is a corrupt error naming the key", async () => {
  const good = await record();
  const cases: Array<[string, Buffer, RegExp]> = [
    ["not JSON", Buffer.from("{not json"), /not JSON/],
    ["an array", Buffer.from("[]"), /not a JSON object/],
    ["another format", edit(good, (o) => (o.format = "acme-renew/state")), /format/],
    ["a newer version", edit(good, (o) => (o.v = 2)), /newer acme-renew/],
    ["an unknown field", edit(good, (o) => (o.extra = 1)), /unknown field "extra"/],
    ["another name", edit(good, (o) => (o.name = "b.example.com")), /for "b.example.com"/],
    ["a serial that is not the certificate's", edit(good, (o) => (o.serial = "01")), /serial/],
    ["a notAfter that is not the certificate's", edit(good, (o) => (o.notAfter = "2099-01-01T00:00:00.000Z")), /notAfter/],
    ["names that are not the certificate's", edit(good, (o) => (o.names = ["evil.example"])), /names/],
    ["a certificate that does not parse", edit(good, (o) => (o.certPem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")), /certPem/],
    ["two certificates in certPem", edit(good, (o) => (o.certPem = o.certPem + o.chainPem)), /not exactly one/],
    ["a private key in the chain", edit(good, (o) => (o.chainPem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")), /chainPem/],
    ["a missing sealed key", edit(good, (o) => delete o.key), /field "key"/],
    ["a tampered ciphertext", edit(good, (o) => (o.key.ct = Buffer.from("x".repeat(40)).toString("base64"))), /does not open/],
    ["a wrong generation (bound as associated data)", edit(good, (o) => (o.generation = 2)), /does not open/],
    ["a bad date", edit(good, (o) => (o.publishedAt = "yesterday")), /publishedAt/],
    ["a generation of 0", edit(good, (o) => (o.generation = 0)), /generation/],
  ];
  for (const [what, buf, re] of cases) assert.throws(() => decodeCertRecord(buf, WHERE, "a.example.com", KEY), (e) => corrupt(e, re), what);
});

test("cert record: a sealed key moved next to another certificate does not open (no mismatched pair from valid pieces)", async () => {
  const a = JSON.parse((await record()).toString());
  const b = JSON.parse((await record()).toString());
  const spliced = Buffer.from(JSON.stringify({ ...b, key: a.key }));
  assert.throws(() => decodeCertRecord(spliced, WHERE, "a.example.com", KEY), (e) => corrupt(e, /does not open/));
});

test("cert record: read with another encryption key is wrong-key, naming the key and both key ids", async () => {
  const other = new SealKey(randomBytes(32));
  const good = await record();
  assert.throws(() => decodeCertRecord(good, WHERE, "a.example.com", other), (e) => isClusterError(e, "wrong-key") && e.message.startsWith(WHERE) && e.message.includes(KEY.kid) && e.message.includes(other.kid));
});

test("state record: round trip and strict validation", () => {
  const s: SharedState = {
    name: "a.example.com",
    lastAttempt: new Date("2026-01-01T00:00:00Z"),
    lastOutcome: "soft-failure",
    lastError: { class: "server", message: "HTTP 503" },
    consecutiveFailures: 2,
    nextAttemptAt: new Date("2026-01-01T01:40:00Z"),
    retryAfter: null,
    ari: { certId: "abc.def", windowStart: new Date("2026-02-01T00:00:00Z"), windowEnd: new Date("2026-02-03T00:00:00Z"), selectedTime: new Date("2026-02-02T00:00:00Z"), explanationURL: null, nextRefreshAt: new Date("2026-01-02T00:00:00Z") },
    updatedBy: "host-b",
    updatedAt: new Date("2026-01-01T00:00:01Z"),
  };
  const where = "/acme-renew/v1/certs/a.example.com/state";
  const buf = encodeState(s);
  assert.deepEqual(decodeState(buf, where, "a.example.com"), s);
  for (const [what, f] of [
    ["negative failures", (o: any) => (o.consecutiveFailures = -1)],
    ["an unknown ari field", (o: any) => (o.ari.extra = 1)],
    ["a non-date", (o: any) => (o.nextAttemptAt = 12)],
    ["another name", (o: any) => (o.name = "b")],
  ] as const) assert.throws(() => decodeState(edit(buf, f), where, "a.example.com"), (e) => isClusterError(e, "corrupt") && e.message.startsWith(where), what);
});

test("account record: round trip; bound to (server, email); another account's record is refused", async () => {
  const k = await generateKeyPair("ec256");
  const a = { server: "https://ca.example/dir", email: "ops@example.com", url: "https://ca.example/acct/1", keyPem: k.pem };
  const where = new KeyLayout().account(accountId(a.server, a.email));
  const buf = encodeAccount(a, KEY);
  assert.ok(!buf.toString().includes("PRIVATE KEY"));
  assert.deepEqual(decodeAccount(buf, where, a.server, a.email, KEY), a);
  assert.throws(() => decodeAccount(buf, where, a.server, "other@example.com", KEY), (e) => isClusterError(e, "corrupt") && /not \(/.test(e.message));
  const relabeled = edit(buf, (o) => (o.email = "other@example.com"));
  assert.throws(() => decodeAccount(relabeled, where, a.server, "other@example.com", KEY), (e) => isClusterError(e, "corrupt") && /does not open/.test(e.message), "relabeling the record does not move the key");
});

test("lock record: round trip and validation", () => {
  const l = { host: "h", pid: 42, since: new Date("2026-01-01T00:00:00Z") };
  assert.deepEqual(decodeLock(encodeLock(l), "k"), l);
  assert.throws(() => decodeLock(Buffer.from('{"format":"acme-renew/lock","v":1,"host":"h","pid":-1,"since":"2026-01-01T00:00:00Z"}'), "k"), (e) => isClusterError(e, "corrupt"));
});

test("key layout: prefix and names are checked; keys live under <prefix>/v1", () => {
  const l = new KeyLayout("/acme-renew");
  assert.equal(l.record("a.example.com"), "/acme-renew/v1/certs/a.example.com/record");
  assert.equal(l.lock("a.example.com"), "/acme-renew/v1/certs/a.example.com/lock");
  assert.equal(new KeyLayout("/").state("x"), "/v1/certs/x/state");
  for (const p of ["acme", "/a/", "/a//b", "/a/../b", "/a b"]) assert.notEqual(checkPrefix(p), null, p);
  assert.throws(() => new KeyLayout("/x/"), (e) => isClusterError(e, "config"));
  assert.throws(() => l.record("../x"), (e) => isClusterError(e, "config"));
  assert.throws(() => l.http01("a/b"), (e) => isClusterError(e, "config"));
  assert.match(accountId("https://ca/dir", null), /^[0-9a-f]{32}$/);
});
