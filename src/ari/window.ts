/** ARI bookkeeping (RFC 9773), pure: when to renew inside the suggested window, when to ask again. */
import type { AriState } from "../state/model.js";
import { DAY, HOUR, MINUTE as MIN } from "../util/time.js";

/** How long the stored answer is good for: Retry-After clamped to [1 min, 1 day]; 6 h without one. */
export function refreshAt(retryAfter: Date | undefined, now: Date): Date {
  const t = now.getTime();
  const wanted = retryAfter ? retryAfter.getTime() - t : 6 * HOUR;
  return new Date(t + Math.min(DAY, Math.max(MIN, wanted)));
}

/** After a failed ARI fetch: ask again in 6 hours. */
export function refreshAfterError(now: Date): Date {
  return new Date(now.getTime() + 6 * HOUR);
}

/**
 * The renewal time inside the window: kept while the window is the same (so runs do not re-roll the
 * dice), drawn uniformly at random (`random` in [0, 1)) when the window is new or changed.
 */
export function selectTime(prev: AriState | null, certId: string, start: Date, end: Date, random: number): Date {
  if (prev && prev.certId === certId && prev.selectedTime && prev.windowStart?.getTime() === start.getTime() && prev.windowEnd?.getTime() === end.getTime()) {
    return prev.selectedTime;
  }
  return new Date(start.getTime() + Math.floor(random * (end.getTime() - start.getTime())));
}
