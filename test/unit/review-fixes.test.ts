/**
 * Three interactions of today's merges, found in review: a config-class failure (78) of a usable
 * certificate told systemd "no usable certificate"; an unknown DNS provider module was an internal
 * error instead of a config error; the cluster's shared backoff held a revoked certificate's
 * replacement back although the revocation ends the backoff locally.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { statusLine } from "../../src/cli/commands/run.js";
import { ConfigError } from "../../src/config/errors.js";
import type { CertConfig, DnsChallenge } from "../../src/config/types.js";
import { prepareProvider } from "../../src/dns/setup.js";
import { sharedBackoff } from "../../src/run/cluster-flow.js";
import type { Flow } from "../../src/run/renew-flow.js";

test("STATUS= of a usable certificate whose renewal is a config error (78): the certificate still serves", () => {
  const notAfter = new Date("2030-01-01T00:00:00Z");
  const line = statusLine([{ name: "a.example.com", outcome: "soft-failure", code: 78, message: "acceptTerms: not set", notAfter }]);
  assert.equal(line, "a.example.com: renewal failed (configuration), cert valid, valid until 2030-01-01T00:00:00.000Z");
  assert.doesNotMatch(line, /no usable certificate/);
  assert.match(statusLine([{ name: "b.example.com", outcome: "failure", code: 78, message: "x" }]), /no usable certificate/, "without a usable certificate it says so");
});

test("an unknown DNS provider module is a config error naming dnsProvider, not an internal error", async () => {
  const cert = { file: "/etc/acme-renew/a.example.com.json" } as CertConfig;
  const c = { type: "dns01", provider: "no-such-provider", code: "no-such-provider", hook: null, resolvers: [], propagationCheck: true, propagationTimeout: null, environmentFile: null, credentialFiles: {} } as DnsChallenge;
  await assert.rejects(prepareProvider(cert, c, {}, () => {}), (e: unknown) => e instanceof ConfigError && e.field === "dnsProvider" && /no-such-provider/.test(e.message));
});

test("cluster backoff: holds a due certificate; a revocation ends the backoff before it, not that of failed replacements; the CA's Retry-After binds all", () => {
  const now = new Date("2030-01-01T00:00:00Z");
  const later = new Date("2030-01-01T06:00:00Z");
  const revokedAt = new Date("2029-12-31T23:00:00Z");
  const flow = (dueReasons: string[]) => ({ o: { force: false, now: () => now }, p: { decision: { dueReasons }, state: { revoked: dueReasons.includes("revoked") ? { at: revokedAt, serial: "01", reason: "superseded" } : null } } }) as unknown as Pick<Flow, "o" | "p">;
  const st = (o: { nextAttemptAt?: Date | null; retryAfter?: Date | null; lastAttempt?: Date }) => ({ state: { entry: {}, st: { lastAttempt: o.lastAttempt ?? new Date("2029-12-31T22:00:00Z"), lastError: null, consecutiveFailures: 3, nextAttemptAt: o.nextAttemptAt ?? null, retryAfter: o.retryAfter ?? null, updatedBy: "h1" } } }) as never;
  assert.ok(sharedBackoff(flow(["window"]), st({ nextAttemptAt: later })), "a due certificate waits for the cluster's next attempt");
  assert.equal(sharedBackoff(flow(["revoked"]), st({ nextAttemptAt: later })), null, "a revoked one is replaced now (the backoff is from before the revocation)");
  assert.ok(sharedBackoff(flow(["revoked"]), st({ nextAttemptAt: later, lastAttempt: now })), "a replacement that failed since the revocation backs off like any renewal");
  assert.ok(sharedBackoff(flow(["revoked"]), st({ retryAfter: later })), "not before the CA's Retry-After either");
});
