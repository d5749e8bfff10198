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
}

/** The instant from which a certificate valid [notBefore, notAfter) is due for renewal. */
export function renewalTime(notBefore: Date, notAfter: Date, validMinDays: number | null): Date {
  if (validMinDays !== null) return new Date(notAfter.getTime() - validMinDays * DAY);
  const lifetime = notAfter.getTime() - notBefore.getTime();
  const fraction = lifetime <= 10 * DAY ? 1 / 2 : 1 / 3;
  return new Date(notAfter.getTime() - Math.round(lifetime * fraction));
}
