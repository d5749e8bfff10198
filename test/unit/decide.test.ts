import { test } from "node:test";
import assert from "node:assert/strict";
import { decide } from "../../src/decide/decide.js";
import { renewalWindow } from "../../src/decide/policy.js";
import type { CertFacts } from "../../src/inspect/facts.js";
import { emptyState, type AriState } from "../../src/state/model.js";

const renewalTime = (notBefore: Date, notAfter: Date, validMinDays: number | null) => renewalWindow(notBefore, notAfter, validMinDays).at;

const DAY = 86_400_000;
const T0 = Date.parse("2026-01-01T00:00:00Z");

function facts(o: Partial<CertFacts> & { days?: number } = {}): CertFacts {
  const days = o.days ?? 90;
  return {
    kind: "present",
    notBefore: new Date(T0),
    notAfter: new Date(T0 + days * DAY),
    names: ["example.com", "www.example.com"],
    keyType: "ec256",
    keyMatches: true,
    chainPresent: true,
    serialHex: "01ab",
    issuer: "CN=test",
    fingerprint256: "00",
    certId: "aki.serial",
    placeholder: false,
    ...o,
  };
}
const policy = { names: ["example.com", "www.example.com"], keyType: "ec256", validMinDays: null as number | null, clockFloor: null as Date | null, ari: true, server: "https://ca.example/dir", profile: null as string | null };
const at = (ms: number) => new Date(ms);

test("90-day cert: due exactly when 1/3 of the lifetime remains, not 1 ms before", () => {
  const due = T0 + 60 * DAY;
  assert.equal(renewalTime(new Date(T0), new Date(T0 + 90 * DAY), null).getTime(), due);
  const before = decide(facts(), emptyState(), policy, at(due - 1));
  assert.equal(before.status, "valid");
  assert.equal(before.renew, false);
  assert.equal(before.usable, true);
  const exactly = decide(facts(), emptyState(), policy, at(due));
  assert.equal(exactly.status, "due");
  assert.deepEqual(exactly.dueReasons, ["window"]);
  assert.equal(exactly.usable, true);
  assert.equal(exactly.renew, true);
});

test("certificates of 10 days or less renew at half their lifetime; 10 days + 1 s at a third", () => {
  for (const days of [1, 6, 10]) {
    const half = T0 + (days * DAY) / 2;
    assert.equal(decide(facts({ days }), emptyState(), policy, at(half - 1)).status, "valid", `${days}d before half`);
    assert.equal(decide(facts({ days }), emptyState(), policy, at(half)).status, "due", `${days}d at half`);
  }
  const f = facts({ notAfter: new Date(T0 + 10 * DAY + 1000) });
  const third = T0 + 10 * DAY + 1000 - Math.round((10 * DAY + 1000) / 3);
  assert.equal(decide(f, emptyState(), policy, at(third - 1)).status, "valid");
  assert.equal(decide(f, emptyState(), policy, at(third)).status, "due");
});

test("validMinDays overrides the fraction", () => {
  const p = { ...policy, validMinDays: 30 };
  const due = T0 + 60 * DAY;
  assert.equal(decide(facts(), emptyState(), p, at(due - 1)).status, "valid");
  assert.equal(decide(facts(), emptyState(), p, at(due)).status, "due");
  const zero = { ...policy, validMinDays: 0 };
  assert.equal(decide(facts(), emptyState(), zero, at(T0 + 90 * DAY - 1)).status, "valid");
  // validMinDays up to 2/3 of the lifetime is honoured (60 of 90 days: due after 30).
  const p60 = { ...policy, validMinDays: 60 };
  assert.equal(decide(facts(), emptyState(), p60, at(T0 + 30 * DAY - 1)).status, "valid");
  assert.equal(decide(facts(), emptyState(), p60, at(T0 + 30 * DAY)).status, "due");
  assert.equal(decide(facts(), emptyState(), p60, at(T0)).validMinDaysClamped, undefined);
});

test("validMinDays beyond 2/3 of the lifetime (30 with 6-day certificates): the lifetime-based window, flagged", () => {
  // Before: every new 6-day certificate was due the moment it was issued.
  const p = { ...policy, validMinDays: 30 };
  const fresh = decide(facts({ days: 6 }), emptyState(), p, at(T0 + 1000));
  assert.equal(fresh.status, "valid");
  assert.equal(fresh.renew, false);
  assert.equal(fresh.validMinDaysClamped, true);
  assert.equal(fresh.renewAt?.getTime(), T0 + 3 * DAY, "half the lifetime of a ≤ 10-day certificate");
  assert.equal(decide(facts({ days: 6 }), emptyState(), p, at(T0 + 3 * DAY)).status, "due");
  // 61 of 90 days: clamped to the third; 4 of 6 days: honoured.
  assert.equal(decide(facts(), emptyState(), { ...policy, validMinDays: 61 }, at(T0)).renewAt?.getTime(), T0 + 60 * DAY);
  assert.equal(decide(facts({ days: 6 }), emptyState(), { ...policy, validMinDays: 4 }, at(T0)).renewAt?.getTime(), T0 + 2 * DAY);
  assert.equal(decide(facts({ days: 6 }), emptyState(), { ...policy, validMinDays: 4 }, at(T0)).validMinDaysClamped, undefined);
  // null is the lifetime-based window itself, never flagged.
  assert.equal(decide(facts({ days: 6 }), emptyState(), policy, at(T0)).validMinDaysClamped, undefined);
});

