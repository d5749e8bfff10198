/**
 * In-run retries: transient failures (network, timeout, 5xx, badNonce) are retried with
 * exponential backoff and full jitter; Retry-After is honoured but capped; permanent failures are
 * not retried; nothing waits past the overall deadline.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { AcmeFailure } from "./errors.js";

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  capMs: number;
  /** Longest Retry-After we wait for inside one run; longer ones are left to the next run. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseMs: 1000, capMs: 30_000, maxRetryAfterMs: 120_000 };

export interface RetryContext {
  policy: RetryPolicy;
  /** Epoch ms of the overall deadline. */
  deadlineAt: number;
  /** The preflight found no network: do not wait through retries of network failures. */
  networkDown: boolean;
}

/** Pure: how long to wait before attempt `attempt + 1` after failure `f`, or null to give up. */
export function retryDelay(f: AcmeFailure, attempt: number, c: RetryContext, now: number, random: number): number | null {
  const ra = f.extra.retryAfter ? Math.max(0, f.extra.retryAfter.getTime() - now) : null;
  let delay: number;
  if (f.cls === "rateLimited") {
    if (ra === null || ra > c.policy.maxRetryAfterMs) return null;
    delay = ra;
  } else {
    if (!f.transient) return null;
    if (f.cls === "network" && c.networkDown) return null;
    delay = Math.floor(random * Math.min(c.policy.capMs, c.policy.baseMs * 2 ** attempt));
    // A Retry-After binds whatever the error (a 503 saying "in an hour" means an hour): one longer
    // than we wait inside a run is left to a later run, which the stored retryAfter holds back.
    if (ra !== null) {
      if (ra > c.policy.maxRetryAfterMs) return null;
      delay = Math.max(delay, ra);
    }
  }
  if (attempt + 1 >= c.policy.maxAttempts) return null;
  if (now + delay >= c.deadlineAt) return null;
  return delay;
}

export async function withRetries<T>(
  fn: () => Promise<T>,
  c: RetryContext,
  signal: AbortSignal,
  onRetry: (f: AcmeFailure, attempt: number, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const f = e as AcmeFailure;
      if (typeof f?.cls !== "string") throw e;
      const delay = retryDelay(f, attempt, c, Date.now(), Math.random());
      if (delay === null || signal.aborted) throw f;
      onRetry(f, attempt + 1, delay);
      await sleep(delay, undefined, { signal }).catch(() => {});
      if (signal.aborted) throw f;
    }
  }
}
