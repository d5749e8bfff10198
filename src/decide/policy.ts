/** Renewal policy: when a certificate enters its renewal window. Pure. */
import { DAY } from "../util/time.js";

export interface Policy {
  /** Names the certificate must carry (lower-case). */
  names: string[];
  keyType: string;
  /** Renew when fewer than this many days remain; null: 1/3 of the lifetime (1/2 for ≤ 10-day certs). */
  validMinDays: number | null;
  /** A clock earlier than this cannot be right (the build time): dates are not judged by it. */
  clockFloor: Date | null;
  /** Use ACME Renewal Information from the stored state. */
  ari: boolean;
  /** The configured ACME directory and profile: a certificate issued with others is due. */
  server: string;
  profile: string | null;
}

/**
 * `validMinDays` is honoured while it leaves at least a third of the lifetime before the renewal;
 * beyond that (e.g. 30 days for 6-day certificates, which would be due the moment they are issued)
 * the lifetime-based window applies instead, and `clamped` says so.
 */
export function renewalWindow(notBefore: Date, notAfter: Date, validMinDays: number | null): { at: Date; clamped: boolean } {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  if (validMinDays !== null && validMinDays * DAY * 3 <= lifetime * 2) return { at: new Date(notAfter.getTime() - validMinDays * DAY), clamped: false };
  const fraction = lifetime <= 10 * DAY ? 1 / 2 : 1 / 3;
  return { at: new Date(notAfter.getTime() - Math.round(lifetime * fraction)), clamped: validMinDays !== null };
}

