import { test } from "node:test";
import assert from "node:assert/strict";
import { AcmeFailure, classifyProblem, classifyTransport, parseRetryAfter, type FailureClass as FailureClassT } from "../../src/acme/errors.js";
import { backoffDelay } from "../../src/decide/backoff.js";
import { apply } from "../../src/state/transitions.js";
import { refusesReplaces } from "../../src/renew/obtain.js";
import { gate } from "../../src/decide/gate.js";
import { emptyState } from "../../src/state/model.js";
import type { Decision } from "../../src/decide/decide.js";

const P = (t: string) => ({ type: `urn:ietf:params:acme:error:${t}` });

test("ACME problem types and statuses map to classes", () => {
  assert.equal(classifyProblem(400, P("badNonce")), "badNonce");
  assert.equal(classifyProblem(429, P("rateLimited")), "rateLimited");
  assert.equal(classifyProblem(429, undefined), "rateLimited");
  assert.equal(classifyProblem(403, P("unauthorized")), "unauthorized");
  assert.equal(classifyProblem(400, P("rejectedIdentifier")), "rejectedIdentifier");
  assert.equal(classifyProblem(403, P("caa")), "caa");
  assert.equal(classifyProblem(400, P("malformed")), "malformed");
  assert.equal(classifyProblem(400, P("incorrectResponse")), "challenge");
  assert.equal(classifyProblem(500, P("serverInternal")), "server");
  assert.equal(classifyProblem(503, undefined), "server");
  assert.equal(classifyProblem(404, { type: "about:blank" }), "acme");
});

