/**
 * Cross-run backoff: when a certificate whose renewal keeps failing may contact the CA again. Pure.
 * `random` is a number in [0, 1) supplied by the caller (jitter), so this stays deterministic.
 */
import { HOUR, MINUTE } from "../util/time.js";

/**
 * A usable certificate (it still serves; there is time): after the n-th failure in a row (n ≥ 1)
 * 1 min, 10 min, 100 min, then 6–24 h.
 */
export function backoffDelay(failures: number, random: number): number {
  if (failures <= 0) return 0;
  if (failures === 1) return MINUTE;
  if (failures === 2) return 10 * MINUTE;
  if (failures === 3) return 100 * MINUTE;
  return 6 * HOUR + Math.floor(random * 18 * HOUR);
}

/**
 * No usable certificate (services wait for one): after the n-th failure in a row that the CA
 * answered (n ≥ 1) 1, 5, 15 min, then hourly. A permanently refused name gets at most 4 orders in
 * its first hour and 1 an hour after that. A failure that never reached the CA (no network) costs it
 * nothing and adds no wait: the next run (the unit restarts 15 min after exit 1 or 3) tries again.
 */
export const UNUSABLE_SCHEDULE = [MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR] as const;
export const UNUSABLE_MAX_MS = HOUR;

export function unusableDelay(answeredFailures: number): number {
  if (answeredFailures <= 0) return 0;
  return UNUSABLE_SCHEDULE[Math.min(answeredFailures, UNUSABLE_SCHEDULE.length) - 1]!;
}

/** Our own backoff never exceeds 24 h; a stored time further out was written by a wrong clock. */
export const MAX_BACKOFF_MS = 24 * HOUR;
/** Longest Retry-After we keep honouring (rate limits are hours, at most days). */
export const MAX_RETRY_AFTER_MS = 7 * 24 * HOUR;

