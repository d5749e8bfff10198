/** The per-certificate state machine (src/state/transitions.ts): every event from every relevant state. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, unusableDelay, UNUSABLE_SCHEDULE } from "../../src/decide/backoff.js";
import type { Decision } from "../../src/decide/decide.js";
import { gate } from "../../src/decide/gate.js";
import { parseState, serializeState } from "../../src/state/file.js";
import { emptyState, type AriState, type CertState, type IssuedRecord } from "../../src/state/model.js";
import { apply, type StateEvent } from "../../src/state/transitions.js";
import { DAY, HOUR, MINUTE } from "../../src/util/time.js";

const applyAll = (s: CertState, events: StateEvent[]): CertState => events.reduce(apply, s);

const T0 = Date.parse("2027-03-01T00:00:00Z");
const at = (ms: number) => new Date(T0 + ms);

const ari: AriState = {
  certId: "aki.01",
  windowStart: at(40 * DAY),
  windowEnd: at(42 * DAY),
  selectedTime: at(41 * DAY),
  explanationURL: null,
  fetchedAt: at(-HOUR),
  nextRefreshAt: at(5 * HOUR),
  unsupported: false,
  lastError: null,
};
const issued: IssuedRecord = { serial: "01", server: "https://ca.example/dir", profile: null, names: ["a.example.com"], chain: true };

/** The states a certificate can be in, as a run finds them. */
const STATES: Record<string, CertState> = {
  fresh: emptyState(),
  renewed: { ...emptyState(), lastAttempt: at(-DAY), lastSuccess: at(-DAY), lastOutcome: "renewed", issued, ari },
  "failing, usable": { ...emptyState(), lastAttempt: at(-MINUTE), lastOutcome: "soft-failure", lastError: { class: "server", message: "503" }, consecutiveFailures: 2, answeredFailures: 2, nextAttemptAt: at(9 * MINUTE), issued, ari },
  "failing, unusable": { ...emptyState(), lastAttempt: at(-MINUTE), lastOutcome: "failure", lastError: { class: "challenge", message: "404" }, consecutiveFailures: 3, answeredFailures: 2, nextAttemptAt: at(4 * MINUTE) },
  "rate limited": { ...emptyState(), lastAttempt: at(-MINUTE), lastOutcome: "failure", lastError: { class: "rateLimited", message: "429" }, consecutiveFailures: 1, answeredFailures: 1, nextAttemptAt: at(2 * HOUR), retryAfter: at(2 * HOUR) },
  "Retry-After passed": { ...emptyState(), lastAttempt: at(-3 * HOUR), lastOutcome: "failure", consecutiveFailures: 1, answeredFailures: 1, nextAttemptAt: at(-HOUR), retryAfter: at(-HOUR) },
  placeholder: { ...emptyState(), lastAttempt: at(-MINUTE), lastOutcome: "placeholder", lastError: { class: "network", message: "ECONNREFUSED" }, consecutiveFailures: 1, placeholderSerial: "ff" },
  "hooks owed": { ...emptyState(), lastAttempt: at(-MINUTE), lastSuccess: at(-MINUTE), lastOutcome: "renewed", issued, hooksPending: { since: at(-MINUTE), attempts: 0, lastError: null } },
  revoked: { ...emptyState(), lastAttempt: at(-DAY), lastSuccess: at(-DAY), lastOutcome: "renewed", issued, ari, revoked: { serial: "01", at: at(-MINUTE), reason: "superseded" } },
  "key compromised": { ...emptyState(), lastAttempt: at(-MINUTE), lastOutcome: "soft-failure", consecutiveFailures: 1, answeredFailures: 1, nextAttemptAt: at(MINUTE), issued, revoked: { serial: "01", at: at(-HOUR), reason: "keyCompromise" }, compromisedKeys: ["a".repeat(64)] },
  "hooks failed": { ...emptyState(), lastAttempt: at(-HOUR), lastSuccess: at(-HOUR), lastOutcome: "hook-failed", issued, hooksPending: { since: at(-HOUR), attempts: 2, lastError: "reload nginx.service: exit code 1" } },
  "issued alone (cluster)": { ...emptyState(), lastAttempt: at(-HOUR), lastSuccess: at(-HOUR), lastOutcome: "renewed", issued, publishPending: "01" },
  synced: { ...emptyState(), lastAttempt: at(-DAY), lastSuccess: at(-DAY), lastOutcome: "synced", issued, ari },
};

