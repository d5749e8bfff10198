/** `ready` (the boot path): is there something a service can start with, or may a placeholder be written? Pure. */
import type { Inspection } from "../inspect/facts.js";
import type { Decision } from "./decide.js";

export type Readiness =
  | { action: "ok"; what: "usable" | "placeholder" }
  | { action: "write-placeholder" }
  | { action: "fail"; why: string };

/**
 * May a placeholder go here? Only into an empty certificate directory, or over a placeholder of ours
 * (e.g. one that expired). Never over anything else: a real certificate — even an expired, mismatched
 * or unreadable one — stays for a person or the next renewal to deal with.
 */
export function placeholderMayReplace(i: Inspection): boolean {
  if (i.kind === "missing") return i.empty;
  return i.kind === "present" && i.placeholder;
}

export function readiness(i: Inspection, d: Decision, placeholderEnabled: boolean): Readiness {
  if (d.usable) return { action: "ok", what: "usable" };
  // A placeholder within its dates whose key matches: services can start; the renewal replaces it.
  if (i.kind === "present" && i.placeholder && d.status === "due") return { action: "ok", what: "placeholder" };
  const why = `no usable certificate (${d.status}: ${d.reasons.join("; ")})`;
  if (!placeholderEnabled) return { action: "fail", why: `${why}; "placeholder" is false` };
  if (!placeholderMayReplace(i)) return { action: "fail", why: `${why}; a placeholder is never written over files that are not one` };
  return { action: "write-placeholder" };
}
