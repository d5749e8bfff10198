import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spkiKeyType } from "../../src/inspect/der.js";
import { keyTypeOf } from "../../src/inspect/read.js";
import { makeLeaf } from "../helpers/pki.js";
import type { KeyType } from "../../src/config/types.js";

test("key type from the certificate's DER equals node:crypto's answer for every supported key type", async () => {
  for (const keyType of ["ec256", "ec384", "rsa2048", "rsa3072", "rsa4096"] as KeyType[]) {
    const { cert } = await makeLeaf({ names: ["a.example.com"], keyType });
    const x = new X509Certificate(cert.toString("pem"));
    assert.equal(spkiKeyType(x.raw), keyType, keyType);
    assert.equal(keyTypeOf(x.publicKey), keyType);
  }
});

test("rsa8192 (a committed certificate: making an 8192-bit key takes a minute here)", () => {
  const x = new X509Certificate(readFileSync(join(import.meta.dirname, "../../../test/fixtures/rsa8192-cert.pem")));
  assert.equal(spkiKeyType(x.raw), "rsa8192");
  assert.equal(keyTypeOf(x.publicKey), "rsa8192");
});

test("key types outside the config's list: RSA of other sizes is named, other curves and algorithms defer to node:crypto", () => {
  const dir = mkdtempSync(join(tmpdir(), "acme-renew-der-"));
  const make = (name: string, args: string[]) => {
    const out = join(dir, `${name}.pem`);
    execFileSync("openssl", ["req", "-x509", "-nodes", "-subj", "/CN=x", "-days", "2", "-keyout", join(dir, `${name}.key`), "-out", out, ...args], { stdio: "ignore" });
    return new X509Certificate(readFileSync(out)).raw;
  };
  assert.equal(spkiKeyType(make("rsa1024", ["-newkey", "rsa:1024"])), "rsa(1024)");
  assert.equal(spkiKeyType(make("p521", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"])), null);
  assert.equal(spkiKeyType(make("ed25519", ["-newkey", "ed25519"])), null);
});