type Failed = Extract<StateEvent, { type: "failed" }>;
const failed = (o: { usable: boolean; costsCa: boolean; retryAfter?: Date | null; at?: Date; class?: string }): Failed => ({
  type: "failed",
  at: o.at ?? at(0),
  class: o.class ?? (o.costsCa ? "challenge" : "network"),
  message: "boom",
  retryAfter: o.retryAfter ?? null,
  costsCa: o.costsCa,
  usable: o.usable,
  random: 0.5,
});
const newAri: AriState = { ...ari, certId: "aki.02", fetchedAt: at(0), nextRefreshAt: at(6 * HOUR) };

const EVENTS: Record<string, StateEvent> = {
  "failed (usable, CA answered)": failed({ usable: true, costsCa: true }),
  "failed (usable, no CA contact)": failed({ usable: true, costsCa: false }),
  "failed (unusable, CA answered)": failed({ usable: false, costsCa: true }),
  "failed (unusable, no CA contact)": failed({ usable: false, costsCa: false }),
  "failed (Retry-After 1 h, a 503)": failed({ usable: false, costsCa: true, retryAfter: at(HOUR), class: "server" }),
  "failed (Retry-After in the past)": failed({ usable: true, costsCa: true, retryAfter: at(-HOUR) }),
  placeholder: { type: "placeholder", at: at(0), serial: "ab" },
  issued: { type: "issued", at: at(0) },
  installed: { type: "installed", at: at(0), issued: { ...issued, serial: "02" } },
  "installed (no record)": { type: "installed", at: at(0), issued: null },
  "hook-failed": { type: "hook-failed", at: at(0), message: "postRun: exit code 2" },
  "hooks-ok": { type: "hooks-ok", at: at(0) },
  "ari-fetched": { type: "ari-fetched", ari: newAri },
  "revoked (superseded)": { type: "revoked", at: at(0), serial: "01", reason: "superseded", keyFingerprint: null },
  "revoked (keyCompromise)": { type: "revoked", at: at(0), serial: "01", reason: "keyCompromise", keyFingerprint: "b".repeat(64) },
  "revoked (keyCompromise, key known)": { type: "revoked", at: at(0), serial: "01", reason: "keyCompromise", keyFingerprint: "a".repeat(64) },
  synced: { type: "synced", at: at(0), issued: { ...issued, serial: "03" }, ari: newAri },
  "cluster-backoff": { type: "cluster-backoff", lastAttempt: at(-30 * MINUTE), lastError: { class: "server", message: "503 from another host" }, consecutiveFailures: 4, nextAttemptAt: at(3 * HOUR), retryAfter: at(HOUR) },
  "cluster-backoff (nothing new)": { type: "cluster-backoff", lastAttempt: null, lastError: null, consecutiveFailures: 0, nextAttemptAt: null, retryAfter: null },
  unpublished: { type: "unpublished", serial: "02" },
  "published (that serial)": { type: "published", serial: "01" },
  "published (another serial)": { type: "published", serial: "99" },
};

const later = (a: Date | null, b: Date | null) => (a && b ? (a > b ? a : b) : (a ?? b));

