/**
 * SigV4 against AWS's published examples: the signing-key derivation and the signed ListUsers
 * request of the AWS General Reference ("Examples of the complete Signature Version 4 signing
 * process", AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z), and the
 * get-vanilla case of the aws-sig-v4-test-suite.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { signingKey, signV4 } from "../../src/dns/aws-sigv4.js";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const now = new Date("2015-08-30T12:36:00Z");

test("signing key derivation (AWS example)", () => {
  assert.equal(signingKey(credentials.secretAccessKey, "20150830", "us-east-1", "iam").toString("hex"), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
});

test("the IAM ListUsers example", () => {
  const h = signV4({ method: "GET", url: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, body: "", service: "iam", region: "us-east-1", credentials, now });
  assert.equal(h.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
});

test("get-vanilla (aws-sig-v4-test-suite)", () => {
  const h = signV4({ method: "GET", url: "https://example.amazonaws.com/", headers: {}, body: "", service: "service", region: "us-east-1", credentials, now });
  assert.equal(h.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
});

test("a session token is signed along", () => {
  const h = signV4({ method: "POST", url: "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1/rrset", headers: { "content-type": "text/xml" }, body: "<x/>", service: "route53", region: "us-east-1", credentials: { ...credentials, sessionToken: "token-1" }, now });
  assert.equal(h["x-amz-security-token"], "token-1");
  assert.match(h.authorization!, /SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, /);
});
