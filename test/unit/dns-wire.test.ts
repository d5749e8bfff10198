/** DNS messages on the wire (RFC 1035 §4): names, compression, records, updates; dnsResolver syntax. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDnsResolvers } from "../../src/config/names.js";
import { CLASS, OPCODE, TYPE, WireError, decodeMessage, encodeMessage, encodeName, encodeQuery, fqdn, txtData } from "../../src/dns/wire.js";
import { relativeName } from "../../src/dns/provider.js";

test("names: encoding, limits", () => {
  assert.equal(encodeName("example.com.").toString("hex"), "076578616d706c6503636f6d00");
  assert.deepEqual(encodeName("example.com"), encodeName("example.com."));
  assert.equal(encodeName(".").toString("hex"), "00");
  assert.throws(() => encodeName(`${"a".repeat(64)}.com`), WireError);
  assert.throws(() => encodeName("a..com"), WireError);
  assert.throws(() => encodeName(Array.from({ length: 130 }, () => "a").join(".")), /longer than 255/);
  assert.equal(fqdn("Example.COM"), "example.com.");
});

test("a query, and an answer with compression pointers decoded", () => {
  const q = encodeQuery(0x1234, "_acme-challenge.example.com.", TYPE.TXT, false);
  const m = decodeMessage(q);
  assert.equal(m.id, 0x1234);
  assert.equal(m.rd, false);
  assert.deepEqual(m.questions, [{ name: "_acme-challenge.example.com.", type: TYPE.TXT, class: CLASS.IN }]);
  assert.equal(m.additional[0]!.type, TYPE.OPT, "EDNS0");
  // answer: example.com. SOA (names compressed against the question), CNAME, TXT of two strings, A, AAAA
  const h = (x: string) => Buffer.from(x.replace(/ /g, ""), "hex");
  const answer = Buffer.concat([
    h("1234 8180 0001 0005 0000 0000"),
    encodeName("example.com."), h("0006 0001"), // the question, at offset 12 (0xc00c)
    h("c00c 0006 0001 0000003c 001e  03 6e7331 c00c  01 68 c00c  00000001 00000002 00000003 00000004 00000005"),
    h("c00c 0005 0001 0000003c 0006  03 777777 c00c"),
    h("c00c 0010 0001 0000003c 0006  02 6162 02 6364"),
    h("c00c 0001 0001 0000003c 0004  c0000201"),
    h("c00c 001c 0001 0000003c 0010  20010db8 00000000 00000000 00000001"),
  ]);
  const a = decodeMessage(answer);
  assert.equal(a.qr, true);
  assert.equal(a.answers.length, 5);
  assert.deepEqual(a.answers[0]!.soa, { mname: "ns1.example.com.", rname: "h.example.com.", serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 });
  assert.equal(a.answers[1]!.target, "www.example.com.");
  assert.deepEqual(a.answers[2]!.txt, ["ab", "cd"]);
  assert.equal(a.answers[3]!.address, "192.0.2.1");
  assert.equal(a.answers[4]!.address, "2001:db8:0:0:0:0:0:1");
});

test("malformed answers are errors, not crashes: truncation, pointer loops, a TSIG not last", () => {
  assert.throws(() => decodeMessage(Buffer.from("1234", "hex")), WireError);
  const loop = Buffer.concat([Buffer.from("123481800001000000000000", "hex"), Buffer.from("c00c00100001", "hex")]);
  assert.throws(() => decodeMessage(loop), /compression loop/);
  const q = encodeQuery(1, "a.example.", TYPE.A, true);
  assert.throws(() => decodeMessage(q.subarray(0, q.length - 3)), WireError);
  const tsigFirst = encodeMessage({ id: 1, opcode: 0, rd: false, questions: [], additional: [{ name: "k.", type: TYPE.TSIG, class: CLASS.ANY, ttl: 0, data: Buffer.alloc(0) }, { name: ".", type: TYPE.OPT, class: 1232, ttl: 0, data: Buffer.alloc(0) }] });
  assert.throws(() => decodeMessage(tsigFirst), /TSIG record is not the last/);
});

test("an RFC 2136 update: zone section, add and delete-one-RR records", () => {
  const msg = encodeMessage({
    id: 7,
    opcode: OPCODE.UPDATE,
    rd: false,
    questions: [{ name: "example.com.", type: TYPE.SOA, class: CLASS.IN }],
    authority: [
      { name: "_acme-challenge.example.com.", type: TYPE.TXT, class: CLASS.IN, ttl: 120, data: txtData("v1") },
      { name: "_acme-challenge.example.com.", type: TYPE.TXT, class: CLASS.NONE, ttl: 0, data: txtData("v0") },
    ],
  });
  const m = decodeMessage(msg);
  assert.equal(m.opcode, OPCODE.UPDATE);
  assert.equal(m.authority.length, 2);
  assert.deepEqual(m.authority.map((r) => [r.class, r.ttl, r.txt]), [[CLASS.IN, 120, ["v1"]], [CLASS.NONE, 0, ["v0"]]]);
  const long = "x".repeat(300);
  assert.deepEqual(decodeMessage(encodeMessage({ id: 1, opcode: 0, rd: false, questions: [], answers: [{ name: "a.", type: TYPE.TXT, class: CLASS.IN, ttl: 1, data: txtData(long) }] })).answers[0]!.txt, ["x".repeat(255), "x".repeat(45)], "long values are split in 255-octet strings");
});

test("dnsResolver: IP[:port], [IPv6]:port, bare IPv6, lists; host names refused", () => {
  assert.deepEqual(parseDnsResolvers("1.1.1.1"), [{ host: "1.1.1.1", port: 53 }]);
  assert.deepEqual(parseDnsResolvers("1.1.1.1:5353, [2606:4700::1111]:53,2606:4700::1001"), [
    { host: "1.1.1.1", port: 5353 },
    { host: "2606:4700::1111", port: 53 },
    { host: "2606:4700::1001", port: 53 },
  ]);
  assert.match(String(parseDnsResolvers("one.one.one.one")), /not an IP address/);
  assert.match(String(parseDnsResolvers("1.1.1.1:0")), /port out of range/);
  assert.match(String(parseDnsResolvers("300.1.1.1")), /not an IP address/);
});

test("zone-relative names", () => {
  assert.equal(relativeName("_acme-challenge.www.example.com.", "example.com."), "_acme-challenge.www");
  assert.equal(relativeName("example.com.", "Example.com"), "@");
  assert.throws(() => relativeName("a.example.org.", "example.com."), /not in zone/);
});
