/**
 * DNS provider failures as the renewal sees them (AcmeFailure classes): what the provider refused —
 * credentials, permissions, an unknown zone, a request it rejects, an answer we cannot read — is
 * class `dns` and not retried within the run; 429 and 5xx are `server` (retried with backoff,
 * honouring Retry-After), transport trouble is `network` or `timeout`.
 */
import { AcmeFailure } from "../acme/errors.js";

export type ProviderProblem = "auth" | "forbidden" | "not-found" | "rejected" | "bad-answer" | "server" | "rate-limited" | "network" | "timeout";

const CLASS = {
  auth: "dns",
  forbidden: "dns",
  "not-found": "dns",
  rejected: "dns",
  "bad-answer": "dns",
  server: "server",
  "rate-limited": "server",
  network: "network",
  timeout: "timeout",
} as const;

export function providerFailure(provider: string, problem: ProviderProblem, message: string, extra: { retryAfter?: Date; status?: number } = {}): AcmeFailure {
  return new AcmeFailure(CLASS[problem], `dns provider ${provider}: ${message}`, extra);
}

/** The problem an HTTP status means. */
export function statusProblem(status: number): ProviderProblem {
  if (status === 401) return "auth";
  if (status === 403) return "forbidden";
  if (status === 404) return "not-found";
  if (status === 429) return "rate-limited";
  if (status >= 500) return "server";
  return "rejected";
}

/** Replaces every secret value in `text` (error bodies may echo a token). */
export function redactor(values: () => string[]): (text: string) => string {
  return (text) => {
    let t = text;
    for (const v of values()) if (v.length >= 4) t = t.split(v).join("[redacted]");
    return t;
  };
}