/** What each event must do, stated independently of the implementation's structure. */
function expected(s: CertState, e: StateEvent): CertState {
  switch (e.type) {
    case "failed": {
      const consecutiveFailures = s.consecutiveFailures + 1;
      const answeredFailures = s.answeredFailures + (e.costsCa ? 1 : 0);
      const future = (d: Date | null) => (d && d.getTime() > e.at.getTime() ? d : null);
      const retryAfter = later(future(e.retryAfter), future(s.retryAfter));
      const delay = e.usable ? backoffDelay(consecutiveFailures, e.random) : e.costsCa ? unusableDelay(answeredFailures) : 0;
      return {
        ...s,
        lastAttempt: e.at,
        lastOutcome: e.usable ? "soft-failure" : "failure",
        lastError: { class: e.class, message: e.message },
        consecutiveFailures,
        answeredFailures,
        retryAfter,
        nextAttemptAt: later(delay ? new Date(e.at.getTime() + delay) : null, retryAfter),
      };
    }
    case "placeholder":
      return { ...s, placeholderSerial: e.serial, lastOutcome: "placeholder" };
    case "issued":
      return { ...s, lastAttempt: e.at, answeredFailures: 0 };
    case "installed":
      return {
        lastAttempt: e.at,
        lastSuccess: e.at,
        lastOutcome: "renewed",
        lastError: null,
        consecutiveFailures: 0,
        answeredFailures: 0,
        nextAttemptAt: null,
        retryAfter: null,
        placeholderSerial: null,
        ari: null,
        issued: e.issued,
        hooksPending: { since: e.at, attempts: 0, lastError: null },
        publishPending: null,
        // The new certificate is not revoked; a compromised key stays barred for good.
        revoked: null,
        compromisedKeys: s.compromisedKeys,
      };
    case "revoked":
      return {
        ...s,
        revoked: { serial: e.serial, at: e.at, reason: e.reason },
        compromisedKeys: e.keyFingerprint === null ? s.compromisedKeys : [...new Set([...s.compromisedKeys, e.keyFingerprint])],
        consecutiveFailures: 0,
        answeredFailures: 0,
        nextAttemptAt: null,
      };
    case "hook-failed":
      return { ...s, lastOutcome: "hook-failed", hooksPending: { since: s.hooksPending?.since ?? e.at, attempts: (s.hooksPending?.attempts ?? 0) + 1, lastError: e.message } };
    case "hooks-ok":
      return { ...s, hooksPending: null, lastOutcome: s.lastOutcome === "hook-failed" ? "renewed" : s.lastOutcome };
    case "ari-fetched":
      return { ...s, ari: e.ari };
    case "synced":
      return { ...expected(s, { type: "installed", at: e.at, issued: e.issued }), lastOutcome: "synced", ari: e.ari };
    case "cluster-backoff":
      return {
        ...s,
        lastAttempt: later(s.lastAttempt, e.lastAttempt),
        lastOutcome: s.lastOutcome === null || s.lastOutcome === "renewed" || s.lastOutcome === "synced" ? "soft-failure" : s.lastOutcome,
        lastError: e.lastError ?? s.lastError,
        consecutiveFailures: Math.max(s.consecutiveFailures, e.consecutiveFailures),
        nextAttemptAt: later(s.nextAttemptAt, e.nextAttemptAt),
        retryAfter: later(s.retryAfter, e.retryAfter),
      };
    case "unpublished":
      return { ...s, publishPending: e.serial };
    case "published":
      return { ...s, publishPending: s.publishPending === e.serial ? null : s.publishPending };
  }
}

test("every event from every state: the documented result, input untouched, survives state.json", () => {
  let n = 0;
  for (const [sName, s] of Object.entries(STATES)) {
    for (const [eName, e] of Object.entries(EVENTS)) {
      const before = serializeState(s);
      const got = apply(s, e);
      assert.deepEqual(got, expected(s, e), `${eName} from ${sName}`);
      assert.equal(serializeState(s), before, `${eName} from ${sName}: the input state is not changed`);
      assert.deepEqual(parseState(serializeState(got)), got, `${eName} from ${sName}: written and read back unchanged`);
      n++;
    }
  }
  assert.equal(n, Object.keys(STATES).length * Object.keys(EVENTS).length);
});

