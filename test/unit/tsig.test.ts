/**
 * TSIG (RFC 8945) with the HMAC-SHA algorithms of RFC 4635.
 *  - the HMAC each algorithm name stands for, against the HMAC test vectors of RFC 2202 (SHA-1) and
 *    RFC 4231 (SHA-224/256/384/512, test cases 1, 2 and 5 — the truncated one);
 *  - whole signed messages against vectors captured from an independent implementation: kdig (Knot
 *    DNS 3.2.6, libknot) signing `www.example.com TXT` with key "tsig-vector.example" (secret
 *    base64 "c2VjcmV0LWZvci10c2lnLXZlY3RvcnMtMDEyMzQ1Njc4OQ==") sent to a UDP socket — our sign() of
 *    the same message at the same time must give the same bytes;
 *  - verification of answers (RFC 8945 §4.3.1: request MAC, message, variables), tampering, truncated
 *    MACs (§5.2.2.1), time outside the fudge, error answers (BADKEY/BADSIG/BADTIME, unsigned).
 * Interop with real servers is in test/e2e/dns-rfc2136.test.ts (BIND 9, Knot).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeSecret, parseKeyFile, requestMac, sign, tsigAlgorithm, tsigHmac, verify, type TsigKey } from "../../src/dns/tsig.js";
import { CLASS, TYPE, decodeMessage, encodeName, encodeRR } from "../../src/dns/wire.js";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

test("each TSIG algorithm is the HMAC of RFC 2202 / RFC 4231 (test cases 1, 2, 5)", () => {
  const cases = [
    { key: Buffer.alloc(20, 0x0b), data: Buffer.from("Hi There"), out: {
      "hmac-sha1.": "b617318655057264e28bc0b6fb378c8ef146be00",
      "hmac-sha224.": "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22",
      "hmac-sha256.": "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      "hmac-sha384.": "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
      "hmac-sha512.": "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
    } },
    { key: Buffer.from("Jefe"), data: Buffer.from("what do ya want for nothing?"), out: {
      "hmac-sha1.": "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
      "hmac-sha224.": "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
      "hmac-sha256.": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      "hmac-sha384.": "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
      "hmac-sha512.": "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
    } },
    // RFC 4231 test case 5: output truncated to 128 bits (the case §5.2.2.1 truncation relies on)
    { key: Buffer.alloc(20, 0x0c), data: Buffer.from("Test With Truncation"), truncate: 16, out: {
      "hmac-sha224.": "0e2aea68a90c8d37c988bcdb9fca6fa8",
      "hmac-sha256.": "a3b6167473100ee06e0c796c2955552b",
      "hmac-sha384.": "3abf34c3503b2a23a46efc619baef897",
      "hmac-sha512.": "415fad6271580a531d4179bc891d87a6",
    } },
  ];
  for (const c of cases) {
    for (const [alg, want] of Object.entries(c.out)) {
      const mac = tsigHmac(alg, c.key, [c.data]);
      assert.equal(mac.subarray(0, c.truncate ?? mac.length).toString("hex"), want, `${alg} on ${JSON.stringify(c.data.toString())}`);
    }
  }
});

const SECRET = "c2VjcmV0LWZvci10c2lnLXZlY3RvcnMtMDEyMzQ1Njc4OQ==";
/** kdig's signed queries (see the header). */
const KDIG: Record<string, string> = {
  "hmac-sha1.": "39530120000100000000000103777777076578616d706c6503636f6d00001000010b747369672d766563746f72076578616d706c650000fa00ff00000000002f09686d61632d736861310000006b0e9085012c0014193860d642538f43cc4f1b11fac8c6a92865cdb3395300000000",
  "hmac-sha224.": "a8590120000100000000000103777777076578616d706c6503636f6d00001000010b747369672d766563746f72076578616d706c650000fa00ff0000000000390b686d61632d7368613232340000006b0e9086012c001ce0045eb1005a420a2e51f7c1f2ef364b70b329a269722dd2a0c313c6a85900000000",
  "hmac-sha256.": "51e10120000100000000000103777777076578616d706c6503636f6d00001000010b747369672d766563746f72076578616d706c650000fa00ff00000000003d0b686d61632d7368613235360000006b0e9087012c0020ab275b7d6694ec365b3c13c459a5b1311826c07d935851bf62f8aaaea88637d851e100000000",
  "hmac-sha384.": "2bb00120000100000000000103777777076578616d706c6503636f6d00001000010b747369672d766563746f72076578616d706c650000fa00ff00000000004d0b686d61632d7368613338340000006b0e9089012c0030c550ff3c84e4b1f3b9ab06d758e83a1decd6614a121e1f71e12e357f6d53b6b06e1ee6c4406092ea7d3ca203f068fba42bb000000000",
  "hmac-sha512.": "05730120000100000000000103777777076578616d706c6503636f6d00001000010b747369672d766563746f72076578616d706c650000fa00ff00000000005d0b686d61632d7368613531320000006b0e908a012c00408368cd52dfe04281a88704452fa2e3e51a2bf4891f857dbdd87b2b2998a847d23b1d6a8ed249026e80feb45ba67ea15bc0cfe0e3b6d823e6600bf3d9ab69eb03057300000000",
};

