import { test } from "node:test";
import assert from "node:assert/strict";
import { certIdFromParts, certIdOf } from "../../src/ari/cert-id.js";
import { refreshAt, refreshAfterError, selectTime } from "../../src/ari/window.js";
import { createCertificate, x509 } from "../../src/crypto/certs.js";
import { generateKeyPair } from "../../src/crypto/keys.js";
import { testCa } from "../helpers/pki.js";

test("certID: RFC 9773 Appendix A example", () => {
  const aki = Buffer.from("69885B6B87464041E1B37B847BA0AE2CDE01C8D4", "hex");
  const serial = Buffer.from("0087654321", "hex");
  assert.equal(certIdFromParts(aki, serial), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
});

test("certID from a real certificate keeps the serial's leading 0x00 and uses the AKI keyIdentifier", async () => {
  const ca = await testCa();
  const key = await generateKeyPair("ec256");
  // High bit set: DER needs a leading 0x00 that @peculiar/x509's serialNumber (and node's) drop.
  const cert = await createCertificate({ names: ["a.example.com"], key, issuer: ca, serialHex: "87654321", notBefore: new Date(), notAfter: new Date(Date.now() + 86_400_000) });
  const der = new Uint8Array(cert.rawData);
  const id = certIdOf(der)!;
  const [akiPart, serialPart] = id.split(".");
  assert.equal(Buffer.from(serialPart!, "base64url").toString("hex"), "0087654321");
  assert.equal(cert.serialNumber.toLowerCase(), "87654321", "the library drops the 0x00");
  const caSki = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  assert.ok(caSki);
  assert.equal(Buffer.from(akiPart!, "base64url").toString("hex"), caSki.keyId.toLowerCase());
  assert.doesNotMatch(id, /=/, "no padding");
});

test("certID: self-signed without AKI → null", async () => {
  const key = await generateKeyPair("ec256");
  const cert = await createCertificate({ names: ["a.example.com"], key, notBefore: new Date(), notAfter: new Date(Date.now() + 1000) });
  assert.equal(certIdOf(new Uint8Array(cert.rawData)), null);
});

test("refresh time: Retry-After clamped to [1 min, 1 day]; 6 h without; 6 h after an error", () => {
  const now = new Date(0);
  assert.equal(refreshAt(new Date(5_000), now).getTime(), 60_000);
  assert.equal(refreshAt(new Date(3 * 86_400_000), now).getTime(), 86_400_000);
  assert.equal(refreshAt(new Date(21_600_000), now).getTime(), 21_600_000);
  assert.equal(refreshAt(undefined, now).getTime(), 21_600_000);
  assert.equal(refreshAfterError(now).getTime(), 21_600_000);
});

test("selected time: uniform in the window, kept while the window is unchanged, re-drawn when it changes", () => {
  const s = new Date(1000);
  const e = new Date(2000);
  assert.equal(selectTime(null, "id", s, e, 0).getTime(), 1000);
  assert.equal(selectTime(null, "id", s, e, 0.5).getTime(), 1500);
  const prev = { certId: "id", windowStart: s, windowEnd: e, selectedTime: new Date(1234), explanationURL: null, fetchedAt: null, nextRefreshAt: new Date(0), unsupported: false, lastError: null };
  assert.equal(selectTime(prev, "id", s, e, 0.9).getTime(), 1234, "same window: kept");
  assert.equal(selectTime(prev, "id", s, new Date(3000), 0.5).getTime(), 2000, "changed: re-drawn");
  assert.equal(selectTime(prev, "other", s, e, 0).getTime(), 1000, "another certificate: re-drawn");
});