test("transport errors: refused/reset/DNS → network, untrusted CA certificate → tls (not retried), timeouts → timeout", () => {
  const e = (code: string, message = code) => Object.assign(new Error(message), { code });
  assert.equal(classifyTransport(e("ECONNREFUSED")).cls, "network");
  assert.equal(classifyTransport(e("ECONNRESET")).cls, "network");
  assert.equal(classifyTransport(e("ENOTFOUND")).cls, "network");
  assert.equal(classifyTransport(e("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate")).cls, "tls");
  assert.equal(classifyTransport(e("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "x")).transient, false);
  assert.equal(classifyTransport(e("CERT_NOT_YET_VALID", "certificate is not yet valid")).cls, "tls");
  assert.equal(classifyTransport(e("EPROTO", "wrong version number")).cls, "network");
  assert.equal(classifyTransport(e("ECONNABORTED", "timeout of 30000ms exceeded")).cls, "timeout");
  assert.equal(classifyTransport(e("ERR_CANCELED", "canceled")).cls, "timeout");
});

test("Retry-After: seconds and HTTP dates", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("120", now)?.toISOString(), "2026-01-01T00:02:00.000Z");
  assert.equal(parseRetryAfter("Thu, 01 Jan 2026 01:00:00 GMT", now)?.toISOString(), "2026-01-01T01:00:00.000Z");
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

test("backoff: 1 min, 10 min, 100 min, then 6–24 h; never before a Retry-After", () => {
  assert.deepEqual([1, 2, 3].map((n) => backoffDelay(n, 0.5)), [60_000, 600_000, 6_000_000]);
  assert.equal(backoffDelay(4, 0), 6 * 3_600_000);
  assert.ok(backoffDelay(9, 0.999999) < 24 * 3_600_000);
  const now = new Date(0);
  const s = apply(emptyState(), { type: "failed", at: now, class: "server", message: "503", retryAfter: new Date(3_600_000), costsCa: true, usable: true, random: 0 });
  assert.equal(s.nextAttemptAt?.getTime(), 3_600_000);
});

test("gate: backoff binds with or without a usable certificate; Retry-After binds always; --force overrides", () => {
  const now = new Date(1_000_000);
  const later = new Date(2_000_000);
  const due = { status: "due", usable: true, renew: true } as Decision;
  const missing = { status: "missing", usable: false, renew: true } as Decision;
  const backoff = { ...emptyState(), nextAttemptAt: later, consecutiveFailures: 2 };
  assert.deepEqual(gate(due, backoff, now, false), { action: "wait", until: later, why: "backoff" });
  assert.deepEqual(gate(missing, backoff, now, false), { action: "wait", until: later, why: "backoff" });
  const limited = { ...emptyState(), retryAfter: later };
  assert.deepEqual(gate(missing, limited, now, false), { action: "wait", until: later, why: "retry-after" });
  assert.deepEqual(gate(due, backoff, now, true), { action: "renew", forced: true });
  assert.deepEqual(gate({ ...due, renew: false, status: "valid" } as Decision, emptyState(), now, false), { action: "skip" });
  assert.deepEqual(gate(due, backoff, new Date(2_000_000), false), { action: "renew", forced: false });
});

test("gate: times stored by a wrong clock (last attempt in the future, backoff beyond 24 h) do not hold a due renewal", () => {
  const now = new Date(Date.UTC(2027, 0, 1));
  const due = { status: "due", usable: true, renew: true } as Decision;
  const y2100 = new Date(Date.UTC(2100, 0, 1));
  assert.deepEqual(gate(due, { ...emptyState(), lastAttempt: y2100, nextAttemptAt: new Date(y2100.getTime() + 60_000), consecutiveFailures: 1 }, now, false), { action: "renew", forced: false });
  assert.deepEqual(gate(due, { ...emptyState(), nextAttemptAt: new Date(now.getTime() + 30 * 3_600_000) }, now, false), { action: "renew", forced: false });
  assert.deepEqual(gate(due, { ...emptyState(), retryAfter: new Date(now.getTime() + 30 * 86_400_000) }, now, false), { action: "renew", forced: false });
  const ok = new Date(now.getTime() + 23 * 3_600_000);
  assert.deepEqual(gate(due, { ...emptyState(), nextAttemptAt: ok, lastAttempt: new Date(now.getTime() - 1000) }, now, false), { action: "wait", until: ok, why: "backoff" });
});

test("refusesReplaces: answers about the replaced certificate, whatever their status; not transport errors, nonces or rate limits", () => {
  const f = (cls: FailureClassT, status: number | undefined, detail: string, type = "") =>
    new AcmeFailure(cls, `newOrder: ${detail}`, { ...(status !== undefined ? { status } : {}), problem: { type: `urn:ietf:params:acme:error:${type}`, detail } });
  assert.equal(refusesReplaces(f("acme", 409, "conflict", "alreadyReplaced")), true);
  assert.equal(refusesReplaces(f("unauthorized", 403, "requester account did not request the certificate being replaced", "unauthorized")), true);
  assert.equal(refusesReplaces(f("server", 500, "could not find order resulting in the given certificate serial number", "serverInternal")), true);
  assert.equal(refusesReplaces(f("server", 503, "try again later", "serverInternal")), false);
  assert.equal(refusesReplaces(f("badNonce", 400, "bad nonce for replaced cert", "badNonce")), false);
  assert.equal(refusesReplaces(f("rateLimited", 429, "too many replacements", "rateLimited")), false);
  assert.equal(refusesReplaces(new AcmeFailure("network", "ECONNRESET replaces")), false);
  const final = f("server", 500, "x");
  final.extra.final = true;
  assert.equal(final.transient, false, "a final failure is not retried");
});

test("retryDelay: a Retry-After longer than a run waits ends the run's retries whatever the class; a short one is waited for", async () => {
  const { retryDelay, DEFAULT_RETRY } = await import("../../src/acme/retry.js");
  const c = { policy: DEFAULT_RETRY, deadlineAt: 10 * 3_600_000, networkDown: false };
  const f = (cls: FailureClassT, seconds: number) => new AcmeFailure(cls, "x", { status: 503, retryAfter: new Date(seconds * 1000) });
  assert.equal(retryDelay(f("server", 3600), 0, c, 0, 0.5), null, "503 + Retry-After 3600: not retried in 2 minutes");
  assert.equal(retryDelay(f("rateLimited", 3600), 0, c, 0, 0.5), null);
  assert.equal(retryDelay(f("server", 60), 0, c, 0, 0.5), 60_000);
  assert.ok((retryDelay(new AcmeFailure("server", "x", { status: 500 }), 0, c, 0, 0.5) ?? -1) >= 0, "no Retry-After: the usual backoff");
});
