/** Time units (ms), the one home for them: durations elsewhere are written as multiples of these. */
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/**
 * d.toISOString(), the last two instants remembered: a pre-check prints the same two (expiry and
 * renewal time) in its reason, its log fields and its line — 40,000 conversions in check --all.
 * Keyed by the time value, so a Date changed in place is converted afresh; an invalid one throws.
 */
export function isoString(d: Date): string {
  const t = d.getTime();
  if (t === lastT[0]) return lastS[0];
  if (t === lastT[1]) return lastS[1];
  const s = d.toISOString();
  lastT[1] = lastT[0];
  lastS[1] = lastS[0];
  lastT[0] = t;
  lastS[0] = s;
  return s;
}
const lastT: [number, number] = [NaN, NaN];
const lastS: [string, string] = ["", ""];
