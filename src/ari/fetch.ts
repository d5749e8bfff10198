/**
 * Asks the CA for renewal information (RFC 9773 §4.2): an unauthenticated GET of
 * <renewalInfo>/<certID>, short timeout, one transient retry. Never throws: a failure becomes an
 * AriState that says so and asks again in 6 hours, keeping a window already known for the cert.
 */
import { caPem, directory, type CaAccess } from "../acme/directory.js";
import { getJsonRetryOnce } from "../acme/http-get.js";
import { AcmeFailure, describe, parseRetryAfter } from "../acme/errors.js";
import type { AriState } from "../state/model.js";
import { refreshAfterError, refreshAt, selectTime } from "./window.js";
import { DAY, SECOND } from "../util/time.js";

const TIMEOUT_MS = 10 * SECOND;

export type { CaAccess };

export async function renewalInfoUrl(a: CaAccess): Promise<string | null> {
  const u = (await directory(a)).renewalInfo;
  return typeof u === "string" && u ? u.replace(/\/$/, "") : null;
}

function parseWindow(json: unknown): { start: Date; end: Date; explanationURL: string | null } {
  const o = json as { suggestedWindow?: { start?: unknown; end?: unknown }; explanationURL?: unknown } | null;
  const start = typeof o?.suggestedWindow?.start === "string" ? new Date(o.suggestedWindow.start) : null;
  const end = typeof o?.suggestedWindow?.end === "string" ? new Date(o.suggestedWindow.end) : null;
  if (!start || !end || Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) throw new AcmeFailure("acme", "renewalInfo: no valid suggestedWindow");
  if (end.getTime() < start.getTime()) throw new AcmeFailure("acme", "renewalInfo: suggestedWindow ends before it starts");
  return { start, end, explanationURL: typeof o?.explanationURL === "string" ? o.explanationURL : null };
}

export async function fetchAri(a: CaAccess, certId: string, prev: AriState | null, now: Date, random: number): Promise<AriState> {
  const keep = prev && prev.certId === certId ? prev : null;
  try {
    const base = await renewalInfoUrl(a);
    if (!base) {
      return { certId, windowStart: null, windowEnd: null, selectedTime: null, explanationURL: null, fetchedAt: now, nextRefreshAt: new Date(now.getTime() + DAY), unsupported: true, lastError: null };
    }
    const r = await getJsonRetryOnce(`${base}/${certId}`, { caPem: await caPem(a), timeoutMs: TIMEOUT_MS, ...(a.signal ? { signal: a.signal } : {}) });
    const w = parseWindow(r.json);
    const ra = r.headers["retry-after"];
    return {
      certId,
      windowStart: w.start,
      windowEnd: w.end,
      selectedTime: selectTime(keep, certId, w.start, w.end, random),
      explanationURL: w.explanationURL,
      fetchedAt: now,
      nextRefreshAt: refreshAt(parseRetryAfter(Array.isArray(ra) ? ra[0] : ra, now), now),
      unsupported: false,
      lastError: null,
    };
  } catch (e) {
    const msg = e instanceof AcmeFailure ? `${e.cls}: ${describe(e)}` : String((e as Error)?.message ?? e);
    return {
      certId,
      windowStart: keep?.windowStart ?? null,
      windowEnd: keep?.windowEnd ?? null,
      selectedTime: keep?.selectedTime ?? null,
      explanationURL: keep?.explanationURL ?? null,
      fetchedAt: keep?.fetchedAt ?? null,
      nextRefreshAt: refreshAfterError(now),
      unsupported: false,
      lastError: msg,
    };
  }
}