test("failed: the schedule by certificate and by whether the CA was reached", () => {
  // Usable: 1 min, 10 min, 100 min, then 6–24 h, counting every failure.
  const u = applyAll(emptyState(), [failed({ usable: true, costsCa: false }), failed({ usable: true, costsCa: true })]);
  assert.equal(u.nextAttemptAt!.getTime() - T0, 10 * MINUTE);
  // Unusable: the CA's answers count (1, 5, 15 min, then hourly); a failure that never reached it adds no wait.
  let s = emptyState();
  const waits: number[] = [];
  for (let i = 0; i < 8; i++) {
    s = apply(s, failed({ usable: false, costsCa: true }));
    waits.push((s.nextAttemptAt!.getTime() - T0) / MINUTE);
  }
  assert.deepEqual(waits, [1, 5, 15, 60, 60, 60, 60, 60]);
  const net = apply(s, failed({ usable: false, costsCa: false }));
  assert.equal(net.nextAttemptAt, null, "no network: the next run tries again");
  assert.equal(net.answeredFailures, s.answeredFailures);
  assert.equal(net.consecutiveFailures, s.consecutiveFailures + 1, "alerts still count it");
  // Retry-After, whatever the class (a 503 here), and kept by a later error without one.
  const ra = apply(emptyState(), EVENTS["failed (Retry-After 1 h, a 503)"]!);
  assert.equal(ra.retryAfter?.getTime(), T0 + HOUR);
  assert.equal(ra.nextAttemptAt?.getTime(), T0 + HOUR);
  const kept = apply(ra, failed({ usable: false, costsCa: false, at: at(10 * MINUTE) }));
  assert.equal(kept.retryAfter?.getTime(), T0 + HOUR);
  assert.equal(kept.nextAttemptAt?.getTime(), T0 + HOUR);
  assert.equal(UNUSABLE_SCHEDULE.at(-1), HOUR);
});

test("hooks: owed from the install until they succeed, attempts counted, since kept", () => {
  const s = applyAll(emptyState(), [
    { type: "installed", at: at(0), issued },
    { type: "hook-failed", at: at(MINUTE), message: "a" },
    { type: "hook-failed", at: at(HOUR), message: "b" },
  ]);
  assert.deepEqual(s.hooksPending, { since: at(0), attempts: 2, lastError: "b" });
  assert.equal(s.lastOutcome, "hook-failed");
  const ok = apply(s, { type: "hooks-ok", at: at(2 * HOUR) });
  assert.equal(ok.hooksPending, null);
  assert.equal(ok.lastOutcome, "renewed");
  // A new install owes its own hooks, whatever was owed before.
  assert.deepEqual(apply(s, { type: "installed", at: at(3 * HOUR), issued }).hooksPending, { since: at(3 * HOUR), attempts: 0, lastError: null });
});

test("state files written before these fields: failures all count as answered, nothing owed", () => {
  const s = parseState(JSON.stringify({ version: 1, consecutiveFailures: 3, nextAttemptAt: at(HOUR).toISOString(), lastOutcome: "failure" }));
  assert.equal(s.answeredFailures, 3);
  assert.equal(s.hooksPending, null);
  assert.equal(s.issued, null);
  const bad = parseState(JSON.stringify({ version: 1, issued: { serial: 1 }, hooksPending: { since: "never" }, answeredFailures: -1 }));
  assert.equal(bad.issued, null);
  assert.equal(bad.hooksPending, null);
  assert.equal(bad.answeredFailures, 0);
});

// ------------------------------------------------------------------ the gate over many runs

const unusable = { status: "missing", usable: false, renew: true, dueReasons: [], reasons: [] } as unknown as Decision;
const dueUsable = { status: "due", usable: true, renew: true, dueReasons: ["window"], reasons: [] } as unknown as Decision;

/**
 * Simulated runs: the unit restarts 15 min after a failed run (exit 1 or 3) and the timer fires
 * hourly; every attempt that reaches the CA fails (a name that always fails validation). Returns the
 * minutes at which an order was sent.
 */
function simulate(d: Decision, hours: number, costsCa: (minute: number) => boolean, timerOffset = 0): number[] {
  let s = emptyState();
  const orders: number[] = [];
  const runs = new Set<number>([0]); // once after boot
  for (let m = timerOffset; m < hours * 60; m += 60) runs.add(m);
  for (let m = 0; m < hours * 60; m++) {
    if (!runs.has(m)) continue;
    const g = gate(d, s, at(m * MINUTE), false);
    if (g.action === "renew") {
      const cost = costsCa(m);
      if (cost) orders.push(m);
      s = apply(s, failed({ usable: d.usable, costsCa: cost, at: at(m * MINUTE) }));
    }
    if (!d.usable) runs.add(m + 15); // exit 1/3: Restart= after 15 min (also after a "wait")
  }
  return orders;
}