test("clock before notBefore: not-yet-valid, not usable; at notBefore: valid", () => {
  const d = decide(facts(), emptyState(), policy, at(T0 - 1));
  assert.equal(d.status, "not-yet-valid");
  assert.equal(d.usable, false);
  assert.equal(decide(facts(), emptyState(), policy, at(T0)).status, "valid");
});

test("expired by 1 s (and at notAfter exactly): expired, not usable; 1 s before: due but usable", () => {
  const end = T0 + 90 * DAY;
  for (const t of [end, end + 1000]) {
    const d = decide(facts(), emptyState(), policy, at(t));
    assert.equal(d.status, "expired");
    assert.equal(d.usable, false);
    assert.equal(d.renew, true);
  }
  const last = decide(facts(), emptyState(), policy, at(end - 1000));
  assert.equal(last.status, "due");
  assert.equal(last.usable, true);
});

test("names: a missing name or a removed name makes it due; order and case do not matter", () => {
  const now = at(T0 + DAY);
  const miss = decide(facts({ names: ["example.com"] }), emptyState(), policy, now);
  assert.equal(miss.status, "due");
  assert.deepEqual(miss.dueReasons, ["names"]);
  assert.match(miss.reasons[0]!, /missing www\.example\.com/);
  const extra = decide(facts({ names: ["example.com", "www.example.com", "old.example.com"] }), emptyState(), policy, now);
  assert.deepEqual(extra.dueReasons, ["names"]);
  assert.match(extra.reasons[0]!, /no longer configured old\.example\.com/);
  assert.equal(decide(facts({ names: ["www.example.com", "example.com"] }), emptyState(), policy, now).status, "valid");
});

test("key type change, placeholder, missing chain: due and usable, each with its reason", () => {
  const now = at(T0 + DAY);
  assert.deepEqual(decide(facts({ keyType: "rsa2048" }), emptyState(), policy, now).dueReasons, ["key-type"]);
  // A placeholder is known from the certificate itself: state.json need not say so.
  const ph = decide(facts({ placeholder: true }), emptyState(), policy, now);
  assert.deepEqual(ph.dueReasons, ["placeholder"]);
  assert.equal(ph.usable, false);
  // …and a serial recorded in state.json alone does not make a certificate a placeholder.
  assert.equal(decide(facts(), { ...emptyState(), placeholderSerial: "01ab" }, policy, now).status, "valid");
  const nochain = decide(facts({ chainPresent: false }), emptyState(), policy, now);
  assert.deepEqual(nochain.dueReasons, ["chain"]);
  assert.equal(nochain.usable, true);
  const all = decide(facts({ keyType: "ec384", names: ["x.org"], chainPresent: false, placeholder: true }), emptyState(), policy, at(T0 + 80 * DAY));
  assert.deepEqual(all.dueReasons, ["window", "names", "key-type", "placeholder", "chain"]);
});

test("mismatch wins over dates; missing and unreadable are not usable", () => {
  const m = decide(facts({ keyMatches: false }), emptyState(), policy, at(T0 + DAY));
  assert.equal(m.status, "mismatch");
  assert.equal(m.usable, false);
  assert.equal(decide({ kind: "missing", what: "x", empty: true }, emptyState(), policy, at(T0)).status, "missing");
  const u = decide({ kind: "unreadable", what: "bad PEM" }, emptyState(), policy, at(T0));
  assert.equal(u.status, "unreadable");
  assert.equal(u.usable, false);
  assert.equal(u.renew, true);
});

