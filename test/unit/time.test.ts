import { test } from "node:test";
import assert from "node:assert/strict";
import { isoString } from "../../src/util/time.js";

test("isoString is toISOString, for repeated, alternating and changed instants", () => {
  const a = new Date("2027-02-28T18:49:07.000Z");
  const b = new Date("2027-01-21T18:49:07.752Z");
  for (const d of [a, b, a, b, b, a, new Date(0), a, new Date(-1), b]) assert.equal(isoString(d), d.toISOString());
  // The same Date object, changed in place: its new instant, not the remembered one.
  a.setTime(a.getTime() + 1);
  assert.equal(isoString(a), "2027-02-28T18:49:07.001Z");
  let seed = 1;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 48271) % 2147483647;
    const d = new Date(seed * 1000 + (i % 3));
    assert.equal(isoString(d), d.toISOString());
    assert.equal(isoString(d), d.toISOString());
  }
});

test("isoString of an invalid date throws as toISOString does", () => {
  assert.throws(() => isoString(new Date(NaN)), RangeError);
  assert.throws(() => isoString(new Date(8.64e15 + 1)), RangeError);
});
