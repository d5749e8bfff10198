/** Cross-run backoff: when a certificate whose renewal keeps failing may contact the CA again. Pure. */
const MIN = 60_000;
const HOUR = 3_600_000;

/**
 * Delay after the n-th consecutive failure (n ≥ 1): 1 min, 10 min, 100 min, then 6–24 h.
 * `random` is a number in [0, 1) supplied by the caller (jitter), so this stays deterministic.
 */
export function backoffDelay(failures: number, random: number): number {
  if (failures <= 0) return 0;
  if (failures === 1) return MIN;
  if (failures === 2) return 10 * MIN;
  if (failures === 3) return 100 * MIN;
  return 6 * HOUR + Math.floor(random * 18 * HOUR);
}

export function nextAttemptAfter(failures: number, now: Date, random: number, retryAfter: Date | null): Date {
  const t = now.getTime() + backoffDelay(failures, random);
  return new Date(Math.max(t, retryAfter?.getTime() ?? 0));
}