test("exhaustive sweep: usable ⇔ notBefore ≤ now < notAfter with a matching key; renew ⇔ !usable or past renewAt", () => {
  for (const days of [1, 5, 10, 11, 30, 47, 90, 397]) {
    for (const validMinDays of [null, 0, 1, 7, 30]) {
      const f = facts({ days });
      const p = { ...policy, validMinDays };
      const renewAt = renewalTime(f.notBefore, f.notAfter, validMinDays).getTime();
      for (let t = T0 - DAY; t <= T0 + (days + 1) * DAY; t += DAY / 4) {
        const d = decide(f, emptyState(), p, at(t));
        const inValidity = t >= T0 && t < f.notAfter.getTime();
        assert.equal(d.usable, inValidity, `usable days=${days} vmd=${validMinDays} t=${t}`);
        assert.equal(d.renew, !inValidity || t >= renewAt, `renew days=${days} vmd=${validMinDays} t=${t}`);
      }
    }
  }
});

test("decide is pure: same inputs, same output, inputs untouched", () => {
  const f = facts();
  const s = emptyState();
  const snapshot = JSON.stringify([f, s, policy]);
  const a = decide(f, s, policy, at(T0 + 70 * DAY));
  const b = decide(f, s, policy, at(T0 + 70 * DAY));
  assert.deepEqual(a, b);
  assert.equal(JSON.stringify([f, s, policy]), snapshot);
});

test("a clock before the build time: dates are not judged, nothing renewed, the cert counts as usable", () => {
  const p = { ...policy, clockFloor: new Date(T0 - DAY) };
  const d = decide(facts(), emptyState(), p, new Date(0));
  assert.equal(d.clockUntrusted, true);
  assert.equal(d.usable, true);
  assert.equal(d.renew, false);
  assert.match(d.reasons[0]!, /clock says 1970-01-01.*not renewing until the clock is right/);
  // Still: a key that does not match is a mismatch whatever the clock.
  assert.equal(decide(facts({ keyMatches: false }), emptyState(), p, new Date(0)).status, "mismatch");
  // A sane clock after the floor decides normally.
  assert.equal(decide(facts(), emptyState(), p, new Date(T0 + DAY)).clockUntrusted, undefined);
});

function ariState(o: Partial<AriState> = {}): AriState {
  return {
    certId: "aki.serial",
    windowStart: new Date(T0 + 40 * DAY),
    windowEnd: new Date(T0 + 42 * DAY),
    selectedTime: new Date(T0 + 41 * DAY),
    explanationURL: null,
    fetchedAt: new Date(T0),
    nextRefreshAt: new Date(T0 + 50 * DAY),
    unsupported: false,
    lastError: null,
    ...o,
  };
}

