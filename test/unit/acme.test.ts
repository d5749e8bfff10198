/** Pieces of the ACME engine that need no CA: nonces, per-answer classification, chain links, trust sources. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { NoncePool } from "../../src/acme/nonces.js";
import { AcmeFailure, answerFailure, classifyProblem, isProblem } from "../../src/acme/errors.js";
import { alternateLinks, pickChain } from "../../src/acme/chain.js";
import { SYSTEM_BUNDLES, systemRoots } from "../../src/acme/trust.js";
import { noAnswer } from "../../src/acme/session.js";

test("nonce pool: each nonce handed out once, newest first, bounded; junk ignored", () => {
  const p = new NoncePool();
  assert.equal(p.take(), undefined);
  p.put("a");
  p.put("b");
  p.put(undefined);
  p.put("");
  p.put(["c"]);
  assert.equal(p.size, 2);
  assert.equal(p.take(), "b");
  assert.equal(p.take(), "a");
  assert.equal(p.take(), undefined);
  for (let i = 0; i < 100; i++) p.put(`n${i}`);
  assert.equal(p.size, 16);
  assert.equal(p.take(), "n99");
});

test("an error answer is classified from itself: problem, status, Retry-After, the call's name", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const f = answerFailure("challenge a.example", "https://ca/chal/1", { status: 429, headers: { "retry-after": "120" }, data: { type: "urn:ietf:params:acme:error:rateLimited", detail: "slow down" } }, now);
  assert.equal(f.cls, "rateLimited");
  assert.equal(f.message, "challenge a.example: slow down (HTTP 429)");
  assert.equal(f.extra.retryAfter?.toISOString(), "2026-01-01T00:02:00.000Z");
  assert.equal(f.extra.status, 429);
  const bare = answerFailure("newOrder", "https://ca/new", { status: 502, headers: {}, data: "<html>bad gateway</html>" }, now);
  assert.equal(bare.cls, "server");
  assert.equal(bare.extra.problem, undefined);
  assert.match(bare.message, /newOrder: the CA answered HTTP 502/);
});

test("orderNotReady (what a repeated finalize gets) is not 'unauthorized'", () => {
  const p = { type: "urn:ietf:params:acme:error:orderNotReady", detail: 'Order\'s status ("valid") was not ready' };
  assert.equal(classifyProblem(403, p), "acme");
  const f = answerFailure("finalize", "u", { status: 403, headers: {}, data: p });
  assert.ok(isProblem(f, "orderNotReady"));
  assert.ok(!isProblem(f, "unauthorized"));
});

test("no answer (refused, reset, timeout) is told apart from an answer", () => {
  assert.ok(noAnswer(new AcmeFailure("network", "ECONNRESET")));
  assert.ok(noAnswer(new AcmeFailure("timeout", "timed out")));
  assert.ok(!noAnswer(new AcmeFailure("server", "500", { status: 500 })));
  assert.ok(!noAnswer(new AcmeFailure("tls", "untrusted")));
});

test("alternate chain links: rel=alternate only, several headers joined by commas", () => {
  const link = '<https://ca/dir>;rel="index", <https://ca/cert/1/1>;rel="alternate", <https://ca/cert/1/2>; rel=alternate';
  assert.deepEqual(alternateLinks(link), ["https://ca/cert/1/1", "https://ca/cert/1/2"]);
  assert.deepEqual(alternateLinks(undefined), []);
  assert.deepEqual(alternateLinks('<https://ca/dir>;rel="index"'), []);
  assert.equal(pickChain(["default", "other"], "Nobody"), "default", "no match: the default chain");
});

test("trust sources: SSL_CERT_FILE replaces the distribution bundle; NODE_EXTRA_CA_CERTS is added; unreadable files are named", () => {
  const dir = mkdtempSync(join(tmpdir(), "acme-renew-trust-"));
  const a = join(dir, "a.pem");
  const b = join(dir, "b.pem");
  writeFileSync(a, "AAA");
  writeFileSync(b, "BBB");
  const one = systemRoots({ SSL_CERT_FILE: a });
  assert.equal(one.pem, "AAA");
  assert.deepEqual(one.sources, { system: a, extra: null });
  const two = systemRoots({ SSL_CERT_FILE: a, NODE_EXTRA_CA_CERTS: b });
  assert.equal(two.pem, "AAA\nBBB");
  const sys = systemRoots({});
  assert.ok(SYSTEM_BUNDLES.includes(sys.sources.system) || (sys.sources.system === "node" && sys.pem === rootCertificates.join("\n")));
  assert.throws(() => systemRoots({ SSL_CERT_FILE: join(dir, "missing.pem") }), (e: unknown) => e instanceof AcmeFailure && e.cls === "tls" && /SSL_CERT_FILE=.*missing\.pem: cannot read \(ENOENT\)/.test(e.message));
  assert.throws(() => systemRoots({ SSL_CERT_FILE: a, NODE_EXTRA_CA_CERTS: join(dir, "nope") }), /NODE_EXTRA_CA_CERTS=/);
});
