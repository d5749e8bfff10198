/**
 * The renewal decision: a pure function of (what is on disk, stored state, policy, now).
 * No fs, no clock, no network: everything it needs is an argument.
 */
import type { Inspection } from "../inspect/facts.js";
import type { CertState } from "../state/model.js";
import { renewalWindow, type Policy } from "./policy.js";
import { DAY, isoString as iso } from "../util/time.js";

export type Status = "valid" | "due" | "missing" | "expired" | "not-yet-valid" | "mismatch" | "unreadable";

export type DueReason = "window" | "ari" | "names" | "key-type" | "placeholder" | "chain" | "server-changed" | "profile-changed" | "revoked";

export interface Decision {
  status: Status;
  /** The certificate on disk can be served now (valid, or due but still within its validity). */
  usable: boolean;
  /** Something must be done: renew (or issue). */
  renew: boolean;
  dueReasons: DueReason[];
  /** Human-readable explanation, one entry per finding. */
  reasons: string[];
  /** When the certificate is (or was) due: the earlier of the local policy and the ARI selected time. */
  renewAt: Date | null;
  /** Which of the two set renewAt. */
  renewAtSource: "local" | "ari" | null;
  /** The stored ARI answer for this very certificate, if any. */
  ari: { windowStart: Date; windowEnd: Date; selectedTime: Date; explanationURL: string | null } | null;
  /** The stored ARI answer is missing or old: a run should ask the CA (offline `check` never does). */
  ariRefresh: boolean;
  notAfter: Date | null;
  /** The clock is before the build time: dates were not judged, nothing is renewed. */
  clockUntrusted?: boolean;
  /** validMinDays would leave less than a third of the lifetime: the lifetime-based window was used. */
  validMinDaysClamped?: boolean;
}

function clockReason(now: Date, floor: Date): string {
  return `the clock says ${iso(now)}, before this build of acme-renew (${iso(floor)}): not judging the certificate's dates and not renewing until the clock is right`;
}