test("ARI: the selected time brings renewal forward; the earlier of ARI and the local window wins", () => {
  const st = { ...emptyState(), ari: ariState() };
  const before = decide(facts(), st, policy, at(T0 + 41 * DAY - 1));
  assert.equal(before.status, "valid");
  assert.equal(before.renewAtSource, "ari");
  assert.equal(before.renewAt?.getTime(), T0 + 41 * DAY);
  assert.equal(before.ariRefresh, false);
  const due = decide(facts(), st, policy, at(T0 + 41 * DAY));
  assert.equal(due.status, "due");
  assert.deepEqual(due.dueReasons, ["ari"]);
  assert.match(due.reasons[0]!, /the CA suggests renewing \(ARI window/);
  // A window later than the local policy never postpones it.
  const late = { ...emptyState(), ari: ariState({ windowStart: new Date(T0 + 80 * DAY), windowEnd: new Date(T0 + 85 * DAY), selectedTime: new Date(T0 + 82 * DAY) }) };
  const d = decide(facts(), late, policy, at(T0 + 60 * DAY));
  assert.equal(d.status, "due");
  assert.deepEqual(d.dueReasons, ["window"]);
  assert.equal(d.renewAtSource, "local");
});

test("ARI: a window in the past means renew now", () => {
  const st = { ...emptyState(), ari: ariState({ windowStart: new Date(T0 - 2 * DAY), windowEnd: new Date(T0 - DAY), selectedTime: new Date(T0 - 1.5 * DAY) }) };
  assert.deepEqual(decide(facts(), st, policy, at(T0 + DAY)).dueReasons, ["ari"]);
});

test("ARI: an answer about another certificate is ignored and a refresh is wanted; refresh follows nextRefreshAt", () => {
  const other = { ...emptyState(), ari: ariState({ certId: "aki.other" }) };
  const d = decide(facts(), other, policy, at(T0 + 41 * DAY));
  assert.equal(d.status, "valid");
  assert.equal(d.ari, null);
  assert.equal(d.ariRefresh, true);
  assert.equal(decide(facts(), emptyState(), policy, at(T0 + DAY)).ariRefresh, true, "nothing stored");
  const st = { ...emptyState(), ari: ariState({ nextRefreshAt: new Date(T0 + 10 * DAY) }) };
  assert.equal(decide(facts(), st, policy, at(T0 + 10 * DAY - 1)).ariRefresh, false);
  assert.equal(decide(facts(), st, policy, at(T0 + 10 * DAY)).ariRefresh, true);
});

test("ARI: off by config, after expiry, and for certificates without certID: no ARI", () => {
  const st = { ...emptyState(), ari: ariState() };
  const off = decide(facts(), st, { ...policy, ari: false }, at(T0 + 41 * DAY));
  assert.equal(off.status, "valid");
  assert.equal(off.ariRefresh, false);
  assert.equal(decide(facts(), st, policy, at(T0 + 91 * DAY)).ariRefresh, false, "expired: no polling");
  assert.equal(decide(facts({ certId: null }), emptyState(), policy, at(T0 + DAY)).ariRefresh, false);
});

const issuedRec = (o: Partial<import("../../src/state/model.js").IssuedRecord> = {}) => ({ serial: "01ab", server: policy.server, profile: null, names: ["example.com", "www.example.com"], chain: true, ...o });

test("the issued record: names the CA added and a chain it never sent are not due; names dropped from the config are", () => {
  const now = at(T0 + DAY);
  const withExtra = facts({ names: ["example.com", "www.example.com", "added-by-ca.example.com"] });
  assert.deepEqual(decide(withExtra, emptyState(), policy, now).dueReasons, ["names"], "no record (adopted): any extra name is due");
  assert.equal(decide(withExtra, { ...emptyState(), issued: issuedRec() }, policy, now).status, "valid");
  // Ordered with old.example.com, which the config no longer has.
  const dropped = facts({ names: ["example.com", "www.example.com", "old.example.com"] });
  assert.deepEqual(decide(dropped, { ...emptyState(), issued: issuedRec({ names: ["example.com", "www.example.com", "old.example.com"] }) }, policy, now).dueReasons, ["names"]);
  const chainless = facts({ chainPresent: false });
  assert.equal(decide(chainless, { ...emptyState(), issued: issuedRec({ chain: false }) }, policy, now).status, "valid");
  assert.deepEqual(decide(chainless, { ...emptyState(), issued: issuedRec() }, policy, now).dueReasons, ["chain"], "the CA sent one, and it is gone");
  // A record of another serial (an older certificate) says nothing about this one.
  assert.deepEqual(decide(withExtra, { ...emptyState(), issued: issuedRec({ serial: "ffff" }) }, policy, now).dueReasons, ["names"]);
});

test("server and profile: a certificate issued with others than configured is due (usable); without a record it is not", () => {
  const now = at(T0 + DAY);
  const s = { ...emptyState(), issued: issuedRec({ server: "https://staging.example/dir" }) };
  const d = decide(facts(), s, policy, now);
  assert.deepEqual(d.dueReasons, ["server-changed"]);
  assert.equal(d.usable, true);
  assert.match(d.reasons[0]!, /issued by https:\/\/staging\.example\/dir, configured https:\/\/ca\.example\/dir/);
  assert.deepEqual(decide(facts(), { ...emptyState(), issued: issuedRec({ profile: "classic" }) }, policy, now).dueReasons, ["profile-changed"]);
  assert.deepEqual(decide(facts(), { ...emptyState(), issued: issuedRec() }, { ...policy, profile: "shortlived" }, now).dueReasons, ["profile-changed"]);
  assert.equal(decide(facts(), emptyState(), { ...policy, server: "https://other.example/dir", profile: "x" }, now).status, "valid");
});

test("a clock before the build time without a certificate: nothing renewed (no order, no placeholder)", () => {
  const p = { ...policy, clockFloor: new Date(T0 - DAY) };
  for (const insp of [{ kind: "missing" as const, what: "no certificate yet", empty: true }, { kind: "unreadable" as const, what: "bad PEM" }]) {
    const d = decide(insp, emptyState(), p, new Date(0));
    assert.equal(d.renew, false);
    assert.equal(d.usable, false);
    assert.equal(d.clockUntrusted, true);
    assert.match(d.reasons.join("; "), /clock says 1970/);
    assert.equal(decide(insp, emptyState(), p, at(T0)).renew, true, "with the clock right it is renewed");
  }
});

test("revoked: the certificate with the recorded serial is due (and still usable); another serial is not", () => {
  const now = at(T0 + 10 * DAY);
  const revoked = { serial: "01ab", at: at(T0 + 9 * DAY), reason: "keyCompromise" };
  const d = decide(facts(), { ...emptyState(), revoked }, policy, now);
  assert.equal(d.status, "due");
  assert.equal(d.usable, true);
  assert.equal(d.renew, true);
  assert.deepEqual(d.dueReasons, ["revoked"]);
  assert.match(d.reasons.join("; "), /revoked at .* \(keyCompromise\)/);
  assert.equal(decide(facts({ serialHex: "02cd" }), { ...emptyState(), revoked }, policy, now).status, "valid");
});
