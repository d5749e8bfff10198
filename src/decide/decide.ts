/**
 * The renewal decision: a pure function of (what is on disk, stored state, policy, now).
 * No fs, no clock, no network: everything it needs is an argument.
 */
import type { Inspection } from "../inspect/facts.js";
import type { CertState } from "../state/model.js";
import { renewalTime, type Policy } from "./policy.js";

export type Status = "valid" | "due" | "missing" | "expired" | "not-yet-valid" | "mismatch" | "unreadable";

export type DueReason = "window" | "ari" | "names" | "key-type" | "placeholder" | "chain";

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
}

const iso = (d: Date) => d.toISOString();

export function decide(inspection: Inspection, state: CertState, policy: Policy, now: Date): Decision {
  if (inspection.kind !== "present") {
    return {
      status: inspection.kind,
      usable: false,
      renew: true,
      dueReasons: [],
      reasons: [inspection.what],
      renewAt: null,
      renewAtSource: null,
      ari: null,
      ariRefresh: false,
      notAfter: null,
    };
  }
  const f = inspection;
  const t = now.getTime();
  const local = renewalTime(f.notBefore, f.notAfter, policy.validMinDays);
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
  };
  if (!f.keyMatches) {
    return { ...base, status: "mismatch", usable: false, renew: true, dueReasons: [], reasons: ["key.pem does not belong to cert.pem"] };
  }
  if (policy.clockFloor && t < policy.clockFloor.getTime()) {
    return {
      ...base,
      // A placeholder is never usable, whatever the clock says.
      ...(f.placeholder ? { status: "due" as const, usable: false, dueReasons: ["placeholder" as const] } : { status: "valid" as const, usable: true, dueReasons: [] }),
      renew: false,
      ariRefresh: false,
      clockUntrusted: true,
      reasons: [`the clock says ${iso(now)}, before this build of acme-renew (${iso(policy.clockFloor)}): not judging the certificate's dates and not renewing until the clock is right`],
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
  const have = new Set(f.names);
  const want = new Set(policy.names);
  const missing = policy.names.filter((n) => !have.has(n));
  const extra = f.names.filter((n) => !want.has(n));
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
  if (!f.chainPresent) {
    dueReasons.push("chain");
    reasons.push("chain.pem is missing or empty");
  }
  if (dueReasons.length === 0) {
    reasons.push(`valid until ${iso(f.notAfter)}, due at ${iso(base.renewAt)}${base.renewAtSource === "ari" ? " (ARI)" : ""}`);
    return { ...base, status: "valid", usable: true, renew: false, dueReasons, reasons };
  }
  // A placeholder lets services start, but no client trusts it: not a usable certificate.
  return { ...base, status: "due", usable: !dueReasons.includes("placeholder"), renew: true, dueReasons, reasons };
}