test("a name that always fails: ≤ 6 orders in the first hour and ≤ 1 an hour after, with or without a usable certificate", () => {
  for (const d of [unusable, dueUsable]) {
    for (const offset of [0, 7, 29, 50]) {
      const orders = simulate(d, 24, () => true, offset);
      const perHour = Array.from({ length: 24 }, (_, h) => orders.filter((m) => m >= h * 60 && m < (h + 1) * 60).length);
      assert.ok(perHour[0]! >= 1 && perHour[0]! <= 6, `${d.status}, timer at :${offset}: first hour ${perHour[0]}`);
      assert.ok(perHour.slice(1).every((n) => n <= 1), `${d.status}, timer at :${offset}: per hour ${perHour.join(",")}`);
    }
  }
  // Without a certificate it keeps trying hourly (a host waiting for one must get it once the CA agrees).
  const orders = simulate(unusable, 24, () => true);
  assert.ok(orders.filter((m) => m >= 12 * 60).length >= 11, orders.join(","));
});

test("no network for 3 hours, then the network returns: the next run (≤ 15 min) orders", () => {
  const back = 180;
  const orders = simulate(unusable, 6, (m) => m >= back);
  assert.ok(orders[0]! >= back && orders[0]! <= back + 15, `first order at minute ${orders[0]}`);
});

test("gate: a Retry-After binds without a usable certificate; a backoff stored while usable is capped at 1 h once unusable", () => {
  const s = apply(emptyState(), EVENTS["failed (Retry-After 1 h, a 503)"]!);
  assert.deepEqual(gate(unusable, s, at(59 * MINUTE), false), { action: "wait", until: at(HOUR), why: "retry-after" });
  assert.deepEqual(gate(unusable, s, at(HOUR), false), { action: "renew", forced: false });
  // Four failures while usable: 6–24 h. The certificate expires meanwhile: at most 1 h after the last attempt.
  const long = applyAll(emptyState(), [1, 2, 3, 4].map(() => failed({ usable: true, costsCa: true })));
  assert.ok(long.nextAttemptAt!.getTime() - T0 >= 6 * HOUR);
  assert.deepEqual(gate(dueUsable, long, at(2 * HOUR), false).action, "wait");
  assert.deepEqual(gate(unusable, long, at(30 * MINUTE), false), { action: "wait", until: at(HOUR), why: "backoff" });
  assert.deepEqual(gate(unusable, long, at(HOUR), false), { action: "renew", forced: false });
  // A pending certificate is installed whatever the backoff; --force overrides it too.
  assert.deepEqual(gate(unusable, s, at(MINUTE), false, true), { action: "renew", forced: false });
  assert.deepEqual(gate(unusable, s, at(MINUTE), true), { action: "renew", forced: true });
  // A clock before the build time: nothing, not even with --force.
  assert.deepEqual(gate({ ...unusable, clockUntrusted: true } as Decision, s, at(0), true), { action: "skip" });
});

test("cluster-backoff: a failure another host had binds this host (gate waits), never shortens what it had", () => {
  const s = apply(STATES.renewed!, EVENTS["cluster-backoff"]!);
  const g = gate(dueUsable, s, at(0), false);
  assert.equal(g.action, "wait");
  assert.equal(g.action === "wait" && g.until.getTime(), T0 + HOUR, "the other host's Retry-After first");
  assert.equal(gate(dueUsable, s, at(HOUR + MINUTE), false).action, "wait", "then its backoff");
  assert.equal(gate(dueUsable, s, at(3 * HOUR + MINUTE), false).action, "renew");
  const longer = apply(STATES["rate limited"]!, { type: "cluster-backoff", lastAttempt: null, lastError: null, consecutiveFailures: 0, nextAttemptAt: at(MINUTE), retryAfter: null });
  assert.equal(longer.nextAttemptAt?.getTime(), T0 + 2 * HOUR, "the longer local wait stays");
});

test("synced: hooks owed, backoff cleared, the cluster's ARI (its selected time) kept, a pending publish dropped", () => {
  const s = apply(STATES["issued alone (cluster)"]!, EVENTS.synced!);
  assert.equal(s.lastOutcome, "synced");
  assert.deepEqual(s.ari, newAri);
  assert.equal(s.publishPending, null);
  assert.deepEqual(s.hooksPending, { since: at(0), attempts: 0, lastError: null });
  assert.equal(apply(s, { type: "hooks-ok", at: at(MINUTE) }).lastOutcome, "synced");
});