export function decide(inspection: Inspection, state: CertState, policy: Policy, now: Date): Decision {
  const clockWrong = policy.clockFloor !== null && now.getTime() < policy.clockFloor.getTime();
  if (inspection.kind !== "present") {
    return {
      status: inspection.kind,
      usable: false,
      // With a clock before the build time nothing is renewed: no order, no placeholder dated 1970.
      renew: !clockWrong,
      dueReasons: [],
      reasons: clockWrong ? [inspection.what, clockReason(now, policy.clockFloor!)] : [inspection.what],
      renewAt: null,
      renewAtSource: null,
      ari: null,
      ariRefresh: false,
      notAfter: null,
      ...(clockWrong ? { clockUntrusted: true } : {}),
    };
  }
  const f = inspection;
  const t = now.getTime();
  const window = renewalWindow(f.notBefore, f.notAfter, policy.validMinDays);
  const local = window.at;
  // ARI: the stored answer counts only for the certificate it was about, and only ever brings the
  // renewal forward — a stale window never postpones what the local policy demands.
  const a = state.ari;
  const ari =
    policy.ari && a && f.certId && a.certId === f.certId && a.selectedTime && a.windowStart && a.windowEnd
      ? { windowStart: a.windowStart, windowEnd: a.windowEnd, selectedTime: a.selectedTime, explanationURL: a.explanationURL }
      : null;
  const ariFirst = ari !== null && ari.selectedTime.getTime() < local.getTime();
  const ariRefresh =
    policy.ari && f.certId !== null && t < f.notAfter.getTime() && (!a || a.certId !== f.certId || a.nextRefreshAt.getTime() <= t);
  const base = {
    renewAt: ariFirst ? ari.selectedTime : local,
    renewAtSource: (ariFirst ? "ari" : "local") as "ari" | "local",
    ari,
    ariRefresh,
    notAfter: f.notAfter,
    ...(window.clamped ? { validMinDaysClamped: true } : {}),
  };
  if (!f.keyMatches) {
    return { ...base, status: "mismatch", usable: false, renew: true, dueReasons: [], reasons: ["key.pem does not belong to cert.pem"] };
  }
  if (clockWrong) {
    return {
      ...base,
      // A placeholder is never usable, whatever the clock says.
      ...(f.placeholder ? { status: "due" as const, usable: false, dueReasons: ["placeholder" as const] } : { status: "valid" as const, usable: true, dueReasons: [] }),
      renew: false,
      ariRefresh: false,
      clockUntrusted: true,
      reasons: [clockReason(now, policy.clockFloor!)],
    };
  }
  if (t >= f.notAfter.getTime()) {
    return { ...base, status: "expired", usable: false, renew: true, dueReasons: [], reasons: [`expired at ${iso(f.notAfter)}`] };
  }
  if (t < f.notBefore.getTime()) {
    return { ...base, status: "not-yet-valid", usable: false, renew: true, dueReasons: [], reasons: [`not valid before ${iso(f.notBefore)}`] };
  }

  const dueReasons: DueReason[] = [];
  const reasons: string[] = [];
  if (t >= local.getTime()) {
    dueReasons.push("window");
    reasons.push(`in renewal window since ${iso(local)} (expires ${iso(f.notAfter)})`);
  } else if (ari && t >= ari.selectedTime.getTime()) {
    dueReasons.push("ari");
    reasons.push(`the CA suggests renewing (ARI window ${iso(ari.windowStart)} – ${iso(ari.windowEnd)}, selected ${iso(ari.selectedTime)})${ari.explanationURL ? `; see ${ari.explanationURL}` : ""}`);
  }
  // What acme-renew recorded when it installed this very certificate (null for adopted files).
  const issued = state.issued && state.issued.serial === f.serialHex ? state.issued : null;
  const have = new Set(f.names);
  const want = new Set(policy.names);
  const missing = policy.names.filter((n) => !have.has(n));
  // A name the CA added on its own is no reason to renew; a name that was ordered and is no longer configured is.
  const extra = f.names.filter((n) => !want.has(n) && (!issued || issued.names.includes(n)));
  if (missing.length || extra.length) {
    dueReasons.push("names");
    reasons.push(
      `names changed: ${[missing.length ? `missing ${missing.join(", ")}` : "", extra.length ? `no longer configured ${extra.join(", ")}` : ""].filter(Boolean).join("; ")}`,
    );
  }
  if (f.keyType !== policy.keyType) {
    dueReasons.push("key-type");
    reasons.push(`key type is ${f.keyType}, configured ${policy.keyType}`);
  }
  if (f.placeholder) {
    dueReasons.push("placeholder");
    reasons.push("the certificate is a self-signed placeholder");
  }
  // A CA that sends no chain at all is not asked again and again for one.
  if (!f.chainPresent && !(issued && !issued.chain)) {
    dueReasons.push("chain");
    reasons.push("chain.pem is missing or empty");
  }
  if (issued && issued.server !== policy.server) {
    dueReasons.push("server-changed");
    reasons.push(`issued by ${issued.server}, configured ${policy.server}`);
  }
  if (issued && issued.profile !== policy.profile) {
    dueReasons.push("profile-changed");
    reasons.push(`issued with profile ${issued.profile ?? "(none)"}, configured ${policy.profile ?? "(none)"}`);
  }
  // Revoked by `acme-renew revoke`: replaced at once (it still serves until then; clients checking revocation may refuse it).
  if (state.revoked && state.revoked.serial === f.serialHex) {
    dueReasons.push("revoked");
    reasons.push(`revoked at ${iso(state.revoked.at)} (${state.revoked.reason})`);
  }
  if (window.clamped) {
    const days = Math.round((f.notAfter.getTime() - f.notBefore.getTime()) / DAY);
    reasons.push(`validMinDays ${policy.validMinDays} is more than 2/3 of the certificate's lifetime (${days} days), so every new certificate would soon be due again: the lifetime-based window applies (renew with 1/3 left, 1/2 for certificates of 10 days or less)`);
  }
  if (dueReasons.length === 0) {
    reasons.unshift(`valid until ${iso(f.notAfter)}, due at ${iso(base.renewAt)}${base.renewAtSource === "ari" ? " (ARI)" : ""}`);
    return { ...base, status: "valid", usable: true, renew: false, dueReasons, reasons };
  }
  // A placeholder lets services start, but no client trusts it: not a usable certificate.
  return { ...base, status: "due", usable: !dueReasons.includes("placeholder"), renew: true, dueReasons, reasons };
}