test("signed queries are byte-identical to kdig's (libknot), for every algorithm", () => {
  for (const [algorithm, vector] of Object.entries(KDIG)) {
    const packet = hex(vector);
    const m = decodeMessage(packet);
    assert.ok(m.tsigOffset > 0, "the vector carries a TSIG record");
    const unsigned = Buffer.from(packet.subarray(0, m.tsigOffset));
    unsigned.writeUInt16BE(m.additional.length - 1, 10);
    const tsig = m.additional.at(-1)!.data;
    const nameLen = encodeName(algorithm).length;
    const time = tsig.readUIntBE(nameLen, 6);
    const fudge = tsig.readUInt16BE(nameLen + 6);
    const key: TsigKey = { name: "tsig-vector.example.", algorithm, secret: Buffer.from(SECRET, "base64") };
    const { signed, mac } = sign(unsigned, key, time, fudge);
    assert.equal(signed.toString("hex"), vector, algorithm);
    assert.equal(mac.toString("hex"), requestMac(unsigned, key, time, fudge).toString("hex"));
  }
});

/** A server's signed answer (RFC 8945 §4.3.1), written out here independently of tsig.ts. */
function signedAnswer(key: TsigKey, reqMac: Buffer, time: number, o: { error?: number; macLen?: number; id?: number } = {}): Buffer {
  const base = Buffer.concat([
    Buffer.from([0xab, 0xcd, 0x85, 0x00, 0, 1, 0, 1, 0, 0, 0, 0]),
    encodeName("example.test."), Buffer.from([0, 6, 0, 1]),
    encodeRR({ name: "example.test.", type: TYPE.TXT, class: CLASS.IN, ttl: 60, data: Buffer.from([2, 0x68, 0x69]) }),
  ]);
  const vars = Buffer.concat([encodeName(key.name), Buffer.from([0, 255, 0, 0, 0, 0]), encodeName(key.algorithm), Buffer.from(time.toString(16).padStart(12, "0"), "hex"), Buffer.from([1, 44]), Buffer.from([0, o.error ?? 0, 0, 0])]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(reqMac.length);
  let mac = o.error ? Buffer.alloc(0) : tsigHmac(key.algorithm, key.secret, [len, reqMac, base, vars]);
  if (o.macLen !== undefined) mac = mac.subarray(0, o.macLen);
  const fixed = Buffer.concat([Buffer.from(time.toString(16).padStart(12, "0"), "hex"), Buffer.from([1, 44]), Buffer.from([mac.length >> 8, mac.length & 255])]);
  const rdata = Buffer.concat([encodeName(key.algorithm), fixed, mac, Buffer.from([(o.id ?? 0xabcd) >> 8, (o.id ?? 0xabcd) & 255, 0, o.error ?? 0, 0, 0])]);
  const out = Buffer.concat([base, encodeRR({ name: key.name, type: TYPE.TSIG, class: CLASS.ANY, ttl: 0, data: rdata })]);
  out.writeUInt16BE(1, 10);
  return out;
}

test("verify: a correctly signed answer, tampering, a wrong key, truncation, time, error answers", () => {
  const key: TsigKey = { name: "k.example.", algorithm: "hmac-sha256.", secret: Buffer.alloc(32, 7) };
  const reqMac = Buffer.alloc(32, 9);
  const now = 1_700_000_000;
  const ok = signedAnswer(key, reqMac, now);
  assert.deepEqual(verify(ok, decodeMessage(ok), key, reqMac, now), { ok: true });
  assert.deepEqual(verify(ok, decodeMessage(ok), key, reqMac, now + 299), { ok: true }, "inside the fudge");
  const late = verify(ok, decodeMessage(ok), key, reqMac, now + 301);
  assert.ok(!late.ok && /301s off.*check the clock/.test(late.why), JSON.stringify(late));
  const tampered = Buffer.from(ok);
  tampered[tampered.indexOf(Buffer.from("hi")) + 1] = 0x6f; // "hi" → "ho"
  const t = verify(tampered, decodeMessage(tampered), key, reqMac, now);
  assert.ok(!t.ok && /does not verify/.test(t.why));
  const otherReq = verify(ok, decodeMessage(ok), key, Buffer.alloc(32, 8), now);
  assert.ok(!otherReq.ok, "the request MAC is part of the answer's MAC");
  const wrong = verify(ok, decodeMessage(ok), { ...key, secret: Buffer.alloc(32, 6) }, reqMac, now);
  assert.ok(!wrong.ok && /does not verify/.test(wrong.why));
  const trunc = signedAnswer(key, reqMac, now, { macLen: 16 });
  assert.deepEqual(verify(trunc, decodeMessage(trunc), key, reqMac, now), { ok: true }, "half the length is allowed");
  const tooShort = signedAnswer(key, reqMac, now, { macLen: 12 });
  assert.ok(!verify(tooShort, decodeMessage(tooShort), key, reqMac, now).ok, "less than half is not");
  for (const [code, name] of [[16, "BADSIG"], [17, "BADKEY"], [18, "BADTIME"]] as const) {
    const e = signedAnswer(key, reqMac, now, { error: code });
    const v = verify(e, decodeMessage(e), key, reqMac, now);
    assert.ok(!v.ok && v.tsigError === name && v.why.includes(name), JSON.stringify(v));
  }
  const unsigned = ok.subarray(0, decodeMessage(ok).tsigOffset);
  const u = Buffer.from(unsigned);
  u.writeUInt16BE(0, 10);
  const uv = verify(u, decodeMessage(u), key, reqMac, now);
  assert.ok(!uv.ok && /not signed/.test(uv.why));
});

test("algorithm names, secrets and tsig-keygen key files", () => {
  assert.equal(tsigAlgorithm("HMAC-SHA256"), "hmac-sha256.");
  assert.equal(tsigAlgorithm("hmac-sha512."), "hmac-sha512.");
  assert.equal(tsigAlgorithm("hmac-md5.sig-alg.reg.int."), null, "lego v5 dropped HMAC-MD5");
  assert.deepEqual(decodeSecret("c2VjcmV0"), Buffer.from("secret"));
  assert.equal(decodeSecret("c2VjcmV0!"), null);
  assert.equal(decodeSecret("c2VjcmV"), null, "not a multiple of 4");
  assert.deepEqual(parseKeyFile('key "acme-key" {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0";\n};\n'), { name: "acme-key", algorithm: "hmac-sha256", secret: "c2VjcmV0" });
  assert.deepEqual(parseKeyFile("key acme { algorithm hmac-sha1; secret c2VjcmV0; };"), { name: "acme", algorithm: "hmac-sha1", secret: "c2VjcmV0" });
  assert.equal(parseKeyFile("nothing here"), 'no `key "name" { … };` clause');
  assert.equal(parseKeyFile('key "k" { algorithm hmac-sha1; };'), "no secret in the key clause");
});
